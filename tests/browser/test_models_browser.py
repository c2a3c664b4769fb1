"""The model manager in a real JupyterLab: pull with progress, then delete behind a confirmation."""

from __future__ import annotations

import re

import pytest

from ollama_nb.server.catalog import CATALOG
from ollama_nb.widgets.models import human_bytes

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PULLED = "qwen3:0.6b"  # in the practice registry, not installed at start
SIZE = human_bytes(CATALOG[PULLED].size)  # as the table and the confirmation show it


def test_pull_and_delete_a_model(lab_page):
    page = lab_page.page
    path = lab_page.lab.write_notebook(
        "browser_models.ipynb",
        "import ollama_nb\nollama_nb.setup()",
        "from ollama_nb import ModelManager\nmanager = ModelManager()\nmanager",
    )
    lab_page.open(path)
    lab_page.run_all()
    panel = page.locator(".ollama-models")
    expect(panel).to_be_visible(timeout=60_000)
    table = panel.locator("table.models-table")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_be_visible(timeout=30_000)
    expect(table.locator(f'tr[data-model="{PULLED}"]')).to_have_count(0)

    # Pull: the overall bar reaches 100 % and the table gains the model.
    panel.locator(".models-pull-name input").fill(PULLED)
    panel.locator("button.models-pull").click()
    overall = panel.locator(".models-progress-overall .progress-bar")
    expect(overall).to_have_attribute("style", re.compile(r"width:\s*100%"), timeout=60_000)
    row = table.locator(f'tr[data-model="{PULLED}"]')
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text(SIZE)
    expect(panel.locator(".models-status")).to_contain_text(f"Pulled {PULLED}")
    layer_bars = panel.locator(".models-progress:not(.models-progress-overall) .progress-bar")
    expect(layer_bars.first).to_be_visible()
    for i in range(layer_bars.count()):
        expect(layer_bars.nth(i)).to_have_attribute("style", re.compile(r"width:\s*100%"))
    expect(panel.locator("button.models-pull")).to_be_enabled()
    expect(panel.locator("button.models-cancel")).to_be_disabled()
    lab_page.save_screenshot("models.png", panel)

    # Delete: nothing happens until the confirmation that names the model and its size.
    panel.locator(".models-select select").select_option(PULLED)
    panel.locator("button.models-delete").click()
    confirm_box = panel.locator(".models-confirm-box")
    expect(confirm_box).to_be_visible()
    expect(confirm_box).to_contain_text(f"Delete {PULLED} and free {SIZE}?")
    expect(row).to_be_visible()
    confirm_box.locator("button.models-confirm").click()
    expect(row).to_have_count(0, timeout=30_000)
    expect(confirm_box).to_be_hidden()
    expect(panel.locator(".models-status")).to_contain_text(f"Deleted {PULLED}")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_be_visible()
    lab_page.assert_ran_cleanly()


def test_models_notebook_runs_in_jupyterlab(lab_page):
    """The real 03_models.ipynb: Run All without an error; its model manager (if any) renders."""
    code = lab_page.run_tutorial("en/03_models.ipynb")
    if "ModelManager(" in code:
        panel = lab_page.page.locator(".ollama-models").first
        expect(panel).to_be_visible(timeout=60_000)
        expect(panel.locator('table.models-table tr[data-model="llama3.1:latest"]')).to_be_visible(
            timeout=30_000
        )
