"""Friendly errors in notebook cells: the plain sentence first, the library's frames folded.

A wrong model name in a learner's cell raises `ollama.ResponseError` from deep inside the
library: a screen of httpx and ollama frames with the useful line at the very bottom. Once
`install()` has run (`ollama_nb.setup()` calls it), IPython hands such exceptions (the
library's `ResponseError`, connection errors, timeouts) to `_handler`, which shows:

1. `ollama_nb.errors.explain(exc)`'s one sentence, in bold;
2. the traceback of the learner's own cells, ending with the usual `Type: message` line;
3. one line in place of the frames inside the libraries, with `%tb` to see them all.

It is still one ordinary error output with the same `ename` and `evalue` as before, so nbval
(which compares those and ignores the traceback) and `raises-exception` cells behave exactly
as without it. Any other exception keeps IPython's usual traceback.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import httpx
import ollama

from . import errors
from .i18n import Messages

__all__ = ["install", "uninstall", "friendly_traceback", "HANDLED"]

_ = Messages(
    {
        "folded": {
            "en": "({n} more frames inside the ollama and httpx libraries: run %tb to see them)",
            "zh": "（另有 {n} 层调用位于 ollama 和 httpx 库内部：运行 %tb 可查看完整回溯）",
        },
    }
)

# What the library raises when a request fails: the server's error, no server, too slow.
HANDLED: tuple[type[BaseException], ...] = (
    ollama.ResponseError,
    ConnectionError,
    TimeoutError,
    httpx.TransportError,
)

_BOLD_RED, _DIM, _RESET = "\x1b[1;31m", "\x1b[2m", "\x1b[0m"


def _is_learner_frame(tb: types.TracebackType) -> bool:
    """A frame of code typed in a notebook cell (ipykernel names those files after itself)."""
    name = tb.tb_frame.f_code.co_filename
    return name.startswith("<ipython-input") or "ipykernel_" in name or name.startswith("<cell")


def _learner_frames(tb: types.TracebackType | None) -> tuple[types.TracebackType | None, int]:
    """A traceback of the learner's frames only, and how many library frames were left out."""
    kept: list[types.TracebackType] = []
    left_out = 0
    while tb is not None:
        if _is_learner_frame(tb):
            kept.append(tb)
        elif kept:  # IPython's own frames come before the first cell frame: not counted
            left_out += 1
        tb = tb.tb_next
    chain = None
    for frame in reversed(kept):
        chain = types.TracebackType(chain, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return chain, left_out


def friendly_traceback(shell: Any, etype: type, value: BaseException, tb: Any) -> list[str]:
    """The lines shown for `value`: the sentence, the learner's frames, the folded rest."""
    sentence = errors.explain(value)
    chain, left_out = _learner_frames(tb)
    if chain is None:  # raised outside any cell frame: keep the whole traceback
        chain, left_out = tb, 0
    stb = shell.InteractiveTB.structured_traceback(etype, value, chain)
    lines = [f"{_BOLD_RED}{sentence}{_RESET}", ""]
    lines += stb[:-1] if left_out else stb
    if left_out:
        lines.append(f"{_DIM}{_('folded', n=left_out)}{_RESET}")
        lines.append(stb[-1])  # "ResponseError: ..." stays the last line, as usual
    return lines


def _handler(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
) -> list[str]:
    # IPython discards what a custom handler returns: the handler must show the error itself.
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb
    stb = friendly_traceback(shell, etype, value, tb)
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> bool:
    """Show friendly errors in this IPython kernel; False when not running under IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc(HANDLED, _handler)
    return True


def uninstall() -> None:
    """Back to IPython's usual tracebacks for every exception."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((), None)
