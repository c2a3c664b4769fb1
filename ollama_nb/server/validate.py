"""Request checks with Ollama's own error texts.

Ollama is written in Go: a body is decoded into a struct and the decoder's messages reach the
client verbatim. The practice server reproduces those texts so that a learner's mistake
reads the same on both servers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from . import gojson
from .names import parse_name


class ApiError(Exception):
    """An error answered as `{"error": message}` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __reduce__(self):  # crosses from the worker process (heavy.py) intact
        return (type(self), (self.status, self.message))


# Field kinds per request type: what Go's decoder accepts for each JSON field.
STRING, BOOL, NUMBER, OBJECT, ARRAY, ANY = "string", "bool", "number", "object", "array", "any"
REQUESTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ChatRequest": {
        "model": (STRING,),
        "messages": (ARRAY,),
        "tools": (ARRAY,),
        "stream": (BOOL,),
        "format": (ANY,),
        "options": (OBJECT,),
        "keep_alive": (NUMBER, STRING),
        "think": (BOOL, STRING),
        "logprobs": (BOOL,),
        "top_logprobs": (NUMBER,),
    },
    "GenerateRequest": {
        "model": (STRING,),
        "prompt": (STRING,),
        "suffix": (STRING,),
        "system": (STRING,),
        "template": (STRING,),
        "context": (ARRAY,),
        "stream": (BOOL,),
        "raw": (BOOL,),
        "format": (ANY,),
        "keep_alive": (NUMBER, STRING),
        "images": (ARRAY,),
        "options": (OBJECT,),
        "think": (BOOL, STRING),
        "logprobs": (BOOL,),
        "top_logprobs": (NUMBER,),
    },
    "EmbedRequest": {
        "model": (STRING,),
        "input": (STRING, ARRAY),
        "truncate": (BOOL,),
        "options": (OBJECT,),
        "keep_alive": (NUMBER, STRING),
        "dimensions": (NUMBER,),
    },
    "EmbeddingRequest": {
        "model": (STRING,),
        "prompt": (STRING,),
        "options": (OBJECT,),
        "keep_alive": (NUMBER, STRING),
    },
    "ShowRequest": {
        "model": (STRING,),
        "name": (STRING,),
        "verbose": (BOOL,),
        "system": (STRING,),
        "template": (STRING,),
        "options": (OBJECT,),
    },
    "CreateRequest": {
        "model": (STRING,),
        "name": (STRING,),
        "from": (STRING,),
        "files": (OBJECT,),
        "adapters": (OBJECT,),
        "template": (STRING,),
        "license": (STRING, ARRAY),
        "system": (STRING,),
        "parameters": (OBJECT,),
        "messages": (ARRAY,),
        "stream": (BOOL,),
        "quantize": (STRING,),
    },
    "CopyRequest": {"source": (STRING,), "destination": (STRING,)},
    "DeleteRequest": {"model": (STRING,), "name": (STRING,)},
    "PullRequest": {
        "model": (STRING,),
        "name": (STRING,),
        "insecure": (BOOL,),
        "stream": (BOOL,),
        "username": (STRING,),
        "password": (STRING,),
    },
    "PushRequest": {"model": (STRING,), "name": (STRING,), "insecure": (BOOL,), "stream": (BOOL,)},
}


def go_kind(value: object) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        return ARRAY
    return OBJECT


INT_FIELDS = {"top_logprobs", "dimensions"}  # Go `int` fields: other numbers are float64
GO_TYPES = {  # Go's type names where they differ from the kind's default
    "files": "map[string]string",
    "adapters": "map[string]string",
    "messages": "[]api.Message",
    "context": "[]int",
    "images": "[]api.ImageData",
    "tools": "api.Tools",
}


def decode_body(raw: bytes, request_type: str) -> dict:
    """Decode and type-check a JSON body as Go's `ShouldBindJSON` would."""
    if not raw or not raw.strip():
        raise ApiError(400, "missing request body")
    try:
        body = gojson.loads(raw)
    except gojson.JsonError as exc:
        raise ApiError(400, str(exc)) from None
    if not isinstance(body, dict):
        raise ApiError(
            400, f"json: cannot unmarshal {go_kind(body)} into Go value of type api.{request_type}"
        )
    fields = REQUESTS[request_type]
    for key, value in body.items():
        allowed = fields.get(key)
        if allowed is None:
            continue
        big = gojson.find_big_number(value)
        if big is not None:
            go_type = "int" if key in INT_FIELDS else "float64"
            raise ApiError(
                400,
                f"json: cannot unmarshal number {big.text} into Go struct field "
                f"{request_type}.{key} of type {go_type}",
            )
        if value is None or ANY in allowed:
            continue
        kind = go_kind(value)
        if kind not in allowed:
            raise ApiError(
                400,
                f"json: cannot unmarshal {kind} into Go struct field {request_type}.{key} "
                f"of type {GO_TYPES.get(key) or _go_type(allowed)}",
            )
        if key in INT_FIELDS and not (isinstance(value, int) and -(2**63) <= value < 2**63):
            raise ApiError(
                400,
                f"json: cannot unmarshal number {json.dumps(value)} into Go struct field "
                f"{request_type}.{key} of type int",
            )
    return {k: v for k, v in body.items() if v is not None}


def _go_type(allowed: tuple[str, ...]) -> str:
    return {
        STRING: "string",
        BOOL: "bool",
        NUMBER: "int",
        OBJECT: "map[string]interface {}",
        ARRAY: "[]interface {}",
    }[allowed[0]]


