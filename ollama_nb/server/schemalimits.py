"""How big a structured reply may get: limits on the schema and a budget while generating.

A learner's schema can ask for ten million items, a string of a hundred million characters or
nesting hundreds of levels deep; a real Ollama answers such a request with an error or never
finishes. The practice server refuses it up front with a 400 (Ollama's `{"error": ...}`
shape) and, for what only shows while generating (100 items of 100 items of 100 items),
stops at a size and time budget, so one request can never hold the server.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["MAX_CHARS", "MAX_DEPTH", "MAX_VALUES", "Budget", "check"]

MAX_ITEMS = 10_000  # minItems / minContains
MAX_LENGTH = 100_000  # minLength
MAX_PROPERTIES = 1_000  # minProperties
MAX_DEPTH = 64  # nesting of the schema document
MAX_NODES = 20_000  # keywords and sub-schemas in the schema document
MAX_VALUES = 50_000  # values generated for one reply
MAX_CHARS = 1_000_000  # characters of string values in one reply
MAX_SECONDS = 2.0

_LIMITS = {
    "minItems": MAX_ITEMS,
    "minContains": MAX_ITEMS,
    "minLength": MAX_LENGTH,
    "minProperties": MAX_PROPERTIES,
}


def too_big(what: str) -> ValueError:
    return ValueError(f"invalid JSON schema: {what} (the practice server's limit)")


def check(schema: Any) -> None:
    """Raise ValueError (answered as 400) for a schema beyond the limits; iterative, so a deep
    document cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(schema, 0)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise too_big(f"the schema has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise too_big(f"the schema is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, value in node.items():
                limit = _LIMITS.get(key)
                if limit is not None and _number(value) and value > limit:
                    raise too_big(f"{key} {value} is more than {limit}")
                if isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node if isinstance(item, (dict, list)))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Budget:
    """What one reply may still spend: values, characters and time."""

    __slots__ = ("values", "chars", "deadline")

    def __init__(self) -> None:
        self.values = 0
        self.chars = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def value(self) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise too_big(f"the reply would hold more than {MAX_VALUES} values")
        if self.values % 256 == 0 and time.monotonic() > self.deadline:
            raise too_big(f"the reply takes longer than {MAX_SECONDS:g} s to build")

    def text(self, size: int) -> None:
        self.chars += size
        if self.chars > MAX_CHARS:
            raise too_big(f"the reply would be longer than {MAX_CHARS} characters")
