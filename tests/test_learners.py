"""Per-learner stores on one practice server, through the real ollama client over HTTP."""

from __future__ import annotations

import concurrent.futures
import json
import urllib.error
import urllib.request

import ollama
import pytest

from ollama_nb.connection import normalise_host, probe
from ollama_nb.server import PracticeServer


def names(client: ollama.Client) -> set[str]:
    return {m.model for m in client.list().models}


def test_the_client_and_setup_keep_the_learner_path(server):
    host = normalise_host(f"{server.url}/u/alice")
    assert host == f"{server.url}/u/alice"
    found = probe(host)
    assert found is not None and found.practice
    assert str(ollama.Client(host=host)._client.base_url).rstrip("/") == host


def test_two_learners_are_isolated(server):
    alice = ollama.Client(host=server.learner_url("alice"))
    bob = ollama.Client(host=server.learner_url("bob"))
    shared = ollama.Client(host=server.url)
    before = names(shared)
    assert "llama3.1:latest" in before and names(alice) == before

    alice.delete("llama3.1")
    alice.copy("nomic-embed-text", "alice/mine")

    assert "llama3.1:latest" not in names(alice)
    assert "alice/mine:latest" in names(alice)
    assert names(bob) == before
    assert names(shared) == before
    assert bob.chat(model="llama3.1", messages=[{"role": "user", "content": "hi"}]).message.content
    with pytest.raises(ollama.ResponseError) as err:
        alice.chat(model="llama3.1", messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 404
    # names are case-insensitive: "Alice" is alice
    assert "alice/mine:latest" in names(ollama.Client(host=server.learner_url("Alice")))


def test_bad_learner_names_answer_400(server):
    for bad in ("..", "-x", "a b", "x" * 65, ""):
        url = f"{server.url}/u/{urllib.request.quote(bad)}/api/tags"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=5)
        assert err.value.code == 400, bad
        assert "invalid learner name" in json.loads(err.value.read())["error"]


def model_management(host: str) -> tuple[set[str], set[str], list[str]]:
    """The model-management steps of notebooks/en/03_models.ipynb, with one client."""
    client = ollama.Client(host=host)
    before = names(client)
    seen = []
    client.create(model="example", from_="llama3.1", system="You are Mario.")
    for progress in client.create(
        model="example-today",
        from_="llama3.1",
        system="You are Mario from Super Mario Bros.",
        parameters={"temperature": 0.7},
        stream=True,
    ):
        seen.append(progress.status)
    assert client.chat(model="example", messages=[{"role": "user", "content": "hi"}]).message
    client.copy("llama3.1", "user/llama3.1")
    client.copy("llama3.1", "llama3.1-copy")
    client.delete("llama3.1-copy")
    try:
        client.delete("llama3.1-copy")
    except ollama.ResponseError as exc:
        seen.append(f"{exc.status_code}")
    client.pull("llama3.1")
    for progress in client.pull("all-minilm", stream=True):
        seen.append(progress.status)
    client.push("user/llama3.1")
    client.generate(model="llama3.1", prompt="", keep_alive="10m")
    assert "llama3.1:latest" in {m.model for m in client.ps().models}
    client.generate(model="llama3.1", prompt="", keep_alive=0)
    middle = names(client)
    for name in ("example", "example-today", "user/llama3.1", "all-minilm"):
        client.delete(name)
    return before, middle, seen


def test_thirty_learners_run_the_models_notebook_at_once(server):
    shared_before = names(ollama.Client(host=server.url))
    hosts = [server.learner_url(f"learner{i:02d}") for i in range(30)]
    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        results = list(pool.map(model_management, hosts))
    for host, (before, middle, seen) in zip(hosts, results):
        assert names(ollama.Client(host=host)) == before, host
        assert {"example:latest", "all-minilm:latest", "user/llama3.1:latest"} <= middle
        assert "404" in seen and "success" in seen
    assert names(ollama.Client(host=server.url)) == shared_before


def test_state_keeps_every_learners_store(tmp_path):
    with PracticeServer(port=0, state_dir=str(tmp_path)) as srv:
        for i in range(3):
            client = ollama.Client(host=srv.learner_url(f"kept{i}"))
            client.copy("llama3.1", f"mine{i}")
            client.delete("nomic-embed-text")
        ollama.Client(host=srv.url).delete("llama3.1")
    with PracticeServer(port=0, state_dir=str(tmp_path)) as srv:
        for i in range(3):
            got = names(ollama.Client(host=srv.learner_url(f"kept{i}")))
            assert f"mine{i}:latest" in got and "nomic-embed-text:latest" not in got
            assert f"mine{(i + 1) % 3}:latest" not in got
        assert "llama3.1:latest" not in names(ollama.Client(host=srv.url))
        assert "llama3.1:latest" in names(ollama.Client(host=srv.learner_url("kept0")))
        assert "llama3.1:latest" in names(ollama.Client(host=srv.learner_url("newcomer")))


def test_the_learner_cap_answers_403_and_the_store_cap_413(tmp_path):
    with PracticeServer(port=0, state_dir=str(tmp_path), max_learners=2, max_models=12) as srv:
        ollama.Client(host=srv.learner_url("one")).list()
        ollama.Client(host=srv.learner_url("two")).list()
        with pytest.raises(ollama.ResponseError) as err:
            ollama.Client(host=srv.learner_url("three")).list()
        assert err.value.status_code == 403
        assert "2 learners" in str(err.value.error)
        ollama.Client(host=srv.learner_url("one")).list()  # known learners still work
        ollama.Client(host=srv.url).list()  # and so does the shared store
        one = ollama.Client(host=srv.learner_url("one"))
        with pytest.raises(ollama.ResponseError) as err:
            for i in range(20):
                one.copy("llama3.1", f"copy{i}")
        assert err.value.status_code == 413
        assert "store is full" in str(err.value.error)
        assert len(names(one)) == 12
    # after a restart, learners kept on disk still count towards the cap
    with PracticeServer(port=0, state_dir=str(tmp_path), max_learners=2) as srv:
        assert len(names(ollama.Client(host=srv.learner_url("two")))) > 0
        with pytest.raises(ollama.ResponseError) as err:
            ollama.Client(host=srv.learner_url("four")).list()
        assert err.value.status_code == 403
