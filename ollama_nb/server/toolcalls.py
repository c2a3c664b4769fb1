"""Tool calls for the practice server: which tool a chat request would call, with what
arguments, and the final answer once the learner sends the tool results back.

There is no model, so the choice is plain word overlap between the user's text and each tool's
name and description, and arguments come from the text itself (numbers in order, quoted strings,
capitalised names, the word after "in"/"for"/"of", enum values mentioned). Whatever the text
does not give is filled by :mod:`structured`, so arguments always validate against the tool's
``parameters`` schema and the notebook's ``available_functions[name](**arguments)`` runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .promptpools import _analyse
from .schemacheck import fits
from .structured import generate_value, resolve

__all__ = [
    "MARKER",
    "choose_tool",
    "choose_tools",
    "final_answer",
    "numeric_arguments",
    "subjects",
    "tool_for_operation",
]

MARKER = " (practice server answer built from the tool results)"
MARKER_ZH = "（练习服务器根据工具结果写出的回答）"

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:\.\d+)?")
_STOP = frozenset(
    """a an the is are was were be to of in on at for and or but it its this that with as by from
    what what's whats why how who when where which do does did i you we they me my your please
    can could would will tell give get show find me us there here one two number numbers value
    result""".split()
)
# Words a learner uses for what a tool does, mapped to the word its name would use.
_SYNONYMS = {
    **dict.fromkeys("plus sum add addition total added adding".split(), "add"),
    **dict.fromkeys("minus subtract subtraction difference subtracted".split(), "subtract"),
    **dict.fromkeys("times multiply multiplied product multiplication".split(), "multiply"),
    **dict.fromkeys("divide divided quotient division over".split(), "divide"),
    **dict.fromkeys(
        "weather temperature forecast rain sunny warm hot cold condition".split(), "weather"
    ),
    **dict.fromkeys("time clock hour".split(), "time"),
    **dict.fromkeys("search find look lookup".split(), "search"),
}
_ZH_SYNONYMS = {
    "加": "add", "和": "add", "减": "subtract", "乘": "multiply", "除": "divide",
    "天气": "weather", "气温": "weather", "温度": "weather", "时间": "time", "搜索": "search",
}  # fmt: skip
_OPERATORS = re.compile(r"\d\s*([+\-*/×÷])\s*\d")
_OPERATOR_WORDS = {"+": "add", "-": "subtract", "*": "multiply", "×": "multiply", "/": "divide"}
_OPERATOR_WORDS["÷"] = "divide"
_NUMBER_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())
}
_ZH_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九十")}
_ZH_DIGITS["两"] = 2
_PREPOSITIONS = frozenset("in for of at from to about called named".split())
_QUERY_NAMES = frozenset("query question text prompt message content input expression q".split())
_ZH_FILLER = re.compile(
    "天气|气温|温度|怎么样|什么|多少|如何|现在|今天|明天|查询|查一下|告诉我|帮我|一下|请问|请|"
    "等于|的|是|吗|呢|了|吧|啊|在|和|与|[^\u3400-\u4dbf\u4e00-\u9fff]+"
)
_TRUE = frozenset("yes true on enable enabled".split())
_FALSE = frozenset("no false off disable disabled".split())
_NOTHING = object()


# -- choosing a tool ----------------------------------------------------------------------------
def choose_tool(tools: list[dict], text: str, labelled: bool = True) -> tuple[str, dict] | None:
    """``(name, arguments)`` for the tool that best fits ``text``; None when no tool fits.
    Arguments no text gives are canned, and say "practice" only if ``labelled``.

    A question that shares no word with any tool gets no call, as a real model answers
    "Why is the sky blue?" itself even when a calculator is on offer.

    Malformed entries are skipped rather than rejected: the server validates requests, and a
    tutorial cell should still get a sensible call from the tools that make sense.
    """
    usable = _usable(tools)
    if not usable:
        return None
    text = text if isinstance(text, str) else ""
    words = _text_words(text)
    best = max(usable, key=lambda t: (_score(t, text, words), -usable.index(t)))
    if _score(best, text, words) <= 0:
        return None
    name, _description, params = best
    return name, _arguments(params, text, _vocabulary(best), labelled)


def _usable(tools: Any) -> list[tuple[str, str, dict]]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        fn = tool.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            continue
        params = fn.get("parameters")
        params = {"type": "object", "properties": {}} if params is None else params
        props = params.get("properties", {}) if isinstance(params, dict) else None
        if not isinstance(props, dict):
            continue
        description = fn.get("description")
        out.append((fn["name"], description if isinstance(description, str) else "", params))
    return out


def _stem(word: str) -> str:
    word = word.lower()
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
        word = word[:-1]
    return _SYNONYMS.get(word, word)


def _split_name(name: str) -> list[str]:
    """``add_two_numbers`` and ``addTwoNumbers`` both give add, two, numbers."""
    return re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", re.sub(r"[_\-.\s]+", " ", name))


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP}


def _text_words(text: str) -> set[str]:
    words = _words(text)
    words |= {_OPERATOR_WORDS[op] for op in _OPERATORS.findall(text)}
    words |= {meaning for zh, meaning in _ZH_SYNONYMS.items() if zh in text}
    return words


def _vocabulary(tool: tuple[str, str, dict]) -> set[str]:
    name, description, _params = tool
    return _words(" ".join(_split_name(name))) | _words(description)


def _score(tool: tuple[str, str, dict], text: str, words: set[str]) -> float:
    name, description, params = tool
    score = 2 * len(words & _words(" ".join(_split_name(name))))
    score += len(words & _words(description))
    score += 0.5 * len(words & _words(" ".join(map(str, params.get("properties", {})))))
    cjk = set(_CJK.findall(text))
    if cjk:
        score += len(cjk & set(_CJK.findall(name + description)))
    return score


# -- arguments ----------------------------------------------------------------------------------
class _Facts:
    """What the user's text offers, consumed in order as parameters take values."""

    def __init__(self, text: str, vocabulary: set[str]) -> None:
        prompt = _analyse(text)
        self.text = text
        self.lower = text.lower()
        self.words = {w.lower() for w in _WORD.findall(text)}
        numbers = list(prompt.numbers)
        if not numbers:
            numbers = [_NUMBER_WORDS[w.lower()] for w in _WORD.findall(text) if w.lower() in
                       _NUMBER_WORDS]  # fmt: skip
        if not numbers:
            numbers = [_ZH_DIGITS[ch] for ch in text if ch in _ZH_DIGITS]
        self.numbers = numbers
        self.strings = list(dict.fromkeys([*prompt.quoted, *_names(text, vocabulary)]))

    def number(self, accept: Any) -> Any:
        for i, n in enumerate(self.numbers):
            if accept(n):
                return self.numbers.pop(i)
        return _NOTHING

    def string(self, accept: Any) -> Any:
        for i, s in enumerate(self.strings):
            if accept(s):
                return self.strings.pop(i)
        return _NOTHING


