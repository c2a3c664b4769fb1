"""Several server processes behind one port (--workers): each learner always on the same one."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request

import httpx
import ollama
import pytest

from benchmarks.classroom import children
from ollama_nb.server.workers import available, owner

pytestmark = pytest.mark.skipif(not available(), reason="--workers needs a POSIX system")


def names(client: ollama.Client) -> set[str]:
    return {m.model for m in client.list().models}


def learners_of(worker: int, count: int = 2, workers: int = 2) -> list[str]:
    """Learner names that `worker` owns (names hash to workers)."""
    found = [f"kid{i}" for i in range(200) if owner(f"/u/kid{i}", workers) == worker]
    return found[:count]


@contextlib.contextmanager
def served(*args: str):
    command = [sys.executable, "-m", "ollama_nb.server", "--port", "0", "--workers", "2", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        url = line.removeprefix("listening on ")
        deadline = time.time() + 30  # the workers start after the port is bound
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/version", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(20)


def test_learners_on_two_workers_are_isolated_and_stay_on_their_own():
    (alice,), (bob,) = learners_of(0, 1), learners_of(1, 1)
    with served() as (url, _):
        shared = ollama.Client(host=url)
        before = names(shared)
        ollama.Client(host=f"{url}/u/{alice}").delete("llama3.1")
        ollama.Client(host=f"{url}/u/{bob}").copy("llama3.1", "bobs")
        for _ in range(5):  # new clients, new connections: always the same worker's store
            assert "llama3.1:latest" not in names(ollama.Client(host=f"{url}/u/{alice}"))
            assert "bobs:latest" in names(ollama.Client(host=f"{url}/u/{bob}"))
        assert "bobs:latest" not in names(ollama.Client(host=f"{url}/u/{alice}"))
        assert names(shared) == before


def test_a_kept_alive_request_for_the_other_worker_is_redirected_and_lands_once():
    (alice,), (bob,) = learners_of(0, 1), learners_of(1, 1)
    with served() as (url, _), httpx.Client(limits=httpx.Limits(max_connections=1)) as http:
        assert http.get(f"{url}/u/{alice}/api/tags").status_code == 200
        # the same connection, another worker's learner: 307, then the client asks again
        direct = http.post(f"{url}/u/{bob}/api/delete", json={"model": "llama3.1"})
        assert direct.status_code == 307 and direct.headers["connection"] == "close"
        assert http.get(f"{url}/u/{alice}/api/tags").status_code == 200  # alice's worker again
        followed = http.request(
            "DELETE", f"{url}/u/{bob}/api/delete", json={"model": "llama3.1"},
            follow_redirects=True,
        )  # fmt: skip
        assert followed.status_code == 200 and followed.history
        assert "llama3.1:latest" not in names(ollama.Client(host=f"{url}/u/{bob}"))
        assert "llama3.1:latest" in names(ollama.Client(host=f"{url}/u/{alice}"))


def test_state_is_kept_and_the_learner_cap_is_shared_between_workers(tmp_path):
    ours = learners_of(0, 3)
    theirs = learners_of(1, 1)
    with served("--state", str(tmp_path), "--max-learners", "4") as (url, _):
        for name in (*ours[:2], *theirs):
            ollama.Client(host=f"{url}/u/{name}").copy("llama3.1", f"{name}-copy")
        with pytest.raises(ollama.ResponseError) as err:  # each worker holds half of 4
            ollama.Client(host=f"{url}/u/{ours[2]}").list()
        assert err.value.status_code == 403 and "4 learners" in str(err.value.error)
    with served("--state", str(tmp_path), "--max-learners", "4") as (url, _):
        for name in (*ours[:2], *theirs):
            assert f"{name}-copy:latest" in names(ollama.Client(host=f"{url}/u/{name}"))


def test_the_teacher_sees_every_workers_learners():
    (alice,), (bob,) = learners_of(0, 1), learners_of(1, 1)
    with served("--teacher") as (url, _):
        ollama.Client(host=f"{url}/u/{alice}").list()
        for _ in range(2):
            ollama.Client(host=f"{url}/u/{bob}").list()
        page = urllib.request.urlopen(f"{url}/teacher", timeout=5).read().decode()
        assert "const WORKERS = 2;" in page
        seen = {}
        for i in range(2):
            with urllib.request.urlopen(f"{url}/teacher/w/{i}/stats.json", timeout=5) as r:
                assert r.headers["Connection"] == "close"
                for row in json.loads(r.read())["learners"]:
                    seen[row["learner"]] = (i, row["requests"])
        assert seen[alice] == (0, 1) and seen[bob] == (1, 2)


def test_the_teacher_page_merges_the_workers_in_a_browser():
    from test_teacher import teacher_page

    (alice,), (bob,) = learners_of(0, 1), learners_of(1, 1)
    with served("--teacher") as (url, _):
        ollama.Client(host=f"{url}/u/{alice}").list()
        for _ in range(3):
            ollama.Client(host=f"{url}/u/{bob}").list()
        with teacher_page(url) as page:
            rows = {
                r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text()
                for r in page.locator("#rows tr").all()
            }
            assert rows[alice] == "1" and rows[bob] == "3"
            assert page.locator("#stores").inner_text() == "2"
            assert page.locator("#max").inner_text() == "500"


def test_the_workers_end_with_the_parent():
    with served() as (url, proc):
        workers = children(proc.pid)
        assert len(workers) >= 2
    deadline = time.time() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    for pid in workers:  # gone, or a zombie nobody waits for
        if os.path.exists(f"/proc/{pid}/stat"):
            assert open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z"
