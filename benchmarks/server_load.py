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

import httpx
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


async def classroom(url: str, learners: int = 100) -> dict:
    limits = httpx.Limits(max_connections=learners + 10)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:

        async def learner(i: int) -> float:
            body = {
                "model": "llama3.1",
                "messages": [{"role": "user", "content": f"Why is the sky blue? ({i})"}],
            }
            start = time.perf_counter()
            first = None
            async with http.stream("POST", "/api/chat", json=body) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if first is None and line:
                        first = time.perf_counter() - start
                    if line and json.loads(line).get("done"):
                        break
            if first is None:
                raise RuntimeError("empty stream")
            return first

        results = await asyncio.gather(
            *(learner(i) for i in range(learners)), return_exceptions=True
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
