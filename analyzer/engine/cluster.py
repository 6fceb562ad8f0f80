"""The same tasks on a Dask cluster (`--engine dask`): an existing scheduler, or a LocalCluster.

Imports `engine.plan` and `engine.task`. Remote workers may not see the output directory: the parent writes
their rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.config import Settings
from analyzer.engine.plan import WorkUnit
from analyzer.engine.task import UnitOutput, WorkerContext, scan_task
from analyzer.errors import ConfigError
from analyzer.tokens.keys import KeyRing

_contexts: dict[str, WorkerContext] = {}  # per Dask worker process: the context of the run it works for


def _scan_remote(task: list[WorkUnit], settings: Settings, ring: KeyRing, token: str) -> list[UnitOutput]:
    """scan_task on a Dask worker: the context is made once per run (`token`) and process."""
    ctx = _contexts.get(token)
    if ctx is None:
        _contexts.clear()  # a worker that served an earlier run: its context goes
        ctx = _contexts[token] = WorkerContext(settings, ring)
    return scan_task(task, ctx)


def run_dask(tasks: list[list[WorkUnit]], settings: Settings, ring: KeyRing, workers: int,
             token: str) -> Iterator[UnitOutput]:
    """The same units on a Dask cluster: an existing scheduler, or a LocalCluster of `workers` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--engine dask needs Dask: pip install 'analyzer[dask]'") from None
    cluster = None
    if settings.scheduler:
        client = Client(settings.scheduler, timeout="30s")
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
