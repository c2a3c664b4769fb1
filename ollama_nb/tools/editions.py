"""The two editions of the notebooks: English is written, Chinese is built from it.

``notebooks/en/NN_name.ipynb`` is the source of every lesson. ``notebooks/zh/NN_name.ipynb`` is
built from it and ``notebooks/zh-src/NN_name.yaml``, which holds, keyed by the English cell's
``id``, the Chinese text of each markdown cell and the hash of the English text it translates
(as d2l-zh pairs each page with its origin)::

    cells:
      01-04:
        hash: 3f2a9c81d0e4      # sha256 of the English cell's source, first 12 hex digits
        zh: |-
          ## 流式输出
          ...
      01-05:                    # a code cell whose prompts read better in Chinese
        hash: 9b1c0e22a7f3
        code: |-
          ...

Code cells are copied from English unless an entry gives ``code`` (the check in
``tests/test_editions.py`` makes sure only string literals and comments differ), and the first
code cell's ``ollama_nb.setup()`` becomes ``ollama_nb.setup(lang="zh")``. When the English cell
changes its hash no longer matches: the build keeps the old Chinese (so the edition still
runs) and ``python -m ollama_nb.tools.editions check`` lists the cell until someone updates
the text and the hash (``todo`` prints the English and the new hash to copy).

Both editions also get navigation cells, recognised by their metadata and rewritten on each
build: a link to the other edition at the top, the previous and next lesson at the bottom.
Outputs of the Chinese cells are kept across builds while a cell's source is unchanged; ``make
notebooks`` (``ollama_nb.tools.run_notebooks``) builds and then executes both editions.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2] / "notebooks"
EDITIONS = ("en", "zh")
NAV_KEY = "ollama_nb_nav"  # cell metadata: {"ollama_nb_nav": "top" | "bottom"}
SETUP_CALL = re.compile(r"ollama_nb\.setup\(([^()]*)\)")

NAV_TEXT = {
    "en": {
        "switch": "**English** | [简体中文](../zh/{name}.ipynb)",
        "previous": "← Previous: [{title}]({name}.ipynb)",
        "next": "Next: [{title}]({name}.ipynb) →",
        "first": "This is the first lesson.",
        "last": "This is the last lesson: well done!",
    },
    "zh": {
        "switch": "[English](../en/{name}.ipynb) | **简体中文**",
        "previous": "← 上一课：[{title}]({name}.ipynb)",
        "next": "下一课：[{title}]({name}.ipynb) →",
        "first": "这是第一课。",
        "last": "这是最后一课，恭喜你学完了全部内容！",
    },
}


def source_hash(text: str) -> str:
    """The hash a translation records: sha256 of the English source, first 12 hex digits.

    Leading and trailing whitespace do not count, so re-wrapping the end of a cell does not
    make its translation stale; any other change does.
    """
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def is_nav(cell) -> bool:
    return NAV_KEY in cell.get("metadata", {})


def lesson_names(root: Path = ROOT) -> list[str]:
    """The lessons, as the English notebooks' file names without ``.ipynb``, in order."""
    return sorted(p.stem for p in (root / "en").glob("*.ipynb") if not p.name.startswith("."))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def content_cells(nb) -> list:
    """The lesson's own cells: everything but the navigation cells."""
    return [c for c in nb.cells if not is_nav(c)]


# -- translation files ------------------------------------------------------------------------
def translation_path(name: str, root: Path = ROOT) -> Path:
    return root / "zh-src" / f"{name}.yaml"


def load_translations(name: str, root: Path = ROOT) -> dict[str, dict]:
    """id -> {"hash": ..., "zh": ... or "code": ...}; empty when there is no file yet."""
    import yaml

    path = translation_path(name, root)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cells = data.get("cells") or {}
    return {str(key): dict(value) for key, value in cells.items()}


