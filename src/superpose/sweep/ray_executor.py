"""Ray executor (optional extra `superpose[ray]`): the same jobs on a local or remote Ray cluster.

Connects to the cluster named by RAY_ADDRESS when set, else starts a local Ray instance (and stops
it afterwards). At most `workers` runs are in flight; each gets one CPU, and one GPU when the
cluster has GPUs (Ray then sets CUDA_VISIBLE_DEVICES for the task, so `auto` picks that GPU).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..base.errors import SuperposeError
from ..store import Outcome
from .worker import execute

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def check_address(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, in one line, when RAY_ADDRESS names a cluster that cannot be reached
    (ray.init would otherwise retry for minutes with log spam). A Ray head (GCS or Ray Client)
    is a gRPC server: it must accept the connection and answer an HTTP/2 preface with its
    SETTINGS frame (a bare TCP accept, as from a proxy, is not enough)."""
    if address.strip() in ("", "auto", "local"):
        return
    host, _, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SuperposeError(f"RAY_ADDRESS={address!r}: expected host:port or ray://host:port")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(H2_PREFACE)
            head = conn.recv(9)
        answered = len(head) == 9 and head[3] == 0x04  # a SETTINGS frame
        why = "no gRPC answer"
    except OSError as err:
        answered, why = False, err.strerror or str(err) or "timed out"
    if not answered:
        raise SuperposeError(
            f"RAY_ADDRESS={address!r}: cannot reach a Ray cluster there ({why}); "
            "unset RAY_ADDRESS to start a local Ray"
        )


def run_ray(
    fn: Callable[[dict[str, Any]], Any],
    jobs: list[tuple[str, dict[str, Any], str | None]],
    workers: int,
) -> Iterator[tuple[str, Outcome]]:
    check_address(os.environ.get("RAY_ADDRESS", ""))
    try:
        import ray
    except ImportError:
        raise SuperposeError(
            "executor 'ray' needs Ray: pip install 'superpose[ray]' (or use --executor local)"
        ) from None
    started_here = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if not address:  # a local instance: workers import what this process can import
            kwargs["num_cpus"] = workers
            path = os.pathsep.join(p for p in sys.path if p)
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}}
        ray.init(address=address, **kwargs)
        started_here = True
    pending: dict[Any, str] = {}
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=0)(execute)
        fn_ref = ray.put(fn)
        queue = list(reversed(jobs))
        while queue or pending:
            while queue and len(pending) < workers:
                key, payload, art = queue.pop()
                pending[remote.remote(fn_ref, payload, art, True)] = key
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                key = pending.pop(ref)
                try:
                    res = ray.get(ref)
                except ray.exceptions.RayError as err:  # the task could not run at all
                    now = time.time()
                    msg = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
                    res = Outcome(
                        status="error", error=f"Ray: {msg}", started=now, finished=now, worker="ray"
                    )
                yield key, res
    finally:
        for ref in pending:  # stopped early (Ctrl-C, error): drop what is still running
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
