"""The English and Chinese editions agree: every lesson in both, the same code, current
translations, navigation in place (nbval runs both editions; this reads the stored files).

When `test_translations_are_current` fails, its message lists each cell to (re)translate:
``python -m ollama_nb.tools.editions todo`` prints their English and new hash, and
``python -m ollama_nb.tools.editions stamp NOTEBOOK ID...`` records the hash once the Chinese
text is updated; then ``make notebooks``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from ollama_nb.tools import editions

ROOT = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = editions.lesson_names(ROOT)


def test_every_lesson_has_both_editions():
    assert len(LESSONS) >= 10
    zh = sorted(p.stem for p in (ROOT / "zh").glob("*.ipynb"))
    assert zh == LESSONS
    for name in LESSONS:
        assert editions.translation_path(name, ROOT).exists(), f"no notebooks/zh-src/{name}.yaml"


def test_translations_are_current():
    stale = editions.stale_translations(ROOT)
    assert not stale, (
        f"{len(stale)} cells need translating (notebooks/zh-src/README.md says how):\n"
        + "\n".join(map(str, stale))
    )


def test_the_editions_pair_up():
    """Same cells in the same order, code equal but for strings and comments, zh built from
    today's sources, navigation at top and bottom."""
    problems = editions.pairing_problems(ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", LESSONS)
def test_the_chinese_edition_runs_in_chinese(name):
    zh = nbformat.read(ROOT / "zh" / f"{name}.ipynb", as_version=4)
    cells = editions.content_cells(zh)
    code = [c for c in cells if c.cell_type == "code"]
    assert 'lang="zh")' in code[0].source and "ollama_nb.setup(" in code[0].source
    first = cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "你将学到" in first.source
    headings = [c for c in cells if c.cell_type == "markdown" and c.source.startswith("## 练习")]
    assert len(headings) == 1, "one '## 练习' section"
    assert zh.cells[0].source.startswith("[English](../en/")


def test_navigation_links_point_at_real_notebooks():
    for edition in editions.EDITIONS:
        for name in LESSONS:
            nb = nbformat.read(ROOT / edition / f"{name}.ipynb", as_version=4)
            for cell in (nb.cells[0], nb.cells[-1]):
                assert editions.is_nav(cell)
                for target in re.findall(r"\]\(([^)]+\.ipynb)\)", cell.source):
                    assert (ROOT / edition / target).resolve().is_file(), (edition, name, target)


def test_images_are_beside_both_editions():
    for image in (ROOT / "en" / "images").iterdir():
        assert (ROOT / "zh" / "images" / image.name).read_bytes() == image.read_bytes()


# -- the checks themselves catch what they should ---------------------------------------------
def test_the_setup_call_gets_lang_zh():
    def first_code(source):
        en = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, id="c")])
        return editions.translate(en, {}).cells[0].source

    assert first_code("import ollama_nb\nollama_nb.setup()") == (
        'import ollama_nb\nollama_nb.setup(lang="zh")'
    )
    assert first_code("ollama_nb.setup(quiet=True)") == 'ollama_nb.setup(quiet=True, lang="zh")'
    assert first_code('ollama_nb.setup(lang="en")') == 'ollama_nb.setup(lang="en")'


def test_chinese_paragraphs_are_joined_without_stray_spaces():
    text = (
        "## 标题\n\n第一行，\n第二行用 `stream=True`\n和英文、\n`think`。\n\n"
        "- 列表项，\n  续行\n- 第二项\n\n| a | b |\n|---|---|\n\n```python\nx = 1\ny = 2\n```"
    )
    assert editions.join_soft_breaks(text) == (
        "## 标题\n\n第一行，第二行用 `stream=True` 和英文、`think`。\n\n"
        "- 列表项，续行\n- 第二项\n\n| a | b |\n|---|---|\n\n```python\nx = 1\ny = 2\n```"
    )


def test_code_shape_ignores_prompts_labels_and_comments_only():
    en = (
        "r = ollama.chat(model=M, messages=[{'role': 'user', 'content': 'Hi'}])\nprint('reply:', r)"
    )
    zh = en.replace("'Hi'", "'你好'").replace("'reply:'", "'回复：'")
    assert editions.code_shape(en) == editions.code_shape(zh + "  # 注释")
    assert editions.code_shape("print(f'{x} s')") == editions.code_shape("print('秒')")
    assert editions.code_shape("ollama_nb.setup()") == editions.code_shape(
        'ollama_nb.setup(lang="zh")'
    )
    assert editions.code_shape(en) != editions.code_shape(en.replace("model=M", "model=N"))
    assert editions.code_shape("print(a, 'x')") != editions.code_shape("print('x', a)")
    assert editions.code_shape("x = await f()") != editions.code_shape("x = f()")
    magic = "%%needs THINKER\nprint('answer:', r)"
    assert editions.code_shape(magic) == editions.code_shape(magic.replace("answer:", "回答："))
    assert editions.code_shape(magic) != editions.code_shape(magic.replace(", r)", ", s)"))
    assert editions.code_shape(magic) != editions.code_shape(magic.replace("THINKER", "VISION"))


