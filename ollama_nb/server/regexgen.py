"""Strings that match a learner's regex `pattern`, made from the parsed pattern.

Structured replies must fit `"pattern"` keywords. Rather than searching the learner's text
with an arbitrary (possibly catastrophic) regex, the practice server builds a string the
pattern describes, piece by piece; :func:`regex_min_length` refuses patterns that ask for
more text than a reply may hold.
"""

from __future__ import annotations

import random
from typing import Any

try:  # Python 3.11+
    import re._parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

_REPEATS = tuple(
    op for op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) if op
)
_RANGES = tuple(op for op in (_sre.RANGE, getattr(_sre, "RANGE_UNI_IGNORE", None)) if op)
_PATTERN_SAMPLES = ("example", "ABC-123", "abc123", "2024-01-01", "learner@example.com", "A1", "1")


def _regex_min_length(parsed: Any, depth: int) -> int:
    """The fewest characters a parsed regex matches (capped), to refuse a{100000000}."""
    if depth > 50:
        return 0
    total = 0
    for op, av in parsed:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            total += 1
        elif op is _sre.BRANCH:
            total += min((_regex_min_length(b, depth + 1) for b in av[1]), default=0)
        elif op is _sre.SUBPATTERN:
            total += _regex_min_length(av[-1], depth + 1)
        elif op in _REPEATS:
            total += av[0] * _regex_min_length(av[2], depth + 1)
        if total > 10**9:
            return total
    return total


def _from_regex(parsed: Any, rng: random.Random, mode: int, groups: dict) -> str:
    """A string the parsed regex should match: mode 0 shortest, 1 varied, 2 longer repeats."""
    out: list[str] = []
    for op, av in parsed:
        if op is _sre.LITERAL:
            out.append(chr(av))
        elif op is _sre.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op is _sre.ANY:
            out.append("x")
        elif op is _sre.IN:
            out.append(_from_set(av, rng))
        elif op is _sre.BRANCH:
            branch = av[1][0] if mode == 0 else rng.choice(av[1])
            out.append(_from_regex(branch, rng, mode, groups))
        elif op is _sre.SUBPATTERN:
            text = _from_regex(av[-1], rng, mode, groups)
            if av[0]:
                groups[av[0]] = text
            out.append(text)
        elif op in _REPEATS:
            low, high, sub = av
            n = (low, low + rng.randint(0, 2), low + 6)[mode]
            out.extend(_from_regex(sub, rng, mode, groups) for _ in range(min(n, high, low + 50)))
        elif op is _sre.GROUPREF:
            out.append(groups.get(av, ""))
        elif op is _sre.GROUPREF_EXISTS:
            gid, yes, no = av
            out.append(_from_regex(yes if gid in groups else (no or []), rng, mode, groups))
        elif op is getattr(_sre, "ATOMIC_GROUP", object()):
            out.append(_from_regex(av, rng, mode, groups))
    return "".join(out)


def _from_set(items: list, rng: random.Random) -> str:
    if items and items[0][0] is _sre.NEGATE:
        return next((c for c in "xa0A_-. ~" if not _in_set(c, items[1:])), "~")
    op, av = rng.choice(items)
    if op is _sre.LITERAL:
        return chr(av)
    if op in _RANGES:
        return chr(av[0] + rng.randint(0, min(av[1] - av[0], 25)))
    if op is _sre.CATEGORY:
        name = str(av)
        if name == "CATEGORY_DIGIT":
            return str(rng.randint(0, 9))
        if name == "CATEGORY_WORD":
            return rng.choice("abcdefghijklmnopqrstuvwxyz")
        return {"CATEGORY_SPACE": " ", "CATEGORY_NOT_WORD": "-"}.get(name, "a")
    return "a"


def _in_set(ch: str, items: list) -> bool:
    for op, av in items:
        if op is _sre.LITERAL and chr(av) == ch:
            return True
        if op in _RANGES and av[0] <= ord(ch) <= av[1]:
            return True
        if op is _sre.CATEGORY:
            name = str(av)
            test = {
                "DIGIT": ch.isdigit(),
                "SPACE": ch.isspace(),
                "WORD": ch.isalnum() or ch == "_",
            }
            for key, value in test.items():
                if name == f"CATEGORY_{key}" and value:
                    return True
                if name == f"CATEGORY_NOT_{key}" and not value:
                    return True
    return False
