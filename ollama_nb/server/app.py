"""The practice server's handler base, on tornado (which every Jupyter install already has).

Every route (info.py, completion.py, embed.py, manage.py) reads its request, answers errors
with Ollama's `{"error": ...}` bodies and streams NDJSON one object per line through `Base`.
Anything unexpected becomes a JSON error, never a dropped connection.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
from collections.abc import Iterable

import tornado.iostream
import tornado.web

from . import marks as marks_policy
from .catalog import PREINSTALLED
from .marks import PRACTICE, Marks
from .origins import AccessPolicy
from .store import Model, Store
from .validate import (
    ApiError,
    decode_body,
    require_name,
)

log = logging.getLogger("ollama_nb.server")

MAX_BODY = 64 * 1024 * 1024
MAX_BLOB = 1024 * 1024 * 1024
RUNNING_TEXT = "Ollama is running"
DEPTH_ERROR = "exceeded max depth"
# At a set speed, a stream writes at most once per WRITE_GAP seconds: faster tokens share a
# write (30 tokens/s: 20 writes of 1-2 lines). Readers see the same lines a little bunched,
# far below what an eye or a widget drawing 20 frames a second can tell; a room of
# hundreds of streams costs the server a third fewer wake-ups and sends.
WRITE_GAP = 0.05

NOT_PULLED = 'model "{name}" not found, try pulling it first'  # the embedding endpoints' 404


class ServerState:
    """What every handler shares: the store, the streaming speed, the fault plan, which
    origins and Host names may use the server (`access`; Ollama's defaults when not given),
    and which marks say "practice server" on its answers and replies (`marks`, marks.py)."""

    def __init__(
        self,
        store: Store,
        speed: float = 0.0,
        faults=None,
        access: AccessPolicy | None = None,
        marks: Marks = PRACTICE,
    ) -> None:
        self.store = store
        self.speed = float(speed or 0)
        self.faults = faults
        self.access = access or AccessPolicy()
        self.marks = marks
        # the models a new learner's store starts with (learners.py): a fresh server's, or
        # when posing (pose.py) the --installed ones, as the default store has
        self.installed: tuple[str, ...] = PREINSTALLED


# -- base handler ----------------------------------------------------------------------------
@tornado.web.stream_request_body
class Base(tornado.web.RequestHandler):
    endpoint = ""
    request_type = ""
    body_limit = MAX_BODY

    def initialize(self, state: ServerState) -> None:
        self.state = state
        self.store = state.store
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_large = False
        self._closed = asyncio.Event()
        self._pending: tuple[int, str] | None = None  # an injected error, answered after the body
        self._body_read = False

    def set_default_headers(self) -> None:
        marks_policy.of(self).stamp(self)  # from the app's state: initialize() has not run yet
        origin = self.request.headers.get("Origin", "")
        state = getattr(self.application, "state", None)
        if origin and state:  # forbidden origins never reach a handler (GuardedApplication)
            for key, value in state.access.cors_headers(origin).items():
                self.set_header(key, value)

    async def prepare(self) -> None:
        self.request.connection.set_max_body_size(MAX_BLOB + 1)
        declared = self.request.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.body_limit:
            self._too_large = True
        faults = self.state.faults
        if faults and self.endpoint:
            delay = faults.latency(self.endpoint)
            if delay:
                await asyncio.sleep(delay)
            self._pending = faults.error(self.endpoint)
            if self._pending and self.request.method in ("GET", "HEAD"):
                raise ApiError(*self._pending)

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.body_limit:
            self._too_large = True
            self._chunks = []
        elif not self._too_large:
            self._chunks.append(chunk)

    def raw_body(self) -> bytes:
        """The request body; errors wait until it has been read so the client sees them."""
        self._body_read = True
        if self._pending:
            raise ApiError(*self._pending)
        if self._too_large:
            raise ApiError(413, f"request body too large (limit {self.body_limit} bytes)")
        return b"".join(self._chunks)

    def body(self) -> dict:
        return decode_body(self.raw_body(), self.request_type)

    def installed(self, text: str, missing: tuple[int, str], not_found: str) -> Model:
        """The installed model `text` names, or Ollama's error for an empty, bad or unknown name.

        `not_found` is the endpoint's own wording, with `{name}` (as sent) or `{short}`.
        """
        name = require_name(text, missing, (400, "invalid model name"))
        model = self.store.models.get(name.short)
        if model is None:
            raise ApiError(404, not_found.format(name=text, short=name.short))
        return model

    def on_connection_close(self) -> None:
        self._closed.set()

    # errors ---------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not self._body_read:
            # tornado closes a connection whose request body was never read; say so, or the
            # client reuses it and fails on its next request
            self.set_header("Connection", "close")
        if isinstance(exc, RecursionError):  # nesting Go allows but this server cannot follow
            exc = ApiError(400, DEPTH_ERROR)
        if isinstance(exc, ApiError):
            self.set_status(exc.status, _reason(exc.status))
            self.send_json({"error": exc.message})
            return
        if status_code in (404, 405):
            self.set_header("Content-Type", "text/plain")
            self.finish(
                f"{status_code} {'page not found' if status_code == 404 else 'method not allowed'}"
            )
            return
        self.send_json({"error": f"practice server error: {exc or status_code}"})

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (ApiError, tornado.web.HTTPError, RecursionError)):
            return
        log.error("unexpected error", exc_info=(typ, value, tb))

    def send_json(self, obj: object) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(obj, ensure_ascii=False))

    def send_empty(self) -> None:
        self.finish()

    # streaming ------------------------------------------------------------------------------
    async def stream(self, lines: Iterable[str], per_second: float | None = None) -> bool:
        """Send NDJSON lines at `per_second` (None: the server's token speed).

        Returns False when the client went away or a fault cut the stream.
        """
        self.set_header("Content-Type", "application/x-ndjson")
        rate = self.state.speed if per_second is None else per_second
        faults = self.state.faults
        cut = faults.cut_after(self.endpoint) if faults else None
        stall = faults.stall_after(self.endpoint) if faults else None
        start = time.monotonic()
        sent = 0
        items = iter(lines)
        try:
            while True:
                try:
                    line = next(items)
                except StopIteration:
                    break
                except ApiError as exc:  # a failure after the stream began: Ollama's error line
                    line = self.error_line(exc.message)
                except RecursionError:
                    line = self.error_line(DEPTH_ERROR)
                except Exception as exc:  # a bug: still end the stream as Ollama would
                    log.error("error in a stream", exc_info=True)
                    line = self.error_line(f"practice server error: {exc}")
                if isinstance(line, float):  # a pause, as a slow download makes
                    await self.flush()
                    await asyncio.sleep(line)
                    continue
                if cut is not None and sent >= cut:
                    await self.flush()
                    self.request.connection.stream.close()
                    return False
                if stall is not None and sent >= stall:
                    await self.flush()
                    await self._closed.wait()
                    return False
                self.write(line)
                sent += 1
                if rate:
                    # Lines already due go out together in one write (behind schedule in a
                    # busy room, or faster than WRITE_GAP); only a reader that is still
                    # taking the last write is waited for.
                    now = time.monotonic()
                    due = start + sent / rate
                    if due > now:
                        if self.request.connection.stream.writing():
                            await self.flush()
                        else:
                            self.flush()
                        await asyncio.sleep(max(due, now + WRITE_GAP) - now)
                elif sent % 32 == 1:
                    await self.flush()
                if self._closed.is_set():
                    return False
            self.finish()
            return True
        except tornado.iostream.StreamClosedError:
            return False

    def error_line(self, message: str) -> str:
        return json.dumps({"error": message}, ensure_ascii=False) + "\n"


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Client Closed Request" if status == 499 else "Error"


def ndjson_line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def wants_stream(body: dict) -> bool:
    return body.get("stream", True) is not False
