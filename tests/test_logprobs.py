"""logprobs and top_logprobs on chat and generate, in Ollama's shape (API notes 10.3)."""

from __future__ import annotations

import ollama
import pytest

HELLO = [{"role": "user", "content": "Why is the sky blue?"}]


def _check(entries, top):
    assert entries, "no logprobs"
    for entry in entries:
        assert entry.logprob <= 0
        if top:
            alternatives = entry.top_logprobs
            assert len(alternatives) == top
            assert alternatives[0].token == entry.token
            assert [a.logprob for a in alternatives] == sorted(
                (a.logprob for a in alternatives), reverse=True
            )
            assert len({a.token for a in alternatives}) == top
        else:
            assert not entry.top_logprobs


def test_chat_logprobs_not_streamed_one_per_token(client):
    reply = client.chat("llama3.1", messages=HELLO, logprobs=True, top_logprobs=5)
    _check(reply.logprobs, 5)
    assert "".join(e.token for e in reply.logprobs) == reply.message.content
    again = client.chat("llama3.1", messages=HELLO, logprobs=True, top_logprobs=5)
    assert again.logprobs == reply.logprobs  # deterministic


def test_chat_logprobs_streamed_each_chunk_carries_its_token(client):
    chunks = list(client.chat("llama3.1", messages=HELLO, stream=True, logprobs=True))
    for chunk in chunks[:-1]:
        assert [e.token for e in chunk.logprobs] == [chunk.message.content]
    _check([e for c in chunks[:-1] for e in c.logprobs], 0)


def test_generate_logprobs_streamed_and_not(client):
    whole = client.generate("llama3.1", prompt="Why is the sky blue?", logprobs=True,
                            top_logprobs=20)  # fmt: skip
    _check(whole.logprobs, 20)
    parts = list(client.generate("llama3.1", prompt="Why is the sky blue?", stream=True,
                                 logprobs=True, top_logprobs=20))  # fmt: skip
    streamed = [e for p in parts for e in (p.logprobs or [])]
    assert streamed == list(whole.logprobs)


def test_thinking_tokens_have_logprobs_too(client):
    client.pull("qwen3:0.6b")
    reply = client.generate("qwen3:0.6b", prompt="Why is the sky blue?", logprobs=True)
    text = "".join(e.token for e in reply.logprobs)
    assert text == reply.thinking + reply.response


def test_no_logprobs_unless_asked(client):
    assert client.chat("llama3.1", messages=HELLO).logprobs is None


@pytest.mark.parametrize("top", [-1, 21, 100])
def test_top_logprobs_outside_0_to_20_is_400(client, top):
    with pytest.raises(ollama.ResponseError) as err:
        client.chat("llama3.1", messages=HELLO, logprobs=True, top_logprobs=top)
    assert err.value.status_code == 400
    assert err.value.error == "top_logprobs must be between 0 and 20"
    with pytest.raises(ollama.ResponseError, match="top_logprobs must be between 0 and 20"):
        client.generate("llama3.1", prompt="hi", logprobs=True, top_logprobs=top)


def test_wire_shape_has_bytes(client):
    """The library keeps token and logprob; the wire also carries each token's UTF-8 bytes."""
    body = {"model": "llama3.1", "prompt": "你好", "stream": False, "logprobs": True,
            "top_logprobs": 2}  # fmt: skip
    raw = client._client.post("/api/generate", json=body).json()
    for entry in raw["logprobs"]:
        assert set(entry) == {"token", "logprob", "bytes", "top_logprobs"}
        assert entry["bytes"] == list(entry["token"].encode("utf-8"))
        for alt in entry["top_logprobs"]:
            assert set(alt) == {"token", "logprob", "bytes"}
