"""Every code example of the seed tutorial appears in a notebook.

The seed (``seed-tutorial.md``, in Chinese) is what this project turns into notebooks, so each of
its examples must be found in a notebook code cell, line by line and in order (a line of the
example must occur within a line of the cell; other lines may come between, such as a ``try:``
that shows why an old call fails today). Two examples cannot run as written and are accepted in
an adapted form, provided the original also appears in a markdown cell:

* ``Client(host='http://localhost:11434')``: the notebooks use the practice server's address,
  so any ``host=...`` is accepted;
* ``ollama.delete('llama3.1')`` would delete the learner's model, so deleting a copy is accepted.

The copy in ``tests/data/`` is used when present (so the test does not change when the shared
original does); otherwise ``../shared/seed-tutorial.md`` beside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks" / "en"
SEED_COPY = Path(__file__).resolve().parent / "data" / "seed-tutorial.md"
SEED_SHARED = Path(__file__).resolve().parents[2] / "shared" / "seed-tutorial.md"

FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ADAPTATIONS = [
    (re.compile(r"host=(?:'[^']*'|\"[^\"]*\"|[\w.]+)"), "host=HOST"),
    (re.compile(r"ollama\.delete\((?:'[^']*'|\"[^\"]*\"|[\w.]+)\)"), "ollama.delete(NAME)"),
]


def seed_text() -> str:
    for path in (SEED_COPY, SEED_SHARED):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    pytest.skip("seed-tutorial.md not found (tests/data/ or ../shared/)")


def seed_examples() -> list[tuple[str, str]]:
    """(language, code) of every fenced block in the seed."""
    for path in (SEED_COPY, SEED_SHARED):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return [(m[1] or "text", m[2]) for m in FENCE.finditer(text)]
    return []


def notebook_cells() -> list[tuple[str, str, str]]:
    """(notebook name, cell type, source) of every cell of every notebook."""
    cells = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells.extend((path.name, c.cell_type, c.source) for c in nb.cells)
    return cells


def lines_of(code: str) -> list[str]:
    return [line.strip() for line in code.splitlines() if line.strip()]


def adapt(line: str) -> str:
    for pattern, replacement in ADAPTATIONS:
        line = pattern.sub(replacement, line)
    return line


def contains_in_order(haystack: list[str], needles: list[str]) -> bool:
    """Each needle occurs within a haystack line, in order (one line per needle)."""
    position = 0
    for needle in needles:
        while position < len(haystack) and needle not in haystack[position]:
            position += 1
        if position == len(haystack):
            return False
        position += 1
    return True


def where(example: list[str], cell_type: str, transform=lambda line: line) -> list[str]:
    wanted = [transform(line) for line in example]
    return [
        name
        for name, kind, source in notebook_cells()
        if kind == cell_type
        and contains_in_order([transform(line) for line in lines_of(source)], wanted)
    ]


EXAMPLES = seed_examples()


def test_the_seed_has_its_examples():
    seed_text()
    assert len(EXAMPLES) == 18  # 17 Python examples and `pip install ollama`
    assert sum(lang == "python" for lang, _ in EXAMPLES) == 17


@pytest.mark.parametrize(
    "language, code",
    EXAMPLES,
    ids=[f"{i:02d}-{lines_of(c)[-1][:40]}" for i, (_, c) in enumerate(EXAMPLES)],
)
def test_seed_example_is_in_a_notebook(language, code):
    example = lines_of(code)
    if language != "python":  # shell commands are shown, not run
        assert where(example, "markdown"), f"not shown in any markdown cell:\n{code}"
        return
    if where(example, "code"):
        return
    adapted = where(example, "code", adapt)
    assert adapted, f"no notebook code cell runs this seed example:\n{code}"
    assert where(example, "markdown"), (
        f"{adapted[0]} runs an adapted version of this example; show the original in a "
        f"markdown cell too:\n{code}"
    )


def test_the_removed_modelfile_argument_is_explained():
    """The seed's create(modelfile=...) fails today; the replacements are shown and run."""
    code = "\n".join(src for _, kind, src in notebook_cells() if kind == "code")
    assert "except TypeError" in code
    assert "ollama_nb.create_from_modelfile('example', modelfile)" in code
    assert re.search(r"ollama\.create\(model='example', from_='llama3\.1', system=", code)
