"""The practice server: a deterministic stand-in for Ollama that ships with ollama_nb.

`PracticeServer` runs it on a background thread (tests, notebooks, widgets);
`python -m ollama_nb.server` runs it in the foreground (make serve, make lab).
"""

from __future__ import annotations

import os

# The server's matrix work (embedding projections, a few hundred numbers per text) is small.
# OpenBLAS's own thread pool, spinning on a busy 2-core machine, made one 4096-wide projection
# take 75 s instead of 0.6 s; one thread is the right size. Only takes effect when numpy is
# loaded after this (python -m ollama_nb.server, the test session, make notebooks).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import asyncio  # noqa: E402
import ipaddress  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import tornado.netutil  # noqa: E402

from .app import MAX_BLOB, ServerState  # noqa: E402
from .origins import policy_for  # noqa: E402
from .routes import make_app  # noqa: E402
from .serving import HTTPServer, raise_fd_limit  # noqa: E402
from .store import Store  # noqa: E402

__all__ = ["PracticeServer", "is_loopback"]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _fault_plan(faults):
    if not faults:
        return None
    from .faults import FaultPlan

    return FaultPlan.parse(faults)


def _bind(host: str, port: int) -> list[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return tornado.netutil.bind_sockets(port, host, family=family, backlog=1024)


def _http_server(state: ServerState, **classroom) -> HTTPServer:
    """The HTTP server; `classroom` options go to learners.Classroom (per-learner stores)."""
    from .learners import Classroom

    raise_fd_limit()
    router = Classroom(make_app(state), state, **classroom)
    return HTTPServer(router, max_body_size=MAX_BLOB + 1)


class PracticeServer:
    """A practice server on a background thread: `with PracticeServer() as srv: srv.url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 0,
        state_dir: str | None = None,
        faults=None,
        origins: list[str] | None = None,
        pose_as_ollama: bool = False,
        installed: list[str] | str | None = None,
        pull_budget: int | str | None = None,
        **classroom,
    ) -> None:
        """`origins`: extra browser origins allowed besides Ollama's defaults (None: the
        `OLLAMA_ORIGINS` variable, as Ollama reads it). `classroom`: teacher=True,
        max_learners, max_models, max_blob_bytes (learners.py)."""
        self.host = host
        self.port = port
        self.state = ServerState(
            Store(state_dir), speed, _fault_plan(faults), policy_for(host, origins)
        )
        self.classroom = {"state_dir": state_dir, **classroom}
        self.pose = None  # pose.Pose when posing as a real Ollama: its pull counters
        if pose_as_ollama:
            from .pose import apply

            self.pose = apply(self.state, installed, pull_budget)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None

    @property
    def store(self) -> Store:
        return self.state.store

    def learner_url(self, name: str) -> str:
        """The OLLAMA_HOST that gives learner `name` a store of their own."""
        return f"{self.url}/u/{name}"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> PracticeServer:
        if self._thread:
            return self
        sockets = _bind(self.host, self.port)
        self.port = sockets[0].getsockname()[1]
        if not is_loopback(self.host):
            print(
                f"warning: the practice server listens beyond this machine on {self.host}",
                file=sys.stderr,
            )
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._server = _http_server(self.state, **self.classroom)
            self._server.add_sockets(sockets)
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="ollama-practice-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if not self._thread or not self._loop:
            return
        loop, server = self._loop, self._server

        async def shutdown() -> None:
            if server:
                server.stop()
                await server.close_all_connections()
            loop.stop()

        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(shutdown()))
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> PracticeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PracticeServer(url={self.url!r})"
