"""Embeddings: `/api/embed` (batched, unit length) and the older `/api/embeddings`."""

from __future__ import annotations

from . import engine, semantic
from .app import NOT_PULLED, Base
from .validate import ApiError, keep_alive_seconds, model_field


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
        vectors = semantic.vectors(kept, dim)
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
        dim = model.info.embedding_length
        vector = semantic.vectors([prompt], dim, normalize=False)[0] if prompt else []
        self.send_json({"embedding": vector})
