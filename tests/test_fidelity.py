"""Ollama's exact behaviour where learners' copied code depends on it (issue 12, Ollama API
notes section 10): loaded-model limit, create auto-pull, push of a missing model, suffix,
timing of non-streamed replies, think levels, arithmetic and prompt-named JSON keys."""

from __future__ import annotations

import ollama
import pytest


def _say(client, model):
    client.generate(model, prompt="hi")


def test_at_most_three_models_loaded_least_recently_used_goes(client):
    for name in ("qwen2:0.5b", "gemma3:270m", "qwen3:0.6b", "llama3.2:1b"):
        client.pull(name)
    _say(client, "qwen2:0.5b")
    _say(client, "gemma3:270m")
    _say(client, "qwen3:0.6b")
    _say(client, "qwen2:0.5b")  # used again: now gemma3 is the least recently used
    _say(client, "llama3.2:1b")
    running = {m.model for m in client.ps().models}
    assert running == {"qwen2:0.5b", "qwen3:0.6b", "llama3.2:1b"}


def test_suffix_fills_the_middle_on_insert_models(client):
    client.pull("codellama:7b-code")
    out = client.generate("codellama:7b-code", prompt="def add(a, b):\n", suffix="\n    return c")
    assert out.response.lstrip().startswith("#") and "[practice server]" in out.response
    with pytest.raises(ollama.ResponseError) as err:
        client.generate("llama3.1", prompt="def add(a, b):", suffix="    return c")
    assert err.value.status_code == 400
    assert err.value.error == "registry.ollama.ai/library/llama3.1:latest does not support insert"
