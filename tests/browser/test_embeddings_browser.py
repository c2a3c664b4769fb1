"""Embedding plots in a real JupyterLab: a returned figure and the explorer's live map render."""

from __future__ import annotations

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

IMAGE_LOADED_JS = "img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0"


def natural_size(image) -> tuple[int, int]:
    return tuple(image.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def test_embedding_plots_render(lab_page):
    page = lab_page.page
    path = lab_page.lab.write_notebook(
        "browser_embeddings.ipynb",
        "import ollama_nb\nollama_nb.setup()",
        "from ollama_nb import plot_embeddings\n"
        "plot_embeddings(['The cat sat on the mat.', 'A kitten sleeps on the rug.',\n"
        "                 'Stock prices fell sharply today.', 'Markets dropped on Monday.'],\n"
        "                labels=['cats', 'cats', 'money', 'money'])",
        "from ollama_nb import EmbeddingExplorer\nexplorer = EmbeddingExplorer()\nexplorer",
    )
    lab_page.open(path)
    lab_page.run_all()

    # The figure a cell returns is drawn inline, once, as a PNG.
    figure_cell = page.locator(".jp-CodeCell").nth(1)
    figure = figure_cell.locator(".jp-OutputArea-output img")
    expect(figure).to_have_count(1, timeout=60_000)
    figure.wait_for(state="visible")
    page.wait_for_function(IMAGE_LOADED_JS, arg=figure.element_handle(), timeout=30_000)
    width, height = natural_size(figure)
    assert width > 300 and height > 200, (width, height)

    # The explorer's map is an image widget; a query ranks the sentences and redraws it.
    explorer = page.locator(".embeddings-explorer")
    expect(explorer).to_be_visible(timeout=60_000)
    plot = explorer.locator("img.embeddings-plot")
    expect(plot).to_be_visible(timeout=30_000)
    page.wait_for_function(IMAGE_LOADED_JS, arg=plot.element_handle(), timeout=30_000)
    assert min(natural_size(plot)) > 100, natural_size(plot)
    before = plot.get_attribute("src")

    query = explorer.locator(".embeddings-query input")
    query.fill("a cat sleeping on a mat")
    query.press("Enter")
    ranking = explorer.locator("table.embeddings-ranking tbody tr")
    expect(ranking.first).to_be_visible(timeout=30_000)
    expect(ranking.first).to_contain_text("cat")
    page.wait_for_function(
        "([img, before]) => img.getAttribute('src') !== before && img.complete"
        " && img.naturalWidth > 0",
        arg=[plot.element_handle(), before],
        timeout=30_000,
    )
    expect(explorer.locator(".embeddings-status")).to_contain_text("sentences")
    lab_page.save_screenshot("embeddings.png", explorer)
    lab_page.assert_ran_cleanly()


def test_embeddings_notebook_runs_in_jupyterlab(lab_page):
    """The real 04_embeddings.ipynb: Run All without an error; every image it shows loads."""
    code = lab_page.run_tutorial("en/04_embeddings.ipynb")
    page = lab_page.page
    images = page.locator(".jp-OutputArea-output img")
    if any(f in code for f in ("plot_embeddings(", "similarity_heatmap(", "EmbeddingExplorer(")):
        expect(images.first).to_be_visible(timeout=60_000)
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        page.wait_for_function(IMAGE_LOADED_JS, arg=image.element_handle(), timeout=30_000)
        assert min(natural_size(image)) > 0
