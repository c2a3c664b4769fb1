"""Where CPU-heavy steps run, so one request never freezes the room's server.

The event loop answers every learner; a reply that follows a hostile JSON schema (a huge
`minLength`, nested `minItems`) could hold it for seconds, even from a worker thread, because
some of that work runs in C without releasing the GIL. So structured replies run in a
separate worker process, with a time budget and a memory cap: past the budget the worker is
killed and replaced, past the cap it fails with MemoryError; either answers 400. Big
embedding batches go there too (their Python loops would share the GIL with the event loop);
small ones, the notebooks' kind, run on a thread pool without the process's start-up cost.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any

from .validate import ApiError

log = logging.getLogger("ollama_nb.server")

# seconds a structured reply or an embedding batch may take (the fuzz run uses less)
BUDGET = float(os.environ.get("OLLAMA_NB_HEAVY_BUDGET", "20"))
WORKER_MEMORY = 2 << 30  # address space of the structured-reply worker (bytes)

_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="practice-heavy")


def _too_slow() -> ApiError:
    return ApiError(400, f"the practice server gave up on this request after {BUDGET:g} s")


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` on a worker thread within BUDGET seconds."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_THREADS, functools.partial(fn, *args, **kwargs))
    try:
        return await asyncio.wait_for(asyncio.shield(future), BUDGET)
    except asyncio.TimeoutError:
        raise _too_slow() from None


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = WORKER_MEMORY if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):
        pass


class _Worker:
    """One spawned process for structured replies, replaced when it overruns its budget."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.broken = False  # processes cannot be started here: fall back to threads
        self._registered = False
        self.worked = False  # a job has come back from it at least once

    def pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                if not self._registered:
                    atexit.register(shutdown)  # before module teardown, or the pool complains
                    self._registered = True
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_limit_memory,
                )
            return self._pool

    def kill(self, wait: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=wait, cancel_futures=True)


_WORKER = _Worker()


async def in_process(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` (picklable, top-level) in the worker process, within BUDGET seconds."""
    if _WORKER.broken:
        return await in_thread(fn, *args)
    loop = asyncio.get_running_loop()
    try:
        future = loop.run_in_executor(_WORKER.pool(), fn, *args)
    except (OSError, RuntimeError) as exc:
        log.warning("no worker process (%s); structured replies run on a thread", exc)
        _WORKER.broken = True
        return await in_thread(fn, *args)
    try:
        result = await asyncio.wait_for(future, BUDGET)
        _WORKER.worked = True
        return result
    except asyncio.TimeoutError:
        _WORKER.kill()
        raise _too_slow() from None
    except MemoryError:
        raise ApiError(400, "the practice server ran out of memory for this request") from None
    except concurrent.futures.process.BrokenProcessPool:
        _WORKER.kill()
        if not _WORKER.worked:  # it never started (say, __main__ read from stdin): use threads
            log.warning("the worker process did not start; structured replies run on a thread")
            _WORKER.broken = True
            return await in_thread(fn, *args)
        raise ApiError(400, "the practice server's worker stopped on this request") from None


def shutdown() -> None:
    """Stop the worker process (at exit)."""
    _WORKER.kill(wait=True)
