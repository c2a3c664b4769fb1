"""Test-session wiring shared by the unit tests and the nbval notebook run.

nbval cells are not pytest functions, so fixtures never run for them: the practice server
for the notebooks starts here, in `pytest_configure`, before any kernel starts, and kernels
inherit `OLLAMA_HOST` from this process's environment.
"""

from __future__ import annotations

import os


def pytest_addoption(parser) -> None:
    parser.getgroup("browser").addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="save chat.png, models.png and embeddings.png from the browser tests to DIR",
    )


def pytest_configure(config) -> None:
    from ollama_nb.server import PracticeServer

    server = PracticeServer(port=0, speed=0).start()
    config._practice_server = server
    os.environ["OLLAMA_HOST"] = server.url
    os.environ["NO_PROXY"] = ",".join(
        filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"])
    )
    os.environ.pop("OLLAMA_API_KEY", None)
    os.environ.pop("OLLAMA_NB_MODEL", None)
    os.environ.pop("OLLAMA_NB_EMBED_MODEL", None)


def pytest_unconfigure(config) -> None:
    server = getattr(config, "_practice_server", None)
    if server is not None:
        server.stop()
