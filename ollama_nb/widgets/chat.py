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
  more as a whole when complete (or stopped, or cut off), by mistune with raw HTML escaped and
  code highlighted by pygments (`widgets/markdown.py`: the HTML widget inserts its value as-is,
  so nothing the model writes may become markup).
- The log scrolls as one box and keeps every message at its full height; an invisible
  `Bridge` view keeps it on the newest message unless the learner scrolled up, and makes the
  Copy buttons work (`widgets/bridge.py`).
- Failures are shown in place as one plain sentence (`ollama_nb.errors.explain`) with a Retry
  button; the history stays as it was before the failed request and the typed text goes back
  into the input box.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import ollama
from ipywidgets.widgets.widget_string import HTMLStyle

from .. import errors
from ..i18n import Messages
from .bridge import Bridge
from .markdown import code_css, markdown_to_html

__all__ = ["ChatWidget", "markdown_to_html"]

EMBEDDING_FAMILIES = {"bert", "nomic-bert", "xlm-roberta"}
EVENTS = ("token", "reply", "error")

_ = Messages(
    {
        "settings": {"en": "Settings", "zh": "设置"},
        "model": {"en": "model", "zh": "模型"},
        "model_tip": {
            "en": "The model that answers; the list is read from the server when this panel opens.",
            "zh": "回答问题的模型；每次打开本面板都会从服务器重新读取模型列表。",
        },
        "temperature": {"en": "temperature", "zh": "temperature（随机性）"},
        "temperature_tip": {
            "en": "0 gives the same answer every time; higher values vary more.",
            "zh": "0 表示每次回答都一样；数值越大，回答越多变。",
        },
        "max_tokens": {"en": "max tokens", "zh": "最多 token 数"},
        "no_limit": {"en": "no limit", "zh": "不限"},
        "max_tokens_tip": {
            "en": "num_predict: the reply stops after this many tokens.",
            "zh": "num_predict：回答达到这么多 token 后就停止。",
        },
        "system": {
            "en": "System prompt (optional): how the model should behave",
            "zh": "系统提示词（可选）：希望模型以什么方式回答",
        },
        "placeholder": {
            "en": "Type a message and press Enter",
            "zh": "输入消息，按 Enter 发送",
        },
        "send": {"en": "Send", "zh": "发送"},
        "send_tip": {"en": "Send the message (Enter)", "zh": "发送消息（Enter）"},
        "stop": {"en": "Stop", "zh": "停止"},
        "stop_tip": {
            "en": "End the reply now; what arrived is kept",
            "zh": "立即结束回答，已收到的部分会保留",
        },
        "clear": {"en": "Clear", "zh": "清空"},
        "clear_tip": {
            "en": "Forget the conversation (the system prompt stays)",
            "zh": "清空对话（系统提示词保留）",
        },
        "export": {"en": "Export", "zh": "导出"},
        "export_tip": {
            "en": "Download the conversation as Markdown or JSON",
            "zh": "把对话下载为 Markdown 或 JSON 文件",
        },
        "download": {"en": "Download {name}", "zh": "下载 {name}"},
        "waiting": {"en": "waiting for the first token…", "zh": "等待第一个 token…"},
        "streaming": {"en": "streaming…", "zh": "正在生成…"},
        "thinking": {"en": "Thinking", "zh": "思考过程"},
        "copy": {"en": "Copy", "zh": "复制"},
        "copied": {"en": "Copied", "zh": "已复制"},
        "copy_tip": {"en": "Copy this reply (Markdown)", "zh": "复制这条回答（Markdown）"},
        "retry": {"en": "Retry", "zh": "重试"},
        "retry_tip": {"en": "Send the same message again", "zh": "再次发送同一条消息"},
        "tokens": {"en": "{n} tokens", "zh": "{n} tokens"},
        "rate": {"en": "{rate:.1f} tokens/s", "zh": "{rate:.1f} tokens/s"},
        "ttft": {"en": "first token after {s:.2f} s", "zh": "首个 token 用时 {s:.2f} s"},
        "stopped": {"en": "stopped", "zh": "已停止"},
        "failed": {"en": "failed", "zh": "失败"},
        "cut": {
            "en": "cut off at the max tokens limit ({n}): raise it in Settings for a longer reply",
            "zh": "达到最多 token 数上限（{n}）被截断：在设置中调大即可得到更长的回答",
        },
        "no_loop": {
            "en": "Sending needs a running event loop: use await w.send(text).",
            "zh": "发送需要正在运行的事件循环：请使用 await w.send(text)。",
        },
    }
)

