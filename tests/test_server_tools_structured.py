"""Tools and structured outputs end to end, as the library's own documentation uses them."""

from __future__ import annotations

import json
from enum import Enum

import jsonschema
import ollama
import pytest
from library_tools import add_two_numbers, subtract_two_numbers
from pydantic import BaseModel, Field

AVAILABLE = {"add_two_numbers": add_two_numbers, "subtract_two_numbers": subtract_two_numbers}


def test_library_tool_example_end_to_end(client):
    messages = [{"role": "user", "content": "What is three plus one? Use 3 and 1."}]
    response = client.chat(
        model="llama3.1", messages=messages, tools=[add_two_numbers, subtract_two_numbers]
    )
    calls = response.message.tool_calls
    assert calls and calls[0].function.name == "add_two_numbers"
    assert calls[0].function.arguments == {"a": 3, "b": 1}
    messages.append(response.message)
    for call in calls:
        output = AVAILABLE[call.function.name](**call.function.arguments)
        messages.append({"role": "tool", "content": str(output), "tool_name": call.function.name})
    final = client.chat(model="llama3.1", messages=messages)
    assert "4" in final.message.content and "practice server" in final.message.content


def test_tool_call_arrives_in_one_chunk_when_streamed(client):
    parts = list(
        client.chat(
            model="llama3.1",
            messages=[{"role": "user", "content": "Subtract 2 from 10"}],
            tools=[add_two_numbers, subtract_two_numbers],
            stream=True,
        )
    )
    with_calls = [p for p in parts if p.message.tool_calls]
    assert len(with_calls) == 1
    assert with_calls[0].message.tool_calls[0].function.name == "subtract_two_numbers"


def test_weather_tool_as_a_dict_gets_a_valid_city(client):
    tool = {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather for a city",
            "parameters": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string", "description": "The city"}},
            },
        },
    }
    response = client.chat(
        model="llama3.1",
        tools=[tool],
        messages=[{"role": "user", "content": "What is the weather in Tokyo?"}],
    )
    call = response.message.tool_calls[0].function
    jsonschema.validate(call.arguments, tool["function"]["parameters"])
    assert call.arguments == {"city": "Tokyo"}


def test_tools_on_a_model_without_tools(client):
    client.pull("gemma3:270m")
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(
            model="gemma3:270m",
            tools=[add_two_numbers],
            messages=[{"role": "user", "content": "add 1 and 2"}],
        )
    assert err.value.status_code == 400
    assert err.value.error == "registry.ollama.ai/library/gemma3:270m does not support tools"


class Colour(str, Enum):
    red = "red"
    blue = "blue"


class Friend(BaseModel):
    name: str
    age: int = Field(ge=0, le=120)
    is_available: bool
    favourite_colour: Colour


class FriendList(BaseModel):
    friends: list[Friend]


def test_pydantic_structured_output_validates(client):
    schema = FriendList.model_json_schema()
    response = client.chat(
        model="llama3.1",
        format=schema,
        options={"temperature": 0},
        messages=[{"role": "user", "content": "I have two friends: Ana is 23, Bo is 31."}],
    )
    jsonschema.validate(json.loads(response.message.content), schema)
    FriendList.model_validate_json(response.message.content)
    again = client.chat(
        model="llama3.1",
        format=schema,
        options={"temperature": 0},
        messages=[{"role": "user", "content": "I have two friends: Ana is 23, Bo is 31."}],
    )
    assert again.message.content == response.message.content


def test_format_json_on_generate_is_an_object(client):
    response = client.generate(model="llama3.1", prompt="List three colours as JSON", format="json")
    assert isinstance(json.loads(response.response), dict)


def test_bad_format_is_a_400(server):
    import httpx

    reply = httpx.post(
        f"{server.url}/api/chat",
        json={
            "model": "llama3.1",
            "stream": False,
            "format": 42,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert reply.status_code == 400 and "error" in reply.json()
