"""The model manager in a real JupyterLab: pull with progress, then delete behind a confirmation."""

from __future__ import annotations

import re
import time

import pytest

from ollama_nb.server.catalog import CATALOG
from ollama_nb.widgets.models import human_bytes

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PULLED = "qwen3:0.6b"  # in the practice registry, not installed at start
SIZE = human_bytes(CATALOG[PULLED].size)  # as the table and the confirmation show it


MANAGER_NOTEBOOK = (
    "import ollama, ollama_nb\nollama_nb.setup()",
    "from ollama_nb import ModelManager\nmanager = ModelManager()\nmanager",
)


def open_manager(lab_page, name: str, *cells: str):
    path = lab_page.lab.write_notebook(name, *MANAGER_NOTEBOOK, *cells)
    lab_page.open(path)
    lab_page.run_all()
    panel = lab_page.page.locator(".ollama-models")
    expect(panel).to_be_visible(timeout=60_000)
    table = panel.locator("table.models-table")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_be_visible(timeout=30_000)
    return panel, table


def run_in_kernel(lab_page, code: str) -> None:
    """Run `code` in a new cell at the end of the open notebook (as a learner would)."""
    lab_page.page.evaluate(
        """async (code) => {
            const app = window.jupyterapp;
            const panel = app.shell.currentWidget;
            const model = panel.content.model;
            model.sharedModel.insertCell(model.cells.length, {cell_type: 'code', source: code});
            panel.content.activeCellIndex = model.cells.length - 1;
            await app.commands.execute('notebook:run-cell');
        }""",
        code,
    )


def test_pull_sort_details_and_delete_from_the_table(lab_page):
    panel, table = open_manager(lab_page, "browser_models.ipynb")
    expect(table.locator(f'tr[data-model="{PULLED}"]')).to_have_count(0)

    # Pull: the overall bar reaches 100 % and the table gains the model.
    panel.locator(".models-pull-name input").fill(PULLED)
    panel.locator("button.models-pull").click()
    overall = panel.locator(".models-progress-overall .progress-bar")
    expect(overall).to_have_attribute("style", re.compile(r"width:\s*100%"), timeout=60_000)
    row = table.locator(f'tr[data-model="{PULLED}"]')
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text(SIZE)
    expect(panel.locator(".models-pull-status")).to_contain_text(f"Pulled {PULLED}")
    # The layers' bars are folded behind "Layers (details)".
    layer_bars = panel.locator(".models-layers .models-progress .progress-bar")
    expect(layer_bars.first).to_be_hidden()
    panel.locator(".models-layers").get_by_text("Layers (details)").click()
    expect(layer_bars.first).to_be_visible()
    panel.locator(".models-layers").get_by_text("Layers (details)").click()
    expect(layer_bars.first).to_be_hidden()
    expect(panel.locator("button.models-pull")).to_be_enabled()
    expect(panel.locator("button.models-cancel")).to_be_disabled()

    # A header click sorts (by size, smallest first); a second click reverses it.
    def names() -> list[str]:
        return table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.model)")

    table.locator('th[data-value="size"]').click()
    expect(table.locator('th[data-value="size"]')).to_contain_text("▲")
    smallest = names()
    assert smallest[0] == "nomic-embed-text:latest" and smallest[-1] == "llama3.1:latest"
    table.locator('th[data-value="size"]').click()
    expect(table.locator('th[data-value="size"]')).to_contain_text("▼")
    assert names() == smallest[::-1]

    # A row click shows that model's details.
    table.locator('tr[data-model="llama3.1:latest"] td').first.click()
    details = panel.locator(".models-details")
    expect(details).to_contain_text("llama3.1:latest", timeout=30_000)
    expect(details).to_contain_text("capabilities")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_have_class("selected")
    lab_page.save_screenshot("models.png", panel)

    # The row's Delete asks first, next to the table, naming the model and the space freed.
    row.locator("button.models-row-delete").click()
    confirm_box = panel.locator(".models-confirm-box")
    expect(confirm_box).to_be_visible()
    expect(confirm_box).to_contain_text(f"Delete {PULLED} and free {SIZE}?")
    expect(row).to_be_visible()
    confirm_box.locator("button.models-confirm").click()
    expect(row).to_have_count(0, timeout=30_000)
    expect(confirm_box).to_be_hidden()
    expect(panel.locator(".models-table-status")).to_contain_text(f"Deleted {PULLED}")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_be_visible()
    lab_page.assert_ran_cleanly()


def test_the_manager_follows_a_delete_made_by_a_cell(lab_page):
    page = lab_page.page
    panel, table = open_manager(
        lab_page, "browser_models_follow.ipynb", "ollama.copy('llama3.1', 'follow-me')"
    )
    row = table.locator('tr[data-model="follow-me:latest"]')
    expect(row).to_be_visible(timeout=5_000)
    started = time.monotonic()
    run_in_kernel(lab_page, "ollama.delete('follow-me')")
    expect(row).to_have_count(0, timeout=2_500)
    assert time.monotonic() - started < 3.0  # the cell's own run included

    # Loading a model shows it under "Running models", with a countdown that ticks.
    run_in_kernel(lab_page, "ollama.generate(model='llama3.1', prompt='hi', keep_alive='10m');")
    # Other tests in the session may have loaded models too: look at llama3.1's own row.
    until = panel.locator('.models-running tr[data-model="llama3.1:latest"] .models-expiry')
    expect(until).to_have_text(re.compile(r"\d+:\d\d"), timeout=5_000)
    first = until.inner_text()
    page.wait_for_timeout(2_200)
    assert until.inner_text() != first
    expect(
        table.locator('tr[data-model="llama3.1:latest"] button.models-row-unload')
    ).to_be_visible()
    lab_page.assert_ran_cleanly()


def test_cancel_leaves_no_progress_line_claiming_to_pull(lab_page):
    page = lab_page.page
    path = lab_page.lab.write_notebook(
        "browser_models_cancel.ipynb",
        "import ollama, ollama_nb\nfrom ollama_nb import ModelManager, PracticeServer\n"
        "slow = PracticeServer(port=0, faults='pull-speed=20MB/s')\nslow.start()",
        "manager = ModelManager(client=ollama.AsyncClient(host=slow.url))\nmanager",
    )
    lab_page.open(path)
    lab_page.run_all()
    panel = page.locator(".ollama-models")
    expect(panel).to_be_visible(timeout=60_000)
    panel.locator(".models-pull-name input").fill(PULLED)
    panel.locator("button.models-pull").click()
    figures = panel.locator(".models-pull-figures")
    expect(figures).to_contain_text("ETA", timeout=30_000)
    expect(figures).to_contain_text("pulling layers")
    panel.locator("button.models-cancel").click()
    expect(figures).to_contain_text("Cancelled", timeout=10_000)
    page.wait_for_timeout(500)
    text = figures.inner_text()
    assert "pulling" not in text.lower() and "ETA" not in text, text
    expect(panel.locator(".models-pull-status")).to_contain_text("Cancelled the pull")
    expect(panel.locator("button.models-cancel")).to_be_disabled()
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
