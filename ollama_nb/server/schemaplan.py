"""The value plan: a JSON schema compiled into small generator closures, and run.

Each schema is compiled once into a tree of closures (a "plan") and cached, because tutorials
send the same schema again and again and the server must stay fast. Field names pick the kind
of value (`name` -> a name, `age` -> an age, `首都` -> a capital); values the prompt offers
(:mod:`promptpools`) come first; patterns are met by :mod:`regexgen`; candidate values are
checked by the `jsonschema` library (:mod:`schemacheck`); a size and time budget
(:mod:`schemalimits`) bounds every reply.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from . import schemalimits
from .promptpools import (
    _CITIES,
    _CITIES_ZH,
    _COLORS,
    _COUNTRIES,
    _LANGUAGES,
    _NAMES,
    _NAMES_ZH,
    _analyse,
    _mentions,
)
from .regexgen import (
    _PATTERN_SAMPLES,
    _from_regex,
    _regex_min_length,
)
from .schemacheck import fits, pattern_ok

try:  # Python 3.11+
    import re._parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

_FORMAT_ERROR = 'invalid JSON schema: format must be "json" or a JSON schema object'
_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_MAX_PLANS = 512
_PLANS: dict[str, Callable[[_Ctx], Any]] = {}
_MISSING = object()

Gen = Callable[["_Ctx"], Any]


class _Ctx:
    """Per-reply state: the prompt, a seeded RNG and cursors into the prompt's pools.

    `labels` is the server's marks policy (marks.py) for this reply: whether canned words
    say they come from the practice server. It lives here rather than in the plan because
    plans are cached per schema and shared by practice and posing servers alike.
    """

    __slots__ = ("p", "rng", "cursor", "used", "budget", "labels")

    def __init__(self, prompt: str, seed: Any, labels: bool = True) -> None:
        self.labels = labels
        self.p = _analyse(prompt)
        digest = hashlib.blake2b(f"{seed}\x00{prompt}".encode(), digest_size=8).digest()
        self.rng = random.Random(int.from_bytes(digest, "big"))
        self.cursor: dict[Any, int] = {}
        self.used: set[int] = set()
        self.budget = schemalimits.Budget()

    def bump(self, key: Any) -> int:
        """How many times ``key`` was asked for before (0 the first time)."""
        n = self.cursor.get(key, 0)
        self.cursor[key] = n + 1
        return n

    def take(self, kind: str) -> str | None:
        """The next unused prompt value for a kind of field, if any."""
        pool = self.p.pools.get(kind, ())
        n = self.cursor.get(kind, 0)
        if n < len(pool):
            self.cursor[kind] = n + 1
            return pool[n]
        return None

    def left(self, kind: str) -> int:
        return len(self.p.pools.get(kind, ())) - self.cursor.get(kind, 0)

    def number(self, accept: Callable[[int | float], bool]) -> int | float | None:
        """The first prompt number not used yet that ``accept`` allows."""
        for i, n in enumerate(self.p.numbers):
            if i not in self.used and accept(n):
                self.used.add(i)
                return n
        return None


# -- what a field name asks for -----------------------------------------------------------------
_ZH_HINTS = {
    "首都": "capital", "人口": "population", "城市": "city", "国家": "country", "名字": "name",
    "姓名": "name", "名称": "name", "年龄": "age", "语言": "language", "颜色": "color",
    "描述": "description", "简介": "summary", "说明": "description", "年份": "year",
    "价格": "price", "温度": "temperature", "货币": "currency", "邮箱": "email", "电话": "phone",
    "日期": "date", "标题": "title", "作者": "author", "答案": "answer", "原因": "reason",
    "主题": "topic", "类别": "category", "分类": "category", "地址": "address", "网址": "url",
}  # fmt: skip


def _tokens(hint: str) -> frozenset[str]:
    hint = " ".join([hint or "", *(en for zh, en in _ZH_HINTS.items() if zh in (hint or ""))])
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", re.sub(r"[_\-\s]+", " ", hint or ""))
    low = [p.lower() for p in parts]
    return frozenset(low + [w[:-1] for w in low if len(w) > 3 and w.endswith("s")])


def _table(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """``kind: word word ...`` lines -> ((kind, words), ...), first match wins."""
    rows = (line.split(":") for line in text.strip().splitlines())
    return tuple((kind.strip(), frozenset(words.split())) for kind, words in rows)


# the kind of string a field name asks for (checked in this order: "email_address" is an email)
_STRING_KINDS = _table("""
    email: email mail
    url: url uri link website homepage href site
    phone: phone telephone mobile tel
    uuid: uuid guid
    date-time: timestamp datetime
    date: date birthday dob
    time: time
    capital: capital
    country: country nation
    city: city town location place destination origin hometown
    address: address street
    zip: zip zipcode postcode postal
    language: language lang
    color: color colour
    currency: currency
    unit: unit
    status: status state
    id: id identifier code sku isbn key
    person: name author person friend owner user username firstname lastname fullname first last
    person: artist character customer student teacher employee contact player
    title: title headline heading
    sentence: description summary explanation reason reasoning answer text content message detail
    sentence: comment note body bio review feedback response analysis conclusion instruction step
    sentence: advice fact story plot overview definition meaning question joke quote sentence
    topic: topic subject category genre keyword tag theme kind type label word
