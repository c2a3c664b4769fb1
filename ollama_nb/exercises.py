"""Exercises for the notebooks: a checker that says what is right or wrong, hints, solutions.

In a notebook::

    answer = ...                                  # the learner replaces ... with code
    ollama_nb.exercises.check("01.1", answer)     # prints "✓ Right: ..." or "✗ Not yet: ..."
    ollama_nb.exercises.hint("01.1")              # a nudge
    ollama_nb.exercises.solution("01.1")          # one way to do it

The checks look at the shape of an answer (types, roles, fields) and, where they need the
server, ask it themselves, so they work on the practice server and on a real Ollama alike.
Solutions are kept here, out of sight, until asked for.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EXERCISES", "Exercise", "NotYet", "check", "hint", "solution"]

RIGHT = "✓ Right: "
NOT_YET = "✗ Not yet: "
PRACTICE_LABELS = ("[practice server]", "【练习服务器】")


class NotYet(Exception):
    """Raised by a checker with what to fix."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: the task, a hint, a solution (code that sets `answer`) and a checker.

    ``given`` names the notebook variables that ``check`` needs besides the answer, in the
    order the notebook passes them as keywords (e.g. ``response=response``).
    """

    id: str
    task: str
    hint: str
    solution: str
    checker: Callable[..., str]
    given: tuple[str, ...] = field(default=())


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, task: str, hint: str, solution: str, given: tuple[str, ...] = ()):
    def register(checker: Callable[..., str]) -> Callable[..., str]:
        EXERCISES[id] = Exercise(id, task, hint, textwrap.dedent(solution).strip(), checker, given)
        return checker

    return register


def _find(exercise_id: str) -> Exercise:
    key = str(exercise_id).strip()
    if key not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"no exercise {key!r}; the exercises are {known}")
    return EXERCISES[key]


def check(exercise_id: str, answer: Any = ..., **given: Any) -> None:
    """Check `answer` for exercise `exercise_id` and print what is right or what to fix."""
    ex = _find(exercise_id)
    if answer is ...:
        print(
            f"{NOT_YET}replace the ... with your answer, then run the cell again. "
            f'(A hint: ollama_nb.exercises.hint("{ex.id}").)'
        )
        return
    try:
        message = ex.checker(answer, **given)
    except NotYet as exc:
        print(f"{NOT_YET}{exc}")
    except Exception as exc:  # a broken answer must never break the checker's report
        print(f"{NOT_YET}checking your answer raised {type(exc).__name__}: {exc}")
    else:
        print(f"{RIGHT}{message}")


def hint(exercise_id: str) -> None:
    """Print the hint for an exercise."""
    ex = _find(exercise_id)
    print(f"Hint for {ex.id}: {ex.hint}")


def solution(exercise_id: str) -> None:
    """Print one solution for an exercise (code that sets `answer`)."""
    ex = _find(exercise_id)
    print(f"One solution for {ex.id}:\n\n{ex.solution}")


# -- helpers ----------------------------------------------------------------------------------
def _ollama():
    import ollama

    return ollama


def _model() -> str:
    import ollama_nb

    return ollama_nb.MODEL


def _is_practice(text: str) -> bool:
    return text.lstrip().startswith(PRACTICE_LABELS)


def _kind(value: Any) -> str:
    return type(value).__name__


def _reply_text(answer: Any, what: str = "the reply's text") -> str:
    """The answer as a non-empty str, or NotYet saying where the text is."""
    ollama = _ollama()
    if isinstance(answer, ollama.ChatResponse):
        raise NotYet(
            "that is the whole ChatResponse; the text is in response.message.content "
            "(or response['message']['content'])."
        )
    if isinstance(answer, ollama.GenerateResponse):
        raise NotYet("that is the whole GenerateResponse; the text is in response.response.")
    if isinstance(answer, ollama.Message):
        raise NotYet("that is the Message; its text is in .content.")
    if isinstance(answer, Iterator) or inspect.isgenerator(answer):
        raise NotYet(
            "that is a stream (a generator): loop over it and join each chunk's "
            "chunk['message']['content']."
        )
    if not isinstance(answer, str):
        raise NotYet(f"answer is a {_kind(answer)}; it should be {what} (a str).")
    if not answer.strip():
        raise NotYet("answer is an empty string; it should hold the model's reply.")
    return answer


def _role_content(message: Any) -> tuple[str, str]:
    if isinstance(message, Mapping):
        return str(message.get("role", "")), str(message.get("content") or "")
    role, content = getattr(message, "role", None), getattr(message, "content", None)
    if role is None:
        raise NotYet(
            f"a message is a {_kind(message)}; each message should be a dict such as "
            "{'role': 'user', 'content': '...'}."
        )
    return str(role), str(content or "")


def _messages(answer: Any) -> list[tuple[str, str]]:
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a list of messages.")
    pairs = [_role_content(m) for m in answer]
    for role, _ in pairs:
        if role not in ("system", "user", "assistant", "tool"):
            raise NotYet(
                f"role {role!r} is not one Ollama knows; use 'system', 'user', 'assistant' "
                "or 'tool'."
            )
    return pairs


def _close(a: float, b: float, rel: float = 0.01) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _number(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a number.")
    if not math.isfinite(answer):
        raise NotYet(f"answer is {answer}; it should be a finite number.")
    return float(answer)


# -- 00 start here ----------------------------------------------------------------------------
@exercise(
    "00.1",
    "Ask the model 'What is Ollama?' with ollama.chat and put the text of its reply in answer.",
    "Copy the first chat cell, change the question, and take response['message']['content'].",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': 'What is Ollama?'},
    ])
    answer = response['message']['content']
    """,
)
def _check_00_1(answer: Any) -> str:
    text = _reply_text(answer)
    if text.strip().rstrip("?？").lower() == "what is ollama":
        raise NotYet("that is the question; answer should be the model's reply to it.")
    if "ollama" not in text.lower():
        raise NotYet("the reply does not mention Ollama: did you ask 'What is Ollama?'?")
    return f"that is the reply's text ({len(text)} characters)."