# -- building ---------------------------------------------------------------------------------
def title_of(nb) -> str:
    """The lesson's title: the first ``# `` heading, or '' when there is none."""
    for cell in content_cells(nb):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def nav_cells(edition: str, names: list[str], index: int, titles: dict[str, str]) -> tuple:
    """The top cell (link to the other edition) and the bottom cell (previous, next lesson)."""
    text = NAV_TEXT[edition]
    name = names[index]
    top = nbformat.v4.new_markdown_cell(text["switch"].format(name=name), id="nav-top")
    top.metadata[NAV_KEY] = "top"
    parts = []
    if index > 0:
        before = names[index - 1]
        parts.append(text["previous"].format(name=before, title=titles.get(before) or before))
    else:
        parts.append(text["first"])
    if index + 1 < len(names):
        after = names[index + 1]
        parts.append(text["next"].format(name=after, title=titles.get(after) or after))
    else:
        parts.append(text["last"])
    bottom = nbformat.v4.new_markdown_cell("---\n\n" + " | ".join(parts), id="nav-bottom")
    bottom.metadata[NAV_KEY] = "bottom"
    return top, bottom


def with_nav(nb, top, bottom) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [top, *content_cells(nb), bottom]
    return nb


def translate(en_nb, entries: dict[str, dict], old_zh=None) -> nbformat.NotebookNode:
    """The Chinese notebook's lesson cells (no navigation yet), from English and `entries`.

    A markdown cell with no entry keeps its English text, one whose English changed keeps its
    old Chinese, and a code cell whose English changed runs the English code until its Chinese
    version is updated (the check reports all three); outputs of an earlier build are kept for
    code cells whose source is unchanged.
    """
    old_cells = {c.get("id"): c for c in content_cells(old_zh)} if old_zh is not None else {}
    zh = copy.deepcopy(en_nb)
    zh.cells = []
    first_code = True
    for en_cell in content_cells(en_nb):
        cell = copy.deepcopy(en_cell)
        entry = entries.get(cell.get("id"), {})
        if cell.cell_type == "markdown" and "zh" in entry:
            cell.source = join_soft_breaks(str(entry["zh"]).strip("\n"))
        elif cell.cell_type == "code":
            if "code" in entry and str(entry.get("hash")) == source_hash(en_cell.source):
                cell.source = str(entry["code"]).strip("\n")  # a stale one is not used
            if first_code:
                cell.source = SETUP_CALL.sub(_setup_in_chinese, cell.source, count=1)
                first_code = False
            old = old_cells.get(cell.get("id"))
            if old is not None and old.cell_type == "code" and old.source == cell.source:
                cell.outputs = copy.deepcopy(old.outputs)
                cell.execution_count = old.execution_count
            else:
                cell.outputs = []
                cell.execution_count = None
        zh.cells.append(cell)
    zh.metadata["language"] = "zh"
    return zh


_BLOCK_START = re.compile(r"([-*+>|#]|\d+\.\s|```|<)")
_WIDE_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\u2018-\u201d\u2026]")
_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2018-\u201d\u2026]")


def join_soft_breaks(text: str) -> str:
    """Join the lines of each Markdown paragraph, list item and table-free block.

    The translation files wrap long Chinese lines for readable diffs, but a Markdown renderer
    turns each line break inside a paragraph into a space, which shows as a stray gap between two
    Chinese characters. Lines are joined with no space between two wide (CJK) characters or next
    to Chinese punctuation, and with one space otherwise; code fences, tables, headings and new
    list items are left as they are.
    """
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        previous = out[-1].strip() if out else ""
        joinable = (
            not fenced
            and stripped
            and previous
            and not _BLOCK_START.match(stripped)
            and not previous.startswith(("|", "#", "```"))
        )
        if not joinable:
            out.append(line)
            continue
        tight = (_WIDE.match(previous[-1]) and _WIDE.match(stripped[0])) or (
            _WIDE_PUNCT.match(previous[-1]) or _WIDE_PUNCT.match(stripped[0])
        )
        out[-1] = out[-1].rstrip() + ("" if tight else " ") + stripped
    return "\n".join(out)


