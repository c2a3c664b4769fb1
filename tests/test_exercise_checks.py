"""Checkers accept a real model's answers (any wording) and still reject wrong work."""

from __future__ import annotations

import contextlib
import io

from pydantic import BaseModel

from ollama_nb import exercises


def checked(exercise_id: str, answer, **given) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exercises.check(exercise_id, answer, **given)
    return out.getvalue()


def test_00_1_wants_a_reply_about_ollama():
    real = "Ollama is an open-source tool for running large language models locally."
    assert checked("00.1", real).startswith("✓ Right")
    assert checked("00.1", "What is Ollama?").startswith("✗ Not yet: that is the question")
    assert checked("00.1", "hello").startswith("✗ Not yet")


def _loop(result: str = "42") -> list:
    call = {"function": {"name": "multiply_two_numbers", "arguments": {"a": 6, "b": 7}}}
    return [
        {"role": "user", "content": "What is 6 times 7?"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": result, "tool_name": "multiply_two_numbers"},
    ]


def test_07_2_wants_the_tool_loop_not_just_a_42():
    assert checked("07.2", "6 times 7 is 42.", messages=_loop()).startswith("✓ Right")
    assert checked("07.2", "The answer is forty-two.", messages=_loop()).startswith("✓ Right")
    assert checked("07.2", "42", messages=_loop()[:1]).startswith("✗ Not yet: messages holds no")
    assert checked("07.2", "42", messages=_loop("13")).startswith("✗ Not yet")
    assert checked("07.2", "It is 42.").startswith("✗ Not yet: pass your conversation")
    assert checked("07.2", "I cannot say.", messages=_loop()).startswith("✗ Not yet")


class City(BaseModel):
    name: str
    country: str
    population: int


def test_08_2_wants_the_city_the_question_gave():
    assert checked("08.2", City(name="Paris", country="France", population=2102650)).startswith(
        "✓ Right"
    )
    assert checked("08.2", City(name="x", country="y", population=1)).startswith("✗ Not yet")
    wrong = City(name="Paris", country="France", population=5)
    assert checked("08.2", wrong).startswith("✗ Not yet: population")


def test_09_2_wants_a_reply_that_looked_at_the_picture():
    real = "The image shows a red square, a blue circle and a small yellow triangle."
    assert checked("09.2", real).startswith("✓ Right")
    practice = "Its main colours are white (63%), red (20%), blue (15%)."
    assert checked("09.2", practice).startswith("✓ Right")
    assert checked("09.2", "图片里有一个红色的正方形和一个蓝色的圆。").startswith("✓ Right")
    blind = "I'm sorry, but I can't see images. Could you describe it?"
    assert checked("09.2", blind).startswith("✗ Not yet: that reply names nothing")
    assert checked("09.2", "What is in this picture?").startswith("✗ Not yet")
