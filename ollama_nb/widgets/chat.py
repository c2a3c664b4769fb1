"""ChatWidget: a multi-turn chat with a model, streamed without blocking the kernel.

Why it is built the way it is:

- Replies stream with `ollama.AsyncClient` in an asyncio task on the kernel's own event loop,
  so Stop, typing and other cells keep working while tokens arrive. (A synchronous loop in a
  cell would hold every click until the reply ended.)
- Screen updates are coalesced by time: at most `1 / interval` (20) per second whatever the
  token rate, and each one re-sends only the reply's live segment (at most about
  `segment_chars` characters). A frozen segment is never sent again, so the cost of a reply
  grows linearly with its length instead of quadratically.
- Replies are rendered as Markdown while they stream, one bounded segment at a time, and once
  more as a whole when complete (or stopped, or cut off), by a small converter that escapes
  everything first (the HTML widget inserts its value as-is, so nothing the model writes may
  become markup).
- Failures are shown in place as one plain sentence (`ollama_nb.errors.explain`) with a Retry
  button; the history stays as it was before the failed request and the typed text goes back
  into the input box.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import ollama
from ipywidgets.widgets.widget_string import HTMLStyle

from .. import errors

__all__ = ["ChatWidget", "markdown_to_html"]

EMBEDDING_FAMILIES = {"bert", "nomic-bert", "xlm-roberta"}
EVENTS = ("token", "reply", "error")

_CSS = """<style>
.ollama-chat .chat-log { max-height: 520px; overflow-y: auto; }
.ollama-chat .widget-html-content, .ollama-chat .jupyter-widget-html-content {
  line-height: 1.45; }
