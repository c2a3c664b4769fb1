"""`python -m ollama_nb.server`: run the practice server in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from . import _bind, _fault_plan, _http_server, heavy, is_loopback, workers
from .app import ServerState
from .origins import ENV_VAR, origins_from_env, policy_for
from .serving import raise_fd_limit
from .store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ollama_nb.server",
        description="A deterministic practice stand-in for Ollama (canned answers, no model).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument(
        "--speed",
        type=float,
        default=0,
        help="tokens per second when streaming (0 = as fast as possible)",
    )
    parser.add_argument("--state", default=None, help="keep the model store in this folder")
    parser.add_argument(
        "--teacher", action="store_true", help="serve the teacher's view at /teacher"
    )
    parser.add_argument(
        "--max-learners",
        type=int,
        default=None,
        help="how many learner stores /u/<name>/ may create (default 500)",
    )
    parser.add_argument("--faults", default=None, help="fault injection SPEC (see README)")
    parser.add_argument(
        "--origins",
        default=None,
        help=f"comma-separated browser origins allowed besides Ollama's defaults "
        f"(default: ${ENV_VAR}), e.g. http://myapp.example,https://*.school.example",
    )
    parser.add_argument(
        "--exit-with-parent",
        type=int,
        default=None,
        metavar="PID",
        help="stop when this process ends (used by ollama_nb.setup)",
    )
    parser.add_argument(
        "--pose-as-ollama",
        action="store_true",
        help="no practice marks, only --installed models, pulls limited by --pull-budget",
    )
    parser.add_argument("--installed", default="", help="with --pose-as-ollama: a,b,c")
    parser.add_argument("--pull-budget", default=None, help="with --pose-as-ollama: e.g. 1GB")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes behind the port, each learner always on the same one "
        "(a room of hundreds: one per core)",
    )
    parser.add_argument("--worker-of", default=None, help=argparse.SUPPRESS)  # fd,index,count
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker_of:
        return _worker(args)
    if args.workers < 1 or (args.workers > 1 and not workers.available()):
        print("error: --workers takes 1 or more (more than 1 not on Windows)", file=sys.stderr)
        return 2
    try:
        state = _state(args)
        sockets = _bind(args.host, args.port)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: other machines can reach this practice server. "
            "It has no authentication: anyone who can reach this port can pull, create, copy "
            "and delete models. It refuses only web pages from other origins (as Ollama does).",
            file=sys.stderr,
        )
    if state.faults:
        print("faults:\n" + state.faults.describe(), file=sys.stderr)
    if args.workers > 1:
        return _parent(args, sockets, _without_workers(sys.argv[1:] if argv is None else argv))
    _announce(args, sockets)

    async def serve() -> None:
        server = _http_server(state, **_classroom(args))
        server.add_sockets(sockets)
        while True:
            await asyncio.sleep(1)
            if args.exit_with_parent and not _alive(args.exit_with_parent):
                server.stop()
                return

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        heavy.shutdown()
    return 0


def _announce(args: argparse.Namespace, sockets) -> None:
    port = sockets[0].getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"listening on http://{host}:{port}", flush=True)
    if args.teacher:
        print(f"teacher's view: http://{host}:{port}/teacher", file=sys.stderr)


def _state(args: argparse.Namespace) -> ServerState:
    plan = _fault_plan(args.faults)
    access = policy_for(args.host, origins_from_env(args.origins))
    state = ServerState(Store(args.state), args.speed, plan, access)
    if args.pose_as_ollama:
        from .pose import apply

        apply(state, args.installed, args.pull_budget)
    return state


def _classroom(args: argparse.Namespace, worker: tuple[int, int] = (0, 1)) -> dict:
    classroom = {"state_dir": args.state, "teacher": args.teacher, "worker": worker}
    if args.max_learners is not None:
        classroom["max_learners"] = args.max_learners
    return classroom


def _without_workers(argv: list[str]) -> list[str]:
    """The command line for a worker: the parent's, less --workers (the parent binds)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def _parent(args: argparse.Namespace, sockets, argv: list[str]) -> int:
    """Bind, start the workers, hand each connection to its worker (workers.py)."""
    procs, channels = workers.spawn(argv, args.workers)
    raise_fd_limit()
    _announce(args, sockets)

    async def serve() -> None:
        workers.Dispatcher(sockets, channels).start()
        while all(proc.poll() is None for proc in procs):
            await asyncio.sleep(1)
            if args.exit_with_parent and not _alive(args.exit_with_parent):
                return
        print("error: a worker process ended; stopping", file=sys.stderr)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
    return 0


def _worker(args: argparse.Namespace) -> int:
    """One of --workers: serves the connections the parent passes it."""
    fd, index, count = (int(x) for x in args.worker_of.split(","))
    state = _state(args)

    async def serve() -> None:
        server = _http_server(state, **_classroom(args, (index, count)))
        # tornado's own accept path from here on (TCPServer._handle_connection)
        workers.receive(fd, server._handle_connection)
        while _alive(args.exit_with_parent):
            await asyncio.sleep(1)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        heavy.shutdown()
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    sys.exit(main())
