"""Deterministic text and vectors: what the practice server "says".

There is no model here. Replies come from the answer book, simple rules (arithmetic, a name
the learner gave earlier) or a plainly labelled practice reply; every reply says it comes
from the practice server. The same request always gives the same tokens, so notebooks can
store their outputs and nbval can compare them.

Each function that writes a reply takes `labelled`: the server's marks policy (marks.py)
decides it once per request, and posing as a real Ollama (pose.py) turns it off, so the
labels are never written rather than stripped afterwards.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .answerbook import ENTRIES, OPENERS_EN, OPENERS_ZH, UNKNOWN_EN, UNKNOWN_ZH, UNLABELLED
from .bytecache import lru_by_bytes

LABEL_EN = "[practice server] "
LABEL_ZH = "【练习服务器】"

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
    r"|\s*[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+"
    r"|\s+"
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    "a an the is are was were be to of in on at for and or but it its this that with as by "
    "what why how who when where which do does did i you we they he she my your me".split()
)


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def tokenize(text: str) -> list[str]:
    """Split text into "tokens": a word with its leading space, or one CJK character."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text or ""))


def _stable_int(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


# -- replies ----------------------------------------------------------------------------------
@dataclass
class Reply:
    content: str = ""
    thinking: str = ""
    tool_calls: list = field(default_factory=list)
    done_reason: str = "stop"


def _normalise(text: str) -> str:
    return " " + re.sub(r"[^\w\u4e00-\u9fff]+", " ", text.lower()) + " "


def _book_answer(prompt: str, labelled: bool = True) -> str | None:
    """The answer book's answer; unless `labelled`, the wording of answers that speak of the
    practice server is swapped for `UNLABELLED`'s (posing: no reply may give the server away)."""
    norm = _normalise(prompt)
    for keywords, answer in ENTRIES:
        if all((f" {k} " in norm) if k.isascii() else (k in norm) for k in keywords):
            return answer if labelled else UNLABELLED.get(keywords, answer)
    return None


_ARITH = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*"
    r"(\+|-|\*|x|×|/|÷|plus|minus|times|multiplied by|divided by|加|减|乘以|除以)"
    r"\s*(-?\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_OPS = {
    "+": "+",
    "plus": "+",
    "加": "+",
    "-": "-",
    "minus": "-",
    "减": "-",
    "*": "*",
    "x": "*",
    "×": "*",
    "times": "*",
    "multiplied by": "*",
    "乘以": "*",
    "/": "/",
    "÷": "/",
    "divided by": "/",
    "除以": "/",
}


_CUE_BEFORE = re.compile(
    r"(?:what(?:'s| is| are| does)|how much|how many|calculate|compute|evaluate|solve|"
    r"work out|add|subtract|multiply|divide|计算|算一下|算算|求|请问)[^\w]*$",
    re.IGNORECASE,
)
_CUE_AFTER = re.compile(r"\s*(?:=|\?|？|等于|是多少|equals?\b|\bis what\b)", re.IGNORECASE)
_ID_BEFORE = re.compile(r"[A-Za-z0-9_#/:.\-]$")
_ID_AFTER = re.compile(r"[A-Za-z0-9_/\-]")
_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/×÷()]*[\d)]")


def _asked(prompt: str) -> tuple[str, int | float | None] | None:
    """The arithmetic the prompt really asks for, as (expression, value); None without one.

    Digits in an id, a date or a document ("doc 437-48", "2024-05-01") are not a sum: an
    expression counts only when the prompt is little more than it, or a question word comes
    right before it ("what is", "calculate", "计算") or "=", "?", "等于" right after.
    """
    for match in _ARITH.finditer(prompt):
        before = prompt[max(0, match.start() - 40) : match.start()]
        after = prompt[match.end() : match.end() + 12]
        if _ID_BEFORE.search(before) or _ID_AFTER.match(after):
            continue
        rest = (prompt[: match.start()] + prompt[match.end() :]).strip(" ?？.。!！()")
        if not (_CUE_BEFORE.search(before) or _CUE_AFTER.match(after) or not rest):
            continue
        whole = _whole_expression(prompt, match)
        if whole:
            return whole
        a, op, b = float(match[1]), _OPS[match[2].lower()], float(match[3])
        if op == "/" and b == 0:
            return f"{match[1]} / {match[3]}", None
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0}[op]
        return f"{match[1]} {op} {match[3]}", _tidy(value)
    return None


