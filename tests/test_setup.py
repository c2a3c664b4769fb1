"""setup(): a real Ollama if one answers, else the practice server; before or after import."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from ollama_nb.connection import normalise_host, probe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_kernel_like(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_probe_tells_practice_server_apart(server):
    found = probe(server.url)
    assert found is not None and found.practice
    assert probe("http://127.0.0.1:9") is None


def test_localhost_becomes_ipv4_loopback():
    assert normalise_host("localhost:1234") == "http://127.0.0.1:1234"
    assert normalise_host(None) == "http://127.0.0.1:11434"


def test_setup_reuses_a_running_practice_server(server):
    result = run_kernel_like(
        """
        import ollama_nb, ollama
        ollama_nb.setup()
        print(ollama_nb.HOST, ollama_nb.PRACTICE, ollama_nb.MODEL, ollama_nb.EMBED_MODEL)
        """,
        {"OLLAMA_HOST": server.url},
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Using the practice server at {server.url}")
    assert lines[1] == f"{server.url} True llama3.1 nomic-embed-text"


@pytest.mark.parametrize("import_first", [True, False])
def test_setup_starts_practice_server_when_nothing_answers(import_first):
    port = _free_port()
    result = run_kernel_like(
        f"""
        {"import ollama" if import_first else ""}
        import ollama_nb
        ollama_nb.setup()
        import ollama
        ask = [{{"role": "user", "content": "为什么天空是蓝色的？"}}]
        print(ollama.chat(model=ollama_nb.MODEL, messages=ask).message.content[:7])
        print(ollama.Client().list().models[0].model)
        """,
        {"OLLAMA_HOST": f"127.0.0.1:{port}"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Using the practice server at http://127.0.0.1:{port}")
    assert lines[1] == "【练习服务器】"
    assert lines[2].endswith(":latest")


def test_model_overrides_from_environment(server):
    result = run_kernel_like(
        "import ollama_nb; ollama_nb.setup(quiet=True); "
        "print(ollama_nb.MODEL, ollama_nb.EMBED_MODEL)",
        {
            "OLLAMA_HOST": server.url,
            "OLLAMA_NB_MODEL": "qwen3:0.6b",
            "OLLAMA_NB_EMBED_MODEL": "all-minilm",
        },
    )
    assert result.stdout.strip() == "qwen3:0.6b all-minilm"


def test_real_ollama_without_the_tutorial_model_uses_an_installed_one(client, server, monkeypatch):
    from ollama_nb.connection import Server, choose_models

    monkeypatch.delenv("OLLAMA_NB_MODEL", raising=False)
    as_real = Server(server.url, practice=False, version="0.12.6")
    assert choose_models(as_real)[:2] == ("llama3.1", "nomic-embed-text")
    client.pull("llama3.2")
    client.delete("llama3.1")
    chat, embed, advice = choose_models(as_real)
    assert (chat, embed, advice) == ("llama3.2:latest", "nomic-embed-text", None)
    client.delete("llama3.2")
    chat, _, advice = choose_models(as_real)
    assert chat == "qwen3:0.6b" and "ollama pull qwen3:0.6b" in advice


def test_lab_launcher_uses_the_running_server(server):
    result = run_kernel_like(
        "import sys; from ollama_nb.lab import main; sys.exit(main(['--version']))",
        {"OLLAMA_HOST": server.url},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Using the practice server at {server.url}."
    assert lines[1][0].isdigit()  # JupyterLab printed its version


def test_a_dead_remote_host_is_named_before_falling_back():
    from ollama_nb.connection import Connection, Server

    line = Connection(
        Server("http://127.0.0.1:11434", True, "0.13.0"),
        "llama3.1",
        "nomic-embed-text",
        None,
        requested="http://10.0.0.5:11434",
    ).describe()
    assert line.startswith("No server answered at http://10.0.0.5:11434. Using the practice server")


def test_fallback_port_keeps_a_local_port_and_ignores_remote_ones():
    from ollama_nb.connection import fallback_port

    assert fallback_port("http://127.0.0.1:11999") == 11999
    assert fallback_port("http://10.0.0.5:8000") == 11434
