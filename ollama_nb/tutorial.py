"""`%%tutorial` and `%%needs`: cells that run on whatever Ollama the learner has.

The tutorial's examples name its own models (`llama3.1`, `llava`, `nomic-embed-text`). A cell
that starts with `%%tutorial` keeps that code visibly the tutorial's. When the named model is
installed (or on the practice server) the cell runs exactly as written. When it is not, the
cell runs with the model `setup()` chose for the same role and prints one line saying so;
when no installed model can do the job, it prints why and runs nothing. Nothing is pulled.

`%%needs NAME` (any expression giving a model name) runs the cell only when that model is
installed, and otherwise says which model it needs and how to get it: the cells after a
declined download skip in one visible line instead of stopping Run All with a 404.

`setup()` registers it as an IPython input transformer (not a plain cell magic) so the cell
still behaves as ordinary code: its last value is shown, `await` works, errors are errors.
"""

from __future__ import annotations

import re

from .i18n import Messages

MARK = "%%tutorial"
NEEDS = "%%needs"
# The tutorial's model names and the role that stands in for each.
TUTORIAL_MODELS = {"llama3.1": "chat", "llava": "vision", "nomic-embed-text": "embed"}

_ = Messages(
    {
        "instead": {
            "en": "Tutorial cell: {name} is not installed here, so it runs with {model} instead "
            "(to run it as written: `ollama pull {name}`, {size}).",
            "zh": "教程原文单元格：这里没有安装 {name}，所以改用 {model} 运行"
            "（要按原样运行：`ollama pull {name}`，{size}）。",
        },
        "needs": {
            "en": "Skipped: this cell needs {name} ({size}), which is not installed "
            "(`ollama pull {name}`, or the download button above).",
            "zh": "已跳过：这个单元格需要 {name}（{size}），但尚未安装"
            "（运行 `ollama pull {name}`，或点击上方的下载按钮）。",
        },
        "skipped": {
            "en": "Tutorial cell skipped: it needs {name} ({size}), which is not installed, and "
            "no installed model can stand in for it (`ollama pull {pull}`, {pull_size}).",
            "zh": "已跳过教程原文单元格：它需要 {name}（{size}），但没有安装，也没有已安装的模型"
            "可以代替（`ollama pull {pull}`，{pull_size}）。",
        },
    }
)


def _pattern(name: str) -> re.Pattern:
    """`name` as the tutorial writes it: a quoted string, or a Modelfile `FROM` line."""
    quoted = rf"(?P<q>['\"]){re.escape(name)}(?P=q)"
    return re.compile(rf"{quoted}|(?m:^(?P<f>\s*FROM\s+){re.escape(name)}\s*$)")


def adapt(code: str, installed: set[str], models: dict[str, str | None]) -> tuple[str, str]:
    """(code to run, the note to print) for a tutorial cell given what is installed.

    `installed` holds names without `:latest`; `models` maps roles to chosen models.
    """
    from .downloads import download_size
    from .roles import SUGGESTED, human_size

    notes = []
    for name, role in TUTORIAL_MODELS.items():
        pattern = _pattern(name)
        if name in installed or not pattern.search(code):
            continue
        if role == "chat" and "tools=" in code:
            role = "tools"
        stand_in = models.get(role)
        size = human_size(download_size(name) or 0)
        if not stand_in:
            pull, pull_size = SUGGESTED[role]
            note = _("skipped", name=name, size=size, pull=pull, pull_size=human_size(pull_size))
            return "pass\n", note

        def swap(match: re.Match, stand_in: str = stand_in) -> str:
            if match["q"]:
                return f"{match['q']}{stand_in}{match['q']}"
            return f"{match['f']}{stand_in}"

        code = pattern.sub(swap, code)
        notes.append(_("instead", name=name, model=stand_in, size=size))
    return code, "\n".join(notes)


def _installed() -> set[str]:
    import ollama

    from .roles import base_name

    return {base_name(m.model or "") for m in ollama.Client().list().models}


def _needs(expression: str, body: list[str]) -> list[str]:
    from IPython import get_ipython

    from .downloads import download_size
    from .roles import base_name, human_size

    name = str(eval(expression, get_ipython().user_ns))  # the cell's own expression
    if base_name(name) in _installed():
        return body
    note = _("needs", name=name, size=human_size(download_size(name) or 0))
    return [f"print({note!r})\n"]


def transform(lines: list[str]) -> list[str]:
    """The IPython input transformer: only cells that start with `%%tutorial` or `%%needs`."""
    first = lines[0].strip() if lines else ""
    if first != MARK and not first.startswith(NEEDS + " "):
        return lines
    body = "".join(lines[1:])
    import ollama_nb

    if ollama_nb.PRACTICE is not False:
        return lines[1:]
    if first != MARK:
        return _needs(first[len(NEEDS) :].strip(), lines[1:])
    installed = _installed()
    models = {
        "chat": ollama_nb.MODEL,
        "embed": ollama_nb.EMBED_MODEL,
        "tools": ollama_nb.TOOLS_MODEL,
        "vision": ollama_nb.VISION_MODEL,
    }
    code, note = adapt(body, installed, models)
    head = [f"print({note!r})\n"] if note else []
    return head + code.splitlines(keepends=True)


def register() -> None:
    """Install the transformer in the running IPython, once; nothing outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return
    cleanup = shell.input_transformers_cleanup
    if transform not in cleanup:
        cleanup.insert(0, transform)