@exercise(
    "00.2",
    "Ask 为什么海水是咸的？ (why is the sea salty?) and put the text of the reply in answer.",
    "Only the 'content' of the user message changes; the rest of the call stays the same.",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': '为什么海水是咸的？'},
    ])
    answer = response['message']['content']
    """,
)
def _check_00_2(answer: Any) -> str:
    text = _reply_text(answer)
    if "瑞利" in text or "Rayleigh" in text:
        raise NotYet("that is still the answer about the sky: change the question's content.")
    return "a new question, a new answer: only the message content changed."


# -- 01 chat ----------------------------------------------------------------------------------
@exercise(
    "01.1",
    "Build a messages list: a system message that makes the model a pirate, then a user "
    "message asking for a joke.",
    "Two dicts, each with 'role' and 'content'; the system message comes first.",
    """
    answer = [
        {'role': 'system', 'content': 'You are a pirate. Answer like one.'},
        {'role': 'user', 'content': 'Tell me a joke.'},
    ]
    """,
)
def _check_01_1(answer: Any) -> str:
    pairs = _messages(answer)
    if len(pairs) < 2:
        raise NotYet(f"the list has {len(pairs)} message(s); it needs a system and a user one.")
    if pairs[0][0] != "system":
        raise NotYet(f"the first message has role {pairs[0][0]!r}; make it 'system'.")
    if not re.search(r"pirate|海盗", pairs[0][1], re.IGNORECASE):
        raise NotYet("the system message should tell the model to be a pirate.")
    if pairs[-1][0] != "user":
        raise NotYet(f"the last message has role {pairs[-1][0]!r}; the user should ask last.")
    if not re.search(r"joke|笑话", pairs[-1][1], re.IGNORECASE):
        raise NotYet("the user message should ask for a joke.")
    return "pass this list as messages= and the reply comes from a pirate."


_NAME = re.compile(r"my name is\s+([^\s,.!?]+)|我叫([^\s，。,.!！?？]+)", re.IGNORECASE)


@exercise(
    "01.2",
    "Tell the model your name, add its reply to the history, then ask 'What is my name?'. "
    "Put the whole messages list, ending with the model's last reply, in answer.",
    "After each chat call, append response.message (or {'role': 'assistant', 'content': "
    "...}) to messages before adding the next user message.",
    """
    messages = [{'role': 'user', 'content': 'My name is Ada.'}]
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages)
    messages.append(response.message)
    messages.append({'role': 'user', 'content': 'What is my name?'})
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages)
    messages.append(response.message)
    answer = messages
    """,
)
def _check_01_2(answer: Any) -> str:
    pairs = [p for p in _messages(answer) if p[0] != "system"]
    if len(pairs) < 4:
        raise NotYet(
            f"the history has {len(pairs)} user/assistant messages; it needs 4: your name, "
            "the reply, the question, the reply."
        )
    for i, (role, _) in enumerate(pairs):
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise NotYet(
                f"message {i + 1} has role {role!r} where {expected!r} belongs: user and "
                "assistant take turns."
            )
    names = [m[1] or m[2] for _, text in pairs if (m := _NAME.search(text))]
    if not names:
        raise NotYet("no user message says 'My name is ...'.")
    name = names[0]
    last = pairs[-1][1]
    if name.lower() not in last.lower():
        raise NotYet(f"the last reply does not mention {name}: was the whole history sent?")
    return f"the model remembers {name} because every call sends the whole history."


@exercise(
    "01.3",
    "From a response, compute the generation speed in tokens per second.",
    "eval_count tokens were generated in eval_duration nanoseconds.",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': 'Why is the sky blue?'},
    ])
    answer = response.eval_count / response.eval_duration * 1e9
    """,
    given=("response",),
)
def _check_01_3(answer: Any, response: Any = None) -> str:
    if response is None:
        raise NotYet('pass the response too: check("01.3", answer, response=response).')
    value = _number(answer)
    count, eval_ns = response.eval_count, response.eval_duration
    expected = count / eval_ns * 1e9
    if _close(value, expected):
        return f"{value:.1f} tokens/s ({count} tokens in {eval_ns / 1e9:.2f} s)."
    if _close(value, count / eval_ns):
        raise NotYet("that is tokens per nanosecond: durations are in nanoseconds, so * 1e9.")
    if response.total_duration and _close(value, count / response.total_duration * 1e9):
        raise NotYet(
            "you divided by total_duration, which includes loading the model and reading "
            "the prompt; use eval_duration."
        )
    if _close(value, eval_ns / count / 1e9) or _close(value, eval_ns / count):
        raise NotYet("that is time per token; tokens per second is eval_count / seconds.")
    raise NotYet(f"expected about {expected:.1f}; use eval_count and eval_duration.")