def _tidy(value: float) -> int | float:
    return int(value) if value == int(value) else round(value, 6)


def _whole_expression(prompt: str, match: re.Match) -> tuple[str, int | float | None] | None:
    """ "(11434+12341)*412" as a whole, when the match is part of a longer symbol expression."""
    import ast

    for run in _EXPRESSION.finditer(prompt):
        if not (run.start() <= match.start() and match.end() <= run.end() + 1):
            continue
        text = run.group().strip().replace("×", "*").replace("÷", "/")
        if sum(text.count(op) for op in "+-*/") < 2 or len(text) > 200:
            return None
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            return None
        allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub,
                   ast.Mult, ast.Div, ast.USub)  # fmt: skip
        if not all(isinstance(node, allowed) for node in ast.walk(tree)):
            return None
        try:
            value = eval(compile(tree, "<arithmetic>", "eval"), {"__builtins__": {}})  # noqa: S307
        except ZeroDivisionError:
            return ast.unparse(tree), None
        if not isinstance(value, (int, float)) or abs(value) > 1e15:
            return None
        return ast.unparse(tree), _tidy(value)
    return None


def evaluate(prompt: str) -> int | float | None:
    """The value of the arithmetic the prompt asks for (None without any, or for a / 0)."""
    found = _asked(prompt)
    return found[1] if found else None


def _arithmetic(prompt: str, chinese: bool) -> str | None:
    found = _asked(prompt)
    if not found:
        return None
    expr, shown = found
    if shown is None:
        return "不能除以零。" if chinese else "You cannot divide by zero."
    return f"{expr} = {shown}。" if chinese else f"{expr} = {shown}."


_MY_NAME = re.compile(r"(?i:my name is|i am|i'm|call me)\s+([A-Z][\w-]*)|我叫([^\s，。,.!！?？]+)")


def _name_answer(prompt: str, history: list[str], chinese: bool) -> str | None:
    asks = re.search(r"what(?:'s| is) my name|我叫什么", prompt, re.IGNORECASE)
    if not asks:
        return None
    for earlier in reversed(history):
        match = _MY_NAME.search(earlier)
        if match:
            name = match[1] or match[2]
            return f"你叫{name}。" if chinese else f"Your name is {name}."
    return "你还没有告诉我你的名字。" if chinese else "You have not told me your name yet."


_COUNT = re.compile(r"count (?:from 1 )?(?:up )?to (\d+)|数到\s*(\d+)", re.IGNORECASE)


def _counting(prompt: str) -> str | None:
    """ "Count to N": a reply of any length on demand, for streaming demos and benchmarks."""
    match = _COUNT.search(prompt)
    if not match:
        return None
    n = min(int(match[1] or match[2]), 1_000_000)
    return " ".join(str(i) for i in range(1, n + 1))


def _introduction(prompt: str, chinese: bool) -> str | None:
    """ "My name is Ada.": greet back, so a later "What is my name?" has something to recall."""
    match = _MY_NAME.search(prompt)
    if not match:
        return None
    name = match[1] or match[2]
    return f"你好，{name}！很高兴认识你。" if chinese else f"Nice to meet you, {name}!"


def _fallback(prompt: str, chinese: bool, labelled: bool = True) -> str:
    """What the answer book cannot answer: labelled, it says plainly that no real model is
    here; posing (not `labelled`) it must not, so it asks for more as a small model might."""
    short = prompt.strip().replace("\n", " ")
    short = short[:80] + ("…" if len(short) > 80 else "")
    if not labelled:
        return (UNKNOWN_ZH if chinese else UNKNOWN_EN).format(short=short)
    if chinese:
        return (
            f"我不是真正的模型，答案本里没有“{short}”的答案。连接一个真正的 Ollama "
            "就能得到真实的回答；现在可以试着问“为什么天空是蓝色的？”。"
        )
    return (
        f"I am not a real model and my answer book has nothing for “{short}”. Connect a real "
        "Ollama to get a real answer; meanwhile try asking why the sky is blue."
    )


