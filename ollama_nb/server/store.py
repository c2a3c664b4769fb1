"""The practice server's models: what is installed, what the "registry" offers, what is loaded.

The store changes for real (pull adds, delete removes, copy duplicates, create derives, push
publishes), so the model-management lessons show cause and effect. With a state directory it
survives restarts, as a real Ollama's model folder does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from .catalog import CATALOG, PREINSTALLED, CatalogModel, digest_of
from .names import ModelName, parse_name

INSTALLED_AT = "2026-01-15T09:30:00Z"  # fixed, so stored notebook outputs stay stable
MAX_LOADED = 3  # OLLAMA_MAX_LOADED_MODELS' default on a CPU-only machine
FOREVER = 10**12  # seconds; keep_alive < 0 keeps a model loaded "forever"


@dataclass
class Model:
    """An installed (or published) model: a catalog base plus what `create` layered on it."""

    name: str  # short display name with tag
    base: str  # catalog name whose weights it uses
    modified_at: str = INSTALLED_AT
    system: str = ""
    template: str | None = None
    parameters: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    license: str | list | None = None
    parent: str = ""

    @property
    def info(self) -> CatalogModel:
        return CATALOG[self.base]

    def layers(self) -> list[tuple[str, str, int]]:
        own = []
        for kind, value in (
            ("system", self.system),
            ("template", self.template),
            ("params", self.parameters),
            ("messages", self.messages),
            ("license", self.license),
        ):
            if value:
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                own.append((f"application/vnd.ollama.image.{kind}", digest_of(text), len(text)))
        own_kinds = {kind for kind, _, _ in own}
        return [layer for layer in self.info.layers() if layer[0] not in own_kinds] + own

    @property
    def size(self) -> int:
        return sum(size for _, _, size in self.layers())

    @property
    def digest(self) -> str:
        manifest = json.dumps([digest for _, digest, _ in self.layers()])
        return hashlib.sha256(manifest.encode()).hexdigest()

    @property
    def effective_template(self) -> str:
        return self.template if self.template is not None else self.info.template

    @property
    def effective_parameters(self) -> dict:
        return {**self.info.parameters, **self.parameters}

    @property
    def effective_license(self) -> str | list:
        return self.license if self.license is not None else self.info.license

    def details(self) -> dict:
        info = self.info
        return {
            "parent_model": self.parent,
            "format": "gguf",
            "family": info.family,
            "families": info.families,
            "parameter_size": info.parameter_size,
            "quantization_level": info.quantization_level,
        }


_SECOND: tuple[int, str] = (-1, "")  # the last whole second formatted, reused per chunk


def now_iso(clock: float | None = None) -> str:
    """RFC 3339 with nanoseconds, as Go prints `time.Now()`; cheap enough for every chunk."""
    global _SECOND
    t = time.time() if clock is None else clock
    whole = int(t)
    second, stamp = _SECOND
    if second != whole:
        stamp = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _SECOND = (whole, stamp)
    return f"{stamp}.{int((t - whole) * 1e9):09d}Z"


class Store:
    """Installed models, the pretend registry, blobs and the loaded-model table for `ps`."""

    def __init__(
        self, state_dir: str | os.PathLike | None = None, installed: Iterable[str] = PREINSTALLED
    ) -> None:
        """`installed`: the catalog models a fresh store has (a store read back from
        `state_dir` keeps what it had)."""
        self.state_dir = Path(state_dir) if state_dir else None
        self.models: dict[str, Model] = {n: Model(n, n) for n in installed}
        self.registry: dict[str, Model] = {n: Model(n, n) for n in CATALOG}
        self.blobs: dict[str, int] = {}
        self.loaded: dict[str, tuple[float, Model]] = {}  # name -> (expires at, model)
        self.last_used: dict[str, int] = {}  # name -> order in which requests last used it
        self._uses = itertools.count()
        if self.state_dir:
            self._load()

    # -- names -------------------------------------------------------------------------------
    def resolve(self, text: str) -> tuple[ModelName | None, Model | None]:
        name = parse_name(text)
        return name, (self.models.get(name.short) if name else None)

    # -- changes -----------------------------------------------------------------------------
    def add(self, model: Model) -> None:
        self.models[model.name] = model
        self._save()

    def delete(self, name: str) -> None:
        self.models.pop(name, None)
        self.loaded.pop(name, None)
        self._save()

    def copy(self, source: Model, destination: str) -> Model:
        self.add(replace(source, name=destination, modified_at=now_iso()))
        return self.models[destination]

    def publish(self, model: Model) -> None:
        self.registry[model.name] = replace(model)
        self._save()

    def blob_partial(self):
        """An open temporary file beside the blobs (None without a state folder): uploads are
        written there while hashed, then renamed into place by `add_blob_file`."""
        if not self.state_dir:
            return None
        import tempfile

        blob_dir = self.state_dir / "blobs"
        blob_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=blob_dir, prefix=".partial-", delete=False)

    def add_blob_file(self, digest: str, size: int, path: str | None) -> None:
        """Record a verified upload; its temporary file (if any) takes its final name."""
        if path and self.state_dir:
            os.replace(path, self.state_dir / "blobs" / digest.replace(":", "-"))
        self.blobs[digest] = size
        self._save()

    def add_blob(self, digest: str, data: bytes) -> None:
        self.blobs[digest] = len(data)
        if self.state_dir:
            blob_dir = self.state_dir / "blobs"
            blob_dir.mkdir(parents=True, exist_ok=True)
            (blob_dir / digest.replace(":", "-")).write_bytes(data)
        self._save()

    # -- loaded models (ps) ------------------------------------------------------------------
    def touch(self, model: Model, keep_alive_seconds: float) -> bool:
        """Mark a model used; returns whether it was already loaded (no load time then).

        As Ollama's scheduler does, at most `MAX_LOADED` models stay loaded: loading one more
        unloads the least recently used one.
        """
        now = time.time()
        was_loaded = self.is_loaded(model.name, now)
        if keep_alive_seconds == 0:
            self.loaded.pop(model.name, None)
            self.last_used.pop(model.name, None)
            return was_loaded
        if not was_loaded:
            self.running()  # drop the expired ones first
            others = [n for n in self.loaded if n != model.name]
            while len(others) >= MAX_LOADED:
                oldest = min(others, key=lambda n: self.last_used.get(n, -1))
                others.remove(oldest)
                self.loaded.pop(oldest, None)
                self.last_used.pop(oldest, None)
        seconds = FOREVER if keep_alive_seconds < 0 else keep_alive_seconds
        self.loaded[model.name] = (now + seconds, model)
        self.last_used[model.name] = next(self._uses)
        return was_loaded

    def is_loaded(self, name: str, now: float | None = None) -> bool:
        entry = self.loaded.get(name)
        return bool(entry and entry[0] > (time.time() if now is None else now))

    def running(self) -> list[tuple[float, Model]]:
        now = time.time()
        for name in [n for n, (exp, _) in self.loaded.items() if exp <= now]:
            del self.loaded[name]
        return sorted(self.loaded.values(), key=lambda entry: -entry[0])

    # -- persistence -------------------------------------------------------------------------
    def _state_file(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "store.json"

    def _save(self) -> None:
        if not self.state_dir:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "models": [asdict(m) for m in self.models.values()],
            "registry": [asdict(m) for m in self.registry.values() if m.name not in CATALOG],
            "blobs": self.blobs,
        }
        # serialized first, ASCII-only (any string can be written), then temp file + rename:
        # a failure leaves the previous store.json whole and cannot block later saves
        text = json.dumps(state, ensure_ascii=True, indent=1)
        tmp = self._state_file().with_name(f"store.json.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._state_file())

    def _load(self) -> None:
        path = self._state_file()
        if not path.exists():
            return
        state = json.loads(path.read_text(encoding="utf-8"))
        self.models = {m["name"]: Model(**m) for m in state.get("models", [])}
        self.registry.update({m["name"]: Model(**m) for m in state.get("registry", [])})
        self.blobs = dict(state.get("blobs", {}))
