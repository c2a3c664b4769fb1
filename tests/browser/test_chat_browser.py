"""The chat widget in a real JupyterLab: a streamed reply, and Stop in the middle of one."""

from __future__ import annotations

import re

import pytest

from ollama_nb.server import engine

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser


def test_widgets_render_in_jupyterlab(lab_page):
    """The plumbing: JupyterLab starts, a kernel runs, an ipywidget renders and reacts."""
    path = lab_page.lab.write_notebook(
        "smoke_widgets.ipynb",
        "import ipywidgets as w\n"
        "b = w.Button(description='hi')\n"
        "b.add_class('probe')\n"
        "b.on_click(lambda _: setattr(b, 'description', 'clicked'))\n"
        "b",
    )
    lab_page.open(path)
    lab_page.run_all()
    button = lab_page.page.locator(".probe")
    expect(button).to_be_visible(timeout=60_000)
    expect(button).to_have_text("hi")
    button.click()
    expect(button).to_have_text("clicked", timeout=30_000)
    lab_page.assert_ran_cleanly()


SKY = "Why is the sky blue?"
JOKE = "Tell me a joke"
CHAT_NOTEBOOK = (
    "import ollama_nb\nollama_nb.setup()",
    "from ollama_nb import ChatWidget\nchat = ChatWidget()\nchat",
)
# The reply as shown: the assistant block's text without its figures line, spaces collapsed.
REPLY_TEXT_JS = """el => {
    const figures = el.querySelector('.chat-figures');
    let text = el.innerText;
    if (figures && figures.innerText) text = text.replace(figures.innerText, '');
    return text.replace(/\\s+/g, ' ').trim();
}"""
LONGER_THAN_JS = f"([el, n]) => ({REPLY_TEXT_JS})(el).length > n"
# Every length the first reply shows, sampled in the page every 20 ms while it streams.
SAMPLE_LENGTHS_JS = f"""chat => {{
    window.replyLengths = [];
    const reply = {REPLY_TEXT_JS};
    const timer = setInterval(() => {{
        const el = chat.querySelector('.chat-assistant');
        if (!el) return;
        const n = reply(el).length, seen = window.replyLengths;
        if (!seen.length || seen[seen.length - 1] !== n) seen.push(n);
    }}, 20);
    setTimeout(() => clearInterval(timer), 30000);
}}"""
FIGURES = re.compile(r"\d+ tokens · [\d.]+ tokens/s · first token after [\d.]+ s")


def practice_reply(prompt: str) -> tuple[str, int]:
    """What the practice server answers (deterministic), spaces collapsed, and its tokens."""
    text = engine.compose_answer(prompt)
    return " ".join(text.split()), len(engine.tokenize(text))


def reply_text(assistant) -> str:
    return assistant.evaluate(REPLY_TEXT_JS)


def wait_longer_than(page, assistant, length: int, timeout: float = 30_000) -> str:
    page.wait_for_function(
        LONGER_THAN_JS, arg=[assistant.element_handle(), length], timeout=timeout, polling=20
    )
    return reply_text(assistant)


def open_chat(lab_page, name: str):
    path = lab_page.lab.write_notebook(name, *CHAT_NOTEBOOK)
    lab_page.open(path)
    lab_page.run_all()
    chat = lab_page.page.locator(".ollama-chat")
    expect(chat).to_be_visible(timeout=60_000)
    box = chat.locator(".chat-input input")
    expect(box).to_be_editable()
    return chat, box


def test_streamed_reply_grows_and_ends_with_figures(lab_page):
    page = lab_page.page
    full, tokens = practice_reply(SKY)
    chat, box = open_chat(lab_page, "browser_chat.ipynb")
    chat.evaluate(SAMPLE_LENGTHS_JS)
    box.fill(SKY)
    box.press("Enter")

    expect(chat.locator(".chat-user")).to_have_text(SKY)
    expect(box).to_have_value("")
    assistant = chat.locator(".chat-assistant").first
    expect(assistant).to_be_visible()
    # Mid-stream: Stop is live and the text is a growing beginning of the reply.
    expect(chat.locator("button.chat-stop")).to_be_enabled()
    early = wait_longer_than(page, assistant, 0)
    assert full.startswith(early), early

    figures = assistant.locator(".chat-figures")
    expect(figures).to_have_text(FIGURES, timeout=60_000)
    expect(figures).to_contain_text(f"{tokens} tokens · 40.0 tokens/s")
    assert reply_text(assistant) == full
    # It grew in many steps (about 20 screen updates a second over ~3 s), never backwards.
    lengths = page.evaluate("() => window.replyLengths")
    steps = [n for n in lengths if 0 < n < len(full)]
    assert len(steps) >= 5 and steps == sorted(steps), lengths
    expect(chat.locator("button.chat-stop")).to_be_disabled()
    expect(chat.locator("button.chat-send")).to_be_enabled()

    # A second turn in the same conversation, sent with the button this time.
    box.fill(JOKE)
    chat.locator("button.chat-send").click()
    second = chat.locator(".chat-assistant").nth(1)
    expect(second.locator(".chat-figures")).to_have_text(FIGURES, timeout=60_000)
    assert reply_text(second) == practice_reply(JOKE)[0]
    expect(chat.locator(".chat-user")).to_have_count(2)
    expect(chat.locator(".chat-error")).to_have_count(0)
    lab_page.save_screenshot("chat.png", chat)
    if lab_page.screenshots is not None:
        record_streaming_gif(lab_page, chat, box, lab_page.screenshots / "chat-streaming.gif")
    lab_page.assert_ran_cleanly()


