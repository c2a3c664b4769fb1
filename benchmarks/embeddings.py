"""Benchmark: embed and plot 1,000 sentences, and the explorer's redraw after a query.

Targets (practice server at speed 0): the 1,000-sentence plot, embedding included, under 2 s
in one `/api/embed` request; the explorer's redraw after a new query under 200 ms. Run
`python benchmarks/embeddings.py` (prints JSON) or call `run()`.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import matplotlib

matplotlib.use("Agg")

import ollama  # noqa: E402

from ollama_nb.server import PracticeServer  # noqa: E402
from ollama_nb.widgets import embeddings as emb  # noqa: E402

PLOT_TARGET_S = 2.0
REDRAW_TARGET_S = 0.2
SUBJECTS = [
    "The cat",
    "A dog",
    "My neighbour",
    "The old sailor",
    "A young student",
    "The robot",
    "Our teacher",
    "The farmer",
    "A tired pilot",
    "The little bird",
]
VERBS = [
    "reads",
    "paints",
    "cooks",
    "repairs",
    "finds",
    "loses",
    "watches",
    "sells",
    "builds",
    "describes",
]
OBJECTS = [
    "a blue boat",
    "the red kite",
    "an old map",
    "a warm soup",
    "the broken radio",
    "a tall tree",
    "the quiet garden",
    "a shiny coin",
    "the long river",
    "a paper lantern",
]
QUERIES = [
    "a cat with a boat",
    "someone repairs a radio",
    "birds in the garden",
    "cooking soup at home",
    "an old map of the river",
]


class CountingClient(ollama.Client):
    """An ollama.Client that counts embed requests and the texts they carry."""

    def __init__(self, host: str) -> None:
        super().__init__(host=host)
        self.requests = 0
        self.texts = 0

    def embed(self, model: str = "", input: Any = "", **kwargs: Any):  # noqa: A002
        self.requests += 1
        self.texts += 1 if isinstance(input, str) else len(input)
        return super().embed(model=model, input=input, **kwargs)


def sentences(n: int = 1000) -> list[str]:
    out = []
    for i in range(n):
        s, v, o = SUBJECTS[i % 10], VERBS[(i // 10) % 10], OBJECTS[(i // 100) % 10]
        out.append(f"{s} {v} {o} (note {i}).")
    return out


def run(n: int = 1000) -> dict[str, Any]:
    texts = sentences(n)
    with PracticeServer(port=0, speed=0) as srv:
        client = CountingClient(srv.url)
        client.list()  # connect once, so the first timing is not the TCP handshake
        emb.clear_cache()
        embed_start = time.perf_counter()
        emb.embed_texts(texts, client=client)  # the request alone, for the report
        embed_s = time.perf_counter() - embed_start
        emb.clear_cache()
        client.requests = client.texts = 0

        start = time.perf_counter()
        fig = emb.plot_embeddings(texts, client=client)
        built = time.perf_counter()
        png = emb.figure_png(fig)
        done = time.perf_counter()
        plot_requests = client.requests
        assert plot_requests == 1, f"expected one /api/embed request, got {plot_requests}"
        assert client.texts == n

        start_explorer = time.perf_counter()
        explorer = emb.EmbeddingExplorer(texts=texts, client=client)
        first_draw = time.perf_counter() - start_explorer
        assert client.requests == plot_requests, "the explorer must reuse cached vectors"

        redraws = []
        for query in QUERIES:
            before = client.requests, client.texts
            explorer.query.value = query  # no running loop here: redraws synchronously
            assert explorer.ranking, explorer.status
            assert (client.requests, client.texts) == (before[0] + 1, before[1] + 1)
            redraws.append(explorer.timings["total_s"])
        explorer.close()

    plot_s = done - start
    redraw_median = statistics.median(redraws)
    return {
        "sentences": n,
        "plot_total_s": round(plot_s, 3),
        "embed_only_s": round(embed_s, 3),
        "plot_build_s": round(built - start, 3),
        "plot_render_png_s": round(done - built, 3),
        "plot_png_bytes": len(png),
        "plot_embed_requests": plot_requests,
        "explorer_first_draw_s": round(first_draw, 3),
        "explorer_redraw_ms_median": round(redraw_median * 1000, 1),
        "explorer_redraw_ms_max": round(max(redraws) * 1000, 1),
        "explorer_embed_requests_per_query": 1,
        "plot_target_s": PLOT_TARGET_S,
        "redraw_target_ms": REDRAW_TARGET_S * 1000,
        "plot_ok": plot_s < PLOT_TARGET_S,
        "redraw_ok": redraw_median < REDRAW_TARGET_S,
    }


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    # Timings are reported, not enforced: a loaded machine is slower. The request counts are
    # asserted inside run().
