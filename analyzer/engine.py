"""Run the per-file work on every core: split the inputs into units, scan each in a worker process.

A unit is a whole file, a byte range of a large plain file, or a range of the content of a large
gzip/zstd file (ranges start and end at line boundaries). Small files are bundled into one task. A
worker scans, decodes and classifies a task, writes its rows, and returns what they add up to (counts,
observations, examples); the parent folds those in a fixed order, so the output is the same for any
worker count, and its memory does not grow with the size of a unit. Workers never fetch keys: a kid
miss is passed to the parent (`KeyBroker`).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from analyzer import schema as S
from analyzer.aggregate import Aggregator
from analyzer.config import Settings
from analyzer.diagnose.diagnoser import Diagnoser
from analyzer.diagnose.observe import Observations, PendingRows
from analyzer.scan.chunks import BATCH_ROWS, FileResult, batch_frame, scan_file
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import compression, content_size
from analyzer.tokens.decode import FactsMemo, TokenFacts
from analyzer.tokens.keys import KeyRing

RANGE_BYTES = 64 << 20
BUNDLE_BYTES = 16 << 20  # files smaller than this are scanned together, up to this many bytes a task
CACHE_LIMIT = 50_000  # token facts kept per unit (about 1.5 KB each: the header and claims stay JSON text)


@dataclass(frozen=True)
class WorkUnit:
    """A whole file, or the lines of a plain file that start in [start, end)."""

    file: InputFile
    index: int
    file_no: int = 0
    part: int = 0
    start: int = 0
    end: int | None = None
    line_base: int = 0  # lines of the file before this unit's first line (or before `count_from`)
    cost: int | None = None  # about the bytes it yields (a compressed file's decompressed size)
    # A range of a compressed file: where this run's reading of it begins. Its worker decompresses
    # from there to `start` and counts the lines on the way (they are not known beforehand).
    count_from: int | None = None


@dataclass
class UnitOutput:
    """What a worker sends back for one unit: folded counts and observations, never rows (with a sink).

    Its size depends on the distinct tokens, clients and causes of the unit, not on its rows, so a
    unit of any size costs the parent little memory.
    """

    unit: WorkUnit
    result: FileResult
    counts: Aggregator  # occurrences per cause and the first examples
    seen: Observations  # what the diagnosis keeps of the rows
    tokens: dict[str, str]  # token fingerprint -> kind, each token of the unit once
    examples: dict[str, TokenFacts] = field(default_factory=dict)  # full facts of example candidates
    events: list[pd.DataFrame] = field(default_factory=list)  # without a sink: rows for the parent to write
    held: list[pd.DataFrame] = field(default_factory=list)  # without a sink: rows the parent judges at the end
    held_file: Path | None = None  # with a sink: the same, in a file the worker wrote


def _is_plain(path: str) -> bool:
    """A readable, uncompressed file (only those are split into byte ranges)."""
    try:
        return compression(path) is None
    except OSError:
        return False


def plan(files: list[InputFile], range_bytes: int | None = None,
         resume_at: dict[int, int] | None = None, base_at: dict[int, int] | None = None,
         workers: int = 1, max_decompressed: int | None = None) -> list[WorkUnit]:
    """Units in input order; plain files above `range_bytes` are split into byte ranges, and large
    gzip or zstd files into ranges of their content (`_compressed_ranges`).

    `resume_at` maps a file's position in `files` to the content offset where reading starts
    (after what an earlier run read), `base_at` to the lines before it. Each unit knows the number
    of lines before it, so that workers write right line numbers; the newlines before each range
    are counted on `workers` processes. The split does not depend on the number of workers, so
    neither does the output.
    """
    range_bytes = range_bytes or RANGE_BYTES
    resume_at = resume_at or {}
    base_at = base_at or {}
    splits: dict[int, list[int]] = {}  # file_no -> range starts
    for file_no, f in enumerate(files):
        first = resume_at.get(file_no, 0)
        if f.path != "-" and f.size - first > range_bytes and _is_plain(f.path):
            splits[file_no] = list(range(first, f.size, range_bytes))
    # Range k of a file starts after the first newline at or after bounds[k] - 1: the lines before it
    # are the newlines in [bounds[0], bounds[k] - 1), plus that one. Counted segment by segment.
    segments = [(files[file_no].path, bounds[0] if k == 1 else bounds[k - 1] - 1, bounds[k] - 1)
                for file_no, bounds in splits.items() for k in range(1, len(bounds))]
    counts = iter(_count_segments(segments, workers))
    units: list[WorkUnit] = []
    for file_no, f in enumerate(files):
        base = base_at.get(file_no, 0)
        bounds = splits.get(file_no)
        if bounds is None:
            first = resume_at.get(file_no, 0)
            cost = f.size if f.path == "-" else content_size(f.path, f.size)
            ranges = _compressed_ranges(f, first, cost, max_decompressed)
            if ranges is None:
                units.append(WorkUnit(f, len(units), file_no, 0, first, None, base, max(0, cost - first)))
            for part, (start, end) in enumerate(ranges or ()):
                units.append(WorkUnit(f, len(units), file_no, part, start, end, base, (end or cost) - start,
                                      count_from=first))
            continue
        bases: list[int] = [base]
        count: int | None = base
        for _ in bounds[1:]:
            n = next(counts)
            if n is None or count is None:  # unreadable: the scan of the range reports the error
                count = None
                bases.append(base)
            else:
                count += n
                bases.append(count + 1)
        for part, start in enumerate(bounds):
            end = bounds[part + 1] if part + 1 < len(bounds) else None
            units.append(WorkUnit(f, len(units), file_no, part, start, end, bases[part], (end or f.size) - start))
    return units


COMPRESSED_RANGE_BYTES = 128 << 20  # content bytes per range of a large gzip or zstd file
MAX_COMPRESSED_RANGES = 8
_SPLIT_KINDS = ("gzip", "zstd")  # decompressing a range's prefix again costs ~5% of scanning it


def _compressed_ranges(f: InputFile, first: int, content: int,
                       max_decompressed: int | None) -> list[tuple[int, int | None]] | None:
    """Ranges of the content of a large gzip or zstd file, or None to read it whole.

    A compressed stream cannot be entered mid-way: each range's worker decompresses the content
    before it again and drops it (gzip and zstd decompress at ~1 GB/s, scanning runs at ~40 MB/s),
    so one big archive keeps every core busy. At most 8 ranges (the prefixes cost ~1.5x the file's
    decompression in all), only for a believable estimate (at most 100x the compressed size, within
    the decompression limit), and the last range reads to the end whatever the estimate said.
    """
    todo = content - first
    if (f.path == "-" or todo <= COMPRESSED_RANGE_BYTES or content > 100 * max(f.size, 1)
            or (max_decompressed is not None and content > max_decompressed)):
        return None
    try:
        if compression(f.path) not in _SPLIT_KINDS:
            return None
    except OSError:  # the scan reports it
        return None
    n = min(MAX_COMPRESSED_RANGES, -(-todo // COMPRESSED_RANGE_BYTES))
    step = -(-todo // n)
    starts = [first + k * step for k in range(n)]
    return [(start, starts[k + 1] if k + 1 < n else None) for k, start in enumerate(starts)]


def _count_newlines(path: str, start: int, end: int) -> int | None:
    """Newlines in bytes [start, end) of a plain file; None if it cannot be read."""
    n = 0
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            want = end - start
            while want > 0:
                block = fh.read(min(want, 8 << 20))
                if not block:
                    break
                n += block.count(b"\n")
                want -= len(block)
    except OSError:
        return None
    return n


def _count_segments(segments: list[tuple[str, int, int]], workers: int) -> list[int | None]:
    """`_count_newlines` of each segment, on up to `workers` processes (a pass over big plain files)."""
    if workers <= 1 or len(segments) <= 1 or os.name != "posix":
        return [_count_newlines(*seg) for seg in segments]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(workers, len(segments)), initializer=init_child) as pool:
        return pool.starmap(_count_newlines, segments, chunksize=1)


class _Worker:
    """Per-process state: the run's settings and keys."""

    settings: Settings
    ring: KeyRing
    sink: tuple[Path, str] | None = None  # (staging directory, run id): where this worker writes rows
    memo: FactsMemo  # the facts of the tokens this process decoded


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


