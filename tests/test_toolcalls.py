"""Tool calls: the practice server must pick a sensible tool, give arguments that fit the tool's
schema (so ``available_functions[name](**arguments)`` runs), and answer from the results."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from library_tools import add_two_numbers, subtract_two_numbers
from ollama._utils import convert_function_to_tool

from ollama_nb.server.toolcalls import MARKER, MARKER_ZH, choose_tool, final_answer


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
      city: The name of the city
    """
    return f"Sunny in {city}"


def search_web(query, limit: int | None = None) -> str:
    """Search the web for a query."""
    return query


def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert an amount of money from one currency to another."""
    return amount


def as_dict(fn) -> dict:
    """What the client sends: ``Tool.model_dump(exclude_none=True)``."""
    return convert_function_to_tool(fn).model_dump(exclude_none=True)


MATH = [as_dict(add_two_numbers), as_dict(subtract_two_numbers)]
ALL = [*MATH, as_dict(get_weather), as_dict(search_web), as_dict(convert_currency)]
FUNCTIONS = {
    f.__name__: f
    for f in (add_two_numbers, subtract_two_numbers, get_weather, search_web, convert_currency)
}
WEATHER_WITH_ENUM = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. San Francisco"},
                "format": {
                    "type": "string",
                    "description": "The temperature unit",
                    "enum": ["celsius", "fahrenheit"],
                },
                "detailed": {"type": "boolean"},
            },
            "required": ["location", "format"],
        },
    },
}


def call(tools: list[dict], text: str, may_decline: bool = False) -> tuple[str, dict] | None:
    """choose_tool, then check the arguments against the chosen tool's schema."""
    chosen = choose_tool(tools, text)
    if chosen is None and may_decline:
        return None
    assert chosen is not None
    name, arguments = chosen
    params = next(
        t["function"]["parameters"]
        for t in tools
        if isinstance(t, dict) and t.get("function", {}).get("name") == name
    )
    jsonschema.validate(arguments, params)
    return name, arguments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is 3 plus 5?", ("add_two_numbers", {"a": 3, "b": 5})),
        ("What is three plus five?", ("add_two_numbers", {"a": 3, "b": 5})),
        ("What is 10 minus 4?", ("subtract_two_numbers", {"a": 10, "b": 4})),
        ("Subtract 2 from 9", ("subtract_two_numbers", {"a": 2, "b": 9})),
        ("What is 10 - 4?", ("subtract_two_numbers", {"a": 10, "b": 4})),
        ("3加5等于多少？", ("add_two_numbers", {"a": 3, "b": 5})),
    ],
)
def test_library_example_math(text: str, expected: tuple[str, dict]) -> None:
    assert call(MATH, text) == expected


def test_the_library_example_runs_end_to_end() -> None:
    name, arguments = call(MATH, "What is three plus one?")
    result = FUNCTIONS[name](**arguments)
    messages = [
        {"role": "user", "content": "What is three plus one?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "content": str(result), "tool_name": name},
    ]  # fmt: skip
    answer = final_answer(messages)
    assert answer == f"Using add_two_numbers, the result is 4.{MARKER}"


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("What's the weather in Tokyo?", "Tokyo"),
        ("Get the weather for New York", "New York"),
        ("how is the weather in paris today", "paris"),
        ('Weather report for "Rio de Janeiro", please', "Rio de Janeiro"),
        ("东京的天气怎么样？", "东京"),
    ],
)
def test_weather_city(text: str, city: str) -> None:
    assert call(ALL, text) == ("get_weather", {"city": city})


def test_strings_numbers_and_untyped_arguments() -> None:
    assert call(ALL, "Convert 100 USD to EUR") == (
        "convert_currency",
        {"amount": 100, "from_currency": "USD", "to_currency": "EUR"},
    )
    name, arguments = call(ALL, "Search the web for ollama tutorials")
    assert name == "search_web"
    assert "ollama tutorials" in arguments["query"]
    assert "limit" not in arguments  # optional and not in the text: left out


def test_enum_and_boolean_parameters() -> None:
    tools = [*MATH, WEATHER_WITH_ENUM]
    name, arguments = call(tools, "What is the weather in Boston in fahrenheit? Detailed: yes")
    assert name == "get_current_weather"
    assert arguments == {"location": "Boston", "format": "fahrenheit", "detailed": True}
    _, arguments = call(tools, "What's the weather like in Lima?")
    assert arguments == {"location": "Lima", "format": "celsius"}  # first enum value


def test_no_call_when_no_tool_fits() -> None:
    assert choose_tool(MATH, "hello there") is None
    assert choose_tool(MATH, "Why is the sky blue?") is None
    assert choose_tool(MATH, "What is 6 times 7?") is None  # no multiply tool on offer


def test_chinese_numerals() -> None:
    assert call(MATH, "三加一等于几？") == ("add_two_numbers", {"a": 3, "b": 1})


def test_arguments_fall_back_to_plausible_values() -> None:
    name, arguments = call(MATH, "please add some numbers")
    assert name == "add_two_numbers"
    assert isinstance(arguments["a"], int) and isinstance(arguments["b"], int)
    name, arguments = call([as_dict(get_weather)], "weather please")
    assert isinstance(arguments["city"], str) and arguments["city"]