def _setup_in_chinese(match: re.Match) -> str:
    """``ollama_nb.setup(...)`` with ``lang="zh"`` added (kept if the English names a lang)."""
    args = match[1].strip()
    if "lang=" in args:
        return match[0]
    return f'ollama_nb.setup({args + ", " if args else ""}lang="zh")'


def _write_if_changed(nb, path: Path) -> bool:
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def build(root: Path = ROOT, *, english_nav: bool = True) -> list[Path]:
    """Build ``zh/`` from ``en/`` and ``zh-src/``, and refresh both editions' navigation.

    Returns the notebooks written (unchanged ones are not rewritten). ``images/`` and any other
    folder beside the English notebooks is copied, so relative paths work in both editions.
    """
    names = lesson_names(root)
    en_dir, zh_dir = root / "en", root / "zh"
    zh_dir.mkdir(exist_ok=True)
    for folder in en_dir.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            shutil.copytree(folder, zh_dir / folder.name, dirs_exist_ok=True)
    english = {name: read(en_dir / f"{name}.ipynb") for name in names}
    chinese = {}
    for name in names:
        old_path = zh_dir / f"{name}.ipynb"
        old = read(old_path) if old_path.exists() else None
        chinese[name] = translate(english[name], load_translations(name, root), old)
    written = []
    for edition, books in (("en", english), ("zh", chinese)):
        if edition == "en" and not english_nav:
            continue
        titles = {name: title_of(nb) for name, nb in books.items()}
        for index, name in enumerate(names):
            top, bottom = nav_cells(edition, names, index, titles)
            path = root / edition / f"{name}.ipynb"
            if _write_if_changed(with_nav(books[name], top, bottom), path):
                written.append(path)
    return written


