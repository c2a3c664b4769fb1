"""Structured outputs: every reply must validate against the schema it was asked for, the way
``Model.model_validate_json(response.message.content)`` will check it in the notebooks."""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from typing import Literal

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, conlist, constr

from ollama_nb.server.structured import NOTE, generate, generate_value

Validator = jsonschema.Draft202012Validator


def check(schema: dict, prompt: str = "Tell me something", seed: int = 0) -> object:
    """Generate, then validate with jsonschema (formats included); return the parsed value."""
    text = generate(schema, prompt, seed)
    value = json.loads(text)
    Validator(schema, format_checker=Validator.FORMAT_CHECKER).validate(value)
    return value


# -- pydantic models as the tutorials write them ------------------------------------------------
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str
    zip_code: str


class Pet(BaseModel):
    name: str
    species: Literal["cat", "dog", "parrot"]
    age: int = Field(ge=0, le=30)


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=130)
    email: str
    height_m: float = Field(ge=0.5, le=2.5)
    favourite_color: Color
    is_student: bool
    nickname: str | None = None
    address: Address
    pets: list[Pet]
    scores: conlist(int, min_length=2, max_length=4)
    tags: set[str]
    birthday: datetime.date
    last_seen: datetime.datetime
    user_id: uuid.UUID
    code: constr(pattern=r"^[A-Z]{3}-\d{2}$")
    summary: str = Field(max_length=60)


class Country(BaseModel):
    name: str
    capital: str
    languages: list[str]


class FriendInfo(BaseModel):
    name: str
    age: int
    is_available: bool


class FriendList(BaseModel):
    friends: list[FriendInfo]


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []
    parent: TreeNode | None = None


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Owner(BaseModel):
    pet: Cat | Dog = Field(discriminator="kind")
    both: list[Cat | Dog]
    ratio: float = Field(gt=0, lt=1, multiple_of=0.1)
    pair: tuple[int, str]
    counts: dict[str, int]
    unique_numbers: conlist(int, min_length=3, max_length=5)


