"""The practice server posing as a real Ollama: no marks, chosen models, a loud pull budget."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import urllib.error
import urllib.request

import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.server.pose import POSE_REFUSED, parse_size


@pytest.fixture
def posing():
    with PracticeServer(
        pose_as_ollama=True, installed="qwen3:0.6b,all-minilm", pull_budget="1GB"
    ) as srv:
        yield srv


def test_no_practice_marks(posing):
    with urllib.request.urlopen(f"{posing.url}/api/version") as response:
        assert response.headers.get("X-Ollama-Practice") is None
        assert b"practice" not in response.read()
    client = ollama.Client(host=posing.url)
    reply = client.chat(
        model="qwen3:0.6b", messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    assert reply.message.content and "practice server" not in reply.message.content
    zh = client.generate(model="qwen3:0.6b", prompt="为什么天空是蓝色的？", think=False)
    assert zh.response and not zh.response.startswith("【练习服务器】")


def test_only_the_chosen_models_are_installed(posing):
    names = sorted(m.model for m in ollama.Client(host=posing.url).list().models)
    assert names == ["all-minilm:latest", "qwen3:0.6b"]
    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=posing.url).chat(model="llama3.1", messages=[])
    assert info.value.status_code == 404


def test_pulls_past_the_budget_fail_loudly_and_are_counted(posing):
    client = ollama.Client(host=posing.url)
    client.pull("gemma3:270m")  # 292 MB: within the budget
    with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
        client.pull("llama3.1")  # 4.9 GB
    with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
        client.create(model="mario", from_="llava")
    assert posing.pose.pulled == ["gemma3:270m"]
    assert [r.split()[0] for r in posing.pose.refused] == ["llama3.1:latest", "llava:latest"]
    assert "llama3.1:latest" not in {m.model for m in client.list().models}


def test_sizes_parse():
    assert parse_size("1GB") == 10**9 and parse_size("500 mb") == 5 * 10**8
    assert parse_size("0") == 0
    with pytest.raises(ValueError):
        parse_size("lots")


def test_command_line_pose():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            "0",
            "--pose-as-ollama",
            "--installed",
            "llama3.2:1b",
            "--pull-budget",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        client = ollama.Client(host=url)
        assert [m.model for m in client.list().models] == ["llama3.2:1b"]
        with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
            client.pull("all-minilm")
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            "0",
            "--pose-as-ollama",
            "--installed",
            "no-such-model",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "not in the practice catalog" in bad.stderr


# -- the marks policy: every answer, every reply, every learner store -----------------------
PRACTICE_SERVER = "ollama_nb practice server"
ORIGIN = "http://localhost:3000"  # one of Ollama's default allowed origins


def _answer(url: str, method: str = "GET", headers: dict | None = None):
    """(status, headers, body) of one request, whatever its status."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _answers(url: str) -> dict:
    """One answer of each kind: a route, a 404, a refused learner, a preflight, a learner."""
    return {
        "version": _answer(f"{url}/api/version"),
        "not found": _answer(f"{url}/no/such/route"),
        "bad learner": _answer(f"{url}/u/..bad../api/tags"),
        "preflight": _answer(
            f"{url}/api/chat",
            "OPTIONS",
            {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        ),
        "learner": _answer(f"{url}/u/alice/api/tags"),
    }


def test_posing_answers_carry_no_practice_headers(posing):
    answers = _answers(posing.url)
    statuses = {kind: status for kind, (status, _, _) in answers.items()}
    assert statuses == {
        "version": 200,
        "not found": 404,
        "bad learner": 400,
        "preflight": 204,
        "learner": 200,
    }
    for kind, (_, headers, _) in answers.items():
        assert headers.get("X-Ollama-Practice") is None, kind
        assert headers.get("Server") is None, (kind, headers.get("Server"))  # as Go's net/http
    # posing keeps Ollama's CORS answers
    assert answers["preflight"][1]["Access-Control-Allow-Origin"] == ORIGIN
    status, headers, _ = _answer(f"{posing.url}/api/tags", headers={"Origin": ORIGIN})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN


def test_practice_answers_keep_their_marks():
    with PracticeServer(port=0) as srv:
        answers = _answers(srv.url)
        version = answers["version"]
        assert version[1]["X-Ollama-Practice"] == "1" and version[1]["Server"] == PRACTICE_SERVER
        assert b'"practice": true' in version[2]
        for kind in ("not found", "preflight", "learner"):
            assert answers[kind][1]["X-Ollama-Practice"] == "1", kind
            assert answers[kind][1]["Server"] == PRACTICE_SERVER, kind
        assert answers["bad learner"][1]["X-Ollama-Practice"] == "1"
        client = ollama.Client(host=srv.url)
        client.pull("qwen2.5-coder:0.5b")
        client.pull("qwen3:0.6b")
        reply = client.generate(model="qwen3:0.6b", prompt="Why is the sky blue?", think="max")
        assert reply.response.startswith("[practice server] ")
        assert reply.thinking.count("practice server") == 2
        middle = client.generate(model="qwen2.5-coder:0.5b", prompt="def add(a, b):", suffix="\n")
        assert "[practice server]" in middle.response


@pytest.fixture
def posing_coder():
    with PracticeServer(
        port=0, pose_as_ollama=True, installed=["qwen3:0.6b", "qwen2.5-coder:0.5b"]
    ) as srv:
        yield srv


@pytest.mark.parametrize("level", [True, "max"])
@pytest.mark.parametrize("prompt", ["Why is the sky blue?", "为什么天空是蓝色的？"])
def test_posing_thinking_has_no_practice_label(posing_coder, prompt, level):
    client = ollama.Client(host=posing_coder.url)
    reply = client.generate(model="qwen3:0.6b", prompt=prompt, think=level)
    chat = client.chat(model="qwen3:0.6b", messages=[{"role": "user", "content": prompt}])
    for thinking in (reply.thinking, chat.message.thinking):
        assert thinking and prompt in thinking
        assert "practice" not in thinking.lower() and "练习" not in thinking
    streamed = "".join(
        part.thinking or ""
        for part in client.generate(model="qwen3:0.6b", prompt=prompt, think=level, stream=True)
    )
    assert streamed == reply.thinking


def test_posing_insert_reply_has_no_practice_label(posing_coder):
    client = ollama.Client(host=posing_coder.url)
    reply = client.generate(model="qwen2.5-coder:0.5b", prompt="def add(a, b):", suffix="\n")
    assert reply.response.strip().startswith("#")
    assert "practice" not in reply.response.lower()


def test_posing_learner_stores_have_the_installed_models_and_the_budget(posing):
    alice = ollama.Client(host=posing.learner_url("alice"))
    names = sorted(m.model for m in alice.list().models)
    assert names == ["all-minilm:latest", "qwen3:0.6b"]
    with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
        alice.pull("llama3.1")  # 4.9 GB, over the 1 GB budget
    assert "llama3.1:latest" not in {m.model for m in alice.list().models}
    alice.pull("gemma3:270m")  # within the budget
    assert "gemma3:270m" in {m.model for m in alice.list().models}
    assert "llama3.1:latest" in posing.pose.refused[-1]
    # the default store is untouched by what Alice pulled
    default = sorted(m.model for m in ollama.Client(host=posing.url).list().models)
    assert default == ["all-minilm:latest", "qwen3:0.6b"]


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("question", ["What is the weather in Paris?", "巴黎的天气怎么样？"])
def test_posing_tool_answers_images_and_json_have_no_practice_label(question):
    with PracticeServer(port=0, pose_as_ollama=True, installed="qwen3:0.6b,llava") as srv:
        client = ollama.Client(host=srv.url)
        after_tools = client.chat(
            model="qwen3:0.6b",
            messages=[
                {"role": "user", "content": question},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
                    ],
                },
                {"role": "tool", "content": "sunny, 21 °C", "tool_name": "get_weather"},
            ],
            think=False,
        )
        assert "sunny, 21 °C" in after_tools.message.content
        pictures = client.chat(
            model="llava",
            messages=[{"role": "user", "content": question, "images": [_png(), _png()]}],
        )
        assert pictures.message.content.count("8") >= 4  # 8x8 (8×8), twice
        as_json = client.chat(
            model="qwen3:0.6b",
            messages=[{"role": "user", "content": question}],
            format="json",
            think=False,
        )
        assert isinstance(json.loads(as_json.message.content), dict)
        for text in (after_tools.message.content, pictures.message.content):
            assert "practice" not in text.lower() and "练习" not in text, text
        assert "note" not in json.loads(as_json.message.content)


