"""Chat and generate: replies from the engine, streamed as Ollama streams them.

Chunks are built from string pieces rather than `json.dumps` of a dict, because the token
stream is the hot path.
"""

from __future__ import annotations

import asyncio
import json

from . import engine, heavy, imagefacts, structured, toolplan, vision
from .app import Base, ndjson_line, wants_stream
from .store import Model, now_iso
from .validate import (
    ApiError,
    check_messages,
    check_options,
    check_think,
    decode_images,
    keep_alive_seconds,
    model_field,
    require_name,
)


# -- chat and generate -----------------------------------------------------------------------
class Completion(Base):
    """What chat and generate share: finding the model, pacing, metrics, logprobs."""

    SUPPORTED_METHODS = ("POST",)

    def find_model(self, text: str, missing: tuple[int, str]) -> Model:
        return self.installed(text, missing, "model '{name}' not found")

    def check_capabilities(self, model: Model, text: str, kind: str, think, tools=None) -> None:
        caps = model.info.capabilities
        if model.info.is_cloud:  # runs on ollama.com, which needs this Ollama to be signed in
            raise ApiError(401, "unauthorized")
        if "completion" not in caps:
            raise ApiError(400, f'"{text}" does not support {kind}')
        if tools and "tools" not in caps:
            name = require_name(text, (400, ""), (400, ""))
            raise ApiError(400, f"{name.full} does not support tools")
        if think not in (None, False) and "thinking" not in caps:
            raise ApiError(400, f'"{text}" does not support thinking')

    @staticmethod
    def logprob_count(body: dict) -> int | None:
        """How many alternatives each `logprobs` entry lists; None when logprobs are off."""
        top = body.get("top_logprobs")
        if top is not None and (isinstance(top, bool) or not 0 <= top <= 20 or top != int(top)):
            raise ApiError(400, "top_logprobs must be between 0 and 20")
        return int(top or 0) if body.get("logprobs") else None

    def metrics(self, model: Model, prompt_tokens: int, eval_tokens: int, loaded: bool) -> dict:
        speed = self.state.speed or model.info.tokens_per_second
        if self.state.speed:  # paced: the load is really waited for, so keep it short
            load = 25_000_000 if loaded else int(300_000_000 + model.size / 50)
        else:
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

    @property
    def labelled(self) -> bool:
        """Whether this request's replies say they come from the practice server: the one
        place it is decided (the server's marks, marks.py); every reply is composed with it."""
        return self.state.marks.labels

    async def warm_up(self, done: dict) -> None:
        """At a set `--speed`, the pause before the first token: loading and reading the
        prompt, so a stream's wall time matches its `total_duration` too. It runs from the
        request's arrival, as a model's work would: time this server spent reading and
        queueing the request (a busy room) is inside the pause, not added to it."""
        if self.state.speed:
            left = (done["load_duration"] + done["prompt_eval_duration"]) / 1e9
            left -= self.request.request_time()
            if left > 0:
                await asyncio.sleep(left)

    async def wait_for_generation(self, done: dict) -> None:
        """A non-streamed reply is sent when generation would end, as Ollama sends it, so its
        wall time from the request's arrival matches its `total_duration` (only at a set
        `--speed`)."""
        if self.state.speed:
            left = done["total_duration"] / 1e9 - self.request.request_time()
            if left > 0:
                await asyncio.sleep(left)

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
        labelled: bool = True,
    ) -> engine.Reply:
        reply = engine.Reply()
        if images and "vision" not in model.info.capabilities:
            raise ApiError(400, "this model is missing data required for image input")
        lang = "zh" if engine.is_chinese(prompt) else "en"
        try:
            if fmt not in (None, "") and images:
                measured = [vision.measure(img, labelled) for img in images]
                seed = options.get("seed", 0)
                reply.content = imagefacts.reply(fmt, prompt, seed, measured, labelled)
            elif fmt not in (None, ""):
                reply.content = structured.generate(fmt, prompt, options.get("seed", 0), labelled)
            elif images:
                reply.content = " ".join(vision.describe(img, lang, labelled) for img in images)
            else:
                reply.content = engine.compose_answer(prompt, system, history, options, labelled)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        if think is not False and "thinking" in model.info.capabilities:
            reply.thinking = engine.thinking_for(prompt, engine.think_level(think), labelled)
        return reply


