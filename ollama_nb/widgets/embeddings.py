"""Pictures of embeddings: a 2-D map, a similarity heatmap and an explorer widget.

All three get their vectors from `embed_texts`, which sends the texts it has not seen before
in one `/api/embed` request (`client.embed(model, input=[...])`) and remembers every vector
by (host, model, text). One request per redraw keeps a 1,000-sentence plot fast, and the cache
means that typing a new query embeds only the query.

Figures are built with `matplotlib.figure.Figure`, not `pyplot`, so nothing is registered with
pyplot: a returned figure is shown once as the cell's result (the inline backend would
otherwise show it a second time), and a figure rendered into the explorer's PNG needs no
`plt.close`.
"""

from __future__ import annotations

import asyncio
import html
import io
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import ollama
from matplotlib.figure import Figure

from ollama_nb import fonts
from ollama_nb.errors import current_host, explain

__all__ = [
    "EmbeddingExplorer",
    "embed_texts",
    "pca_2d",
    "plot_embeddings",
    "similarity_heatmap",
]

FALLBACK_MODEL = "nomic-embed-text"
CACHE_LIMIT = 200_000  # vectors kept; the oldest half goes when it is full
MAX_ANNOTATIONS = 60  # past this many points, text labels only clutter the picture
_GLYPH_WARNING = r"Glyph \d+ .*missing from (current )?font"

_cache: dict[tuple[str, str, str], np.ndarray] = {}
_clients: dict[str, ollama.Client] = {}
DEFAULT_SENTENCES = (
    "The cat sat on the mat.",
    "A cat is sleeping on the sofa.",
    "Dogs love to play fetch in the park.",
    "The dog chased the ball across the park.",
    "The sky is blue because of Rayleigh scattering.",
    "Sunlight is scattered by the air, so the sky looks blue.",
    "Python is a popular programming language.",
    "I write my scripts in the Python language.",
)


# -- embeddings -----------------------------------------------------------------------------------
def default_model(model: str | None = None) -> str:
    """`model`, else `ollama_nb.EMBED_MODEL` (set by `setup()`), else "nomic-embed-text"."""
    if model:
        return model
    try:
        import ollama_nb

        return getattr(ollama_nb, "EMBED_MODEL", None) or FALLBACK_MODEL
    except ImportError:
        return FALLBACK_MODEL


def _host_of(client: Any) -> str:
    base = getattr(getattr(client, "_client", None), "base_url", None)
    return str(base).rstrip("/") if base else current_host()


def sync_client(client: Any = None) -> ollama.Client:
    """A synchronous client: `client` itself, or one for the same host (or `OLLAMA_HOST`).

    The plot functions run in a cell and return a Figure, so they call the server synchronously;
    an `AsyncClient` (or a host URL string) is accepted and replaced by a `Client` for that host.
    """
    if isinstance(client, ollama.Client):
        return client
    if isinstance(client, str):
        host = client
    else:
        host = _host_of(client) if client is not None else current_host()
    if host not in _clients:
        _clients[host] = ollama.Client(host=host)
    return _clients[host]


