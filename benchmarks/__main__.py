"""Run every benchmark module that exists and print its figures."""

from __future__ import annotations

import importlib
import json
import sys
import time

MODULES = [
    "server_load",
    "classroom",
    "structured_bench",
    "chat_widget",
    "embeddings",
    "embedding_quality",
    "suite_runtime",
]


def main() -> int:
    failed = 0
    for name in MODULES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        start = time.perf_counter()
        try:
            figures = module.run()
        except Exception as exc:  # report and go on: one broken benchmark hides no others
            print(f"{name}: FAILED {type(exc).__name__}: {exc}")
            failed += 1
            continue
        took = time.perf_counter() - start
        print(f"{name} ({took:.1f} s): {json.dumps(figures, indent=2, ensure_ascii=False)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
