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
    from ollama_nb.roles import Plan

    line = Connection(
        Server("http://127.0.0.1:11434", True, "0.13.0"),
        Plan({"chat": "llama3.1", "embed": "nomic-embed-text"}),
        requested="http://10.0.0.5:11434",
    ).describe()
    assert line.startswith("No server answered at http://10.0.0.5:11434. Using the practice server")


def test_fallback_port_keeps_a_local_port_and_ignores_remote_ones():
    from ollama_nb.connection import fallback_port

    assert fallback_port("http://127.0.0.1:11999") == 11999
    assert fallback_port("http://10.0.0.5:8000") == 11435
    assert fallback_port("http://127.0.0.1:11434") == 11435  # Ollama's own port stays free


# -- model roles on a real Ollama (the practice server posing as one) -------------------------
def _plan(installed: str, env: dict | None = None):
    from ollama_nb import roles
    from ollama_nb.server import PracticeServer

    with PracticeServer(pose_as_ollama=True, installed=installed) as srv:
        return roles.choose(roles.installed_models(srv.url), env or {})


def test_an_embedding_model_is_never_the_chat_model():
    plan = _plan("all-minilm,nomic-embed-text,qwen3:0.6b")
    assert plan["chat"] == "qwen3:0.6b"
    assert plan["embed"] == "nomic-embed-text:latest"  # the tutorial's, preferred
    assert plan["tools"] == plan["thinking"] == "qwen3:0.6b"
    assert plan["vision"] is None
    assert "ollama pull moondream" in plan.describe()
    assert _plan("all-minilm")["chat"] is None  # an embedding model alone: no chat model


def test_the_tutorial_models_win_and_a_non_thinking_chat_model_is_preferred():
    plan = _plan("qwen3:0.6b,llama3.2:1b,llama3.1,nomic-embed-text,llava")
    assert (plan["chat"], plan["tools"], plan["vision"]) == (
        "llama3.1:latest",
        "llama3.1:latest",
        "llava:latest",
    )
    assert plan["thinking"] == "qwen3:0.6b"
    assert _plan("qwen3:0.6b,gemma3:270m")["chat"] == "gemma3:270m"  # does not think


def test_cloud_models_stay_out_unless_named():
    from ollama_nb.roles import Installed, choose, is_cloud

    assert is_cloud("gpt-oss:120b-cloud", {}) and is_cloud("x", {"remote_host": "ollama.com"})
    assert not is_cloud("qwen3:0.6b", {"capabilities": ["completion"]})
    models = [
        Installed("gpt-oss:120b-cloud", 400, ("completion", "tools", "thinking"), cloud=True),
        Installed("qwen3:0.6b", 522_653_767, ("completion", "tools", "thinking")),
    ]
    plan = choose(models, {})
    assert set(plan.models.values()) - {None} == {"qwen3:0.6b"}
    assert any("gpt-oss:120b-cloud" in note for note in plan.notes)
    named = choose(models, {"OLLAMA_NB_MODEL": "gpt-oss:120b-cloud"})
    assert named["chat"] == "gpt-oss:120b-cloud" and named["tools"] == "gpt-oss:120b-cloud"


def test_a_missing_override_is_named_and_replaced():
    plan = _plan("qwen3:0.6b,all-minilm", {"OLLAMA_NB_MODEL": "llama3.1"})
    assert plan["chat"] == "qwen3:0.6b"
    assert any("OLLAMA_NB_MODEL=llama3.1" in n and "ollama pull llama3.1" in n for n in plan.notes)
    plan = _plan("qwen3:0.6b,all-minilm", {"OLLAMA_NB_EMBED_MODEL": "all-minilm"})
    assert plan["embed"] == "all-minilm:latest" and not plan.notes


def test_no_embedding_model_says_which_to_pull():
    plan = _plan("llama3.2:1b")
    assert plan["embed"] == "llama3.2:1b"  # a chat model can embed, worse
    assert any("ollama pull all-minilm" in n and "46 MB" in n for n in plan.notes)


def test_setup_with_nothing_installed_falls_back_and_says_what_to_pull():
    from ollama_nb.server import PracticeServer

    with PracticeServer(pose_as_ollama=True, installed="") as srv:
        result = run_kernel_like(
            "import ollama_nb, ollama; ollama_nb.setup(); "
            "print(ollama_nb.PRACTICE, ollama_nb.HOST != ollama.Client()._client.base_url, "
            "len(ollama.list().models))",
            {"OLLAMA_HOST": srv.url},
        )
    assert result.returncode == 0, result.stderr
    first, last = result.stdout.splitlines()[0], result.stdout.splitlines()[-1]
    assert first.startswith(f"Ollama 0.13.0 at {srv.url} has no local chat model")
    assert "`ollama pull qwen3:0.6b` (523 MB)" in first
    assert last.split()[0] == "True" and last.split()[2] == "2"  # the practice store


def test_setup_on_a_real_ollama_prints_the_plan_in_chinese():
    from ollama_nb.server import PracticeServer

    with PracticeServer(pose_as_ollama=True, installed="qwen3:0.6b,all-minilm") as srv:
        result = run_kernel_like(
            "import ollama_nb; ollama_nb.setup(lang='zh'); "
            "print(ollama_nb.MODEL, ollama_nb.EMBED_MODEL, ollama_nb.THINK_MODEL, "
            "ollama_nb.VISION_MODEL, ollama_nb.PRACTICE)",
            {"OLLAMA_HOST": srv.url},
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"正在使用 {srv.url} 上的 Ollama 0.13.0。各项任务使用的模型："
    assert "看图:" in result.stdout and "ollama pull moondream" in result.stdout
    assert lines[-1] == "qwen3:0.6b all-minilm:latest qwen3:0.6b None False"
