"""JupyterHub for a workshop: one practice server for the room, a store per learner.

Every learner's notebook server gets `OLLAMA_HOST=<practice server>/u/<their user name>`, so
`ollama.delete(...)` in one notebook never touches another learner's models, and a copy of the
notebooks in their home folder. Start the room's practice server first, then the hub:

    python -m ollama_nb.server --host 0.0.0.0 --port 11434 --speed 30 --state ./room --teacher \
        --workers 2
    OLLAMA_NB_ROOM_URL=http://<this machine>:11434 jupyterhub -f classroom/jupyterhub_config.py

Settings (environment variables, all optional):
  OLLAMA_NB_ROOM_URL      the practice server the learners use (default http://127.0.0.1:11434)
  OLLAMA_NB_ROOM_SHARED   "1" for a real Ollama (or a shared store): no /u/<name> path is added
  OLLAMA_NB_ROOM_HOMES    where SimpleLocalProcessSpawner makes learner homes (default /tmp/room)
  OLLAMA_NB_ROOM_NOTEBOOKS  the notebooks to copy for each learner (default notebooks/en here)
  OLLAMA_NB_ROOM_AUTH     "dummy" (default: any name, the password below) or an authenticator
  OLLAMA_NB_ROOM_PASSWORD the shared password for the dummy authenticator (unset: none)
  OLLAMA_NB_ROOM_SPAWNER  "simple" (default: local processes as the hub's own user), or a
                          spawner class, e.g. "systemdspawner.SystemdSpawner" on The Littlest
                          JupyterHub; on Kubernetes, set the same environment in the chart.

The dummy authenticator lets anyone who reaches the hub in with any name: fine in a closed
classroom network, not on the internet (choose a real authenticator there).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (JupyterHub provides it)

HERE = Path(__file__).resolve().parent
ROOM_URL = os.environ.get("OLLAMA_NB_ROOM_URL", "http://127.0.0.1:11434").rstrip("/")
SHARED = os.environ.get("OLLAMA_NB_ROOM_SHARED") == "1"
HOMES = Path(os.environ.get("OLLAMA_NB_ROOM_HOMES", "/tmp/room"))
NOTEBOOKS = Path(os.environ.get("OLLAMA_NB_ROOM_NOTEBOOKS", HERE.parent / "notebooks" / "en"))


def learner_path(user_name: str) -> str:
    """The practice server's learner name for a hub user: the characters it accepts, at most 64."""
    name = re.sub(r"[^a-z0-9_.@+-]", "-", user_name.lower()).lstrip("_.@+-")
    return (name or "learner")[:64]


def ollama_host(spawner) -> str:
    return ROOM_URL if SHARED else f"{ROOM_URL}/u/{learner_path(spawner.user.name)}"


def copy_notebooks(spawner) -> None:
    """Give the learner the notebooks, once: their own edits survive a restart of their server."""
    home = Path(getattr(spawner, "home_dir", "") or os.path.expanduser(f"~{spawner.user.name}"))
    target = home / "notebooks"
    if NOTEBOOKS.is_dir() and not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(NOTEBOOKS, target)


# -- who gets in -----------------------------------------------------------------------------
auth = os.environ.get("OLLAMA_NB_ROOM_AUTH", "dummy")
c.JupyterHub.authenticator_class = auth
if auth == "dummy":
    if os.environ.get("OLLAMA_NB_ROOM_PASSWORD"):
        c.DummyAuthenticator.password = os.environ["OLLAMA_NB_ROOM_PASSWORD"]
    c.Authenticator.allow_all = True

# -- each learner's notebook server ----------------------------------------------------------
spawner = os.environ.get("OLLAMA_NB_ROOM_SPAWNER", "simple")
c.JupyterHub.spawner_class = spawner
if spawner == "simple":
    c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
    if (
        os.getuid() == 0
    ):  # a hub in a container often runs as root; Jupyter refuses root unless told
        c.Spawner.args = ["--allow-root"]
c.Spawner.environment = {
    "OLLAMA_HOST": ollama_host,
    "OLLAMA_NB_SPEED": "30",
}
c.Spawner.pre_spawn_hook = copy_notebooks
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.Spawner.http_timeout = 120  # a busy classroom machine starts servers slowly
c.Spawner.start_timeout = 120
