"""Value pools from the prompt: what a structured reply or a tool call can reuse.

A real model fills `name` with the name the learner wrote and `capital` with the capital of the
country asked about. This module reads a prompt once (cached): its numbers, quoted strings,
capitalised names, places, countries (English and Chinese), languages, colours and keywords,
and the arithmetic it asks for, so the value plan (:mod:`schemaplan`) can take from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .bytecache import lru_by_bytes

# -- what the prompt offers ------------------------------------------------------------------
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])-?\d+(?:\.\d+)?(?![A-Za-z0-9_])")
_QUOTED = re.compile(
    r'"([^"\n]{1,80})"|“([^”\n]{1,80})”|「([^」\n]{1,80})」|『([^』\n]{1,80})』'
    r"|(?<![A-Za-z0-9])'([^'\n]{1,80})'(?![A-Za-z0-9])"
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z\-]*(?:'[A-Za-z]+)?|[.!?。！？:;\n]")
_STOP = frozenset(
    """a an the is are was were be been am to of in on at for and or but it its this that these
    those with as by from into about what why how who whom when where which do does did done i
    you we they he she my your our their me us them his her there here not no yes so if then than
    can could would should will shall may might must have has had please tell give show list return
    json format write explain describe generate create make using use answer question some any
    all each one two three many much more most very just also like get let know want need""".split()
)
_PLACE_WORDS = frozenset("in at from to near".split())
_ZH_AFFIXES = re.compile(
    r"^(?:请问|请|告诉我|介绍一下|介绍|解释一下|解释|为什么|什么是|怎么样|怎么|如何)+"
    r"|(?:吗|呢|的|了|吧|啊)+$"
)
_NUMBER_WORDS = {
    w: i for i, w in enumerate("two three four five six seven eight nine ten".split(), start=2)
}

_COUNTRIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "canada": ("Ottawa", ("English", "French")),
    "france": ("Paris", ("French",)),
    "japan": ("Tokyo", ("Japanese",)),
    "china": ("Beijing", ("Chinese",)),
    "germany": ("Berlin", ("German",)),
    "italy": ("Rome", ("Italian",)),
    "spain": ("Madrid", ("Spanish",)),
    "mexico": ("Mexico City", ("Spanish",)),
    "brazil": ("Brasília", ("Portuguese",)),
    "india": ("New Delhi", ("Hindi", "English")),
    "kenya": ("Nairobi", ("Swahili", "English")),
    "australia": ("Canberra", ("English",)),
}
# Chinese prompts name countries in Chinese and expect Chinese values back.
_COUNTRIES_ZH: dict[str, tuple[str, tuple[str, ...]]] = {
    "加拿大": ("渥太华", ("英语", "法语")),
    "法国": ("巴黎", ("法语",)),
    "日本": ("东京", ("日语",)),
    "中国": ("北京", ("汉语",)),
    "德国": ("柏林", ("德语",)),
    "意大利": ("罗马", ("意大利语",)),
    "西班牙": ("马德里", ("西班牙语",)),
    "墨西哥": ("墨西哥城", ("西班牙语",)),
    "巴西": ("巴西利亚", ("葡萄牙语",)),
    "印度": ("新德里", ("印地语", "英语")),
    "肯尼亚": ("内罗毕", ("斯瓦希里语", "英语")),
    "澳大利亚": ("堪培拉", ("英语",)),
}
_NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Margaret Hamilton")
_NAMES_ZH = ("李雷", "韩梅梅", "王芳", "张伟")
_CITIES = ("Tokyo", "Paris", "Nairobi", "Lima", "Toronto", "Sydney", "Seoul")
_CITIES_ZH = ("北京", "上海", "杭州", "成都")
_KNOWN_CITIES = frozenset(c.lower() for c in (*_CITIES, *(v[0] for v in _COUNTRIES.values())))
_LANGUAGES = ("English", "French", "Spanish", "Japanese", "Chinese", "German")
_COLORS = ("blue", "green", "red", "orange", "purple", "yellow")


@dataclass(frozen=True)
class _Prompt:
    """What a prompt offers for reuse; computed once per prompt text."""

    zh: bool
    lower: str
    words: frozenset[str]
    numbers: tuple[int | float, ...]
    quoted: tuple[str, ...]
    proper: tuple[str, ...]
    keywords: tuple[str, ...]
    topic: str
    flag: bool | None
    count: int | None
    pools: dict[str, tuple[str, ...]]
    computed: int | float | None  # "3 plus 5" -> 8, for answer/result/sum fields


@lru_by_bytes(16 << 20, max_entry=1 << 20)  # keyed by whole prompts: bounded by bytes
def _analyse(prompt: str) -> _Prompt:
    zh = bool(_CJK.search(prompt))
    numbers = tuple(float(n) if "." in n else int(n) for n in _NUMBER.findall(prompt))
    quoted = tuple(next(g for g in m.groups() if g).strip() for m in _QUOTED.finditer(prompt))
    names, after_prep, words, keywords = _scan_words(prompt)
    proper = tuple(names)
    lowered = {w.lower() for w in words}
    for seg in _CJK.findall(prompt):
        seg = _ZH_AFFIXES.sub("", seg)
        if len(seg) >= 2:
            keywords.append(seg)
    keywords = list(dict.fromkeys(keywords))
    topic = " ".join(keywords[:4]) if not zh else next((k for k in keywords if _CJK.match(k)), "")
    topic = topic or ("你的问题" if zh else "your question")
    flag = True if lowered & {"yes", "true"} else False if lowered & {"no", "false"} else None
    count = next((_NUMBER_WORDS[w] for w in words if w.lower() in _NUMBER_WORDS), None)
    countries = [w.lower() for w in (*proper, *words) if w.lower() in _COUNTRIES]
    countries = list(dict.fromkeys(countries))
    languages = [lang for c in countries for lang in _COUNTRIES[c][1]]
    languages += [w for w in words if w in _LANGUAGES]
    places = [w for w in after_prep if w.lower() not in _COUNTRIES]
    cities = places + [w for w in proper if w.lower() in _KNOWN_CITIES]
    people = tuple(w for w in proper if w not in places)
    zh_countries = [name for name in _COUNTRIES_ZH if name in prompt] if zh else []
    zh_capitals = [_COUNTRIES_ZH[name][0] for name in zh_countries]
    languages = [lang for name in zh_countries for lang in _COUNTRIES_ZH[name][1]] + languages
    pools = {
        "person": quoted + people + tuple(zh_countries),  # as English proper nouns are
        "city": tuple(dict.fromkeys(cities)),
        "capital": tuple(
            dict.fromkeys(zh_capitals + [_COUNTRIES[c][0] for c in countries] + cities)
        ),
        "country": tuple(zh_countries) + tuple(c.title() for c in countries),
        "language": tuple(dict.fromkeys(languages)),
        "color": tuple(w.lower() for w in words if w.lower() in _COLORS),
        "topic": tuple(keywords),
        "text": quoted + tuple(keywords),
    }
    return _Prompt(
        zh, prompt.lower(), frozenset(lowered), numbers, quoted, proper,
        tuple(keywords), topic, flag, count, pools, _computed(prompt),
    )  # fmt: skip


def _computed(prompt: str) -> int | float | None:
    """The value of the arithmetic in a prompt, as the practice server's chat answers it."""
    from .engine import evaluate

    return evaluate(prompt)