# -- structured replies, pictures with a schema, the answer book's greetings ----------------
SHAPES = "notebooks/en/images/shapes.png"
GREETINGS = ["Hello", "你好", "Hi", "Write a haiku about servers."]


def _summary_schema() -> dict:
    from pydantic import BaseModel

    class Summary(BaseModel):
        topic: str
        summary: str
        title: str

    return Summary.model_json_schema()


SECRETS = {
    "type": "object",
    "properties": {
        "password": {"type": "string", "format": "password"},
        "pointer": {"type": "string", "format": "json-pointer"},
        "blob": {"type": "string", "format": "binary"},
        "file": {"type": "string", "format": "path"},
        "link": {"type": "string", "format": "uri"},
        "tag": {"type": "string", "format": "byte"},
    },
    "required": ["password", "pointer", "blob", "file", "link", "tag"],
}
PICTURE = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "description": {"type": "string"},
        "objects": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "description", "objects"],
}
PROMPTS = ["Summarise: why is the sky blue?", "总结一下：为什么天空是蓝色的？", "!!!"]


def _unmarked_texts(url: str) -> list[str]:
    """Every reply the three kinds of giveaway could hide in, from a real client."""
    client = ollama.Client(host=url)
    texts = []
    for prompt in PROMPTS:
        for schema in (_summary_schema(), SECRETS):
            for seed in range(3):
                reply = client.chat(
                    model="qwen3:0.6b",
                    messages=[{"role": "user", "content": prompt}],
                    format=schema,
                    think=False,
                    options={"seed": seed},
                )
                texts.append(reply.message.content)
        with open(SHAPES, "rb") as image:
            shapes = image.read()
        texts.append(
            client.chat(
                model="llava",
                messages=[{"role": "user", "content": prompt, "images": [shapes]}],
                format=PICTURE,
            ).message.content
        )
    for greeting in GREETINGS:
        reply = client.chat(
            model="qwen3:0.6b", messages=[{"role": "user", "content": greeting}], think=False
        )
        texts.append(reply.message.content)
    return texts