def embed_texts(texts: Sequence[str], model: str | None = None, client: Any = None) -> np.ndarray:
    """Unit vectors for `texts` (one row each), in at most one `/api/embed` request.

    Only texts not embedded before (for this host and model) are sent, each once.
    """
    texts = [str(t) for t in texts]
    if any(not t.strip() for t in texts):
        raise ValueError("every text must contain something: remove the empty ones")
    model = default_model(model)
    client = sync_client(client)
    host = _host_of(client)
    missing = list(dict.fromkeys(t for t in texts if (host, model, t) not in _cache))
    if missing:
        response = client.embed(model=model, input=missing)
        vectors = response.embeddings
        if len(vectors) != len(missing):
            raise ValueError(f"the server returned {len(vectors)} vectors for {len(missing)} texts")
        if len(_cache) + len(missing) > CACHE_LIMIT:
            for key in list(_cache)[: len(_cache) // 2]:
                del _cache[key]
        for text, vector in zip(missing, vectors, strict=True):
            _cache[(host, model, text)] = np.asarray(vector, dtype=np.float64)
    if not texts:
        return np.zeros((0, 0))
    return np.stack([_cache[(host, model, t)] for t in texts])


def clear_cache() -> None:
    """Forget every remembered vector (the next call embeds everything again)."""
    _cache.clear()


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = _unit_rows(vectors)
    return np.clip(unit @ unit.T, -1.0, 1.0)


# -- PCA ----------------------------------------------------------------------------------------
def _top_components(centered: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k singular values and right vectors: exact when small, else a seeded randomized SVD.

    A full SVD of 1,000 x 768 takes seconds on a small machine; a few power iterations on a
    16-column sketch give the same two leading components in milliseconds, and the fixed seed
    keeps them identical run after run.
    """
    n, d = centered.shape
    if min(n, d) <= 200:
        _, s, vt = np.linalg.svd(centered, full_matrices=False)
        return s[:k], vt[:k]
    r = min(k + 14, n, d)
    q = np.random.default_rng(0).standard_normal((d, r))
    q, _ = np.linalg.qr(centered @ q)
    for _ in range(8):
        q, _ = np.linalg.qr(centered.T @ q)
        q, _ = np.linalg.qr(centered @ q)
    _, s, vt = np.linalg.svd(q.T @ centered, full_matrices=False)
    return s[:k], vt[:k]


class PCA2D:
    """Two principal components with a fixed sign, so the same texts give the same picture.

    The sign of each component is chosen to make its largest-magnitude loading positive (SVD
    alone may flip it between runs or machines). `project` maps new vectors (a query) into the
    same plane.
    """

    def __init__(self, vectors: np.ndarray) -> None:
        x = np.asarray(vectors, dtype=np.float64)
        self.mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1:])
        centered = x - self.mean
        dim = x.shape[1] if x.ndim == 2 else 0
        self.components = np.zeros((2, dim))
        self.explained = np.zeros(2)
        if len(x) >= 2 and dim:
            s, vt = _top_components(centered, 2)
            vt = vt.copy()
            biggest = np.argmax(np.abs(vt), axis=1)
            signs = np.sign(vt[np.arange(len(vt)), biggest])
            vt *= np.where(signs == 0, 1, signs)[:, None]
            self.components[: len(vt)] = vt
            total = float((centered**2).sum())
            if total > 0:
                self.explained[: len(s)] = s**2 / total
        self.coords = centered @ self.components.T if dim else np.zeros((len(x), 2))

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(vectors) - self.mean) @ self.components.T


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Rows projected on their two principal components (deterministic signs)."""
    return PCA2D(vectors).coords


def _reduce(vectors: np.ndarray, method: str) -> tuple[np.ndarray, tuple[str, str]]:
    method = (method or "pca").lower()
    if method == "pca":
        pca = PCA2D(vectors)
        return pca.coords, (
            f"PC1 ({pca.explained[0]:.0%} of variance)",
            f"PC2 ({pca.explained[1]:.0%} of variance)",
        )
    if method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise ImportError(
                "method='tsne' needs scikit-learn, which is not installed: "
                "pip install scikit-learn, or use method='pca'."
            ) from None
        n = len(vectors)
        if n < 3:
            raise ValueError("method='tsne' needs at least 3 texts; use method='pca' for fewer.")
        model = TSNE(n_components=2, perplexity=min(30.0, n - 1.0), random_state=0, init="pca")
        return model.fit_transform(vectors), ("t-SNE 1", "t-SNE 2")
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ImportError(
                "method='umap' needs umap-learn, which is not installed: "
                "pip install umap-learn, or use method='pca'."
            ) from None
        n = len(vectors)
        if n < 4:
            raise ValueError("method='umap' needs at least 4 texts; use method='pca' for fewer.")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=0)
        return reducer.fit_transform(vectors), ("UMAP 1", "UMAP 2")
    raise ValueError(f"unknown method {method!r}: choose 'pca', 'tsne' or 'umap'.")


# -- fonts --------------------------------------------------------------------------------------
def _font_family(texts: Sequence[str]) -> list[str] | None:
    """Fonts for labels: a CJK font first when a label needs one (see `ollama_nb.fonts`)."""
    return fonts.family_for(texts)


def _short(text: str, width: int = 28) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _font_kw(family: list[str] | None) -> dict[str, Any]:
    return {"fontfamily": family} if family else {}


# Sizes read from the back of a classroom: a projector shows about 1000 px across.
PLOT_SIZE = (10.0, 7.0)  # inches at 100 dpi: 1000 x 700 px
LABEL_SIZE = 11
TITLE_SIZE = 15
TICK_SIZE = 11


def _overlap(a: Any, b: Any, pad: float) -> tuple[float, float]:
    """How far (x, y, in pixels) box `a` must move to clear box `b` (0, 0 if apart)."""
    dx = min(a.x1, b.x1) - max(a.x0, b.x0) + pad
    dy = min(a.y1, b.y1) - max(a.y0, b.y0) + pad
    if dx <= 0 or dy <= 0:
        return 0.0, 0.0
    sx = 1.0 if (a.x0 + a.x1) >= (b.x0 + b.x1) else -1.0
    sy = 1.0 if (a.y0 + a.y1) >= (b.y0 + b.y1) else -1.0
    return sx * dx, sy * dy


def _text_box(label: Any, renderer: Any) -> Any:
    """The box of a label's text alone (an Annotation's own extent includes its line)."""
    from matplotlib.text import Text

    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer)


