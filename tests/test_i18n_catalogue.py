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
            assert (
                re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", entry["zh"])
                or entry["zh"] == entry["en"]
            ), key


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_message_follows_the_chosen_language(lang):
    from ollama_nb.errors import explain

    i18n.set_lang(lang)
    try:
        text = explain(TimeoutError())
    finally:
        i18n.set_lang(None)
    assert ("超时" in text) == (lang == "zh")


def test_exercise_feedback_hints_and_tasks_follow_the_language(capsys):
    from ollama_nb import exercises

    i18n.set_lang("zh")
    try:
        exercises.check("02.3", ...)
        exercises.check("02.3", "generate")
        exercises.check("02.3", "chat")
        exercises.check("04.1", lambda u, v: 0.0)
        exercises.hint("01.3")
        exercises.task("04.1")
        exercises.solution("01.3")
    finally:
        i18n.set_lang(None)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "✗ 还差一点：把 ... 换成你的答案，再运行这个单元格。"
        '（需要提示：ollama_nb.exercises.hint("02.3")。）'
    )
    assert lines[1] == "✗ 还差一点：generate 只接收一个提示词；哪个函数接收 messages=？"
    assert lines[2].startswith("✓ 答对了：chat 接收带角色的消息")
    assert lines[3] == "✗ 还差一点：cosine([1, 2], [2, 4]) 得到 0.0000，应该是 1.0。"
    assert lines[4] == "01.3 的提示：eval_duration 纳秒内生成了 eval_count 个 token。"
    assert lines[5].startswith("练习 04.1：写一个函数 cosine(u, v)")
    assert lines[6] == "01.3 的一种参考答案：" and "eval_duration" in "\n".join(lines[7:])
    exercises.hint("01.3")  # English again once the language is reset
    assert capsys.readouterr().out.startswith("Hint for 01.3: ")
