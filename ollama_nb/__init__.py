"""Helpers for the ollama-notebooks tutorials: setup(), the widgets and the plot helpers.

Widgets and plots are imported on first use, so `import ollama_nb` stays quick.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

MODEL: str = os.environ.get("OLLAMA_NB_MODEL") or "llama3.1"
EMBED_MODEL: str = os.environ.get("OLLAMA_NB_EMBED_MODEL") or "nomic-embed-text"
# The other roles; None when nothing installed on a real Ollama can do it (setup() says so).
TOOLS_MODEL: str | None = MODEL
THINK_MODEL: str | None = "qwen3:0.6b"
VISION_MODEL: str | None = "llava"
HOST: str | None = None
PRACTICE: bool | None = None

_LAZY = {
    "ChatWidget": "ollama_nb.widgets.chat",
    "ModelManager": "ollama_nb.widgets.models",
    "EmbeddingExplorer": "ollama_nb.widgets.embeddings",
    "plot_embeddings": "ollama_nb.widgets.embeddings",
    "similarity_heatmap": "ollama_nb.widgets.embeddings",
    "create_from_modelfile": "ollama_nb.modelfile",
    "PracticeServer": "ollama_nb.server",
    "confirm_pull": "ollama_nb.downloads",
}

__all__ = [
    "setup",
    "MODEL",
    "EMBED_MODEL",
    "TOOLS_MODEL",
    "THINK_MODEL",
    "VISION_MODEL",
    "HOST",
    "PRACTICE",
    *_LAZY,
]

if TYPE_CHECKING:  # the lazy names, for editors and type checkers
    from .downloads import confirm_pull  # noqa: F401
    from .modelfile import create_from_modelfile  # noqa: F401
    from .server import PracticeServer  # noqa: F401
    from .widgets.chat import ChatWidget  # noqa: F401
    from .widgets.embeddings import (  # noqa: F401
        EmbeddingExplorer,
        plot_embeddings,
        similarity_heatmap,
    )
    from .widgets.models import ModelManager  # noqa: F401


def setup(host: str | None = None, quiet: bool = False, lang: str | None = None) -> None:
    """Connect this notebook to Ollama, or to the practice server when none answers.

    Prints which, and on a real Ollama the model chosen for each role. Sets `ollama_nb.MODEL`
    (chat), `EMBED_MODEL`, `TOOLS_MODEL`, `THINK_MODEL`, `VISION_MODEL`, `HOST` and
    `PRACTICE`, and points `ollama.chat(...)` at the chosen server whether or not `ollama`
    was imported before. Returns None so the first cell shows only that line.
    """
    global MODEL, EMBED_MODEL, TOOLS_MODEL, THINK_MODEL, VISION_MODEL, HOST, PRACTICE
    from . import i18n, tutorial
    from .connection import connect

    if lang is not None:
        i18n.set_lang(lang)  # the zh notebooks pass lang="zh"; else OLLAMA_NB_LANG, else English

    from .cell_errors import install as show_friendly_errors

    show_friendly_errors()  # the library's errors in a cell: a plain sentence first
    connection = connect(host)
    MODEL, EMBED_MODEL = connection.model, connection.embed_model
    plan = connection.plan
    TOOLS_MODEL, THINK_MODEL, VISION_MODEL = plan["tools"], plan["thinking"], plan["vision"]
    HOST, PRACTICE = connection.server.url, connection.server.practice
    tutorial.register()  # `%%tutorial` cells: the tutorial's code on the models installed here
    if not quiet:
        print(connection.describe())


_SUBMODULES = (
    "exercises",
    "errors",
    "i18n",
    "modelfile",
    "connection",
    "roles",
    "downloads",
    "tutorial",
    "server",
    "widgets",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"ollama_nb.{name}")
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ollama_nb' has no attribute {name!r}")
