"""Decode a request body as Go's `encoding/json` does, so odd input gets Ollama's 400s.

Python's `json` differs from Go's in ways that turned careless input into 500s or silent
damage: it accepts `NaN` and `Infinity`, a UTF-8 BOM and UTF-16 bodies; it keeps lone
surrogates (`"\\ud800"`), which later cannot be encoded (a `--state` save then fails); it
refuses integers over 4,300 digits with a ValueError; and it recurses, so a body nested ~900
deep raised RecursionError. Go replaces invalid UTF-8 and lone surrogates with U+FFFD,
rejects NaN, Infinity and the BOM, reports numbers too large for their field, and allows
10,000 levels of nesting. This module does the same; shallow bodies (all real ones) go
through the C decoder, deep ones through a small iterative parser.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring

import numpy as np

MAX_DEPTH = 10_000  # Go's encoding/json maxNestingDepth
C_DECODER_DEPTH = 400  # deeper bodies use the iterative parser (the C one recurses)

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NON_BRACKETS = re.compile(r"[^\[\]{}]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_WS = re.compile(r"[ \t\n\r]*")


class JsonError(ValueError):
    """A body Go's decoder refuses; the message is Go's."""


class BigNumber:
    """A number literal that does not fit a float64 (Go reports it by its text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parse_float(text: str) -> float | BigNumber:
    value = float(text)
    return BigNumber(text) if value in (float("inf"), float("-inf")) else value


def _parse_int(text: str) -> int | BigNumber:
    if len(text) <= 300:
        return int(text)
    return BigNumber(text) if float(text) in (float("inf"), float("-inf")) else int(text)


def _parse_constant(text: str) -> object:
    if text.startswith("-"):
        raise JsonError(f"invalid character {text[1]!r} in numeric literal")
    raise JsonError(f"invalid character {text[0]!r} looking for beginning of value")


def loads(raw: bytes) -> object:
    """The decoded value; raises JsonError with Go's message. Numbers too big for a float64
    come back as `BigNumber` for the caller to report with the field's name."""
    if raw.startswith(b"\xef\xbb\xbf") or (raw[:1] and raw[0] >= 0x80):
        raise JsonError(f"invalid character {_go_char(chr(raw[0]))} looking for beginning of value")
    text = raw.decode("utf-8", "replace")
    depth, opener = _max_depth(text)
    if depth > MAX_DEPTH:
        raise JsonError(f"invalid character {opener!r} exceeded max depth")
    try:
        if depth <= C_DECODER_DEPTH:
            value = json.loads(
                text,
                parse_float=_parse_float,
                parse_int=_parse_int,
                parse_constant=_parse_constant,
            )
        else:
            value = _Parser(text).parse()
    except json.JSONDecodeError as exc:
        raise JsonError(_go_message(text, exc.pos, exc.msg)) from None
    if _SURROGATE_ESCAPE.search(text):
        value = _replace_surrogates(value)
    return value


def _go_char(char: str) -> str:
    return "'\\''" if char == "'" else repr(char)


def _max_depth(text: str) -> tuple[int, str]:
    """The deepest nesting outside strings, and the bracket that first goes past MAX_DEPTH."""
    if text.count("[") + text.count("{") <= C_DECODER_DEPTH:
        return 0, ""
    brackets = _NON_BRACKETS.sub("", _STRINGS.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    depth = np.cumsum(steps)
    deepest = int(depth.max()) if depth.size else 0
    if deepest > MAX_DEPTH:
        return deepest, chr(brackets[int(np.argmax(depth > MAX_DEPTH))])
    return deepest, ""


def _go_message(text: str, pos: int, msg: str) -> str:
    if pos >= len(text.rstrip()):
        return "unexpected EOF"
    char = _go_char(text[pos])
    if msg.startswith("Expecting value"):
        return f"invalid character {char} looking for beginning of value"
    if msg.startswith("Extra data"):
        return f"invalid character {char} after top-level value"
    return f"invalid character {char} {msg[0].lower()}{msg[1:]}"


def _replace_surrogates(value: object) -> object:
    """Every lone surrogate in strings and keys becomes U+FFFD, without recursion."""

    def fix(text: str) -> str:
        return _LONE_SURROGATE.sub("\ufffd", text)

    if isinstance(value, str):
        return fix(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                node[fix(key)] = fix(item) if isinstance(item, str) else item
                if isinstance(item, (dict, list)):
                    stack.append(item)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    node[i] = fix(item)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
    return value


def find_big_number(value: object) -> BigNumber | None:
    """The first BigNumber inside `value`, without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, BigNumber):
            return node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


class _Parser:
    """An iterative JSON parser for bodies too deep for the C decoder (rare, and small)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, msg: str) -> None:
        raise json.JSONDecodeError(msg, self.text, self.pos)

    def skip(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def scalar(self) -> object:
        text, pos = self.text, self.pos
        char = text[pos : pos + 1]
        if char == '"':
            value, self.pos = scanstring(text, pos + 1)
            return value
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return value
        match = _NUMBER.match(text, pos)
        if not match:
            if text.startswith(("NaN", "Infinity", "-Infinity"), pos):
                _parse_constant(text[pos : pos + 2])
            self.fail("Expecting value")
        self.pos = match.end()
        number = match.group()
        if match.group(1) or match.group(2):
            return _parse_float(number)
        return _parse_int(number)

    def parse(self) -> object:
        stack: list[tuple[object, str | None]] = []  # (container, pending key)
        result: object = None
        self.skip()
        while True:
            text = self.text
            char = text[self.pos : self.pos + 1]
            if char in ("{", "["):
                self.pos += 1
                container: object = {} if char == "{" else []
                self.skip()
                close = "}" if char == "{" else "]"
                if text[self.pos : self.pos + 1] == close:
                    self.pos += 1
                    value = container
                else:
                    key = self._key() if char == "{" else None
                    stack.append((container, key))
                    continue
            else:
                value = self.scalar()
            # attach the value, then close as many containers as end here
            while True:
                if not stack:
                    result = value
                    self.skip()
                    if self.pos != len(text):
                        self.fail("Extra data")
                    return result
                container, key = stack[-1]
                if isinstance(container, dict):
                    container[key] = value
                else:
                    container.append(value)
                self.skip()
                char = text[self.pos : self.pos + 1]
                if char == ",":
                    self.pos += 1
                    self.skip()
                    if isinstance(container, dict):
                        stack[-1] = (container, self._key())
                    break
                close = "}" if isinstance(container, dict) else "]"
                if char != close:
                    self.fail("Expecting ',' delimiter")
                self.pos += 1
                stack.pop()
                value = container

    def _key(self) -> str:
        self.skip()
        if self.text[self.pos : self.pos + 1] != '"':
            self.fail("Expecting property name enclosed in double quotes")
        key, self.pos = scanstring(self.text, self.pos + 1)
        self.skip()
        if self.text[self.pos : self.pos + 1] != ":":
            self.fail("Expecting ':' delimiter")
        self.pos += 1
        self.skip()
        return key
