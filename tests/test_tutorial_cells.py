"""`%%tutorial` and `%%needs` cells, and `confirm_pull`, on a real Ollama (the posing server)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from ollama_nb.server import PracticeServer
from ollama_nb.tutorial import adapt

MODELS = {"chat": "qwen3:0.6b", "embed": "all-minilm", "tools": "qwen3:0.6b", "vision": None}


def test_the_tutorial_model_installed_runs_the_cell_as_written():
    code = "ollama.chat(model='llama3.1', messages=[])\n"
    assert adapt(code, {"llama3.1", "qwen3:0.6b"}, MODELS) == (code, "")


def test_a_missing_tutorial_model_is_replaced_and_said():
    code = "m = '''\nFROM llama3.1\nSYSTEM hi\n'''\nollama.copy('llama3.1', 'user/llama3.1')\n"
    new, note = adapt(code, {"qwen3:0.6b"}, MODELS)
    assert (
        new
        == "m = '''\nFROM qwen3:0.6b\nSYSTEM hi\n'''\nollama.copy('qwen3:0.6b', 'user/llama3.1')\n"
    )
    assert note.startswith(
        "Tutorial cell: llama3.1 is not installed here, so it runs with qwen3:0.6b"
    )
    assert "`ollama pull llama3.1`, 4.9 GB" in note


def test_a_role_nothing_can_serve_skips_the_cell():
    code, note = adapt("ollama.chat(model='llava', messages=m)\n", {"qwen3:0.6b"}, MODELS)
    assert code == "pass\n"
    assert "llava (4.7 GB)" in note and "`ollama pull moondream`" in note


def _ipython(code: str, url: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(
        """
        import sys
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_cell("import ollama, ollama_nb; ollama_nb.setup(quiet=True)")
        for cell in sys.stdin.read().split("#-- next cell\\n"):
            result = shell.run_cell(cell)
            print("ERROR" if result.error_in_exec else "OK")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        input=code,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OLLAMA_HOST": url},
    )


def test_cells_in_ipython_on_a_real_ollama_say_what_they_do():
    cells = (
        "%%tutorial\nr = ollama.chat(model='llama3.1',\n"
        "                messages=[{'role': 'user', 'content': 'Hi'}])\n"
        "print('model:', r.model)\n#-- next cell\n"
        "VISION = 'llava'\nprint(ollama_nb.confirm_pull(VISION))\n#-- next cell\n"
        "%%needs VISION\nraise SystemExit('ran')\n#-- next cell\n"
        "print(ollama_nb.confirm_pull('qwen3:0.6b'))\n"
    )
    with PracticeServer(pose_as_ollama=True, installed="qwen3:0.6b,all-minilm") as srv:
        result = _ipython(cells, srv.url)
        assert srv.pose.pulled == [] and srv.pose.refused == []
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Tutorial cell: llama3.1 is not installed here, so it runs with qwen3:0.6b" in out
    assert "model: qwen3:0.6b" in out
    assert "llava (4.7 GB) is not installed" in out and "False" in out
    assert "Skipped: this cell needs llava (4.7 GB)" in out and "ran" not in out
    assert "qwen3:0.6b is already installed" in out
    assert out.count("OK") == 4


def test_cells_on_the_practice_server_run_as_written(server):
    cells = "%%tutorial\nprint(ollama.chat(model='llama3.1', messages=[]).model)\n"
    result = _ipython(cells, server.url)
    assert result.stdout.splitlines()[-2:] == ["llama3.1", "OK"]
