"""Find a server for the notebooks: a real Ollama if one answers, else the practice server.

A learner without Ollama should still run every cell, and a learner with one should use it
unchanged. `setup()` decides once, says in one line which it chose, and makes both the
module-level `ollama.chat(...)` and new clients point at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from . import roles
from .i18n import Messages
from .roles import Plan

DEFAULT_HOST = "http://127.0.0.1:11434"
OLLAMA_PORT = 11434
PRACTICE_PORT = 11435  # the practice server's own port: 11434 stays free for a real Ollama
DEFAULT_MODEL = "llama3.1"
DEFAULT_EMBED_MODEL = "nomic-embed-text"
SMALL_MODEL = "qwen3:0.6b"
PRACTICE_HEADER = "X-Ollama-Practice"

_ = Messages(
    {
        "missed": {
            "en": "No server answered at {requested}. ",
            "zh": "{requested} 没有服务器应答。",
        },
        "practice": {
            "en": "Using the practice server at {url}: canned answers, no language model (install "
            "Ollama from https://ollama.com, then run ollama_nb.setup() again to use it).",
            "zh": "正在使用 {url} 上的练习服务器：回答是预先写好的，没有真正的语言模型（从 "
            "https://ollama.com 安装 Ollama 后，再运行一次 ollama_nb.setup() 即可改用它）。",
        },
        "real": {
            "en": "Using Ollama {version} at {url}. Models for the notebooks:",
            "zh": "正在使用 {url} 上的 Ollama {version}。各项任务使用的模型：",
        },
        "no_chat_model": {
            "en": "Ollama {version} at {real} has no local chat model, so this notebook uses "
            "the practice server at {url} (canned answers) for now. To use your Ollama: "
            "`ollama pull {pull}` ({size}), then run ollama_nb.setup() again.",
            "zh": "{real} 上的 Ollama {version} 没有可用的本地对话模型，所以本笔记本暂时使用 "
            "{url} 上的练习服务器（回答是预先写好的）。要改用你的 Ollama：先运行 "
            "`ollama pull {pull}`（{size}），再运行一次 ollama_nb.setup()。",
        },
    }
)


@dataclass
class Server:
    url: str
    practice: bool
    version: str


def normalise_host(host: str | None) -> str:
    """OLLAMA_HOST as the ollama library reads it, with 127.0.0.1 instead of localhost."""
    from ollama._client import _parse_host

    url = _parse_host(host or None)
    return url.replace("//localhost:", "//127.0.0.1:").replace("//0.0.0.0:", "//127.0.0.1:")


def probe(url: str, timeout: float = 0.5) -> Server | None:
    """`GET /api/version`: who answers at `url`, if anyone."""
    try:
        with urllib.request.urlopen(f"{url}/api/version", timeout=timeout) as response:
            practice = response.headers.get(PRACTICE_HEADER) == "1"
            version = json.loads(response.read() or b"{}").get("version", "?")
            return Server(url, practice, version)
    except (OSError, ValueError, urllib.error.URLError):
        return None


def fallback_port(url: str) -> int:
    """Where a practice server should listen when nothing answers at `url`.

    The same port when `url` is this machine (so OLLAMA_HOST stays right), except Ollama's own
    11434: that stays free for a real Ollama the learner may start later, and the practice
    server takes PRACTICE_PORT.
    """
    parsed = urllib.parse.urlsplit(url)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if local and parsed.port and parsed.port != OLLAMA_PORT:
        return parsed.port
    return PRACTICE_PORT


def start_practice_server(
    port: int = PRACTICE_PORT, speed: float | None = None, faults: str | None = None
) -> str:
    """Start `python -m ollama_nb.server` as a child process; returns its URL.

    A child process (not a thread) keeps the kernel's event loop and GIL free for the
    notebook; it ends with the kernel that started it.
    """
    if speed is None:
        speed = float(os.environ.get("OLLAMA_NB_SPEED", "60"))
    for try_port in (port, 0):
        cmd = [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            str(try_port),
            "--speed",
            str(speed),
            "--exit-with-parent",
            str(os.getpid()),
            *(["--faults", faults] if faults else []),
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        line = proc.stdout.readline().strip() if proc.stdout else ""
        if line.startswith("listening on "):
            return line.removeprefix("listening on ")
        proc.wait(5)
    raise RuntimeError("could not start the practice server")


def point_ollama_at(url: str) -> None:
    """Make `ollama.chat(...)` and new `Client()`s use `url`, even if ollama was imported."""
    os.environ["OLLAMA_HOST"] = url
    no_proxy = os.environ.get("NO_PROXY", "")
    if "127.0.0.1" not in no_proxy:
        os.environ["NO_PROXY"] = ",".join(filter(None, [no_proxy, "127.0.0.1", "localhost"]))
    if "ollama" in sys.modules:
        import ollama

        default = ollama.Client(host=url)
        ollama._client = default  # the module-level functions are bound to this client
        for name in (
            "generate",
            "chat",
            "embed",
            "embeddings",
            "pull",
            "push",
            "create",
            "delete",
            "list",
            "copy",
            "show",
            "ps",
        ):
            setattr(ollama, name, getattr(default, name))


def choose_models(server: Server) -> Plan:
    """A model for each role on this server; never pulls anything.

    The practice server has the tutorial's models (and pulls others in no time), so its plan
    is the tutorial's names; a real Ollama's plan comes from what `show()` says is installed.
    """
    if server.practice:
        chat = os.environ.get("OLLAMA_NB_MODEL") or DEFAULT_MODEL
        embed = os.environ.get("OLLAMA_NB_EMBED_MODEL") or DEFAULT_EMBED_MODEL
        return Plan(
            {
                "chat": chat,
                "embed": embed,
                "tools": chat,
                "thinking": SMALL_MODEL,
                "vision": "llava",
            }
        )
    return roles.choose(roles.installed_models(server.url))


@dataclass
class Connection:
    server: Server
    plan: Plan
    requested: str = ""  # the address asked for; differs when nothing answered there
    skipped: Server | None = None  # a real Ollama passed over because it has no chat model

    @property
    def model(self) -> str:
        return self.plan["chat"] or SMALL_MODEL

    @property
    def embed_model(self) -> str:
        return self.plan["embed"] or roles.SUGGESTED["embed"][0]

    def describe(self) -> str:
        """The visible lines that say which server the notebook uses, and with which models."""
        if self.server.practice:
            if self.skipped:
                pull, size = roles.SUGGESTED["chat"]
                return _(
                    "no_chat_model",
                    version=self.skipped.version,
                    real=self.skipped.url,
                    url=self.server.url,
                    pull=pull,
                    size=roles.human_size(size),
                )
            missed = (
                _("missed", requested=self.requested)
                if self.requested and self.requested != self.server.url
                else ""
            )
            return missed + _("practice", url=self.server.url)
        head = _("real", version=self.server.version, url=self.server.url)
        return head + "\n" + self.plan.describe()


def connect(host: str | None = None) -> Connection:
    """Find (or start) a server, point the ollama library at it and pick the models."""
    url = normalise_host(host or os.environ.get("OLLAMA_HOST"))
    server = probe(url)
    if server is None:  # a practice server already on its own port (make lab, another notebook)
        port = fallback_port(url)
        running = probe(f"http://127.0.0.1:{port}")
        server = running if running and running.practice else None
    if server is None:
        server = probe(start_practice_server(port=port), timeout=5)
    if server is None:  # pragma: no cover - the child printed its address but does not answer
        raise RuntimeError("the practice server started but does not answer")
    plan = choose_models(server)
    skipped = None
    if not server.practice and not plan["chat"]:
        # nothing local to chat with: the practice server keeps Run All going, and says why
        skipped, server = server, probe(start_practice_server(port=0), timeout=5)
        if server is None:  # pragma: no cover
            raise RuntimeError("the practice server started but does not answer")
        plan = choose_models(server)
    point_ollama_at(server.url)
    return Connection(server, plan, requested=url, skipped=skipped)
