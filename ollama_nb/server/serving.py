"""The HTTP server under the routes, with Go's `net/http` habits where tornado lacks them.

A classroom holds hundreds of idle keep-alive connections; a careless or hostile client sends
headers forever or a header block of megabytes. Tornado's own accept loop re-raises `EMFILE`
on every turn of the event loop (100% CPU, megabytes of tracebacks a second, nobody
answered). So, as Go does:

- `raise_fd_limit()` lifts the soft `RLIMIT_NOFILE` to the hard limit at start;
- accept errors back off, 5 ms doubling to 1 s, and are logged once per episode;
- a header block over 1 MB gets `431 Request Header Fields Too Large`;
- idle keep-alive connections and slow header reads end after `IDLE_TIMEOUT`, a request
  body must arrive within `BODY_TIMEOUT` (Ollama sets none; a room needs them).
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable

import tornado.httpserver
import tornado.iostream
import tornado.netutil
from tornado.ioloop import IOLoop

log = logging.getLogger("ollama_nb.server")

MAX_HEADER_BYTES = 1 << 20  # Go's http.DefaultMaxHeaderBytes
HEADER_SLACK = 4096  # Go reads MaxHeaderBytes + 4096 before answering 431
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle or dribble its headers
BODY_TIMEOUT = 600.0  # seconds to receive a whole body (a 1 GiB blob over a slow Wi-Fi)
BACKOFF_FIRST, BACKOFF_MAX = 0.005, 1.0
_RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
    b"431 Request Header Fields Too Large"
)


def raise_fd_limit() -> tuple[int, int] | None:
    """Lift the soft open-file limit to the hard one, as Go's runtime does; returns (soft, hard)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft, hard


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, object], None]
) -> Callable[[], None]:
    """Tornado's accept handler, but an accept that fails for want of resources pauses the
    listening socket (5 ms doubling to 1 s) instead of spinning; returns a remover."""
    loop = IOLoop.current()
    state = {"delay": 0.0, "removed": False, "listening": True}

    def resume() -> None:
        if not state["removed"] and not state["listening"]:
            state["listening"] = True
            loop.add_handler(sock, on_ready, IOLoop.READ)

    def on_ready(fd, events) -> None:
        for _ in range(128):
            if state["removed"]:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _RESOURCE_ERRORS:
                    raise
                first = state["delay"] == 0
                state["delay"] = min(BACKOFF_MAX, state["delay"] * 2 or BACKOFF_FIRST)
                if first:
                    log.warning("accept failed (%s); retrying in up to 1 s", exc.strerror)
                state["listening"] = False
                loop.remove_handler(sock)
                loop.call_later(state["delay"], resume)
                return
            state["delay"] = 0.0
            callback(connection, address)

    def remove() -> None:
        state["removed"] = True
        if state["listening"]:
            loop.remove_handler(sock)

    loop.add_handler(sock, on_ready, IOLoop.READ)
    return remove


class _Stream(tornado.iostream.IOStream):
    """An IOStream that answers 431 when the header block outgrows `max_header_size`.

    Tornado closes the stream as soon as the header read cannot be satisfied, so the answer
    goes out on a duplicate of the socket, which is then half-closed and drained for a moment
    (as Go's `closeWriteAndWait` does) so the client reads the 431 instead of a reset.
    """

    def set_nodelay(self, value: bool) -> None:
        """Nagle stays off for the connection's whole life, as Go's net/http leaves it
        (`TCP_NODELAY` set once, in `handle_stream`). Tornado turns it on at the end of
        every response and off again after it: two system calls a request, and Nagle's
        delay on a stream's tokens in between."""

    def close(self, exc_info=False) -> None:
        if exc_info:
            exc = exc_info if isinstance(exc_info, BaseException) else None
            if exc is None and isinstance(exc_info, tuple):
                exc = exc_info[1]
            if exc is None and exc_info is True:
                import sys

                exc = sys.exc_info()[1]
            if (
                isinstance(exc, tornado.iostream.UnsatisfiableReadError)
                and self._read_regex is not None
                and not self.closed()
            ):
                _answer_too_large(self.socket)
        super().close(exc_info)


def _answer_too_large(sock: socket.socket) -> None:
    try:
        copy = sock.dup()
        copy.setblocking(False)
        copy.send(TOO_LARGE)
        copy.shutdown(socket.SHUT_WR)
    except OSError:
        return
    loop = IOLoop.current()
    state = {"bytes": 0, "open": True}

    def finish() -> None:
        if state["open"]:
            state["open"] = False
            loop.remove_handler(copy)
            copy.close()

    def drain(fd, events) -> None:
        try:
            data = copy.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        state["bytes"] += len(data)
        if not data or state["bytes"] > 64 * MAX_HEADER_BYTES:
            finish()

    loop.add_handler(copy, drain, IOLoop.READ)
    loop.call_later(0.5, finish)


class HTTPServer(tornado.httpserver.HTTPServer):
    """Tornado's HTTPServer with the limits above."""

    def initialize(self, request_callback, **kwargs) -> None:  # type: ignore[override]
        kwargs.setdefault("max_header_size", MAX_HEADER_BYTES + HEADER_SLACK)
        kwargs.setdefault("idle_connection_timeout", IDLE_TIMEOUT)
        kwargs.setdefault("body_timeout", BODY_TIMEOUT)
        super().initialize(request_callback, **kwargs)

    def add_sockets(self, sockets) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = add_accept_handler(sock, self._handle_connection)

    def handle_stream(self, stream: tornado.iostream.IOStream, address) -> None:
        if type(stream) is tornado.iostream.IOStream:
            tornado.iostream.IOStream.set_nodelay(stream, True)
            stream.__class__ = _Stream  # the same object: 431 answer on close, Nagle off
        super().handle_stream(stream, address)