def _names(text: str, vocabulary: set[str]) -> list[str]:
    """Capitalised names and the word after "in"/"for"/"of", in the order they appear; words
    that only echo the tool ("Get the weather") are left out."""
    if _CJK.search(text):
        return [run for run in _ZH_FILLER.split(text) if len(run) >= 2]
    found: list[tuple[int, str]] = []
    tokens = list(re.finditer(r"[A-Za-z][A-Za-z\-]*(?:'[A-Za-z]+)?|[.!?]", text))
    i = 0
    while i < len(tokens):
        tok = tokens[i].group()
        prev = tokens[i - 1].group().lower() if i else "."
        if tok[0].isupper() and tok != "I":
            j = i + 1
            while j < len(tokens) and tokens[j].group()[0].isupper() and tokens[j].group() != "I":
                j += 1
            words = [t.group() for t in tokens[i:j]]
            while words and _echo(words[0], vocabulary):  # "Convert USD" -> "USD"
                words.pop(0)
            if words:
                found.append((tokens[j - len(words)].start(), " ".join(words).removesuffix("'s")))
            i = j
            continue
        if prev in _PREPOSITIONS and tok.lower() not in _STOP and tok[0].isalpha():
            found.append((tokens[i].start(), tok.removesuffix("'s")))
        i += 1
    return [s for _, s in sorted(found) if not _echo(s, vocabulary)]


def _echo(phrase: str, vocabulary: set[str]) -> bool:
    words = [w for w in _WORD.findall(phrase) if w.lower() not in _STOP]
    return not words or all(_stem(w) in vocabulary for w in words)


def _arguments(params: dict, text: str, vocabulary: set[str], labelled: bool = True) -> dict:
    props = params.get("properties") or {}
    required = params.get("required")
    required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    try:
        filler = generate_value(params, text, labelled=labelled)
    except ValueError:  # a schema the generator cannot use: take what the text gives
        filler = {}
    filler = filler if isinstance(filler, dict) else {}
    facts = _Facts(text, vocabulary)
    args: dict = {}
    for name, raw in props.items():
        try:
            schema = resolve(raw, params)
        except (ValueError, TypeError):
            schema = {}
        value = _from_text(name, schema if isinstance(schema, dict) else {}, facts, params)
        if value is not _NOTHING and fits(value, raw, params):
            args[name] = value
        elif name in required and name in filler:
            args[name] = filler[name]
    for name in required:
        if name not in args and name in filler:
            args[name] = filler[name]
    if not fits(args, params):
        return {k: v for k, v in filler.items() if k in required} if filler else args
    return args