def _scan_words(prompt: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Capitalised names (joined: "New York"), those right after a preposition, all words, and
    the keywords (words that are not stop words)."""
    proper: list[str] = []
    after_prep: list[str] = []
    words: list[str] = []
    run: list[str] = []
    run_initial = run_after_prep = False
    initial, prev_prep, prev_end = True, False, -1

    def close() -> None:
        if run and (not run_initial or len(run) > 1):
            name = " ".join(run)
            proper.append(name)
            if run_after_prep:
                after_prep.append(name)

    for m in _TOKEN.finditer(prompt):
        tok = m.group()
        if not tok[0].isalpha():
            close()
            run, initial, prev_prep = [], True, False
            continue
        word = tok[:-2] if tok.endswith("'s") else tok
        words.append(word)
        capital = word[0].isupper() and not (len(word) > 1 and word.isupper()) and word != "I"
        if capital and not (initial and word.lower() in _STOP):
            if run and prompt[prev_end : m.start()] == " ":
                run.append(word)
            else:
                close()
                run, run_initial, run_after_prep = [word], initial, prev_prep
        else:
            close()
            run = []
        initial, prev_prep, prev_end = False, word.lower() in _PLACE_WORDS, m.end()
    close()
    keywords = [w for w in words if w.lower() not in _STOP and len(w) > 1]
    seen: set[str] = set()
    keywords = [w for w in keywords if not (w.lower() in seen or seen.add(w.lower()))]
    return list(dict.fromkeys(proper)), list(dict.fromkeys(after_prep)), words, keywords


def _mentions(p: _Prompt, value: str) -> bool:
    low = value.lower()
    if low in p.words:
        return True
    return bool(low) and (not low.isascii() or " " in low) and low in p.lower