MODELS = [Person, Country, FriendInfo, FriendList, TreeNode, Owner, Address, Pet]
PROMPTS = [
    "Tell me about Canada.",
    "I have two friends. The first is Ollama 22 years old busy saving the world, and the second "
    "is Alonso 23 years old and wants to hang out. Return a list of friends in JSON format",
    'Create a user named "Bob" who is 30 years old and likes the color green',
    "为什么天空是蓝色的？",
    "",
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_pydantic_models_validate(model: type[BaseModel], prompt: str) -> None:
    schema = model.model_json_schema()
    for seed in range(5):
        check(schema, prompt, seed)
        model.model_validate_json(generate(schema, prompt, seed))


def test_values_are_plausible_and_reuse_the_prompt() -> None:
    country = check(Country.model_json_schema(), "Tell me about Canada.")
    assert country == {"name": "Canada", "capital": "Ottawa", "languages": ["English", "French"]}
    friends = check(FriendList.model_json_schema(), PROMPTS[1])["friends"]
    assert [(f["name"], f["age"]) for f in friends] == [("Ollama", 22), ("Alonso", 23)]
    person = check(Person.model_json_schema(), PROMPTS[2])
    assert person["name"] == "Bob"
    assert person["age"] == 30
    assert person["favourite_color"] == "green"
    assert person["email"] == "learner@example.com"
    assert 0.5 <= person["height_m"] <= 2.5
    assert set(person) == set(Person.model_fields)  # optional fields are filled too


def test_sentences_mention_the_prompt() -> None:
    class Answer(BaseModel):
        answer: str
        reasoning: str

    out = check(Answer.model_json_schema(), "Why is the sky blue?")
    assert "sky" in out["answer"] and "blue" in out["answer"]
    out_zh = check(Answer.model_json_schema(), "为什么天空是蓝色的？")
    assert "天空" in out_zh["answer"]


def test_chinese_text_is_kept_readable() -> None:
    text = generate("json", "为什么天空是蓝色的？")
    assert "天空" in text  # ensure_ascii=False: no \\u escapes


def test_deterministic_and_seed_sensitive() -> None:
    schema = Person.model_json_schema()
    assert generate(schema, "hello", 1) == generate(schema, "hello", 1)
    assert generate(dict(schema), "hello", 1) == generate(
        json.loads(json.dumps(schema)), "hello", 1
    )
    outputs = {generate(schema, "hello", seed) for seed in range(5)}
    assert len(outputs) > 1


def test_key_order_follows_the_schema() -> None:
    out = json.loads(generate(Person.model_json_schema(), "x"))
    assert list(out) == list(Person.model_fields)


def test_recursive_model_ends() -> None:
    tree = check(TreeNode.model_json_schema())
    depth, node = 0, tree
    while node.get("children"):
        node, depth = node["children"][0], depth + 1
    assert 1 <= depth <= 4


def test_json_mode_gives_a_labelled_object() -> None:
    out = json.loads(generate("json", "Why is the sky blue?"))
    assert isinstance(out, dict)
    assert out["note"] == NOTE and "practice" in out["note"]
    assert "sky" in out["topic"]
    assert isinstance(json.loads(generate("json", "")), dict)


@pytest.mark.parametrize(
    "bad",
    ["", "xml", None, 3, ["json"], {"type": "banana"}, {"$ref": "#/$defs/Missing"}, {"enum": []}],
)
def test_invalid_formats_raise_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid JSON schema"):
        generate(bad, "hi")  # type: ignore[arg-type]


def test_unsatisfiable_schema_raises() -> None:
    with pytest.raises(ValueError, match="invalid JSON schema"):
        generate({"type": "integer", "minimum": 5, "maximum": 4}, "hi")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "integer"}, "uniqueItems": True, "minItems": 8},
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 5},
        {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True, "minItems": 3},
        {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "minItems": 2},
        {
            "type": "array",
            "items": {"type": "string", "format": "email"},
            "uniqueItems": True,
            "minItems": 3,
        },
    ],  # fmt: skip
)
def test_unique_items_are_unique(schema: dict) -> None:
    for seed in range(3):
        check(schema, "one word", seed)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "number", "multipleOf": 0.1, "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {"type": "number", "multipleOf": 0.01, "minimum": 10.5, "maximum": 10.6},
        {"type": "integer", "multipleOf": 7, "minimum": 100},
        {"type": "integer", "multipleOf": 2.5, "maximum": -3},
        {"type": "integer", "exclusiveMinimum": 4.5, "exclusiveMaximum": 6},
        {"type": "number", "exclusiveMinimum": 1e300},
        {"type": "number", "maximum": -1e-9, "exclusiveMinimum": -2e-9},
        {"type": "integer", "minimum": 5, "exclusiveMinimum": True},  # draft 4 style
        {"type": ["string", "null"], "minLength": 3, "maxLength": 3},
        {"type": "string", "pattern": r"^\d{4}-[a-f]{2,3}(x|yz)?$"},
        {"type": "string", "pattern": r"(?P<w>ab)-(?P=w)", "minLength": 12},
        {"type": "string", "pattern": r"^[^a-z0-9]+$", "maxLength": 4},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "uri", "maxLength": 2083, "minLength": 1},
        {"type": "string", "format": "ipv6"},
        {"const": {"a": [1, 2]}},
        {"allOf": [{"type": "integer", "minimum": 3}, {"maximum": 4}]},
        {"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer"}], "minLength": 2},
        {"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "integer"}}},
        {"type": "object", "minProperties": 3, "additionalProperties": {"type": "boolean"}},
        {"type": "object", "properties": {"x": False, "y": {"type": "null"}}},
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "items": False,
            "minItems": 2,
        },
        {
            "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"type": "integer", "minimum": 1}},
            "$ref": "#/$defs/A",
            "maximum": 1,
        },
        {
            "$defs": {
                "L": {
                    "type": "object",
                    "required": ["next"],
                    "properties": {"next": {"anyOf": [{"$ref": "#/$defs/L"}, {"type": "null"}]}},
                }
            },
            "$ref": "#/$defs/L",
        },
        {"type": "array", "items": {"$ref": "#"}, "maxItems": 2},
        {},
        True,  # handled as "anything" when nested; at the top level only dicts are schemas
    ][:-1],  # fmt: skip
)
def test_edge_schemas(schema: dict) -> None:
    for seed in range(3):
        check(schema, "a prompt with 42 and 'quoted words'", seed)


def test_speed_helper_path_reuses_the_plan() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert generate_value(schema, "3 apples") == {"n": 3}


# -- random schemas from the supported subset ---------------------------------------------------
FIELD_NAMES = ["name", "age", "city", "email", "score", "tags", "summary", "id", "price", "x"]
PATTERNS = [r"^[a-z]+$", r"^[A-Z]{2}\d{3}$", r"\d", r"^(red|green)-\d+$", r"^\w{2,5}$"]
FORMATS = ["date", "date-time", "time", "email", "uri", "uuid", "ipv4"]


