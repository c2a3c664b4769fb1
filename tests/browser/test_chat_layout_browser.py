"""The chat as a learner sees it after a long conversation: every message at full height, the
newest in view (at two window widths and at 150% zoom), scrolling up stops the following, and
a failed request's Retry is fully visible and never shows the question twice."""

from __future__ import annotations

import base64

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

PROMPTS = ["Why is the sky blue?", "Tell me a joke", "Count to 30"]
TURNS = 12
FIGURES = r"\d+ tokens · [\d.]+ tokens/s"

# Every box in the log shows all of its content (nothing squashed or scrolling on its own),
# messages do not overlap, and the log is scrolled to its end with the newest reply in view.
LAYOUT_JS = """chat => {
    const log = chat.querySelector('.chat-log');
    const problems = [];
    for (const el of log.querySelectorAll('*')) {
        if (el.closest('pre, textarea, button') || el.clientHeight === 0) continue;
        if (getComputedStyle(el).display === 'none') continue;
        if (el.scrollHeight > el.clientHeight + 1) {
            problems.push(`${el.className || el.tagName}: shows ${el.clientHeight} of ` +
                          `${el.scrollHeight} px`);
        }
    }
    const messages = Array.from(log.querySelectorAll('.chat-user, .chat-assistant'));
    for (let i = 1; i < messages.length; i++) {
        const above = messages[i - 1].getBoundingClientRect();
        const below = messages[i].getBoundingClientRect();
        if (below.top < above.bottom - 1) problems.push(`message ${i} overlaps message ${i - 1}`);
    }
    for (const m of messages) {
        if (m.getBoundingClientRect().height < 12) problems.push('a message is squashed');
    }
    const last = messages[messages.length - 1].getBoundingClientRect();
    const box = log.getBoundingClientRect();
    return {
        problems,
        messages: messages.length,
        scrolls: log.scrollHeight > log.clientHeight + 1,
        atEnd: log.scrollTop + log.clientHeight >= log.scrollHeight - 2,
        newestInView: last.bottom <= box.bottom + 1 && last.bottom > box.top,
        scrollTop: log.scrollTop,
    };
}"""

NEXT_FRAME_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _layout(page, chat) -> dict:
    page.evaluate(NEXT_FRAME_JS)
    chat.locator(".chat-log").scroll_into_view_if_needed()
    return chat.evaluate(LAYOUT_JS)


def _check(page, chat, where: str) -> dict:
    layout = _layout(page, chat)
    assert not layout["problems"], f"{where}: {layout['problems'][:5]}"
    assert layout["messages"] == 2 * TURNS, where
    assert layout["scrolls"] and layout["atEnd"] and layout["newestInView"], (where, layout)
    return layout


