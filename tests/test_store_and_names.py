"""Names as Ollama reads them, timestamps as Go prints them, and the store's bookkeeping."""

from __future__ import annotations

import pytest

from ollama_nb.server.names import parse_name
from ollama_nb.server.store import Store, now_iso


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("llama3.1", "llama3.1:latest"),
        ("llama3.1:latest", "llama3.1:latest"),
        ("LLaMA3.1:8B", "llama3.1:8b"),
        ("user/llama3.1", "user/llama3.1:latest"),
        ("registry.ollama.ai/library/qwen3:0.6b", "qwen3:0.6b"),
        ("example.com:5000/team/model:v1", "example.com:5000/team/model:v1"),
    ],
)
def test_valid_names_normalise(text, short):
    assert parse_name(text).short == short


@pytest.mark.parametrize("text", ["", "bad name", "a/b/c/d", "-lead", "x:", "x:y:z?", "é"])
def test_invalid_names(text):
    assert parse_name(text) is None


def test_now_iso_has_nanoseconds_and_reuses_the_second():
    assert now_iso(1_700_000_000.25) == "2023-11-14T22:13:20.250000000Z"
    assert now_iso(1_700_000_000.5) == "2023-11-14T22:13:20.500000000Z"
    assert now_iso(1_700_000_001.0) == "2023-11-14T22:13:21.000000000Z"


def test_keep_alive_zero_unloads_and_negative_keeps_forever():
    store = Store()
    model = store.models["llama3.1:latest"]
    assert store.touch(model, 300) is False
    assert store.touch(model, 300) is True  # already loaded: no load time
    store.touch(model, 0)
    assert store.running() == []
    store.touch(model, -1)
    assert store.running()[0][0] > 10**11


def test_state_dir_round_trip(tmp_path):
    store = Store(tmp_path)
    store.copy(store.models["llama3.1:latest"], "mine:latest")
    store.delete("nomic-embed-text:latest")
    again = Store(tmp_path)
    assert set(again.models) == {"llama3.1:latest", "mine:latest"}