_SCOPE = ".ollama-chat"
_CSS = (
    "<style>"
    # The log scrolls as a whole; nothing inside it ever shrinks or scrolls on its own, so
    # every message keeps its full height however long the conversation grows.
    ".ollama-chat .chat-log { max-height: 520px; overflow-y: auto; overflow-x: hidden;"
    " flex: 0 1 auto; padding: 2px 8px; margin: 4px 0;"
    " border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 4px; }"
    ".ollama-chat .chat-log > *, .ollama-chat .chat-log .widget-box > * { flex: 0 0 auto; }"
    ".ollama-chat .chat-log .widget-box, .ollama-chat .chat-log .widget-html,"
    " .ollama-chat .chat-log .widget-html-content { overflow: visible; height: auto;"
    " min-height: 0; max-height: none; }"
    ".ollama-chat .widget-html-content { line-height: 1.45; }"
    ".ollama-chat .chat-assistant p { margin: 0.4em 0; }"
    ".ollama-chat .chat-user { align-self: flex-end; max-width: 85%; padding: 2px 10px;"
    " margin: 6px 0 2px; border-radius: 10px; background: var(--jp-layout-color2, #eee); }"
    ".ollama-chat .chat-assistant { max-width: 95%; }"
    ".ollama-chat .chat-stream { white-space: pre-wrap; overflow-wrap: anywhere; }"
    ".ollama-chat .chat-md { overflow-wrap: anywhere; }"
    ".ollama-chat .chat-meta { color: var(--jp-ui-font-color2, #666); font-size: 85%; }"
    ".ollama-chat .chat-meta .chat-cut { color: var(--jp-warn-color1, #b26a00); }"
    ".ollama-chat .chat-copy { margin-left: 8px; padding: 0 8px; height: 20px; font-size: 90%;"
    " cursor: pointer; border: 1px solid var(--jp-border-color1, #ccc); border-radius: 3px;"
    " background: var(--jp-layout-color1, #fff); color: var(--jp-ui-font-color1, #333); }"
    ".ollama-chat .chat-error-row { flex-wrap: wrap; align-items: center; gap: 4px 8px; }"
    ".ollama-chat .chat-error-row > .chat-error { flex: 1 1 240px; min-width: 0; }"
    ".ollama-chat .chat-error-row > .chat-retry { flex: 0 0 auto; }"
    ".ollama-chat .chat-error { color: var(--jp-error-color1, #c62828); white-space: normal; }"
    ".ollama-chat pre { background: var(--jp-layout-color2, #f5f5f5); padding: 6px 8px;"
    " overflow-x: auto; }"
    ".ollama-chat table { border-collapse: collapse; }"
    ".ollama-chat th, .ollama-chat td { border: 1px solid var(--jp-border-color1, #ccc);"
    " padding: 2px 6px; }"
    # A disabled button must look disabled (a greyed warning colour still invites a click).
    ".ollama-chat .jupyter-button:disabled { opacity: 0.4; filter: grayscale(1);"
    " cursor: not-allowed; box-shadow: none; }"
    ".ollama-chat .chat-download { text-decoration: none; display: inline-flex;"
    " align-items: center; padding: 0 12px; margin-right: 8px; }"
    ".ollama-chat .chat-download:hover { text-decoration: none; }"
    f"{code_css(_SCOPE)}"
    "</style>"
)


def _escaped(text: str) -> str:
    return '<div class="chat-stream">' + html.escape(text, quote=False) + "</div>"