@pytest.fixture
def scratch(tmp_path):
    """A copy of the notebooks folder with two lessons, to change without touching the real one."""
    for folder in ("en", "zh-src"):
        (tmp_path / folder).mkdir()
    shutil.copytree(ROOT / "en" / "images", tmp_path / "en" / "images")
    for name in LESSONS[:2]:
        shutil.copy(ROOT / "en" / f"{name}.ipynb", tmp_path / "en")
        shutil.copy(editions.translation_path(name, ROOT), tmp_path / "zh-src")
    return tmp_path


def test_a_changed_english_cell_is_reported_until_restamped(scratch):
    name = LESSONS[1]
    assert editions.build(scratch)
    assert not editions.stale_translations(scratch)
    assert not editions.pairing_problems(scratch)
    path = scratch / "en" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in editions.content_cells(nb) if c.cell_type == "markdown")
    cell.source += "\n\nA new sentence."
    new = nbformat.v4.new_markdown_cell("## A new section", id="brand-new")
    nb.cells.insert(3, new)
    nbformat.write(nb, path)

    stale = editions.stale_translations(scratch)
    assert [(s.cell_id, s.kind) for s in stale] == [(cell.id, "changed"), ("brand-new", "missing")]
    message = str(stale[0])
    assert name in message and cell.id in message and "English changed" in message
    assert editions.pairing_problems(scratch) == [
        f"{name}: the editions' cells differ (make notebooks)"
    ]
    editions.build(scratch)  # builds anyway: old Chinese for the changed cell, English for the new
    zh = nbformat.read(scratch / "zh" / f"{name}.ipynb", as_version=4)
    assert any(c.source == "## A new section" for c in zh.cells)
    code = [c for c in editions.content_cells(nb) if c.cell_type == "code"]
    overridden = next(
        c for c in code if "code" in editions.load_translations(name, scratch).get(c.id, {})
    )
    overridden.source += "\nprint('one more line')"
    nbformat.write(nb, path)
    editions.build(scratch)
    zh = nbformat.read(scratch / "zh" / f"{name}.ipynb", as_version=4)
    assert next(c for c in zh.cells if c.get("id") == overridden.id).source == overridden.source
    assert (overridden.id, "changed") in [
        (s.cell_id, s.kind) for s in editions.stale_translations(scratch)
    ]
    assert editions.stamp(name, [cell.id], scratch) == [cell.id]
    assert [s.cell_id for s in editions.stale_translations(scratch)] == [
        "brand-new",
        overridden.id,
    ]


def test_build_keeps_outputs_of_unchanged_code_and_is_stable(scratch):
    editions.build(scratch)
    name = LESSONS[0]
    path = scratch / "zh" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[1].outputs = [nbformat.v4.new_output("stream", text="kept\n")]
    code[1].execution_count = 2
    nbformat.write(nb, path)
    assert editions.build(scratch) == []  # nothing to rewrite
    again = nbformat.read(path, as_version=4)
    assert [c for c in again.cells if c.cell_type == "code"][1].outputs[0].text == "kept\n"
    top, bottom = again.cells[0], again.cells[-1]
    assert top.metadata[editions.NAV_KEY] == "top" and f"../en/{name}.ipynb" in top.source
    assert bottom.metadata[editions.NAV_KEY] == "bottom" and f"{LESSONS[1]}.ipynb" in bottom.source


def test_rekey_follows_cells_that_only_changed_their_id(scratch):
    name = LESSONS[0]
    path = scratch / "en" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in editions.content_cells(nb) if c.cell_type == "markdown")
    old_id, cell.id = cell.id, "renamed-cell"
    nbformat.write(nb, path)
    kinds = {(s.cell_id, s.kind) for s in editions.stale_translations(scratch)}
    assert kinds == {("renamed-cell", "missing"), (old_id, "orphan")}
    assert editions.rekey(name, scratch) == [(old_id, "renamed-cell")]
    assert not editions.stale_translations(scratch)


@pytest.mark.parametrize("name", LESSONS)
def test_chinese_emphasis_renders(name):
    """`**粗体：**文字` does not render in Markdown (a closing ** after Chinese punctuation and
    before a letter is not right-flanking): no * may survive rendering outside code."""
    import mistune

    zh = nbformat.read(ROOT / "zh" / f"{name}.ipynb", as_version=4)
    for cell in zh.cells:
        if cell.cell_type == "markdown":
            html = re.sub(r"<(code|pre)>.*?</\1>", "", mistune.html(cell.source), flags=re.S)
            assert "*" not in html, f"{cell.get('id')}: {html[:200]}"


def test_the_emphasis_check_catches_the_chinese_trap():
    import mistune

    assert "*" in mistune.html("**注意：**这里")
    assert "*" not in mistune.html("**注意**：这里")
