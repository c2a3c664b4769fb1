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

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_MODEL = "llama3.1"
DEFAULT_EMBED_MODEL = "nomic-embed-text"
SMALL_MODEL = "qwen3:0.6b"
PRACTICE_HEADER = "X-Ollama-Practice"
EMBED_FAMILIES = ("bert", "nomic-bert")


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

    The same port when `url` is this machine (so OLLAMA_HOST stays right), else 11434.
    """
    parsed = urllib.parse.urlsplit(url)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    return parsed.port if local and parsed.port else 11434


def start_practice_server(
    port: int = 11434, speed: float | None = None, faults: str | None = None
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


def choose_models(server: Server) -> tuple[str, str, str | None]:
    """(chat model, embedding model, advice) for this server; never pulls anything."""
    chat = os.environ.get("OLLAMA_NB_MODEL") or DEFAULT_MODEL
    embed = os.environ.get("OLLAMA_NB_EMBED_MODEL") or DEFAULT_EMBED_MODEL
    if server.practice:
        return chat, embed, None
    import ollama

    installed = ollama.Client(host=server.url).list().models
    names = {m.model for m in installed} | {
        (m.model or "").removesuffix(":latest") for m in installed
    }
    advice = None
    if chat not in names:
        chats = [
            m.model for m in installed if (m.details and m.details.family) not in EMBED_FAMILIES
        ]
        if chats and not os.environ.get("OLLAMA_NB_MODEL"):
            chat = chats[0]
        else:
            advice = f"No chat model found: run `ollama pull {SMALL_MODEL}` (about 520 MB)."
            chat = SMALL_MODEL
    if embed not in names:
        embeds = [m.model for m in installed if (m.details and m.details.family) in EMBED_FAMILIES]
        embed = embeds[0] if embeds else embed
    return chat, embed, advice


@dataclass
class Connection:
    server: Server
    model: str
    embed_model: str
    advice: str | None
    requested: str = ""  # the address asked for; differs when nothing answered there

    def describe(self) -> str:
        """The one visible line that says which server the notebook uses."""
        if self.server.practice:
            missed = (
                f"No server answered at {self.requested}. "
                if self.requested and self.requested != self.server.url
                else ""
            )
            return (
                f"{missed}Using the practice server at {self.server.url}: canned answers, no real "
                "model (install Ollama from https://ollama.com and restart the kernel to use it)."
            )
        line = f"Using Ollama {self.server.version} at {self.server.url} with model {self.model}."
        return line + (f" {self.advice}" if self.advice else "")


def connect(host: str | None = None) -> Connection:
    """Find (or start) a server, point the ollama library at it and pick the models."""
    url = normalise_host(host or os.environ.get("OLLAMA_HOST"))
    server = probe(url)
    if server is None:
        server = probe(start_practice_server(port=fallback_port(url)), timeout=5)
    if server is None:  # pragma: no cover - the child printed its address but does not answer
        raise RuntimeError("the practice server started but does not answer")
    point_ollama_at(server.url)
    return Connection(server, *choose_models(server), requested=url)
