"""The chat widget in a real JupyterLab: a streamed reply, and Stop in the middle of one."""

from __future__ import annotations

import pytest
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser


def test_widgets_render_in_jupyterlab(lab_page):
    """The plumbing: JupyterLab starts, a kernel runs, an ipywidget renders and reacts."""
    path = lab_page.lab.write_notebook(
        "smoke_widgets.ipynb",
        "import ipywidgets as w\n"
        "b = w.Button(description='hi')\n"
        "b.add_class('probe')\n"
        "b.on_click(lambda _: setattr(b, 'description', 'clicked'))\n"
        "b",
    )
    lab_page.open(path)
    lab_page.run_all()
    button = lab_page.page.locator(".probe")
    expect(button).to_be_visible(timeout=60_000)
    expect(button).to_have_text("hi")
    button.click()
    expect(button).to_have_text("clicked", timeout=30_000)
    lab_page.assert_ran_cleanly()