""")
_CANNED: dict[str, tuple[str, ...]] = {
    "color": _COLORS,
    "currency": ("USD", "EUR", "JPY", "CNY"),
    "unit": ("celsius", "meters", "kilograms"),
    "status": ("active", "pending", "done"),
    "language": _LANGUAGES,
    "country": tuple(c.title() for c in _COUNTRIES),
}
# kind: (low, high, decimals, plausible range for a number taken from the prompt)
_NUMBER_KINDS: dict[str, tuple[float, float, int, tuple[float, float]]] = {
    "age": (18, 65, 0, (0, 130)),
    "year": (1990, 2024, 0, (1000, 2100)),
    "month": (1, 12, 0, (1, 12)),
    "day": (1, 28, 0, (1, 31)),
    "hour": (0, 23, 0, (0, 23)),
    "minute": (0, 59, 0, (0, 59)),
    "rating": (1, 5, 1, (0, 10)),
    "score": (60, 100, 1, (-math.inf, math.inf)),
    "percent": (0, 100, 1, (0, 100)),
    "probability": (0, 1, 2, (0, 1)),
    "price": (5, 99, 2, (0, math.inf)),
    "temperature": (12, 30, 1, (-90, 60)),
    "latitude": (-60, 60, 4, (-90, 90)),
    "longitude": (-150, 150, 4, (-180, 180)),
    "population": (100_000, 10_000_000, 0, (0, math.inf)),
    "count": (1, 10, 0, (0, math.inf)),
    "result": (1, 100, 1, (-math.inf, math.inf)),
    "": (1, 100, 1, (-math.inf, math.inf)),
}
_NUMBER_WORDS_BY_KIND = _table("""
    result: answer result sum total difference product quotient solution
    age: age
    year: year
    month: month
    day: day
    hour: hour
    minute: minute
    rating: rating star stars rate
    score: score grade mark point
    percent: percent percentage pct
    probability: probability confidence likelihood certainty
    price: price cost amount salary budget fee
    temperature: temperature temp
    latitude: latitude lat
    longitude: longitude lon lng
    population: population
    count: count quantity number num qty total size
""")


def _kind(hint: str, table: tuple[tuple[str, frozenset[str]], ...], default: str) -> str:
    toks = _tokens(hint)
    return next((kind for kind, words in table if toks & words), default)


def _date(ctx: _Ctx) -> str:
    return f"2024-{ctx.rng.randint(1, 12):02d}-{ctx.rng.randint(1, 28):02d}"


def _clock(ctx: _Ctx) -> str:
    return f"{ctx.rng.randint(8, 18):02d}:{ctx.rng.choice((0, 15, 30, 45)):02d}:00Z"


def _slug(ctx: _Ctx) -> str:
    ascii_words = [k.lower() for k in ctx.p.keywords if k.isascii()]
    return "-".join(ascii_words[:2]) or _word(ctx)


def _word(ctx: _Ctx) -> str:
    """The filler word for values no prompt gives: "practice" says where a practice reply
    comes from; a posing server (pose.py) must not, so it says what any model might."""
    return "practice" if ctx.labels else "general"


def _canned(ctx: _Ctx, kind: str, options: tuple[str, ...]) -> str:
    """The prompt's own value for this kind if it has one left, else the canned options in
    turn from a seeded start, so a list of cities does not repeat itself."""
    found = ctx.take(kind)
    if found:
        return found
    start = ctx.cursor.setdefault(("start", kind), ctx.rng.randrange(len(options)))
    return options[(start + ctx.bump(("canned", kind))) % len(options)]


def _sentence(ctx: _Ctx) -> str:
    """A sentence about the prompt's topic; labelled ones say they are practice replies, the
    unlabelled ones (posing) read like any small model's. Both draw the RNG alike, so the
    values after a sentence are the same either way."""
    topic = ctx.p.topic
    if ctx.p.zh:
        if not ctx.labels:
            return f"关于“{topic}”的简短回答。"
        return f"关于“{topic}”的练习回答（练习服务器的示例内容）。"
    if not ctx.labels:
        return ctx.rng.choice(
            (
                f"A short reply about {topic}.",
                f"In short: a brief note on {topic}.",
                f"This reply covers {topic}.",
            )
        )
    return ctx.rng.choice(
        (
            f"A practice-server reply about {topic}.",
            f"Practice answer: a short note on {topic}.",
            f"This practice reply covers {topic}.",
        )
    )


def _title(ctx: _Ctx) -> str:
    """A title for the prompt's topic ("A Practice Guide to ..." unless posing)."""
    if ctx.p.zh:
        return f"{ctx.p.topic}：{'练习指南' if ctx.labels else '简明指南'}"
    guide = "A Practice Guide to " if ctx.labels else "A Short Guide to "
    return guide + " ".join(w[:1].upper() + w[1:] for w in ctx.p.topic.split())


