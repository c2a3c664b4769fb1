"""The notebooks' shape, checked cheaply (nbval runs them; this reads the stored files).

Each notebook opens with what you will learn, then the setup cell; every code cell follows a
markdown cell that says what it is for; the stored outputs come from one top-to-bottom run (as
``make notebooks`` writes them) with no unexpected errors and nothing nbval cannot compare; and
each notebook ends with exercises whose checker and solutions live in ``ollama_nb.exercises``.
The exercises' own solutions are run here too, against a practice server, and must pass.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from ollama_nb import exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks" / "en"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
EXPECTED = [
    "00_start_here",
    "01_chat",
    "02_generate",
    "03_models",
    "04_embeddings",
    "05_clients_and_async",
    "06_errors",
    "07_tools",
    "08_structured_outputs",
    "09_thinking_and_images",
]
SETUP_CELL = "import ollama_nb\nollama_nb.setup()"
CHECK = re.compile(r'ollama_nb\.exercises\.check\("(\d\d\.\d+)"')


def load(name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "ollama_nb_nav" not in c.metadata]  # editions' links
    return nb


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_notebooks_are_all_there():
    found = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_opens_with_what_you_will_learn_then_setup(name):
    nb = load(name)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert "What you will learn" in first.source
    assert code_cells(nb)[0].source.strip() == SETUP_CELL


@pytest.mark.parametrize("name", EXPECTED)
def test_every_code_cell_is_introduced_by_markdown(name):
    nb = load(name)
    for before, cell in zip(nb.cells, nb.cells[1:]):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", f"no markdown before:\n{cell.source}"
            assert before.source.strip(), "an empty markdown cell introduces a code cell"


@pytest.mark.parametrize("name", EXPECTED)
def test_outputs_are_stored_from_one_run(name):
    nb = load(name)
    counts = [c.execution_count for c in code_cells(nb)]
    assert None not in counts, "some code cells were not run: make notebooks"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), (
        "execution counts out of order: outputs are not from one top-to-bottom run"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("name", EXPECTED)
def test_no_unexpected_errors_and_nothing_nbval_cannot_compare(name):
    nb = load(name)
    for cell in code_cells(nb):
        tags = cell.metadata.get("tags", [])
        for output in cell.outputs:
            kind = output.output_type
            assert kind in ("stream", "execute_result", "display_data", "error"), kind
            if kind == "error":
                assert "raises-exception" in tags, f"unexpected {output.ename} in:\n{cell.source}"
            if kind == "stream":
                assert output.name == "stdout" or "warn" in output.text.lower(), output.text
        assert "clear_output" not in cell.source
        assert "display_id" not in cell.source
        if "raises-exception" in tags:
            assert any(o.output_type == "error" for o in cell.outputs)


@pytest.mark.parametrize("name", EXPECTED)
def test_ends_with_exercises(name):
    nb = load(name)
    headings = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and c.source.startswith("## Exercises")
    ]
    assert len(headings) == 1, "one '## Exercises' section"
    tail = nb.cells[headings[0] :]
    checks = [m[1] for c in tail if c.cell_type == "code" for m in CHECK.finditer(c.source)]
    assert len(checks) >= 2, "at least two exercises"
    prefix = name[:2] + "."
    assert all(ex.startswith(prefix) for ex in checks), checks
    assert all(ex in exercises.EXERCISES for ex in checks), checks
    assert code_cells(nb)[-1].source.strip().startswith("answer = ...")
    stored = "".join(o.get("text", "") for c in tail for o in getattr(c, "outputs", []))
    assert "✓ Right" not in stored, "stored notebooks keep the exercises unsolved"


def test_every_exercise_is_used_in_its_notebook():
    used = set()
    for name in EXPECTED:
        for cell in code_cells(load(name)):
            used.update(m[1] for m in CHECK.finditer(cell.source))
    assert used == set(exercises.EXERCISES)


def test_the_sanitizers_parse():
    text = SANITIZE.read_text(encoding="ascii")  # nbval 0.11 reads it with the locale encoding
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, re.MULTILINE)
    regex_lines = re.findall(r"^regex: ", text, re.MULTILINE)
    assert pairs and len(pairs) == len(regex_lines), "every regex: line needs its replace: line"
    for pattern, _ in pairs:
        re.compile(pattern)


# -- exercises: checker messages and solutions ------------------------------------------------
def checked(exercise_id: str, answer, **given) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exercises.check(exercise_id, answer, **given)
    return out.getvalue()


@pytest.fixture(scope="module")
def practice():
    """A practice server with the notebooks' extra models, and the library pointed at it."""
    import ollama

    from ollama_nb.server import PracticeServer

    with PracticeServer(port=0) as server:
        client = ollama.Client(host=server.url)
        for model in ("qwen3:0.6b", "llava"):
            client.pull(model)
        yield server, client


