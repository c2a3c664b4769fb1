"""Bodies decoded as Go decodes them, `create` checked before it changes anything, and a
`--state` store that keeps saving (issue 13).

Before: NaN, 1e400, a UTF-8 BOM and UTF-16 bodies were accepted (200); a 5,000-digit number
and nesting of 2,000 levels answered 500; `license: [1, 2]` and a message content of 5 were
stored and made `show` answer 500; a lone surrogate in `create` answered 500.
"""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.server.gojson import loads


@pytest.fixture(scope="module")
def srv():
    with PracticeServer(port=0) as s:
        yield s


def _post(srv, path: str, raw: bytes) -> httpx.Response:
    return httpx.post(srv.url + path, content=raw, timeout=30)


GEN = b'{"model":"llama3.1","prompt":"hi","stream":false,'


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (GEN + b'"options":{"temperature":NaN}}', "invalid character 'N' looking for beginning"),
        (GEN + b'"options":{"temperature":-Infinity}}', "invalid character 'I' in numeric literal"),
        (
            GEN + b'"options":{"temperature":1e400}}',
            "json: cannot unmarshal number 1e400 into Go struct field GenerateRequest.options "
            "of type float64",
        ),
        (
            GEN + b'"options":{"seed":' + b"9" * 5000 + b"}}",
            "json: cannot unmarshal number 999",
        ),
        (
            GEN + b'"top_logprobs":1e30}',
            "json: cannot unmarshal number 1e+30 into Go struct field GenerateRequest.top_logprobs",
        ),
        (
            GEN + b'"options":{"x":' + b"[" * 10_001 + b"]" * 10_001 + b"}}",
            "invalid character '[' exceeded max depth",
        ),
        (b"\xef\xbb\xbf" + GEN[:-1] + b"}", "invalid character 'ï' looking for beginning of value"),
        ((GEN[:-1] + b"}").decode().encode("utf-16"), "invalid character 'ÿ' looking for"),
    ],
)
def test_go_decoder_refusals(srv, raw, error):
    response = _post(srv, "/api/generate", raw)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


def test_deep_nesting_within_go_limit_is_not_a_500(srv):
    deep = GEN + b'"options":{"x":' + b"[" * 9_000 + b"]" * 9_000 + b"}}"
    assert _post(srv, "/api/generate", deep).status_code == 200
    deep_format = GEN + b'"format":' + b"[" * 5_000 + b"]" * 5_000 + b"}"
    assert _post(srv, "/api/generate", deep_format).status_code < 500


def test_surrogates_and_invalid_utf8_become_replacement_characters(srv):
    raw = b'{"model":"llama3.1","stream":false,"messages":[{"role":"user",'
    raw += b'"content":"a\\ud800b\xffc"}]}'
    response = _post(srv, "/api/chat", raw)
    assert response.status_code == 200
    assert loads(b'{"k\\udc00":"\\ud83d\\ude00\\ud800"}') == {"k\ufffd": "\U0001f600\ufffd"}


def test_iterative_parser_agrees_with_json():
    body = {"a": [1, 2.5, -3e-2, True, False, None, "x\\u00e9\n", {"b": []}, {}], "c": {"d": "é"}}
    text = json.dumps(body)
    deep = '{"z":' + "[" * 500 + text + "]" * 500 + "}"
    value = loads(deep.encode())
    for _ in range(500):
        value["z"] = value["z"][0]
    assert value["z"] == body


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"license": [1, 2]}, "license must be a string or a list of strings"),
        (
            {"messages": [{"role": "user", "content": 5}]},
            "json: cannot unmarshal number into Go struct field Message.messages.content",
        ),
        (
            {"adapters": ["x"]},
            "json: cannot unmarshal array into Go struct field CreateRequest.adapters of type "
            "map[string]string",
        ),
        (
            {"adapters": {"a": 5}},
            "json: cannot unmarshal number into Go struct field CreateRequest.adapters",
        ),
        ({"parameters": {"stop": [{"x": 1}]}}, 'invalid value for parameter "stop"'),
        ({"parameters": {"mine": {"x": 1}}}, 'invalid value for parameter "mine"'),
    ],
)
def test_create_checks_types_before_changing_anything(srv, body, error):
    client = ollama.Client(host=srv.url)
    response = httpx.post(
        srv.url + "/api/create",
        json={"model": "typed", "from": "llama3.1", "stream": False, **body},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"].startswith(error)
    assert "typed:latest" not in {m.model for m in client.list().models}


def test_state_survives_a_lone_surrogate(tmp_path):
    raw = b'{"model":"odd","from":"llama3.1","system":"be \\ud800 odd","stream":false}'
    with PracticeServer(port=0, state_dir=str(tmp_path)) as s:
        created = httpx.post(s.url + "/api/create", content=raw, timeout=30)
        assert created.status_code == 200
        client = ollama.Client(host=s.url)
        client.copy("llama3.1", "later")
        assert "be \ufffd odd" in client.show("odd").modelfile
    assert not list(tmp_path.glob("*.tmp"))
    with PracticeServer(port=0, state_dir=str(tmp_path)) as s:
        client = ollama.Client(host=s.url)
        names = {m.model for m in client.list().models}
        assert {"odd:latest", "later:latest"} <= names
        assert "be \ufffd odd" in client.show("odd").modelfile
