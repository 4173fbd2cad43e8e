"""What runs inside a worker: one grid point, timed, with failures caught and returned as text
in its `Outcome` (the record the store writes as it is).

A run that wants to keep files (weights, figures) asks `artifact_dir()` for its own folder in the
store's artifacts folder.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..store import Outcome

_ARTIFACT: str | None = None
_ASKED = False  # whether the current run asked for its artifact folder
_DEVICE: str | None = None


def artifact_dir() -> Path | None:
    """Folder for the current run's files (created on first use); None when not in a stored sweep."""
    global _ASKED
    if _ARTIFACT is None:
        return None
    _ASKED = True
    path = Path(_ARTIFACT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def worker_device() -> str:
    """The device this worker should use: its own GPU when the sweep handed one out, else `auto`."""
    return _DEVICE or "auto"


def _exit_with_parent(parent: int) -> None:
    """Watchdog: a worker whose sweep process died (kill -9 included) stops instead of lingering."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="superpose-parent-watch").start()


def die_with_parent(parent: int) -> None:
    """Make this worker die with its sweep process `parent` (its PID, passed from the parent).

    On Linux the kernel kills it when the parent dies (prctl PR_SET_PDEATHSIG); the parent may
    have died before that took effect, so the parent is then checked to be the one expected (an
    orphan has been re-parented). The watchdog thread covers systems without prctl.
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    _exit_with_parent(parent)


def init_pool_worker(counter: Any, n_gpus: int, parent: int | None = None) -> None:
    """Pool initializer: dies with its parent process; one torch thread per worker; with GPUs,
    worker i sees GPU i mod n only."""
    import signal

    die_with_parent(os.getppid() if parent is None else parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    if n_gpus > 0:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(index % n_gpus)
    _one_thread()


def _one_thread() -> None:
    """PyTorch on one thread: now if it is loaded, else when it loads (it reads OMP_NUM_THREADS);
    a grid function that never uses PyTorch does not wait for it to import."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@functools.cache
def _host() -> str:
    return socket.gethostname()


@functools.cache
def _worker(pid: int) -> str:
    """The `worker` of this process's runs: host:pid."""
    return f"{_host()}:{pid}"


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@contextlib.contextmanager
def spawn_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` spawned processes, one PyTorch thread each, that die with this one
    (kill -9 included). Leaving the block by an error or Ctrl-C terminates the workers instead of
    waiting for their tasks."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    counter = ctx.Value("i", 0)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=init_pool_worker,
        initargs=(counter, gpu_count(), os.getpid()),
    )
    clean = False
    try:
        yield pool
        clean = True
    finally:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=clean, cancel_futures=True)
        if not clean:  # Ctrl-C or an error: do not leave workers running
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)


def execute(
    fn: Callable[[dict[str, Any]], dict[str, Any]],
    payload: dict[str, Any],
    artifact: str | None,
    single_thread: bool = False,
    device: str | None = None,
) -> Outcome:
    """Run `fn(payload)`: its outcome (metrics or error text, start/finish times, the worker)."""
    global _ARTIFACT, _ASKED, _DEVICE
    if single_thread:
        _one_thread()
    _ARTIFACT, _ASKED = artifact or None, False
    _DEVICE = device
    started = time.time()
    metrics, error = None, None
    try:
        metrics = fn(payload)
        if not isinstance(metrics, dict):
            raise TypeError(f"grid function returned {type(metrics).__name__}, expected a dict")
    except Exception as err:
        tb = traceback.format_exc(limit=-3)
        metrics, error = None, f"{type(err).__name__}: {err}\n{tb}"
    finally:
        _ARTIFACT = None
        _DEVICE = None
    kept = _ASKED and artifact is not None and os.path.exists(artifact)  # no stat for runs without
    return Outcome(
        status="ok" if error is None else "error",
        metrics=metrics,
        error=error,
        started=started,
        finished=time.time(),
        worker=_worker(os.getpid()),
        artifact=artifact if kept else None,
    )


def execute_batch(
    fn: Callable[[dict[str, Any]], dict[str, Any]],
    jobs: list[tuple[str, dict[str, Any], str | None]],
) -> list[Outcome]:
    """`execute` on each (key, payload, artifact folder) of a batch, in a pool worker."""
    return [execute(fn, payload, art, True) for _, payload, art in jobs]