def test_long_conversation_keeps_full_heights_and_follows_the_newest(lab_page):
    page = lab_page.page
    sends = "\n".join(f"await chat.send({PROMPTS[i % 3]!r})" for i in range(TURNS))
    path = lab_page.lab.write_notebook(
        "browser_chat_long.ipynb",
        "import ollama_nb\nollama_nb.setup()",
        "from ollama_nb import ChatWidget\nchat = ChatWidget()\nchat",
        sends,
    )
    page.set_viewport_size({"width": 1400, "height": 900})
    try:
        lab_page.open(path)
        lab_page.run_all(timeout=180_000)
        chat = page.locator(".ollama-chat")
        expect(chat.locator(".chat-figures")).to_have_count(TURNS, timeout=60_000)
        expect(chat.locator(".chat-figures").last).to_have_text(_figures_re(), timeout=60_000)
        _check(page, chat, "1400 px")
        lab_page.save_screenshot("chat-long.png", chat)

        page.set_viewport_size({"width": 1000, "height": 800})
        _check(page, chat, "1000 px")
        lab_page.save_screenshot("chat-long-1000px.png", chat)

        # 150% zoom: the page is laid out 1400 / 1.5 CSS pixels wide, drawn at 1.5x.
        cdp = page.context.new_cdp_session(page)
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 933, "height": 600, "deviceScaleFactor": 1.5, "mobile": False},
        )
        try:
            metrics = page.evaluate("[window.innerWidth, window.devicePixelRatio]")
            assert metrics == [933, 1.5], metrics  # the emulation took effect
            _check(page, chat, "150% zoom")
            if lab_page.screenshots is not None:  # Playwright's own would undo the emulation
                shot = cdp.send("Page.captureScreenshot", {"format": "png"})
                (lab_page.screenshots / "chat-long-zoom150.png").write_bytes(
                    base64.b64decode(shot["data"])
                )
        finally:
            cdp.send("Emulation.clearDeviceMetricsOverride")
            cdp.detach()

        # The learner scrolls up to read: a new reply no longer pulls the log down.
        page.set_viewport_size({"width": 1400, "height": 900})
        log = chat.locator(".chat-log")
        log.hover()
        page.mouse.wheel(0, -4000)
        page.wait_for_function("el => el.scrollTop < 5", arg=log.element_handle(), timeout=10_000)
        box = chat.locator(".chat-input input")
        box.fill(PROMPTS[1])
        box.press("Enter")
        expect(chat.locator(".chat-figures")).to_have_count(TURNS + 1, timeout=30_000)
        expect(chat.locator(".chat-figures").last).to_have_text(_figures_re(), timeout=30_000)
        page.evaluate(NEXT_FRAME_JS)
        assert log.evaluate("el => el.scrollTop") < 5
        lab_page.assert_ran_cleanly()
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _figures_re():
    import re

    return re.compile(FIGURES)


RETRY_JS = """chat => {
    const b = chat.querySelector('.chat-retry');
    const row = chat.querySelector('.chat-error-row').getBoundingClientRect();
    const r = b.getBoundingClientRect();
    return {
        clipped: b.scrollWidth > b.clientWidth + 1,
        inside: r.left >= row.left - 1 && r.right <= row.right + 1 && r.width > 30,
        text: b.innerText.trim(),
    };
}"""


def test_retry_is_fully_visible_and_sends_the_question_once(lab_page):
    page = lab_page.page
    path = lab_page.lab.write_notebook(
        "browser_chat_retry.ipynb",
        "import socket, ollama, ollama_nb\nollama_nb.setup()\n"
        "with socket.socket() as s:\n    s.bind(('127.0.0.1', 0)); dead = s.getsockname()[1]",
        "from ollama_nb import ChatWidget\n"
        "chat = ChatWidget(client=ollama.AsyncClient(host=f'http://127.0.0.1:{dead}'))\nchat",
        "await chat.send('Tell me a joke')\nchat.client = ollama.AsyncClient()",
    )
    page.set_viewport_size({"width": 1000, "height": 800})
    try:
        lab_page.open(path)
        lab_page.run_all()
        chat = page.locator(".ollama-chat")
        expect(chat.locator(".chat-error")).to_contain_text("Cannot reach", timeout=60_000)
        retry = chat.locator("button.chat-retry")
        expect(retry).to_be_visible()
        shown = chat.evaluate(RETRY_JS)
        assert not shown["clipped"] and shown["inside"] and shown["text"] == "Retry", shown
        expect(chat.locator(".chat-user")).to_have_count(1)
        # A disabled Stop looks disabled: faded, not the bright warning colour.
        stop = chat.locator("button.chat-stop")
        expect(stop).to_be_disabled()
        assert float(stop.evaluate("b => getComputedStyle(b).opacity")) < 0.6
        retry.click()
        expect(chat.locator(".chat-assistant .chat-figures")).to_have_text(
            _figures_re(), timeout=30_000
        )
        expect(chat.locator(".chat-user")).to_have_count(1)
        expect(chat.locator(".chat-error")).to_have_count(0)
        # The reply's Copy button and Export's download buttons are real buttons.
        expect(chat.locator("button.chat-copy")).to_have_count(1)
        chat.locator("button.chat-export").click()
        downloads = chat.locator("a.chat-download")
        expect(downloads).to_have_count(2)
        with page.expect_download() as info:
            downloads.first.click()
        assert info.value.suggested_filename == "chat.md"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