@pytest.fixture
def as_in_a_notebook(practice, monkeypatch):
    """What setup() does in a kernel, undone afterwards (nbval kernels read OLLAMA_HOST)."""
    import ollama

    import ollama_nb

    server, client = practice
    monkeypatch.setenv("OLLAMA_HOST", server.url)
    for name in (
        "chat",
        "generate",
        "embed",
        "embeddings",
        "list",
        "show",
        "create",
        "copy",
        "delete",
        "pull",
        "push",
        "ps",
    ):
        monkeypatch.setattr(ollama, name, getattr(client, name))
    monkeypatch.setattr(ollama_nb, "HOST", server.url)
    monkeypatch.setattr(ollama_nb, "PRACTICE", True)
    monkeypatch.setattr(ollama_nb, "MODEL", "llama3.1")
    monkeypatch.setattr(ollama_nb, "EMBED_MODEL", "nomic-embed-text")
    monkeypatch.chdir(NOTEBOOKS)  # solutions use paths relative to the notebooks
    return client


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISES))
def test_the_solution_passes_its_check(exercise_id, as_in_a_notebook):
    import ollama

    import ollama_nb

    ex = exercises.EXERCISES[exercise_id]
    namespace = {"ollama": ollama, "ollama_nb": ollama_nb}
    code = compile(ex.solution, f"<solution {ex.id}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 - our own solution text
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    given = {name: namespace[name] for name in ex.given}
    report = checked(ex.id, namespace["answer"], **given)
    assert report.startswith("✓ Right: "), report
    if ex.id == "03.2":
        as_in_a_notebook.delete(namespace["answer"])


def test_unanswered_and_wrong_answers_say_what_to_fix(as_in_a_notebook):
    assert checked("01.1", ...).startswith("✗ Not yet: replace the ...")
    response = as_in_a_notebook.chat(
        model="llama3.1", messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    per_ns = response.eval_count / response.eval_duration
    assert "nanosecond" in checked("01.3", per_ns, response=response)
    assert "total_duration" in checked(
        "01.3", response.eval_count / response.total_duration * 1e9, response=response
    )
    assert "message.content" in checked("00.1", response)
    assert "generator" in checked("01.4", iter(["a"]))
    assert "role" in checked("01.1", [{"role": "robot", "content": "x"}])
    assert "json.loads" in checked("02.2", '{"a": 1}')
    assert "bytes" in checked("03.3", float(sum(m.size for m in as_in_a_notebook.list().models)))
    assert checked("04.1", lambda u, v: 0.0).startswith("✗ Not yet: cosine(")
    assert "raised" in checked("04.1", lambda u, v: 1 / 0)
    assert "e.error" in checked(
        "06.1",
        lambda model, prompt: (
            as_in_a_notebook.chat(
                model=model, messages=[{"role": "user", "content": prompt}]
            ).message.content
        ),
    )
    with pytest.raises(KeyError, match="no exercise"):
        exercises.check("99.9", 1)


def test_hint_and_solution_print(capsys):
    exercises.hint("01.3")
    exercises.solution("01.3")
    out = capsys.readouterr().out
    assert out.startswith("Hint for 01.3: ")
    assert "One solution for 01.3:" in out and "eval_duration" in out
