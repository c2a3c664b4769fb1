"""The practice server posing as a real Ollama: no marks, chosen models, a loud pull budget."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.server.pose import POSE_REFUSED, parse_size


@pytest.fixture
def posing():
    with PracticeServer(
        pose_as_ollama=True, installed="qwen3:0.6b,all-minilm", pull_budget="1GB"
    ) as srv:
        yield srv


def test_no_practice_marks(posing):
    with urllib.request.urlopen(f"{posing.url}/api/version") as response:
        assert response.headers.get("X-Ollama-Practice") is None
        assert b"practice" not in response.read()
    client = ollama.Client(host=posing.url)
    reply = client.chat(
        model="qwen3:0.6b", messages=[{"role": "user", "content": "Why is the sky blue?"}]
    )
    assert reply.message.content and "practice server" not in reply.message.content
    zh = client.generate(model="qwen3:0.6b", prompt="为什么天空是蓝色的？", think=False)
    assert zh.response and not zh.response.startswith("【练习服务器】")


def test_only_the_chosen_models_are_installed(posing):
    names = sorted(m.model for m in ollama.Client(host=posing.url).list().models)
    assert names == ["all-minilm:latest", "qwen3:0.6b"]
    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=posing.url).chat(model="llama3.1", messages=[])
    assert info.value.status_code == 404


def test_pulls_past_the_budget_fail_loudly_and_are_counted(posing):
    client = ollama.Client(host=posing.url)
    client.pull("gemma3:270m")  # 292 MB: within the budget
    with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
        client.pull("llama3.1")  # 4.9 GB
    with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
        client.create(model="mario", from_="llava")
    assert posing.pose.pulled == ["gemma3:270m"]
    assert [r.split()[0] for r in posing.pose.refused] == ["llama3.1:latest", "llava:latest"]
    assert "llama3.1:latest" not in {m.model for m in client.list().models}


def test_sizes_parse():
    assert parse_size("1GB") == 10**9 and parse_size("500 mb") == 5 * 10**8
    assert parse_size("0") == 0
    with pytest.raises(ValueError):
        parse_size("lots")


def test_command_line_pose():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            "0",
            "--pose-as-ollama",
            "--installed",
            "llama3.2:1b",
            "--pull-budget",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        client = ollama.Client(host=url)
        assert [m.model for m in client.list().models] == ["llama3.2:1b"]
        with pytest.raises(ollama.ResponseError, match=POSE_REFUSED):
            client.pull("all-minilm")
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "ollama_nb.server",
            "--port",
            "0",
            "--pose-as-ollama",
            "--installed",
            "no-such-model",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "not in the practice catalog" in bad.stderr
