"""Replies for ``format=...`` requests: JSON text that fits what the learner asked for.

With ``format="json"`` the practice server answers with a small, labelled JSON object, or with
exactly the keys the prompt names ("reply in JSON with name, age and city"). With a JSON schema
(usually ``SomeModel.model_json_schema()``) it answers with an instance that validates, so
``SomeModel.model_validate_json(response.message.content)`` works in the notebooks just as it
does with a real model. The same (schema, prompt, seed) always gives the same text, so stored
notebook outputs stay valid.

The work is split by job: :mod:`promptpools` (what the prompt offers), :mod:`schemaplan` (the
schema compiled into a value plan), :mod:`regexgen` (strings for patterns), :mod:`schemacheck`
(validation by the `jsonschema` library) and :mod:`schemalimits` (size and time budget).
"""

from __future__ import annotations

import json
from typing import Any

from . import schemalimits
from .promptfields import field_names, value_schema
from .schemacheck import fits
from .schemaplan import (
    _FORMAT_ERROR,
    _Ctx,
    _plan,
    _sentence,
    resolve,
)

__all__ = ["NOTE", "fits", "generate", "generate_value", "resolve"]

NOTE = "practice server: canned structured reply"


# -- public API ---------------------------------------------------------------------------------
def generate(fmt: str | dict, prompt: str, seed: int = 0, labelled: bool = True) -> str:
    """JSON text for a request with ``format=fmt``: ``"json"`` or a JSON schema dict.
    ``format="json"``'s free object carries a ``note`` that it is canned, and canned words
    say "practice", unless not ``labelled`` (the server posing as a real Ollama, pose.py).
    This runs in a worker process (heavy.in_process), which cannot ask the server's marks,
    so ``labelled`` travels as an argument.

    Raises ``ValueError("invalid JSON schema: ...")`` for anything else, so the server can
    answer 400 the way Ollama does for a format it cannot use.
    """
    if fmt == "json":
        obj: Any = _json_mode(prompt or "", seed, labelled)
    elif isinstance(fmt, dict):
        obj = generate_value(fmt, prompt, seed, labelled)
    else:
        raise ValueError(_FORMAT_ERROR)
    return json.dumps(obj, ensure_ascii=False)


def generate_value(schema: dict, prompt: str = "", seed: int = 0, labelled: bool = True) -> Any:
    """The Python value behind :func:`generate` for a schema (also used for tool arguments);
    canned words say "practice" unless not ``labelled``."""
    if not isinstance(schema, dict):
        raise ValueError(_FORMAT_ERROR)
    schemalimits.check(schema)
    try:
        return _plan(schema)(_Ctx(prompt or "", seed, labelled))
    except (TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        # a malformed schema must give the learner a 400 with a reason, never a crash
        raise ValueError(f"invalid JSON schema: {type(exc).__name__}: {exc}") from exc


def _json_mode(prompt: str, seed: Any, labelled: bool = True) -> dict:
    names = field_names(prompt)
    if names:  # "reply in JSON with name, age and city": exactly those keys
        return generate_value(value_schema(names), prompt, seed, labelled)
    ctx = _Ctx(prompt, seed, labelled)
    obj = {"answer": _sentence(ctx), "topic": ctx.p.topic, "keywords": list(ctx.p.keywords[:5])}
    if labelled:
        obj["note"] = NOTE
    return obj
