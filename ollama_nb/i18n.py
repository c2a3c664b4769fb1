"""Every sentence the package prints, in English and Chinese, chosen by the learner's language.

Each module keeps its own messages next to the code that prints them, in a `Messages` table:

    _ = Messages({
        "busy": {"en": "The server is busy ({text}): try again.",
                 "zh": "服务器正忙（{text}）：请稍后再试。"},
    })
    print(_("busy", text="503"))

Every table registers itself in `CATALOGUES`, so one test can check that each message has both
languages with the same `{placeholders}`. The language is `set_lang()`'s (what
`ollama_nb.setup(lang=...)` calls; the zh notebooks pass `lang="zh"`), else `OLLAMA_NB_LANG`,
else English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "zh")
_chosen: str | None = None
CATALOGUES: list[Messages] = []


def normalise(lang: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_CN.UTF-8', 'Chinese' -> 'zh'; 'en-US' -> 'en'; anything else None."""
    if not lang:
        return None
    head = lang.strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    if head in ("zh", "chinese", "cn"):
        return "zh"
    if head in ("en", "english"):
        return "en"
    return None


def set_lang(lang: str | None) -> str:
    """Choose the language for everything printed from now on; returns the one in force."""
    global _chosen
    _chosen = normalise(lang)
    return current()


def current() -> str:
    """The learner's language: `set_lang()`'s choice, else `OLLAMA_NB_LANG`, else English."""
    return _chosen or normalise(os.environ.get("OLLAMA_NB_LANG")) or "en"


class Messages:
    """A module's sentences: key -> {"en": ..., "zh": ...}, formatted with `str.format`."""

    def __init__(self, table: Mapping[str, Mapping[str, str]]) -> None:
        self.table = dict(table)
        CATALOGUES.append(self)

    def __call__(self, key: str, lang: str | None = None, /, **fields: object) -> str:
        entry = self.table[key]
        text = entry.get(normalise(lang) or current()) or entry["en"]
        return text.format(**fields) if fields else text

    def __contains__(self, key: str) -> bool:
        return key in self.table


def from_locale(environ: Mapping[str, str] | None = None) -> str:
    """`OLLAMA_NB_LANG`, else the system locale (LC_ALL, LC_MESSAGES, LANG), else English.

    For choices made before any notebook runs, such as which edition `make lab` opens: a
    learner whose machine speaks Chinese lands on the Chinese edition without setting anything.
    """
    env = os.environ if environ is None else environ
    for name in ("OLLAMA_NB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = normalise(env.get(name))
        if lang:
            return lang
    return "en"
