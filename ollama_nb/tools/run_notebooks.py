"""Build the Chinese edition, then re-execute the notebooks and store their outputs:
``make notebooks``.

``python -m ollama_nb.tools.run_notebooks [paths...]`` (default: ``notebooks/en`` then
``notebooks/zh``). First ``ollama_nb.tools.editions.build`` writes ``notebooks/zh`` from the
English notebooks and ``notebooks/zh-src`` and refreshes both editions' navigation cells
(``--no-build`` skips that).

The stored outputs are what nbval compares in ``make test``, so this runs the notebooks the
way that run does:

* one fresh practice server (``speed=0``) for the whole run, shared by the notebooks in
  alphabetical order, reached through ``OLLAMA_HOST`` in each kernel's environment, with the
  same environment changes as the root ``conftest.py``;
* a fresh kernel per notebook, in this interpreter (as ``--nbval-current-env``), started in
  the notebook's folder.

A cell may raise only if it is tagged ``raises-exception`` (which nbval honours too); any
other error stops the run without writing that notebook. Widget state and timing metadata are
not stored, so a re-run changes a notebook only where its outputs changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import nbformat

EDITIONS_ROOT = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}


def find_notebooks(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The notebooks named, or found directly inside the folders named, sorted by name."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.ipynb") if not p.name.startswith(".")))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"not a notebook or a folder of notebooks: {path}")
    return sorted(dict.fromkeys(found), key=lambda p: (str(p.parent), p.name))


def kernel_env(host: str) -> dict[str, str]:
    """The kernel's environment: what the root conftest.py gives nbval's kernels.

    No MPLBACKEND: kernels use the inline backend, so stored notebooks show their figures.
    """
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env["OLLAMA_HOST"] = host
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    for name in ("OLLAMA_API_KEY", "OLLAMA_NB_MODEL", "OLLAMA_NB_EMBED_MODEL", "PYTHONEXECUTABLE"):
        env.pop(name, None)
    return env


@contextmanager
def practice_server() -> Iterator[str]:
    from ollama_nb.server import PracticeServer

    with PracticeServer(port=0, speed=0) as server:
        yield server.url


def _kernel_manager():
    """An async kernel manager for a python kernel in this interpreter, as nbval's
    ``--nbval-current-env`` kernel (the notebooks' own kernelspec is not consulted)."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(
                resource_dir=ipykernel.kernelspec.RESOURCES,
                **ipykernel.kernelspec.get_kernel_dict(),
            )

    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentEnvSpecs())


def execute(path: Path, host: str, timeout: float = 120) -> nbformat.NotebookNode:
    """Run the notebook at `path` top to bottom in a fresh kernel; returns it with outputs."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    folder = str(path.parent.resolve())
    client = NotebookClient(
        nb,
        km=_kernel_manager(),
        timeout=timeout,
        startup_timeout=60,
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": folder}},
    )
    client.execute(env=kernel_env(host), cwd=folder)
    return tidy(nb)


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only what belongs in the committed notebook."""
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    info = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {
        key: info[key] for key in ("name", "mimetype", "file_extension") if key in info
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    return nb


def show_learner_address(nb: nbformat.NotebookNode, run_url: str) -> nbformat.NotebookNode:
    """Outputs name the address a learner's `make lab` practice server has, not this run's.

    The run's server listens on a free port that changes every run; stored outputs that show
    it would show a port that is wrong until the learner re-runs the cell.
    """
    from ollama_nb.connection import DEFAULT_HOST, fallback_port

    shown = f"http://127.0.0.1:{fallback_port(DEFAULT_HOST)}"
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if isinstance(output.get("text"), str):
                output["text"] = output["text"].replace(run_url, shown)
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    output["data"][mime] = value.replace(run_url, shown)
    return nb


def coalesce_streams(outputs: list) -> list:
    """Join consecutive stream outputs of one name, as a notebook front end shows them.

    A streamed reply printed token by token arrives as hundreds of stream messages; nbval
    joins them before comparing, so storing them joined changes nothing it checks.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ollama_nb.tools.run_notebooks",
        description="Re-execute notebooks against a fresh practice server and store the outputs.",
    )
    parser.add_argument("paths", nargs="*", default=[EDITIONS_ROOT / "en", EDITIONS_ROOT / "zh"])
    parser.add_argument("--timeout", type=float, default=120, help="seconds per cell")
    parser.add_argument(
        "--no-build", action="store_true", help="do not build notebooks/zh before running"
    )
    args = parser.parse_args(argv)

    if not args.no_build:
        from ollama_nb.tools import editions

        for path in editions.build():
            print(f"built {path}")
        stale = editions.stale_translations()
        if stale:
            print(
                f"{len(stale)} cells need translating or re-checking "
                "(python -m ollama_nb.tools.editions check)",
                file=sys.stderr,
            )

    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    total = time.perf_counter()
    with practice_server() as host:
        for path in notebooks:
            start = time.perf_counter()
            try:
                nb = execute(path, host, args.timeout)
            except Exception as exc:  # report which notebook failed, then stop
                print(f"FAILED {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            nbformat.validate(nb)
            nbformat.write(show_learner_address(nb, host), path)
            print(f"{path}  {time.perf_counter() - start:5.1f} s", flush=True)
    print(f"{len(notebooks)} notebooks in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