def _email(ctx: _Ctx) -> str:
    n = ctx.bump("email")
    return "learner@example.com" if n == 0 else f"learner{n + 1}@example.com"


_STRING_MAKERS: dict[str, Callable[[_Ctx], str]] = {
    "email": _email,
    "url": lambda c: f"https://example.com/{_slug(c)}",
    "phone": lambda c: f"+1-555-01{c.rng.randint(0, 99):02d}",
    "uuid": lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4)),
    "date-time": lambda c: f"{_date(c)}T{_clock(c)}",
    "date": _date,
    "time": _clock,
    "duration": lambda c: f"PT{c.rng.randint(5, 90)}M",
    "hostname": lambda c: "example.com",
    "ipv4": lambda c: f"192.0.2.{c.rng.randint(1, 254)}",
    "ipv6": lambda c: f"2001:db8::{c.rng.randint(1, 0xFFFF):x}",
    "binary": _word,
    "byte": lambda c: "cHJhY3RpY2U=" if c.labels else "Z2VuZXJhbA==",  # base64 of the word
    "json-pointer": lambda c: f"/{_word(c)}",
    "regex": lambda c: "^[a-z]+$",
    "interface4": lambda c: "192.0.2.1/24",
    "network4": lambda c: "192.0.2.0/24",
    "interface6": lambda c: "2001:db8::1/64",
    "network6": lambda c: "2001:db8::/32",
    "name-email": lambda c: f"Learner <{_email(c)}>",
    "password": lambda c: f"{_word(c)}-password",
    "path": lambda c: f"notes/{_word(c)}.txt",
    "uri-template": lambda c: "https://example.com/{id}",
    "capital": lambda c: _canned(c, "capital", _CITIES_ZH if c.p.zh else _CITIES),
    "city": lambda c: _canned(c, "city", _CITIES_ZH if c.p.zh else _CITIES),
    "address": lambda c: f"{c.rng.randint(1, 99)} Example Street, Springfield",
    "zip": lambda c: f"{c.rng.randint(10000, 99999)}",
    "id": lambda c: f"id-{c.rng.randint(1000, 9999)}",
    "person": lambda c: _canned(c, "person", _NAMES_ZH if c.p.zh else _NAMES),
    "title": _title,
    "sentence": _sentence,
    "topic": lambda c: _canned(c, "topic", c.p.keywords or (_word(c),)),
    "text": lambda c: c.take("text") or c.p.topic,
}
for _k, _opts in _CANNED.items():
    _STRING_MAKERS[_k] = lambda c, k=_k, o=_opts: _canned(c, k, o)
_FORMATS = {
    "date-time": "date-time", "date": "date", "time": "time", "email": "email",
    "idn-email": "email", "uri": "url", "url": "url", "iri": "url", "uri-reference": "url",
    "iri-reference": "url", "uuid": "uuid", "duration": "duration", "hostname": "hostname",
    "idn-hostname": "hostname", "ipv4": "ipv4", "ipv6": "ipv6", "binary": "binary",
    "byte": "byte", "json-pointer": "json-pointer", "regex": "regex",
    "uri-template": "uri-template",
    # formats pydantic emits beyond JSON Schema's own
    "ipvanyaddress": "ipv4", "ipvanyinterface": "interface4", "ipv4interface": "interface4",
    "ipvanynetwork": "network4", "ipv4network": "network4", "ipv6interface": "interface6",
    "ipv6network": "network6", "name-email": "name-email", "password": "password",
    "path": "path", "multi-host-uri": "url",
}  # fmt: skip
_POOLED = frozenset(("person", "city", "capital", "country", "language", "color", "topic", "text"))


