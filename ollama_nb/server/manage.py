"""Model-management routes: pull, push, create, copy, delete and blobs.

Pull, push and create report progress as Ollama does, layer by layer, and only change the
store once the work is complete, so a cancelled pull leaves no half model behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import replace

from . import pose
from .app import MAX_BLOB, Base, ndjson_line, wants_stream
from .store import now_iso
from .validate import ApiError, check_create, check_options, model_field, require_name

Step = dict | float  # a progress object to send, or seconds to wait


class Progress(Base):
    """Runs a generator of progress steps, streamed or collapsed into its last step."""

    SUPPORTED_METHODS = ("POST",)

    async def run(self, steps: Iterator[Step], stream: bool) -> None:
        if stream:
            await self.stream(self._lines(steps), per_second=0)
            return
        last: dict = {"status": "success"}
        for step in steps:
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                last = step
        self.send_json(last)

    def _lines(self, steps: Iterator[Step]):
        for step in steps:
            yield step if isinstance(step, float) else ndjson_line(step)

    def bytes_per_second(self) -> float | None:
        faults = self.state.faults
        rate = faults.pull_bytes_per_second() if faults else None
        if rate:
            return rate
        return 2e9 if self.state.speed else None


def _transfer(verb: str, layers, have: set[str], rate: float | None) -> Iterator[Step]:
    for _, digest, size in layers:
        status = f"{verb} {digest[7:19]}"
        if digest in have or size < 1_000_000:
            yield {"status": status, "digest": digest, "total": size, "completed": size}
            continue
        yield {"status": status, "digest": digest, "total": size}
        steps = 20
        for k in range(1, steps + 1):
            if rate:
                yield size / steps / rate
            yield {
                "status": status,
                "digest": digest,
                "total": size,
                "completed": size * k // steps,
            }


class Pull(Progress):
    endpoint = "pull"
    request_type = "PullRequest"

    async def post(self) -> None:
        body = self.body()
        invalid = (400, "invalid model name")
        name = require_name(model_field(body), invalid, invalid)
        await self.run(self.steps(name), wants_stream(body))

    def steps(self, name) -> Iterator[Step]:
        yield {"status": "pulling manifest"}
        model = self.store.registry.get(name.short)
        if model is None:
            raise ApiError(500, "pull model manifest: file does not exist")
        have = {d for m in self.store.models.values() for _, d, _ in m.layers()}
        pose.charge(self.state, model, have)  # posing as a real Ollama: the pull budget
        yield from _transfer("pulling", model.layers(), have, self.bytes_per_second())
        yield {"status": "verifying sha256 digest"}
        yield {"status": "writing manifest"}
        self.store.add(replace(model, modified_at=now_iso()))
        yield {"status": "success"}


class Push(Progress):
    endpoint = "push"
    request_type = "PushRequest"

    async def post(self) -> None:
        body = self.body()
        name = require_name(
            model_field(body), (400, "model is required"), (400, "invalid model name")
        )
        await self.run(self.steps(name), wants_stream(body))

    def steps(self, name) -> Iterator[Step]:
        yield {"status": "retrieving manifest"}
        model = self.store.models.get(name.short)
        if model is None:
            # Ollama's handler error carries no status, so the non-streamed reply is a 500
            raise ApiError(
                500,
                f"open /root/.ollama/models/manifests/{name.host}/{name.namespace}/"
                f"{name.model}/{name.tag}: no such file or directory",
            )
        if not name.has_own_namespace:
            raise ApiError(
                401,
                "unauthorized: you are not authorized to push to this namespace, "
                "create the model under a namespace you own",
            )
        yield from _transfer("pushing", model.layers(), set(), self.bytes_per_second())
        yield {"status": "pushing manifest"}
        self.store.publish(model)
        yield {"status": "success"}


class Create(Progress):
    endpoint = "create"
    request_type = "CreateRequest"

    async def post(self) -> None:
        body = self.body()
        check_create(body)
        invalid = (400, "invalid model name")
        name = require_name(model_field(body), invalid, invalid)
        if body.get("files"):
            raise ApiError(
                400,
                "the practice server has no model weights, so it cannot create a model from "
                "GGUF or safetensors files; use from_='<model>' here, or a real Ollama",
            )
        source_text = body.get("from")
        if not source_text:
            raise ApiError(400, "neither 'from' or 'files' was specified")
        source_name = require_name(source_text, invalid, invalid)
        for digest in (body.get("adapters") or {}).values():
            if digest not in self.store.blobs:
                raise ApiError(400, f'blob "{digest}" not found')
        quantize = body.get("quantize")
        if quantize:
            self._check_quantize(quantize, source_name)
        parameters = check_options(body.get("parameters"))
        messages = body.get("messages") or []
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role", ""), str) for m in messages
        ):
            raise ApiError(400, "invalid messages")
        license_value = body.get("license")
        await self.run(
            self.steps(name, source_name, body, parameters, messages, license_value),
            wants_stream(body),
        )

    def _check_quantize(self, quantize: str, source_name) -> None:
        if quantize.lower() not in ("q4_k_m", "q4_k_s", "q8_0"):
            raise ApiError(400, f"unsupported quantization type {quantize}")
        base = self.store.models.get(source_name.short) or self.store.registry.get(
            source_name.short
        )
        if base and base.info.quantization_level not in ("F16", "F32"):
            raise ApiError(400, "quantization is only supported for F16 and F32 models")

    def steps(self, name, source_name, body, parameters, messages, license_value) -> Iterator[Step]:
        source = self.store.models.get(source_name.short)
        if source is None:
            # Ollama pulls a missing base first (parseFromModel), with the pull's own statuses;
            # a base the registry does not have fails as that pull fails
            yield {"status": "pulling manifest"}
            registry_model = self.store.registry.get(source_name.short)
            if registry_model is None:
                raise ApiError(500, "pull model manifest: file does not exist")
            have = {d for m in self.store.models.values() for _, d, _ in m.layers()}
            pose.charge(self.state, registry_model, have)  # posing as a real Ollama: the budget
            yield from _transfer("pulling", registry_model.layers(), have, self.bytes_per_second())
            yield {"status": "verifying sha256 digest"}
            yield {"status": "writing manifest"}
            source = replace(registry_model, modified_at=now_iso())
            self.store.add(source)
        new = replace(
            source,
            name=name.short,
            modified_at=now_iso(),
            parent=source.name,
            system=body.get("system", source.system),
            template=body.get("template", source.template),
            parameters={**source.parameters, **parameters},
            messages=[{"role": m.get("role"), "content": m.get("content", "")} for m in messages]
            or source.messages,
            license=license_value if license_value is not None else source.license,
        )
        old = {digest for _, digest, _ in source.layers()}
        for _, digest, _ in new.layers():
            verb = "using existing" if digest in old else "creating new"
            yield {"status": f"{verb} layer {digest}"}
        yield {"status": "writing manifest"}
        self.store.add(new)
        yield {"status": "success"}


class Copy(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "copy"
    request_type = "CopyRequest"

    def post(self) -> None:
        body = self.body()
        source_text = body.get("source", "")
        dest_text = body.get("destination", "")
        source = require_name(
            source_text,
            (400, f'source "{source_text}" is invalid'),
            (400, f'source "{source_text}" is invalid'),
        )
        dest = require_name(
            dest_text,
            (400, f'destination "{dest_text}" is invalid'),
            (400, f'destination "{dest_text}" is invalid'),
        )
        model = self.store.models.get(source.short)
        if model is None:
            raise ApiError(404, f'model "{source_text}" not found')
        self.store.copy(model, dest.short)
        self.send_empty()


class Delete(Base):
    SUPPORTED_METHODS = ("DELETE",)
    endpoint = "delete"
    request_type = "DeleteRequest"

    def delete(self) -> None:
        body = self.body()
        text = model_field(body)
        name = require_name(text, (400, "model is required"), (400, f'name "{text}" is invalid'))
        if name.short not in self.store.models:
            raise ApiError(404, f"model '{text}' not found")
        self.store.delete(name.short)
        self.send_empty()


_DIGEST = re.compile(r"sha256[:-]([0-9a-fA-F]{64})")


class Blobs(Base):
    """HEAD and POST /api/blobs/sha256:...: uploads are hashed as they arrive and written to a
    temporary file (with --state), renamed into place only when the digest matches, so a
    1 GiB upload costs no memory and a cut one leaves nothing under the final name."""

    SUPPORTED_METHODS = ("HEAD", "POST")
    endpoint = "blobs"
    body_limit = MAX_BLOB

    def initialize(self, state) -> None:
        super().initialize(state)
        self._hash = hashlib.sha256()
        self._partial = None

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method == "POST" and not self._too_large:
            self._partial = self.store.blob_partial()

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.body_limit:
            self._too_large = True
            self._discard()
        if self._too_large:
            return
        self._hash.update(chunk)
        if self._partial is not None:
            self._partial.write(chunk)

    def _discard(self) -> None:
        partial, self._partial = self._partial, None
        if partial is not None:
            partial.close()
            with contextlib.suppress(OSError):
                os.unlink(partial.name)

    def on_connection_close(self) -> None:
        self._discard()
        super().on_connection_close()

    def on_finish(self) -> None:
        self._discard()

    def _digest(self, raw: str) -> str:
        match = _DIGEST.fullmatch(raw)
        if not match:
            raise ApiError(400, "invalid digest format")
        return "sha256:" + match[1].lower()

    def head(self, raw: str) -> None:
        digest = self._digest(raw)
        if digest not in self.store.blobs:
            raise ApiError(404, f'blob "{digest}" not found')
        self.finish()

    def post(self, raw: str) -> None:
        digest = self._digest(raw)
        self.raw_body()  # raises the injected or size errors, after the body was read
        actual = "sha256:" + self._hash.hexdigest()
        if actual != digest:
            raise ApiError(400, f'digest mismatch, expected "{digest}", got "{actual}"')
        if digest in self.store.blobs:
            self.set_status(200)
        else:
            path = None
            if self._partial is not None:
                self._partial.flush()
                os.fsync(self._partial.fileno())
                self._partial.close()
                path, self._partial = self._partial.name, None
            self.store.add_blob_file(digest, self._size, path)
            self.set_status(201)
        self.finish()
