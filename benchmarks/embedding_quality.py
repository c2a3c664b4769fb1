"""Benchmark: do the practice server's embeddings carry meaning, and how fast are they?

Topic nearest-neighbour accuracy on `tests/data/embedding_topics.json` (eight topics, English,
Chinese and mixed sentences with few shared words inside a topic): for each sentence, is the
most similar other sentence on the same topic? Reported for the old hashed vectors
(`engine.embeddings`) and for the sentence encoder (`semantic.embeddings`), overall, within
English, within Chinese/mixed, and across languages (an English sentence's nearest Chinese one).
Also: the model's load time, and the time to embed 1,000 sentences through `/api/embed`.
Run `python -m benchmarks.embedding_quality` (prints JSON) or call `run()`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import ollama

from ollama_nb.server import PracticeServer, engine, semantic

TOPICS_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "embedding_topics.json"
EMBED_1000_TARGET_S = 1.0


def topic_sentences() -> tuple[list[str], list[str]]:
    """(texts, topics), one topic per text, in the file's order."""
    topics = json.loads(TOPICS_FILE.read_text(encoding="utf-8"))["topics"]
    texts = [text for group in topics.values() for text in group]
    labels = [name for name, group in topics.items() for _ in group]
    return texts, labels


def is_english(text: str) -> bool:
    return text.isascii()


def nearest_accuracy(vectors: np.ndarray, labels: list[str], rows=None, cols=None) -> float:
    """Share of `rows` whose most similar text among `cols` (itself excluded) shares its topic."""
    vectors = np.asarray(vectors, dtype=np.float64)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = list(range(len(labels))) if rows is None else list(rows)
    cols = list(range(len(labels))) if cols is None else list(cols)
    sims = vectors[rows] @ vectors[cols].T
    for i, row in enumerate(rows):
        if row in cols:
            sims[i, cols.index(row)] = -np.inf
    best = sims.argmax(axis=1)
    return float(np.mean([labels[cols[b]] == labels[r] for r, b in zip(rows, best)]))


def accuracies(vectors: np.ndarray, texts: list[str], labels: list[str]) -> dict[str, float]:
    english = [i for i, t in enumerate(texts) if is_english(t)]
    other = [i for i, t in enumerate(texts) if not is_english(t)]
    return {
        "all": round(nearest_accuracy(vectors, labels), 3),
        "english": round(nearest_accuracy(vectors, labels, english, english), 3),
        "chinese_and_mixed": round(nearest_accuracy(vectors, labels, other, other), 3),
        "english_to_chinese": round(nearest_accuracy(vectors, labels, english, other), 3),
    }


def thousand_sentences() -> list[str]:
    texts, _ = topic_sentences()
    return [f"{texts[i % len(texts)]} (note {i})" for i in range(1000)]


def run() -> dict[str, Any]:
    texts, labels = topic_sentences()
    start = time.perf_counter()
    semantic.native(["warm up"])
    load_s = time.perf_counter() - start
    figures: dict[str, Any] = {"sentences": len(texts), "topics": len(set(labels))}
    figures["hashed_768"] = accuracies(np.array(engine.embeddings(texts, 768)), texts, labels)
    for dim in (768, 384):
        figures[f"semantic_{dim}"] = accuracies(semantic.embeddings(texts, dim), texts, labels)
    many = thousand_sentences()
    start = time.perf_counter()
    engine.embeddings(many, 768)
    figures["hashed_embed_1000_s"] = round(time.perf_counter() - start, 3)
    with PracticeServer(port=0, speed=0) as srv:
        client = ollama.Client(host=srv.url)
        client.embed(model="nomic-embed-text", input="connect")
        start = time.perf_counter()
        reply = client.embed(model="nomic-embed-text", input=many)
        figures["semantic_embed_1000_s"] = round(time.perf_counter() - start, 3)
        assert len(reply.embeddings) == 1000
    figures["model_load_s"] = round(load_s, 3)
    figures["embed_1000_target_s"] = EMBED_1000_TARGET_S
    figures["embed_1000_ok"] = figures["semantic_embed_1000_s"] < EMBED_1000_TARGET_S
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