def test_posing_structured_pictures_and_greetings_have_no_practice_wording():
    with PracticeServer(port=0, pose_as_ollama=True, installed="qwen3:0.6b,llava") as srv:
        texts = _unmarked_texts(srv.url)
    for text in texts:
        assert text and "practice" not in text.lower() and "练习" not in text, text
    summary = json.loads(texts[0])
    assert summary["summary"] and summary["title"]
    picture = json.loads(texts[6])
    assert "shapes" not in picture and "PNG" in picture["description"]
    assert "Hello! I am an AI assistant" in texts[-4] and "我是一个 AI 助手" in texts[-3]


def test_practice_structured_pictures_and_greetings_keep_their_wording():
    with PracticeServer(port=0) as srv:
        client = ollama.Client(host=srv.url)
        client.pull("qwen3:0.6b")
        client.pull("llava")
        texts = _unmarked_texts(srv.url)
    en = " ".join(texts[:6]).lower()
    assert "practice" in en and "/practice" in en and "practice-password" in en
    assert "练习" in " ".join(texts[7:13])
    for picture in (texts[6], texts[13]):
        assert "[practice server]" in picture or "【练习服务器】" in picture, picture
    assert "standing in for a language model" in texts[-4]
    assert "练习服务器" in texts[-3] and "practice makes ready" in texts[-1]


@pytest.mark.parametrize("prompt", ["Tell me about quasars.", "给我讲讲类星体。"])
def test_unknown_prompts_say_no_real_model_only_in_practice(prompt):
    ask = [{"role": "user", "content": prompt}]
    with PracticeServer(port=0, pose_as_ollama=True, installed="qwen3:0.6b") as srv:
        posed = ollama.Client(host=srv.url).chat(model="qwen3:0.6b", messages=ask, think=False)
    with PracticeServer(port=0) as srv:
        client = ollama.Client(host=srv.url)
        client.pull("qwen3:0.6b")
        practice = client.chat(model="qwen3:0.6b", messages=ask, think=False)
    posed_text, practice_text = posed.message.content, practice.message.content
    assert prompt in posed_text and prompt in practice_text
    for giveaway in ("real model", "Ollama", "真正的模型", "practice", "练习"):
        assert giveaway not in posed_text, posed_text
    assert "not a real model" in practice_text or "我不是真正的模型" in practice_text


def save_note(title: str, summary: str, password: str) -> str:
    """Save a note with a title and a summary.

    Args:
      title: the note's title
      summary: the note's summary text
      password: the password that locks the note
    """
    return "saved"


NOTES = ["Save a note about dogs", "save note"]


def _note_arguments(url: str) -> list[dict]:
    client = ollama.Client(host=url)
    return [
        dict(call.function.arguments)
        for prompt in NOTES
        for call in client.chat(
            model="qwen3:0.6b",
            messages=[{"role": "user", "content": prompt}],
            tools=[save_note],
            think=False,
        ).message.tool_calls
    ]


def test_tool_arguments_say_practice_only_in_practice():
    with PracticeServer(port=0, pose_as_ollama=True, installed="qwen3:0.6b") as srv:
        posed = _note_arguments(srv.url)
    with PracticeServer(port=0) as srv:
        ollama.Client(host=srv.url).pull("qwen3:0.6b")
        practice = _note_arguments(srv.url)
    assert len(posed) == len(practice) == 2
    assert all(set(a) == {"title", "summary", "password"} for a in posed)
    assert "practice" not in json.dumps(posed).lower(), posed
    assert "practice" in json.dumps(practice).lower()
