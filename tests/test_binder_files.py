"""binder/: the same environment as ../environment.yml, and a start script that serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_binder_environment_is_the_projects_without_the_editable_install():
    project = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())

    def without_editable(env: dict) -> list:
        return [
            {"pip": [r for r in item["pip"] if not r.startswith("-e")]}
            if isinstance(item, dict)
            else item
            for item in env["dependencies"]
        ]

    assert without_editable(binder) == without_editable(project)
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


def test_binder_start_launches_the_practice_server_then_runs_the_command(tmp_path):
    """`binder/start CMD` serves on 127.0.0.1:11435 and runs CMD (here: a probe of that port)."""
    probe = (
        "import time, urllib.request\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        print(urllib.request.urlopen('http://127.0.0.1:11435/api/version').read().decode())\n"
        "        break\n"
        "    except OSError:\n"
        "        time.sleep(0.2)\n"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    try:
        urllib.request.urlopen("http://127.0.0.1:11435/api/version", timeout=1)
        import pytest

        pytest.skip("port 11435 is already taken on this machine")
    except OSError:
        pass
    done = subprocess.run(
        ["bash", str(ROOT / "binder" / "start"), sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    try:
        assert '"practice": true' in done.stdout, done.stdout + done.stderr
    finally:
        pid_file = tmp_path / ".ollama-practice.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 15)
            time.sleep(0.2)
