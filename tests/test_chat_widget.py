"""ChatWidget, headless, against real practice servers (no kernel, no browser).

Widgets get a comm that records what would go to the browser (testing-notes §5.4), so the
tests can count updates as well as read the widgets' state.
"""

from __future__ import annotations

import asyncio
import base64
import html
import itertools
import json
import re
import socket

import comm
import ollama
import pytest
from comm.base_comm import BaseComm

from ollama_nb import errors
from ollama_nb.server import PracticeServer
from ollama_nb.widgets.chat import ChatWidget, markdown_to_html

pytestmark = pytest.mark.anyio

SKY = "Why is the sky blue?"


class RecordingComm(BaseComm):
    """Keeps every message a widget would send to the front end."""

    log: list[tuple[str, dict]] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.log.append((msg_type, data or {}))


@pytest.fixture(autouse=True)
def recorded(monkeypatch):
    RecordingComm.log = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return RecordingComm.log


def updates(log) -> int:
    return sum(1 for kind, data in log if kind == "comm_msg" and data.get("method") == "update")


@pytest.fixture(scope="module")
def srv():
    with PracticeServer(port=0, speed=0) as server:
        yield server


@pytest.fixture(scope="module")
def slow_srv():
    with PracticeServer(port=0, speed=50) as server:
        yield server


@pytest.fixture
async def chat():
    """chat(server, **kwargs) -> a ChatWidget on its own client; chat.client(url, **kwargs) ->
    an AsyncClient. All the clients are closed after the test."""
    clients = []

    def client(url: str, **kwargs) -> ollama.AsyncClient:
        clients.append(ollama.AsyncClient(host=url, **kwargs))
        return clients[-1]

    def make(server: PracticeServer, **kwargs) -> ChatWidget:
        return ChatWidget(client=client(server.url), **kwargs)

    make.client = client
    yield make
    for client in clients:
        await client.close()


def descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def with_class(widget, css: str) -> list:
    return [w for w in descendants(widget) if css in w._dom_classes]


def shown_text(widget) -> str:
    """The visible text of a widget tree, tags stripped and entities decoded."""
    values = [w.value for w in descendants(widget) if isinstance(getattr(w, "value", 0), str)]
    return html.unescape(re.sub(r"<[^>]+>", "", "".join(values)))


def frontend(data: dict) -> dict:
    """A comm message as the browser sends it to a widget."""
    return {"content": {"data": data}, "buffers": []}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- conversation -----------------------------------------------------------------------------


async def test_multi_turn_history(chat, srv):
    w = chat(srv)
    first = await w.send("My name is Ada")
    assert first and w.messages == [
        {"role": "user", "content": "My name is Ada"},
        {"role": "assistant", "content": first},
    ]
    second = await w.send("What is my name?")
    assert "Ada" in second
    assert [m["role"] for m in w.messages] == ["user", "assistant", "user", "assistant"]
    assert w.messages[-1]["content"] == second
    # the history is ready for the library itself
    again = await chat.client(srv.url).chat(model="llama3.1", messages=w.messages[:3])
    assert "Ada" in again.message.content
    assert len(with_class(w, "chat-user")) == 2
    assert len(with_class(w, "chat-assistant")) == 2
    assert "Ada" in shown_text(with_class(w, "chat-assistant")[-1])
    figures = with_class(w, "chat-figures")[-1].value
    assert "tokens/s" in figures and "first token after" in figures
    assert w.stats["status"] == "done" and w.stats["tokens"] > 0


async def test_chinese_prompt(chat, srv):
    w = chat(srv)
    reply = await w.send("为什么天空是蓝色的？")
    assert "瑞利散射" in reply
    assert w.messages[-1] == {"role": "assistant", "content": reply}
    assert "瑞利散射" in shown_text(with_class(w, "chat-assistant")[0])


