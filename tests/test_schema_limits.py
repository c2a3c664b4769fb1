"""Structured outputs stay bounded (issue 13's rules, inside the generator): huge schemas get
a 400, and learner regex patterns never backtrack over learner text for long."""

from __future__ import annotations

import time

import ollama
import pytest

from ollama_nb.server.schemacheck import pattern_ok, safe_length


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "integer"}, "minItems": 10_000_000},
        {"type": "string", "minLength": 100_000_000},
        {"type": "object", "minProperties": 1_000_000},
        {"type": "string", "pattern": "^a{100000000}$"},
        {"type": "string", "pattern": "^(a{1000}){1000}$"},
        {  # 100 x 100 x 100 strings of 100 characters: only shows while generating
            "type": "array", "minItems": 100, "items": {
                "type": "array", "minItems": 100, "items": {
                    "type": "array", "minItems": 100,
                    "items": {"type": "string", "minLength": 100}}}},
    ],
)  # fmt: skip
def test_huge_schemas_answer_400_at_once(client, schema):
    start = time.monotonic()
    with pytest.raises(ollama.ResponseError) as err:
        client.generate("llama3.1", prompt="Fill it", format=schema)
    assert err.value.status_code == 400
    assert err.value.error.startswith("invalid JSON schema:")
    assert "limit" in err.value.error
    assert time.monotonic() - start < 5  # generous: it is refused, not attempted


def test_deep_nesting_is_refused(client):
    schema: dict = {"type": "string"}
    for _ in range(100):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    with pytest.raises(ollama.ResponseError, match="nested more than 64 levels"):
        client.chat("llama3.1", messages=[{"role": "user", "content": "x"}], format=schema)


def test_evil_pattern_never_runs_long_on_learner_text(client):
    evil = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^(a+)+$"},
            "code": {"type": "string", "pattern": "^(a|aa)+$"},
        },
        "required": ["name", "code"],
    }
    prompt = 'My name is "' + "a" * 5000 + '!" and my code is "' + "a" * 64 + 'b"'
    start = time.monotonic()
    reply = client.generate("llama3.1", prompt=prompt, format=evil)
    assert time.monotonic() - start < 5
    import json

    data = json.loads(reply.response)
    assert pattern_ok("^(a+)+$", data["name"]) and pattern_ok("^(a|aa)+$", data["code"])


def test_evil_pattern_in_a_tool_parameter(client):
    """The library's Tool type drops `pattern`, so this one goes over the wire as sent."""
    tool = {"type": "function", "function": {"name": "lookup", "description": "Look up a code",
            "parameters": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string", "pattern": "^(x+x+)+y$"}}}}}  # fmt: skip
    question = {"role": "user", "content": "Look up the code " + "x" * 3000}
    body = {"model": "llama3.1", "stream": False, "tools": [tool], "messages": [question]}
    start = time.monotonic()
    reply = client._client.post("/api/chat", json=body).json()
    assert time.monotonic() - start < 5
    (call,) = reply["message"]["tool_calls"]
    assert pattern_ok("^(x+x+)+y$", call["function"]["arguments"]["code"])


def test_safe_lengths_follow_the_pattern_shape():
    assert safe_length("^[a-z]+$") == 4096
    assert safe_length(r"^\d{3}-\d{4}$") == 4096
    assert safe_length("^(a+)+$") == 20
    assert safe_length("^(a|aa)+$") == 20
    assert safe_length(r"^(\w)\1$") == 20
    assert 4 <= safe_length(r"\d*\d*\d*\d*\d*\d*x") <= 100
    assert safe_length("(") == 0 and not pattern_ok("(", "a")
    assert not pattern_ok("^(a+)+$", "a" * 21) and pattern_ok("^(a+)+$", "a" * 20)
