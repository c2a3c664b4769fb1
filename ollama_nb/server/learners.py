"""A store per learner on one practice server: `/u/<name>/api/...`.

In a workshop everyone shares one practice server; without this, one learner's
`ollama.delete("llama3.1")` removes the model from everybody's notebook. With
`OLLAMA_HOST=http://teacher:11434/u/alice` (the ollama client keeps a path in its host)
Alice gets her own model store, created on first use as a fresh server's store, while the
plain `/api/...` keeps the shared default store.

`Classroom` is a tornado router in front of the server's application: it strips the
`/u/<name>` prefix and hands the request to that learner's application (the same routes, with
a state whose `store` is the learner's). It also counts requests for the teacher's view.
This is for convenience, not security: anyone who can reach the server can use any name.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tornado.httputil
import tornado.routing
import tornado.web

from . import marks
from .catalog import PREINSTALLED
from .store import Model, Store
from .validate import ApiError
from .workers import owner

MAX_LEARNERS = 500
MAX_MODELS = 64  # installed plus published models per learner
MAX_BLOB_BYTES = 256 * 1024 * 1024  # uploaded blob bytes per learner (kept on disk with --state)
DEFAULT = ""  # the default store's key in the statistics

_PREFIX = re.compile(r"/u/([^/]*)(/.*)?\Z")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.@+-]{0,63}")


class LearnerError(Exception):
    """A request for a learner store that cannot be served (bad name, room full)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def learner_name(text: str) -> str:
    """The learner's key: lower case (so "Alice" and "alice" share one store on any disk).

    Letters, digits and `_ . @ + -`, at most 64, starting with a letter or digit: what
    JupyterHub user names usually are, and safe as a folder name.
    """
    name = text.lower()
    if not _NAME.fullmatch(name):
        raise LearnerError(
            400,
            f'invalid learner name "{text[:80]}": use 1 to 64 letters, digits, "_", ".", "@", '
            '"+" or "-", starting with a letter or digit',
        )
    return name


class LearnerStore(Store):
    """A learner's store: a fresh server's store with a cap on its size."""

    def __init__(
        self,
        state_dir,
        max_models: int,
        max_blob_bytes: int,
        installed: Iterable[str] = PREINSTALLED,
    ) -> None:
        self.max_models = max_models
        self.max_blob_bytes = max_blob_bytes
        super().__init__(state_dir, installed)

    def _full(self, what: str) -> ApiError:
        return ApiError(413, f"this learner's store is full: {what}; delete something first")

    def add(self, model: Model) -> None:
        if model.name not in self.models and len(self.models) >= self.max_models:
            raise self._full(f"at most {self.max_models} models")
        super().add(model)

    def publish(self, model: Model) -> None:
        published = len(self.registry) - len(self.initial_registry)
        if model.name not in self.registry and published >= self.max_models:
            raise self._full(f"at most {self.max_models} pushed models")
        super().publish(model)

    def add_blob(self, digest: str, data: bytes) -> None:
        if sum(self.blobs.values()) + len(data) > self.max_blob_bytes:
            raise self._full(f"at most {self.max_blob_bytes} bytes of blobs")
        super().add_blob(digest, data)

    @property
    def initial_registry(self) -> set[str]:
        from .catalog import CATALOG

        return set(CATALOG)


@dataclass
class Activity:
    """What the teacher's view shows for one learner (or the default store)."""

    requests: int = 0
    errors: int = 0
    last_seen: float = 0.0
    last_error: str = ""
    first_seen: float = field(default_factory=time.time)


