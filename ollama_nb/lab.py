"""`make lab`: open JupyterLab on the notebooks, with a practice server if no Ollama answers.

One practice server serves the whole JupyterLab session, so every notebook's `setup()` finds
and reuses it instead of starting its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .connection import fallback_port, normalise_host, probe, start_practice_server


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    url = normalise_host(os.environ.get("OLLAMA_HOST"))
    server = probe(url)
    if server is None:
        # Pulls take a watchable time (a few seconds to a minute by size), so Cancel can be tried.
        url = start_practice_server(port=fallback_port(url), faults="pull-speed=50MB/s")
        print(f"No Ollama answered: started the practice server at {url} (canned answers).")
    else:
        kind = "practice server" if server.practice else f"Ollama {server.version}"
        print(f"Using the {kind} at {url}.")
    env = {
        **os.environ,
        "OLLAMA_HOST": url,
        "NO_PROXY": ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])),
    }
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
