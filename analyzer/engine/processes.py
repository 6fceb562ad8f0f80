"""Process plumbing shared by every forked helper: the Arrow memory pool, the inherited lock, dying with the
parent; and the run's handling of Ctrl-C and SIGTERM.

Imports only `outputs.state` (to let go of the output directory's lock in a child) and the base `errors`.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from analyzer.errors import AnalyzerError, ExitCode
from analyzer.outputs.state import release_inherited_locks


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron's or systemd's timeout, `kill`), raised in the main thread as Ctrl-C is, so that the
    same cleanup runs (the workers stopped, the staging area removed)."""


class TerminatedError(AnalyzerError):
    """What a SIGTERM becomes once the run has cleaned up: one line and exit 143 (128 + SIGTERM)."""

    exit_code = ExitCode.TERMINATED

    def __init__(self, out_dir: str) -> None:
        super().__init__(out_dir)
        self.out_dir = out_dir

    def __str__(self) -> str:
        return f"terminated (SIGTERM); {self.out_dir} keeps its last complete run"


class Signals:
    """Ctrl-C and SIGTERM during a run: raised at once in the main thread (KeyboardInterrupt, Terminated),
    or, once `hold` was called (the run is committing), noted and not raised: the run finishes its
    outputs, so the dataset, the state, the summary and run.json never disagree. A second signal while
    held is raised at once (the user insists)."""

    def __init__(self) -> None:
        self.holding = False
        self.noted: int | None = None

    def hold(self) -> None:
        """From here on a (first) signal lets the run finish."""
        self.holding = True

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.holding and self.noted is None:
            self.noted = signum
            print("analyzer: the run is committed and finishing its outputs (a few seconds); "
                  "interrupt again to stop now", file=sys.stderr, flush=True)
            return
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextmanager
def handle_signals() -> Iterator[Signals]:
    """SIGINT and SIGTERM handled by one `Signals` for the duration (the previous handlers back after).

    Only the main thread can set handlers: elsewhere (a caller's thread) the signals are left as they are.
    """
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return
    previous = {s: signal.signal(s, signals._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield signals
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def use_memory_pool() -> None:
    """Make Arrow allocate from jemalloc (else the system allocator): both give freed memory back.

    Arrow's default mimalloc pool keeps what each thread freed: reading the events files back for
    the summary and report grew a process by about 70 MB that no batch needed, more with more files.
    Nothing to do when the default pool was chosen before pyarrow loaded (`analyzer.__main__` picks
    jemalloc on Linux, which the Parquet reader's own allocations use too; or the user chose).
    """
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc (Windows)
        pa.set_memory_pool(pa.system_memory_pool())


GC_YOUNG = 10_000  # allocations between young-generation collections (CPython's default: 700)


@contextmanager
def quiet_collector() -> Iterator[None]:
    """During the scan: move everything alive (the imported modules, the settings, the keys) out of
    the cyclic collector's sight, and collect the young generation less often.

    The scan allocates millions of short-lived objects that hold no cycles (tuples, strings, small
    frames); with the default threshold the collector ran ~500 times a run and rescanned the
    survivors each time: 0.25 s of 5.5 s of a worker-like loop, 0.07 s at 10,000. A frozen heap is
    also not written to by a forked child's collections, so its pages stay shared with the parent.
    Both are undone afterwards: a long-lived caller (tests, a service) keeps collecting as before.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when its parent dies (even by SIGKILL), instead of running on."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def init_child() -> None:
    """In any forked helper process: let go of the output directory's lock, die with the parent, and
    leave Ctrl-C to the parent.

    A terminal's Ctrl-C reaches every process of its group; the parent stops its helpers itself (a
    pool's terminate, or its own death), so a helper that took the interrupt too would only print a
    traceback of its own. SIGTERM kills a helper outright (the parent's handler, inherited by the fork,
    would only raise in it): it is how the pool's terminate and the parent's death stop it.
    """
    release_inherited_locks()
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def release_freed_memory() -> None:
    """glibc: hand the heap's free pages back to the system (`malloc_trim`); elsewhere nothing.

    A worker's large transient buffers (decompressed chunks, the core's columns, a batch's frames) are
    freed after each task, but glibc keeps the freed heap: a worker grew by ~50 MB more over a 7.4 GB
    input than over 740 MB with nothing live to show for it. Called between tasks (a few milliseconds).
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