# -- compiling a schema into a plan -------------------------------------------------------------
def _plan(schema: dict) -> Gen:
    try:  # key order is part of the key: the reply lists fields in the schema's order
        key = json.dumps(schema)
    except (TypeError, ValueError) as exc:
        raise ValueError("invalid JSON schema: not JSON data") from exc
    plan = _PLANS.get(key)
    if plan is None:
        compiler = _Compiler(json.loads(key))  # a private copy: later edits by the caller are moot
        plan = compiler.compile(compiler.root, "", False, ())
        if plan is None:
            raise ValueError("invalid JSON schema: no value can satisfy it")
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _tag(fn: Gen, **attrs: Any) -> Gen:
    fn.__dict__.update(attrs)
    return fn


def _constant(value: Any) -> Gen:
    if isinstance(value, (list, dict)):
        return lambda ctx: copy.deepcopy(value)
    return lambda ctx: value


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "null" or ("const" in schema and schema["const"] is None)
    )


class _Compiler:
    """Turns one schema into closures. ``refs`` is the chain of ``$ref``s on the current path:
    after a definition repeats a few times (a recursive model) only the smallest valid value is
    built ("minimal" mode), so recursion always ends."""

    def __init__(self, root: Any) -> None:
        if not isinstance(root, dict):
            raise ValueError(_FORMAT_ERROR)
        self.root = root
        self.budget = 3000

    def lookup(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise ValueError(f"invalid JSON schema: unsupported $ref {ref!r}")
        node: Any = self.root
        for part in unquote(ref[1:]).split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ValueError(f"invalid JSON schema: cannot resolve $ref {ref!r}")
        return node

    def flatten(self, schema: Any, refs: tuple) -> tuple[Any, tuple]:
        """Resolve ``$ref`` and ``allOf`` at the top of ``schema`` into one plain schema."""
        while isinstance(schema, dict) and ("$ref" in schema or "allOf" in schema):
            if len(refs) > 40:
                raise ValueError("invalid JSON schema: $ref chain too deep")
            if "$ref" in schema:
                ref = schema["$ref"]
                target = self.lookup(ref)
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                refs = (*refs, ref)
                schema = _merge(rest, target)
            else:
                subs = schema["allOf"]
                if not isinstance(subs, list):
                    raise ValueError("invalid JSON schema: allOf must be a list")
                merged: Any = {k: v for k, v in schema.items() if k != "allOf"}
                for sub in subs:
                    sub, refs = self.flatten(sub, refs)
                    merged = _merge(merged, sub)
                schema = merged
        return schema, refs

    def compile(self, schema: Any, hint: str, minimal: bool, refs: tuple) -> Gen | None:
        """A generator for ``schema``, or None when no value can satisfy it."""
        self.budget -= 1
        schema, refs = self.flatten(schema, refs)
        if schema is True:
            schema = {}
        if schema is False:
            return None
        if not isinstance(schema, dict):
            raise ValueError("invalid JSON schema: a schema must be an object or a boolean")
        if refs:
            if len(refs) > 30:
                return None
            if len(refs) > 8 or max(refs.count(r) for r in set(refs)) > 2:
                minimal = True
        if self.budget < 0:
            minimal = True
        hint = hint or str(schema.get("title", ""))
        if "const" in schema:
            return _constant(schema["const"])
        if "enum" in schema:
            return self.enum(schema)
        default = schema.get("default")
        if (
            default is not None
            and (minimal or not isinstance(default, (list, dict)))
            and fits(default, schema, self.root)
        ):
            return _constant(default)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.union(schema, key, hint, minimal, refs)
        for typ in self.types(schema, minimal):
            gen = self.typed(typ, schema, hint, minimal, refs)
            if gen is not None:
                return gen
        return None

    def types(self, schema: dict, minimal: bool) -> list[str]:
        typ = schema.get("type")
        if typ is None:
            keys = schema.keys()
            if keys & {"properties", "required", "additionalProperties", "minProperties"}:
                return ["object"]
            if keys & {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}:
                return ["array"]
            if keys & {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}:
                return ["number"]
            return ["string"]
        found = [typ] if isinstance(typ, str) else typ
        if not isinstance(found, list) or not all(t in _TYPES for t in found):
            raise ValueError(f"invalid JSON schema: unknown type {typ!r}")
        if minimal:
            order = ("null", "boolean", "integer", "number", "string", "array", "object")
            return sorted(found, key=order.index)
        return sorted(found, key=lambda t: t == "null")

    def typed(self, typ: str, s: dict, hint: str, minimal: bool, refs: tuple) -> Gen | None:
        if typ == "null":
            return lambda ctx: None
        if typ == "boolean":
            if minimal:
                return lambda ctx: False
            return lambda ctx: ctx.p.flag if ctx.p.flag is not None else ctx.rng.random() < 0.5
        if typ in ("integer", "number"):
            return self.numeric(s, typ == "integer", hint)
        if typ == "string":
            return self.string(s, hint, minimal, refs)
        if typ == "array":
            return self.array(s, hint, minimal, refs)
        return self.object(s, minimal, refs)

    def enum(self, s: dict) -> Gen | None:
        values = s["enum"]
        if not isinstance(values, list) or not values:
            raise ValueError("invalid JSON schema: enum must be a non-empty list")
        if "type" in s:
            types = [s["type"]] if isinstance(s["type"], str) else s["type"]
            values = [v for v in values if any(_is_type(v, t) for t in types)]
        if not values:
            return None
        default = s.get("default")
        has_default = any(_same(default, v) for v in values)
        key = object()

        def gen(ctx: _Ctx) -> Any:
            """Values the prompt mentions come first, then the default, then any value."""
            n = ctx.bump(key)
            said = [v for v in values if isinstance(v, str) and _mentions(ctx.p, v)]
            if n < len(said):
                return said[n]
            if has_default and n == len(said):
                return copy.deepcopy(default)
            return copy.deepcopy(values[ctx.rng.randrange(len(values))])

        return gen

    def union(self, s: dict, key: str, hint: str, minimal: bool, refs: tuple) -> Gen | None:
        branches = s[key]
        if not isinstance(branches, list) or not branches:
            raise ValueError(f"invalid JSON schema: {key} must be a non-empty list")
        base = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
        order = sorted(range(len(branches)), key=lambda i: _is_null_schema(branches[i]) != minimal)
        gens: list[Gen] = []
        for i in order:
            branch = branches[i]
            merged = _merge(base, branch) if branch is not True else base
            gen = self.compile(merged, hint, minimal, refs)
            if gen is not None:
                gens.append(gen)
                if key == "anyOf":
                    return gen
        if not gens:
            return None
        root = self.root

        def one_of(ctx: _Ctx) -> Any:
            """A value must match exactly one branch: try the branches until one does."""
            first: Any = None
            for i, gen in enumerate(gens):
                value = gen(ctx)
                if i == 0:
                    first = value
                if sum(fits(value, b, root) for b in branches) == 1:
                    return value
            return first

        return one_of

    def numeric(self, s: dict, integer: bool, hint: str) -> Gen | None:
        bounds = _bounds(s)
        mult = s.get("multipleOf")
        if not (_is_type(mult, "number") and mult > 0):
            mult = None
        kind = _kind(hint, _NUMBER_WORDS_BY_KIND, "")
        low, high, decimals, (p_lo, p_hi) = _NUMBER_KINDS[kind]
        low, high = _usual_range(low, high, bounds)
        if integer:
            decimals = 0
        elif high - low < 1:
            decimals = max(decimals, 1 - math.floor(math.log10(max(high - low, 1e-12))))
        fallback = _place((low + high) / 2, bounds, mult, integer)
        if fallback is None:
            return None

        def accept(n: int | float) -> bool:
            return (
                p_lo <= n <= p_hi
                and (not integer or float(n).is_integer())
                and _number_ok(n, bounds, mult)
            )

        def gen(ctx: _Ctx) -> int | float:
            computed = ctx.p.computed if kind == "result" else None
            if computed is not None and accept(computed):
                return int(computed) if integer else computed
            n = ctx.number(accept)
            if n is not None:
                return int(n) if integer else n
            raw = low + (high - low) * ctx.rng.random()
            x = round(raw, decimals) if decimals else round(raw)
            placed = _place(x, bounds, mult, integer)
            return fallback if placed is None else placed

        return gen

    def string(self, s: dict, hint: str, minimal: bool, refs: tuple) -> Gen | None:
        lo = s.get("minLength", 0)
        hi = s.get("maxLength")
        lo = lo if isinstance(lo, int) else 0
        hi = hi if isinstance(hi, int) else None
        if hi is not None and hi < lo:
            return None
        if s.get("contentMediaType") == "application/json":  # pydantic's Json[...] fields
            inner = self.compile(s.get("contentSchema", {}), hint, minimal, refs)
            if inner is not None:
                return lambda ctx: json.dumps(inner(ctx), ensure_ascii=False)
        fmt = s.get("format")
        kind = (_FORMATS.get(fmt) if isinstance(fmt, str) else None) or _kind(
            hint, _STRING_KINDS, "text"
        )
        make = _STRING_MAKERS[kind]
        number = self.numeric({}, False, hint)
        if kind == "text" and number and _kind(hint, _NUMBER_WORDS_BY_KIND, ""):
            make = lambda ctx: str(number(ctx))  # noqa: E731 - a "price" held as a string
        pattern = s.get("pattern")
        regex = parsed = None
        if isinstance(pattern, str):
            try:
                regex, parsed = re.compile(pattern), _sre.parse(pattern)
            except (re.error, TypeError, ValueError, OverflowError, RecursionError):
                regex = None  # not a Python regex: leave it to luck rather than fail the request
            if regex is not None and _regex_min_length(parsed, 0) > schemalimits.MAX_LENGTH:
                raise schemalimits.too_big(
                    f"the pattern asks for more than {schemalimits.MAX_LENGTH} characters"
                )
        if regex is None:

            def plain(ctx: _Ctx) -> str:
                text = _fit_length(make(ctx), lo, hi)
                ctx.budget.text(len(text))
                return text

            return _tag(plain, pool=kind)

        def gen(ctx: _Ctx) -> str:
            text = _match_pattern(ctx, make(ctx), regex, parsed, lo, hi)
            ctx.budget.text(len(text))
            return text

        return gen

    def array(self, s: dict, hint: str, minimal: bool, refs: tuple) -> Gen | None:
        lo = s.get("minItems", 0)
        hi = s.get("maxItems")
        lo = lo if isinstance(lo, int) else 0
        hi = hi if isinstance(hi, int) else None
        if hi is not None and hi < lo:
            return None
        prefix = s.get("prefixItems") or []
        items = s.get("items", True)
        if isinstance(items, list):  # the older tuple form
            prefix, items = items, s.get("additionalItems", True)
        unique = s.get("uniqueItems") is True
        firsts: list[Gen] = []
        for i, sub in enumerate(prefix):
            if (hi is not None and i >= hi) or (minimal and i >= lo):
                break
            gen = self.compile(sub, hint, minimal, refs)
            if gen is None:
                if i < lo:
                    return None
                break
            firsts.append(gen)
        rest: Gen | None = None
        can_extend = len(firsts) == len(prefix) and items is not False
        if can_extend and (len(firsts) < lo or (not prefix and not minimal)):
            rest = self.compile(items, hint, minimal, refs)
        if rest is None and len(firsts) < lo:
            return None
        firsts_t = tuple(firsts)
        pool = getattr(rest, "pool", None)
        usual = 2 if getattr(rest, "obj", False) else 3
        flat_items = resolve(items, self.root) if unique and rest is not None else None
        vary = unique and not (isinstance(flat_items, dict) and "format" in flat_items)
        root = self.root

        def fresh(value: Any, out: list) -> Any:
            """``value`` if it is new, else a variant of it that still fits, else _MISSING."""
            for cand in (value, *(_variants(value, len(out)) if vary else ())):
                if not any(_same(cand, o) for o in out) and (
                    cand is value or fits(cand, items, root)
                ):
                    return cand
            return _MISSING

        def gen(ctx: _Ctx) -> list:
            out = [g(ctx) for g in firsts_t]
            if rest is None:
                return out
            if prefix or minimal:
                want = lo
            else:
                natural = min(ctx.left(pool), 5) if pool in _POOLED else 0
                want = natural or (ctx.p.count if ctx.p.count and ctx.p.count <= 5 else usual)
                want = max(lo, want if hi is None else min(hi, want))
            tries = 0
            while len(out) < want and tries < want + 20:
                ctx.budget.value()
                value = rest(ctx)
                tries += 1
                if unique:
                    value = fresh(value, out)
                if value is not _MISSING:
                    out.append(value)
            return out

        return gen

    def object(self, s: dict, minimal: bool, refs: tuple) -> Gen | None:
        props = s.get("properties") or {}
        required = s.get("required") or []
        if not isinstance(props, dict) or not isinstance(required, list):
            raise ValueError("invalid JSON schema: properties/required have the wrong shape")
        extra = s.get("additionalProperties", True)
        fields: list[tuple[str, Gen]] = []
        for name, sub in props.items():
            if minimal and name not in required:
                continue
            gen = self.compile(sub, name, minimal, refs)
            if gen is None:
                if name in required:
                    return None
                continue
            fields.append((name, gen))
        for name in required:
            if isinstance(name, str) and name not in props:
                gen = self.compile(extra, name, True, refs)
                if gen is None:
                    return None
                fields.append((name, gen))
        max_props = s.get("maxProperties")
        if isinstance(max_props, int):
            while len(fields) > max_props and any(n not in required for n, _ in fields):
                drop = max(i for i, (n, _) in enumerate(fields) if n not in required)
                fields.pop(drop)
        min_props = s.get("minProperties", 0)
        want_extra = max(0, (min_props if isinstance(min_props, int) else 0) - len(fields))
        if not props and isinstance(extra, dict) and not minimal:
            want_extra = max(want_extra, min(2, max_props) if isinstance(max_props, int) else 2)
        value_gen = (
            self.compile(extra, "", minimal, refs) if want_extra and extra is not False else None
        )
        fields_t = tuple(fields)
        taken = {n for n, _ in fields}

        def gen(ctx: _Ctx) -> dict:
            out = {name: g(ctx) for name, g in fields_t}
            if value_gen is not None:
                keys = [k for k in ctx.p.keywords if k not in taken]
                keys += [f"item{i}" for i in range(1, want_extra + 1) if f"item{i}" not in taken]
                for key in keys[:want_extra]:
                    out[key] = value_gen(ctx)
            return out

        return _tag(gen, obj=True)


# -- helpers: merging, numbers, strings, light validation ---------------------------------------
_TIGHTEN_UP = ("minimum", "minLength", "minItems", "minProperties")
_TIGHTEN_DOWN = ("maximum", "maxLength", "maxItems", "maxProperties")


def _merge(a: Any, b: Any) -> Any:
    """Both ``a`` and ``b`` must hold (allOf, or a $ref with sibling keywords). Plain keywords
    keep ``a``'s value, so siblings of a $ref (a field's default, its title) win."""
    if a is False or b is False:
        return False
    if a is True or not isinstance(a, dict):
        return b if b is not True else {}
    if b is True or not isinstance(b, dict):
        return a
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, dict) and isinstance(out[key], dict):
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out[key] = props
        elif key == "required" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key in _TIGHTEN_UP and _is_type(value, "number") and _is_type(out[key], "number"):
            out[key] = max(out[key], value)
        elif key in _TIGHTEN_DOWN and _is_type(value, "number") and _is_type(out[key], "number"):
            out[key] = min(out[key], value)
        elif key == "type":
            left = [out[key]] if isinstance(out[key], str) else list(out[key])
            right = [value] if isinstance(value, str) else list(value)
            both = [t for t in left if t in right or (t == "integer" and "number" in right)]
            both += [t for t in right if t == "integer" and "number" in left and t not in both]
            if not both:
                return False
            out[key] = both
        elif key == "enum" and isinstance(value, list) and isinstance(out[key], list):
            out[key] = [v for v in out[key] if any(_same(v, w) for w in value)]
            if not out[key]:
                return False
        elif key in ("anyOf", "oneOf") and isinstance(value, list) and isinstance(out[key], list):
            pairs = [_merge(x, y) for x in out[key] for y in value][:64]
            out[key] = [m for m in pairs if m is not False]
            if not out[key]:
                return False
    return out