def _persona(system: str, chinese: bool) -> tuple[str, str]:
    """A visible effect of the system prompt: a persona's greeting, or a plain note."""
    if not system:
        return "", ""
    if re.search(r"mario|马里奥", system, re.IGNORECASE):
        return ("我是马里奥！", "呀呼！") if chinese else ("It's-a me, Mario! ", " Wahoo!")
    if re.search(r"pirate|海盗", system, re.IGNORECASE):
        return ("啊哈，伙计！", "") if chinese else ("Arr, matey! ", "")
    brief = system.strip().replace("\n", " ")
    brief = brief[:60] + ("…" if len(brief) > 60 else "")
    if chinese:
        return f"（遵照系统提示“{brief}”）", ""
    return f"(Following the system prompt “{brief}”) ", ""


def label(chinese: bool, labelled: bool = True) -> str:
    """The practice label a reply starts with ("" when the server poses as a real Ollama)."""
    if not labelled:
        return ""
    return LABEL_ZH if chinese else LABEL_EN


def compose_answer(
    prompt: str,
    system: str = "",
    history: list[str] | None = None,
    options: dict | None = None,
    labelled: bool = True,
) -> str:
    """The reply text for a prompt, labelled unless told not to; `options` temperature and
    seed pick the wording."""
    options = options or {}
    chinese = is_chinese(prompt) or (not prompt.strip() and is_chinese(system))
    body = (
        _name_answer(prompt, history or [], chinese)
        or _introduction(prompt, chinese)
        or _counting(prompt)
        or _book_answer(prompt, labelled)
        or _arithmetic(prompt, chinese)
        or _fallback(prompt, chinese, labelled)
    )
    temperature = options.get("temperature", 0.8)
    openers = OPENERS_ZH if chinese else OPENERS_EN
    opener = ""
    if isinstance(temperature, (int, float)) and temperature > 0:
        opener = openers[_stable_int(options.get("seed", 0), prompt) % len(openers)]
    before, after = _persona(system, chinese)
    return f"{label(chinese, labelled)}{before}{opener}{body}{after}"


def fill_in_middle(prefix: str, suffix: str, labelled: bool = True) -> str:
    """What an insert (fill-in-the-middle) model puts between `prefix` and `suffix`.

    The practice server cannot write code, so the middle is a comment (labelled unless told
    not to) in the code's own comment style, indented like the line that follows it.
    """
    hash_style = re.search(r"^\s*(def |import |class |#)|\bprint\(", prefix + suffix, re.M)
    mark = "#" if hash_style or not re.search(r"[{};]", prefix + suffix) else "//"
    indent = re.match(r"[ \t]*", suffix.lstrip("\n"))[0]
    if not indent and prefix.rstrip().endswith((":", "{")):
        indent = "    "
    start = "" if prefix.endswith("\n") else "\n"
    end = "" if suffix.startswith("\n") else "\n"
    words = f"{label(False, labelled)}the code between your two parts goes here"
    return f"{start}{indent}{mark} {words}{end}"


def think_level(think: object) -> str:
    """The amount of thinking a `think` value asks for: unset or true is "medium"."""
    return think if think in ("low", "medium", "high", "max") else "medium"


_MORE_EN = (
    " To be careful I check the question again: which words matter, what a short answer must "
    "say, and whether anything in it is ambiguous.",
    " Then I compare the answer with the question once more, look for a simpler way to say it",
)
_MORE_ZH = (
    "为了稳妥，我再读一遍问题：哪些词是关键，简短的回答必须说什么，有没有含糊的地方。",
    "然后我把回答和问题再对照一次，看能不能说得更简单",
)
# what the practice server's reasoning says about itself: (labelled, not labelled)
_SELF_EN = ("I am the practice server and cannot really reason, so I look", "I look")
_SELF_ZH = ("我是练习服务器，没有真正的推理能力，所以我", "我")
_END_EN = (", and make sure it states plainly that it comes from the practice server.", ".")
_END_ZH = ("，并且说明这是练习服务器的回答。", "。")