def _render_live(text: str) -> str:
    return '<div class="chat-md">' + markdown_to_html(text) + "</div>"


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
    a code block is rendered with that block's opening fence, so code stays code. Segments
    are frozen at paragraph breaks when there is one, so the final rendering is the frozen
    segments' HTML joined: Markdown is parsed once per segment, never the whole reply again.
    """

    def __init__(self, kit: _Kit, limit: int) -> None:
        self.kit, self.limit = kit, limit
        self.box = kit.box()
        self.live: W.HTML | None = None
        self.live_text = ""
        self.fence = ""  # the opening ``` line when the live segment starts inside a code block
        self.frozen: list[str] = []  # the HTML of each frozen segment

    def add(self, text: str) -> None:
        """Show `text` after what is there: one update, three when a segment is frozen."""
        self.live_text += text
        cut = _break_point(self.live_text, self.limit)
        if self.live is not None and cut:
            frozen, self.live_text = self.live_text[:cut], self.live_text[cut:]
            self.frozen.append(_render_live(self.fence + frozen))
            self.live.value = self.frozen[-1]
            self.fence = _open_fence(self.fence + frozen)
            self.live = None
        if self.live is None:
            self.live = self.kit.html(_render_live(self.fence + self.live_text))
            self.box.children = (*self.box.children, self.live)
        else:
            self.live.value = _render_live(self.fence + self.live_text)

    def finish(self, rest_text: str = "") -> None:
        """Replace the segments by one widget holding the final rendering (sent once):
        the frozen segments' HTML and the live segment (with `rest_text`) rendered again."""
        self.live_text += rest_text
        tail = _render_live(self.fence + self.live_text) if self.live_text.strip() else ""
        value = "".join(self.frozen) + tail
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
        self.cut_at: int | None = None  # the max tokens limit, when it ended the reply
        self.finished = False
        # CSS classes go in the constructors: add_class afterwards costs one more message each.
        self.user = kit.html(_escaped(text), "chat-user")
        self.content = _Segments(kit, limit)
        self.think_view: _Segments | None = None
        self.figures = kit.html(f"<i>{_('waiting')}</i>", "chat-figures", "copy-scope")
        self.reply = kit.box((self.content.box, self.figures), "chat-assistant")

    @property
    def reply_text(self) -> str:
        return "".join(self.parts)

    def flush(self) -> None:
        """Show what arrived since the last flush: one update per text widget at most."""
        self.frames += 1
        if self.frames == 1:
            self.figures.value = f"<i>{_('streaming')}</i>"
        if len(self.thinking) > self.thinking_shown:
            if self.think_view is None:
                self.think_view = _Segments(self.kit, self.limit)
                title = (_("thinking"),)
                fold = W.Accordion([self.think_view.box], titles=title, selected_index=None)
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
            self.think_view.finish("".join(self.thinking[self.thinking_shown :]))
            self.thinking_shown = len(self.thinking)
        rest = "".join(self.parts[self.shown :])
        # Keep the joined text as the only part, so later reads of reply_text cost nothing.
        self.parts[:] = [self.reply_text]
        self.shown = len(self.parts)
        self.content.finish(rest)

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
            "cut_at": self.cut_at,
        }


