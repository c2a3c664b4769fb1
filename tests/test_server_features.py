"""Beyond plain chat, through the real client: faults, thinking, images, Modelfiles."""

from __future__ import annotations

import io
import time

import httpx
import ollama
import pytest
from PIL import Image

from ollama_nb.modelfile import create_from_modelfile
from ollama_nb.server import PracticeServer

ASK = [{"role": "user", "content": "Why is the sky blue?"}]


def _served(faults: str):
    return PracticeServer(port=0, faults=faults)


def test_injected_status_is_a_response_error():
    with _served("error=503@chat") as srv:
        client = ollama.Client(host=srv.url)
        with pytest.raises(ollama.ResponseError) as err:
            client.chat(model="llama3.1", messages=ASK)
        assert err.value.status_code == 503
        assert err.value.error == "server busy, please try again (injected)"
        assert client.list().models  # other endpoints unaffected


def test_cut_stream_is_a_protocol_error_after_some_chunks():
    with _served("cut=5@chat") as srv:
        client = ollama.Client(host=srv.url)
        received = []
        with pytest.raises(httpx.RemoteProtocolError):
            for part in client.chat(model="llama3.1", messages=ASK, stream=True):
                received.append(part.message.content)
        assert len(received) == 5


def test_stalled_stream_is_a_read_timeout():
    with _served("stall=3@chat") as srv:
        client = ollama.Client(host=srv.url, timeout=1)
        received = []
        with pytest.raises(httpx.ReadTimeout):
            for part in client.chat(model="llama3.1", messages=ASK, stream=True):
                received.append(part)
        assert len(received) == 3


def test_latency_delays_the_answer():
    with _served("latency=300ms@tags") as srv:
        client = ollama.Client(host=srv.url)
        start = time.perf_counter()
        client.list()
        assert time.perf_counter() - start >= 0.3


def test_error_share_is_deterministic_for_a_seed():
    def outcomes() -> list[int]:
        with _served("error=500:0.5@generate;seed=4") as srv:
            client = ollama.Client(host=srv.url)
            result = []
            for _ in range(20):
                try:
                    client.generate(model="llama3.1", prompt="hi")
                    result.append(200)
                except ollama.ResponseError as exc:
                    result.append(exc.status_code)
            return result

    first = outcomes()
    assert first == outcomes()
    assert 3 < first.count(500) < 17


def test_slow_pull_can_be_cancelled_and_leaves_no_model():
    with _served("pull-speed=200MB/s") as srv:
        client = ollama.Client(host=srv.url)
        stream = client.pull("llama3.2", stream=True)
        first = [next(stream) for _ in range(3)]
        assert first[0].status == "pulling manifest"
        stream.close()  # the learner pressed Cancel: the connection closes
        time.sleep(0.3)
        assert "llama3.2:latest" not in {m.model for m in client.list().models}


def test_thinking_model_fills_thinking_streamed_and_not(client):
    client.pull("qwen3:0.6b")
    reply = client.chat(model="qwen3:0.6b", messages=ASK, think=True)
    assert reply.message.thinking and "practice server" in reply.message.thinking
    assert "Rayleigh" in reply.message.content
    parts = list(client.chat(model="qwen3:0.6b", messages=ASK, think=True, stream=True))
    assert "".join(p.message.thinking or "" for p in parts) == reply.message.thinking
    assert "".join(p.message.content for p in parts) == reply.message.content
    no_think = client.chat(model="qwen3:0.6b", messages=ASK, think=False)
    assert not no_think.message.thinking
    generated = client.generate(model="qwen3:0.6b", prompt="Why is the sky blue?", think=True)
    assert generated.thinking and generated.response


def _png(color: tuple[int, int, int], size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_on_vision_and_non_vision_models(client, tmp_path):
    path = tmp_path / "red.png"
    path.write_bytes(_png((220, 20, 20)))
    client.pull("llava")
    described = client.chat(
        model="llava",
        messages=[{"role": "user", "content": "What is in this picture?", "images": [str(path)]}],
    )
    text = described.message.content
    assert "40x30" in text and "PNG" in text and "red" in text
    generated = client.generate(model="llava", prompt="Describe", images=[_png((0, 0, 255))])
    assert "blue" in generated.response
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(
            model="llama3.1",
            messages=[{"role": "user", "content": "What is this?", "images": [str(path)]}],
        )
    assert err.value.status_code == 400
    assert err.value.error == "this model is missing data required for image input"


def test_seed_modelfile_through_create_from_modelfile(client):
    modelfile = """
FROM llama3.1
SYSTEM 你是超级马里奥兄弟中的马里奥。
"""
    assert create_from_modelfile("example", modelfile, client=client).status == "success"
    shown = client.show("example")
    assert "马里奥" in shown.modelfile and shown.details.parent_model == "llama3.1:latest"
    reply = client.chat(
        model="example", messages=[{"role": "user", "content": "为什么天空是蓝色的？"}]
    )
    assert reply.message.content.startswith("【练习服务器】我是马里奥！")


def test_modelfile_parameters_and_messages_reach_show(client):
    text = (
        'FROM llama3.1\nPARAMETER temperature 0.2\nPARAMETER stop "END"\n'
        "MESSAGE user My name is Ada\n"
    )
    create_from_modelfile("ada", text, client=client)
    shown = client.show("ada")
    assert "temperature" in shown.parameters and '"END"' in shown.parameters
    reply = client.chat(model="ada", messages=[{"role": "user", "content": "What is my name?"}])
    assert "Ada" in reply.message.content
