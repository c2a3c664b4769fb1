"""Friendly errors in a real kernel: the sentence first, library frames folded, and the error
output's ename/evalue exactly what they were (nbval compares those)."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from ollama_nb import errors
from ollama_nb.server import PracticeServer

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Run a small notebook (setup, then three failing cells) in a real ipykernel."""
    with PracticeServer(port=0) as srv:
        cells = [
            f"import ollama, ollama_nb\nollama_nb.setup(host={srv.url!r})",
            "ollama.chat(model='no-such-model', messages=[{'role': 'user', 'content': 'hi'}])",
            "ollama.Client(host='http://127.0.0.1:9').list()",
            "1 / 0",
            "from ollama_nb import cell_errors\ncell_errors.uninstall()",
            "ollama.chat(model='no-such-model', messages=[{'role': 'user', 'content': 'hi'}])",
        ]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        for cell in nb.cells[1:4] + nb.cells[5:]:
            cell.metadata["tags"] = ["raises-exception"]
        NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
        return [[o for o in cell.outputs if o.output_type == "error"] for cell in nb.cells]


def test_a_library_error_shows_the_sentence_first_and_keeps_ename_and_evalue(outputs):
    [error] = outputs[1]
    assert error.ename == "ResponseError"
    assert "no-such-model" in error.evalue and "404" in error.evalue
    lines = [ANSI.sub("", line) for line in error.traceback]
    assert lines[0].startswith("The model 'no-such-model' is not installed")
    text = "\n".join(lines)
    assert "ollama.chat(model='no-such-model'" in text  # the learner's own line is shown
    assert "_client.py" not in text  # the library's frames are folded
    assert re.search(r"\(\d+ more frames inside the ollama and httpx libraries", text)
    assert lines[-1].startswith("ResponseError: ")


def test_a_connection_error_is_explained(outputs):
    [error] = outputs[2]
    assert error.ename == "ConnectionError"
    first = ANSI.sub("", error.traceback[0])
    assert first.startswith("Cannot reach an Ollama server")


def test_other_errors_and_uninstall_keep_the_usual_traceback(outputs):
    [zero] = outputs[3]
    assert zero.ename == "ZeroDivisionError"
    assert not ANSI.sub("", zero.traceback[0]).startswith("Something went wrong")
    [plain] = outputs[5]
    assert plain.ename == "ResponseError"
    text = ANSI.sub("", "\n".join(plain.traceback))
    assert "is not installed on the server" not in text and "_client.py" in text


def test_explain_is_the_sentence_used():
    import ollama

    exc = ollama.ResponseError("model 'x' not found", 404)
    assert errors.explain(exc).startswith("The model 'x' is not installed")