def _logprob_field(entries: list[dict] | None, i: int) -> str:
    if entries is None:
        return ""
    return ',"logprobs":' + json.dumps([entries[i]], ensure_ascii=False)


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
        top = self.logprob_count(body)
        self.check_capabilities(model, text, "chat", think, tools)
        options = {**model.effective_parameters, **check_options(body.get("options"))}
        keep = keep_alive_seconds(body.get("keep_alive"))
        loaded = self.store.touch(model, keep)
        stream = wants_stream(body)
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
        thinks = think is not False and "thinking" in model.info.capabilities
        reply = self._tool_reply(tools, messages, prompt, thinks and engine.think_level(think))
        if reply is None:
            reply = await _offload_reply(
                model,
                prompt,
                system,
                users[:-1],
                options,
                body.get("format"),
                think,
                images,
                self.labelled,
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
        salt = json.dumps(messages, sort_keys=True, ensure_ascii=False)[-2000:]
        entries = None
        if top is not None:
            entries = engine.logprobs(thinking_tokens + content_tokens, top, salt)
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
            if entries is not None:
                done["logprobs"] = entries
            await self.wait_for_generation(done)
            done["created_at"] = now_iso()
            return self.send_json(done)
        await self.warm_up(done)
        await self.stream(
            self._chunks_for(text, thinking_tokens, content_tokens, done_message, done, entries)
        )

    def _tool_reply(
        self, tools: list, messages: list[dict], prompt: str, level
    ) -> engine.Reply | None:
        """Tool calls while the question still needs them; the final answer once it does not.

        This is Ollama's documented agent loop: after `tool` results the model calls further
        tools when a part of the question has no result yet, and answers otherwise. The
        library's own example sends the results without `tools`, so then it always answers.
        """
        plan = toolplan.plan(tools, messages, prompt, self.labelled)
        if plan is None:
            return None
        thinking = engine.thinking_for_tools(prompt, plan.calls, level) if level else ""
        if plan.calls:
            return engine.Reply(tool_calls=plan.calls, thinking=thinking)
        return engine.Reply(content=plan.answer, thinking=thinking)

    def _chunks_for(self, model_text, thinking, content, tool_message, done, entries):
        head = '{"model":' + json.dumps(model_text, ensure_ascii=False) + ',"created_at":"'
        think_mid = '","message":{"role":"assistant","content":"","thinking":'
        mid = '","message":{"role":"assistant","content":'
        i = 0
        for token in thinking:
            tail = "}" + _logprob_field(entries, i) + ',"done":false}\n'
            yield head + now_iso() + think_mid + json.dumps(token, ensure_ascii=False) + tail
            i += 1
        for token in content:
            tail = "}" + _logprob_field(entries, i) + ',"done":false}\n'
            yield head + now_iso() + mid + json.dumps(token, ensure_ascii=False) + tail
            i += 1
        if tool_message:
            yield ndjson_line(
                {
                    "model": model_text,
                    "created_at": now_iso(),
                    "message": tool_message,
                    "done": False,
                }
            )
        done["created_at"] = now_iso()
        yield ndjson_line(done)

    async def _send(self, lines: list[str], done: dict, stream: bool) -> None:
        if stream:
            await self.stream([*lines, ndjson_line(done)])
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
        top = self.logprob_count(body)
        self.check_capabilities(model, text, "generate", think)
        suffix = body.get("suffix") or ""
        if suffix and "insert" not in model.info.capabilities:
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
        stream = wants_stream(body)
        if not prompt and not images:
            done = {
                "model": text,
                "created_at": now_iso(),
                "response": "",
                "done": True,
                "done_reason": "unload" if keep == 0 else "load",
            }
            return await self.stream([ndjson_line(done)]) if stream else self.send_json(done)
        system = body.get("system") or model.system
        if suffix:
            reply = engine.Reply(content=engine.fill_in_middle(prompt, suffix, self.labelled))
        else:
            reply = await _offload_reply(
                model, prompt, system, [], options, body.get("format"), think, images, self.labelled
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
        entries = None
        if top is not None:
            entries = engine.logprobs(thinking + tokens, top, f"{system}\n{prompt}\n{suffix}")
        if not stream:
            done["response"] = "".join(tokens)
            if thinking:
                done["thinking"] = reply.thinking
            if entries is not None:
                done["logprobs"] = entries
            await self.wait_for_generation(done)
            done["created_at"] = now_iso()
            return self.send_json(done)
        await self.warm_up(done)
        await self.stream(self._chunks_for(text, thinking, tokens, done, entries))

    def _chunks_for(self, model_text, thinking, tokens, done, entries):
        head = '{"model":' + json.dumps(model_text, ensure_ascii=False) + ',"created_at":"'
        i = 0
        for token in thinking:
            yield (
                head
                + now_iso()
                + '","response":"","thinking":'
                + json.dumps(token, ensure_ascii=False)
                + _logprob_field(entries, i)
                + ',"done":false}\n'
            )
            i += 1
        for token in tokens:
            yield (
                head
                + now_iso()
                + '","response":'
                + json.dumps(token, ensure_ascii=False)
                + _logprob_field(entries, i)
                + ',"done":false}\n'
            )
            i += 1
        done["created_at"] = now_iso()
        yield ndjson_line(done)


MAX_REPLY_CHARS = 1_000_000  # a schema may not demand a longer reply (minLength: 10**8)


def _bounded_reply(*args) -> engine.Reply:
    """`Completion.reply_for` (it uses no handler state), refusing replies too long to send."""
    reply = Completion.reply_for(None, *args)  # type: ignore[arg-type]
    if len(reply.content) > MAX_REPLY_CHARS:
        raise ApiError(
            400,
            f"the format asks for a reply of {len(reply.content)} characters; the practice "
            f"server writes at most {MAX_REPLY_CHARS}",
        )
    return reply


async def _offload_reply(model, prompt, system, history, options, fmt, think, images, labelled):
    """`reply_for`: a plain reply to a short text on the event loop (cheap, see `_small`);
    otherwise off it, structured replies (possibly heavy, some of it in C) in the worker
    process with a time and memory budget, the others on a thread."""
    args = (model, prompt, system, history, options, fmt, think, images, labelled)
    if fmt in (None, "") and not images and _small(prompt, system, history):
        return _bounded_reply(*args)
    run = heavy.in_process if fmt not in (None, "") and not images else heavy.in_thread
    return await run(_bounded_reply, *args)


INLINE_CHARS = 8_000  # a plain reply to this much text takes under about 3 ms to compose


def _small(prompt: str, system: str, history: list[str]) -> bool:
    """Whether a plain reply is cheap enough to compose on the event loop. Most are (tens of
    microseconds); handing each to a thread would cost more than that, and in a room of
    hundreds the threads' turns at the GIL delay everyone's first token."""
    return len(prompt) + len(system or "") + sum(map(len, history)) <= INLINE_CHARS