def record_streaming_gif(lab_page, chat, box, path, limit: int = 60) -> None:
    """Frames of a reply streaming (the chat's screenshots every ~0.1 s), as an animated GIF."""
    import io

    from PIL import Image

    page = lab_page.page
    chat.locator("button.chat-clear").click()  # a fresh conversation: one reply streaming
    expect(chat.locator(".chat-user")).to_have_count(0)
    box.fill(SKY)
    box.press("Enter")
    frames = []
    last = chat.locator(".chat-assistant").last
    while len(frames) < limit:
        shot = chat.screenshot(animations="disabled", type="jpeg", quality=85, scale="css")
        frames.append(Image.open(io.BytesIO(shot)))
        if FIGURES.search(last.locator(".chat-figures").inner_text()):
            break
        page.wait_for_timeout(30)
    frames += [frames[-1]] * 12  # rest on the finished reply before looping
    width = 720
    scaled = [
        f.convert("RGB").resize((width, round(f.height * width / f.width)), Image.LANCZOS)
        for f in frames
    ]
    size = (width, max(f.height for f in scaled))
    frames = [Image.new("RGB", size, "white") for _ in scaled]
    for canvas, frame in zip(frames, scaled):
        canvas.paste(frame, (0, size[1] - frame.height))
    frames[0].save(
        path, save_all=True, append_images=frames[1:], duration=120, loop=0, optimize=True
    )


def test_stop_keeps_the_partial_reply(lab_page):
    page = lab_page.page
    full, tokens = practice_reply(SKY)
    chat, box = open_chat(lab_page, "browser_chat_stop.ipynb")
    box.fill(SKY)
    box.press("Enter")
    assistant = chat.locator(".chat-assistant").first
    expect(assistant).to_be_visible()
    wait_longer_than(page, assistant, 25)  # a few tokens in: over 2.5 s of the reply remain
    chat.locator("button.chat-stop").click()

    figures = assistant.locator(".chat-figures")
    expect(figures).to_contain_text("stopped", timeout=30_000)
    expect(chat.locator("button.chat-stop")).to_be_disabled()
    expect(chat.locator("button.chat-send")).to_be_enabled()
    partial = reply_text(assistant)
    assert 25 < len(partial) < len(full) and full.startswith(partial), partial
    shown = int(re.match(r"(\d+) tokens", figures.inner_text()).group(1))
    assert 0 < shown < tokens
    # Nothing more arrives after Stop: the text stays as it was.
    page.wait_for_timeout(750)
    assert reply_text(assistant) == partial

    # The conversation goes on after a stop, with the partial reply left in place.
    box.fill(JOKE)
    box.press("Enter")
    second = chat.locator(".chat-assistant").nth(1)
    expect(second.locator(".chat-figures")).to_have_text(FIGURES, timeout=60_000)
    assert reply_text(second) == practice_reply(JOKE)[0]
    assert reply_text(assistant) == partial
    expect(chat.locator(".chat-error")).to_have_count(0)
    lab_page.assert_ran_cleanly()


def test_chat_notebook_runs_in_jupyterlab(lab_page):
    """The real 01_chat.ipynb: Run All without an error; its chat widget (if any) renders."""
    code = lab_page.run_tutorial("en/01_chat.ipynb")
    if "ChatWidget(" in code:
        chat = lab_page.page.locator(".ollama-chat").first
        expect(chat).to_be_visible(timeout=60_000)
        expect(chat.locator(".chat-input input")).to_be_editable()
        sent = code.count("await chat.send(")
        if sent:  # the replies the notebook asked for are on screen, finished
            figures = chat.locator(".chat-assistant .chat-figures")
            for i in range(sent):
                expect(figures.nth(i)).to_have_text(FIGURES, timeout=30_000)