def _bounds(s: dict) -> tuple[Any, bool, Any, bool]:
    """(low, low is exclusive, high, high is exclusive), for draft 4 and later keywords."""
    lo, hi = s.get("minimum"), s.get("maximum")
    lo = lo if _is_type(lo, "number") else None
    hi = hi if _is_type(hi, "number") else None
    lo_x = hi_x = False
    xlo, xhi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if xlo is True:
        lo_x = lo is not None
    elif _is_type(xlo, "number") and (lo is None or xlo >= lo):
        lo, lo_x = xlo, True
    if xhi is True:
        hi_x = hi is not None
    elif _is_type(xhi, "number") and (hi is None or xhi <= hi):
        hi, hi_x = xhi, True
    return lo, lo_x, hi, hi_x


def _usual_range(low: float, high: float, b: tuple) -> tuple[float, float]:
    """The part of a field's usual range (ages 18-65) that the schema's bounds allow, or the
    bounds themselves when the usual range barely meets them."""
    lo, _, hi, _ = b
    span = high - low
    if lo is not None and hi is not None:
        inner = min(high, hi) - max(low, lo)
        return (max(low, lo), min(high, hi)) if inner >= (hi - lo) / 4 else (lo, hi)
    if lo is not None and lo > low:
        return lo, (high if lo < high else lo + span)
    if hi is not None and hi < high:
        return (low if hi > low else hi - span), hi
    return low, high


