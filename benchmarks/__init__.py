"""`make bench`: speed figures for the practice server, the widgets and the plots."""
