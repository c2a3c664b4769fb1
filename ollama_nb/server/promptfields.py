"""The JSON field names a prompt asks for, for `format="json"` without a schema.

A real model asked "Reply in JSON with the fields name, age and city" (or "请用 JSON 格式告诉我
中国的首都和人口") answers with exactly those keys; the practice server reads them from the
prompt so the learner's `data["首都"]` works. Only short, plain names count, and a loose cue
("with", "告诉我") needs at least two of them, so ordinary questions are not mistaken for lists.
"""

from __future__ import annotations

import re

__all__ = ["field_names", "value_schema"]

_STRONG_EN = re.compile(
    r"\b(?:fields?|keys?|properties|attributes|columns)\b\s*(?:named|called|like|such as|"
    r"for|of)?\s*[:\-]?\s*([^.?!\n]+)",
    re.IGNORECASE,
)
_WEAK_EN = re.compile(
    r"\bjson\b[^.?!\n]{0,40}?\b(?:with|containing|including|that has|having|listing|giving)\s+"
    r"([^.?!\n]+)",
    re.IGNORECASE,
)
_STRONG_ZH = re.compile(r"(?:字段|键名|键|属性)[：:为是有包括]*\s*([^。？！\n?!；;]+)")
_WEAK_ZH = re.compile(
    r"(?:包含|包括|含有|返回|给出|列出|告诉我|说明|提供)[：:]?\s*([^。？！\n?!；;]+)"
)
_SPLIT_EN = re.compile(r",|;|/|\band\b|\bor\b|&", re.IGNORECASE)
_SPLIT_ZH = re.compile(r"[、，,和与及跟以及/；;]")
_EN_ITEM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*){0,2}")
_ZH_ITEM = re.compile(r"[\u4e00-\u9fff]{1,6}")
_EN_DROP = re.compile(r"^(?:the|its|their|a|an|his|her|each|every|also)\s+", re.IGNORECASE)
_EN_END = re.compile(
    r"\s+(?:fields?|keys?|properties|as json|in json)$|\s+(?:for|of|in|about|from|to|on)\b.*$",
    re.IGNORECASE,
)
_ZH_DROP = re.compile(r"(?:用|以|按)?\s*json\s*(?:格式|形式)?", re.IGNORECASE)
_NOT_NAMES = frozenset(
    "json format object reply answer it them this that me you please example".split()
)
_NUMERIC = frozenset(
    """age year years population count number total price cost amount area height weight
    width length size rank score rating temperature percent percentage gdp salary
    人口 年龄 年份 数量 价格 面积 高度 重量 长度 分数 评分 温度 排名 年""".split()
)
_LISTS = frozenset(
    """languages colors colours tags keywords ingredients steps items examples skills hobbies
    cities countries names authors features pros cons reasons
    语言 颜色 标签 关键词 步骤 例子""".split()
)


def field_names(prompt: str) -> list[str]:
    """The keys the prompt asks for, in its order; [] when it names none."""
    if not isinstance(prompt, str) or not prompt:
        return []
    zh = bool(re.search(r"[\u4e00-\u9fff]", prompt))
    strong, weak = (_STRONG_ZH, _WEAK_ZH) if zh else (_STRONG_EN, _WEAK_EN)
    for pattern, least in ((strong, 1), (weak, 2)):
        for match in pattern.finditer(prompt[:2000]):
            names = _zh_items(match.group(1)) if zh else _en_items(match.group(1))
            if len(names) >= least:
                return names
    return []


def _en_items(text: str) -> list[str]:
    quoted = re.findall(r"[`'\"“‘]([A-Za-z_][\w ]{0,30})[`'\"”’]", text)
    parts = quoted or _SPLIT_EN.split(text)
    out: list[str] = []
    for part in parts:
        item = _EN_END.sub("", _EN_DROP.sub("", part.strip(" `'\"“”‘’()")))
        if not _EN_ITEM.fullmatch(item) or item.lower() in _NOT_NAMES:
            if out:  # the list has ended ("name, age and city for a student")
                break
            continue
        out.append(item.replace(" ", "_"))
    return list(dict.fromkeys(out))


def _zh_items(text: str) -> list[str]:
    out: list[str] = []
    for part in _SPLIT_ZH.split(_ZH_DROP.sub("", text)):
        item = part.strip().rsplit("的", 1)[-1].strip()
        if _ZH_ITEM.fullmatch(item):
            out.append(item)
        elif out:
            break
    return list(dict.fromkeys(out))


def value_schema(names: list[str]) -> dict:
    """A JSON schema with those keys, each typed by its name (population: a number)."""
    props: dict = {}
    for name in names:
        low = name.lower()
        if low in _NUMERIC or low.rstrip("s") in _NUMERIC:
            props[name] = {"type": "integer"}
        elif low in _LISTS:
            props[name] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        else:
            props[name] = {"type": "string"}
    return {"type": "object", "properties": props, "required": list(props)}