def _from_text(name: str, schema: dict, facts: _Facts, root: dict) -> Any:
    """A value for one parameter taken from the user's text, or _NOTHING."""
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        said = [v for v in enum if isinstance(v, str) and _mentioned(v, facts)]
        return said[0] if said else enum[0]
    typ = schema.get("type", "string")
    typ = next((t for t in typ if t != "null"), "null") if isinstance(typ, list) else typ
    if typ in ("integer", "number"):
        return facts.number(lambda n: fits(n, schema, root) and (typ == "number" or n == int(n)))
    if typ == "boolean":
        return True if facts.words & _TRUE else False if facts.words & _FALSE else _NOTHING
    if typ == "string" and "format" not in schema:
        if set(re.findall(r"[a-z]+", name.lower())) & _QUERY_NAMES:
            return facts.text.strip().rstrip("?!.？！。").strip() or _NOTHING
        return facts.string(lambda s: fits(s, schema, root))
    if typ == "array" and isinstance(schema.get("items"), dict):
        items = resolve(schema["items"], root)
        kind = items.get("type") if isinstance(items, dict) else None
        if kind in ("integer", "number"):
            found = [n for n in facts.numbers if fits(n, items, root)]
        elif kind == "string":
            found = [s for s in facts.strings if fits(s, items, root)]
        else:
            return _NOTHING
        return found if found and fits(found, schema, root) else _NOTHING
    return _NOTHING


def _mentioned(value: str, facts: _Facts) -> bool:
    low = value.lower()
    return low in facts.words or (not low.isascii() or " " in low) and low in facts.lower


# -- the answer after the tool results ----------------------------------------------------------
def final_answer(messages: list[dict], labelled: bool = True) -> str:
    """The assistant's reply once ``role: "tool"`` messages follow the last user message.

    It quotes each result with the tool that produced it (``tool_name``, else the matching
    earlier tool call) and ends with :data:`MARKER` (:data:`MARKER_ZH`), so it is never
    mistaken for a real model; without the marker when not `labelled` (posing, pose.py).
    Chinese when the last user message is Chinese.
    """
    msgs = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    role = [str(m.get("role", "")).lower() for m in msgs]
    last_user = max((i for i, r in enumerate(role) if r == "user"), default=-1)
    question = msgs[last_user].get("content") if last_user >= 0 else ""
    zh = bool(_CJK.search(question if isinstance(question, str) else ""))
    calls: list[str] = []
    results: list[tuple[str, str]] = []
    for msg, r in zip(msgs[last_user + 1 :], role[last_user + 1 :], strict=True):
        if r == "assistant":
            for call in msg.get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, dict) else None
                calls.append(fn.get("name", "") if isinstance(fn, dict) else "")
        elif r == "tool":
            name = msg.get("tool_name") or (
                calls[len(results)] if len(results) < len(calls) else ""
            )
            results.append(
                (str(name or ("工具" if zh else "the tool")), _content(msg.get("content")))
            )
    if not results:
        body = "还没有收到工具结果。" if zh else "I have no tool results to work with yet."
    elif len(results) == 1:
        name, content = results[0]
        body = (
            f"使用 {name} 得到的结果是：{content}。"
            if zh
            else f"Using {name}, the result is {content}."
        )
    else:
        lines = "\n".join(f"- {name}: {content}" for name, content in results)
        body = f"根据工具结果：\n{lines}" if zh else f"Here are the tool results:\n{lines}"
    if not labelled:
        return body
    return body + (MARKER_ZH if zh else MARKER)


def _content(content: Any) -> str:
    if not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False)
    content = " ".join(content.split()).rstrip(".。") or "(empty)"
    return content if len(content) <= 300 else content[:299] + "…"


# -- several calls, subjects and arithmetic steps (used by toolplan) ------------------------------
_GENERIC = frozenset(
    "current latest new now today info information data details get set fetch list".split()
)
_CLAUSE = re.compile(r"[,;，；]|\band then\b|\bthen\b|然后|再")
_JOIN = re.compile(r"^\s*(?:,\s*)?(?:and|or|&|和|与|及|、|,)?\s*$", re.IGNORECASE)


