"""Structured replies about images: `format=...` together with `images`.

Ollama's vision models follow the schema when an image is sent (the docs' example asks for a
summary, objects, colours, time of day and setting). The practice server has no neural
network, so it fills only what it can honestly measure from the file (size, format, main
colours, a sentence saying so) and leaves the rest empty, "Unknown" or null where the schema
allows; what the schema forces it to fill comes from the usual value plan.
"""

from __future__ import annotations

import json
from typing import Any

from . import structured
from .engine import is_chinese

__all__ = ["reply"]

_SENTENCE_KEYS = frozenset("summary description caption alt alt_text content answer".split())
_SCENE_KEYS = frozenset("scene setting_description image_description".split())
_COLOR_LIST_KEYS = frozenset(
    "colors colours main_colors main_colours dominant_colors dominant_colours palette".split()
)
_COLOR_KEYS = frozenset(
    "color colour main_color main_colour dominant_color dominant_colour".split()
)
_FORMAT_KEYS = frozenset("format image_format file_format file_type type_of_file".split())
_EMPTY_KEYS = frozenset("objects items things people animals labels tags entities".split())
_NULL_KEYS = frozenset("text_content text ocr_text visible_text".split())


def reply(fmt: Any, prompt: str, seed: Any, facts: list[dict], labelled: bool = True) -> str:
    """JSON text for a `format` request that carries images (`facts` from vision.measure).

    Unless `labelled`, nothing in it may say it comes from the practice server (posing,
    pose.py): the facts' sentences must come from `vision.measure(..., labelled=False)`, and
    the value plan's canned words are asked for unlabelled too.
    """
    zh = is_chinese(prompt)
    first = facts[0]
    sentence = " ".join(f["sentence_zh" if zh else "sentence"] for f in facts)
    if fmt == "json":
        value: Any = {
            "description": sentence,
            "format": first["format"],
            "width": first["width"],
            "height": first["height"],
            "colors": first["colors"],
        }
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(fmt, dict):
        return structured.generate(fmt, prompt, seed, labelled)  # raises Ollama's 400
    hint = f"{prompt}\n{sentence}"
    value = structured.generate_value(fmt, hint, seed, labelled)
    if isinstance(value, dict):
        value = _fill(value, fmt, first, sentence)
    return json.dumps(value, ensure_ascii=False)


def _fill(value: dict, schema: dict, facts: dict, sentence: str) -> dict:
    """Put the measured facts into the fields named for them, where the schema accepts them."""
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    out = dict(value)
    for key in props:
        low = key.lower()
        candidates: list[Any] = []
        if low in _SENTENCE_KEYS:
            candidates = [sentence]
        elif low in _SCENE_KEYS:
            candidates = [f"a {facts['width']}x{facts['height']} {facts['format']} picture"]
        elif low in _COLOR_LIST_KEYS:
            candidates = [facts["colors"], [c.title() for c in facts["colors"]]]
        elif low in _COLOR_KEYS and facts["colors"]:
            candidates = [facts["colors"][0], facts["colors"][0].title()]
        elif low == "width":
            candidates = [facts["width"]]
        elif low == "height":
            candidates = [facts["height"]]
        elif low in _FORMAT_KEYS:
            candidates = [facts["format"], facts["format"].lower()]
        elif low in _EMPTY_KEYS:
            candidates = [[]]
        elif low in _NULL_KEYS:
            candidates = [None]
        resolved = structured.resolve(props[key], schema)
        enum = resolved.get("enum") if isinstance(resolved, dict) else None
        if isinstance(enum, list):  # an enum field: say "unknown" rather than guess
            candidates += [v for v in enum if isinstance(v, str) and v.lower() == "unknown"]
        for candidate in candidates:
            trial = {**out, key: candidate}
            if structured.fits(trial, schema):
                out = trial
                break
    return out