def thinking_for(prompt: str, level: str = "medium", labelled: bool = True) -> str:
    """The practice "reasoning" for a prompt; "low" thinks less, "high" and "max" more.
    Unless `labelled` is off, it says that it comes from the practice server."""
    short = prompt.strip().replace("\n", " ")[:80]
    zh = is_chinese(prompt)
    unmarked = int(not labelled)
    if zh:
        text = f"用户问的是：“{short}”。{_SELF_ZH[unmarked]}在答案本里查找，然后给出简短的回答。"
        low = f"用户问：“{short}”。查答案本，简短回答。"
        more = (_MORE_ZH[0], _MORE_ZH[1] + _END_ZH[unmarked])
    else:
        text = (
            f"The user asks: “{short}”. {_SELF_EN[unmarked]} the question up in my answer book "
            "and keep the answer short."
        )
        low = f"The user asks: “{short}”. Look it up in the answer book; answer briefly."
        more = (_MORE_EN[0], _MORE_EN[1] + _END_EN[unmarked])
    if level == "low":
        return low
    if level == "high":
        return text + more[0]
    if level == "max":
        return text + more[0] + more[1]
    return text


def thinking_for_tools(prompt: str, calls: list[dict], level: str = "medium") -> str:
    """What a thinking model "thinks" on a tool turn: which tools it calls, or that it can
    answer from the results it has."""
    short = prompt.strip().replace("\n", " ")[:80]
    zh = is_chinese(prompt)
    names = list(dict.fromkeys(c["function"]["name"] for c in calls))
    if zh:
        text = f"用户问的是：“{short}”。"
        text += (
            f"我需要调用 {'、'.join(names)} 来得到答案。"
            if names
            else "工具结果已经齐了，可以回答了。"
        )
    else:
        text = f"The user asks: “{short}”. "
        text += (
            f"I need to call {', '.join(names)} to answer."
            if names
            else "I have the tool results I need, so I can answer now."
        )
    if level in ("high", "max"):
        text += (_MORE_ZH if zh else _MORE_EN)[0]
    return text


def limit(text: str, options: dict | None) -> tuple[list[str], str]:
    """Apply `stop` and `num_predict` as a model would; returns tokens and the done reason."""
    options = options or {}
    stops = options.get("stop") or []
    if isinstance(stops, str):
        stops = [stops]
    cut = min((text.find(s) for s in stops if isinstance(s, str) and s and s in text), default=-1)
    if cut >= 0:
        text = text[:cut]
    tokens = tokenize(text)
    num_predict = options.get("num_predict")
    if isinstance(num_predict, int) and 0 <= num_predict < len(tokens):
        return tokens[:num_predict], "length"
    return tokens, "stop"


def context_ids(tokens: list[str]) -> list[int]:
    """Stand-in token ids for generate's deprecated `context` field."""
    return [_stable_int(t) % 128_000 for t in tokens]


# -- embeddings -------------------------------------------------------------------------------
@lru_by_bytes(32 << 20, max_entry=4096)  # keyed by learner words: bounded by bytes
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    h = _stable_int(feature)
    return h % dim, (1.0 if (h >> 63) & 1 else -1.0)


def _features(text: str) -> list[tuple[str, float]]:
    """Words and character trigrams (CJK: characters and bigrams): shared words pull together."""
    lowered = text.lower()
    feats: list[tuple[str, float]] = []
    for word in _WORD.findall(lowered):
        stem = word[:-1] if len(word) > 3 and word.endswith("s") else word
        weight = 0.25 if word in _STOPWORDS else 1.0
        feats.append(("w:" + stem, weight))
        padded = f"<{stem}>"
        grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
        for gram in grams:
            feats.append(("g:" + gram, weight * 0.6 / max(1, len(grams)) ** 0.5))
    chars = _CJK.findall(lowered)
    for ch in chars:
        feats.append(("c:" + ch, 0.7))
    for a, b in zip(chars, chars[1:]):
        feats.append(("b:" + a + b, 1.0))
    return feats


