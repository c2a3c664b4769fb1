"""classroom/jupyterhub_config.py on this machine: a hub, three learners, one practice server.

JupyterHub (PyPI, the test extra) runs with its proxy, configurable-http-proxy from npm (installed
once into ~/.cache/ollama-notebooks/chp when npm is available), the dummy authenticator and
SimpleLocalProcessSpawner. Through the hub's REST API each learner's server is started and runs a
small notebook in a kernel: every learner sees the models they made and nobody else's.
Skipped, with the reason, when JupyterHub or npm is missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "classroom" / "jupyterhub_config.py"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ollama-notebooks" / "chp"
USERS = ("alice", "bob", "carol")
STARTUP = 240  # seconds: three notebook servers on a busy 2-core machine

NOTEBOOK = [
    "import os, ollama, ollama_nb\nollama_nb.setup()\nprint('host', os.environ['OLLAMA_HOST'])",
    "me = os.environ['JUPYTERHUB_USER']\n"
    "ollama.copy('llama3.1', 'mine-' + me)\n"
    "ollama.delete('nomic-embed-text')\n"
    "print('made', 'mine-' + me)",
    "print('models', sorted(m.model for m in ollama.list().models))",
]


def _proxy() -> str:
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    cached = CACHE / "node_modules" / ".bin" / "configurable-http-proxy"
    if cached.exists():
        return str(cached)
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed, so configurable-http-proxy cannot be installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(CACHE),
            "--no-audit",
            "--no-fund",
            "configurable-http-proxy",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not cached.exists():
        pytest.skip(f"npm could not install configurable-http-proxy: {done.stderr[-300:]}")
    return str(cached)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        pytest.skip("jupyterhub is not installed (pip install -e '.[test]')")
    proxy = _proxy()
    from ollama_nb.server import PracticeServer

    tmp = tmp_path_factory.mktemp("hub")
    token = secrets.token_hex(16)
    port, hub_port, api_port = _free_port(), _free_port(), _free_port()
    bin_dir = Path(sys.executable).parent
    (tmp / "test_config.py").write_text(
        f"""
load_subconfig({str(CONFIG)!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{tmp}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.Spawner.cmd = [{str(bin_dir / "jupyterhub-singleuser")!r}]
c.JupyterHub.services = [{{"name": "room-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "room-test",
    "scopes": ["admin:users", "admin:servers", "access:servers"],
    "services": ["room-test"],
}}]
"""
    )
    with PracticeServer(port=0, teacher=True) as practice:
        env = {
            **os.environ,
            "OLLAMA_NB_ROOM_URL": practice.url,
            "OLLAMA_NB_ROOM_HOMES": str(tmp / "homes"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        log = open(tmp / "hub.log", "w")
        proc = subprocess.Popen(
            [str(bin_dir / "jupyterhub"), "-f", str(tmp / "test_config.py")],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield {
                "url": f"http://127.0.0.1:{port}",
                "token": token,
                "practice": practice,
                "log": tmp / "hub.log",
                "homes": tmp / "homes",
                "proc": proc,
            }
        finally:
            proc.send_signal(signal.SIGTERM)  # the hub stops the learners' servers and its proxy
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            log.close()


def _api(hub, method: str, path: str, **kwargs):
    import httpx

    headers = {"Authorization": f"token {hub['token']}"}
    return httpx.request(method, hub["url"] + path, headers=headers, timeout=30, **kwargs)


def _wait_until(predicate, hub, what: str) -> None:
    import httpx

    deadline = time.time() + STARTUP
    while time.time() < deadline:
        if hub["proc"].poll() is not None:
            break
        try:
            if predicate():
                return
        except (OSError, httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(1)
    log = hub["log"].read_text()[-3000:]
    raise AssertionError(f"{what} did not happen in {STARTUP} s; hub log:\n{log}")


async def _run_cells(hub, user: str, kernel: str, cells: list[str]) -> list[str]:
    """Execute `cells` in the kernel over its websocket (through the hub's proxy)."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = hub["url"].replace("http", "ws", 1) + f"/user/{user}/api/kernels/{kernel}/channels"
    ws = await websocket_connect(
        HTTPRequest(url, headers={"Authorization": f"token {hub['token']}"}, request_timeout=60)
    )
    session = uuid.uuid4().hex
    outputs = []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            header = {
                "msg_id": msg_id,
                "username": user,
                "session": session,
                "msg_type": "execute_request",
                "version": "5.3",
            }
            content = {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            }
            await ws.write_message(
                json.dumps(
                    {
                        "header": header,
                        "parent_header": {},
                        "metadata": {},
                        "content": content,
                        "channel": "shell",
                        "buffers": [],
                    }
                )
            )
            text = []
            while True:
                raw = await asyncio.wait_for(ws.read_message(), 120)
                assert raw is not None, "the kernel's websocket closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "stream":
                    text.append(msg["content"]["text"])
                elif kind == "error":
                    raise AssertionError(f"{user}: {code!r} failed: {msg['content']['evalue']}")
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
            outputs.append("".join(text))
    finally:
        ws.close()
    return outputs


def test_each_learner_on_the_hub_sees_only_their_own_models(hub):
    _wait_until(lambda: _api(hub, "GET", "/hub/api/").status_code == 200, hub, "the hub starting")
    assert _api(hub, "POST", "/hub/api/users", json={"usernames": list(USERS)}).status_code in (
        201,
        409,
    )
    for user in USERS:
        assert _api(hub, "POST", f"/hub/api/users/{user}/server").status_code in (201, 202)
    for user in USERS:
        _wait_until(
            lambda user=user: _api(hub, "GET", f"/hub/api/users/{user}").json()["servers"][""][
                "ready"
            ],
            hub,
            f"{user}'s server starting",
        )

    kernels = {}
    for user in USERS:
        listing = _api(hub, "GET", f"/user/{user}/api/contents/notebooks").json()
        assert "03_models.ipynb" in {item["name"] for item in listing["content"]}
        kernels[user] = _api(hub, "POST", f"/user/{user}/api/kernels", json={}).json()["id"]

    async def everyone(cells):
        return await asyncio.gather(*(_run_cells(hub, u, kernels[u], cells) for u in USERS))

    first = asyncio.run(everyone(NOTEBOOK[:2]))  # setup, then each makes a model
    listed = asyncio.run(everyone(NOTEBOOK[2:]))  # then each lists, after all have made theirs
    practice = hub["practice"]
    for user, (setup_out, made), (models,) in zip(USERS, first, listed):
        assert f"host {practice.url}/u/{user}" in setup_out
        assert f"made mine-{user}" in made
        assert f"'mine-{user}:latest'" in models, models
        for other in USERS:
            if other != user:
                assert f"mine-{other}" not in models, (user, models)
        assert "nomic-embed-text" not in models and "llama3.1:latest" in models
    shared = {m.name for m in practice.store.models.values()}
    assert "nomic-embed-text:latest" in shared and not any(n.startswith("mine-") for n in shared)

    for user in USERS:
        _api(hub, "DELETE", f"/user/{user}/api/kernels/{kernels[user]}")
        _api(hub, "DELETE", f"/hub/api/users/{user}/server")
