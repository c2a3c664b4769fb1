"""Modelfile -> arguments of today's ollama.create (client 0.6.3)."""

from __future__ import annotations

import hashlib
import json

import httpx
import ollama
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ollama._types import CreateRequest

from ollama_nb.modelfile import ModelfileError, create_from_modelfile, parse

SEED_MODELFILE = """
FROM llama3.1
SYSTEM 你是超级马里奥兄弟中的马里奥。
"""


def accepted_by_client(kwargs: dict) -> dict:
    """What the 0.6.3 client would send for these kwargs (raises if it rejects them)."""
    return CreateRequest(model="x", stream=False, **kwargs).model_dump(
        exclude_none=True, by_alias=True
    )


def test_seed_tutorial_modelfile():
    kwargs = parse(SEED_MODELFILE)
    assert kwargs == {"from_": "llama3.1", "system": "你是超级马里奥兄弟中的马里奥。"}
    body = accepted_by_client(kwargs)
    assert body["from"] == "llama3.1"
    assert body["system"] == "你是超级马里奥兄弟中的马里奥。"


def test_multiline_system_and_template_are_verbatim():
    text = '''FROM llama3.2
SYSTEM """
You are Mario.
  Answer as Mario.
"""
TEMPLATE """{{ if .System }}<|system|>{{ .System }}{{ end }}
<|user|>{{ .Prompt }}"""
'''
    kwargs = parse(text)
    assert kwargs["system"] == "\nYou are Mario.\n  Answer as Mario.\n"
    assert kwargs["template"] == (
        "{{ if .System }}<|system|>{{ .System }}{{ end }}\n<|user|>{{ .Prompt }}"
    )


def test_triple_quotes_on_one_line_and_plain_quotes():
    kwargs = parse('FROM m\nSYSTEM """Say "hi" first."""\nTEMPLATE "{{ .Prompt }}"\n')
    assert kwargs["system"] == 'Say "hi" first.'
    assert kwargs["template"] == "{{ .Prompt }}"


def test_last_system_wins():
    assert parse("FROM m\nSYSTEM one\nSYSTEM two\n")["system"] == "two"


def test_typed_parameters_and_repeated_stop():
    text = """FROM m
PARAMETER temperature 1
PARAMETER top_p 0.9
PARAMETER num_ctx 4096
PARAMETER seed -1
PARAMETER use_mmap false
PARAMETER stop "<|start_header_id|>"
PARAMETER stop <|eot_id|>
PARAMETER stop "user:"
"""
    params = parse(text)["parameters"]
    assert params == {
        "temperature": 1.0,
        "top_p": 0.9,
        "num_ctx": 4096,
        "seed": -1,
        "use_mmap": False,
        "stop": ["<|start_header_id|>", "<|eot_id|>", "user:"],
    }
    assert type(params["temperature"]) is float
    assert type(params["num_ctx"]) is int
    assert accepted_by_client({"from_": "m", "parameters": params})["parameters"] == params


def test_messages_license_comments_and_case():
    text = (
        """# a Mario model
from llama3.1
  # indented comment

message user Who are you?
MESSAGE assistant """
        + '"""It\'s-a me,\nMario!"""'
        + """
License MIT
LICENSE \"\"\"Second
licence\"\"\"
"""
    )
    kwargs = parse(text)
    assert kwargs == {
        "from_": "llama3.1",
        "messages": [
            {"role": "user", "content": "Who are you?"},
            {"role": "assistant", "content": "It's-a me,\nMario!"},
        ],
        "license": ["MIT", "Second\nlicence"],
    }
    accepted_by_client(kwargs)


def test_single_license_is_a_string():
    assert parse("FROM m\nLICENSE Apache-2.0\n")["license"] == "Apache-2.0"


def test_adapters_map_file_name_to_path():
    kwargs = parse("FROM m\nADAPTER ./loras/mario.gguf\n")
    assert kwargs["adapters"] == {"mario.gguf": "./loras/mario.gguf"}


