"""The practice server posing as a learner's real Ollama, for the real-mode notebook runs.

Every notebook must run on a learner's own Ollama with only small models installed, and
never download gigabytes unasked. A real Ollama cannot run in CI, so the practice server
poses as one: no `X-Ollama-Practice` header, no `[practice server]` labels in replies (the
server's marks policy, marks.py), only the chosen models installed in every store (the
default one and each learner's), and one pull budget for all of them. A pull (or a create
from a model that is not installed) that would take the downloads past the budget fails
loudly with `POSE_REFUSED` in the error text, and is counted, so a test can see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .app import ServerState
from .catalog import CATALOG
from .marks import POSING
from .names import parse_name
from .store import Model
from .validate import ApiError

POSE_REFUSED = "pull budget exceeded"
_UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


@dataclass
class Pose:
    """What the posing server allows: the pull budget (bytes) and what it has spent."""

    budget: int | None = None  # None: no limit
    spent: int = 0
    refused: list[str] = field(default_factory=list)  # "name (size)" of each refused pull
    pulled: list[str] = field(default_factory=list)  # names of the downloads made

    def charge(self, name: str, size: int) -> None:
        """Count a download of `size` bytes; past the budget, refuse it loudly."""
        if self.budget is not None and self.spent + size > self.budget:
            self.refused.append(f"{name} ({size} bytes)")
            raise ApiError(
                500,
                f"{POSE_REFUSED}: pulling {name} needs {size / 1e9:.2f} GB, "
                f"the budget has {(self.budget - self.spent) / 1e9:.2f} GB left",
            )
        self.spent += size
        if size:  # pulling what is already there only checks for updates
            self.pulled.append(name)


def parse_size(text: str) -> int:
    """'1GB', '500 MB', '0' -> bytes."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?B?)\s*", text.upper())
    if not match:
        raise ValueError(f"not a size: {text!r} (try 1GB or 500MB)")
    unit = match[2] if match[2].endswith("B") else match[2] + "B"
    return int(float(match[1]) * _UNITS[unit])


def canonical(name: str) -> str:
    parsed = parse_name(name)
    if parsed is None or parsed.short not in CATALOG:
        known = ", ".join(sorted(CATALOG))
        raise ValueError(f"{name!r} is not in the practice catalog ({known})")
    return parsed.short


def apply(state: ServerState, installed: list[str] | str | None, budget: int | str | None) -> Pose:
    """Make `state`'s server pose as a real Ollama with exactly `installed` models."""
    if isinstance(installed, str):
        installed = [n for n in installed.split(",") if n.strip()]
    if isinstance(budget, str):
        budget = parse_size(budget)
    names = tuple(canonical(n.strip()) for n in installed or [])
    state.store.models = {n: Model(n, n) for n in names}
    state.installed = names  # learners' stores (learners.py) start the same
    state.marks = POSING  # no practice headers or labels anywhere (marks.py)
    state.pose = Pose(budget)  # shared by every learner's state: one budget for the server
    return state.pose


def current(state: ServerState) -> Pose | None:
    return getattr(state, "pose", None)


def charge(state: ServerState, model: Model, have: set[str] | None = None) -> None:
    """Before a pull: count the bytes of layers not already present against the budget."""
    pose = current(state)
    if pose is None:
        return
    size = sum(size for _, digest, size in model.layers() if digest not in (have or set()))
    pose.charge(model.name, size)
