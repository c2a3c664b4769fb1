"""Markdown to safe HTML for the chat widget: mistune for the Markdown, pygments for code.

Why a library: models write every corner of Markdown (nested lists, tables, code inside lists),
and a hand-written converter gets some of it wrong. mistune is already in the Jupyter stack
(nbconvert uses it) and is linear in the text's length. Why `escape=True`: the ipywidgets HTML
widget inserts its value as-is, so raw HTML in a reply must show as text, never become markup.
Links keep only http(s) and mailto addresses, and open in a new tab.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import mistune
from mistune.util import escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

__all__ = ["markdown_to_html", "code_css"]

_FORMATTER = HtmlFormatter(nowrap=True)
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


@lru_cache(maxsize=64)
def _lexer(lang: str):  # type: ignore[no-untyped-def]
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


class _Renderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with highlighted code blocks and safe links."""

    def block_code(self, code: str, info: str | None = None) -> str:
        lang = (info or "").strip().split(None, 1)[0] if info and info.strip() else ""
        lexer = _lexer(lang.lower()) if lang else None
        if lexer is None:
            body = html.escape(code, quote=False)
        else:
            body = highlight(code, lexer, _FORMATTER)
        attr = f' class="language-{html.escape(lang)}"' if lang else ""
        return f'<pre class="highlight"><code{attr}>{body}</code></pre>\n'

    def link(self, text: str, url: str, title: str | None = None) -> str:
        if not url.lower().startswith(_SAFE_SCHEMES):
            return text
        return f'<a href="{self.safe_url(url)}" target="_blank" rel="noopener">{text}</a>'

    def image(self, text: str, url: str, title: str | None = None) -> str:
        # A model's image link would load an address it made up: show the alt text instead.
        return html.escape(text or "")


_MARKDOWN = mistune.create_markdown(
    escape=True,
    renderer=_Renderer(escape=True),
    hard_wrap=True,
    plugins=["strikethrough", "table"],
)


# One line with no character that can start or mark up anything in Markdown is a plain
# paragraph: no parser needed. Much of a long reply is such text, so this keeps the streaming
# cost near that of escaping it. Square brackets are plain unless a link could form ("](" or
# "]["; a reference definition needs ":", which is never plain), so "[1]" or "[note]" stays
# cheap. (test_markdown_fast_path_agrees_with_mistune checks it.)
_PLAIN = re.compile(r"[^\\`*_<>&#|~!\n\r\t=+:-]*")
_NOT_PLAIN_START = re.compile(r" {4}|\s*\d{1,9}[.)](\s|$)")
_LINK = re.compile(r"\]\s*[(\[]")


def markdown_to_html(text: str) -> str:
    """Render the Markdown chat models write; raw HTML in `text` comes out escaped."""
    if not text:
        return ""
    if _PLAIN.fullmatch(text) and not _NOT_PLAIN_START.match(text) and not _LINK.search(text):
        stripped = text.strip(" ")
        if stripped:
            return "<p>" + escape(stripped) + "</p>"
    return _MARKDOWN(text).strip()


def code_css(scope: str) -> str:
    """The stylesheet for highlighted code under the CSS selector `scope` (sent once)."""
    return HtmlFormatter(style="default").get_style_defs(f"{scope} pre.highlight")