def test_crlf_and_bom():
    assert parse("\ufeffFROM m\r\nSYSTEM hi\r\n") == {"from_": "m", "system": "hi"}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("FROM m\nSYSTEM hi\nFORM x\n", 3, "unknown instruction 'FORM'"),
        (
            "FROM m\n\nPARAMETER temperature\n",
            3,
            "PARAMETER needs a name and a value, got 'PARAMETER temperature'",
        ),
        ("FROM m\nPARAMETER temperature hot\n", 2, "temperature must be a number, got 'hot'"),
        ("FROM m\nPARAMETER num_ctx 2.5\n", 2, "num_ctx must be a whole number"),
        ("FROM m\nPARAMETER seed 99999999999999999999\n", 2, "seed must be a whole number"),
        ("FROM m\nPARAMETER top_p 1e999\n", 2, "top_p must be a number"),
        ("FROM m\nPARAMETER use_mmap maybe\n", 2, "use_mmap must be true or false"),
        ("FROM m\n# c\nPARAMETER tempreature 0.5\n", 3, "unknown parameter 'tempreature'"),
        ('FROM m\nSYSTEM ok\nSYSTEM """\nnever\nclosed\n', 3, 'unterminated """'),
        ('FROM m\nSYSTEM "open\n', 2, 'unterminated "'),
        ("FROM m\nMESSAGE robot hi\n", 2, "MESSAGE role must be system, user or assistant"),
        ("FROM m\nMESSAGE user\n", 2, "MESSAGE needs a role and a content"),
        ("FROM m\nSYSTEM\n", 2, "SYSTEM needs a value"),
        ("FROM m\nREQUIRES 0.5.0\n", 2, "ollama.create() in the Python library"),
        ("FROM m\nADAPTER a/x.gguf\nADAPTER b/x.gguf\n", 3, "two ADAPTER files"),
    ],
)
def test_errors_name_the_line(text, line, words):
    with pytest.raises(ModelfileError) as info:
        parse(text)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}: ")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_from():
    with pytest.raises(ModelfileError, match="no FROM line") as info:
        parse("# nothing\nSYSTEM hi\n")
    assert info.value.line is None


class FakeClient:
    def __init__(self):
        self.calls = []

    def create_blob(self, path):
        self.calls.append(("create_blob", path))
        return "sha256:" + "ab" * 32

    def create(self, **kwargs):
        self.calls.append(("create", kwargs))
        return "created"


def test_create_from_modelfile_calls_create():
    client = FakeClient()
    assert create_from_modelfile("mario", SEED_MODELFILE, client=client) == "created"
    assert client.calls == [
        (
            "create",
            {
                "model": "mario",
                "from_": "llama3.1",
                "system": "你是超级马里奥兄弟中的马里奥。",
                "stream": False,
            },
        )
    ]


def test_create_from_modelfile_uploads_adapters(tmp_path):
    lora = tmp_path / "mario.gguf"
    lora.write_bytes(b"GGUF fake adapter")
    client = FakeClient()
    create_from_modelfile("m", f"FROM llama3.1\nADAPTER {lora}\n", client=client, stream=True)
    assert client.calls[0] == ("create_blob", str(lora))
    assert client.calls[1][1]["adapters"] == {"mario.gguf": "sha256:" + "ab" * 32}
    assert client.calls[1][1]["stream"] is True


def test_create_from_modelfile_missing_adapter(tmp_path):
    client = FakeClient()
    with pytest.raises(FileNotFoundError, match="ADAPTER"):
        create_from_modelfile("m", f"FROM x\nADAPTER {tmp_path / 'nope.gguf'}\n", client=client)
    assert client.calls == []


def test_create_from_modelfile_with_the_real_client(tmp_path):
    """The real 0.6.3 client sends the blob, then the create body the server expects."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.content))
        if request.url.path.startswith("/api/blobs/"):
            return httpx.Response(201)
        return httpx.Response(200, json={"status": "success"})

    lora = tmp_path / "mario.gguf"
    lora.write_bytes(b"GGUF")
    client = ollama.Client(host="http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    text = SEED_MODELFILE + f"PARAMETER temperature 0.7\nADAPTER {lora}\n"
    response = create_from_modelfile("mario", text, client=client)
    assert response.status == "success"
    digest = "sha256:" + hashlib.sha256(b"GGUF").hexdigest()
    assert seen[0][:2] == ("POST", f"/api/blobs/{digest}")
    assert seen[1][:2] == ("POST", "/api/create")
    assert json.loads(seen[1][2]) == {
        "model": "mario",
        "stream": False,
        "from": "llama3.1",
        "system": "你是超级马里奥兄弟中的马里奥。",
        "parameters": {"temperature": 0.7},
        "adapters": {"mario.gguf": digest},
    }


_WORDS = st.sampled_from(
    ["FROM", "from", "SYSTEM", "PARAMETER", "MESSAGE", "LICENSE", "TEMPLATE", "ADAPTER", "#"]
    + ["temperature", "stop", "num_ctx", "user", "0.5", "42", "true", '"""', '"', " ", "\n"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_WORDS | st.text(max_size=5)).map("".join)))
def test_arbitrary_text_only_raises_modelfile_error(text):
    try:
        kwargs = parse(text)
    except ModelfileError as exc:
        assert exc.line is None or exc.line >= 1
        return
    accepted_by_client(kwargs)
