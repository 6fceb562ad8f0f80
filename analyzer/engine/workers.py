"""Run the tasks on every core: forked worker processes, fed a few tasks ahead, outputs in task order.

Imports `engine.plan`, `task`, `keybroker`, `cluster` and `processes`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from analyzer.config import Settings
from analyzer.engine.cluster import run_dask
from analyzer.engine.keybroker import KeyBroker
from analyzer.engine.plan import WorkUnit, bundle, schedule
from analyzer.engine.processes import init_child, quiet_collector, release_freed_memory, use_memory_pool
from analyzer.engine.task import UnitOutput, WorkerContext, scan_task
from analyzer.tokens.keys import KeyRing
from analyzer.tokens.shared import SharedVerdicts

_context: WorkerContext | None = None  # in a pool's worker process: set once by `_init_worker`


def _init_worker(settings: Settings, ring: KeyRing, sink: tuple[Path, str] | None = None,
                 broker: KeyBroker | None = None) -> None:
    """Pool initializer of a forked worker process: its context, for every task it runs."""
    global _context
    init_child()
    use_memory_pool()  # inherited when forked, not when spawned
    if broker is not None:
        broker.attach(ring)
    _context = WorkerContext(settings, ring, sink)


def _scan_in_worker(task: list[WorkUnit]) -> list[UnitOutput]:
    """scan_task in a pool's worker process, with the context its initializer made."""
    assert _context is not None, "a pool worker without _init_worker"
    try:
        return scan_task(task, _context)
    finally:
        release_freed_memory()


def run_units(units: list[WorkUnit], settings: Settings, ring: KeyRing, workers: int,
              token: str = "run", sink: tuple[Path, str] | None = None) -> Iterator[UnitOutput]:
    """Outputs of all units, in `schedule` order (small files bundled into tasks); in this process when
    one worker (or one task) suffices.

    With a `sink` (staging directory, run id), local workers write their rows themselves.
    """
    tasks = bundle(schedule(units))
    with quiet_collector():  # entered before forking: the workers inherit it
        yield from _run_tasks(tasks, settings, ring, workers, token, sink)


def _run_tasks(tasks: list[list[WorkUnit]], settings: Settings, ring: KeyRing, workers: int, token: str,
               sink: tuple[Path, str] | None) -> Iterator[UnitOutput]:
    """run_units' tasks, here, on forked workers or on a Dask cluster."""
    if settings.engine == "dask":  # remote workers may not see the output directory: the parent writes
        yield from run_dask(tasks, settings, ring, workers, token)
        return
    if workers <= 1 or len(tasks) <= 1:
        here = WorkerContext(settings, ring, sink)
        for task in tasks:
            yield from scan_task(task, here)
            release_freed_memory()
        return
    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    # Results the parent has not taken yet wait in its memory: feed the pool only a few tasks ahead
    # of what the parent has consumed, so memory stays flat however large the input is.
    room = threading.Semaphore(workers * 2)
    stopped = threading.Event()

    def feed() -> Iterator[list[WorkUnit]]:
        for task in tasks:
            room.acquire()
            if stopped.is_set():
                return
            yield task

    # Workers cannot fetch; with a provider to ask, the parent refreshes on their kid misses.
    broker = KeyBroker(ring, workers) if ring.refresher is not None and os.name == "posix" else None
    if os.name == "posix":
        ring.shared = SharedVerdicts()  # the forked workers inherit it
    try:
        with ctx.Pool(processes=workers, initializer=_init_worker, initargs=(settings, ring, sink, broker)) as pool:
            try:
                for outputs in pool.imap(_scan_in_worker, feed(), chunksize=1):
                    room.release()
                    yield from outputs
            finally:
                # Ended early too (a task's error, an interrupt, a consumer that stops): the pool's
                # feeder thread may be waiting for room, and the pool's terminate waits for that
                # thread, so it hangs unless the feeder is woken and told to stop.
                stopped.set()
                room.release()
    finally:
        ring.shared = None
        if broker is not None:
            broker.close()
