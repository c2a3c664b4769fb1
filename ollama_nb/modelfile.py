"""Turn a Modelfile into the arguments of today's ``ollama.create(...)``.

Older tutorials (and the seed tutorial) wrote::

    ollama.create(model="example", modelfile=modelfile)

The ``modelfile=`` argument was removed in ollama-python 0.4.6 (and the server stopped accepting
it in 0.5.5), so that line now raises ``TypeError``. Today ``create`` takes the pieces of a
Modelfile as separate arguments (``from_``, ``system``, ``parameters``, ...). :func:`parse` does
that translation, and :func:`create_from_modelfile` is the one-line replacement for the old call.

The grammar follows the ollama CLI's parser (``parser/parser.go``): instructions are
case-insensitive, ``#`` starts a comment line, a value is the rest of the line, ``"quoted"`` or
``\"\"\"triple quoted\"\"\"`` (which may span lines; the text between the quotes is kept verbatim,
newlines included, as the CLI does).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

__all__ = ["ModelfileError", "parse", "create_from_modelfile"]


class ModelfileError(ValueError):
    """A Modelfile that cannot be turned into ``create`` arguments.

    ``line`` is the 1-based line the problem is on, or ``None`` when it concerns the whole file
    (a missing FROM). The message starts with ``line N:`` so a learner can find it.
    """

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


_INT = {
    "num_ctx",
    "repeat_last_n",
    "seed",
    "num_predict",
    "top_k",
    "mirostat",
    "num_keep",
    "num_batch",
    "num_gpu",
    "num_thread",
    "main_gpu",
}
_FLOAT = {
    "repeat_penalty",
    "temperature",
    "top_p",
    "min_p",
    "tfs_z",
    "typical_p",
    "mirostat_eta",
    "mirostat_tau",
    "presence_penalty",
    "frequency_penalty",
}
_BOOL = {"penalize_newline", "use_mmap", "use_mlock", "numa", "low_vram"}
_PARAMETERS = _INT | _FLOAT | _BOOL | {"stop"}

_INSTRUCTIONS = {"from", "system", "template", "parameter", "message", "license", "adapter"}
# Valid for the ollama CLI, but ollama.create() in the Python library has no argument for them.
_CLI_ONLY = {"draft", "renderer", "parser", "requires"}
_ROLES = ("system", "user", "assistant")

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}
_BLANK = re.compile(r"[ \t]+")


def _typed(name: str, raw: str, line: int) -> Any:
    """Convert a PARAMETER value to the type Ollama's options use, as the server would."""
    if name in _INT:
        if _INT_RE.fullmatch(raw) and -(2**63) <= int(raw) < 2**63:
            return int(raw)
        kind = "a whole number"
    elif name in _FLOAT:
        if _FLOAT_RE.fullmatch(raw) and math.isfinite(float(raw)):
            return float(raw)
        kind = "a number"
    elif name in _BOOL:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        kind = "true or false"
    else:
        return raw
    raise ModelfileError(line, f"PARAMETER {name} must be {kind}, got {raw!r}")


def _read_value(first: str, lines: list[str], i: int) -> tuple[str, int]:
    """Read a value starting with ``first`` (the text after the instruction) on line ``i``.

    Returns the unquoted value and the index of the last line it used, so quoted values can
    span lines. Like the ollama CLI, a quoted value ends at the end of the first line that ends
    with the closing quote, so quotes inside (``SYSTEM "say "hi" politely"``) are kept.
    ``i`` is 0-based; errors report lines 1-based.
    """
    value = first.strip()
    for quote in ('"""', '"'):
        if not value.startswith(quote):
            continue
        text, j = value[len(quote) :], i
        while not text.rstrip().endswith(quote):
            j += 1
            if j >= len(lines):
                raise ModelfileError(
                    i + 1, f"unterminated {quote}: no later line ends with the closing {quote}"
                )
            text += "\n" + lines[j]
        return text.rstrip()[: -len(quote)], j
    return value, i


