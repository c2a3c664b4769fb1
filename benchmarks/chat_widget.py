"""How much does ChatWidget add to streaming a long reply, compared with a bare AsyncClient loop?

A 10,000-token reply ("Count to 10000") streams from the practice server at full speed, once
through a plain `async for` loop and once through `ChatWidget.send`, with every widget attached
to a comm that serialises each message as the kernel would before sending it to the browser
(json_clean, then JSON). Then the same for a 40,000-token reply.

Reported, for each size: wall and CPU time of both (the least of several interleaved runs) and
their ratios; the widget's extra CPU time; the screen updates ("frames", one per coalesced
flush) against the most the throttle allows (the first token at once, then one per 50 ms); all
comm update messages, messages and bytes. The CPU ratio is the target figure: the server runs
in its own process, as Ollama would, so the client's CPU time is what the widget adds to,
while wall time also moves with whatever else the machine is doing.

Targets: ratio <= 1.10; at most 20 frames a second; extra cost linear in the reply's length.
Linear is judged twice. The bytes sent per character are exact: the 40k reply may send at
most 25% more per character than the 10k one. The extra CPU per character is a difference of
a few milliseconds and moves by up to half from run to run, so it may at most double; a
quadratic cost would be about 4.7 times as much (the 40k reply is 4.7 times as long), so
either check would catch it.
Run: python benchmarks/chat_widget.py (or `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

import comm
import ollama
from comm.base_comm import BaseComm
from jupyter_client.jsonutil import json_clean

from ollama_nb.widgets.chat import ChatWidget

ROUNDS = 15


class SerialisingComm(BaseComm):
    """A comm that does what ipykernel's does to a message (json_clean, then JSON), minus the
    socket: so the widget pays the real serialisation cost, and we count what it sends."""

    messages = 0
    updates = 0
    nbytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        content = json_clean(dict(data=data, comm_id=self.comm_id, **keys))
        SerialisingComm.nbytes += len(json.dumps(content, ensure_ascii=False).encode())
        SerialisingComm.messages += 1
        if msg_type == "comm_msg" and (data or {}).get("method") == "update":
            SerialisingComm.updates += 1

    @classmethod
    def reset(cls) -> None:
        cls.messages = cls.updates = cls.nbytes = 0


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


async def _plain(client: ollama.AsyncClient, prompt: str) -> tuple[float, float]:
    start = _clocks()
    parts = []
    messages = [{"role": "user", "content": prompt}]
    async for chunk in await client.chat(model="llama3.1", messages=messages, stream=True):
        parts.append(chunk.message.content)
    "".join(parts)
    return _since(start)


async def _widget(client: ollama.AsyncClient, prompt: str) -> tuple[tuple[float, float], dict]:
    widget = ChatWidget(model="llama3.1", client=client)
    for job in list(widget._jobs):  # let the picker's list() go by before timing
        await job
    SerialisingComm.reset()
    start = _clocks()
    await widget.send(prompt)
    spent = _since(start)
    stats = widget.stats
    figures = {
        "updates": SerialisingComm.updates,
        "messages": SerialisingComm.messages,
        "bytes": SerialisingComm.nbytes,
        "chars": len(widget.messages[-1]["content"]),
        "stream_s": stats["seconds"],
        "frames": stats["frames"],
    }
    widget.clear()
    widget.close()
    return spent, figures


async def _measure(url: str, tokens: int) -> dict:
    prompt = f"Count to {tokens}"
    client = ollama.AsyncClient(host=url)
    await _plain(client, "Count to 100")  # warm up connections and code paths
    await _widget(client, "Count to 100")
    plain, widget, figures = [], [], {}
    for _ in range(ROUNDS):  # interleaved, so drifts in machine load hit both alike
        plain.append(await _plain(client, prompt))
        spent, figures = await _widget(client, prompt)
        widget.append(spent)
    await client.close()
    # The least of several runs is the least disturbed by other work on the machine.
    wall_plain, wall_widget = min(t[0] for t in plain), min(t[0] for t in widget)
    cpu_plain, cpu_widget = min(t[1] for t in plain), min(t[1] for t in widget)
    return {
        "tokens": tokens,
        "reply_chars": figures["chars"],
        "plain_s": round(wall_plain, 4),
        "widget_s": round(wall_widget, 4),
        "ratio_wall": round(wall_widget / wall_plain, 3),
        "plain_cpu_s": round(cpu_plain, 4),
        "widget_cpu_s": round(cpu_widget, 4),
        # The target figure: the median of paired ratios (each widget run over the plain run
        # just before it). This machine's speed drifts between phases up to twofold, and a
        # pair falls within one phase; the least-of-runs ratio is kept as a second opinion.
        "ratio_cpu": round(statistics.median(w[1] / p[1] for p, w in zip(plain, widget)), 3),
        "ratio_cpu_least": round(cpu_widget / cpu_plain, 3),
        # Paired differences (each widget run against the plain run just before it) cancel
        # slow drifts in machine load; their median is the widget's extra cost.
        "extra_cpu_s": round(statistics.median(w[1] - p[1] for p, w in zip(plain, widget)), 4),
        "stream_s": round(figures["stream_s"], 4),
        "frames": figures["frames"],
        "frames_allowed": int(1 + figures["stream_s"] / ChatWidget.interval),
        # The first token is shown at once; after it, at most one frame per 50 ms.
        "frames_per_s": round((figures["frames"] - 1) / figures["stream_s"], 1),
        "updates": figures["updates"],
        # All update messages, including the few that start and finish every reply.
        "updates_per_s": round(figures["updates"] / figures["stream_s"], 1),
        "messages": figures["messages"],
        "bytes_sent": figures["bytes"],
    }


@contextmanager
def practice_server():
    """The practice server in a child process, as Ollama would be: on a thread of this process
    it would compete with the client for the GIL and blur the comparison."""
    command = [sys.executable, "-m", "ollama_nb.server", "--port", "0", "--speed", "0"]
    command += ["--exit-with-parent", str(os.getpid())]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"practice server did not start: {line!r}")
        yield line.split()[-1]
    finally:
        server.terminate()
        server.wait(10)


def run() -> dict:
    """Measure 10,000- and 40,000-token replies; return the figures and the verdicts."""
    saved = comm.create_comm
    comm.create_comm = SerialisingComm
    try:
        with practice_server() as url:
            small = asyncio.run(_measure(url, 10_000))
            large = asyncio.run(_measure(url, 40_000))
    finally:
        comm.create_comm = saved
    per_char = [r["extra_cpu_s"] / r["reply_chars"] for r in (small, large)]
    growth = per_char[1] / per_char[0] if per_char[0] > 0 else 0.0
    bytes_per_char = [r["bytes_sent"] / r["reply_chars"] for r in (small, large)]
    return {
        "10k": small,
        "40k": large,
        "extra_cpu_us_per_char": [round(x * 1e6, 3) for x in per_char],
        "ok_ratio": max(small["ratio_cpu"], large["ratio_cpu"]) <= 1.10,
        "ok_frames": all(r["frames"] <= r["frames_allowed"] for r in (small, large)),
        "bytes_per_char": [round(x, 2) for x in bytes_per_char],
        "ok_linear": growth <= 2.0 and bytes_per_char[1] <= 1.25 * bytes_per_char[0],
    }


if __name__ == "__main__":
    print(run())
