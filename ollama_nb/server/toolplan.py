"""Which tool calls a chat turn makes: several at once, or one after another (the agent loop).

Ollama's tool-calling docs show both. "What are the current weather conditions and temperature
in New York and London?" with `get_conditions` and `get_temperature` gives four calls in one
reply, each with its own `function.index`. "What is (11434+12341)*412?" with `add` and
`multiply` gives `add` first; once its result comes back as a `tool` message, `multiply` with
that result; then the answer. This module decides that sequence; :mod:`toolcalls` picks tools
and fills arguments.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import toolcalls
from .schemacheck import fits

__all__ = ["Plan", "plan"]


@dataclass
class Plan:
    """What the assistant does this turn: `calls` to make, or (when empty) `answer`."""

    calls: list[dict] = field(default_factory=list)
    answer: str = ""


def plan(tools: list, messages: list[dict], prompt: str, labelled: bool = True) -> Plan | None:
    """The tool calls for this turn (their canned arguments), the final answer after tool
    results (both `labelled` as the practice server's unless the server poses), or None (no
    tools involved: the engine answers as usual)."""
    after_tool = messages[-1].get("role") == "tool"
    if not tools and not after_tool:
        return None
    done = _calls_since_user(messages)
    results = _results_since_user(messages)
    wanted = _wanted(tools, prompt, results, labelled) if tools else []
    if not after_tool:
        return Plan(calls=_numbered(wanted)) if wanted else None
    made = {_key(c) for c in done}
    remaining = [c for c in wanted if _key(c) not in made]
    if remaining:
        return Plan(calls=_numbered(remaining))
    return Plan(answer=toolcalls.final_answer(messages, labelled))


def _key(call: dict) -> str:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict):
        return ""
    return json.dumps([fn.get("name"), fn.get("arguments")], sort_keys=True, default=str)


def _numbered(calls: list[dict]) -> list[dict]:
    out = []
    for index, call in enumerate(calls):
        fn = call["function"]
        name, arguments = fn["name"], fn["arguments"]
        digest = hashlib.sha256(f"{name}{arguments}{index}".encode()).hexdigest()[:8]
        out.append(
            {
                "id": "call_" + digest,
                "function": {"index": index, "name": name, "arguments": arguments},
            }
        )
    return out


def _last_user(messages: list[dict]) -> int:
    return max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)


def _calls_since_user(messages: list[dict]) -> list[dict]:
    calls: list[dict] = []
    for m in messages[_last_user(messages) + 1 :]:
        if m.get("role") == "assistant":
            calls += [c for c in m.get("tool_calls") or [] if isinstance(c, dict)]
    return calls


def _results_since_user(messages: list[dict]) -> list[str]:
    return [
        m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
        for m in messages[_last_user(messages) + 1 :]
        if m.get("role") == "tool"
    ]


def _call(name: str, arguments: dict) -> dict:
    return {"function": {"name": name, "arguments": arguments}}


# -- what the question needs -------------------------------------------------------------------
def _wanted(tools: list, prompt: str, results: list[str], labelled: bool = True) -> list[dict]:
    """Every call the question needs, in order, given the results already in."""
    chain = _arithmetic_chain(tools, prompt, results)
    if chain is not None:
        return chain
    picked = toolcalls.choose_tools(tools, prompt, labelled)
    calls: list[dict] = []
    subjects = toolcalls.subjects(tools, prompt)
    for name, arguments, params in picked:
        per_subject = _per_subject(arguments, params, subjects)
        calls += [_call(name, a) for a in per_subject]
    if len(subjects) > 1 and len(picked) > 1:  # New York's calls, then London's
        calls.sort(key=lambda c: _subject_rank(c, subjects))
    return calls


def _subject_rank(call: dict, subjects: list[str]) -> int:
    values = call["function"]["arguments"].values()
    return min((subjects.index(v) for v in values if v in subjects), default=len(subjects))


def _per_subject(arguments: dict, params: dict, subjects: list[str]) -> list[dict]:
    """One call per subject ("in New York and London") when a parameter holds a subject."""
    if len(subjects) < 2:
        return [arguments]
    key = next((k for k, v in arguments.items() if v in subjects), None)
    if key is None:
        return [arguments]
    out = []
    for subject in subjects:
        candidate = {**arguments, key: subject}
        if fits(candidate, params):
            out.append(candidate)
    return out or [arguments]


# -- arithmetic the agent loop works through step by step ---------------------------------------
_OP_NAMES = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_EXPR = re.compile(r"[\d(][\d\s.+\-*/×÷()]*[\d)]")
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _arithmetic_chain(tools: list, prompt: str, results: list[str]) -> list[dict] | None:
    """Calls for an expression with two or more operations, innermost first, each using the
    results that came back; None when the prompt holds no such expression or no tool fits."""
    found = [m.group() for m in _EXPR.finditer(prompt or "")]
    found = [e for e in found if sum(e.count(op) for op in "+-*/×÷") >= 2]
    if not found:
        return None
    text = found[0].replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    steps: list[tuple[str, Any, Any]] = []
    if _flatten(tree, steps, 0) is _FAIL:
        return None
    operators = {op: toolcalls.tool_for_operation(tools, op) for op, _, _ in steps}
    if not all(operators.values()):
        return None
    values: list[float | int | None] = []
    calls: list[dict] = []
    for i, (op, left, right) in enumerate(steps):
        a = _value(left, values)
        b = _value(right, values)
        if a is None or b is None:
            break
        name, params = operators[op]
        arguments = toolcalls.numeric_arguments(params, [a, b])
        if arguments is None:
            return None
        calls.append(_call(name, arguments))
        values.append(_number(results[i]) if i < len(results) else None)
    return calls


_FAIL = object()


def _flatten(node: ast.AST, steps: list, depth: int) -> Any:
    """Append the operations under `node` in the order they must run; returns a number, or
    ("step", k) for the result of step k, or _FAIL for anything but plain arithmetic."""
    if depth > 20 or len(steps) > 20:
        return _FAIL
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _flatten(node.operand, steps, depth + 1)
        return -inner if isinstance(inner, (int, float)) else _FAIL
    if isinstance(node, ast.BinOp) and type(node.op) in _OP_NAMES:
        left = _flatten(node.left, steps, depth + 1)
        right = _flatten(node.right, steps, depth + 1)
        if left is _FAIL or right is _FAIL:
            return _FAIL
        steps.append((_OP_NAMES[type(node.op)], left, right))
        return ("step", len(steps) - 1)
    return _FAIL


def _value(operand: Any, values: list) -> float | int | None:
    if isinstance(operand, tuple):
        k = operand[1]
        return values[k] if k < len(values) else None
    return operand


def _number(text: str) -> float | int | None:
    match = _NUM.search(text or "")
    if not match:
        return None
    value = float(match.group())
    return int(value) if value == int(value) else value