def repel_labels(fig: Figure, ax: Any, labels: list[Any], steps: int = 150) -> int:
    """Move point labels apart until none overlaps another, the legend or the axes' edge.

    A small, deterministic relaxation (adjustText's idea, in a few lines): each step pushes
    every pair of overlapping labels apart along the shorter way out, pushes labels off the
    legend, and keeps them inside the axes. A grey line joins a moved label to its point.
    Returns the number of overlaps left (0 when it succeeded).
    """
    if not labels:
        return 0
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    if renderer is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()  # settle the layout before measuring...
    fig.set_layout_engine("none")  # ...and keep it: a later pass would move the points a pixel
    scale = fig.dpi / 72.0  # display pixels per point (labels are offset in points)
    pad = 3.0
    legend = ax.get_legend()
    avoid = [legend.get_window_extent(renderer)] if legend is not None else []
    frame = ax.get_window_extent(renderer)
    left = 0
    for _ in range(steps):
        current = [_text_box(label, renderer) for label in labels]
        pushes = [np.zeros(2) for _ in labels]
        left = 0
        for i, b in enumerate(current):
            for j in range(i + 1, len(current)):
                dx, dy = _overlap(b, current[j], pad)
                if dx or dy:
                    left += 1
                    # the shorter way out, half each
                    step = np.array([dx / 2, 0.0] if abs(dx) < abs(dy) else [0.0, dy / 2])
                    pushes[i] += step
                    pushes[j] -= step
            for other in avoid:
                dx, dy = _overlap(b, other, pad)
                if dx or dy:
                    left += 1
                    pushes[i] += [dx, 0.0] if abs(dx) < abs(dy) else [0.0, dy]
            pushes[i][0] += max(0.0, frame.x0 - b.x0) - max(0.0, b.x1 - frame.x1)
            pushes[i][1] += max(0.0, frame.y0 - b.y0) - max(0.0, b.y1 - frame.y1)
        if not any(push.any() for push in pushes):
            break
        for label, push in zip(labels, pushes, strict=True):
            if push.any():
                push = push + np.sign(push) * 0.5  # a little past: no endless creeping
                label.xyann = tuple(np.array(label.xyann, dtype=float) + push / scale)
    return left


