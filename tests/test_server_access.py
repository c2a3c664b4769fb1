"""Origins and Host names as Ollama checks them, and the connection-level limits (issue 13).

Before: a page at any origin could copy, create and pull (200); a foreign Host passed; an
OPTIONS preflight got 405; a 70 KB header block was dropped without an answer; with file
descriptors exhausted the accept loop spun and logged megabytes of tracebacks a second.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time

import httpx
import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.server.origins import AccessPolicy, default_origins, policy_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def srv():
    with PracticeServer(port=0, origins=["https://notes.example", "https://*.school.example"]) as s:
        yield s


def test_foreign_origin_is_refused_before_the_handler(srv):
    before = {m.model for m in ollama.Client(host=srv.url).list().models}
    for method, path, body in [
        ("POST", "/api/copy", {"source": "llama3.1", "destination": "evil"}),
        ("POST", "/api/pull", {"model": "qwen3:0.6b", "stream": False}),
        ("POST", "/api/create", {"model": "evil2", "from": "llama3.1", "system": "x"}),
        ("DELETE", "/api/delete", {"model": "llama3.1"}),
        ("GET", "/api/tags", None),
    ]:
        r = httpx.request(
            method,
            srv.url + path,
            json=body,
            headers={"Origin": "http://evil.example"},
            timeout=5,
        )
        assert (r.status_code, r.content) == (403, b""), path
        assert "Access-Control-Allow-Origin" not in r.headers
    assert {m.model for m in ollama.Client(host=srv.url).list().models} == before


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:8888",
        "https://127.0.0.1:3000",
        "http://0.0.0.0:80",
        "app://obsidian.md",
        "file://",
        "vscode-webview://abc",
        "chrome-extension://abcdef",
        "https://notes.example",
        "https://lab.school.example",
    ],
)
def test_allowed_origins_get_cors_headers(srv, origin):
    r = httpx.get(srv.url + "/api/version", headers={"Origin": origin}, timeout=5)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == origin
    pre = httpx.request(
        "OPTIONS",
        srv.url + "/api/chat",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    "origin", ["http://localhost.evil.example", "null", "https://school.example", "http://1.2.3.4"]
)
def test_lookalike_origins_are_refused(srv, origin):
    r = httpx.request("OPTIONS", srv.url + "/api/chat", headers={"Origin": origin}, timeout=5)
    assert r.status_code == 403


def test_host_check_on_loopback(srv):
    for host in ["evil.example", "attacker.com:11434", "[::1", "127.0.0.1.nip.io"]:
        r = httpx.get(srv.url + "/api/tags", headers={"Host": host}, timeout=5)
        assert r.status_code == 403, host
    for host in ["localhost:11434", "127.0.0.1", "box.local", "lab.internal", "10.1.2.3:80", ""]:
        r = httpx.get(srv.url + "/api/version", headers={"Host": host}, timeout=5)
        assert r.status_code == 200, host


def test_no_host_check_when_bound_beyond_loopback():
    assert not policy_for("0.0.0.0", []).check_host
    assert policy_for("127.0.0.1", []).check_host
    assert policy_for("0.0.0.0", []).host_allowed("anything.example")
    wide = AccessPolicy(default_origins(["*"]))
    assert wide.origin_allowed("http://evil.example")


def test_clients_without_origin_keep_working(srv):
    client = ollama.Client(host=srv.url)
    assert client.chat(model="llama3.1", messages=[{"role": "user", "content": "hi"}]).message
    assert client.show("llama3.1").capabilities


def test_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_ORIGINS", "https://a.example, https://b.example")
    with PracticeServer(port=0) as s:
        ok = httpx.get(s.url + "/api/version", headers={"Origin": "https://b.example"}, timeout=5)
        bad = httpx.get(s.url + "/api/version", headers={"Origin": "https://c.example"}, timeout=5)
    assert (ok.status_code, bad.status_code) == (200, 403)


def _raw(srv, data: bytes, read: int = 4096) -> bytes:
    host, port = srv.url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        chunks = b""
        try:
            while len(chunks) < read:
                got = s.recv(read)
                if not got:
                    break
                chunks += got
        except OSError:
            pass
        return chunks


def test_header_block_limits(srv):
    big = b"GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    assert _raw(srv, big).startswith(b"HTTP/1.1 200")  # Go accepts up to 1 MB
    huge = b"GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 2_000_000
    answer = _raw(srv, huge + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    assert httpx.get(srv.url + "/api/version", timeout=5).status_code == 200


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and rlimits")
def test_exhausted_file_descriptors_back_off_and_recover(tmp_path):
    """Before: 86% CPU and 1.8 MB/s of tracebacks while full, with the hard limit at 256."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    log = open(tmp_path / "stderr", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ollama_nb.server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        preexec_fn=limit,
    )
    sockets = []
    try:
        url = proc.stdout.readline().split()[-1]
        host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
        for _ in range(200):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sockets.append(s)
        time.sleep(1)
        cpu0 = _cpu_seconds(proc.pid)
        time.sleep(2)
        used = _cpu_seconds(proc.pid) - cpu0
        for s in sockets:
            s.close()
        sockets = []
        time.sleep(1.2)  # the longest back-off
        assert httpx.get(url + "/api/version", timeout=5).status_code == 200
        assert used < 0.5, f"{used:.2f} s of CPU in 2 s while out of file descriptors"
        assert os.path.getsize(tmp_path / "stderr") < 2000
    finally:
        for s in sockets:
            s.close()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_soft_fd_limit_is_raised_at_start():
    from ollama_nb.server.serving import raise_fd_limit

    soft, hard = raise_fd_limit()
    assert soft == hard or hard == resource.RLIM_INFINITY
