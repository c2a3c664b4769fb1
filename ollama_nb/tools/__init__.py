"""Maintenance tools for the project (not used by the notebooks themselves)."""
