"""Embeddings: `/api/embed` (batched, unit length) and the older `/api/embeddings`."""

from __future__ import annotations

import json

from . import engine, heavy, semantic
from .app import NOT_PULLED, Base
from .validate import ApiError, keep_alive_seconds, model_field

MAX_INPUTS = 2048  # inputs per /api/embed request (a 50,000-input batch took 2.8 GB and 29 s)
MAX_INPUT_CHARS = 8_000_000  # characters over all inputs of one request
PROCESS_ABOVE = 200_000  # characters: bigger batches are embedded in the worker process


def check_batch(items: list) -> None:
    """Limits that keep one request from holding the room's server: Ollama-style 400s."""
    if len(items) > MAX_INPUTS:
        raise ApiError(
            400,
            f"too many inputs: {len(items)} (the practice server embeds at most {MAX_INPUTS} "
            "per request; send smaller batches)",
        )
    total = sum(len(item) for item in items)
    if total > MAX_INPUT_CHARS:
        raise ApiError(
            400,
            f"input too large: {total} characters (the practice server embeds at most "
            f"{MAX_INPUT_CHARS} per request; send smaller batches)",
        )


# -- embeddings ------------------------------------------------------------------------------
class Embed(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "embed"
    request_type = "EmbedRequest"

    async def post(self) -> None:
        body = self.body()
        text = model_field(body)
        model = self.installed(text, (404, "model '' not found"), NOT_PULLED)
        inputs = body.get("input", "")
        items = [inputs] if isinstance(inputs, str) else inputs
        if not all(isinstance(item, str) for item in items):
            raise ApiError(400, "invalid input type")
        check_batch(items)
        items = [item for item in items if item]
        dimensions = body.get("dimensions")
        dim = model.info.embedding_length
        if dimensions is not None and (not isinstance(dimensions, int) or dimensions <= 0):
            raise ApiError(400, f"invalid dimensions: {dimensions}")
        loaded = self.store.touch(model, keep_alive_seconds(body.get("keep_alive")))
        context = model.info.context_length
        load = 25_000_000 if loaded else 400_000_000
        big = sum(len(item) for item in items) > PROCESS_ABOVE or len(items) > 1024
        encoded = await (heavy.in_process if big else heavy.in_thread)(
            _embed, text, load, items, context, dim, dimensions, body.get("truncate")
        )
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(encoded)


def _embed(model: str, load: int, items: list[str], context: int, dim: int, dimensions, truncate):
    """The encoded /api/embed answer (a worker thread runs this: big batches take a while)."""
    kept, tokens = [], 0
    for item in items:
        pieces = engine.tokenize(item)
        if len(pieces) > context:
            if truncate is False:
                raise ApiError(400, "the input length exceeds the context length")
            item = "".join(pieces[:context])
        tokens += min(len(pieces), context)
        kept.append(item)
    vectors = semantic.vectors(kept, dim)
    if dimensions and dimensions < dim:
        vectors = [engine.shrink(vector, dimensions) for vector in vectors]
    answer = {
        "model": model,
        "embeddings": vectors,
        "total_duration": load + tokens * 200_000 + 1_000_000,
        "load_duration": load,
        "prompt_eval_count": tokens,
    }
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


class Embeddings(Base):
    SUPPORTED_METHODS = ("POST",)
    endpoint = "embeddings"
    request_type = "EmbeddingRequest"

    async def post(self) -> None:
        body = self.body()
        model = self.installed(model_field(body), (400, "model is required"), NOT_PULLED)
        self.store.touch(model, keep_alive_seconds(body.get("keep_alive")))
        prompt = body.get("prompt") or ""
        check_batch([prompt])
        dim = model.info.embedding_length
        vector = (
            (await heavy.in_thread(semantic.vectors, [prompt], dim, normalize=False))[0]
            if prompt
            else []
        )
        self.send_json({"embedding": vector})
