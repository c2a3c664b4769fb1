"""A room of learners streaming at once from one practice server, each with their own store.

The server runs as its own process at 30 tokens/s (`--speed 30`, a believable model speed);
this process is the load generator. Every learner first asks `/u/<name>/api/version` (as
`ollama_nb.setup()` does) and loads the model, then all of them send a streaming chat at the
same moment to `/u/<name>/api/chat` and read the whole reply. At a set speed the server waits
a loaded model's simulated load and prompt time (about 60 ms here, counted from the request's
arrival) before the first token, as Ollama would. Figures: errors, and the time to first token
(from sending the request to the first NDJSON chunk) at p50 and p99, and the server's CPU time.

Each room is measured with one server process and with `--workers 2` (one per core of this
machine). One process spends about half a millisecond of Python on each request before its
handler runs, so 300 requests at the same instant queue for well over 150 ms of one core;
two processes share them. Target on a 2-core machine: 300 learners, zero errors, p99 TTFT
< 250 ms with `--workers 2` (the setting the teachers' guide gives for a room this size).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

SPEED = 30
ROOMS = (100, 300)
WORKERS = (1, 2)
TARGET = "300 learners at 30 tokens/s with --workers 2: 0 errors, p99 TTFT < 250 ms"


def start_server(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            "0",
            "--speed",
            str(SPEED),
            "--max-learners",
            "2000",
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip() if proc.stdout else ""
    return proc, line.removeprefix("listening on ")


def _request(method: str, host: str, path: str, body: str = "", extra: str = "") -> bytes:
    data = body.encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


async def hello(host: str, port: int, name: str) -> None:
    """What a learner's first cells do: find the server, then load the model (an empty
    generate), so the timed chat meets a loaded model as in the middle of a lesson."""
    load = json.dumps({"model": "llama3.1", "prompt": "", "stream": False})
    for method, path, body in (
        ("GET", f"/u/{name}/api/version", ""),
        ("POST", f"/u/{name}/api/generate", load),
    ):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(_request(method, host, path, body, extra="Connection: close\r\n"))
        await writer.drain()
        answer = await reader.read()
        writer.close()
        if not answer.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(answer[:200].decode(errors="replace"))


class _Reply(asyncio.Protocol):
    """Reads one streamed reply with no parsing and no per-read futures: the measuring side
    stays cheap, so the figures are the server's."""

    def __init__(self) -> None:
        self.ended = asyncio.get_running_loop().create_future()
        self.start = 0.0
        self.first: float | None = None
        self.head = b""
        self.tail = b""
        self.chunks = 0

    def data_received(self, data: bytes) -> None:
        if self.first is None and b"{" in data:
            self.first = time.perf_counter() - self.start
        if len(self.head) < 16:
            self.head += data[:16]
        self.chunks += data.count(b"\n{")
        self.tail = (self.tail + data)[-2048:]  # the final chunk, with its metrics
        if self.tail.endswith(b"\r\n0\r\n\r\n") and not self.ended.done():
            self.ended.set_result(None)

    def connection_lost(self, exc) -> None:
        if not self.ended.done():
            self.ended.set_exception(RuntimeError("the connection closed before the reply ended"))


async def learner(host: str, port: int, name: str, go: asyncio.Event) -> tuple[float, int]:
    """One learner's streaming chat over a raw connection: (time to first chunk, chunks)."""
    body = json.dumps(
        {
            "model": "llama3.1",
            "messages": [{"role": "user", "content": f"Why is the sky blue? {name}"}],
        }
    )
    loop = asyncio.get_running_loop()
    transport, reply = await loop.create_connection(_Reply, host, port)
    try:
        await go.wait()
        reply.start = time.perf_counter()
        transport.write(_request("POST", host, f"/u/{name}/api/chat", body))
        await reply.ended
        if not reply.head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(reply.head.decode(errors="replace"))
        if b'"done": true' not in reply.tail and b'"done":true' not in reply.tail:
            raise RuntimeError("the reply has no final chunk")
        assert reply.first is not None
        return reply.first, reply.chunks
    finally:
        transport.close()


async def room(url: str, learners: int, tag: str) -> dict:
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port
    names = [f"{tag}{i:03d}" for i in range(learners)]
    for name in names:
        await hello(host, port, name)
    go = asyncio.Event()
    tasks = [asyncio.ensure_future(learner(host, port, name, go)) for name in names]
    await asyncio.sleep(0.5)  # every connection open, the way a room's kernels sit waiting
    started = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    took = time.perf_counter() - started
    ttft = sorted(r[0] for r in results if isinstance(r, tuple))
    errors = [r for r in results if not isinstance(r, tuple)]
    return {
        "learners": learners,
        "errors": len(errors),
        "first_error": repr(errors[0]) if errors else None,
        "ttft_p50_ms": round(statistics.median(ttft) * 1000, 1) if ttft else None,
        "ttft_p99_ms": round(ttft[min(len(ttft) - 1, int(len(ttft) * 0.99))] * 1000, 1)
        if ttft
        else None,
        "chunks_per_reply": statistics.median(r[1] for r in results if isinstance(r, tuple))
        if ttft
        else None,
        "all_done_s": round(took, 1),
    }


def children(pid: int) -> list[int]:
    """The processes `pid` started (its --workers), from Linux's /proc; [] elsewhere."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float | None:
    """The server's CPU time (user + system), its worker processes' included: steadier than
    latency on a shared machine."""
    total = 0.0
    for each in (pid, *children(pid)):
        try:
            fields = open(f"/proc/{each}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            if each == pid:
                return None
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return round(total, 2)


def run(*server_args: str) -> dict:
    figures: dict = {"speed_tokens_per_s": SPEED, "target": TARGET}
    for workers in WORKERS:
        for learners in ROOMS:
            proc, url = start_server("--workers", str(workers), *server_args)
            try:
                key = f"room_{learners}_workers_{workers}"
                figures[key] = asyncio.run(room(url, learners, f"l{learners}x"))
                figures[key]["server_cpu_s"] = cpu_seconds(proc.pid)
            finally:
                proc.terminate()
                proc.wait(10)
    headline = figures[f"room_{ROOMS[-1]}_workers_{WORKERS[-1]}"]
    figures["ok"] = headline["errors"] == 0 and headline["ttft_p99_ms"] < 250
    return figures


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:]), indent=2))