@exercise(
    "01.4",
    "Stream a reply with stream=True and join the pieces into one string in answer.",
    "Loop over the stream and join chunk['message']['content'] of every chunk.",
    """
    stream = ollama.chat(model=ollama_nb.MODEL, stream=True, messages=[
        {'role': 'user', 'content': 'Tell me a joke.'},
    ])
    answer = ''.join(chunk['message']['content'] for chunk in stream)
    """,
)
def _check_01_4(answer: Any) -> str:
    if isinstance(answer, list) and answer and not isinstance(answer[0], str):
        raise NotYet("that is a list of chunks; join their ['message']['content'] into one str.")
    text = _reply_text(answer, "the whole reply, joined")
    return f"the streamed pieces make the whole reply ({len(text)} characters)."


# -- 02 generate ------------------------------------------------------------------------------
@exercise(
    "02.1",
    "Use ollama.generate with system='You are Mario from Super Mario Bros.' and the prompt "
    "'Say hello.'; put the reply's text in answer.",
    "generate takes system= as a keyword argument, and the text is in response.response.",
    """
    response = ollama.generate(
        model=ollama_nb.MODEL,
        prompt='Say hello.',
        system='You are Mario from Super Mario Bros.',
    )
    answer = response.response
    """,
)
def _check_02_1(answer: Any) -> str:
    text = _reply_text(answer)
    if _is_practice(text) and not re.search(r"mario|马里奥", text, re.IGNORECASE):
        raise NotYet("the reply shows no sign of Mario: pass system='...' to generate.")
    return "the system prompt sets who answers."