def _figures_line(stats: dict[str, Any], reply: str = "") -> str:
    """The line under a reply: its figures, a note when max tokens cut it, a Copy button."""
    parts = [_("tokens", n=stats["tokens"]), _("rate", rate=stats["tokens_per_s"])]
    if stats["ttft_s"] is not None:
        parts.append(_("ttft", s=stats["ttft_s"]))
    if stats["status"] in ("stopped", "failed"):
        parts.append(_(stats["status"]))
    line = html.escape(" · ".join(parts))
    if stats.get("cut_at") is not None:
        line += ' · <span class="chat-cut">' + html.escape(_("cut", n=stats["cut_at"])) + "</span>"
    if reply:
        line += (
            f'<button class="chat-copy" data-copy data-done="{_("copied")}" '
            f'title="{_("copy_tip")}">{_("copy")}</button>'
            f'<textarea class="copy-text" hidden>{html.escape(reply, quote=False)}</textarea>'
        )
    return line


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
        wide = {"description_width": "initial"}
        self._picker = W.Dropdown(
            options=[model],
            value=model,
            description=_("model"),
            description_allow_html=False,
            tooltip=_("model_tip"),
            style=wide,
        )
        self._temperature = W.FloatSlider(
            value=self.options.get("temperature", 0.8),
            min=0,
            max=2,
            step=0.05,
            description=_("temperature"),
            tooltip=_("temperature_tip"),
            continuous_update=False,
            style=wide,
        )
        limit = self.options.get("num_predict")
        limited = isinstance(limit, int) and limit > 0
        self._no_limit = W.Checkbox(
            value=not limited,
            description=_("no_limit"),
            indent=False,
            tooltip=_("max_tokens_tip"),
            layout=W.Layout(width="auto"),
        )
        self._max_tokens = W.BoundedIntText(
            value=limit if limited else 256,
            min=1,
            max=1_000_000,
            description=_("max_tokens"),
            tooltip=_("max_tokens_tip"),
            disabled=not limited,
            style=wide,
            layout=W.Layout(width="200px"),
        )
        self._no_limit.observe(self._on_no_limit, "value")
        self._system = W.Textarea(
            value=system or "",
            placeholder=_("system"),
            rows=2,
            layout=W.Layout(width="100%"),
        )
        settings = W.VBox(
            [
                W.HBox([self._picker, self._temperature], layout=W.Layout(flex_flow="row wrap")),
                W.HBox(
                    [self._max_tokens, self._no_limit],
                    layout=W.Layout(align_items="center"),
                ),
                self._system,
            ]
        )
        self._settings = W.Accordion([settings], titles=(self._settings_title(),))
        self._settings.selected_index = None
        self._settings.add_class("chat-settings")
        self._settings.observe(self._on_settings, "selected_index")
        for control in (self._picker, self._temperature, self._no_limit, self._max_tokens):
            control.observe(self._retitle, "value")
        self._kit = _Kit()
        self._log = W.VBox(_dom_classes=("chat-log", "follow-newest"))
        self.input = W.Text(
            placeholder=_("placeholder"), layout=W.Layout(flex="1 1 auto", width="auto")
        )
        self.input.add_class("chat-input")
        # Enter: the Text view sends a {"event": "submit"} message. Listening for it directly
        # (not the deprecated on_submit) keeps continuous_update=True, so the box's value is
        # already synced when Enter arrives and leaving the box never sends by accident.
        self.input.on_msg(self._on_input_msg)
        self._send_button = self._button(
            _("send"), "chat-send", lambda _b: self._submit(), "primary", _("send_tip"), "send"
        )
        self._stop_button = self._button(
            _("stop"), "chat-stop", lambda _b: self.stop(), "warning", _("stop_tip"), "stop"
        )
        self._stop_button.disabled = True
        clear = self._button(_("clear"), "chat-clear", lambda _b: self.clear(), "", _("clear_tip"))
        export = self._button(
            _("export"), "chat-export", lambda _b: self._toggle_export(), "", _("export_tip")
        )
        self._export_text = W.Textarea(rows=8, layout=W.Layout(width="100%"))
        self._export_links = W.HTML()
        self._export_panel = W.VBox(
            [self._export_links, self._export_text], layout=W.Layout(display="none")
        )
        self._bridge = Bridge(_SCOPE)
        super().__init__(
            [
                W.HTML(_CSS),
                self._settings,
                self._log,
                W.HBox([self.input, self._send_button, self._stop_button, clear, export]),
                self._export_panel,
                self._bridge,
            ]
        )
        self.add_class("ollama-chat")
        try:
            self._spawn(self.refresh_models())
        except RuntimeError:  # no running loop (a plain script): the picker keeps `model`
            pass

    def _settings_title(self) -> str:
        """The folded panel's title says what is in force, so it rarely needs opening."""
        limit = _("no_limit") if self._no_limit.value else str(self._max_tokens.value)
        return (
            f"{_('settings')} · {self._picker.value} · {_('temperature')} "
            f"{self._temperature.value:g} · {_('max_tokens')} {limit}"
        )

    def _retitle(self, _change: Any = None) -> None:
        self._settings.set_title(0, self._settings_title())

    def _on_no_limit(self, change: dict) -> None:
        self._max_tokens.disabled = bool(change["new"])

    def _on_settings(self, change: dict) -> None:
        """Opening the panel reads the model list again: models pulled since then show up."""
        if change["new"] is not None:
            try:
                self._spawn(self.refresh_models())
            except RuntimeError:
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
    def _button(
        label: str, css: str, handler: Callable, style: str = "", tip: str = "", icon: str = ""
    ) -> W.Button:
        button = W.Button(
            description=label,
            button_style=style,
            tooltip=tip,
            icon=icon,
            layout=W.Layout(width="auto", flex="0 0 auto"),
        )
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
        options = {**self.options, "temperature": self._temperature.value}
        options.pop("num_predict", None)
        if not self._no_limit.value:
            options["num_predict"] = self._max_tokens.value
        return options

    @property
    def max_tokens(self) -> int | None:
        """The reply's length limit in tokens (num_predict), or None for no limit."""
        return None if self._no_limit.value else self._max_tokens.value

    @max_tokens.setter
    def max_tokens(self, limit: int | None) -> None:
        if limit is None or limit <= 0:
            self._no_limit.value = True
        else:
            self._max_tokens.value = limit
            self._no_limit.value = False

    async def _stream(self, turn: _Turn) -> None:
        """Read the stream; show the first token at once, then flush at most once per `interval`.

        The flushes after the first come from a timer on the event loop, not from a clock
        reading per chunk: at full speed the client spends only microseconds per token, and
        the loop body is kept to a few appends so that the widget does not add more.
        """
        clock, interval, on_token = self.clock, self.interval, self._handlers["token"]
        parts, thinking = turn.parts, turn.thinking
        loop = asyncio.get_running_loop()
        first = chunk = client = ticker = None

        def tick() -> None:
            nonlocal ticker
            if len(parts) > turn.shown or len(thinking) > turn.thinking_shown:
                turn.flush()
            ticker = loop.call_later(interval, tick)

        try:
            client = self._get_client()
            stream = await client.chat(
                model=self.model,
                messages=self.messages,
                options=self._request_options(),
                stream=True,
            )
            try:
                async for chunk in stream:
                    message = chunk.message
                    text = message.content
                    if text:
                        parts.append(text)
                        if on_token:
                            for callback in on_token:
                                callback(text)
                    thought = message.thinking
                    if thought:
                        thinking.append(thought)
                    if first is None and (text or thought):
                        first = clock()
                        turn.flush()
                        ticker = loop.call_later(interval, tick)
            finally:
                if ticker is not None:
                    ticker.cancel()
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
        if turn.final is not None and turn.final.done_reason == "length":
            turn.cut_at = self._request_options().get("num_predict")
            turn.cut_at = turn.cut_at or turn.final.eval_count
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
        turn.figures.value = _figures_line(self.stats, turn.reply_text)
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
            turn.figures.value = _figures_line(self.stats)  # nothing to copy from a failure
            host = None
            try:
                host = str(client._client.base_url).rstrip("/")
            except AttributeError:
                pass
            self.last_error = errors.explain(exc, model=self.model, host=host)
            self._show_error(turn.text, self.last_error, turn)
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

    def _show_error(self, text: str, sentence: str, turn: _Turn | None = None) -> None:
        """The sentence in place, with a Retry button that sends `text` again (if any).

        Retry takes the failed question (and this error) off the screen before sending it
        again, so the question never shows twice."""
        message = W.HTML(html.escape(sentence), _dom_classes=("chat-error",))
        if not text:
            self._log.children = (*self._log.children, message)
            return
        retry = W.Button(
            description=_("retry"),
            tooltip=_("retry_tip"),
            icon="redo",
            layout=W.Layout(width="auto", flex="0 0 auto"),
            _dom_classes=("chat-retry",),
        )
        row = W.HBox([message, retry], _dom_classes=("chat-error-row",))

        def again(button: W.Button) -> None:
            if self.busy:
                return
            button.disabled = True
            gone = [row]
            if turn is not None and turn.user in self._log.children:
                gone.append(turn.user)
                if turn.reply in self._log.children:
                    gone.append(turn.reply)
            self._log.children = tuple(c for c in self._log.children if c not in gone)
            self._start(text)
            for widget in gone:
                _close_tree(widget)

        retry.on_click(again)
        self._log.children = (*self._log.children, row)

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
            self._show_error("", _("no_loop"))

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
                f'<a class="jupyter-button widget-button chat-download" download="{name}" '
                f'href="data:{mime};charset=utf-8;base64,{encoded}">'
                f"&#x2B73; {html.escape(_('download', name=name))}</a>"
            )
        self._export_links.value = "".join(links)
        self._export_text.value = markdown
        panel.layout.display = "flex"