def _is_multiple(x: float, mult: float) -> bool:
    """The same test jsonschema uses, so its float rounding agrees with ours."""
    if isinstance(mult, float):
        try:
            q = x / mult
            return int(q) == q
        except (OverflowError, ValueError):
            return False
    return x % mult == 0


def _number_ok(x: Any, b: tuple, mult: Any) -> bool:
    lo, lo_x, hi, hi_x = b
    if lo is not None and (x < lo or (lo_x and x == lo)):
        return False
    if hi is not None and (x > hi or (hi_x and x == hi)):
        return False
    return mult is None or not _is_type(mult, "number") or mult <= 0 or _is_multiple(x, mult)


def _place(x: float, b: tuple, mult: Any, integer: bool) -> int | float | None:
    """A number near ``x`` that meets the bounds, ``multipleOf`` and integrality, or None."""
    lo, lo_x, hi, hi_x = b
    if integer:
        ilo = None if lo is None else (math.floor(lo) + 1 if lo_x else math.ceil(lo))
        ihi = None if hi is None else (math.ceil(hi) - 1 if hi_x else math.floor(hi))
        if ilo is not None and ihi is not None and ilo > ihi:
            return None
        lo, lo_x, hi, hi_x = ilo, False, ihi, False
        b = (lo, False, hi, False)

    def ok(v: float) -> bool:
        return (not integer or float(v).is_integer()) and _number_ok(v, b, mult)

    if integer:
        x = round(x)
    if mult is None:
        if ok(x):
            return int(x) if integer else x
        if integer:
            v = lo if (lo is not None and x < lo) else hi
            return v if v is not None and ok(v) else None
        if lo is not None and hi is not None:
            mid = lo / 2 + hi / 2
            cands = [round(mid, d) for d in range(7)] + [mid, math.nextafter(lo, math.inf)]
        elif lo is not None:
            cands = [lo, lo + 1, lo + abs(lo), math.nextafter(lo, math.inf)]
        else:
            cands = [hi, hi - 1, hi - abs(hi), math.nextafter(hi, -math.inf)]
        return next((v for v in cands if ok(v)), None)
    k0 = round(x / mult)
    if lo is not None:
        k0 = max(k0, math.floor(lo / mult))
    if hi is not None:
        k0 = min(k0, math.ceil(hi / mult))
    for d in range(200):
        for k in (k0 + d, k0 - d):
            raw = k * mult
            for v in (raw, *(round(raw, n) for n in range(13))):
                if ok(v):
                    return int(v) if integer else v
    return None