# -- checks -----------------------------------------------------------------------------------
def first_words(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class Stale:
    """One cell whose translation needs work."""

    notebook: str
    cell_id: str
    kind: str  # "missing", "changed", "orphan"
    english: str
    new_hash: str
    cell_type: str = "markdown"

    def __str__(self) -> str:
        what = {
            "missing": "no Chinese text yet",
            "changed": "English changed since it was translated",
            "orphan": "translation of a cell the English no longer has",
        }[self.kind]
        return (
            f"notebooks/zh-src/{self.notebook}.yaml  cell {self.cell_id}: {what}"
            f" (hash {self.new_hash or '-'}): {first_words(self.english)!r}"
        )


def stale_translations(root: Path = ROOT) -> list[Stale]:
    """Every markdown cell without a current translation, every stale code override, and
    every entry whose English cell is gone."""
    found: list[Stale] = []
    for name in lesson_names(root):
        en_nb = read(root / "en" / f"{name}.ipynb")
        entries = load_translations(name, root)
        ids = set()
        for cell in content_cells(en_nb):
            cell_id = cell.get("id", "")
            ids.add(cell_id)
            entry = entries.get(cell_id)
            digest = source_hash(cell.source)
            if cell.cell_type == "markdown" and (entry is None or "zh" not in entry):
                found.append(Stale(name, cell_id, "missing", cell.source, digest))
            elif entry is not None and str(entry.get("hash")) != digest:
                found.append(Stale(name, cell_id, "changed", cell.source, digest, cell.cell_type))
        for cell_id in entries:
            if cell_id not in ids:
                text = str(entries[cell_id].get("zh") or entries[cell_id].get("code") or "")
                found.append(Stale(name, cell_id, "orphan", text, ""))
    return found


def code_shape(source: str) -> str:
    """The code with its string literals blanked and comments dropped, as an AST dump.

    Two cells with the same shape differ only in prompts, printed labels and comments; the
    ``lang`` argument of ``ollama_nb.setup`` does not count either.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    if source.startswith("%%"):  # a cell magic (%%tutorial, %%needs): its line, then its body
        line, _, body = source.partition("\n")
        return line.strip() + "\n" + code_shape(body)
    python = TransformerManager().transform_cell(source)
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        tree = compile(python, "<cell>", "exec", flags=flags)
    except SyntaxError:
        return source  # not Python: compare as text

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node):
            if isinstance(node.value, (str, bytes)):
                return ast.copy_location(ast.Constant(value="…"), node)
            return node

        def visit_JoinedStr(self, node):
            return ast.copy_location(ast.Constant(value="…"), node)

        def visit_Call(self, node):
            self.generic_visit(node)
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "setup":
                node.keywords = [k for k in node.keywords if k.arg != "lang"]
            return node

    return ast.dump(Blank().visit(tree))


def pairing_problems(root: Path = ROOT) -> list[str]:
    """Lessons missing an edition, cells that do not pair up, code that differs beyond strings,
    and a Chinese edition older than its sources."""
    problems = []
    en_names = set(lesson_names(root))
    zh_names = {p.stem for p in (root / "zh").glob("*.ipynb") if not p.name.startswith(".")}
    for name in sorted(en_names - zh_names):
        problems.append(f"{name}: no Chinese edition (make notebooks)")
    for name in sorted(zh_names - en_names):
        problems.append(f"{name}: a Chinese notebook with no English source")
    for name in sorted(en_names & zh_names):
        en_nb = read(root / "en" / f"{name}.ipynb")
        zh_nb = read(root / "zh" / f"{name}.ipynb")
        en_cells, zh_cells = content_cells(en_nb), content_cells(zh_nb)
        en_ids = [(c.get("id"), c.cell_type) for c in en_cells]
        zh_ids = [(c.get("id"), c.cell_type) for c in zh_cells]
        if en_ids != zh_ids:
            problems.append(f"{name}: the editions' cells differ (make notebooks)")
            continue
        for en_cell, zh_cell in zip(en_cells, zh_cells):
            if en_cell.cell_type == "code" and code_shape(en_cell.source) != code_shape(
                zh_cell.source
            ):
                problems.append(
                    f"{name} cell {en_cell.get('id')}: code differs beyond strings and "
                    f"comments: {first_words(zh_cell.source)!r}"
                )
        built = translate(en_nb, load_translations(name, root), zh_nb)
        if [c.source for c in built.cells] != [c.source for c in zh_cells]:
            problems.append(f"{name}: notebooks/zh is older than its sources (make notebooks)")
        for edition, nb in (("en", en_nb), ("zh", zh_nb)):
            kinds = [c.metadata[NAV_KEY] for c in nb.cells if is_nav(c)]
            if not nb.cells or kinds != ["top", "bottom"] or not is_nav(nb.cells[0]):
                problems.append(f"{edition}/{name}: navigation cells missing (make notebooks)")
            elif not is_nav(nb.cells[-1]):
                problems.append(f"{edition}/{name}: the bottom navigation is not last")
    return problems


# -- command line -----------------------------------------------------------------------------
def stamp(name: str, ids: Sequence[str] = (), root: Path = ROOT) -> list[str]:
    """Record the current English hash for `ids` (default: the entries whose hash is ``new``)
    in the translation file, editing only their ``hash:`` lines; returns the ids stamped.

    Run it after updating a cell's Chinese text: it says "this translates today's English".
    """
    english = {c.get("id"): c for c in content_cells(read(root / "en" / f"{name}.ipynb"))}
    path = translation_path(name, root)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = re.compile(r'^  "?([^":]+)"?:\s*$')
    current, done = None, []
    for i, line in enumerate(lines):
        match = entry.match(line)
        if match:
            current = match[1]
            continue
        if current is not None and line.startswith("    hash:"):
            old = line.split(":", 1)[1].strip()
            wanted = current in ids if ids else old == "new"
            if wanted and current in english:
                lines[i] = f"    hash: {source_hash(english[current].source)}\n"
                done.append(current)
            current = None
    path.write_text("".join(lines), encoding="utf-8")
    return done


def _todo(root: Path) -> str:
    """The stale cells as YAML entries to paste over the old ones: today's English as comments,
    the new hash, and the current Chinese (or the English, for a new cell) to edit."""
    out = []
    for item in stale_translations(root):
        where = f"# notebooks/zh-src/{item.notebook}.yaml, cell {item.cell_id} ({item.kind})"
        if item.kind == "orphan":
            out += [where + ": delete this entry", ""]
            continue
        key = "code" if item.cell_type == "code" else "zh"
        entry = load_translations(item.notebook, root).get(item.cell_id, {})
        out.append(where + "; the English now reads:")
        out.extend(f"#   {line}".rstrip() for line in item.english.splitlines())
        out.append(f'  "{item.cell_id}":\n    hash: {item.new_hash}\n    {key}: |-')
        body = str(entry.get(key) or item.english)
        out.extend(f"      {line}".rstrip() for line in body.splitlines())
        out.append("")
    return "\n".join(out)


def rekey(name: str, root: Path = ROOT) -> list[tuple[str, str]]:
    """Move translations to new cell ids when the English cells were re-created with new ids but
    the same text: an entry whose id is gone and whose hash equals the hash of an untranslated
    English cell of the same kind takes that cell's id. Returns the (old, new) ids."""
    entries = load_translations(name, root)
    cells = content_cells(read(root / "en" / f"{name}.ipynb"))
    ids = {c.get("id") for c in cells}
    free: dict[tuple[str, str], str] = {}
    for cell in cells:
        key = "code" if cell.cell_type == "code" else "zh"
        if key not in entries.get(cell.get("id"), {}):
            free.setdefault((key, source_hash(cell.source)), cell.get("id"))
    moves = []
    for old_id, entry in entries.items():
        key = "code" if "code" in entry else "zh"
        new_id = free.pop((key, str(entry.get("hash"))), None)
        if old_id not in ids and new_id is not None:
            moves.append((old_id, new_id))
    if moves:
        path = translation_path(name, root)
        text = path.read_text(encoding="utf-8")
        for old_id, new_id in moves:
            text = re.sub(
                rf'^  "?{re.escape(old_id)}"?:\s*$', f'  "{new_id}":', text, count=1, flags=re.M
            )
        path.write_text(text, encoding="utf-8")
    return moves


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ollama_nb.tools.editions",
        description="Build notebooks/zh from notebooks/en and notebooks/zh-src; check them.",
    )
    parser.add_argument(
        "command",
        choices=("build", "check", "todo", "stamp", "rekey"),
        help="build: write notebooks/zh and the navigation cells; check: list stale "
        "translations and unpaired cells; todo: print the stale cells' English and new hash; "
        "stamp NOTEBOOK [ID ...]: record today's English hash for cells you have re-translated "
        "(no ID: the entries whose hash is 'new'); rekey NOTEBOOK: move translations to new "
        "cell ids where the English was re-created with the same text",
    )
    parser.add_argument("args", nargs="*", help="for stamp: NOTEBOOK [ID ...]")
    parser.add_argument("--root", type=Path, default=ROOT, help="the notebooks folder")
    args = parser.parse_args(argv)
    if args.command == "rekey":
        if not args.args:
            parser.error("rekey needs a notebook name, e.g. 04_embeddings")
        moves = rekey(Path(args.args[0]).stem, args.root)
        print("moved:", " ".join(f"{a}->{b}" for a, b in moves) or "nothing")
        return 0
    if args.command == "stamp":
        if not args.args:
            parser.error("stamp needs a notebook name, e.g. 01_chat")
        name = Path(args.args[0]).stem
        print("stamped:", " ".join(stamp(name, args.args[1:], args.root)) or "nothing")
        return 0
    if args.command == "build":
        for path in build(args.root):
            print(f"wrote {path}")
        stale = stale_translations(args.root)
        if stale:
            print(f"{len(stale)} cells need translating: python -m ollama_nb.tools.editions todo")
        return 0
    if args.command == "todo":
        print(_todo(args.root))
        return 0
    problems = [str(s) for s in stale_translations(args.root)] + pairing_problems(args.root)
    print("\n".join(problems) if problems else "both editions agree, translations are current")
    if problems:
        print("(python -m ollama_nb.tools.editions todo: the English and new hash of each cell)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