@exercise(
    "02.2",
    "Ask ollama.generate for a JSON object with format='json' and put the parsed dict in answer.",
    "format='json' makes the reply text valid JSON; json.loads(response.response) parses it.",
    """
    import json

    response = ollama.generate(
        model=ollama_nb.MODEL,
        prompt='Describe a cat as JSON with the keys name, colour and age.',
        format='json',
    )
    answer = json.loads(response.response)
    """,
)
def _check_02_2(answer: Any) -> str:
    if isinstance(answer, str):
        try:
            json.loads(answer)
        except ValueError:
            raise NotYet("that text is not JSON: did you pass format='json'?") from None
        raise NotYet("that is the JSON text; parse it with json.loads(...) to get a dict.")
    if _kind(answer) == "GenerateResponse":
        raise NotYet("that is the whole response; parse response.response with json.loads.")
    if not isinstance(answer, dict):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a dict.")
    return f"a dict with {len(answer)} key(s): {', '.join(map(str, list(answer)[:5]))}."


@exercise(
    "02.3",
    "Which function keeps a conversation as a list of messages with roles: 'chat' or 'generate'?",
    "One of them takes messages=, the other a single prompt=.",
    """
    answer = 'chat'
    """,
)
def _check_02_3(answer: Any) -> str:
    if not isinstance(answer, str):
        raise NotYet(f"answer is a {_kind(answer)}; write 'chat' or 'generate'.")
    word = answer.strip().lower().removeprefix("ollama.").removesuffix("()")
    if word == "chat":
        return "chat takes messages with roles; generate takes one prompt (and system)."
    if word == "generate":
        raise NotYet("generate takes a single prompt; which one takes messages=?")
    raise NotYet("write 'chat' or 'generate'.")


# -- 03 models --------------------------------------------------------------------------------
@exercise(
    "03.1",
    "Put the names of the local models in answer, as a list of strings, with today's API.",
    "ollama.list().models holds the models; each has .model (there is no 'name' any more).",
    """
    answer = [m.model for m in ollama.list().models]
    """,
)
def _check_03_1(answer: Any) -> str:
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a list of names.")
    answer = list(answer)
    if any(not isinstance(name, str) for name in answer):
        raise NotYet("the list holds models, not names: take m.model of each.")
    expected = sorted(m.model for m in _ollama().list().models)
    if sorted(answer) == expected:
        return f"{len(expected)} local model(s)."
    missing = sorted(set(expected) - set(answer))
    extra = sorted(set(answer) - set(expected))
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"not local: {', '.join(extra)}")
    raise NotYet("; ".join(parts) + ".")


@exercise(
    "03.2",
    "Create a model named 'pirate-llama' from ollama_nb.MODEL whose system prompt is "
    "'You are a pirate.', with today's ollama.create; put its name in answer.",
    "ollama.create(model=..., from_=..., system=...): the Modelfile's FROM and SYSTEM become "
    "from_= and system=.",
    """
    ollama.create(model='pirate-llama', from_=ollama_nb.MODEL, system='You are a pirate.')
    answer = 'pirate-llama'
    """,
)
def _check_03_2(answer: Any) -> str:
    if not isinstance(answer, str):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the model's name.")
    ollama = _ollama()
    try:
        shown = ollama.show(answer)
    except ollama.ResponseError as exc:
        raise NotYet(f"the server has no model {answer!r} ({exc.error}).") from None
    modelfile = shown.modelfile or ""
    system = re.search(r'^SYSTEM\s+(?:"""(.*?)"""|(.*))$', modelfile, re.MULTILINE | re.DOTALL)
    if not system:
        raise NotYet("the model has no system prompt: pass system='You are a pirate.'.")
    text = system[1] if system[1] is not None else system[2]
    if "pirate" not in text.lower():
        raise NotYet(f"its system prompt is {text.strip()!r}; it should make a pirate.")
    return f"{answer} exists with a pirate system prompt. Tidy up: ollama.delete({answer!r})."


