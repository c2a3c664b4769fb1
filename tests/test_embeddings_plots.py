"""plot_embeddings, similarity_heatmap and EmbeddingExplorer against a real practice server.

The PCA picture is compared with a stored PNG (tests/baseline_images/). To regenerate it after
an intended change: `python tests/test_embeddings_plots.py` and look at the new image.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib
import matplotlib.style

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import ollama  # noqa: E402
import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from ollama_nb import fonts  # noqa: E402
from ollama_nb.server import PracticeServer  # noqa: E402
from ollama_nb.widgets import embeddings as emb  # noqa: E402

BASELINE = Path(__file__).parent / "baseline_images" / "pca_embeddings.png"
SENTENCES = list(emb.DEFAULT_SENTENCES)  # the fixed set the stored PNG shows
GROUPS = ["cats", "cats", "dogs", "dogs", "sky", "sky", "code", "code"]
STABLE_STYLE = {"font.family": "DejaVu Sans", "font.size": 10.0}


class CountingClient(ollama.Client):
    def __init__(self, host: str) -> None:
        super().__init__(host=host)
        self.inputs: list[list[str]] = []

    def embed(self, model: str = "", input=(), **kwargs):  # noqa: A002
        self.inputs.append([input] if isinstance(input, str) else list(input))
        return super().embed(model=model, input=input, **kwargs)


@pytest.fixture(scope="module")
def server():
    with PracticeServer(port=0, speed=0) as srv:
        yield srv


@pytest.fixture
def client(server):
    emb.clear_cache()
    return CountingClient(server.url)


def render_pca(client, path: Path) -> None:
    with matplotlib.style.context("default"), matplotlib.rc_context(STABLE_STYLE):
        fig = emb.plot_embeddings(SENTENCES, model="nomic-embed-text", labels=GROUPS, client=client)
        fig.savefig(path, dpi=100)


def test_pca_figure_matches_the_stored_image(client, tmp_path):
    if not BASELINE.exists():
        pytest.fail(f"{BASELINE} is missing: run python {Path(__file__).name} to create it")
    actual = tmp_path / "pca_embeddings.png"
    render_pca(client, actual)
    assert compare_images(str(BASELINE), str(actual), tol=6) is None


def test_plot_returns_a_figure_with_a_stable_repr(client):
    fig = emb.plot_embeddings(SENTENCES, labels=GROUPS, client=client)
    assert repr(fig) == "<Figure size 1000x700 with 1 Axes>"
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cats", "dogs", "sky", "code"]
    assert len(ax.texts) == len(SENTENCES)
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert points.shape == (8, 2)


def test_pca_is_deterministic_and_keeps_neighbours_close(client):
    vectors = emb.embed_texts(SENTENCES, client=client)
    first = emb.PCA2D(vectors)
    again = emb.PCA2D(vectors.copy())
    assert np.array_equal(first.coords, again.coords)
    for component in first.components:  # the sign convention: largest loading positive
        assert component[np.argmax(np.abs(component))] > 0
    d = np.linalg.norm(first.coords[:, None] - first.coords[None], axis=-1)
    assert d[0, 1] < d[0, 2] and d[2, 3] < d[2, 6]  # cats near cats, dogs near dogs


def test_randomized_pca_matches_exact_svd():
    rng = np.random.default_rng(1)
    scales = np.concatenate([[6.5, 6.1, 5.8], np.linspace(5.7, 0.1, 297)])
    x = rng.standard_normal((600, 300)) @ np.diag(scales)
    fast = emb.PCA2D(x)
    centered = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    for got, exact in zip(fast.components, vt[:2], strict=True):
        assert abs(got @ exact) > 0.995  # a sketch, not an exact SVD


def test_one_request_per_plot_and_cache(client):
    texts = SENTENCES[:5] + [SENTENCES[0]]
    emb.plot_embeddings(texts, client=client)
    assert client.inputs == [SENTENCES[:5]]  # one request, the duplicate sent once
    emb.plot_embeddings(texts, client=client)
    assert len(client.inputs) == 1  # all cached
    emb.similarity_heatmap(SENTENCES[:6], client=client)
    assert client.inputs[1:] == [[SENTENCES[5]]]


def test_empty_text_is_refused(client):
    with pytest.raises(ValueError, match="empty"):
        emb.plot_embeddings(["a cat", "  "], client=client)


def test_heatmap_has_the_texts_as_labels_including_chinese(client):
    texts = ["天空是蓝色的因为瑞利散射", "猫坐在垫子上", "The cat sat on the mat."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = emb.similarity_heatmap(texts, client=client)
        png = emb.figure_png(fig)
    assert png.startswith(b"\x89PNG")
    assert repr(fig) == "<Figure size 950x500 with 2 Axes>"
    ax = fig.axes[0]
    rows = [f"{i}  {t}" for i, t in enumerate(texts, 1)]
    assert [t.get_text() for t in ax.get_yticklabels()] == rows
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    sims = ax.images[0].get_array()
    assert np.allclose(np.diag(sims), 1.0)
    family = fonts.cjk_family()
    assert family, "the project installs a CJK font (pylopdf-fonts-zh-cn); none was found"
    assert ax.get_yticklabels()[0].get_fontfamily()[0] == family
    assert not [str(w.message) for w in caught], "drawing Chinese labels warned"


def test_latin_labels_keep_matplotlib_s_default_font(client):
    fig = emb.similarity_heatmap(["The cat sat on the mat.", "A dog."], client=client)
    assert fig.axes[0].get_yticklabels()[0].get_fontfamily() == matplotlib.rcParams["font.family"]


@pytest.mark.parametrize(("method", "package"), [("tsne", "sklearn"), ("umap", "umap")])
def test_optional_methods_say_what_is_missing(client, method, package):
    try:
        __import__(package)
    except ImportError:
        with pytest.raises(ImportError, match=f"method='{method}' needs .*use method='pca'"):
            emb.plot_embeddings(SENTENCES, method=method, client=client)
    else:
        fig = emb.plot_embeddings(SENTENCES, method=method, client=client)
        assert len(fig.axes) == 1


def test_unknown_method(client):
    with pytest.raises(ValueError, match="choose 'pca', 'tsne' or 'umap'"):
        emb.plot_embeddings(SENTENCES, method="lda", client=client)


def test_default_model_follows_ollama_nb(monkeypatch):
    import ollama_nb

    monkeypatch.setattr(ollama_nb, "EMBED_MODEL", "all-minilm", raising=False)
    assert emb.default_model() == "all-minilm"
    assert emb.default_model("nomic-embed-text") == "nomic-embed-text"


def test_explorer_ranks_by_cosine_and_redraws(client):
    w = emb.EmbeddingExplorer(texts=SENTENCES, client=client, k=3)
    assert repr(w) == "EmbeddingExplorer()"
    assert bytes(w.plot.value).startswith(b"\x89PNG")
    assert client.inputs == [SENTENCES]
    w.query.value = "my cat is sleeping"
    assert client.inputs[1:] == [["my cat is sleeping"]]  # only the query is new
    assert [text for text, _ in w.ranking[:2]] == SENTENCES[1::-1]
    assert w.ranking[0][1] >= w.ranking[1][1] >= w.ranking[2][1]
    assert "embeddings-ranking" in w.results.value and "cosine" in w.results.value
    assert len(w.ranking) == 3
    w.top_k.value = 5
    assert len(w.ranking) == 5
    assert len(client.inputs) == 2  # nothing new to embed
    w.sentences.value += "\nA kitten naps in the sun."
    assert client.inputs[2:] == [["A kitten naps in the sun."]]
    assert "9 sentences" in w.status
    w.close()


def test_explorer_error_is_one_sentence(server):
    w = emb.EmbeddingExplorer(texts=["a", "b"], model="no-such-embedder", client=server.url)
    assert w.status.startswith("The model 'no-such-embedder' is not installed")
    assert "embeddings-status" in w.status_line._dom_classes
    w.close()


# -- labels never overlap -------------------------------------------------------------------------
def _boxes(fig, artists):
    """Each text's own box (for a moved label, without the line to its point)."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    return [Text.get_window_extent(a, renderer) for a in artists]


