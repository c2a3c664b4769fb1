"""How long the notebook run takes: `pytest --nbval` over every notebook (target < 3 min)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run() -> dict:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "notebooks",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    summary = (result.stdout.strip().splitlines() or ["?"])[-1]
    return {"nbval_seconds": round(took, 1), "result": summary, "target_seconds": 180}


if __name__ == "__main__":
    print(run())
