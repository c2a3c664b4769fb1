"""How many schema-shaped replies per second ``structured.generate`` makes on one core.

The practice server answers every ``format=<schema>`` request with it, so it must stay far
faster than the HTTP around it (target: 1,000 replies/s for a 20-field pydantic model).
Run: ``python benchmarks/structured_bench.py``.
"""

from __future__ import annotations

import datetime
import enum
import time
from typing import Literal

from pydantic import BaseModel, Field

from ollama_nb.server.structured import generate


class Level(enum.Enum):
    BEGINNER = "beginner"
    ADVANCED = "advanced"


class Address(BaseModel):
    street: str
    city: str
    zip: str


class Profile(BaseModel):
    """Twenty fields of the kinds tutorials use."""

    name: str
    age: int = Field(ge=0, le=130)
    email: str
    city: str
    country: str
    is_active: bool
    score: float = Field(ge=0, le=100)
    rating: float
    level: Level
    mood: Literal["happy", "curious", "tired"]
    nickname: str | None = None
    tags: list[str]
    languages: list[str]
    birthday: datetime.date
    summary: str
    title: str
    address: Address
    friends: list[Address]
    visits: int
    website: str


def run(seconds: float = 1.0) -> dict:
    """Generate replies for ``seconds`` and return ``{"schema_replies_per_s": float}``."""
    schema = Profile.model_json_schema()
    prompts = [f"Describe learner number {i} from Tokyo who likes Python" for i in range(50)]
    generate(schema, prompts[0])  # compile and cache the plan first, as the server would
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for i in range(100):
            generate(schema, prompts[i % len(prompts)], seed=i)
        count += 100
    return {"schema_replies_per_s": round(count / elapsed, 1)}


if __name__ == "__main__":
    print(run())
