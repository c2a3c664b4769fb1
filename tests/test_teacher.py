"""The teacher's view: /teacher shows each learner's requests, errors and open streams."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.request

import ollama
import pytest

from ollama_nb.server import PracticeServer


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/teacher/stats.json", timeout=5) as response:
        return json.loads(response.read())


def row(data: dict, learner: str) -> dict:
    return next(r for r in data["learners"] if r["learner"] == learner)


def test_the_teacher_view_is_off_unless_asked(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{server.url}/teacher", timeout=5)
    assert err.value.code == 404


def test_stats_count_each_learners_requests_errors_and_streams():
    with PracticeServer(port=0, speed=20, teacher=True) as srv:
        alice = ollama.Client(host=srv.learner_url("alice"))
        alice.list()
        alice.show("llama3.1")
        with pytest.raises(ollama.ResponseError):
            alice.show("no-such-model")
        ollama.Client(host=srv.url).list()
        data = stats(srv.url)
        assert row(data, "alice")["requests"] == 3
        assert row(data, "alice")["errors"] == 1
        assert "404" in row(data, "alice")["last_error"]
        assert row(data, "(shared /api)")["requests"] == 1
        assert data["connected"] == 2 and data["streams"] == 0

        bob = ollama.Client(host=srv.learner_url("bob"))
        started = threading.Event()

        def slow_chat() -> None:
            for _ in bob.chat(
                model="llama3.1", messages=[{"role": "user", "content": "Count to 60"}], stream=True
            ):
                started.set()

        thread = threading.Thread(target=slow_chat)
        thread.start()
        assert started.wait(10)
        during = stats(srv.url)
        assert row(during, "bob")["streams"] == 1 and during["streams"] == 1
        thread.join(30)
        assert stats(srv.url)["streams"] == 0


def test_the_teacher_view_refuses_foreign_web_pages_as_the_api_does():
    with PracticeServer(port=0, teacher=True) as srv:
        ollama.Client(host=srv.learner_url("alice")).list()
        for path in ("/teacher", "/teacher/stats.json"):
            foreign = urllib.request.Request(
                f"{srv.url}{path}", headers={"Origin": "https://evil.example"}
            )
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(foreign, timeout=5)
            assert err.value.code == 403, path
            rebound = urllib.request.Request(f"{srv.url}{path}", headers={"Host": "evil.example"})
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(rebound, timeout=5)
            assert err.value.code == 403, path
        own = urllib.request.Request(f"{srv.url}/teacher/stats.json", headers={"Origin": srv.url})
        with urllib.request.urlopen(own, timeout=5) as response:
            assert row(json.loads(response.read()), "alice")["requests"] == 1


def _chromium() -> str | None:
    chosen = os.environ.get("OLLAMA_NB_CHROMIUM")
    for path in [chosen] if chosen else [shutil.which("chromium"), "/usr/bin/chromium"]:
        if path and os.access(path, os.X_OK):
            return path
    return None


@contextlib.contextmanager
def teacher_page(url: str):
    """The teacher's page at `url` in headless Chromium, once it has drawn its first figures
    (skips when Playwright or Chromium is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium found (set OLLAMA_NB_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{url}/teacher")
            page.wait_for_selector("#status:has-text('updated')", timeout=15_000)
            yield page
        finally:
            browser.close()


def test_the_page_shows_a_learners_requests_live():
    with PracticeServer(port=0, teacher=True) as srv, teacher_page(srv.url) as page:
        carol = ollama.Client(host=srv.learner_url("carol"))
        for _ in range(4):
            carol.list()
        learner_row = page.locator("#rows tr", has_text="carol")
        learner_row.wait_for(timeout=15_000)
        deadline = time.time() + 15
        while time.time() < deadline:
            cells = learner_row.locator("td").all_inner_texts()
            if cells[1] == "4":
                break
            page.wait_for_timeout(200)
        assert cells[:4] == ["carol", "4", "0", "0"]
        assert page.locator("#requests").inner_text() == "4"