@exercise(
    "03.3",
    "How much disk space do the local models take together, in GB (1 GB = 10**9 bytes)?",
    "Add up m.size over ollama.list().models and divide by 1e9.",
    """
    answer = sum(m.size for m in ollama.list().models) / 1e9
    """,
)
def _check_03_3(answer: Any) -> str:
    value = _number(answer)
    total = sum(m.size for m in _ollama().list().models)
    if _close(value, total / 1e9):
        return f"{value:.2f} GB."
    if _close(value, total):
        raise NotYet("that is in bytes; divide by 1e9 for GB.")
    if _close(value, total / 2**30):
        return f"{value:.2f} GiB (2**30 bytes); Ollama's GB are 10**9 bytes: {total / 1e9:.2f}."
    raise NotYet(f"expected about {total / 1e9:.2f}; add up m.size for every local model.")


# -- 04 embeddings ----------------------------------------------------------------------------
@exercise(
    "04.1",
    "Write cosine(u, v): the cosine similarity of two vectors (lists of numbers).",
    "The dot product divided by the product of the two lengths: "
    "np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)).",
    """
    import numpy as np

    def cosine(u, v):
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))

    answer = cosine
    """,
)
def _check_04_1(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the function itself (cosine).")
    cases = [
        ([1, 0], [0, 1], 0.0),
        ([1, 2], [2, 4], 1.0),
        ([1, 0], [-1, 0], -1.0),
        ([3, 4], [4, 3], 0.96),
    ]
    for u, v, expected in cases:
        got = float(answer(u, v))
        if not math.isclose(got, expected, abs_tol=1e-6):
            hint = " (did you divide by both lengths?)" if expected == 0.96 else ""
            raise NotYet(f"cosine({u}, {v}) gave {got:.4f}, expected {expected}{hint}.")
    return "1 for the same direction, 0 at right angles, -1 for opposite ones."


_DOCS = [
    "Llamas are South American animals related to alpacas.",
    "Python is a programming language that is easy to learn.",
    "The sky is blue because of Rayleigh scattering of sunlight.",
    "The sea is salty because rivers carry minerals into it.",
]
_QUERIES = ["Why is the sky blue?", "Which animals live in South America?"]


@exercise(
    "04.2",
    "Write search(query, documents) that returns the document closest in meaning to query, "
    "using ollama.embed and cosine similarity.",
    "Embed the documents and the query in one embed call (input=[query, *documents]); "
    "vectors from embed are unit length, so a dot product is the cosine.",
    """
    import numpy as np

    def search(query, documents):
        vectors = np.array(ollama.embed(model=ollama_nb.EMBED_MODEL,
                                        input=[query, *documents]).embeddings)
        scores = vectors[1:] @ vectors[0]
        return documents[int(np.argmax(scores))]

    answer = search
    """,
)
def _check_04_2(answer: Any) -> str:
    import ollama_nb

    if not callable(answer):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the function itself (search).")
    vectors = _ollama().embed(model=ollama_nb.EMBED_MODEL, input=_QUERIES + _DOCS).embeddings
    docs = vectors[len(_QUERIES) :]
    for query, qv in zip(_QUERIES, vectors):
        scores = [sum(a * b for a, b in zip(qv, dv)) for dv in docs]
        expected = _DOCS[scores.index(max(scores))]
        got = answer(query, list(_DOCS))
        if got != expected:
            raise NotYet(f"search({query!r}, ...) returned {got!r}; expected {expected!r}.")
    return "the nearest document by cosine similarity wins."


# -- 05 clients and async ---------------------------------------------------------------------
@exercise(
    "05.1",
    "Make a Client for ollama_nb.HOST with a 30-second timeout and put it in answer.",
    "Client(host=..., timeout=...) takes the timeout in seconds.",
    """
    from ollama import Client

    answer = Client(host=ollama_nb.HOST, timeout=30)
    """,
)
def _check_05_1(answer: Any) -> str:
    import ollama_nb

    ollama = _ollama()
    if isinstance(answer, ollama.AsyncClient):
        raise NotYet("that is an AsyncClient; this exercise asks for the synchronous Client.")
    if not isinstance(answer, ollama.Client):
        raise NotYet(f"answer is a {_kind(answer)}; it should be an ollama.Client.")
    base = str(answer._client.base_url).rstrip("/")
    if ollama_nb.HOST and base != ollama_nb.HOST.rstrip("/"):
        raise NotYet(f"it points at {base}, not {ollama_nb.HOST}: pass host=ollama_nb.HOST.")
    timeout = answer._client.timeout.read
    if timeout != 30:
        raise NotYet(f"its timeout is {timeout}; pass timeout=30.")
    return "a client with its own host and timeout."


@exercise(
    "05.2",
    "Ask three questions at once with AsyncClient and asyncio.gather; put the three reply "
    "texts, in order, in answer.",
    "Make a list of coroutines client.chat(...) and await asyncio.gather(*coroutines).",
    """
    import asyncio
    from ollama import AsyncClient

    client = AsyncClient()
    questions = ['Why is the sky blue?', 'Why is the sea salty?', 'Tell me a joke.']
    responses = await asyncio.gather(*(
        client.chat(model=ollama_nb.MODEL, messages=[{'role': 'user', 'content': q}])
        for q in questions
    ))
    answer = [r.message.content for r in responses]
    """,
)
def _check_05_2(answer: Any) -> str:
    if inspect.isawaitable(answer):
        raise NotYet("that is still awaitable: write answer = await asyncio.gather(...).")
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a list of three replies.")
    items = list(answer)
    if any(inspect.isawaitable(item) for item in items):
        raise NotYet("the list holds coroutines: await asyncio.gather(*coroutines).")
    if len(items) != 3:
        raise NotYet(f"the list has {len(items)} item(s); ask three questions.")
    for item in items:
        _reply_text(item, "each reply's text")
    return "three replies, requested at the same time, in the order asked."


# -- 06 errors --------------------------------------------------------------------------------
@exercise(
    "06.1",
    "Write safe_chat(model, prompt) that returns the reply's text, or the server's error text "
    "(e.error) when the request fails with ollama.ResponseError.",
    "try: ... except ollama.ResponseError as e: return e.error",
    """
    def safe_chat(model, prompt):
        try:
            response = ollama.chat(model=model, messages=[{'role': 'user', 'content': prompt}])
        except ollama.ResponseError as e:
            return e.error
        return response.message.content

    answer = safe_chat
    """,
)
def _check_06_1(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the function (safe_chat).")
    ollama = _ollama()
    _reply_text(answer(_model(), "Tell me a joke."), "the reply's text")
    missing = "no-such-model-for-exercise"
    try:
        got = answer(missing, "hi")
    except ollama.ResponseError as exc:
        raise NotYet(
            f"it raised ResponseError ({exc.error}); catch it and return e.error."
        ) from None
    if not isinstance(got, str) or "not found" not in got:
        raise NotYet(f"for a missing model it returned {got!r}; return e.error.")
    return f"a missing model gives {got!r} instead of an exception."


@exercise(
    "06.2",
    "Write with_retries(call, attempts=5, delay=0.5): call call() until it works; on "
    "ResponseError with status 429 or 503 wait (doubling delay each time) and retry; re-raise "
    "other errors at once, and the last error when attempts run out.",
    "A for loop over range(attempts) with try/except ollama.ResponseError as e; check "
    "e.status_code; time.sleep(delay); delay *= 2.",
    """
    import time

    def with_retries(call, attempts=5, delay=0.5):
        for attempt in range(attempts):
            try:
                return call()
            except ollama.ResponseError as e:
                if e.status_code not in (429, 503) or attempt == attempts - 1:
                    raise
                time.sleep(delay)
                delay *= 2

    answer = with_retries
    """,
)
def _check_06_2(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the function (with_retries).")
    ollama = _ollama()

    def flaky(failures: int, status: int):
        calls = []

        def call():
            calls.append(1)
            if len(calls) <= failures:
                raise ollama.ResponseError("injected by the checker", status)
            return "ok"

        return call, calls

    call, calls = flaky(2, 503)
    got = answer(call, attempts=5, delay=0)
    if got != "ok":
        raise NotYet(f"after two 503 errors it returned {got!r}; return what call() returns.")
    if len(calls) != 3:
        raise NotYet(f"it called call() {len(calls)} times; two failures then success is 3.")
    call, calls = flaky(10, 503)
    try:
        answer(call, attempts=5, delay=0)
    except ollama.ResponseError:
        if len(calls) != 5:
            raise NotYet(f"with attempts=5 it called call() {len(calls)} times.") from None
    else:
        raise NotYet("when every attempt fails, re-raise the last error.")
    call, calls = flaky(10, 404)
    try:
        answer(call, attempts=5, delay=0)
    except ollama.ResponseError:
        if len(calls) != 1:
            raise NotYet("a 404 will not go away by waiting: re-raise it at once.") from None
    else:
        raise NotYet("a 404 should be raised, not swallowed.")
    return "busy errors are retried with a growing wait; others fail fast."


# -- 07 tools ---------------------------------------------------------------------------------
@exercise(
    "07.1",
    "Write multiply_two_numbers(a: int, b: int) -> int with a docstring describing a and b, "
    "ready to pass as a tool.",
    "Type hints give the parameter types; a Google-style docstring (Args: a: ..., b: ...) "
    "gives the descriptions.",
    '''
    def multiply_two_numbers(a: int, b: int) -> int:
        """
        Multiply two numbers

        Args:
          a (int): The first number
          b (int): The second number

        Returns:
          int: The product of the two numbers
        """
        return int(a) * int(b)

    answer = multiply_two_numbers
    ''',
)
def _check_07_1(answer: Any) -> str:
    from ollama._utils import convert_function_to_tool

    if not callable(answer):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the function itself.")
    if answer(6, 7) != 42:
        raise NotYet(f"multiply_two_numbers(6, 7) returned {answer(6, 7)!r}, not 42.")
    tool = convert_function_to_tool(answer)
    function = tool.function
    if not (function.description or "").strip():
        raise NotYet("the tool has no description: add a docstring.")
    properties = dict(function.parameters.properties or {})
    if set(properties) != {"a", "b"}:
        raise NotYet(f"its parameters are {sorted(properties)}; they should be a and b.")
    for name, prop in properties.items():
        if prop.type != "integer":
            raise NotYet(f"parameter {name} has type {prop.type!r}; annotate it as int.")
        if not (prop.description or "").strip():
            raise NotYet(f"parameter {name} has no description: list it under Args:.")
    return f"the model sees a tool named {function.name} with integer parameters a and b."


@exercise(
    "07.2",
    "Run the whole tool loop for 'What is 6 times 7?' with your multiply_two_numbers: call "
    "the tool the model asks for, send the result back, and put the final reply's text in "
    "answer.",
    "Append response.message, then {'role': 'tool', 'content': str(result), 'tool_name': "
    "call.function.name} for each call, and chat again.",
    '''
    def multiply_two_numbers(a: int, b: int) -> int:
        """
        Multiply two numbers

        Args:
          a (int): The first number
          b (int): The second number
        """
        return int(a) * int(b)

    messages = [{'role': 'user', 'content': 'What is 6 times 7?'}]
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages,
                           tools=[multiply_two_numbers])
    messages.append(response.message)
    for call in response.message.tool_calls or []:
        result = multiply_two_numbers(**call.function.arguments)
        messages.append({'role': 'tool', 'content': str(result),
                         'tool_name': call.function.name})
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages,
                           tools=[multiply_two_numbers])
    answer = response.message.content
    ''',
    given=("messages",),
)
def _check_07_2(answer: Any, messages: Any = None) -> str:
    text = _reply_text(answer, "the final reply's text")
    if not isinstance(messages, list):
        raise NotYet("pass your conversation too: check('07.2', answer, messages=messages).")
    asked = [
        call.function.name if hasattr(call, "function") else call["function"]["name"]
        for m in messages
        if _field(m, "role") == "assistant"
        for call in _field(m, "tool_calls") or []
    ]
    results = [str(_field(m, "content")) for m in messages if _field(m, "role") == "tool"]
    if not asked:
        raise NotYet("messages holds no tool call: append response.message after the first chat.")
    if not any(r.strip() == "42" for r in results):
        raise NotYet("messages holds no tool result of 42: run the tool and append its result.")
    if not re.search(r"\b42\b|forty[- ]two|四十二", text, re.IGNORECASE):
        raise NotYet("the final reply does not say 42: chat again after the tool result.")
    return "the model asked for the tool, you ran it, and it answered with the result."


def _field(item: Any, name: str) -> Any:
    """A message field, whether the message is a dict or the library's Message."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


# -- 08 structured outputs --------------------------------------------------------------------
@exercise(
    "08.1",
    "Define a pydantic model City with name (str), country (str) and population (int).",
    "class City(BaseModel): then one annotated field per line.",
    """
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str
        population: int

    answer = City
    """,
)
def _check_08_1(answer: Any) -> str:
    from pydantic import BaseModel

    if not (isinstance(answer, type) and issubclass(answer, BaseModel)):
        raise NotYet(f"answer is a {_kind(answer)}; it should be the class City (a BaseModel).")
    fields = answer.model_fields
    wanted = {"name": str, "country": str, "population": int}
    for name, kind in wanted.items():
        if name not in fields:
            raise NotYet(f"City has no field {name!r}.")
        if fields[name].annotation is not kind:
            raise NotYet(f"{name} is annotated {fields[name].annotation!r}; use {kind.__name__}.")
    schema = answer.model_json_schema()
    return f"its JSON schema requires {', '.join(schema.get('required', []))}."


@exercise(
    "08.2",
    "Ask for Paris (capital of France, 2102650 inhabitants) as a City object: "
    "format=City.model_json_schema(), then City.model_validate_json(...). Put the City in "
    "answer.",
    "Pass the schema as format=, then validate response.message.content.",
    """
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str
        population: int

    response = ollama.chat(
        model=ollama_nb.MODEL,
        messages=[{'role': 'user', 'content': 'Paris is the capital of France and has '
                                              '2102650 inhabitants. Return it as JSON.'}],
        format=City.model_json_schema(),
        options={'temperature': 0},
    )
    answer = City.model_validate_json(response.message.content)
    """,
)
def _check_08_2(answer: Any) -> str:
    from pydantic import BaseModel

    if isinstance(answer, str):
        raise NotYet("that is the JSON text; turn it into a City with City.model_validate_json.")
    if isinstance(answer, dict):
        raise NotYet("that is a dict; City.model_validate_json(...) gives a City object.")
    if not isinstance(answer, BaseModel):
        raise NotYet(f"answer is a {_kind(answer)}; it should be a City object.")
    missing = [f for f in ("name", "country", "population") if not hasattr(answer, f)]
    if missing:
        raise NotYet(f"the object has no {', '.join(missing)}.")
    if not isinstance(answer.population, int):
        raise NotYet("population should be an int.")
    if not str(answer.name).strip() or "france" not in str(answer.country).lower():
        raise NotYet(f"that City is {answer.name!r}, {answer.country!r}: ask about Paris, France.")
    if not _close(answer.population, 2_102_650, rel=0.05):
        raise NotYet(f"population {answer.population} is not the 2102650 the question gave.")
    return f"a validated {type(answer).__name__}: {answer.name}, {answer.country}."


# -- 09 thinking and images -------------------------------------------------------------------
@exercise(
    "09.1",
    "Ask the thinking model 'What is 3 plus 5?' with think=True; put the thinking text in answer.",
    "The thinking is in response.message.thinking, separate from .content.",
    """
    response = ollama.chat(model=ollama_nb.THINK_MODEL, think=True, messages=[
        {'role': 'user', 'content': 'What is 3 plus 5?'},
    ])
    answer = response.message.thinking
    """,
)
def _check_09_1(answer: Any) -> str:
    if answer is None:
        raise NotYet("that is None: pass think=True and use a thinking model (qwen3:0.6b).")
    text = _reply_text(answer, "the thinking text")
    return f"the model's reasoning, {len(text)} characters, kept apart from its answer."


@exercise(
    "09.2",
    "Ask the vision model (llava) what is in images/shapes.png; put the reply's text in answer.",
    "Put the file path in the user message: {'role': 'user', 'content': ..., 'images': "
    "['images/shapes.png']}.",
    """
    response = ollama.chat(model=ollama_nb.VISION_MODEL, messages=[
        {'role': 'user', 'content': 'What is in this picture?',
         'images': ['images/shapes.png']},
    ])
    answer = response.message.content
    """,
)
def _check_09_2(answer: Any) -> str:
    text = _reply_text(answer)
    return f"the vision model answered about the picture ({len(text)} characters)."
