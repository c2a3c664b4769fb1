"""Every message the package prints exists in English and Chinese, with the same placeholders."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string

import pytest

import ollama_nb
from ollama_nb import i18n


def _all_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(ollama_nb.__path__, "ollama_nb."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_every_catalogue_entry_has_both_languages_and_the_same_placeholders():
    assert "ollama_nb.errors" in _all_modules()
    assert i18n.CATALOGUES, "no Messages table was registered"
    problems = []
    total = 0
    for table in i18n.CATALOGUES:
        for key, entry in table.table.items():
            total += 1
            missing = [lang for lang in i18n.LANGUAGES if not (entry.get(lang) or "").strip()]
            if missing:
                problems.append(f"{key}: no {', '.join(missing)}")
                continue
            if _fields(entry["en"]) != _fields(entry["zh"]):
                problems.append(f"{key}: {_fields(entry['en'])} != {_fields(entry['zh'])}")
    assert not problems, problems
    assert total >= 14


def test_the_chinese_text_is_chinese():
    _all_modules()
    for table in i18n.CATALOGUES:
        for key, entry in table.table.items():
            assert re.search(r"[\u4e00-\u9fff]", entry["zh"]) or entry["zh"] == entry["en"], key


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_message_follows_the_chosen_language(lang):
    from ollama_nb.errors import explain

    i18n.set_lang(lang)
    try:
        text = explain(TimeoutError())
    finally:
        i18n.set_lang(None)
    assert ("超时" in text) == (lang == "zh")