async def test_system_prompt_and_options_reach_the_server(chat, srv):
    w = chat(srv, system="You are Mario from Super Mario Bros.", options={"temperature": 0})
    system = {"role": "system", "content": "You are Mario from Super Mario Bros."}
    assert w.messages == [system]
    reply = await w.send("Hello")
    assert w.messages[0] == system
    assert reply != await chat(srv).send("Hello")  # the persona shows
    plain = await chat.client(srv.url).chat(
        model="llama3.1", messages=w.messages[:2], options={"temperature": 0, "num_predict": -1}
    )
    assert reply == plain.message.content


async def test_reply_is_rendered_as_markdown_at_the_end(chat, srv):
    w = chat(srv)
    await w.send(SKY)
    reply = with_class(w, "chat-assistant")[0]
    body = reply.children[0].children  # one HTML widget once the reply is complete
    assert len(body) == 1 and body[0].value.startswith('<div class="chat-md"><p>')


async def test_thinking_is_shown_folded(chat, srv):
    await chat.client(srv.url).pull("qwen3:0.6b")
    w = chat(srv, model="qwen3:0.6b")
    reply = await w.send(SKY)
    assert reply and w.messages[-1]["thinking"]
    fold = with_class(w, "chat-assistant")[0].children[0]
    assert fold.titles == ("Thinking",) and fold.selected_index is None
    assert "practice server" in shown_text(fold)


async def test_picker_lists_chat_models_first_and_leaves_out_embedding_models(chat, srv):
    w = chat(srv)
    names = await w.refresh_models()
    assert "llama3.1" in names and "nomic-embed-text" not in names
    assert w._picker.options[0] == "llama3.1" and w.model == "llama3.1"
    w.model = "not-installed"
    await w.refresh_models()
    assert w.model == "not-installed" and "llama3.1" in w._picker.options


async def test_callbacks(chat, srv):
    w = chat(srv)
    tokens, replies = [], []
    w.on_token(tokens.append)
    w.on_reply(replies.append)
    reply = await w.send(SKY)
    assert len(tokens) > 10 and "".join(tokens) == reply and replies == [reply]
    with pytest.raises(ValueError):
        w.on("nope", print)


async def test_a_second_send_while_streaming_is_refused(chat, slow_srv):
    w = chat(slow_srv)
    task = asyncio.create_task(w.send(SKY))
    await asyncio.sleep(0.1)
    with pytest.raises(RuntimeError, match="still streaming"):
        await w.send("again")
    w.stop()
    await task


# --- stop, failures, retry --------------------------------------------------------------------


async def test_stop_keeps_the_partial_reply(chat, srv, slow_srv):
    full = await chat(srv).send(SKY)
    w = chat(slow_srv)
    task = asyncio.create_task(w.send(SKY))
    await asyncio.sleep(0.3)
    assert w.busy and w._send_button.disabled and not w._stop_button.disabled
    with_class(w, "chat-stop")[0].click()
    partial = await task
    assert partial and len(partial) < len(full) and full.startswith(partial)
    assert w.messages[-1] == {"role": "assistant", "content": partial}
    assert w.stats["status"] == "stopped"
    assert "stopped" in with_class(w, "chat-figures")[-1].value
    assert not w.busy and not w._send_button.disabled and w._stop_button.disabled


@pytest.fixture(params=["unknown model", "no server", "stream cut", "timeout"])
def failing(request, srv):
    """(server url, client arguments, model or None, words the explanation must contain)."""
    servers = []

    def server(faults):
        servers.append(PracticeServer(port=0, speed=0, faults=faults).start())
        return servers[-1].url

    case = request.param
    if case == "unknown model":
        yield srv.url, {}, "no-such-model", "not installed"
    elif case == "no server":
        yield f"http://127.0.0.1:{closed_port()}", {}, None, "Cannot reach"
    elif case == "stream cut":
        yield server("cut=5@chat"), {}, None, "closed before the reply was complete"
    else:
        yield server("stall=3@chat"), {"timeout": 1}, None, "took too long"
    for s in servers:
        s.stop()


