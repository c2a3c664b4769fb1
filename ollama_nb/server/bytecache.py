"""A least-recently-used cache bounded by the bytes of its keys, not by their count.

The server caches work keyed by learner text (a prompt's analysis, a schema's validator, a
regex). `functools.lru_cache(maxsize=256)` bounds the count only: 256 prompts of 10 MB each
would keep 2.5 GB. Here every entry is charged the size of its text arguments (results are
of the same order), texts over `max_entry` bytes are not kept at all, and the oldest entries
go once the total passes `max_bytes`.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _cost(args: tuple) -> int:
    """Bytes charged for an entry: its text arguments (UTF-8 at most 4 bytes a character)."""
    return 64 + sum(len(a) * 4 if isinstance(a, str) else 8 for a in args)


def lru_by_bytes(max_bytes: int, max_entry: int | None = None) -> Callable[[F], F]:
    """Decorate a function of hashable positional arguments with a byte-bounded LRU cache."""
    limit_entry = max_entry if max_entry is not None else max_bytes // 16

    def decorate(function: F) -> F:
        entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        lock = threading.Lock()
        total = 0

        @functools.wraps(function)
        def cached(*args: Any) -> Any:
            nonlocal total
            with lock:
                hit = entries.get(args)
                if hit is not None:
                    entries.move_to_end(args)
                    return hit[0]
            value = function(*args)
            cost = _cost(args)
            if cost > limit_entry:
                return value  # too big to keep: computing it again is cheaper than the memory
            with lock:
                if args not in entries:
                    entries[args] = (value, cost)
                    total += cost
                while total > max_bytes and entries:
                    _, (_, dropped) = entries.popitem(last=False)
                    total -= dropped
            return value

        def cache_bytes() -> int:
            return total

        def cache_clear() -> None:
            nonlocal total
            with lock:
                entries.clear()
                total = 0

        cached.cache_bytes = cache_bytes  # type: ignore[attr-defined]
        cached.cache_clear = cache_clear  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return decorate
