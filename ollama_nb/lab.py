"""`make lab`: open JupyterLab on the notebooks, with a practice server if no Ollama answers.

One practice server serves the whole JupyterLab session, so every notebook's `setup()` finds
and reuses it instead of starting its own. It listens on 11435, not Ollama's 11434, so a
learner can start a real Ollama beside it and switch with `ollama_nb.setup(host=...)`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .connection import fallback_port, normalise_host, probe, start_practice_server
from .i18n import Messages, from_locale

_ = Messages(
    {
        "started": {
            "en": "No Ollama answered: started the practice server at {url} (canned answers). "
            "Port 11434 stays free for a real Ollama; in a notebook, "
            "ollama_nb.setup(host='http://127.0.0.1:11434') switches to it.",
            "zh": "没有 Ollama 应答：已在 {url} 启动练习服务器（回答是预先写好的）。"
            "11434 端口留给真正的 Ollama；在笔记本中运行 "
            "ollama_nb.setup(host='http://127.0.0.1:11434') 即可切换过去。",
        },
        "practice": {
            "en": "Using the practice server at {url}.",
            "zh": "正在使用 {url} 上的练习服务器。",
        },
        "ollama": {
            "en": "Using the Ollama {version} at {url}.",
            "zh": "正在使用 {url} 上的 Ollama {version}。",
        },
    }
)


def first_notebook(root: Path) -> str:
    """The learner's first lesson, relative to `root`: the edition in their language if it
    exists (OLLAMA_NB_LANG, else the locale), else the English one."""
    lang = from_locale()
    return next(
        f"{edition}/00_start_here.ipynb"
        for edition in (lang, "en")
        if (root / edition / "00_start_here.ipynb").is_file()
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    url = normalise_host(os.environ.get("OLLAMA_HOST"))
    server = probe(url)
    if server is None:
        # Pulls take a watchable time (a few seconds to a minute by size), so Cancel can be tried.
        url = start_practice_server(port=fallback_port(url), faults="pull-speed=50MB/s")
        print(_("started", url=url))
    elif server.practice:
        print(_("practice", url=url))
    else:
        print(_("ollama", version=server.version, url=url))
    env = {
        **os.environ,
        "OLLAMA_HOST": url,
        "NO_PROXY": ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"])),
    }
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}"]
    cmd += [f"--LabApp.default_url=/lab/tree/{first_notebook(notebooks)}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