async def test_failures_keep_history_and_typed_text(chat, srv, failing):
    url, client_args, bad_model, words = failing
    bad_client = chat.client(url, **client_args)
    w = chat(srv)
    await w.send("My name is Ada")
    before = w.messages
    seen = []
    w.on_error(seen.append)
    w.client = bad_client
    if bad_model:
        w.model = bad_model
    w.input.value = SKY
    partial = await w.send()  # what Enter and Send do: send the box's text
    assert w.messages == before
    assert w.input.value == SKY
    assert len(seen) == 1
    host = str(bad_client._client.base_url).rstrip("/")
    assert w.last_error == errors.explain(seen[0], model=w.model, host=host)
    assert words in w.last_error
    [shown] = with_class(w, "chat-error")
    assert html.unescape(shown.value) == w.last_error
    assert with_class(w, "chat-retry")
    assert not w.busy and not w._send_button.disabled
    # the part that arrived stays shown
    if words in ("closed before the reply was complete", "took too long"):
        assert partial.startswith("[practice server]")
        assert partial in shown_text(with_class(w, "chat-assistant")[-1])
        assert w.stats["status"] == "failed"
    else:  # nothing arrived: no empty reply is left on screen, only the good turn's
        assert partial == "" and len(with_class(w, "chat-assistant")) == 1


async def test_retry_resends_the_failed_message(chat, srv):
    w = chat(srv)
    w.client = chat.client(f"http://127.0.0.1:{closed_port()}")
    w.input.value = "My name is Ada"
    await w.send()
    assert w.messages == [] and w.input.value == "My name is Ada"
    w.client = chat.client(srv.url)
    [retry] = with_class(w, "chat-retry")
    retry.click()
    await w.wait()
    assert retry.disabled and w.input.value == ""
    assert [m["content"] for m in w.messages][:1] == ["My name is Ada"]
    assert len(w.messages) == 2 and w.last_error is None


# --- controls ---------------------------------------------------------------------------------


async def test_enter_sends(chat, srv):
    w = chat(srv)
    # What the browser's Text view sends: the value as the user types, then on Enter a
    # custom {"event": "submit"} message.
    w.input._handle_msg(frontend({"method": "update", "state": {"value": SKY}}))
    await asyncio.sleep(0.05)
    assert w.input.value == SKY and w.messages == []  # typing alone sends nothing
    w.input._handle_msg(frontend({"method": "custom", "content": {"event": "submit"}}))
    await w.wait()
    assert w.input.value == ""
    assert w.messages[0] == {"role": "user", "content": SKY}
    assert "Rayleigh" in w.messages[1]["content"]


async def test_a_double_enter_sends_once(chat, srv):
    w = chat(srv)
    w.input.value = SKY
    submit = frontend({"method": "custom", "content": {"event": "submit"}})
    w.input._handle_msg(submit)
    w.input._handle_msg(submit)
    await w.wait()
    assert [m["role"] for m in w.messages] == ["user", "assistant"] and w.last_error is None


async def test_stop_before_the_reply_starts(chat, srv):
    w = chat(srv)
    w.input.value = SKY
    with_class(w, "chat-send")[0].click()
    with_class(w, "chat-stop")[0].click()  # before the task has run at all
    await w.wait()
    await asyncio.sleep(0)
    # Nothing arrived, so nothing is kept: as if never sent, the text back in the box.
    assert w.messages == [] and w.input.value == SKY and w._log.children == ()
    assert w.stats["status"] == "stopped" and not w._send_button.disabled


async def test_send_button(chat, srv):
    w = chat(srv)
    w.input.value = "My name is Ada"
    with_class(w, "chat-send")[0].click()
    await w.wait()
    assert len(w.messages) == 2


async def test_clear(chat, srv, recorded):
    w = chat(srv, system="Be brief.")
    await w.send(SKY)
    log = w._log.children
    with_class(w, "chat-clear")[0].click()
    assert w.messages == [{"role": "system", "content": "Be brief."}]
    assert w._log.children == () and all(child.comm is None for child in log)
    await w.send("My name is Ada")
    assert len(w.messages) == 3


