"""Ollama's exact behaviour where learners' copied code depends on it (issue 12, Ollama API
notes section 10): loaded-model limit, create auto-pull, push of a missing model, suffix,
timing of non-streamed replies, think levels, arithmetic and prompt-named JSON keys."""

from __future__ import annotations

import ollama
import pytest

from ollama_nb.server import PracticeServer


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


def _png(size=(40, 30), colour=(30, 100, 220)) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_format_with_an_image_follows_the_schema_and_reports_what_is_measured(client):
    from typing import Literal

    from pydantic import BaseModel

    class Object(BaseModel):
        name: str
        confidence: float
        attributes: str

    class ImageDescription(BaseModel):  # the docs' vision + structured outputs example
        summary: str
        objects: list[Object]
        scene: str
        colors: list[str]
        time_of_day: Literal["Morning", "Afternoon", "Evening", "Night"]
        setting: Literal["Indoor", "Outdoor", "Unknown"]
        text_content: str | None = None

    client.pull("gemma3")
    image = _png()
    reply = client.chat(
        "gemma3",
        messages=[{"role": "user", "content": "Describe this image", "images": [image]}],
        format=ImageDescription.model_json_schema(),
    )
    described = ImageDescription.model_validate_json(reply.message.content)
    assert described.colors == ["blue"]
    assert "40x30 PNG" in described.summary and "[practice server]" in described.summary
    assert described.objects == [] and described.setting == "Unknown"
    assert described.text_content is None

    class Size(BaseModel):
        width: int
        height: int
        format: str

    out = client.generate("gemma3", prompt="Measure it", images=[image],
                          format=Size.model_json_schema())  # fmt: skip
    assert Size.model_validate_json(out.response) == Size(width=40, height=30, format="PNG")
    plain = client.generate("gemma3", prompt="What is it?", images=[image], format="json")
    assert '"width": 40' in plain.response


def test_create_from_a_missing_base_pulls_it_first(client):
    statuses = [p.status for p in client.create(model="mine", from_="gemma3:1b", stream=True)]
    assert statuses[0] == "pulling manifest"
    assert any(s.startswith("pulling ") and s != "pulling manifest" for s in statuses)
    first_layer = next(i for i, s in enumerate(statuses) if s.startswith("using existing layer"))
    assert statuses.index("verifying sha256 digest") < first_layer
    assert statuses[-1] == "success"
    listed = {m.model for m in client.list().models}
    assert {"gemma3:1b", "mine:latest"} <= listed


def test_create_from_a_base_that_cannot_be_pulled(client):
    with pytest.raises(ollama.ResponseError) as err:
        client.create(model="mine", from_="no-such-base:7b")
    assert err.value.status_code == 500
    assert err.value.error == "pull model manifest: file does not exist"
    with pytest.raises(ollama.ResponseError, match="file does not exist"):
        for _ in client.create(model="mine", from_="no-such-base:7b", stream=True):
            pass


def test_push_of_a_missing_model_is_500_with_ollamas_text(client):
    with pytest.raises(ollama.ResponseError) as err:
        client.push("me/nothing-here")
    assert err.value.status_code == 500
    assert err.value.error == (
        "open /root/.ollama/models/manifests/registry.ollama.ai/me/nothing-here/latest: "
        "no such file or directory"
    )


def test_non_streamed_reply_takes_the_time_its_metrics_claim():
    import time

    with PracticeServer(port=0, speed=60) as srv:
        client = ollama.Client(host=srv.url)
        start = time.monotonic()
        reply = client.generate("llama3.1", prompt="Count to 40", stream=False)
        wall = time.monotonic() - start
        claimed = reply.total_duration / 1e9
        assert claimed > 0.6  # 40 numbers at 60 tokens a second, plus loading
        assert wall >= claimed * 0.95
        assert wall < claimed + 5  # generous: a busy machine is slow, never fast


def test_think_levels_change_the_amount_of_thinking(client):
    client.pull("gpt-oss:20b")
    sizes = {}
    for level in ("low", "medium", "high"):
        reply = client.chat("gpt-oss:20b", messages=[{"role": "user", "content": "Why?"}],
                            think=level)  # fmt: skip
        sizes[level] = len(reply.message.thinking)
    assert sizes["low"] < sizes["medium"] < sizes["high"]


def test_arithmetic_only_when_the_prompt_asks_for_it(client):
    rag = (
        "Use this context to answer. Context: report 437 - 48 says the sky is blue because of "
        "Rayleigh scattering. Question: why is the sky blue?"
    )
    answer = client.generate("llama3.1", prompt=rag).response
    assert "389" not in answer and " = " not in answer
    asked = client.generate("llama3.1", prompt="What is 437 - 48?").response
    assert "437 - 48 = 389" in asked
    chained = client.generate("llama3.1", prompt="What is (11434+12341)*412?").response
    assert "= 9795300" in chained
    zh = client.generate("llama3.1", prompt="3加5等于多少？").response
    assert "3 + 5 = 8" in zh
    assert "=" not in client.generate("llama3.1", prompt="Summarise doc-2024-05-01").response


def test_json_mode_uses_the_field_names_the_prompt_gives(client):
    import json

    zh = client.generate("llama3.1", prompt="请用JSON格式告诉我中国的首都和人口", format="json")
    data = json.loads(zh.response)
    assert list(data) == ["首都", "人口"]
    assert data["首都"] == "北京" and isinstance(data["人口"], int)
    en = client.chat(
        "llama3.1",
        messages=[{"role": "user", "content": "Reply in JSON with the fields name, age and "
                   "city for a student called Ada."}],
        format="json",
    )  # fmt: skip
    data = json.loads(en.message.content)
    assert list(data) == ["name", "age", "city"] and data["name"] == "Ada"
    plain = json.loads(client.generate("llama3.1", prompt="Why is the sky blue?",
                                       format="json").response)  # fmt: skip
    assert "answer" in plain  # no fields named: the usual labelled object