def _plain(word: str) -> str:
    """A word's stem without synonyms: "temperatures" -> "temperature"."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
        return word[:-1]
    return word


def _name_words(name: str) -> set[str]:
    words = {_plain(w) for w in _split_name(name)}
    return {w for w in words if w not in _STOP and w not in _GENERIC}


def choose_tools(
    tools: list[dict], text: str, labelled: bool = True
) -> list[tuple[str, dict, dict]]:
    """Every tool the question asks for, as ``(name, arguments, parameters)``, in the order
    the question mentions them (canned arguments labelled as :func:`choose_tool`'s).

    A word of the question that is a word of a tool's name picks that tool ("temperature"
    picks ``get_temperature`` even when ``get_weather`` is offered); a word that names no tool
    picks through synonyms ("plus" picks ``add``); with neither, the best overall match (name,
    description and parameter names) is called, as :func:`choose_tool` does.
    """
    usable = _usable(tools)
    text = text if isinstance(text, str) else ""
    if not usable:
        return []
    words = _text_words(text)
    scores = [_score(t, text, words) for t in usable]
    names = [_name_words(t[0]) for t in usable]
    canon = [{_stem(w) for w in n} for n in names]
    picked: dict[int, int] = {}  # tool index -> position of the word that picked it

    def claim(hits: list[int], position: int) -> None:
        if hits:
            best = max(scores[i] for i in hits)
            for i in hits:
                if scores[i] == best:
                    picked.setdefault(i, position)

    found = [
        (m.start(), _plain(m.group()))
        for m in _WORD.finditer(text)
        if m.group().lower() not in _STOP and m.group().lower() not in _GENERIC
    ]
    unclaimed = []
    for position, word in found:
        hits = [i for i, n in enumerate(names) if word in n]
        claim(hits, position) if hits else unclaimed.append((position, word))
    unclaimed += [(text.find(zh), meaning) for zh, meaning in _ZH_SYNONYMS.items() if zh in text]
    unclaimed += [(m.start(), _OPERATOR_WORDS[m.group(1)]) for m in _OPERATORS.finditer(text)]
    for position, word in unclaimed:
        meaning = _stem(word)
        claim([i for i, c in enumerate(canon) if meaning in c], position)
    if not picked:
        single = choose_tool(tools, text, labelled)
        if single is None:
            return []
        params = next(t[2] for t in usable if t[0] == single[0])
        return [(single[0], single[1], params)]
    order = sorted(picked, key=lambda i: (picked[i], i))
    out = []
    for i in order:
        name, _description, params = usable[i]
        clause = _clause_for(text, names[i] | canon[i]) if len(order) > 1 else text
        arguments = _arguments(params, clause, _vocabulary(usable[i]), labelled)
        out.append((name, arguments, params))
    return out


def _clause_for(text: str, words: set[str]) -> str:
    """The part of a many-part question that is about one tool, when it has its own numbers."""
    parts = _CLAUSE.split(text)
    for part in parts:
        said = {_plain(w) for w in _WORD.findall(part)} | {_stem(w) for w in _WORD.findall(part)}
        said |= {meaning for zh, meaning in _ZH_SYNONYMS.items() if zh in part}
        if said & words and re.search(r"\d", part):
            return part
    return text


def subjects(tools: list[dict], text: str) -> list[str]:
    """The names a question asks about together: ["New York", "London"] for "... in New York
    and London"; one name (or none) otherwise."""
    if not isinstance(text, str):
        return []
    vocabulary: set[str] = set()
    for tool in _usable(tools):
        vocabulary |= _vocabulary(tool)
    names = _names(text, vocabulary)
    out: list[str] = []
    end = -1
    for name in names:
        at = text.find(name, max(end, 0))
        if at < 0:
            break
        if out and not _JOIN.match(text[end:at]):
            break
        out.append(name)
        end = at + len(name)
    return out


def tool_for_operation(tools: list[dict], operation: str) -> tuple[str, dict] | None:
    """The tool that does one arithmetic operation ("add", "multiply", ...), if offered."""
    for name, _description, params in _usable(tools):
        if operation in {_stem(w) for w in _split_name(name)}:
            return name, params
    for name, description, params in _usable(tools):
        if operation in _words(description):
            return name, params
    return None


def numeric_arguments(params: dict, numbers: list) -> dict | None:
    """The tool's first numeric parameters filled with `numbers`, in order; None if they
    do not fit its schema."""
    props = params.get("properties") or {}
    args: dict = {}
    queue = list(numbers)
    for name, raw in props.items():
        if not queue:
            break
        schema = resolve(raw, params) if isinstance(raw, dict) else {}
        typ = schema.get("type") if isinstance(schema, dict) else None
        typ = next((t for t in typ if t != "null"), None) if isinstance(typ, list) else typ
        value = queue[0]
        if typ == "integer" and value == int(value):
            args[name] = int(value)
        elif typ == "number":
            args[name] = value
        elif typ == "string" or typ is None:
            args[name] = str(value)
        else:
            continue
        queue.pop(0)
    return args if not queue and fits(args, params) else None