async def test_clear_while_streaming(chat, slow_srv):
    w = chat(slow_srv)
    task = asyncio.create_task(w.send(SKY))
    await asyncio.sleep(0.2)
    w.clear()
    await task
    assert w.messages == [] and w._log.children == () and not w.busy


async def test_export_round_trips(chat, srv):
    w = chat(srv, system="Be brief.")
    await w.send("My name is Ada")
    await w.send("What is my name?")
    assert json.loads(w.export("json")) == w.messages
    markdown = w.export("markdown")
    assert "### User\n\nWhat is my name?" in markdown and "Your name is Ada" in markdown
    with_class(w, "chat-export")[0].click()
    assert w._export_panel.layout.display == "flex"
    assert w._export_text.value == markdown
    encoded = re.search(r'href="data:application/json;charset=utf-8;base64,([^"]+)"',
                        w._export_links.value)  # fmt: skip
    assert json.loads(base64.b64decode(encoded[1])) == w.messages
    with pytest.raises(ValueError):
        w.export("pdf")


async def test_css_classes_and_a_stable_repr(chat, srv):
    w = chat(srv)
    assert "ollama-chat" in w._dom_classes
    for css in ("chat-input", "chat-send", "chat-stop", "chat-clear"):
        assert len(with_class(w, css)) == 1, css
    assert repr(w) == "ChatWidget(model='llama3.1')"
    assert w._repr_mimebundle_()["text/plain"] == "ChatWidget(model='llama3.1')"
    await w.send(SKY)
    assert repr(w) == "ChatWidget(model='llama3.1')"


async def test_default_client_and_model_come_from_setup(srv, monkeypatch):
    import ollama_nb

    monkeypatch.setenv("OLLAMA_HOST", srv.url)  # what ollama_nb.setup() sets
    monkeypatch.setattr(ollama_nb, "MODEL", "llama3.1")
    w = ollama_nb.ChatWidget()
    assert w.model == "llama3.1" and w.client is None
    assert "Rayleigh" in await w.send(SKY)
    await w._client.close()


def test_made_outside_an_event_loop():
    w = ChatWidget(model="llama3.1")
    assert w.model == "llama3.1" and w.messages == [] and w.client is None
    with pytest.raises(TypeError, match="AsyncClient"):
        ChatWidget(client=ollama.Client())


# --- coalescing -------------------------------------------------------------------------------


async def test_figures_use_the_given_clock_and_updates_stay_coalesced(chat, srv, recorded):
    """The clock times the figures (start, first token, end); it is read a few times a reply,
    never once per token, and the screen updates stay coalesced whatever it says."""
    readings = itertools.count()
    w = chat(srv, clock=lambda: next(readings) * 1.0)  # one second passes per reading
    await w.wait()
    recorded.clear()
    reply = await w.send("Count to 2000")
    assert reply.endswith(" 2000")
    assert w.stats["ttft_s"] == 1.0 and w.stats["seconds"] == 2.0
    assert updates(recorded) < 100  # not one per token


async def test_updates_are_coalesced_at_full_speed(chat, srv, recorded):
    w = chat(srv)
    await w.wait()
    recorded.clear()
    reply = await w.send("Count to 10000")
    seconds, frames = w.stats["seconds"], w.stats["frames"]
    assert reply.endswith(" 10000")
    assert frames <= 1 + 20 * seconds + 1
    # per frame: the live segment, and when it is frozen, the new segment and its column
    assert updates(recorded) <= 3 * (20 * seconds + 1) + 10
    # Each update re-sends at most one live segment: the bytes grow linearly with the reply.
    sent = sum(len(json.dumps(data)) for _, data in recorded)
    assert sent <= 3 * len(reply) + frames * (w.segment_chars + 500) + 20_000


