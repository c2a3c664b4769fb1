"""More than one server process behind one port, each learner always served by the same one.

Why: a request costs this server about half a millisecond of Python before its handler runs
(tornado's parsing, routing and futures), so 300 learners pressing Enter together need well
over 150 ms of one core before the last of them is even looked at. A second process on the
second core halves that. Learner stores live in memory, so a learner must always reach the
same process.

How (`python -m ollama_nb.server --workers N`): the parent binds the port and accepts
connections. It peeks at the request line of a connection's first request, picks the worker
that owns the path (`owner`: the learner named in `/u/<name>/...`, by a hash of the name; the
shared `/api/...` store and the teacher's page belong to worker 0) and hands the connection's
file descriptor to that worker over a Unix socket (SCM_RIGHTS). The worker serves it as if it
had accepted it, and keeps it for its keep-alive life. A later request on that connection
that another worker owns is answered `307` to the same address with `Connection: close`, so
the client asks again on a new connection, which the parent routes right (ollama's client,
httpx and browsers repeat a 307 with the same method and body). The parent never parses more
than the request line, and never sees a byte of the answer.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import zlib
from collections.abc import Callable

from tornado.ioloop import IOLoop

from .serving import IDLE_TIMEOUT, add_accept_handler

log = logging.getLogger("ollama_nb.server")

PEEK_BYTES = 8192  # a request line longer than this goes to worker 0, which answers it
_LEARNER = re.compile(r"/u/([^/?]*)")
_TEACHER_WORKER = re.compile(r"/teacher/w/(\d+)/")


def available() -> bool:
    """Whether this system can pass connections between processes (not on Windows)."""
    return hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def owner(path: str, workers: int) -> int:
    """Which of `workers` processes serves `path`: a learner's by the name's hash, the
    teacher's statistics by the index in their path, everything else worker 0."""
    if workers <= 1:
        return 0
    learner = _LEARNER.match(path)
    if learner:
        return zlib.crc32(learner[1].lower().encode()) % workers
    teacher = _TEACHER_WORKER.match(path)
    if teacher:
        return int(teacher[1]) % workers
    return 0


def spawn(argv: list[str], workers: int) -> tuple[list[subprocess.Popen], list[socket.socket]]:
    """Start `workers` server processes with `argv`; return them and the parent's end of
    each one's channel."""
    procs, channels = [], []
    for index in range(workers):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = [sys.executable, "-m", "ollama_nb.server", *argv]
        command += ["--worker-of", f"{theirs.fileno()},{index},{workers}"]
        command += ["--exit-with-parent", str(os.getpid())]
        procs.append(subprocess.Popen(command, pass_fds=[theirs.fileno()]))
        theirs.close()
        mine.setblocking(False)
        channels.append(mine)
    return procs, channels


class Dispatcher:
    """The parent's accept loop: each new connection goes to the worker its first request's
    path belongs to."""

    def __init__(self, sockets: list[socket.socket], channels: list[socket.socket]) -> None:
        self.sockets, self.channels = sockets, channels
        self.loop = IOLoop.current()

    def start(self) -> None:
        for sock in self.sockets:
            add_accept_handler(sock, self._accepted)

    def _accepted(self, conn: socket.socket, _address: object) -> None:
        conn.setblocking(False)
        deadline = self.loop.call_later(IDLE_TIMEOUT, lambda: self._drop(conn))
        self.loop.add_handler(conn, lambda fd, events: self._peek(conn, deadline), IOLoop.READ)

    def _peek(self, conn: socket.socket, deadline: object) -> None:
        try:
            data = conn.recv(PEEK_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # closed before a request
            self.loop.remove_timeout(deadline)
            self._drop(conn)
            return
        if b"\n" not in data and len(data) < PEEK_BYTES:
            # The request line is still arriving: the peeked bytes stay readable, so wait a
            # moment instead of being woken for them again at once.
            self.loop.remove_handler(conn)
            self.loop.call_later(
                0.01,
                lambda: self.loop.add_handler(
                    conn, lambda fd, events: self._peek(conn, deadline), IOLoop.READ
                ),
            )
            return
        self.loop.remove_timeout(deadline)
        self.loop.remove_handler(conn)
        line = data.split(b"\n", 1)[0].split()
        path = line[1].decode("latin-1") if len(line) >= 2 else "/"
        channel = self.channels[owner(path, len(self.channels))]
        try:
            socket.send_fds(channel, [b"c"], [conn.fileno()])
        except OSError as exc:
            log.warning("could not pass a connection to a worker: %s", exc)
        conn.close()  # the worker has its own copy of the descriptor

    def _drop(self, conn: socket.socket) -> None:
        try:
            self.loop.remove_handler(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def receive(channel_fd: int, serve: Callable[[socket.socket, object], None]) -> None:
    """In a worker: serve every connection the parent passes over `channel_fd`."""
    channel = socket.socket(fileno=channel_fd)
    channel.setblocking(False)
    loop = IOLoop.current()

    def on_ready(fd: object, events: int) -> None:
        while True:
            try:
                data, fds, _flags, _address = socket.recv_fds(channel, 1, 1)
            except BlockingIOError:
                return
            if not data:  # the parent is gone (--exit-with-parent ends this process)
                loop.remove_handler(channel)
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                conn.setblocking(False)
                try:
                    address = conn.getpeername()
                except OSError:
                    conn.close()
                    continue
                serve(conn, address)

    loop.add_handler(channel, on_ready, IOLoop.READ)