# A point's label: on a pale box (readable over the grid), joined to its point by a thin line
# that only shows once the label has been pushed away from it.
_LABEL_STYLE = {
    "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
    "arrowprops": {"arrowstyle": "-", "color": "0.55", "lw": 0.8, "shrinkA": 0, "shrinkB": 4},
}


def _label_kw(x: float, xs: np.ndarray) -> dict[str, Any]:
    """Labels of points in the right third go to their left, so they stay inside the figure."""
    low, high = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    if high > low and x > low + 0.66 * (high - low):
        return {"xytext": (-4, 4), "ha": "right", "textcoords": "offset points"}
    return {"xytext": (4, 4), "ha": "left", "textcoords": "offset points"}


# -- figures ------------------------------------------------------------------------------------
def _enable_inline_display() -> None:
    """Let a returned Figure show as an image in Jupyter although pyplot was never imported.

    IPython registers its PNG formatter for Figure when the inline backend module loads, which
    normally happens on `import matplotlib.pyplot`. These figures are built without pyplot (so
    the inline backend never shows them a second time), so load that module here.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None:
        return
    import matplotlib

    try:
        backend = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10
        backend = matplotlib.rcParams._get("backend")
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        try:
            import matplotlib_inline.backend_inline  # noqa: F401 - registers the formatter
        except ImportError:
            pass


def plot_embeddings(
    texts: Sequence[str],
    model: str | None = None,
    labels: Sequence[str] | None = None,
    method: str = "pca",
    client: Any = None,
) -> Figure:
    """A 2-D map of the texts' embeddings: similar texts land close together.

    `labels` (one per text, optional) are groups: points of a group share a colour and the
    legend names them; each point is annotated with its (shortened) text. `method` is "pca"
    (numpy, always available), "tsne" (scikit-learn) or "umap" (umap-learn). The figure is
    returned, not shown: as a cell's last expression it displays once.
    """
    texts = list(texts)
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"got {len(labels)} labels for {len(texts)} texts; give one per text")
    model = default_model(model)
    vectors = embed_texts(texts, model, client)
    _enable_inline_display()
    coords, (xlabel, ylabel) = _reduce(vectors, method) if texts else (np.zeros((0, 2)), ("", ""))
    family = _font_family(texts)

    fig = Figure(figsize=PLOT_SIZE, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if labels is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=70, color="tab:blue", zorder=4)
    else:
        groups = list(dict.fromkeys(str(label) for label in labels))
        for i, group in enumerate(groups):
            mask = np.array([str(label) == group for label in labels])
            ax.scatter(
                coords[mask, 0], coords[mask, 1], s=70, color=f"C{i % 10}", label=group, zorder=4
            )
        # Beside the plot, not on it: no point or label can hide under the legend.
        prop = {"size": LABEL_SIZE, **({"family": family} if family else {})}
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, prop=prop)
    if len(coords):
        low, high = coords.min(axis=0), coords.max(axis=0)
        pad = np.maximum((high - low) * 0.15, 1e-3)  # room for the labels near the edges
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    notes = []
    if len(texts) <= MAX_ANNOTATIONS:
        for (x, y), text in zip(coords, texts, strict=True):
            notes.append(
                ax.annotate(
                    _short(text),
                    (x, y),
                    fontsize=LABEL_SIZE,
                    **_label_kw(x, coords[:, 0]),
                    **_font_kw(family),
                    **_LABEL_STYLE,
                )
            )
    name = method.upper() if method.lower() == "pca" else method
    ax.set_title(f"{len(texts)} texts embedded with {model}, {name} to 2-D", fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel, fontsize=TICK_SIZE)
    ax.set_ylabel(ylabel, fontsize=TICK_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, alpha=0.3)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
        repel_labels(fig, ax, notes)
    return fig


def similarity_heatmap(
    texts: Sequence[str], model: str | None = None, client: Any = None
) -> Figure:
    """Cosine similarity of every pair of texts, with the texts as the axis labels."""
    texts = list(texts)
    model = default_model(model)
    sims = cosine_matrix(embed_texts(texts, model, client)) if texts else np.zeros((0, 0))
    _enable_inline_display()
    family = _font_family(texts)
    n = len(texts)
    # Rows are named "1  the text" on the left, columns by their number only: horizontal
    # labels that can never run into each other, however long the texts or many the rows.
    side = min(max(5.0, 0.45 * n + 3.5), 16.0)
    fig = Figure(figsize=(side + 4.5, side), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    low = min(0.0, float(sims.min())) if n else 0.0
    image = ax.imshow(sims, vmin=low, vmax=1.0, cmap="viridis")
    row_points = (side - 1.5) * 72 / max(n, 1)  # the height of one row, in points
    size = max(6.0, min(float(TICK_SIZE), 0.6 * row_points))
    names = [f"{i + 1}  {_short(t, 34)}" for i, t in enumerate(texts)]
    ax.set_xticks(range(n), [str(i + 1) for i in range(n)], fontsize=size)
    ax.set_yticks(range(n), names, fontsize=size, **_font_kw(family))
    ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                shade = "black" if sims[i, j] > low + 0.6 * (1 - low) else "white"
                ax.text(
                    j, i, f"{sims[i, j]:.2f}", ha="center", va="center", fontsize=size, color=shade
                )
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("cosine similarity", fontsize=TICK_SIZE)
    bar.ax.tick_params(labelsize=TICK_SIZE)
    ax.set_title(f"Cosine similarity ({model})", fontsize=TITLE_SIZE)
    return fig


def figure_png(fig: Figure, dpi: int | None = None) -> bytes:
    """PNG bytes of `fig` (matplotlib's per-glyph font warnings are kept out of the cell)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# -- the explorer -------------------------------------------------------------------------------
class EmbeddingExplorer(widgets.VBox):
    """Sentences, a query box ranking them by cosine similarity, and a live 2-D map.

    Editing the sentences or the query redraws: texts not seen before go to the server in one
    `/api/embed` request, the map is a PCA of the sentences (kept until they change) with the
    query projected onto it, and the top-k nearest sentences are listed and marked. Inside a
    kernel the request runs in a worker thread so the panel stays responsive; `redraw()` does
    the same synchronously for code and tests.
    """

    def __init__(
        self,
        texts: Sequence[str] | None = None,
        model: str | None = None,
        client: Any = None,
        k: int = 5,
    ) -> None:
        super().__init__()
        self.add_class("embeddings-explorer")
        self.model = default_model(model)
        self._client = sync_client(client)
        self.ranking: list[tuple[str, float]] = []
        self.timings: dict[str, float] = {}
        self.status = ""
        self._map: _SentenceMap | None = None
        self._pending: asyncio.Task | None = None
        self._quiet = False

        w = widgets
        self.sentences = w.Textarea(
            value="\n".join(texts if texts is not None else DEFAULT_SENTENCES),
            description="Sentences",
            continuous_update=False,
            layout=w.Layout(width="100%", height="10em"),
        )
        self.sentences.add_class("embeddings-sentences")
        self.query = w.Text(
            placeholder="type a query and press Enter",
            description="Query",
            continuous_update=False,
            layout=w.Layout(width="100%"),
        )
        self.query.add_class("embeddings-query")
        self.top_k = w.BoundedIntText(value=k, min=1, max=100, description="Top k")
        self.results = w.HTML()
        self.results.add_class("embeddings-results")
        self.plot = w.Image(format="png", layout=w.Layout(max_width="640px"))
        self.plot.add_class("embeddings-plot")
        self.status_line = w.HTML()
        self.status_line.add_class("embeddings-status")
        self.children = [
            self.sentences,
            w.HBox([self.query, self.top_k]),
            self.results,
            self.plot,
            self.status_line,
        ]
        for control in (self.sentences, self.query, self.top_k):
            control.observe(lambda _: self._schedule(), names="value")
        self.redraw()

    def __repr__(self) -> str:
        return "EmbeddingExplorer()"

    def texts(self) -> list[str]:
        """The sentences, one per non-empty line, each once."""
        lines = (line.strip() for line in self.sentences.value.splitlines())
        return list(dict.fromkeys(line for line in lines if line))

    # -- drawing ---------------------------------------------------------------------------
    def redraw(self) -> bool:
        """Embed what is new, rank, redraw; True on success (errors go to the status line)."""
        started = time.perf_counter()
        texts, query = self.texts(), self.query.value.strip()
        try:
            vectors = self._fetch(texts, query)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence in the panel
            self._say(explain(exc, model=self.model, host=_host_of(self._client)), error=True)
            return False
        self._draw(texts, query, vectors, started)
        return True

    def _fetch(self, texts: list[str], query: str) -> np.ndarray | None:
        everything = texts + ([query] if query else [])
        return embed_texts(everything, self.model, self._client) if everything else None

    def search(self, query: str, k: int | None = None) -> list[tuple[str, float]]:
        """Rank the sentences against `query` now (synchronously) and return (text, cosine).

        Setting `w.query.value` from code redraws in the background inside a kernel; this
        waits for the answer instead, so the next line can print it.
        """
        self._quiet = True
        try:
            self.query.value = query
            if k is not None:
                self.top_k.value = k
        finally:
            self._quiet = False
        self.redraw()
        return self.ranking

    async def wait(self) -> None:
        """Wait for a background redraw started by an edit (no-op when none is pending)."""
        if self._pending and not self._pending.done():
            try:
                await self._pending
            except asyncio.CancelledError:
                pass

    def _schedule(self) -> None:
        """Redraw after a change: in a kernel, fetch in a thread so clicks still get through."""
        if self._quiet:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.redraw()
            return
        if self._pending and not self._pending.done():
            self._pending.cancel()  # a newer edit wins
        self._pending = loop.create_task(self._redraw_async())

    async def _redraw_async(self) -> None:
        started = time.perf_counter()
        texts, query = self.texts(), self.query.value.strip()
        try:
            vectors = await asyncio.to_thread(self._fetch, texts, query)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as one sentence in the panel
            self._say(explain(exc, model=self.model, host=_host_of(self._client)), error=True)
            return
        self._draw(texts, query, vectors, started)

    def _draw(
        self, texts: list[str], query: str, vectors: np.ndarray | None, started: float
    ) -> None:
        fetched = time.perf_counter()
        if not texts or vectors is None:
            self.ranking = []
            self.results.value = ""
            self.plot.value = b""
            self._say("Type some sentences, one per line.")
            return
        key = (self.model, tuple(texts))
        if self._map is None or self._map.key != key:
            self._map = _SentenceMap(key, vectors[: len(texts)], query)
        sentence_map = self._map
        top: list[int] = []
        query_xy = None
        if query:
            q = vectors[len(texts)]
            scores = sentence_map.unit @ (q / (np.linalg.norm(q) or 1.0))
            k = min(self.top_k.value, len(texts))
            top = [int(i) for i in np.argsort(-scores, kind="stable")[:k]]
            self.ranking = [(texts[i], float(scores[i])) for i in top]
            query_xy = sentence_map.pca.project(q)[0]
        else:
            self.ranking = []
        self.results.value = _ranking_html(self.ranking)
        self.plot.value = sentence_map.render(top, query, query_xy)
        done = time.perf_counter()
        self.timings = {
            "embed_s": fetched - started,
            "draw_s": done - fetched,
            "total_s": done - started,
        }
        self._say(
            f"{len(texts)} sentences, {vectors.shape[1]} dimensions; "
            f"the map keeps {sentence_map.pca.explained.sum():.0%} of their variance."
        )

    def _say(self, message: str, error: bool = False) -> None:
        self.status = message
        color = "#b00020" if error else "inherit"
        self.status_line.value = f"<span style='color:{color}'>{html.escape(message)}</span>"


def _ranking_html(ranking: list[tuple[str, float]]) -> str:
    if not ranking:
        return ""
    rows = "".join(
        f"<tr><td>{i}</td><td>{score:.3f}</td><td>{html.escape(text)}</td></tr>"
        for i, (text, score) in enumerate(ranking, 1)
    )
    return (
        "<table class='embeddings-ranking'><thead><tr><th>#</th><th>cosine</th>"
        f"<th>sentence</th></tr></thead><tbody>{rows}</tbody></table>"
    )


class _SentenceMap:
    """The explorer's map of one sentence set, drawn once; a query only adds its marks.

    Redrawing a 1,000-point figure costs a few hundred milliseconds, so the sentences, axes and
    legend are rendered once into a background; each query restores that background, draws
    the star, the nearest-sentence rings and their labels, and encodes the PNG.
    """

    def __init__(self, key: tuple[str, tuple[str, ...]], vectors: np.ndarray, query: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.key = key
        model, texts = key[0], list(key[1])
        self.texts = texts
        self.pca = PCA2D(vectors)
        self.unit = _unit_rows(vectors)
        self.family = _font_family(texts)
        self.fig = Figure(figsize=(6.4, 4.4), dpi=80)  # fixed margins: no layout pass
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=0.08, right=0.97, bottom=0.07, top=0.92)
        ax = self.ax = self.fig.add_subplot()
        coords = self.pca.coords
        ax.scatter(coords[:, 0], coords[:, 1], s=18, color="tab:blue", alpha=0.7, label="sentences")
        self.rings = ax.scatter(
            [],
            [],
            s=70,
            facecolors="none",
            edgecolors="tab:orange",
            linewidths=1.5,
            label="nearest",
            animated=True,
        )
        self.star = ax.scatter(
            [], [], marker="*", s=220, color="tab:red", label="query", animated=True
        )
        self.few = len(texts) <= MAX_ANNOTATIONS
        notes = []
        if self.few:
            for (x, y), text in zip(coords, texts, strict=True):
                notes.append(
                    ax.annotate(
                        _short(text),
                        (x, y),
                        fontsize=9,
                        **_label_kw(x, coords[:, 0]),
                        **_font_kw(self.family),
                        **_LABEL_STYLE,
                    )
                )
        low, high = coords.min(axis=0), coords.max(axis=0)
        pad = np.maximum((high - low) * 0.08, 1e-3)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        ax.set_title(f"{len(texts)} sentences ({model}), PCA to 2-D", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)  # "best" would test every point: slow at 1,000
        ax.grid(True, alpha=0.3)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
            repel_labels(self.fig, ax, notes)
            self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, top: list[int], query: str, query_xy: np.ndarray | None) -> bytes:
        ax, coords = self.ax, self.pca.coords
        self.canvas.restore_region(self.background)
        temporary = []
        if top:
            self.rings.set_offsets(coords[top])
            temporary.append(self.rings)
            if not self.few:
                for i in top:
                    temporary.append(
                        ax.annotate(
                            _short(self.texts[i]),
                            tuple(coords[i]),
                            fontsize=7,
                            animated=True,
                            **_label_kw(coords[i, 0], coords[:, 0]),
                            **_font_kw(self.family),
                        )
                    )
        if query_xy is not None:
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            xy = (float(np.clip(query_xy[0], x0, x1)), float(np.clip(query_xy[1], y0, y1)))
            self.star.set_offsets([xy])
            temporary.append(self.star)
            family = _font_family([query]) or self.family
            temporary.append(
                ax.annotate(
                    _short(query),
                    xy,
                    xytext=(6, -12),
                    textcoords="offset points",
                    fontsize=9,
                    color="tab:red",
                    # on its own box, drawn over the sentences' labels: always readable
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "tab:red"},
                    zorder=10,
                    animated=True,
                    **_font_kw(family),
                )
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
            for artist in temporary:
                ax.draw_artist(artist)
        for artist in temporary:
            if artist not in (self.rings, self.star):
                artist.remove()
        return _rgba_png(np.asarray(self.canvas.buffer_rgba()))


def _rgba_png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()