async def test_updates_are_coalesced_at_a_steady_rate(chat):
    with PracticeServer(port=0, speed=200) as server:
        w = chat(server)
        reply = await w.send("Count to 100")
    assert reply.endswith(" 100")
    assert w.stats["frames"] <= 1 + 20 * w.stats["seconds"] + 1 < 100


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_is_escaped_and_rendered():
    out = markdown_to_html(
        "# Title <b>\n\nSome **bold** and *it*, `x < y` and [link](https://e.org/?a=1&b=2)\n\n"
        "```python\nprint('<script>')\n```\n\n- one\n- two\n\n1. first\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted <i>\n\nline one\nline two"
    )
    flat = re.sub(r">\s+<", "><", out)
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert "<h1>Title &lt;b&gt;</h1>" in out
    assert "<strong>bold</strong>" in out and "<em>it</em>" in out
    assert "<code>x &lt; y</code>" in out
    assert '<a href="https://e.org/?a=1&amp;b=2" target="_blank" rel="noopener">link</a>' in out
    # code is highlighted by pygments (token classes), its text still escaped
    pattern = r'<pre class="highlight"><code class="language-python">(.*?)</code>'
    code = re.search(pattern, out, re.S)
    assert '<span class="nb">print</span>' in code[1]
    assert html.unescape(re.sub(r"<[^>]+>", "", code[1])) == "print('<script>')\n"
    assert "<ul><li>one</li><li>two</li></ul>" in flat and "<ol><li>first</li></ol>" in flat
    assert "<th>a</th>" in flat and "<td>2</td>" in flat
    assert "<blockquote><p>quoted &lt;i&gt;</p></blockquote>" in flat
    assert "<p>line one<br />" in out and "line two</p>" in out


def test_markdown_edge_cases():
    assert markdown_to_html("```\nopen fence <x>") == (
        '<pre class="highlight"><code>open fence &lt;x&gt;\n</code></pre>'
    )
    assert "<a" not in markdown_to_html("[x](javascript:alert(1))")
    assert "<img" not in markdown_to_html("![x](https://e.org/x.png)")
    raw = markdown_to_html("<script>alert(1)</script> <img src=x onerror=alert(1)>")
    assert "<script" not in raw and "<img" not in raw and "&lt;img" in raw
    assert markdown_to_html("snake_case_name") == "<p>snake_case_name</p>"
    assert markdown_to_html('"quotes" & ampersands') == "<p>&quot;quotes&quot; &amp; ampersands</p>"
    assert markdown_to_html("~~gone~~") == "<p><del>gone</del></p>"
    assert markdown_to_html("") == ""
    assert markdown_to_html("```nosuchlanguage\na < b\n```").count("&lt;") == 1


def test_markdown_renders_while_streaming_in_bounded_segments():
    from ollama_nb.widgets.chat import _Kit, _Segments

    view = _Segments(_Kit(), limit=60)
    view.add("Some **bold** text.\n\n")
    assert "<strong>bold</strong>" in view.box.children[-1].value
    view.add("```python\n")
    for i in range(30):  # tokens arriving a line at a time
        view.add(f"x = {i}\n")
    segments = [w.value for w in view.box.children]
    assert len(segments) > 2
    # each update stays bounded: highlighting adds markup, a bounded amount per character
    assert all(len(v) < 20 * 60 for v in segments)
    # a segment that starts inside the code block still renders as code
    assert all('<pre class="highlight"><code' in v for v in segments[1:])
    assert "&lt;" not in "".join(segments) and "<script" not in "".join(segments)


# --- settings, copy, retry, export ------------------------------------------------------------


async def test_max_tokens_no_limit_or_a_number_and_a_cut_reply_says_so(chat, srv):
    w = chat(srv)
    assert w.max_tokens is None and "num_predict" not in w._request_options()
    assert "no limit" in w._settings.titles[0]
    full = await w.send(SKY)
    assert "chat-cut" not in with_class(w, "chat-figures")[-1].value
    w.max_tokens = 5
    assert w._request_options()["num_predict"] == 5 and not w._max_tokens.disabled
    assert "max tokens 5" in w._settings.titles[0]
    short = await w.send(SKY)
    assert len(short) < len(full) and w.stats["cut_at"] == 5
    figures = with_class(w, "chat-figures")[-1].value
    assert "cut off at the max tokens limit (5)" in figures
    w._no_limit.value = True  # what ticking "no limit" does
    assert w.max_tokens is None and w._max_tokens.disabled