@lru_cache(maxsize=16)
def _mixer(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random rotation (a permutation, then 64x64 orthogonal blocks).

    Hashed features fill only a few dozen of the numbers; rotating spreads them over all of
    them, as a real model's vectors are, and keeps every length and cosine unchanged.
    """
    rng = np.random.default_rng(dim)
    block = 64 if dim % 64 == 0 else dim
    blocks = [np.linalg.qr(rng.standard_normal((block, block)))[0] for _ in range(dim // block)]
    return rng.permutation(dim), np.stack(blocks)


def _rotate(vectors: np.ndarray) -> np.ndarray:
    order, blocks = _mixer(vectors.shape[1])
    parts = vectors[:, order].reshape(len(vectors), blocks.shape[0], blocks.shape[1])
    return np.einsum("kij,nkj->nki", blocks, parts).reshape(len(vectors), -1)


def embeddings(texts: list[str], dim: int, normalize: bool = True) -> list[list[float]]:
    """Feature-hashed, rotated vectors of `dim` numbers; unit length unless asked otherwise."""
    if not texts:
        return []
    matrix = np.zeros((len(texts), dim), dtype=np.float64)
    for row, text in enumerate(texts):
        for feature, weight in _features(text):
            index, sign = _bucket(feature, dim)
            matrix[row, index] += sign * weight
        if not matrix[row].any():
            matrix[row, _stable_int(text) % dim] = 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = _rotate(matrix / norms)
    if not normalize:  # the legacy endpoint's vectors are not unit length
        matrix *= np.array([[3.0 * (1 + len(t) ** 0.5 / 10)] for t in texts])
    return np.round(matrix, 7).tolist()


def embedding(text: str, dim: int, normalize: bool = True) -> list[float]:
    return embeddings([text], dim, normalize)[0]


def shrink(vector: list[float], dimensions: int) -> list[float]:
    """`dimensions`: keep the first n numbers and make the vector unit length again."""
    vec = np.asarray(vector[:dimensions], dtype=np.float64)
    norm = float(np.linalg.norm(vec)) or 1.0
    return np.round(vec / norm, 7).tolist()


# -- log probabilities ------------------------------------------------------------------------
_ALTERNATIVES_EN = tuple(
    " the| a| is| and| of| to|,|.| it| that| in| for| on| with| as| was| be| by| this| an".split(
        "|"
    )
)
_ALTERNATIVES_ZH = tuple("的是，。了在和有我这一不人们个中大为上")


def _entry(token: str, logprob: float) -> dict:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def logprobs(tokens: list[str], top: int, salt: str = "") -> list[dict]:
    """Ollama's `logprobs` entries, one per generated token, with `top` alternatives each.

    Made up but consistent: the same request gives the same numbers, the generated token is
    the most likely one (as at temperature 0), and the alternatives are less likely, in order.
    """
    out = []
    for i, token in enumerate(tokens):
        h = _stable_int(salt, i, token)
        chosen = -round((h % 2000) / 1000 * ((h >> 20) % 4 + 1) / 4, 6)  # 0 to -2
        entry = _entry(token, chosen)
        if top > 0:
            pool = _ALTERNATIVES_ZH if _CJK.search(token) else _ALTERNATIVES_EN
            variants = [token.strip(), token.capitalize(), token.upper(), *pool]
            alternatives = [token]
            for variant in variants:
                if variant and variant not in alternatives:
                    alternatives.append(variant)
            ranked = [_entry(token, chosen)]
            logprob = chosen
            for k, alt in enumerate(alternatives[1:top]):
                logprob = round(logprob - 0.5 - ((h >> (k + 3)) % 1000) / 400, 6)
                ranked.append(_entry(alt, logprob))
            entry["top_logprobs"] = ranked
        out.append(entry)
    return out