class Classroom(tornado.routing.Router):
    """Routes `/u/<name>/...` to that learner's store and everything else to the default app."""

    def __init__(
        self,
        app: tornado.web.Application,
        state,
        state_dir: str | Path | None = None,
        max_learners: int = MAX_LEARNERS,
        max_models: int = MAX_MODELS,
        max_blob_bytes: int = MAX_BLOB_BYTES,
        teacher: bool = False,
        worker: tuple[int, int] = (0, 1),
    ) -> None:
        """`worker`: (this process's index, how many) when several serve one port
        (workers.py); each owns the learners whose names hash to it and a share of the cap."""
        self.app = app
        self.worker, self.workers = worker
        self._cap = -(-max_learners // self.workers)
        self.state = state
        self.root = Path(state_dir) / "learners" if state_dir else None
        self.max_learners = max_learners
        self.max_models = max_models
        self.max_blob_bytes = max_blob_bytes
        self.apps: dict[str, tornado.web.Application] = {}
        self.activity: dict[str, Activity] = {}
        self.active: dict[int, tuple[str, str, float, object]] = {}  # id -> who, what, since, req
        self.started = time.time()
        self._on_disk = (
            {p.name for p in self.root.iterdir() if p.is_dir() and self._owns(f"/u/{p.name}")}
            if self.root and self.root.is_dir()
            else set()
        )
        app.settings["log_function"] = self._finished
        self.teacher_app = None
        if teacher:
            from .teacher import teacher_app

            self.teacher_app = teacher_app(self)

    # -- learners ----------------------------------------------------------------------------
    @property
    def learners(self) -> list[str]:
        return sorted(set(self.apps) | self._on_disk)

    def store(self, name: str) -> Store:
        """The learner's store, created (or read back from --state) on first use."""
        return self._app(learner_name(name)).settings["ollama_state"].store

    def _app(self, name: str) -> tornado.web.Application:
        app = self.apps.get(name)
        if app is not None:
            return app
        if name not in self._on_disk and len(self.learners) >= self._cap:
            raise LearnerError(
                403,
                f"this practice server already has {self.max_learners} learners, its limit; "
                "ask the teacher (python -m ollama_nb.server --max-learners N)",
            )
        from .routes import make_app

        state = copy.copy(self.state)
        state.store = LearnerStore(
            self.root / name if self.root else None,
            self.max_models,
            self.max_blob_bytes,
            state.installed,
        )
        app = make_app(state)
        app.settings["log_function"] = self._finished
        app.settings["ollama_state"] = state
        self.apps[name] = app
        return app

    # -- routing -----------------------------------------------------------------------------
    def _owns(self, path: str) -> bool:
        return self.workers == 1 or owner(path, self.workers) == self.worker

    def find_handler(self, request: tornado.httputil.HTTPServerRequest, **kwargs):
        path = request.path
        if not self._owns(path):  # a keep-alive connection's request for another worker
            return self.app.get_handler_delegate(request, Misdirected)
        if self.teacher_app is not None and (path == "/teacher" or path.startswith("/teacher/")):
            return self.teacher_app.find_handler(request)
        match = _PREFIX.match(path)
        if match is None:
            if path.startswith("/api/"):  # not a browser's /favicon.ico
                self._started(DEFAULT, request)
            return self.app.find_handler(request)
        try:
            name = learner_name(match[1])
            app = self._app(name)
        except LearnerError as exc:
            self._count(match[1][:64].lower() if _NAME.fullmatch(match[1].lower()) else "?", exc)
            return self.app.get_handler_delegate(
                request, Refused, {"status": exc.status, "message": exc.message}
            )
        request.path = match[2] or "/"
        self._started(name, request)
        return app.find_handler(request)

    # -- activity ----------------------------------------------------------------------------
    def _started(self, who: str, request) -> None:
        entry = self.activity.get(who)
        if entry is None:
            entry = self.activity[who] = Activity()
        entry.requests += 1
        entry.last_seen = time.time()
        self.active[id(request)] = (who, request.path, time.time(), request)
        if len(self.active) % 1024 == 0:  # forget requests whose client went away unlogged
            self.streams()

    def _count(self, who: str, exc: LearnerError) -> None:
        entry = self.activity.setdefault(who, Activity())
        entry.requests += 1
        entry.errors += 1
        entry.last_seen = time.time()
        entry.last_error = f"{exc.status} {exc.message}"

    def _finished(self, handler: tornado.web.RequestHandler) -> None:
        """The application's log function: a request ended; count its errors."""
        started = self.active.pop(id(handler.request), None)
        if started is None:
            return
        status = handler.get_status()
        if status >= 400:
            entry = self.activity[started[0]]
            entry.errors += 1
            entry.last_error = f"{status} {started[1]}"

    def streams(self) -> list[tuple[str, str, float]]:
        """Requests still being answered (a closed connection counts as ended)."""
        now = time.time()
        out = []
        for key, (who, path, since, request) in list(self.active.items()):
            stream = getattr(request.connection, "stream", None)
            if stream is None or stream.closed() or now - since > 3600:
                del self.active[key]
                continue
            out.append((who, path, now - since))
        return out


class Misdirected(marks.Unmarked):
    """Another worker process serves this path: ask again on a new connection (workers.py).
    Any method: tornado's default SUPPORTED_METHODS already holds them all."""

    def prepare(self) -> None:
        self.set_status(307)
        self.set_header("Location", self.request.uri)
        self.set_header("Connection", "close")
        self.finish()


class Refused(tornado.web.RequestHandler):
    """The answer for a learner store that cannot be served, as Ollama shapes errors (to any
    method: tornado's default SUPPORTED_METHODS)."""

    def initialize(self, status: int, message: str) -> None:
        self.status = status
        self.message = message

    def prepare(self) -> None:
        self.set_status(self.status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Connection", "close")  # the body may not have been read
        marks.of(self).stamp(self, name=False)
        self.finish(json.dumps({"error": self.message}, ensure_ascii=False))
