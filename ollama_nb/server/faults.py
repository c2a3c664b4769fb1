"""Opt-in fault injection for the practice server (``--faults SPEC``, ``PracticeServer(faults=)``).

Real servers are slow, busy, and drop connections; notebooks about errors, retries and timeouts
need that to happen on demand and the same way every run. A SPEC is ``;``-separated rules, each
optionally limited to endpoints with ``@`` (the path after ``/api/``)::

    latency=200ms;error=503:0.3@chat,generate;cut=5@chat;pull-speed=2MB/s;seed=7

The plan only answers questions (how long to wait, whether this request fails, when to cut a
stream); the server's routes act on the answers.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

__all__ = ["ENDPOINTS", "STREAMING", "FaultPlan"]

ENDPOINTS = (
    "chat",
    "generate",
    "embed",
    "embeddings",
    "pull",
    "push",
    "create",
    "show",
    "tags",
    "ps",
    "copy",
    "delete",
    "version",
    "blobs",
)
STREAMING = ("chat", "generate", "pull", "push", "create")

_ERROR_TEXT = {
    500: "practice server fault: internal error (injected)",
    503: "server busy, please try again (injected)",
    429: "too many requests (injected)",
}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s)", re.IGNORECASE)
_SPEED = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB)(?:/s)?", re.IGNORECASE)
_INT = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9}
_EXAMPLES = {
    "latency": "latency=200ms or latency=1s@chat",
    "error": "error=503@chat or error=500:0.3",
    "cut": "cut=5@chat",
    "stall": "stall=3@generate",
    "pull-speed": "pull-speed=2MB/s",
    "seed": "seed=7",
}


def error_text(code: int) -> str:
    """The ``{"error": ...}`` text of an injected error: says plainly that it was injected."""
    return _ERROR_TEXT.get(code, f"practice server fault: HTTP {code} (injected)")


@dataclass(frozen=True)
class _Rule:
    kind: str  # latency, error, cut, stall, pull-speed, seed
    value: float  # seconds, status code, chunk count, bytes per second, seed
    share: float = 1.0  # error only: the fraction of requests that fail
    endpoints: tuple[str, ...] = ()  # empty: every endpoint
    text: str = ""  # the rule as written, for messages

    def applies(self, endpoint: str) -> bool:
        return not self.endpoints or endpoint in self.endpoints


def _endpoint(name: str) -> str:
    """``"/api/blobs/sha256:..."`` or ``"chat"`` -> the endpoint name used in rules."""
    name = name.strip().strip("/")
    if name.startswith("api/"):
        name = name[4:]
    return name.split("/", 1)[0].lower()


def _fmt_seconds(s: float) -> str:
    return f"{s * 1000:g} ms" if s < 1 else f"{s:g} s"


def _fmt_speed(bps: float) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if bps >= size:
            return f"{bps / size:g} {unit}/s"
    return f"{bps:g} B/s"


def _chunks(n: float) -> str:
    return "1 chunk" if n == 1 else f"{int(n)} chunks"


def _joined(endpoints: tuple[str, ...]) -> str:
    names = list(endpoints)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _where(rule: _Rule, noun: str) -> str:
    return f"{_joined(rule.endpoints) if rule.endpoints else 'all'} {noun}"


class FaultPlan:
    """The parsed ``--faults`` SPEC: what to slow down, fail, cut or stall, and where.

    Where several rules of one kind match an endpoint, a rule scoped with ``@`` beats an
    unscoped one, and otherwise the later rule wins. Error rules are tried in order and the
    first that fires decides. Error shares draw from one random sequence per endpoint, seeded
    from ``seed`` (default 0), so a run is repeatable whatever other traffic there is.
    """

    def __init__(self, rules: tuple[_Rule, ...] = (), seed: int = 0, spec: str = "") -> None:
        self._rules = rules
        self.seed = seed
        self.spec = spec
        self._lock = threading.Lock()
        self._rngs: dict[str, random.Random] = {}

    @classmethod
    def parse(cls, spec: str | FaultPlan | None) -> FaultPlan:
        """Parse a SPEC string; ``None`` or ``""`` give an empty plan, a plan is returned as is.

        Raises ``ValueError`` naming the bad rule and showing an example of a good one.
        """
        if isinstance(spec, FaultPlan):
            return spec
        if spec is None:
            return cls()
        if not isinstance(spec, str):
            raise ValueError(f"faults must be a SPEC string, got {type(spec).__name__}")
        rules: list[_Rule] = []
        seed = 0
        for text in (part.strip() for part in spec.split(";")):
            if not text:
                continue
            rule = _parse_rule(text)
            if rule.kind == "seed":
                seed = int(rule.value)
            rules.append(rule)
        return cls(tuple(rules), seed, spec.strip())

    def _best(self, kind: str, endpoint: str) -> _Rule | None:
        endpoint = _endpoint(endpoint)
        best: tuple[bool, int] | None = None
        found = None
        for index, rule in enumerate(self._rules):
            if rule.kind == kind and rule.applies(endpoint):
                key = (bool(rule.endpoints), index)
                if best is None or key > best:
                    best, found = key, rule
        return found

    def latency(self, endpoint: str) -> float:
        """Seconds to wait before answering a request to ``endpoint`` (0.0 for none)."""
        rule = self._best("latency", endpoint)
        return rule.value if rule else 0.0

    def error(self, endpoint: str) -> tuple[int, str] | None:
        """Decide whether this request to ``endpoint`` fails: ``(status, error text)`` or None.

        Call it once per request: shares below 1 consume the endpoint's random sequence.
        """
        endpoint = _endpoint(endpoint)
        for rule in self._rules:
            if rule.kind != "error" or not rule.applies(endpoint):
                continue
            if rule.share < 1:
                with self._lock:
                    rng = self._rngs.get(endpoint)
                    if rng is None:
                        rng = self._rngs[endpoint] = random.Random(f"{self.seed}:{endpoint}")
                    fires = rng.random() < rule.share
                if not fires:
                    continue
            code = int(rule.value)
            return code, error_text(code)
        return None

    def cut_after(self, endpoint: str) -> int | None:
        """Drop the connection of a stream from ``endpoint`` after this many chunks."""
        rule = self._best("cut", endpoint)
        return int(rule.value) if rule else None

    def stall_after(self, endpoint: str) -> int | None:
        """Stop sending (connection kept open) after this many chunks of a stream."""
        rule = self._best("stall", endpoint)
        return int(rule.value) if rule else None

    def pull_bytes_per_second(self) -> float | None:
        """Simulated pull download speed in bytes per second; None means instant."""
        rule = self._best("pull-speed", "pull")
        return rule.value if rule else None

    def __bool__(self) -> bool:
        """True when the plan injects any fault (a ``seed`` rule alone injects none)."""
        return any(rule.kind != "seed" for rule in self._rules)

    def __repr__(self) -> str:
        return f"FaultPlan.parse({self.spec!r})"

    def describe(self) -> str:
        """One plain-English line per rule, for the ``--faults`` startup output."""
        lines = []
        for rule in self._rules:
            if rule.kind == "latency":
                line = (
                    f"wait {_fmt_seconds(rule.value)} before answering {_where(rule, 'requests')}"
                )
            elif rule.kind == "error":
                code = int(rule.value)
                scope = _joined(rule.endpoints) if rule.endpoints else ""
                if rule.share >= 1:
                    target = f"every {scope} request" if scope else "every request"
                else:
                    target = f"{rule.share * 100:g}% of {scope or 'all'} requests"
                line = f'fail {target} with HTTP {code} "{error_text(code)}"'
            elif rule.kind == "cut":
                line = (
                    f"drop the connection after {_chunks(rule.value)} of "
                    f"{_where(rule, 'streams')}, without the final chunk"
                )
            elif rule.kind == "stall":
                line = (
                    f"stop sending after {_chunks(rule.value)} of "
                    f"{_where(rule, 'streams')}, keeping the connection open"
                )
            elif rule.kind == "pull-speed":
                line = f"pull models at {_fmt_speed(rule.value)}"
            else:
                line = f"random error shares use seed {int(rule.value)}"
            lines.append(f"{rule.text}: {line}")
        return "\n".join(lines) if lines else "no faults"


def _parse_rule(text: str) -> _Rule:
    """Parse one ``key=value[@endpoint,...]`` rule, raising ValueError that quotes it."""

    def bad(why: str, kind: str | None = None) -> ValueError:
        example = f" (e.g. {_EXAMPLES[kind]})" if kind in _EXAMPLES else ""
        return ValueError(f"bad fault rule {text!r}: {why}{example}")

    key, eq, rest = text.partition("=")
    kind = key.strip().lower()
    if not eq:
        raise bad("expected key=value, with key one of " + ", ".join(_EXAMPLES))
    if kind not in _EXAMPLES:
        raise bad(f"unknown fault {key.strip()!r}; known: " + ", ".join(_EXAMPLES))
    value, at, scope = rest.partition("@")
    value = value.strip()
    endpoints: tuple[str, ...] = ()
    if at:
        if kind in ("seed", "pull-speed"):
            raise bad(f"{kind} applies to the whole server and takes no @endpoints", kind)
        endpoints = tuple(e.strip().lower() for e in scope.split(","))
        unknown = [e for e in endpoints if e not in ENDPOINTS]
        if unknown or not endpoints:
            raise bad(
                f"unknown endpoint {', '.join(unknown) or '(none)'!r}; known: "
                + ", ".join(ENDPOINTS),
                kind,
            )
        if kind in ("cut", "stall"):
            still = [e for e in endpoints if e not in STREAMING]
            if still:
                raise bad(
                    f"{kind} needs a streaming endpoint ({', '.join(STREAMING)}), "
                    f"not {', '.join(still)}",
                    kind,
                )

    if kind == "latency":
        m = _DURATION.fullmatch(value)
        if not m:
            raise bad("latency needs a duration with a unit, ms or s", kind)
        seconds = float(m[1]) / (1000 if m[2].lower() == "ms" else 1)
        return _Rule(kind, seconds, endpoints=endpoints, text=text)
    if kind == "error":
        code_text, colon, share_text = value.partition(":")
        if not _INT.fullmatch(code_text.strip()) or not 400 <= int(code_text) <= 599:
            raise bad("error needs an HTTP status code from 400 to 599", kind)
        share = 1.0
        if colon:
            share_text = share_text.strip()
            percent = share_text.endswith("%")
            number = share_text.removesuffix("%").strip()
            share = float(number) / (100 if percent else 1) if _NUMBER.fullmatch(number) else -1
            if not 0 < share <= 1:
                raise bad("the share after ':' must be above 0 and at most 1 (or 100%)", kind)
        return _Rule(kind, int(code_text), share, endpoints, text)
    if kind in ("cut", "stall", "seed"):
        if not _INT.fullmatch(value):
            what = "a seed" if kind == "seed" else "a number of chunks"
            raise bad(f"{kind} needs {what}: a whole number, 0 or more", kind)
        return _Rule(kind, int(value), endpoints=endpoints, text=text)
    m = _SPEED.fullmatch(value)  # pull-speed
    if not m or float(m[1]) <= 0:
        raise bad("pull-speed needs a speed above 0 in B/s, KB/s, MB/s or GB/s", kind)
    return _Rule(kind, float(m[1]) * _SIZE_UNITS[m[2].lower()], text=text)
