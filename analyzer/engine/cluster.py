"""The same tasks on a Dask cluster (`--engine dask`): an existing scheduler, or a LocalCluster.

Imports `engine.plan` and `engine.task`. Remote workers may not see the output directory: the parent writes
their rows.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from analyzer.config import Settings
from analyzer.engine.plan import WorkUnit
from analyzer.engine.task import UnitOutput, WorkerContext, scan_task
from analyzer.errors import ConfigError
from analyzer.tokens.keys import KeyRing

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # Dask's protocols that reach another machine
_REACH_SECONDS = 10.0

_contexts: dict[str, WorkerContext] = {}  # per Dask worker process: the context of the run it works for


def _scan_remote(task: list[WorkUnit], settings: Settings, ring: KeyRing, token: str) -> list[UnitOutput]:
    """scan_task on a Dask worker: the context is made once per run (`token`) and process."""
    ctx = _contexts.get(token)
    if ctx is None:
        _contexts.clear()  # a worker that served an earlier run: its context goes
        ctx = _contexts[token] = WorkerContext(settings, ring)
    return scan_task(task, ctx)


def scheduler_endpoint(address: str) -> tuple[str, str, int]:
    """(protocol, host, port) of a Dask scheduler address (`tcp://host:8786`, or `host:8786`); ConfigError
    saying what is wrong otherwise: Dask's own parser raises a bare ValueError, or waits 30 s for a host
    it cannot name."""
    usage = "use tcp://HOST:PORT (or tls://, ws://, wss://, ucx://)"
    scheme, sep, rest = address.strip().partition("://")
    if not sep:
        scheme, rest = "tcp", address.strip()
    if scheme not in SCHEDULER_SCHEMES:
        raise ConfigError(f"--scheduler {address!r}: unknown protocol {scheme!r}; {usage}")
    parts = urlsplit(f"//{rest}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path or parts.query or any(c.isspace() for c in rest):
        raise ConfigError(f"--scheduler {address!r} is not a scheduler address: {usage}")
    return scheme, parts.hostname, port


def check_scheduler(address: str) -> None:
    """Refuse, before a run starts, a scheduler address that is not one or that nothing answers at.

    A TCP connection says it in a moment (a refused port, a name that does not resolve) where the Dask
    client would retry for 30 s and then say `OSError`. UCX is not probed: it is not plain TCP.
    """
    scheme, host, port = scheduler_endpoint(address)
    if scheme == "ucx":
        return
    try:
        socket.create_connection((host, port), timeout=_REACH_SECONDS).close()
    except OSError as e:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {e.strerror or e}") from None


def run_dask(tasks: list[list[WorkUnit]], settings: Settings, ring: KeyRing, workers: int,
             token: str) -> Iterator[UnitOutput]:
    """The same units on a Dask cluster: an existing scheduler, or a LocalCluster of `workers` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--engine dask needs Dask: pip install 'analyzer[dask]'") from None
    cluster = None
    if settings.scheduler:
        try:
            client = Client(settings.scheduler, timeout="30s")
        except (OSError, ValueError) as e:  # it went away since `check_scheduler`, or it is no Dask scheduler
            raise ConfigError(f"cannot reach the Dask scheduler at {settings.scheduler}: {e}") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        s_future = client.scatter(settings, broadcast=True)
        r_future = client.scatter(ring, broadcast=True)
        futures = client.map(_scan_remote, tasks, settings=s_future, ring=r_future, token=token, pure=False)
        for fut in futures:  # in task order, whatever order they finish in
            yield from fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
