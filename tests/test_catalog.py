"""The practice server's catalog: every model Ollama's docs and tutorials name pulls, and what
`show`, `list` and `ps` say about it matches what it can do."""

from __future__ import annotations

import io

import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.server.catalog import CATALOG

# Names used by Ollama's docs, the library's README and examples, and the tutorials.
NAMED_IN_DOCS = """gemma3 gemma3:270m gemma3:1b gemma3:4b gemma3:12b gemma3:27b gemma3n
llama3.1 llama3.1:8b llama3.1:70b llama3.2 llama3.2:1b llama3.2:3b llama3 qwen3 qwen3:0.6b
qwen3:1.7b qwen3:4b qwen3:8b qwen3:14b qwen3:30b qwen3:32b qwen2:0.5b qwen2.5 qwen2.5-coder
deepseek-r1 deepseek-r1:1.5b deepseek-r1:7b deepseek-r1:8b deepseek-r1:14b gpt-oss:20b
gpt-oss:120b mistral phi3 phi4 codellama:7b-code llava gemma:2b embeddinggemma nomic-embed-text
nomic-embed-text:v1.5 mxbai-embed-large all-minilm bge-m3 gpt-oss:120b-cloud""".split()


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def pulled():
    """One server with every catalog model pulled once."""
    with PracticeServer(port=0) as srv:
        client = ollama.Client(host=srv.url)
        for name in CATALOG:
            assert client.pull(name).status == "success", name
        yield client


def test_docs_models_are_in_the_catalog():
    for name in NAMED_IN_DOCS:
        full = name if ":" in name else name + ":latest"
        assert full in CATALOG, name
    assert len(CATALOG) >= 80


def test_list_and_show_match_the_catalog(pulled):
    listed = {m.model: m for m in pulled.list().models}
    assert set(CATALOG) <= set(listed)
    for name, info in CATALOG.items():
        entry = listed[name]
        assert entry.size == info.size, name
        assert entry.details.family == info.family
        assert entry.details.parameter_size == info.parameter_size
        assert entry.details.quantization_level == info.quantization_level
        shown = pulled.show(name)
        assert list(shown.capabilities) == list(info.capabilities), name
        assert shown.details.parameter_size == info.parameter_size
        if info.is_cloud:  # the library drops these fields; read them off the wire
            raw = pulled._client.post("/api/show", json={"model": name}).json()
            assert raw["remote_host"] == "https://ollama.com:443"
            assert raw["remote_model"] == info.remote_model
        else:
            assert shown.modelinfo["general.parameter_count"] == info.parameter_count


def test_tags_of_one_model_share_weights(pulled):
    listed = {m.model: m for m in pulled.list().models}
    assert listed["gemma3:latest"].digest == listed["gemma3:4b"].digest
    assert listed["gemma3:1b"].digest != listed["gemma3:4b"].digest
    assert listed["nomic-embed-text:latest"].digest == listed["nomic-embed-text:v1.5"].digest


def test_every_model_does_what_its_capabilities_say(pulled):
    png = _png()
    tool = {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            },
        },
    }
    for name, info in CATALOG.items():
        caps = set(info.capabilities)
        if info.is_cloud:
            with pytest.raises(ollama.ResponseError) as err:
                pulled.chat(name, messages=[{"role": "user", "content": "hi"}])
            assert err.value.status_code == 401 and err.value.error == "unauthorized"
            continue
        if "embedding" in caps:
            vectors = pulled.embed(name, input="hello").embeddings
            assert len(vectors[0]) == info.embedding_length, name
            with pytest.raises(ollama.ResponseError):
                pulled.chat(name, messages=[{"role": "user", "content": "hi"}])
            continue
        reply = pulled.chat(name, messages=[{"role": "user", "content": "Why is the sky blue?"}])
        assert reply.message.content.startswith("[practice server]"), name
        assert bool(reply.message.thinking) == ("thinking" in caps), name
        if "tools" in caps:
            out = pulled.chat(name, messages=[{"role": "user", "content": "add 2 and 3"}],
                              tools=[tool])  # fmt: skip
            assert out.message.tool_calls, name
        else:
            with pytest.raises(ollama.ResponseError, match="does not support tools"):
                pulled.chat(name, messages=[{"role": "user", "content": "add 2 and 3"}],
                            tools=[tool])  # fmt: skip
        if "vision" in caps:
            assert pulled.generate(name, prompt="What is this?", images=[png]).response
        else:
            with pytest.raises(ollama.ResponseError):
                pulled.generate(name, prompt="What is this?", images=[png])
        if "insert" in caps:
            out = pulled.generate(name, prompt="def add(a, b):", suffix="    return c")
            assert out.response, name
        else:
            with pytest.raises(ollama.ResponseError, match="does not support insert"):
                pulled.generate(name, prompt="def add(a, b):", suffix="    return c")


def test_ps_shows_the_used_model_with_its_details(pulled):
    pulled.generate("qwen2:0.5b", prompt="hi")
    running = {m.model: m for m in pulled.ps().models}
    assert "qwen2:0.5b" in running
    assert running["qwen2:0.5b"].details.parameter_size == "494.03M"
    assert len(running) <= 3


def test_cloud_model_pulls_a_small_manifest():
    with PracticeServer(port=0) as srv:
        client = ollama.Client(host=srv.url)
        client.pull("gpt-oss:20b-cloud")
        size = {m.model: m.size for m in client.list().models}["gpt-oss:20b-cloud"]
        assert size < 10_000
        with pytest.raises(ollama.ResponseError) as err:
            client.generate("gpt-oss:20b-cloud", prompt="hi")
        assert err.value.status_code == 401


def test_unknown_model_still_cannot_be_pulled():
    with PracticeServer(port=0) as srv:
        with pytest.raises(ollama.ResponseError, match="file does not exist"):
            ollama.Client(host=srv.url).pull("no-such-model:1b")
