"""Whether a value fits a JSON schema, checked by the `jsonschema` library.

The practice server checks candidate values (defaults, values taken from the prompt, tool
arguments) against the learner's schema. A full, tested validator does that better than a
hand-written one; this module only adds what a server facing learner input needs:

* learner-supplied regex `pattern`s never run long: text is checked only up to a length that
  the pattern's shape makes safe (nested or many unbounded repeats can backtrack
  exponentially), and longer text simply does not fit;
* a schema the validator cannot read (a learner's typo) answers "does not fit" rather than
  raising.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from .bytecache import lru_by_bytes

try:  # Python 3.11+
    import re._parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]


def _import_jsonschema_quickly() -> None:
    """Import jsonschema without the optional `rfc3987_syntax` (Jupyter installs it), which
    compiles 38 grammars at import: 2.8 s of every practice-server start. This server never
    asserts `format` keywords (no FormatChecker), so it loses nothing; the block is lifted
    at once, so later imports of `rfc3987_syntax` in the process work as usual."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes it ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


_import_jsonschema_quickly()

from jsonschema import Draft202012Validator, validators  # noqa: E402
from jsonschema.exceptions import ValidationError  # noqa: E402

__all__ = ["fits", "pattern_ok", "safe_length"]

_UNBOUNDED = 20  # a repeat allowing more than this many counts as unbounded
_SINGLE = (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN)
_REPEATS = tuple(
    op for op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) if op
)


@lru_by_bytes(8 << 20, max_entry=64 << 10)  # learner patterns: bounded by bytes
def _compiled(pattern: str) -> tuple[re.Pattern | None, int]:
    """The compiled pattern (None if invalid) and the longest text safe to search with it."""
    try:
        regex = re.compile(pattern)
        parsed = _sre.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None, 0
    repeats, nested = _shape(parsed, 0)
    # unbounded repeats one after another cost about len**repeats steps, repeats inside
    # repeats (or alternatives inside a repeat) about 2**len: keep either near a million
    limit = 4096 if repeats <= 1 else max(4, min(4096, int(10 ** (6 / repeats))))
    if nested:
        limit = min(limit, 20)
    return regex, limit


def _shape(parsed: Any, depth: int) -> tuple[int, bool]:
    """(unbounded repeats, whether a repeat holds more than one plain character: a group,
    alternatives or another repeat, which can backtrack exponentially) of a parsed regex."""
    if depth > 50:
        return 99, True
    count, nested = 0, False
    for op, av in parsed:
        if op in _REPEATS:
            low, high, body = av
            inner, inner_nested = _shape(body, depth + 1)
            unbounded = high is _sre.MAXREPEAT or high > _UNBOUNDED
            simple = len(body) == 1 and body[0][0] in _SINGLE
            count += inner + (1 if unbounded else 0)
            nested = nested or inner_nested or (unbounded and not simple)
        elif op is _sre.SUBPATTERN:
            inner, inner_nested = _shape(av[-1], depth + 1)
            count, nested = count + inner, nested or inner_nested
        elif op is _sre.BRANCH:
            for branch in av[1]:
                inner, inner_nested = _shape(branch, depth + 1)
                count, nested = count + inner, nested or inner_nested
        elif op in (_sre.GROUPREF, getattr(_sre, "GROUPREF_EXISTS", None)):
            nested = True  # backreferences: treat as dangerous
    return count, nested


def safe_length(pattern: str) -> int:
    """The longest text :func:`pattern_ok` will search with `pattern` (0: invalid pattern)."""
    return _compiled(pattern)[1]


def pattern_ok(pattern: str, text: str) -> bool:
    """`re.search(pattern, text)`, bounded: text longer than is safe for the pattern does
    not fit, and an invalid pattern fits nothing."""
    regex, limit = _compiled(pattern)
    if regex is None or len(text) > limit:
        return False
    return regex.search(text) is not None


def _pattern(validator: Any, pattern: Any, instance: Any, schema: dict):
    if isinstance(instance, str) and isinstance(pattern, str) and not pattern_ok(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r} (or is too long to check)")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: dict):
    if not isinstance(instance, dict) or not isinstance(patterns, dict):
        return
    for pattern, sub in patterns.items():
        for key, value in instance.items():
            if isinstance(pattern, str) and pattern_ok(pattern, key):
                yield from validator.descend(value, sub, path=key, schema_path=pattern)


_Validator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties},
)


@lru_by_bytes(32 << 20, max_entry=4 << 20)  # schema texts: bounded by bytes
def _validator(text: str) -> Any:
    return _Validator(json.loads(text))


def fits(value: Any, schema: Any, root: dict | None = None) -> bool:
    """Whether `value` is valid against `schema`; `$ref`s resolve in `root` (default: the
    schema itself), as a sub-schema of a pydantic model refers to the model's `$defs`."""
    if schema is True or schema == {}:
        return True
    if not isinstance(schema, dict):
        return schema is not False
    if root is not None and root is not schema:
        schema = {
            **{k: root[k] for k in ("$defs", "definitions") if isinstance(root.get(k), dict)},
            **schema,
        }
    try:
        text = json.dumps(schema, sort_keys=True)
        return bool(_validator(text).is_valid(value))
    except (TypeError, ValueError, RecursionError):
        return False
    except Exception:  # noqa: BLE001 - unreadable schema keywords (a learner's typo)
        return False