def model_field(body: dict) -> str:
    value = body.get("model") or body.get("name") or ""
    return value if isinstance(value, str) else ""


def require_name(text: str, missing: tuple[int, str], invalid: tuple[int, str]):
    """Parse a model name or raise Ollama's error for an empty or invalid one."""
    if not text:
        raise ApiError(*missing)
    name = parse_name(text)
    if name is None:
        raise ApiError(*invalid)
    return name


# -- options and durations -------------------------------------------------------------------
INT_OPTIONS = {
    "num_ctx",
    "num_predict",
    "seed",
    "top_k",
    "num_keep",
    "repeat_last_n",
    "mirostat",
    "num_batch",
    "num_gpu",
    "num_thread",
    "main_gpu",
}
FLOAT_OPTIONS = {
    "temperature",
    "top_p",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "mirostat_tau",
    "mirostat_eta",
    "tfs_z",
}
BOOL_OPTIONS = {
    "use_mmap",
    "use_mlock",
    "numa",
    "penalize_newline",
    "low_vram",
    "f16_kv",
    "vocab_only",
    "logits_all",
    "embedding_only",
}


def check_options(options: dict | None) -> dict:
    """Type-check `options` with Ollama's wording; whole floats become ints as Go does."""
    out: dict = {}
    for key, value in (options or {}).items():
        if value is None:
            continue
        kind = go_kind(value)
        if key in INT_OPTIONS:
            if kind != NUMBER:
                raise ApiError(400, f'option "{key}" must be of type integer')
            value = int(value)
        elif key in FLOAT_OPTIONS:
            if kind != NUMBER:
                raise ApiError(400, f'option "{key}" must be of type float32')
            value = float(value)
        elif key in BOOL_OPTIONS:
            if kind != BOOL:
                raise ApiError(400, f'option "{key}" must be of type boolean')
        elif key == "stop":
            items = value if isinstance(value, list) else None
            if items is None or not all(isinstance(s, str) for s in items):
                raise ApiError(400, 'option "stop" must be of type array of strings')
        out[key] = value
    return out


_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def keep_alive_seconds(value: object, default: float = 300.0) -> float:
    """Seconds from `keep_alive`: a number of seconds or a Go duration such as "5m"."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise ApiError(400, "Unsupported type: 'bool'")
    if isinstance(value, (int, float)):
        return -1.0 if value < 0 else float(value)
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        if body.replace(".", "", 1).isdigit():
            raise ApiError(400, f'time: missing unit in duration "{text}"')
        raise ApiError(400, f'time: invalid duration "{text}"')
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    return -1.0 if sign < 0 else seconds


THINK_LEVELS = ("high", "medium", "low", "max")


def check_think(value: object) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in THINK_LEVELS:
        return value
    raise ApiError(
        400,
        f"invalid think value: {json.dumps(value)} "
        '(must be "high", "medium", "low", "max", true, or false)',
    )


def decode_images(images: object) -> list[bytes]:
    """Base64 images as Go's `[]byte` decoding reads them."""
    if images is None:
        return []
    if not isinstance(images, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type []api.ImageData")
    out = []
    for item in images:
        if not isinstance(item, str):
            raise ApiError(
                400, f"json: cannot unmarshal {go_kind(item)} into Go value of type []uint8"
            )
        try:
            out.append(base64.b64decode(item, validate=True))
        except (binascii.Error, ValueError):
            raise ApiError(400, "illegal base64 data at input byte 0") from None
    return out


_ITEM_TYPES = {"images": "ImageData", "tool_calls": "ToolCall"}


def check_messages(messages: object) -> list[dict]:
    if messages is None:
        return []
    for item in messages:  # type: ignore[union-attr]
        if not isinstance(item, dict):
            raise ApiError(
                400,
                f"json: cannot unmarshal {go_kind(item)} into Go struct field "
                "ChatRequest.messages of type api.Message",
            )
        for key in ("role", "content", "thinking", "tool_name"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise ApiError(
                    400,
                    f"json: cannot unmarshal {go_kind(value)} into Go struct field "
                    f"Message.messages.{key} of type string",
                )
        for key in ("images", "tool_calls"):
            value = item.get(key)
            if value is not None and not isinstance(value, list):
                raise ApiError(
                    400,
                    f"json: cannot unmarshal {go_kind(value)} into Go struct field "
                    f"Message.messages.{key} of type []api.{_ITEM_TYPES[key]}",
                )
    return messages  # type: ignore[return-value]


def check_create(body: dict) -> None:
    """Every field of a create request checked before anything changes, as Go's types would:
    values that pass here can always be shown, chatted with and saved with `--state`."""
    for key in ("files", "adapters"):
        for value in (body.get(key) or {}).values():
            if not isinstance(value, str):
                raise ApiError(
                    400,
                    f"json: cannot unmarshal {go_kind(value)} into Go struct field "
                    f"CreateRequest.{key} of type string",
                )
    license_value = body.get("license")
    if isinstance(license_value, list) and not all(isinstance(t, str) for t in license_value):
        raise ApiError(400, "license must be a string or a list of strings")
    check_messages(body.get("messages"))
    for key, value in (body.get("parameters") or {}).items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, (str, int, float, bool)) for item in items):
            raise ApiError(400, f'invalid value for parameter "{key}"')