def parse(text: str) -> dict[str, Any]:
    """Parse a Modelfile into keyword arguments for ``ollama.create(model=..., **kwargs)``.

    Keys (only those whose instruction appears): ``from_`` (FROM, required), ``system``,
    ``template`` (last one wins, as in the CLI), ``parameters`` (PARAMETER, typed like Ollama's
    options; ``stop`` collects a list), ``messages`` (MESSAGE role content), ``license``
    (a string, or a list when there are several), ``adapters``.

    ``adapters`` maps each adapter's file name to its path *as written* (ADAPTER
    ``./lora.gguf`` gives ``{"lora.gguf": "./lora.gguf"}``). Today's API wants
    ``{file name: "sha256:..."}`` digests of blobs already uploaded with
    ``Client.create_blob``; :func:`create_from_modelfile` does that upload. Pass ``parse``'s
    adapters to ``create`` yourself only after replacing the paths by digests.

    Raises :class:`ModelfileError` (a ``ValueError``) naming the line of the first problem.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    messages: list[dict[str, str]] = []
    licenses: list[str] = []
    adapters: dict[str, str] = {}

    i = 0
    while i < len(lines):
        line_no, stripped = i + 1, lines[i].strip(" \t")
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        word, *more = _BLANK.split(stripped, maxsplit=1)
        rest = more[0] if more else ""
        name = word.lower()
        if name in _CLI_ONLY:
            raise ModelfileError(
                line_no,
                f"{word.upper()} works with the ollama command line, but ollama.create() in "
                "the Python library has no argument for it",
            )
        if name not in _INSTRUCTIONS:
            raise ModelfileError(
                line_no,
                f"unknown instruction {word!r}; expected one of FROM, SYSTEM, TEMPLATE, "
                "PARAMETER, MESSAGE, LICENSE, ADAPTER (or a # comment)",
            )

        if name in ("parameter", "message"):
            key, *value_part = _BLANK.split(rest.strip(" \t"), maxsplit=1) if rest else [""]
            if not key or not value_part or not value_part[0].strip():
                what = "a name and a value" if name == "parameter" else "a role and a content"
                raise ModelfileError(line_no, f"{word.upper()} needs {what}, got {stripped!r}")
            value, i = _read_value(value_part[0], lines, i)
        else:
            if not rest.strip():
                raise ModelfileError(line_no, f"{word.upper()} needs a value")
            value, i = _read_value(rest, lines, i)
            key = ""

        if name == "from":
            out["from_"] = value
        elif name in ("system", "template"):
            out[name] = value
        elif name == "license":
            licenses.append(value)
        elif name == "adapter":
            filename = re.split(r"[/\\]", value.rstrip("/\\"))[-1] or value
            if filename in adapters and adapters[filename] != value:
                raise ModelfileError(
                    line_no, f"two ADAPTER files are named {filename!r}; rename one"
                )
            adapters[filename] = value
        elif name == "message":
            if key not in _ROLES:
                raise ModelfileError(
                    line_no, f"MESSAGE role must be system, user or assistant, got {key!r}"
                )
            messages.append({"role": key, "content": value})
        else:  # parameter
            if key not in _PARAMETERS:
                raise ModelfileError(
                    line_no,
                    f"unknown parameter {key!r}; known ones are {', '.join(sorted(_PARAMETERS))}",
                )
            if key == "stop":
                parameters.setdefault("stop", []).append(value)
            else:
                parameters[key] = _typed(key, value, line_no)
        i += 1

    if "from_" not in out:
        raise ModelfileError(
            None, "no FROM line: a Modelfile must name the model it starts from, e.g. FROM llama3.1"
        )
    if parameters:
        out["parameters"] = parameters
    if messages:
        out["messages"] = messages
    if licenses:
        out["license"] = licenses[0] if len(licenses) == 1 else licenses
    if adapters:
        out["adapters"] = adapters
    return out


def create_from_modelfile(name: str, text: str, client: Any = None, stream: bool = False) -> Any:
    """Create model ``name`` from Modelfile ``text`` with today's ``ollama.create``.

    This replaces the seed tutorial's ``ollama.create(model='example', modelfile=modelfile)``,
    which ollama-python 0.6.3 rejects with ``TypeError`` (``modelfile=`` was removed in 0.4.6).
    It parses ``text`` with :func:`parse`, uploads each ADAPTER file with
    ``client.create_blob`` (relative paths are taken from the current directory) and calls
    ``client.create(model=name, **kwargs, stream=stream)``, returning what ``create`` returns:
    a ``ProgressResponse``, or an iterator of them when ``stream=True``.

    ``client`` defaults to the client behind the module-level ``ollama.create``. Raises
    :class:`ModelfileError` for a bad Modelfile and ``FileNotFoundError`` for a missing adapter.
    """
    kwargs = parse(text)
    if client is None:
        import ollama

        client = getattr(ollama.create, "__self__", None) or ollama.Client()
    if "adapters" in kwargs:
        digests = {}
        for filename, path in kwargs["adapters"].items():
            local = os.path.expanduser(path)
            if not os.path.isfile(local):
                raise FileNotFoundError(
                    f"ADAPTER {path!r}: no such file (looked in {os.path.abspath(local)}); "
                    "today's ollama.create needs the adapter uploaded first"
                )
            digests[filename] = client.create_blob(local)
        kwargs["adapters"] = digests
    return client.create(model=name, **kwargs, stream=stream)