def _overlapping(boxes) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]


CROWD = [f"The cat number {i} sat on the mat near the door." for i in range(14)] + [
    f"Sunlight and the blue sky, part {i}." for i in range(6)
]


@pytest.mark.parametrize("texts", [SENTENCES, CROWD], ids=["sentences", "crowded"])
def test_point_labels_overlap_neither_each_other_nor_the_legend(client, texts):
    groups = [t.split()[1] for t in texts]
    fig = emb.plot_embeddings(texts, labels=groups, client=client)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = _boxes(fig, ax.texts)
    assert len(labels) == len(texts)
    assert not _overlapping(labels)
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert not [b for b in labels if b.overlaps(legend)]
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    assert all(frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 for b in labels)
    assert all(frame.y0 - 1 <= b.y0 and b.y1 <= frame.y1 + 1 for b in labels)
    sizes = {t.get_fontsize() for t in ax.texts}
    assert min(sizes) >= 10 and ax.title.get_fontsize() >= 14  # readable on a projector


def test_heatmap_labels_are_horizontal_and_never_collide(client):
    texts = CROWD[:12] + ["天空是蓝色的因为瑞利散射", "猫坐在垫子上"]
    fig = emb.similarity_heatmap(texts, client=client)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        assert all(t.get_rotation() == 0 for t in ticks)
        assert not _overlapping(_boxes(fig, ticks))
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 6


if __name__ == "__main__":
    with PracticeServer(port=0, speed=0) as srv:
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        render_pca(ollama.Client(host=srv.url), BASELINE)
    print(f"wrote {BASELINE}", file=sys.stderr)