@st.composite
def integer_schemas(draw: st.DrawFn) -> dict:
    schema: dict = {"type": "integer"}
    low = draw(st.none() | st.integers(-1000, 1000))
    width = draw(st.integers(0, 200))
    mult = draw(st.none() | st.sampled_from([1, 2, 3, 5, 7, 0.5]))
    if mult is not None:
        schema["multipleOf"] = mult
        width = max(width, 30)
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if draw(st.booleans()):
        top = (low if low is not None else draw(st.integers(-1000, 1000))) + width + 2
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = top
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict:
    schema: dict = {"type": "number"}
    low = draw(st.none() | st.floats(-1e6, 1e6))
    width = draw(st.floats(1e-3, 1e3))
    mult = draw(st.none() | st.sampled_from([0.1, 0.25, 0.5, 2.5, 3]))
    if mult is not None:
        schema["multipleOf"] = mult
        width = max(width, 3 * mult)
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if draw(st.booleans()):
        top = (low if low is not None else draw(st.floats(-1e6, 1e6))) + width
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = top
    return schema


@st.composite
def string_schemas(draw: st.DrawFn) -> dict:
    schema: dict = {"type": "string"}
    choice = draw(st.sampled_from(["plain", "pattern", "format"]))
    if choice == "pattern":
        schema["pattern"] = draw(st.sampled_from(PATTERNS))
    elif choice == "format":
        schema["format"] = draw(st.sampled_from(FORMATS))
    else:
        low = draw(st.integers(0, 20))
        if draw(st.booleans()):
            schema["minLength"] = low
        if draw(st.booleans()):
            schema["maxLength"] = low + draw(st.integers(0, 20))
    return schema


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-100, 100), st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)  # fmt: skip
leaf_schemas = st.one_of(
    integer_schemas(),
    number_schemas(),
    string_schemas(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.lists(json_scalars, min_size=1, max_size=4, unique_by=json.dumps).map(lambda v: {"enum": v}),
    json_scalars.map(lambda v: {"const": v}),
)


def containers(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    names = st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=8)

    @st.composite
    def objects(draw: st.DrawFn) -> dict:
        props = draw(st.dictionaries(names, children, max_size=5))
        required = [k for k in props if draw(st.booleans())]
        schema = {"type": "object", "properties": props, "required": required}
        if draw(st.booleans()):
            schema["additionalProperties"] = draw(st.booleans() | children)
        return schema

    @st.composite
    def arrays(draw: st.DrawFn) -> dict:
        unique = draw(st.booleans())
        low = draw(st.integers(0, 1 if unique else 4))
        schema = {"type": "array", "items": draw(children), "minItems": low}
        if draw(st.booleans()):
            schema["maxItems"] = low + draw(st.integers(0, 4))
        if unique:
            schema["uniqueItems"] = True
        return schema

    @st.composite
    def optionals(draw: st.DrawFn) -> dict:
        branches = draw(st.lists(children, min_size=1, max_size=3))
        if draw(st.booleans()):
            branches.append({"type": "null"})
        return {"anyOf": branches}

    @st.composite
    def tagged(draw: st.DrawFn) -> dict:
        shapes = draw(st.lists(children, min_size=1, max_size=3))
        branches = [
            {"type": "object", "required": ["kind", "data"],
             "properties": {"kind": {"const": f"k{i}"}, "data": shape}}
            for i, shape in enumerate(shapes)
        ]  # fmt: skip
        return {"oneOf": branches}

    tuples = st.lists(children, min_size=1, max_size=3).map(
        lambda items: {"type": "array", "prefixItems": items, "items": False}
    )
    typelist = st.sampled_from(["string", "integer", "boolean", "array", "object"]).map(
        lambda t: {"type": [t, "null"]}
    )
    return st.one_of(objects(), arrays(), optionals(), tagged(), tuples, typelist)


@st.composite
def root_schemas(draw: st.DrawFn) -> dict:
    """A schema with ``$defs`` that other parts reach through ``$ref``, like pydantic's."""
    plain = st.recursive(leaf_schemas, containers, max_leaves=8)
    defs = draw(st.dictionaries(st.sampled_from(["A", "B", "C"]), plain, max_size=3))
    refs = [{"$ref": f"#/$defs/{name}"} for name in defs]
    parts = st.one_of(leaf_schemas, *(st.just(r) for r in refs)) if refs else leaf_schemas
    body = draw(st.recursive(parts, containers, max_leaves=12))
    return {**body, "$defs": defs} if defs else body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=root_schemas(), prompt=st.text(max_size=40), seed=st.integers(0, 2**32))
def test_random_schemas_validate(schema: dict, prompt: str, seed: int) -> None:
    check(schema, prompt, seed)


def test_chinese_prompt_gets_chinese_country_facts() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "capital": {"type": "string"}},
        "required": ["name", "capital"],
    }
    assert json.loads(generate(schema, "请介绍法国的首都。")) == {"name": "法国", "capital": "巴黎"}


def test_answer_fields_carry_the_computed_result() -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}, "a": {"type": "integer"}},
        "required": ["answer", "a"],
    }
    assert json.loads(generate(schema, "What is 3 plus 5?")) == {"answer": 8, "a": 3}
