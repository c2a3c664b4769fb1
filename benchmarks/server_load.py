"""Practice-server throughput: one fast stream, then a classroom of concurrent streams.

The server runs as its own process (as `make lab` runs it), so the clients measured here do
not share its interpreter. Targets on a 2-core machine: one stream at 20,000 tokens/s or
more; 100 concurrent streaming clients with no errors and p99 time to first token < 250 ms.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

import ollama

LONG = "Count to 20000"


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ollama_nb.server", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline().strip() if proc.stdout else ""
    return proc, line.removeprefix("listening on ")


def lean_stream(url: str) -> tuple[int, float]:
    """Read an NDJSON stream with http.client and no JSON parsing: the server's own pace."""
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    body = json.dumps({"model": "llama3.1", "messages": [{"role": "user", "content": LONG}]})
    start = time.perf_counter()
    conn.request("POST", "/api/chat", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    lines = sum(1 for _ in response)
    took = time.perf_counter() - start
    conn.close()
    return lines - 1, took


def ollama_stream(url: str) -> tuple[int, float]:
    client = ollama.Client(host=url)
    start = time.perf_counter()
    count = sum(
        1
        for part in client.chat(
            model="llama3.1", messages=[{"role": "user", "content": LONG}], stream=True
        )
        if not part.done
    )
    return count, time.perf_counter() - start


async def learner(host: str, port: int, prompt: str) -> float:
    """One streaming chat over a raw connection; returns the time to the first chunk.

    A raw asyncio client keeps the measuring side cheap, so the figure is the server's.
    """
    body = json.dumps({"model": "llama3.1", "messages": [{"role": "user", "content": prompt}]})
    head = (
        f"POST /api/chat HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    )
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(head.encode() + body.encode())
    await writer.drain()
    first = None
    try:
        while True:
            line = await reader.readline()
            if not line:
                raise RuntimeError("stream ended without a final chunk")
            if line.startswith(b"{"):
                first = first or time.perf_counter() - start
                if json.loads(line).get("done"):
                    return first
    finally:
        writer.close()


async def classroom(url: str, learners: int = 100) -> dict:
    parsed = urlparse(url)
    await learner(parsed.hostname, parsed.port, "hello")  # the server's first-request warm-up
    results = await asyncio.gather(
        *(
            learner(parsed.hostname, parsed.port, f"Why is the sky blue? ({i})")
            for i in range(learners)
        ),
        return_exceptions=True,
    )
    ttft = sorted(r for r in results if isinstance(r, float))
    errors = [r for r in results if not isinstance(r, float)]
    return {
        "clients": learners,
        "errors": len(errors),
        "ttft_p50_ms": round(statistics.median(ttft) * 1000, 1) if ttft else None,
        "ttft_p99_ms": round(ttft[min(len(ttft) - 1, int(len(ttft) * 0.99))] * 1000, 1)
        if ttft
        else None,
    }


def run() -> dict:
    proc, url = start_server()
    try:
        lean_tokens, lean_time = lean_stream(url)
        client_tokens, client_time = ollama_stream(url)
        load = asyncio.run(classroom(url, 100))
    finally:
        proc.terminate()
        proc.wait(5)
    return {
        "one_stream_tokens": lean_tokens,
        "lean_client_tokens_per_s": round(lean_tokens / lean_time),
        "ollama_client_tokens_per_s": round(client_tokens / client_time),
        "concurrent": load,
        "targets": "one stream >= 20000 tokens/s; 100 clients: 0 errors, p99 TTFT < 250 ms",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