def die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when its parent dies (even by SIGKILL), instead of running on."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def init_child() -> None:
    """In any forked helper process: let go of the output directory's lock, and die with the parent."""
    from analyzer.state import release_inherited_locks

    release_inherited_locks()
    die_with_parent()


def _init_worker(settings: Settings, ring: KeyRing, sink: tuple[Path, str] | None = None,
                 broker: KeyBroker | None = None) -> None:
    """Pool initializer of a forked worker process."""
    init_child()
    use_memory_pool()  # inherited when forked, not when spawned
    if broker is not None:
        broker.attach(ring)
    _init(settings, ring, sink)


REFRESH_WAIT = 60.0  # seconds a worker waits for the parent's answer to a kid miss


class KeyBroker:
    """Kid-miss refreshes for forked workers, done by the parent: the only process that fetches keys.

    A worker that meets a kid its key sets lack asks the parent over its own pipe. The parent asks
    the key store (which fetches at most once per issuer per cooldown) and answers with its current
    set, which the worker puts in place of its own. Every process so ends up judging with the same
    keys as a single process would, and the provider sees no more requests than from one.
    """

    def __init__(self, ring: KeyRing, workers: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._ring = ring
        pairs = [ctx.Pipe() for _ in range(workers)]
        self._parent_ends = [a for a, _ in pairs]
        self._child_ends = [b for _, b in pairs]
        self._next = ctx.Value("i", 0)  # the next free pipe; a replacement worker finds none left
        self._wake, self._waker = ctx.Pipe(duplex=False)  # `close` wakes the thread at once
        self._thread = threading.Thread(target=self._serve, name="key-broker", daemon=True)
        self._thread.start()

    def attach(self, ring: KeyRing) -> None:
        """In a worker: route the ring's kid-miss refreshes to the parent (if a pipe is free)."""
        with self._next.get_lock():
            slot = self._next.value
            self._next.value += 1
        if slot >= len(self._child_ends):
            ring.refresher = None
            return
        conn = self._child_ends[slot]
        asked = itertools.count(1)

        def ask_parent(ring: KeyRing, index: int) -> bool:
            # Each question is numbered: an answer that came after its question was given up on
            # (a fetch slower than REFRESH_WAIT) is dropped, not taken for the next one's.
            number = next(asked)
            deadline = time.monotonic() + REFRESH_WAIT
            try:
                conn.send((number, index))
                while True:
                    if not conn.poll(max(0.0, deadline - time.monotonic())):
                        return False
                    got, answer = conn.recv()
                    if got == number:
                        break
            except (OSError, EOFError, TypeError, ValueError):
                return False
            if answer is None:
                return False
            new, kids = answer
            old = ring.sets[index]
            ring.history[new.source] = kids
            if new.jwks == old.jwks:
                return False
            ring.replace(index, new)
            return set(new.kids) != set(old.kids)

        ring.refresher = ask_parent
        ring.owner_pid = os.getpid()

    def _serve(self) -> None:
        from multiprocessing.connection import Connection, wait

        ends = list(self._parent_ends)
        while True:
            for ready in wait([*ends, self._wake]):
                if ready is self._wake:
                    return
                conn = cast(Connection, ready)
                try:
                    number, index = conn.recv()
                    conn.send((number, self._answer(index)))
                except (OSError, EOFError):
                    ends.remove(conn)

    def _answer(self, index: Any) -> tuple[Any, dict[str, str]] | None:
        ring = self._ring
        if not isinstance(index, int) or not 0 <= index < len(ring.sets) or ring.refresher is None:
            return None
        with contextlib.suppress(Exception):  # e.g. the key history cannot be written: keep the keys we have
            ring.refresher(ring, index)
        current = ring.sets[index]
        return current, dict(ring.history.get(current.source, {}))

    def close(self) -> None:
        """Stop answering (after the pool is done)."""
        self._waker.send(None)
        self._thread.join()
        for conn in (*self._parent_ends, *self._child_ends, self._wake, self._waker):
            conn.close()


def _init(settings: Settings, ring: KeyRing, sink: tuple[Path, str] | None = None) -> None:
    _Worker.sink = sink
    _Worker.settings = settings
    _Worker.ring = ring
    _Worker.memo = FactsMemo()


def _evict(cache: dict[str, TokenFacts]) -> None:
    """Keep the cache under CACHE_LIMIT: drop the tokens decoded longest ago (first inserted), half of them.

    Logs run forward in time and tokens live an hour or so, so the oldest are the least likely to
    come again; one seen again is simply decoded again.
    """
    if len(cache) > CACHE_LIMIT:
        for fp in list(itertools.islice(cache, len(cache) // 2)):
            del cache[fp]


def scan_task(units: list[WorkUnit]) -> list[UnitOutput]:
    """Scan, decode and classify a task's units in this process; write their rows when there is a sink.

    A task is one large unit, or many small files (`bundle`): their rows are classified, observed and
    written in shared batches, so per-batch costs are paid once per batch of rows, not once per
    file. Each unit gets its own output for its file's counters; the last carries what the rows add up to.
    """
    from analyzer.check import classify
    from analyzer.write import write_parts

    settings, sink = _Worker.settings, _Worker.sink
    leeway = float(settings.leeway_seconds)
    # Which tokens a task sees first (and so offers as examples) is kept per task, not per process: it
    # must not depend on what its process scanned before, or the examples would differ with the number
    # of workers. The facts themselves come from the process's memo when another task decoded them.
    cache: dict[str, TokenFacts] = {}
    outs = [UnitOutput(u, FileResult(path=u.file.name), Aggregator(), Observations(leeway), {}) for u in units]
    out = outs[-1]
    tag = f"u{units[0].index:06d}"
    pending: PendingRows | None = None
    for n, batch in enumerate(_task_batches(units, outs, cache)):
        ev = classify(batch_frame(batch), cache, settings)
        # Everything per row happens here, where the work is spread over the cores: the parent gets
        # only what the rows add up to.
        now, to_write, later = Diagnoser.prepare(ev)
        out.counts.add(now)
        out.seen.learn(now)
        out.seen.observe(now)
        firsts = ev.drop_duplicates("token_fp")
        for fp, kind in zip(firsts["token_fp"].tolist(), firsts["token_kind"].astype("object").tolist(),
                            strict=True):
            out.tokens.setdefault(fp, str(kind))
        if sink is None:
            out.events.append(to_write)
            if not later.empty:
                out.held.append(later)
        else:
            write_parts(sink[0], sink[1], f"{tag}b{n:04d}", to_write)
            if not later.empty:
                pending = pending or PendingRows(sink[0] / f".pending-{tag}.parquet")
                pending.add(later)
        # Full facts (header, claims) of the first few tokens per cause: candidates for the examples.
        firsts = ev[["cause", "token_fp"]].drop_duplicates().groupby("cause", observed=True, sort=False).head(
            S.EXAMPLES_PER_CAUSE)
        for fp in firsts["token_fp"].tolist():
            if fp in batch.tokens:
                out.examples[fp] = batch.tokens[fp]
        for fp, f in batch.tokens.items():
            cache[fp] = f
        _evict(cache)  # between batches: every token of the next batch is looked up after its scan
    if pending is not None:
        out.held_file = pending.close()
    return outs


def _task_batches(units: list[WorkUnit], outs: list[UnitOutput], cache: dict[str, TokenFacts]) -> Iterator[Any]:
    """The units' batches in order, with file line numbers; those of small files joined up to BATCH_ROWS rows."""

    settings, ring = _Worker.settings, _Worker.ring
    held = None
    for unit, out in zip(units, outs, strict=True):
        for batch in scan_file(unit.file, settings, ring, out.result, cache,
                               start=unit.start, end=unit.end, count_from=unit.count_from, memo=_Worker.memo):
            # A range of a compressed file counts the lines before it while it decompresses them.
            base = unit.line_base + out.result.stats.lines_before
            if base:
                batch.shift_lines(base)
            if held is None:
                held = batch
            else:
                held.extend(batch)
            if len(held) >= BATCH_ROWS:
                yield held
                held = None
    if held is not None:
        yield held


def _scan_remote(task: list[WorkUnit], settings: Settings, ring: KeyRing, token: str) -> list[UnitOutput]:
    """scan_task on a Dask worker: the per-process state is set up once per run."""
    if getattr(_Worker, "token", None) != token:
        _init(settings, ring)
        _Worker.token = token  # type: ignore[attr-defined]
    return scan_task(task)


def _run_dask(tasks: list[list[WorkUnit]], settings: Settings, ring: KeyRing, workers: int,
              token: str) -> Iterator[UnitOutput]:
    """The same units on a Dask cluster: an existing scheduler, or a LocalCluster of `workers` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from analyzer.errors import ConfigError

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


def schedule(units: list[WorkUnit]) -> list[WorkUnit]:
    """The order units run (and their outputs are consumed) in: the largest first.

    Size is what a unit yields: a compressed file weighs its decompressed size (`content_size`).
    With the longest jobs started first, no core is left alone with a big file at the end
    (longest-processing-time-first scheduling). The order depends only on the units, never on
    the number of workers, so the output does not either.
    """
    return sorted(units, key=unit_bytes, reverse=True)  # stable: equal costs keep the input order


def unit_bytes(u: WorkUnit) -> int:
    """About the bytes a unit yields (its planned cost; a unit made without a plan: its bytes on disk)."""
    return ((u.file.size if u.end is None else u.end) - u.start) if u.cost is None else u.cost


def bundle(units: list[WorkUnit], size: int | None = None) -> list[list[WorkUnit]]:
    """Tasks: each unit of `size` bytes or more alone, smaller ones together (in order) up to `size`.

    Thousands of small rotated files would otherwise each pay a worker round trip and a classified,
    written batch of their own: per-file costs that took 20 ms a file. Tasks depend only on the
    units, never on the number of workers, so the output does not either.
    """
    size = BUNDLE_BYTES if size is None else size
    tasks: list[list[WorkUnit]] = []
    current: list[WorkUnit] = []
    held = 0
    for u in units:
        n = unit_bytes(u)
        if n >= size:
            tasks.append([u])
            continue
        if current and held + n > size:
            tasks.append(current)
            current, held = [], 0
        current.append(u)
        held += n
    if current:
        tasks.append(current)
    return tasks


def run_units(units: list[WorkUnit], settings: Settings, ring: KeyRing, workers: int,
              token: str = "run", sink: tuple[Path, str] | None = None) -> Iterator[UnitOutput]:
    """Outputs of all units, in `schedule` order (small files bundled into tasks); in this process when
    one worker (or one task) suffices.

    With a `sink` (staging directory, run id), local workers write their rows themselves.
    """
    tasks = bundle(schedule(units))
    if settings.engine == "dask":  # remote workers may not see the output directory: the parent writes
        yield from _run_dask(tasks, settings, ring, workers, token)
        return
    if workers <= 1 or len(tasks) <= 1:
        _init(settings, ring, sink)
        for task in tasks:
            yield from scan_task(task)
        return
    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    # Results the parent has not taken yet wait in its memory: feed the pool only a few tasks ahead
    # of what the parent has consumed, so memory stays flat however large the input is.
    room = threading.BoundedSemaphore(workers * 2)

    def feed() -> Iterator[list[WorkUnit]]:
        for task in tasks:
            room.acquire()
            yield task

    # Workers cannot fetch; with a provider to ask, the parent refreshes on their kid misses.
    broker = KeyBroker(ring, workers) if ring.refresher is not None and os.name == "posix" else None
    try:
        with ctx.Pool(processes=workers, initializer=_init_worker, initargs=(settings, ring, sink, broker)) as pool:
            for outputs in pool.imap(scan_task, feed(), chunksize=1):
                room.release()
                yield from outputs
    finally:
        if broker is not None:
            broker.close()
