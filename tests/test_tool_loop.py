"""Several tool calls in one reply, the agent loop, thinking on tool turns and tool choice,
as Ollama's tool-calling docs show them (API notes 10.3)."""

from __future__ import annotations


def get_temperature(city: str) -> str:
    """Get the current temperature for a city

    Args:
        city: The name of the city

    Returns:
        The current temperature for the city
    """
    return {"New York": "22°C", "London": "15°C"}.get(city, "Unknown")


def get_conditions(city: str) -> str:
    """Get the current weather conditions for a city

    Args:
        city: The name of the city

    Returns:
        The current weather conditions for the city
    """
    return {"New York": "Partly cloudy", "London": "Rainy"}.get(city, "Unknown")


def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two numbers"""
    return a * b


FUNCTIONS = {f.__name__: f for f in (get_temperature, get_conditions, add, multiply)}
PARALLEL = "What are the current weather conditions and temperature in New York and London?"


def _run(call) -> str:
    return str(FUNCTIONS[call.function.name](**call.function.arguments))


def test_docs_parallel_example_gives_four_calls(client):
    client.pull("qwen3")
    messages = [{"role": "user", "content": PARALLEL}]
    reply = client.chat("qwen3", messages=messages, tools=[get_temperature, get_conditions],
                        think=True)  # fmt: skip
    calls = reply.message.tool_calls
    got = sorted((c.function.name, c.function.arguments["city"]) for c in calls)
    assert got == sorted(
        (n, city) for n in ("get_conditions", "get_temperature") for city in ("New York", "London")
    )
    body = {"model": "qwen3", "messages": messages, "stream": False, "tools": [
        {"type": "function", "function": {"name": n, "description": f.__doc__.split("\n")[0],
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
        for n, f in (("get_temperature", get_temperature), ("get_conditions", get_conditions))
    ]}  # fmt: skip
    wire = client._client.post("/api/chat", json=body).json()["message"]["tool_calls"]
    assert [c["function"]["index"] for c in wire] == [0, 1, 2, 3]  # the library drops index
    assert reply.message.thinking and "get_temperature" in reply.message.thinking
    messages.append(reply.message)
    for call in calls:
        messages.append({"role": "tool", "tool_name": call.function.name, "content": _run(call)})
    final = client.chat("qwen3", messages=messages, tools=[get_temperature, get_conditions],
                        think=True)  # fmt: skip
    assert not final.message.tool_calls
    for result in ("22°C", "15°C", "Partly cloudy", "Rainy"):
        assert result in final.message.content
    assert final.message.thinking


def test_agent_loop_calls_again_while_the_question_needs_it(client):
    client.pull("qwen3")
    messages = [{"role": "user", "content": "What is (11434+12341)*412?"}]
    made = []
    for _ in range(5):
        reply = client.chat("qwen3", messages=messages, tools=[add, multiply], think=True)
        messages.append(reply.message)
        if not reply.message.tool_calls:
            break
        assert reply.message.thinking
        for call in reply.message.tool_calls:
            made.append((call.function.name, call.function.arguments))
            messages.append({"role": "tool", "tool_name": call.function.name,
                             "content": _run(call)})  # fmt: skip
    assert made == [("add", {"a": 11434, "b": 12341}), ("multiply", {"a": 23775, "b": 412})]
    assert "9795300" in reply.message.content


def test_temperature_picks_the_temperature_tool(client):
    def get_weather(city: str) -> str:
        """Get the weather for a city"""
        return "sunny"

    reply = client.chat("llama3.1", messages=[{"role": "user", "content":
                        "What is the temperature in Paris?"}],
                        tools=[get_conditions, get_weather, get_temperature])  # fmt: skip
    calls = reply.message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_temperature", {"city": "Paris"})
    ]


def test_one_question_one_call_still(client):
    reply = client.chat("llama3.1", messages=[{"role": "user", "content": "What is 3 plus 4?"}],
                        tools=[add, multiply])  # fmt: skip
    calls = reply.message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [("add", {"a": 3, "b": 4})]


def test_no_thinking_on_tool_turns_without_a_thinking_model(client):
    reply = client.chat("llama3.1", messages=[{"role": "user", "content": PARALLEL}],
                        tools=[get_temperature, get_conditions])  # fmt: skip
    assert len(reply.message.tool_calls) == 4 and not reply.message.thinking