def _variants(value: Any, n: int) -> tuple:
    """Near copies of a repeated value, for ``uniqueItems`` when the generator runs dry."""
    if isinstance(value, bool):
        return (not value,)
    if isinstance(value, (int, float)):
        return value + n + 1, value - n - 1, value * (n + 2), value + 0.5
    if isinstance(value, str):
        return f"{value} {n + 1}", f"{value}{n + 1}", f"{n + 1}{value}", value + "x" * (n + 1)
    return ()


def _fit_length(text: str, lo: int, hi: int | None) -> str:
    """Cut at ``maxLength``; reach ``minLength`` by repeating the text (reads better than x's)."""
    if hi is not None and len(text) > hi:
        text = text[:hi].rstrip() if len(text[:hi].rstrip()) >= lo else text[:hi]
    if len(text) < lo:
        unit = text + " " if text.strip() else "x"
        text = (unit * (lo // len(unit) + 1))[:lo]
        text = text[:-1] + "." if text.endswith(" ") else text
    return text


def _match_pattern(ctx: _Ctx, first: str, regex: Any, parsed: Any, lo: int, hi: Any) -> str:
    def ok(c: str) -> bool:
        return lo <= len(c) and (hi is None or len(c) <= hi) and pattern_ok(regex.pattern, c)

    p = ctx.p
    for cand in (first, _fit_length(first, lo, hi), *p.quoted, *p.proper, *_PATTERN_SAMPLES):
        if ok(cand):
            return cand
    made = ""
    for mode in (0, 1, 2, 1):
        made = _from_regex(parsed, ctx.rng, mode, {})
        for cand in (made, made + "x" * (lo - len(made)), "x" * (lo - len(made)) + made):
            if ok(cand):
                return cand
    return made


_PY_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}


def _is_type(value: Any, typ: Any) -> bool:
    """JSON Schema's type test: 2.0 is an integer, True is not a number."""
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    py = _PY_TYPES.get(typ) if isinstance(typ, str) else None
    return py is not None and isinstance(value, py)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if _is_type(a, "number") and _is_type(b, "number"):
        return a == b
    return type(a) is type(b) and a == b


def resolve(schema: Any, root: dict) -> Any:
    """Follow ``$ref``/``allOf`` and take the non-null branch of ``anyOf``/``oneOf``.

    Tool-call code uses this to learn what type a parameter really is (``Optional[int]`` is
    an ``anyOf``, an ``Enum`` a ``$ref``).
    """
    for _ in range(20):
        if not isinstance(schema, dict):
            return schema
        flat, _refs = _Compiler(root).flatten(schema, ())
        if not isinstance(flat, dict):
            return flat
        for key in ("anyOf", "oneOf"):
            branches = flat.get(key)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in flat.items() if k not in ("anyOf", "oneOf")}
                pick = next((b for b in branches if not _is_null_schema(b)), branches[0])
                flat = _merge(base, pick) if isinstance(pick, dict) else base
                break
        else:
            return flat
        schema = flat
    return schema
