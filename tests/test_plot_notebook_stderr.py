"""The plot notebook runs top to bottom with nothing on stderr (no font warning, no tofu).

A fresh kernel, as a learner's, executes notebooks/en/04_embeddings.ipynb (Chinese sentences in
the 2-D map, the heatmap and the explorer) against a practice server; every stderr stream and
every warning a cell printed is collected and must be empty.
"""

from __future__ import annotations

from pathlib import Path

from ollama_nb.server import PracticeServer
from ollama_nb.tools.run_notebooks import execute

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "en" / "04_embeddings.ipynb"


def test_the_embedding_notebook_writes_nothing_to_stderr():
    with PracticeServer(port=0, speed=0) as server:
        nb = execute(NOTEBOOK, server.url, timeout=120)
    stderr = [
        (index, output.get("text", ""))
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    assert stderr == []
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "天空是蓝色的" in sources and "plot_embeddings" in sources  # Chinese labels are drawn
    images = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]  # fmt: skip
    assert images, "the notebook should show at least one figure"