async def test_settings_panel_is_folded_and_refreshes_the_models_when_opened(chat, srv):
    w = chat(srv)
    await w.wait()
    assert w._settings.selected_index is None  # folded: the conversation gets the room
    before = set(w._picker.options)
    client = chat.client(srv.url)
    await client.copy("llama3.1", "llama-copy-for-picker")
    try:
        assert "llama-copy-for-picker" not in before
        w._settings.selected_index = 0  # the learner opens the panel
        await w.wait()
        assert "llama-copy-for-picker" in w._picker.options
    finally:
        await client.delete("llama-copy-for-picker")


async def test_each_reply_has_a_copy_button_with_its_markdown(chat, srv):
    w = chat(srv)
    reply = await w.send("Show me <b>HTML</b> & code")
    value = with_class(w, "chat-figures")[-1].value
    assert 'class="chat-copy" data-copy' in value and "Copied" in value
    raw = re.search(r'<textarea class="copy-text" hidden>(.*)</textarea>', value, re.S)[1]
    assert "<" not in raw and html.unescape(raw) == reply
    assert "copy-scope" in with_class(w, "chat-figures")[-1]._dom_classes


async def test_retry_shows_the_question_once(chat, srv):
    w = chat(srv)
    w.client = chat.client(f"http://127.0.0.1:{closed_port()}")
    await w.send("My name is Ada")
    assert [u.value for u in with_class(w, "chat-user")] == [
        '<div class="chat-stream">My name is Ada</div>'
    ]
    [row] = with_class(w, "chat-error-row")
    assert [c._dom_classes for c in row.children] == [("chat-error",), ("chat-retry",)]
    w.client = chat.client(srv.url)
    with_class(w, "chat-retry")[0].click()
    await w.wait()
    assert len(with_class(w, "chat-user")) == 1 and not with_class(w, "chat-error")
    assert len(with_class(w, "chat-assistant")) == 1 and len(w.messages) == 2


async def test_export_offers_download_buttons(chat, srv):
    w = chat(srv)
    await w.send(SKY)
    with_class(w, "chat-export")[0].click()
    links = w._export_links.value
    assert links.count('class="jupyter-button widget-button chat-download"') == 2
    assert 'download="chat.md"' in links and 'download="chat.json"' in links


async def test_labels_follow_the_learner_language(chat, srv):
    from ollama_nb import i18n

    i18n.set_lang("zh")
    try:
        w = chat(srv)
        assert w._send_button.description == "发送" and w._stop_button.description == "停止"
        assert w._settings.titles[0].startswith("设置")
        assert w.input.placeholder == "输入消息，按 Enter 发送"
    finally:
        i18n.set_lang(None)
    assert chat(srv)._send_button.description == "Send"


async def test_a_long_reply_ends_as_one_widget_with_every_word_once(chat, srv):
    w = chat(srv)
    reply = await w.send("Count to 3000")  # about 14,000 characters: several segments
    assert len(reply) > 3 * w.segment_chars
    [body] = with_class(w, "chat-assistant")[0].children[0].children
    shown = html.unescape(re.sub(r"<[^>]+>", " ", body.value))
    assert shown.split() == reply.split()


def test_markdown_fast_path_agrees_with_mistune():
    """Plain one-line text skips the parser: the HTML must be what mistune itself gives."""
    import random

    from ollama_nb.widgets.markdown import _MARKDOWN

    alphabet = list("ab1 2.)(,;'\"?$%@/\u00a0\u3000中文é[]")
    alphabet += ["  ", "    ", "12. ", "3) ", "](", "] (", "[]", "]["]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert markdown_to_html(text) == _MARKDOWN(text).strip(), repr(text)
