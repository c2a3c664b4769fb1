"""First run: `make lab` lands on the first lesson in the learner's language; set-up is quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_nb.i18n import from_locale
from ollama_nb.lab import first_notebook

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "OLLAMA_NB_LANG": "en"}, "en"),
        ({"LANG": "de_DE.UTF-8", "OLLAMA_NB_LANG": "zh"}, "zh"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_the_language_comes_from_ollama_nb_lang_then_the_locale(env, lang):
    assert from_locale(env) == lang


def _editions(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "00_start_here.ipynb").write_text("{}")
    return root


def test_make_lab_opens_the_first_lesson_of_the_learner_s_edition(tmp_path, monkeypatch):
    for name in ("OLLAMA_NB_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    both = _editions(tmp_path / "both", "en", "zh")
    english_only = _editions(tmp_path / "en-only", "en")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert first_notebook(both) == "zh/00_start_here.ipynb"
    assert first_notebook(english_only) == "en/00_start_here.ipynb"  # no zh edition yet
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert first_notebook(both) == "en/00_start_here.ipynb"
    assert (ROOT / "notebooks" / first_notebook(ROOT / "notebooks")).is_file()


def test_setup_prints_one_line_per_step():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert all(line.startswith("@") or line.startswith("||") for line in lines), lines
    assert sum(line.startswith("@echo") for line in lines) == 2
    pip = next(line for line in makefile.splitlines() if line.startswith("PIP :="))
    assert "pip install -qq" in pip  # no banners or notices, errors still shown
    assert all("pip install" not in line for line in lines)  # every install goes through $(PIP)


def test_stored_outputs_show_the_learner_s_address_not_the_run_s_port():
    import nbformat

    from ollama_nb.connection import DEFAULT_HOST, fallback_port
    from ollama_nb.tools.run_notebooks import show_learner_address

    run = "http://127.0.0.1:36589"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ollama_nb.setup()")
    cell.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text=f"Using the practice server at {run}."
        ),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"'{run}'"}),
    ]
    nb.cells.append(cell)
    show_learner_address(nb, run)
    shown = f"http://127.0.0.1:{fallback_port(DEFAULT_HOST)}"
    assert cell.outputs[0]["text"] == f"Using the practice server at {shown}."
    assert cell.outputs[1]["data"]["text/plain"] == f"'{shown}'"


def test_ci_installs_no_font():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "font" not in code.lower()  # the project's install brings the font
    assert "chromium" in code and "make test" in code