def test_nested_and_constrained_parameters_validate() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "book_trip",
            "description": "Book a trip",
            "parameters": {
                "type": "object",
                "$defs": {"Seat": {"type": "string", "enum": ["aisle", "window"]}},
                "properties": {
                    "nights": {"type": "integer", "minimum": 1, "maximum": 14},
                    "seat": {"$ref": "#/$defs/Seat"},
                    "guests": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "budget": {
                        "anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]
                    },
                    "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                },
                "required": ["nights", "seat", "guests", "code"],
            },
        },
    }
    name, arguments = call([tool], "Book 40 nights for Ann and Bob with a window seat")
    assert name == "book_trip"
    assert arguments["seat"] == "window"
    assert 1 <= arguments["nights"] <= 14


def test_no_tools_and_malformed_tools() -> None:
    assert choose_tool([], "What is 3 plus 5?") is None
    assert choose_tool(None, "What is 3 plus 5?") is None  # type: ignore[arg-type]
    junk = [
        "add",
        {"type": "function"},
        {"type": "function", "function": {"name": ""}},
        {"type": "function", "function": {"name": 7}},
        {"type": "function", "function": {"name": "x", "parameters": {"properties": [1]}}},
        {"type": "retrieval", "function": {"name": "y"}},
    ]
    assert choose_tool(junk, "What is 3 plus 5?") is None
    assert call([*junk, *MATH], "What is 3 plus 5?") == ("add_two_numbers", {"a": 3, "b": 5})
    bare = {"function": {"name": "ping"}}  # no parameters, no type: still usable
    assert choose_tool([bare], "ping the server") == ("ping", {})


def test_final_answer_lists_each_result() -> None:
    messages = [
        {"role": "user", "content": "What is 3 plus 5, and 10 minus 4?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "add_two_numbers", "arguments": {"a": 3, "b": 5}}},
            {"function": {"name": "subtract_two_numbers", "arguments": {"a": 10, "b": 4}}},
        ]},
        {"role": "tool", "content": "8"},  # no tool_name: taken from the matching call
        {"role": "tool", "content": "6", "tool_name": "subtract_two_numbers"},
    ]  # fmt: skip
    answer = final_answer(messages)
    assert "add_two_numbers: 8" in answer and "subtract_two_numbers: 6" in answer
    assert answer.endswith(MARKER)


def test_final_answer_in_chinese_and_edge_cases() -> None:
    zh = final_answer(
        [
            {"role": "user", "content": "东京的天气怎么样？"},
            {"role": "tool", "content": "晴，22°C", "tool_name": "get_weather"},
        ]
    )
    assert "晴，22°C" in zh and "get_weather" in zh and zh.endswith(MARKER_ZH)
    assert final_answer([]).endswith(MARKER)
    old = [
        {"role": "user", "content": "first"},
        {"role": "tool", "content": "stale"},
        {"role": "user", "content": "second"},
    ]
    assert "stale" not in final_answer(old)  # only results after the last question count
    odd = final_answer([{"role": "user", "content": "x"}, {"role": "tool", "content": {"t": 1}}])
    assert '{"t": 1}' in odd


# -- random tools and texts ---------------------------------------------------------------------
PARAM_SCHEMAS = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "string", "description": "The city"}),
    st.builds(lambda lo, w: {"type": "integer", "minimum": lo, "maximum": lo + w},
              st.integers(-50, 50), st.integers(0, 20)),
    st.builds(lambda lo: {"type": "number", "exclusiveMinimum": lo}, st.floats(-10, 10)),
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3, unique=True).map(
        lambda v: {"type": "string", "enum": v}),
    st.just({"type": "boolean"}),
    st.just({"type": "array", "items": {"type": "integer"}}),
    st.just({"type": "array", "items": {"type": "string"}, "minItems": 1}),
    st.just({"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    st.just({"type": "string", "maxLength": 3}),
    st.just({"type": "string", "pattern": "^[A-Z]{2}$"}),
)  # fmt: skip
TEXT = st.lists(
    st.sampled_from(["What", "is", "3", "plus", "-7", "2.5", "in", "Tokyo", '"Bob"', "yes", "no",
                     "weather", "for", "New", "York", "东京", "的", "天气", "?", "."]),
    max_size=12,
).map(" ".join)  # fmt: skip


@st.composite
def tool_lists(draw: st.DrawFn) -> list[dict]:
    tools = []
    for i in range(draw(st.integers(1, 3))):
        props = draw(st.dictionaries(st.sampled_from(["a", "b", "city", "unit", "query", "n"]),
                                     PARAM_SCHEMAS, max_size=4))  # fmt: skip
        required = [k for k in props if draw(st.booleans())]
        name = draw(st.sampled_from(["get_weather", "add_two_numbers", "searchWeb", "tool"]))
        params = {"type": "object", "properties": props, "required": required}
        description = draw(st.text(max_size=20))
        function = {"name": f"{name}{i}", "description": description, "parameters": params}
        tools.append({"type": "function", "function": function})
    return tools


@settings(max_examples=300, deadline=None)
@given(tools=tool_lists(), text=TEXT | st.text(max_size=30))
def test_random_tools_get_valid_arguments(tools: list[dict], text: str) -> None:
    call(tools, text, may_decline=True)