.ollama-chat .chat-assistant p { margin: 0.4em 0; }
.ollama-chat .chat-user { align-self: flex-end; max-width: 85%; padding: 2px 10px;
  border-radius: 10px; background: var(--jp-layout-color2, #eee); }
.ollama-chat .chat-assistant { max-width: 95%; }
.ollama-chat .chat-stream { white-space: pre-wrap; overflow-wrap: anywhere; }
.ollama-chat .chat-figures { color: var(--jp-ui-font-color2, #666); font-size: 85%; }
.ollama-chat .chat-error { color: var(--jp-error-color1, #c62828); }
.ollama-chat pre { background: var(--jp-layout-color2, #f5f5f5); padding: 6px 8px;
  overflow-x: auto; }
.ollama-chat table { border-collapse: collapse; }
.ollama-chat th, .ollama-chat td { border: 1px solid var(--jp-border-color1, #ccc);
  padding: 2px 6px; }
</style>"""


# --- Markdown -------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)[\s#]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)")
_NUMBER = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)")
_QUOTE = re.compile(r"^ {0,3}>\s?(.*)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s()]+)\)")


def _emphasis(escaped: str) -> str:
    # Each pattern runs only when its marker occurs: long plain paragraphs stay cheap.
    if "*" in escaped or "_" in escaped:
        escaped = _BOLD.sub(r"<strong>\2</strong>", escaped)
        escaped = _ITALIC.sub(r"<em>\2</em>", escaped)
    if "~~" in escaped:
        escaped = _STRIKE.sub(r"<del>\1</del>", escaped)
    if "](" in escaped:
        escaped = _LINK.sub(r'<a href="\2" target="_blank" rel="noopener">\1</a>', escaped)
    return escaped


def _inline(text: str) -> str:
    if "`" not in text:
        return _emphasis(html.escape(text))
    out, pos = [], 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_emphasis(html.escape(text[pos : match.start()])))
        out.append("<code>" + html.escape(match[2].strip()) + "</code>")
        pos = match.end()
    out.append(_emphasis(html.escape(text[pos:])))
    return "".join(out)


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [cell.strip() for cell in row.split("|")]


def markdown_to_html(text: str) -> str:
    """Render the Markdown chat models write (code blocks, headings, lists, tables, emphasis).

    Every character of `text` is escaped before any tag is added, so the result is safe to put
    in an HTML widget, which inserts its value without sanitising it. One pass over the lines:
    the cost is linear in the length of the reply.
    """
    out: list[str] = []
    block: list[str] = []
    kind = ""

    def close() -> None:
        nonlocal kind
        if kind == "p":
            out.append("<p>" + "<br>".join(_inline(line) for line in block) + "</p>")
        elif kind in ("ul", "ol"):
            items = "".join(f"<li>{_inline(line)}</li>" for line in block)
            out.append(f"<{kind}>{items}</{kind}>")
        elif kind == "quote":
            out.append("<blockquote>" + "<br>".join(_inline(x) for x in block) + "</blockquote>")
        block.clear()
        kind = ""

    def start(new: str) -> None:
        nonlocal kind
        if kind != new:
            close()
            kind = new

    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            close()
            mark, lang = fence.groups()
            code, i = [], i + 1
            while i < len(lines) and not lines[i].lstrip().startswith(mark):
                code.append(lines[i])
                i += 1
            attr = f' class="language-{html.escape(lang)}"' if lang else ""
            out.append(f"<pre><code{attr}>{html.escape(chr(10).join(code))}</code></pre>")
        elif "|" in line and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            close()
            head = "".join(f"<th>{_inline(c)}</th>" for c in _cells(line))
            rows, i = [], i + 2
            while i < len(lines) and "|" in lines[i]:
                rows.append("".join(f"<td>{_inline(c)}</td>" for c in _cells(lines[i])))
                i += 1
            body = "".join(f"<tr>{row}</tr>" for row in rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            continue
        elif not line.strip():
            close()
        elif heading := _HEADING.match(line):
            close()
            level = len(heading[1])
            out.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        elif _RULE.match(line):
            close()
            out.append("<hr>")
        elif item := _BULLET.match(line):
            start("ul")
            block.append(item[1])
        elif item := _NUMBER.match(line):
            start("ol")
            block.append(item[1])
        elif quote := _QUOTE.match(line):
            start("quote")
            block.append(quote[1])
        elif kind in ("ul", "ol") and line[:1] in (" ", "\t"):
            block[-1] += " " + line.strip()
        else:
            start("p")
            block.append(line)
        i += 1
    close()
    return "".join(out)


def _escaped(text: str) -> str:
    return '<div class="chat-stream">' + html.escape(text, quote=False) + "</div>"


def _render_live(text: str) -> str:
    return '<div class="chat-stream">' + markdown_to_html(text) + "</div>"


def _break_point(text: str, limit: int) -> int | None:
    """Where to freeze a live segment that reached `limit`: after a paragraph, line or word.

    None below the limit; past four times the limit (one long unbroken word) it cuts anyway.
    """
    if len(text) < limit:
        return None
    for mark in ("\n\n", "\n", " "):
        at = text.rfind(mark, limit // 2)
        if at >= 0:
            return at + len(mark)
    return len(text) if len(text) >= 4 * limit else None


def _open_fence(text: str) -> str:
    """The ``` line of a code block still open at the end of `text`, else ""."""
    opening = ""
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            opening = "" if opening else line.strip() + "\n"
    return opening


# --- Pieces of the conversation ---------------------------------------------------------------


def _close_tree(widget: W.Widget) -> None:
    """Close a widget and everything inside it, so cleared turns release their comms."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


class _Kit:
    """Makes the conversation's widgets, all sharing one Layout and one HTMLStyle.

    A widget made with its own layout and style opens three comms; sharing them makes a new
    message or segment about three times cheaper, which matters at 20 new segments a second.
    """

    def __init__(self) -> None:
        self.layout = W.Layout()
        self.style = HTMLStyle()

    def html(self, value: str, *css: str) -> W.HTML:
        return W.HTML(value, layout=self.layout, style=self.style, _dom_classes=css)

    def box(self, children: tuple = (), *css: str) -> W.VBox:
        return W.VBox(children, layout=self.layout, _dom_classes=css)


class _Segments:
    """A growing text shown as a column of HTML segments, rendered as Markdown as it grows.

    Only the last (live) segment is ever updated. Once it holds `limit` characters it is
    frozen at a line or word break and the rest starts a new one, so an update re-sends at
    most about `limit` characters, however long the reply grows. A segment that starts inside
    a code block is rendered with that block's opening fence, so code stays code.
    """

    def __init__(self, kit: _Kit, limit: int) -> None:
        self.kit, self.limit = kit, limit
        self.box = kit.box()
        self.live: W.HTML | None = None
        self.live_text = ""
        self.fence = ""  # the opening ``` line when the live segment starts inside a code block

    def add(self, text: str) -> None:
        """Show `text` after what is there: one update, three when a segment is frozen."""
        self.live_text += text
        cut = _break_point(self.live_text, self.limit)
        if self.live is not None and cut:
            frozen, self.live_text = self.live_text[:cut], self.live_text[cut:]
            self.live.value = _render_live(self.fence + frozen)
            self.fence = _open_fence(self.fence + frozen)
            self.live = None
        if self.live is None:
            self.live = self.kit.html(_render_live(self.fence + self.live_text))
            self.box.children = (*self.box.children, self.live)
        else:
            self.live.value = _render_live(self.fence + self.live_text)

    def finish(self, value: str) -> None:
        """Replace the segments by one widget holding the final rendering (sent once)."""
        first, *rest = self.box.children or (None,)
        if first is None:
            self.box.children = (self.kit.html(value),)
            return
        first.value = value
        if rest:
            self.box.children = (first,)
            for widget in rest:
                widget.close()


class _Turn:
    """One exchange on screen: the user's text, then the reply (thinking folded, figures)."""

    def __init__(
        self, text: str, epoch: int, kit: _Kit, limit: int, clock: Callable[[], float]
    ) -> None:
        self.text, self.epoch, self.kit, self.limit = text, epoch, kit, limit
        self.parts: list[str] = []
        self.thinking: list[str] = []
        self.shown = self.thinking_shown = self.frames = 0
        self.start = clock()
        self.first: float | None = None
        self.last = self.start
        self.final: ollama.ChatResponse | None = None
        self.finished = False
        # CSS classes go in the constructors: add_class afterwards costs one more message each.
        self.user = kit.html(_escaped(text), "chat-user")
        self.content = _Segments(kit, limit)
        self.think_view: _Segments | None = None
        self.figures = kit.html("<i>waiting for the first token…</i>", "chat-figures")
        self.reply = kit.box((self.content.box, self.figures), "chat-assistant")

    @property
    def reply_text(self) -> str:
        return "".join(self.parts)

    def flush(self) -> None:
        """Show what arrived since the last flush: one update per text widget at most."""
        self.frames += 1
        if self.frames == 1:
            self.figures.value = "<i>streaming…</i>"
        if len(self.thinking) > self.thinking_shown:
            if self.think_view is None:
                self.think_view = _Segments(self.kit, self.limit)
                fold = W.Accordion([self.think_view.box], titles=("Thinking",), selected_index=None)
                self.reply.children = (fold, *self.reply.children)
            self.think_view.add("".join(self.thinking[self.thinking_shown :]))
            self.thinking_shown = len(self.thinking)
        if len(self.parts) > self.shown:
            self.content.add("".join(self.parts[self.shown :]))
            self.shown = len(self.parts)

    def render(self) -> None:
        """Render the reply (and the thinking) as Markdown, once, at the end."""
        if self.thinking:
            if self.think_view is None:
                self.flush()
            self.think_view.finish(markdown_to_html("".join(self.thinking)))
        # Keep the joined text as the only part, so later reads of reply_text cost nothing.
        self.parts[:] = [self.reply_text]
        self.shown = len(self.parts)
        self.content.finish(markdown_to_html(self.parts[0]))

    def stats(self, status: str) -> dict[str, Any]:
        """The figures line: server metrics from the final chunk, else measured ones."""
        final = self.final
        ttft = None if self.first is None else self.first - self.start
        if final is not None and final.eval_count and final.eval_duration:
            tokens = final.eval_count
            rate = final.eval_count / (final.eval_duration / 1e9)
        else:
            tokens = len(self.parts) + len(self.thinking)
            spent = self.last - self.first if self.first is not None else 0.0
            rate = tokens / spent if spent > 0 else 0.0
        return {
            "tokens": tokens,
            "tokens_per_s": rate,
            "ttft_s": ttft,
            "seconds": self.last - self.start,
            "frames": self.frames,
            "status": status,
        }


def _figures_line(stats: dict[str, Any]) -> str:
    parts = [f"{stats['tokens']} tokens", f"{stats['tokens_per_s']:.1f} tokens/s"]
    if stats["ttft_s"] is not None:
        parts.append(f"first token after {stats['ttft_s']:.2f} s")
    if stats["status"] != "done":
        parts.append(stats["status"])
    return " · ".join(parts)


def _embedding_only(model: Any) -> bool:
    details = model.details
    families = {details.family, *(details.families or [])} if details else set()
    return bool(families & EMBEDDING_FAMILIES) or "embed" in (model.model or "")


def _short(name: str) -> str:
    return name[: -len(":latest")] if name.endswith(":latest") else name


def _default_model() -> str:
    import ollama_nb

    return getattr(ollama_nb, "MODEL", None) or "llama3.1"


# --- The widget -------------------------------------------------------------------------------


class ChatWidget(W.VBox):
    """A chat with an Ollama model: picker, system prompt, options, streaming replies.

    `await w.send(text)` drives it from code (and returns the reply); `w.messages` is the
    history as plain dicts for `ollama.chat`. Clicks and Enter start the same `send` as a task
    on the kernel's loop, so the kernel stays free while the reply streams.
    """

    interval: float = 0.05  # seconds between screen updates: at most 20 per second
    segment_chars: int = 2000  # a live segment is frozen once it holds this many characters

    def __init__(
        self,
        model: str | None = None,
        client: ollama.AsyncClient | None = None,
        system: str | None = None,
        options: dict[str, Any] | ollama.Options | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if hasattr(options, "model_dump"):
            options = options.model_dump(exclude_none=True)
        self.options: dict[str, Any] = dict(options or {})
        self.clock = clock
        self.last_error: str | None = None
        self.stats: dict[str, Any] | None = None
        self._user_client: ollama.AsyncClient | None = None
        self.client = client
        self._client: ollama.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._turns: list[dict[str, Any]] = []
        self._handlers: dict[str, list[Callable[[Any], Any]]] = {e: [] for e in EVENTS}
        self._task: asyncio.Task | None = None
        self._jobs: set[asyncio.Task] = set()
        self._stopping = False
        self._epoch = 0

        model = model or _default_model()
        self._picker = W.Dropdown(options=[model], value=model, description="model")
        wide = {"description_width": "initial"}
        self._temperature = W.FloatSlider(
            value=self.options.get("temperature", 0.8),
            min=0,
            max=2,
            step=0.05,
            description="temperature",
            continuous_update=False,
            style=wide,
        )
        self._max_tokens = W.BoundedIntText(
            value=self.options.get("num_predict", -1),
            min=-1,
            max=1_000_000,
            description="max tokens",
            tooltip="num_predict; -1 means no limit",
            style=wide,
            layout=W.Layout(width="180px"),
        )
        self._system = W.Textarea(
            value=system or "",
            placeholder="System prompt (optional)",
            rows=2,
            layout=W.Layout(width="100%"),
        )
        self._kit = _Kit()
        self._log = W.VBox()
        self._log.add_class("chat-log")
        self.input = W.Text(
            placeholder="Type a message and press Enter", layout=W.Layout(flex="1 1 auto")
        )
        self.input.add_class("chat-input")
        # Enter: the Text view sends a {"event": "submit"} message. Listening for it directly
        # (not the deprecated on_submit) keeps continuous_update=True, so the box's value is
        # already synced when Enter arrives and leaving the box never sends by accident.
        self.input.on_msg(self._on_input_msg)
        self._send_button = self._button("Send", "chat-send", lambda _: self._submit(), "primary")
        self._stop_button = self._button("Stop", "chat-stop", lambda _: self.stop(), "warning")
        self._stop_button.disabled = True
        clear = self._button("Clear", "chat-clear", lambda _: self.clear())
        export = self._button("Export", "chat-export", lambda _: self._toggle_export())
        self._export_text = W.Textarea(rows=8, layout=W.Layout(width="100%"))
        self._export_links = W.HTML()
        self._export_panel = W.VBox(
            [self._export_links, self._export_text], layout=W.Layout(display="none")
        )
        super().__init__(
            [
                W.HTML(_CSS),
                W.HBox([self._picker, self._temperature, self._max_tokens]),
                self._system,
                self._log,
                W.HBox([self.input, self._send_button, self._stop_button, clear, export]),
                self._export_panel,
            ]
        )
        self.add_class("ollama-chat")
        try:
            self._spawn(self.refresh_models())
        except RuntimeError:  # no running loop (a plain script): the picker keeps `model`
            pass

    def focus(self) -> None:
        """Put the cursor in the message box. (DOMWidget.focus would call `send`, which here
        sends a chat message, so both focus and blur are redirected to the input box.)"""
        self.input.focus()

    def blur(self) -> None:
        self.input.blur()

    def __repr__(self) -> str:
        # Stable on purpose: nbval compares the text/plain repr of displayed widgets.
        return f"ChatWidget(model={self.model!r})"

    @staticmethod
    def _button(label: str, css: str, handler: Callable, style: str = "") -> W.Button:
        button = W.Button(description=label, button_style=style, layout=W.Layout(width="auto"))
        button.add_class(css)
        button.on_click(handler)
        return button

    # --- public API ---------------------------------------------------------------------------

    @property
    def model(self) -> str:
        return self._picker.value

    @model.setter
    def model(self, name: str) -> None:
        if name not in self._picker.options:
            self._picker.options = (name, *self._picker.options)
        self._picker.value = name

    @property
    def system(self) -> str:
        return self._system.value

    @system.setter
    def system(self, text: str) -> None:
        self._system.value = text or ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation as plain dicts, ready for `ollama.chat(model, messages=...)`.

        The system prompt (when set) comes first; then every user turn whose request started
        and succeeded, each followed by its reply. A stopped reply is kept as it stands; a
        failed request, or one stopped before anything arrived, leaves no trace here (its text
        goes back into the input box; the failure's explanation is in `last_error`).
        """
        system = self._system.value.strip()
        head = [{"role": "system", "content": system}] if system else []
        return head + [dict(message) for message in self._turns]

    @property
    def client(self) -> ollama.AsyncClient | None:
        """The client given, or None: then an AsyncClient is made from OLLAMA_HOST on first
        use in each event loop. Assign another client to talk to another server."""
        return self._user_client

    @client.setter
    def client(self, client: ollama.AsyncClient | None) -> None:
        if client is not None and not isinstance(client, ollama.AsyncClient):
            raise TypeError(
                "ChatWidget streams without blocking the kernel, so it needs "
                "ollama.AsyncClient(host=...), not ollama.Client."
            )
        self._user_client = client

    @property
    def busy(self) -> bool:
        """True while a reply streams."""
        return self._task is not None and not self._task.done()

    def on(self, event: str, callback: Callable[[Any], Any]) -> None:
        """Call `callback` on "token" (the token's text), "reply" (the reply's text, also when
        stopped) or "error" (the exception; the sentence shown is in `last_error`)."""
        if event not in self._handlers:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, not {event!r}")
        self._handlers[event].append(callback)

    def on_token(self, callback: Callable[[str], Any]) -> None:
        self.on("token", callback)

    def on_reply(self, callback: Callable[[str], Any]) -> None:
        self.on("reply", callback)

    def on_error(self, callback: Callable[[BaseException], Any]) -> None:
        self.on("error", callback)

    async def refresh_models(self) -> list[str]:
        """Fill the picker from the server's `list()`, leaving out embedding-only models (they
        cannot chat). The current choice stays selected, and listed even if not installed, so
        that sending to it shows the real "not installed" error rather than a silent switch."""
        try:
            listing = await self._get_client().list()
        except Exception:
            return []  # no server yet: send() will say so in plain words
        names = [_short(m.model) for m in listing.models if m.model and not _embedding_only(m)]
        current = self.model
        # The current choice goes first: setting options selects the first one, so the value
        # never changes under a reply that is about to start.
        self._picker.options = [current, *(n for n in names if n != _short(current))]
        return names

    async def send(self, text: str | None = None) -> str:
        """Send `text` (default: what is in the input box) and stream the reply; return it.

        The user message joins the history when the request starts. On failure it is taken
        back out, the sentence from `errors.explain` is shown with a Retry button, the text is
        put back into the empty input box, and the partial reply (if any) is returned; nothing
        is raised. `stop()` ends the reply early and keeps the part that arrived.
        """
        text = self.input.value if text is None else text
        if not text.strip():
            return ""
        turn, task = self._start(text)
        try:
            await task
        except asyncio.CancelledError:
            self._finish(turn, "stopped")
            me = asyncio.current_task()
            if not self._stopping or (me is not None and getattr(me, "cancelling", int)()):
                raise
        return turn.reply_text

    async def wait(self) -> None:
        """Wait until no reply is streaming: for a cell after a click or Enter started one."""
        while self._jobs or self.busy:
            running = [*self._jobs, *([self._task] if self.busy else [])]
            await asyncio.gather(*running, return_exceptions=True)

    def stop(self) -> None:
        """End the streaming reply now; what arrived stays on screen and in the history.

        The Stop button calls this; with ipykernel 7 its click is handled even while a cell
        is awaiting `send`, since the reply streams on the kernel's event loop."""
        if self.busy:
            self._stopping = True
            self._task.cancel()

    def clear(self) -> None:
        """Stop any reply and forget the conversation (the system prompt stays)."""
        self.stop()
        self._epoch += 1
        self._turns.clear()
        self.last_error = None
        old, self._log.children = self._log.children, ()
        for widget in old:
            _close_tree(widget)
        self._export_panel.layout.display = "none"

    def export(self, fmt: str = "json") -> str:
        """The conversation as JSON (exactly `messages`) or as Markdown."""
        if fmt == "json":
            return json.dumps(self.messages, ensure_ascii=False, indent=2)
        if fmt in ("markdown", "md"):
            parts = [f"# Chat with {self.model}"]
            for message in self.messages:
                parts.append(f"### {message['role'].capitalize()}\n\n{message['content']}")
            return "\n\n".join(parts) + "\n"
        raise ValueError(f"fmt must be 'json' or 'markdown', not {fmt!r}")

    # --- streaming ----------------------------------------------------------------------------

    def _start(self, text: str) -> tuple[_Turn, asyncio.Task]:
        """Begin a turn at once, without awaiting: a second Enter already finds `busy` set."""
        if self.busy:
            raise RuntimeError("A reply is still streaming: await it, or call stop() first.")
        loop = asyncio.get_running_loop()
        if self.input.value == text:
            self.input.value = ""
        self._stopping = False
        self.last_error = None
        turn = _Turn(text, self._epoch, self._kit, self.segment_chars, self.clock)
        self._turns.append({"role": "user", "content": text})
        self._log.children = (*self._log.children, turn.user, turn.reply)
        self._send_button.disabled, self._stop_button.disabled = True, False
        self._task = task = loop.create_task(self._stream(turn))
        # Stopped before it ever ran, _stream could not finish the turn: this does (once).
        task.add_done_callback(lambda _: self._finish(turn, "stopped"))
        return turn, task

    def _get_client(self) -> ollama.AsyncClient:
        """The given client, or one made inside the running loop: an AsyncClient reads
        OLLAMA_HOST when it is made and its connections belong to the loop that made it."""
        if self._user_client is not None:
            return self._user_client
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client, self._client_loop = ollama.AsyncClient(), loop
        return self._client

    def _request_options(self) -> dict[str, Any]:
        return {
            **self.options,
            "temperature": self._temperature.value,
            "num_predict": self._max_tokens.value,
        }

    async def _stream(self, turn: _Turn) -> None:
        """Read the stream; flush to the screen at most once per `interval`.

        The loop body is kept to a few appends and one clock reading per chunk: at full speed
        the client spends only microseconds per token, and the widget should not add more.
        """
        clock, interval, on_token = self.clock, self.interval, self._handlers["token"]
        parts, thinking = turn.parts, turn.thinking
        next_flush = float("-inf")
        first = chunk = client = None
        try:
            client = self._get_client()
            stream = await client.chat(
                model=self.model,
                messages=self.messages,
                options=self._request_options(),
                stream=True,
            )
            async for chunk in stream:
                now = clock()
                message = chunk.message
                text, thought = message.content, message.thinking
                if text:
                    parts.append(text)
                    for callback in on_token:
                        callback(text)
                if thought:
                    thinking.append(thought)
                if now >= next_flush:  # -inf until the first token: it is shown at once
                    if first is None:
                        if not (parts or thinking):
                            continue
                        first = now
                    turn.flush()
                    next_flush = now + interval
        except asyncio.CancelledError:
            turn.first, turn.last = first, clock()
            self._finish(turn, "stopped")
            raise
        except Exception as exc:
            turn.first, turn.last = first, clock()
            self._finish(turn, "failed", exc, client)
            return
        turn.first, turn.last = first, clock()
        turn.final = chunk if chunk is not None and chunk.done else None
        self._finish(turn, "done")

    def _finish(
        self,
        turn: _Turn,
        status: str,
        exc: BaseException | None = None,
        client: ollama.AsyncClient | None = None,
    ) -> None:
        """Render the reply, write the figures, update the history; once per turn."""
        if turn.finished:
            return
        turn.finished = True
        self._send_button.disabled, self._stop_button.disabled = False, True
        if turn.epoch != self._epoch:  # cleared meanwhile: its widgets are gone
            return
        self.stats = turn.stats(status)
        turn.render()
        turn.figures.value = _figures_line(self.stats)
        nothing = not (turn.reply_text or turn.thinking)
        if status == "failed" or (status == "stopped" and nothing):
            # Nothing to keep: the history is as it was before this request, the typed text
            # goes back into the (empty) box, and no empty reply is left on screen.
            self._turns.pop()
            if not self.input.value:
                self.input.value = turn.text
            if nothing:
                gone = (turn.reply,) if status == "failed" else (turn.user, turn.reply)
                self._log.children = tuple(c for c in self._log.children if c not in gone)
                for widget in gone:
                    _close_tree(widget)
        if status == "failed":
            host = None
            try:
                host = str(client._client.base_url).rstrip("/")
            except AttributeError:
                pass
            self.last_error = errors.explain(exc, model=self.model, host=host)
            self._show_error(turn.text, self.last_error)
            for callback in self._handlers["error"]:
                callback(exc)
            return
        if nothing:
            return
        reply: dict[str, Any] = {"role": "assistant", "content": turn.reply_text}
        if turn.thinking:
            reply["thinking"] = "".join(turn.thinking)
        self._turns.append(reply)
        for callback in self._handlers["reply"]:
            callback(turn.reply_text)

    def _show_error(self, text: str, sentence: str) -> None:
        """The sentence in place, with a Retry button that sends `text` again (if any)."""
        message = W.HTML(html.escape(sentence), _dom_classes=("chat-error",))
        if not text:
            self._log.children = (*self._log.children, message)
            return
        retry = W.Button(
            description="Retry",
            icon="redo",
            layout=W.Layout(width="auto"),
            _dom_classes=("chat-retry",),
        )

        def again(button: W.Button) -> None:
            if not self.busy:
                button.disabled = True
                self._start(text)

        retry.on_click(again)
        self._log.children = (*self._log.children, W.HBox([message, retry]))

    # --- events -------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task:
        """Run `coro` as a task on the running loop, keeping a reference (the loop keeps only
        weak ones, so an unreferenced task can vanish mid-reply)."""
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            raise
        self._jobs.add(task)
        task.add_done_callback(self._job_done)
        return task

    def _job_done(self, task: asyncio.Task) -> None:
        self._jobs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.last_error = errors.explain(exc, model=self.model)
            self._show_error("", self.last_error)

    def _submit(self) -> None:
        """Enter or Send: start a reply, unless one is streaming (the text then stays in the
        box until it ends). The reply runs as a task; nothing here waits for it."""
        if self.busy or not self.input.value.strip():
            return
        try:
            self._start(self.input.value)
        except RuntimeError:
            self._show_error("", "Sending needs a running event loop: use await w.send(text).")

    def _on_input_msg(self, _widget: W.Widget, content: dict, _buffers: Any) -> None:
        if content.get("event") == "submit":
            self._submit()

    def _toggle_export(self) -> None:
        panel = self._export_panel
        if panel.layout.display != "none":
            panel.layout.display = "none"
            return
        markdown, data = self.export("markdown"), self.export("json")
        links = []
        for name, mime, body in (
            ("chat.md", "text/markdown", markdown),
            ("chat.json", "application/json", data),
        ):
            encoded = base64.b64encode(body.encode()).decode()
            links.append(
                f'<a download="{name}" href="data:{mime};charset=utf-8;base64,{encoded}">'
                f"Download {name}</a>"
            )
        self._export_links.value = " · ".join(links)
        self._export_text.value = markdown
        panel.layout.display = "flex"
