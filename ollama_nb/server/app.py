"""HTTP routes of the practice server, on tornado (which every Jupyter install already has).

Each handler checks its request as Ollama does, answers with Ollama's field names and error
texts, and streams NDJSON one object per line. Anything unexpected becomes a JSON error, never
a dropped connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Iterable

import tornado.iostream
import tornado.web

from . import engine
from .store import Model, Store, now_iso
from .validate import (
    ApiError,
    check_messages,
    check_options,
    check_think,
    decode_body,
    decode_images,
    keep_alive_seconds,
    model_field,
    require_name,
)

log = logging.getLogger("ollama_nb.server")

VERSION = "0.13.0"
PRACTICE_HEADER = "X-Ollama-Practice"
MAX_BODY = 64 * 1024 * 1024
MAX_BLOB = 1024 * 1024 * 1024
RUNNING_TEXT = "Ollama is running"
NOT_PULLED = 'model "{name}" not found, try pulling it first'  # the embedding endpoints' 404


class ServerState:
    """What every handler shares: the store, the streaming speed and the fault plan."""

    def __init__(self, store: Store, speed: float = 0.0, faults=None) -> None:
        self.store = store
        self.speed = float(speed or 0)
        self.faults = faults


# -- base handler ----------------------------------------------------------------------------
@tornado.web.stream_request_body
class Base(tornado.web.RequestHandler):
    endpoint = ""
    request_type = ""
    body_limit = MAX_BODY

    def initialize(self, state: ServerState) -> None:
        self.state = state
        self.store = state.store
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_large = False
        self._closed = asyncio.Event()
        self._pending: tuple[int, str] | None = None  # an injected error, answered after the body
        self._body_read = False

    def set_default_headers(self) -> None:
        self.set_header("Server", "ollama_nb practice server")
        self.set_header(PRACTICE_HEADER, "1")

    async def prepare(self) -> None:
        self.request.connection.set_max_body_size(MAX_BLOB + 1)
        declared = self.request.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.body_limit:
            self._too_large = True
        faults = self.state.faults
        if faults and self.endpoint:
            delay = faults.latency(self.endpoint)
            if delay:
                await asyncio.sleep(delay)
            self._pending = faults.error(self.endpoint)
            if self._pending and self.request.method in ("GET", "HEAD"):
                raise ApiError(*self._pending)

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.body_limit:
            self._too_large = True
            self._chunks = []
        elif not self._too_large:
            self._chunks.append(chunk)

    def raw_body(self) -> bytes:
        """The request body; errors wait until it has been read so the client sees them."""
        self._body_read = True
        if self._pending:
            raise ApiError(*self._pending)
        if self._too_large:
            raise ApiError(413, f"request body too large (limit {self.body_limit} bytes)")
        return b"".join(self._chunks)

    def body(self) -> dict:
        return decode_body(self.raw_body(), self.request_type)

    def installed(self, text: str, missing: tuple[int, str], not_found: str) -> Model:
        """The installed model `text` names, or Ollama's error for an empty, bad or unknown name.

        `not_found` is the endpoint's own wording, with `{name}` (as sent) or `{short}`.
        """
        name = require_name(text, missing, (400, "invalid model name"))
        model = self.store.models.get(name.short)
        if model is None:
            raise ApiError(404, not_found.format(name=text, short=name.short))
        return model

    def on_connection_close(self) -> None:
        self._closed.set()

    # errors ---------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not self._body_read:
            # tornado closes a connection whose request body was never read; say so, or the
            # client reuses it and fails on its next request
            self.set_header("Connection", "close")
        if isinstance(exc, ApiError):
            self.set_status(exc.status, _reason(exc.status))
            self.send_json({"error": exc.message})
            return
        if status_code in (404, 405):
            self.set_header("Content-Type", "text/plain")
            self.finish(
                f"{status_code} {'page not found' if status_code == 404 else 'method not allowed'}"
            )
            return
        self.send_json({"error": f"practice server error: {exc or status_code}"})

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (ApiError, tornado.web.HTTPError)):
            return
        log.error("unexpected error", exc_info=(typ, value, tb))

    def send_json(self, obj: object) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(obj, ensure_ascii=False))

    def send_empty(self) -> None:
        self.finish()

    # streaming ------------------------------------------------------------------------------
    async def stream(self, lines: Iterable[str], per_second: float | None = None) -> bool:
        """Send NDJSON lines at `per_second` (None: the server's token speed).

        Returns False when the client went away or a fault cut the stream.
        """
        self.set_header("Content-Type", "application/x-ndjson")
        rate = self.state.speed if per_second is None else per_second
        faults = self.state.faults
        cut = faults.cut_after(self.endpoint) if faults else None
        stall = faults.stall_after(self.endpoint) if faults else None
        start = time.monotonic()
        sent = 0
        items = iter(lines)
        try:
            while True:
                try:
                    line = next(items)
                except StopIteration:
                    break
                except ApiError as exc:  # a failure after the stream began: Ollama's error line
                    line = self.error_line(exc.message)
                if isinstance(line, float):  # a pause, as a slow download makes
                    await self.flush()
                    await asyncio.sleep(line)
                    continue
                if cut is not None and sent >= cut:
                    await self.flush()
                    self.request.connection.stream.close()
                    return False
                if stall is not None and sent >= stall:
                    await self.flush()
                    await self._closed.wait()
                    return False
                self.write(line)
                sent += 1
                if rate:
                    await self.flush()
                    delay = start + sent / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                elif sent % 32 == 1:
                    await self.flush()
                if self._closed.is_set():
                    return False
            self.finish()
            return True
        except tornado.iostream.StreamClosedError:
            return False

    def error_line(self, message: str) -> str:
        return json.dumps({"error": message}, ensure_ascii=False) + "\n"


def _reason(status: int) -> str:
    import http

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Client Closed Request" if status == 499 else "Error"


def _line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _stream_flag(body: dict) -> bool:
    return body.get("stream", True) is not False


# -- simple routes ---------------------------------------------------------------------------
class Root(Base):
    SUPPORTED_METHODS = ("GET", "HEAD")

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(RUNNING_TEXT)

    def head(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish()


class Version(Base):
    SUPPORTED_METHODS = ("GET", "HEAD")
    endpoint = "version"

    def get(self) -> None:
        self.send_json({"version": VERSION, "practice": True})

    def head(self) -> None:
        self.finish()


class Tags(Base):
    SUPPORTED_METHODS = ("GET", "HEAD")
    endpoint = "tags"

    def get(self) -> None:
        models = sorted(self.store.models.values(), key=lambda m: m.modified_at, reverse=True)
        self.send_json({"models": [_list_entry(m) for m in models]})

    def head(self) -> None:
        self.finish()


def _list_entry(model: Model) -> dict:
    return {
        "name": model.name,
        "model": model.name,
        "modified_at": model.modified_at,
        "size": model.size,
        "digest": model.digest,
        "details": model.details(),
    }


class Ps(Base):
    SUPPORTED_METHODS = ("GET",)
    endpoint = "ps"

    def get(self) -> None:
        entries = []
        for expires, model in self.store.running():
            entry = _list_entry(model)
            del entry["modified_at"]
            entry["size"] = int(model.size * 1.08)
            entry["expires_at"] = now_iso(min(expires, 253402300799))
            entry["size_vram"] = 0  # the practice server runs "on the CPU", as this machine does
            entry["context_length"] = 4096
            entries.append(entry)
        self.send_json({"models": entries})


class Show(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "show"
    request_type = "ShowRequest"

    def post(self) -> None:
        body = self.body()
        model = self.installed(
            model_field(body), (400, "model is required"), "model '{short}' not found"
        )
        self.send_json(show_response(model))


def show_response(model: Model) -> dict:
    info = model.info
    params = model.effective_parameters
    lines = []
    for key, value in sorted(params.items()):
        for item in value if isinstance(value, list) else [value]:
            shown = json.dumps(item, ensure_ascii=False) if isinstance(item, str) else str(item)
            lines.append(f"{key:<30} {shown}")
    license_text = model.effective_license
    if isinstance(license_text, list):
        license_text = "\n".join(license_text)
    arch = info.family.replace("-", "_")
    result = {
        "license": license_text,
        "modelfile": modelfile_text(model),
        "parameters": "\n".join(lines),
        "template": model.effective_template,
        "details": model.details(),
        "model_info": {
            "general.architecture": arch,
            "general.basename": info.name.split(":")[0],
            "general.parameter_count": info.parameter_count,
            "general.file_type": 15,
            f"{arch}.context_length": info.context_length,
            f"{arch}.embedding_length": info.embedding_length,
        },
        "capabilities": list(info.capabilities),
        "modified_at": model.modified_at,
    }
    if model.system:
        result["system"] = model.system
    if model.messages:
        result["messages"] = model.messages
    return result


def modelfile_text(model: Model) -> str:
    blob = model.layers()[0][1].replace(":", "-")
    out = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {model.name}",
        "",
        f"FROM /root/.ollama/models/blobs/{blob}",
        f'TEMPLATE """{model.effective_template}"""',
    ]
    if model.system:
        out.append(f'SYSTEM """{model.system}"""')
    for key, value in sorted(model.effective_parameters.items()):
        for item in value if isinstance(value, list) else [value]:
            out.append(f"PARAMETER {key} {item}")
    for message in model.messages:
        out.append(f"MESSAGE {message.get('role')} {message.get('content')}")
    license_text = model.effective_license
    for text in license_text if isinstance(license_text, list) else [license_text]:
        if text:
            out.append(f'LICENSE """{text}"""')
    return "\n".join(out) + "\n"


# -- chat and generate -----------------------------------------------------------------------
class Completion(Base):
    """What chat and generate share: finding the model, pacing, metrics."""

    SUPPORTED_METHODS = ("POST",)

    def find_model(self, text: str, missing: tuple[int, str]) -> Model:
        return self.installed(text, missing, "model '{name}' not found")

    def check_capabilities(self, model: Model, text: str, kind: str, think, tools=None) -> None:
        caps = model.info.capabilities
        if "completion" not in caps:
            raise ApiError(400, f'"{text}" does not support {kind}')
        if tools and "tools" not in caps:
            name = require_name(text, (400, ""), (400, ""))
            raise ApiError(400, f"{name.full} does not support tools")
        if think not in (None, False) and "thinking" not in caps:
            raise ApiError(400, f'"{text}" does not support thinking')

    def metrics(self, model: Model, prompt_tokens: int, eval_tokens: int, loaded: bool) -> dict:
        speed = self.state.speed or model.info.tokens_per_second
        load = 25_000_000 if loaded else int(900_000_000 + model.size / 5)
        prompt = int(prompt_tokens * 1e9 / (speed * 12))
        evaluation = int(max(eval_tokens, 1) * 1e9 / speed)
        return {
            "total_duration": load + prompt + evaluation + 1_500_000,
            "load_duration": load,
            "prompt_eval_count": max(prompt_tokens, 1),
            "prompt_eval_duration": prompt,
            "eval_count": max(eval_tokens, 1),
            "eval_duration": evaluation,
        }

    def reply_for(
        self,
        model: Model,
        prompt: str,
        system: str,
        history: list[str],
        options: dict,
        fmt,
        think,
        images: list[bytes],
    ) -> engine.Reply:
        reply = engine.Reply()
        if images:
            if "vision" not in model.info.capabilities:
                raise ApiError(400, "this model is missing data required for image input")
            from . import vision

            try:
                reply.content = " ".join(
                    vision.describe(img, "zh" if engine.is_chinese(prompt) else "en")
                    for img in images
                )
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
        elif fmt not in (None, ""):
            from . import structured

            try:
                reply.content = structured.generate(fmt, prompt, options.get("seed", 0))
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
        else:
            reply.content = engine.compose_answer(prompt, system, history, options)
        if think not in (False,) and "thinking" in model.info.capabilities:
            reply.thinking = engine.thinking_for(prompt)
        return reply


class Chat(Completion):
    endpoint = "chat"
    request_type = "ChatRequest"

    async def post(self) -> None:
        body = self.body()
        text = model_field(body)
        model = self.find_model(text, (400, "model is required"))
        messages = check_messages(body.get("messages"))
        tools = body.get("tools") or []
        think = check_think(body.get("think"))
        self.check_capabilities(model, text, "chat", think, tools)
        options = {**model.effective_parameters, **check_options(body.get("options"))}
        keep = keep_alive_seconds(body.get("keep_alive"))
        loaded = self.store.touch(model, keep)
        stream = _stream_flag(body)
        if not messages:
            reason = "unload" if keep == 0 else "load"
            done = {
                "model": text,
                "created_at": now_iso(),
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": reason,
            }
            return await self._send([], done, stream)

        system = model.system
        for message in messages:
            if message.get("role") == "system":
                system = message.get("content") or ""
        users = [
            m.get("content") or "" for m in model.messages + messages if m.get("role") == "user"
        ]
        last = messages[-1]
        prompt = users[-1] if users else ""
        images = decode_images(last.get("images")) if last.get("role") == "user" else []
        reply = self._tool_reply(tools, messages, prompt)
        if reply is None:
            reply = self.reply_for(
                model, prompt, system, users[:-1], options, body.get("format"), think, images
            )
        content_tokens, reason = engine.limit(reply.content, options)
        thinking_tokens = engine.tokenize(reply.thinking)
        prompt_tokens = sum(engine.count_tokens(m.get("content") or "") + 4 for m in messages)
        prompt_tokens += engine.count_tokens(system)
        done = {
            "model": text,
            "created_at": "",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reason,
            **self.metrics(
                model, prompt_tokens, len(content_tokens) + len(thinking_tokens), loaded
            ),
        }
        if reply.tool_calls:
            done_message = {"role": "assistant", "content": "", "tool_calls": reply.tool_calls}
        else:
            done_message = None
        if not stream:
            message = {"role": "assistant", "content": "".join(content_tokens)}
            if thinking_tokens:
                message["thinking"] = reply.thinking
            if reply.tool_calls:
                message["tool_calls"] = reply.tool_calls
            done["message"] = message
            done["created_at"] = now_iso()
            return self.send_json(done)
        await self.stream(
            self._chunks_for(text, thinking_tokens, content_tokens, done_message, done)
        )

    def _tool_reply(self, tools: list, messages: list[dict], prompt: str) -> engine.Reply | None:
        """A tool call when tools fit the question; the final answer once tool results are in.

        The library's own example sends the tool results without `tools`, so a trailing
        `tool` message alone is enough for the final answer.
        """
        from . import toolcalls

        if messages[-1].get("role") == "tool":
            return engine.Reply(content=toolcalls.final_answer(messages))
        if not tools:
            return None
        choice = toolcalls.choose_tool(tools, prompt)
        if choice is None:
            return None
        name, arguments = choice
        call_id = "call_" + hashlib.sha256(f"{name}{arguments}".encode()).hexdigest()[:8]
        return engine.Reply(
            tool_calls=[
                {"id": call_id, "function": {"index": 0, "name": name, "arguments": arguments}}
            ]
        )

    def _chunks_for(self, model_text, thinking, content, tool_message, done):
        head = '{"model":' + json.dumps(model_text, ensure_ascii=False) + ',"created_at":"'
        think_mid = '","message":{"role":"assistant","content":"","thinking":'
        mid = '","message":{"role":"assistant","content":'
        tail = '},"done":false}\n'
        for token in thinking:
            yield head + now_iso() + think_mid + json.dumps(token, ensure_ascii=False) + tail
        for token in content:
            yield head + now_iso() + mid + json.dumps(token, ensure_ascii=False) + tail
        if tool_message:
            yield _line(
                {
                    "model": model_text,
                    "created_at": now_iso(),
                    "message": tool_message,
                    "done": False,
                }
            )
        done["created_at"] = now_iso()
        yield _line(done)

    async def _send(self, lines: list[str], done: dict, stream: bool) -> None:
        if stream:
            await self.stream([*lines, _line(done)])
        else:
            self.send_json(done)


class Generate(Completion):
    endpoint = "generate"
    request_type = "GenerateRequest"

    async def post(self) -> None:
        body = self.body()
        text = model_field(body)
        model = self.find_model(text, (404, "model '' not found"))
        think = check_think(body.get("think"))
        self.check_capabilities(model, text, "generate", think)
        if body.get("suffix"):
            raise ApiError(
                400, f"{require_name(text, (400, ''), (400, '')).full} does not support insert"
            )
        if body.get("raw") and (body.get("template") or body.get("system") or body.get("context")):
            raise ApiError(400, "raw mode does not support template, system, or context")
        options = {**model.effective_parameters, **check_options(body.get("options"))}
        keep = keep_alive_seconds(body.get("keep_alive"))
        loaded = self.store.touch(model, keep)
        images = decode_images(body.get("images"))
        prompt = body.get("prompt") or ""
        stream = _stream_flag(body)
        if not prompt and not images:
            done = {
                "model": text,
                "created_at": now_iso(),
                "response": "",
                "done": True,
                "done_reason": "unload" if keep == 0 else "load",
            }
            return await self.stream([_line(done)]) if stream else self.send_json(done)
        system = body.get("system") or model.system
        reply = self.reply_for(
            model, prompt, system, [], options, body.get("format"), think, images
        )
        tokens, reason = engine.limit(reply.content, options)
        thinking = engine.tokenize(reply.thinking)
        prompt_tokens = engine.count_tokens(prompt) + engine.count_tokens(system) + 4
        done = {
            "model": text,
            "created_at": "",
            "response": "",
            "done": True,
            "done_reason": reason,
            **self.metrics(model, prompt_tokens, len(tokens) + len(thinking), loaded),
        }
        if not body.get("raw"):
            done["context"] = engine.context_ids(engine.tokenize(prompt) + tokens)
        if not stream:
            done["response"] = "".join(tokens)
            if thinking:
                done["thinking"] = reply.thinking
            done["created_at"] = now_iso()
            return self.send_json(done)
        await self.stream(self._chunks_for(text, thinking, tokens, done))

    def _chunks_for(self, model_text, thinking, tokens, done):
        head = '{"model":' + json.dumps(model_text, ensure_ascii=False) + ',"created_at":"'
        for token in thinking:
            yield (
                head
                + now_iso()
                + '","response":"","thinking":'
                + json.dumps(token, ensure_ascii=False)
                + ',"done":false}\n'
            )
        for token in tokens:
            yield (
                head
                + now_iso()
                + '","response":'
                + json.dumps(token, ensure_ascii=False)
                + ',"done":false}\n'
            )
        done["created_at"] = now_iso()
        yield _line(done)


# -- embeddings ------------------------------------------------------------------------------
class Embed(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "embed"
    request_type = "EmbedRequest"

    def post(self) -> None:
        body = self.body()
        text = model_field(body)
        model = self.installed(text, (404, "model '' not found"), NOT_PULLED)
        inputs = body.get("input", "")
        items = [inputs] if isinstance(inputs, str) else inputs
        if not all(isinstance(item, str) for item in items):
            raise ApiError(400, "invalid input type")
        items = [item for item in items if item]
        dimensions = body.get("dimensions")
        dim = model.info.embedding_length
        if dimensions is not None and (not isinstance(dimensions, int) or dimensions <= 0):
            raise ApiError(400, f"invalid dimensions: {dimensions}")
        loaded = self.store.touch(model, keep_alive_seconds(body.get("keep_alive")))
        context = model.info.context_length
        kept, tokens = [], 0
        for item in items:
            pieces = engine.tokenize(item)
            if len(pieces) > context:
                if body.get("truncate") is False:
                    raise ApiError(400, "the input length exceeds the context length")
                item = "".join(pieces[:context])
            tokens += min(len(pieces), context)
            kept.append(item)
        vectors = engine.embeddings(kept, dim)
        if dimensions and dimensions < dim:
            vectors = [engine.shrink(vector, dimensions) for vector in vectors]
        load = 25_000_000 if loaded else 400_000_000
        self.send_json(
            {
                "model": text,
                "embeddings": vectors,
                "total_duration": load + tokens * 200_000 + 1_000_000,
                "load_duration": load,
                "prompt_eval_count": tokens,
            }
        )


class Embeddings(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "embeddings"
    request_type = "EmbeddingRequest"

    def post(self) -> None:
        body = self.body()
        model = self.installed(model_field(body), (400, "model is required"), NOT_PULLED)
        self.store.touch(model, keep_alive_seconds(body.get("keep_alive")))
        prompt = body.get("prompt") or ""
        vector = (
            engine.embedding(prompt, model.info.embedding_length, normalize=False) if prompt else []
        )
        self.send_json({"embedding": vector})
