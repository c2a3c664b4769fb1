"""Run every notebook top to bottom against the practice server posing as a learner's Ollama.

A learner's Ollama holds only what they pulled. Each notebook runs in its own kernel (in this
venv) against its own posing server with one of the SETUPS installed and a 1 GB pull budget.
A notebook is clean when no cell raises outside cells tagged `raises-exception` and the
server refused no pull (a refused pull is a download over the budget that nobody confirmed).

    python tests/real_mode.py [setup ...]      # prints a table: setup -> clean notebooks
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from ollama_nb.server import PracticeServer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(os.environ.get("OLLAMA_NB_REAL_NOTEBOOKS") or ROOT / "notebooks" / "en")
SETUPS: dict[str, str] = {
    "qwen3:0.6b + all-minilm": "qwen3:0.6b,all-minilm",
    "llama3.2:1b + nomic-embed-text": "llama3.2:1b,nomic-embed-text",
    "llama3.1 + nomic-embed-text": "llama3.1,nomic-embed-text",
    "nothing installed": "",
}
BUDGET = "1GB"
PARALLEL = int(os.environ.get("OLLAMA_NB_REAL_PARALLEL", "4"))


@dataclass
class Result:
    setup: str
    notebook: str
    error: str = ""
    refused: list[str] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.error and not self.refused


def _first_lines(text: str, n: int = 6) -> str:
    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(text))
    lines = [line for line in plain.splitlines() if line.strip()]
    return "\n".join(lines[-n:])


async def run_one(setup: str, path: Path, limit: asyncio.Semaphore) -> Result:
    result = Result(setup, path.stem)
    async with limit:
        with PracticeServer(
            pose_as_ollama=True, installed=SETUPS[setup], pull_budget=BUDGET
        ) as srv:
            env = {
                k: v
                for k, v in os.environ.items()
                if k not in ("OLLAMA_NB_MODEL", "OLLAMA_NB_EMBED_MODEL", "OLLAMA_NB_LANG")
            }
            env.update(OLLAMA_HOST=srv.url, NO_PROXY="127.0.0.1,localhost", OLLAMA_NB_SPEED="0")
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb,
                timeout=180,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            try:
                await client.async_execute(env=env)
            except CellExecutionError as exc:
                result.error = _first_lines(exc)
            except Exception as exc:  # a dead kernel or a timeout is a failure too
                result.error = f"{type(exc).__name__}: {exc}"
            result.refused = list(srv.pose.refused)
            result.pulled = list(srv.pose.pulled)
    return result


async def run_all(setups: list[str], names: list[str] | None = None) -> list[Result]:
    limit = asyncio.Semaphore(PARALLEL)
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if p.stem in names]
    jobs = [run_one(setup, path, limit) for setup in setups for path in paths]
    return list(await asyncio.gather(*jobs))


def report(results: list[Result]) -> str:
    lines = []
    for setup in dict.fromkeys(r.setup for r in results):
        mine = [r for r in results if r.setup == setup]
        clean = sum(r.clean for r in mine)
        lines.append(f"{setup}: {clean}/{len(mine)} clean")
        for r in mine:
            if not r.clean:
                why = r.error.splitlines()[-1] if r.error else f"refused pulls {r.refused}"
                lines.append(f"    {r.notebook}: {why[:160]}")
    return "\n".join(lines)


if __name__ == "__main__":
    chosen = [s for s in SETUPS if not sys.argv[1:] or s in sys.argv[1:]]
    print(report(asyncio.run(run_all(chosen))))
