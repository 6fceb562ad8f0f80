"""One task's work, in whichever process runs it: scan, decode, classify, observe and write its units.

A worker scans, decodes and classifies a task, writes its rows, and returns what they add up to
(counts, observations, examples) as `UnitOutput`s; the parent folds those in a fixed order, so the
output is the same for any worker count, and its memory does not grow with the size of a unit.

Imports the scan, tokens, diagnose and outputs stages and `engine.plan`; nothing of `engine.workers` or the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analyzer import schema as S
from analyzer.config import Settings
from analyzer.diagnose.diagnoser import Diagnoser
from analyzer.diagnose.observe import Observations, PendingRows
from analyzer.engine.plan import WorkUnit
from analyzer.frames import coded, first_of_each
from analyzer.outputs.aggregate import Aggregator, first_rows
from analyzer.outputs.write import PartWriter
from analyzer.scan.chunks import Batch, FileResult, batch_frame, scan_file
from analyzer.tokens.check import classify
from analyzer.tokens.columns import TokenColumns
from analyzer.tokens.decode import FactsMemo, TokenFacts
from analyzer.tokens.keys import KeyRing

# Token facts kept per task (about 1.3 KB each), as many as the process's memo keeps: past that, a task of
# tokens each used once kept up to 20,000 facts alive that the memo had let go (~26 MB in one task at 7.4 GB).
CACHE_LIMIT = FactsMemo.LIMIT


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


@dataclass
class WorkerContext:
    """What every task of one process needs: the run's settings and keys, where rows go, the facts memo.

    Made once per process (by the pool's initializer, the Dask worker's first task, or the parent
    when it scans alone) and handed to each task.
    """

    settings: Settings
    ring: KeyRing
    sink: tuple[Path, str] | None = None  # (staging directory, run id): where this process writes rows
    memo: FactsMemo = field(default_factory=FactsMemo)  # the facts of the tokens this process decoded
    table: TokenColumns = field(default_factory=TokenColumns)  # the same as columns, for classification


def _evict(cache: dict[str, TokenFacts]) -> None:
    """Keep the cache under CACHE_LIMIT: drop the tokens decoded longest ago (first inserted), half of them.

    Logs run forward in time and tokens live an hour or so, so the oldest are the least likely to
    come again; one seen again is simply decoded again.
    """
    if len(cache) > CACHE_LIMIT:
        for fp in list(itertools.islice(cache, len(cache) // 2)):
            del cache[fp]


def scan_task(units: list[WorkUnit], ctx: WorkerContext) -> list[UnitOutput]:
    """Scan, decode and classify a task's units in this process; write their rows when there is a sink.

    A task is one large unit, or many small files (`bundle`): their rows are classified, observed and
    written in shared batches, so per-batch costs are paid once per batch of rows, not once per
    file. Each unit gets its own output for its file's counters; the last carries what the rows add up to.
    """
    settings, sink = ctx.settings, ctx.sink
    leeway = float(settings.leeway_seconds)
    # Which tokens a task sees first (and so offers as examples) is kept per task, not per process: it
    # must not depend on what its process scanned before, or the examples would differ with the number
    # of workers. The facts themselves come from the process's memo when another task decoded them.
    cache: dict[str, TokenFacts] = {}
    outs = [UnitOutput(u, FileResult(path=u.file.name), Aggregator(), Observations(leeway), {}) for u in units]
    out = outs[-1]
    tag = f"u{units[0].index:06d}"
    pending: PendingRows | None = None
    # One part file per date for the whole task, a row group per batch (not a file per batch: each
    # costs every reader of the dataset); closed, and so named, also when the task fails.
    parts = None if sink is None else PartWriter(sink[0], sink[1], tag)
    try:
        for batch in _task_batches(units, outs, cache, ctx):
            ev = classify(batch_frame(batch), cache, settings, ctx.table)
            # Everything per row happens here, where the work is spread over the cores: the parent gets
            # only what the rows add up to.
            now, to_write, later = Diagnoser.prepare(ev)
            out.counts.add(now)
            out.seen.learn(now)
            out.seen.observe(now)
            # The first row of each token, by the codes of its categorical (not by hashing two columns).
            token, fps = coded(ev["token_fp"])
            firsts = first_of_each(token)
            kind, kinds = coded(ev["token_kind"])
            names = np.array([*map(str, kinds), "nan"], dtype=object)  # a missing kind (-1) reads "nan", as str() did
            for fp, k in zip(fps.take(token[firsts]).tolist(), names[kind[firsts]].tolist(), strict=True):
                out.tokens.setdefault(fp, k)  # a token's kind as its first row in the task says
            if parts is None:
                out.events.append(to_write)
                if not later.empty:
                    out.held.append(later)
            else:
                parts.write(to_write)
                if not later.empty:
                    pending = pending or PendingRows(parts.stage / f".pending-{tag}.parquet")
                    pending.add(later)
            # Full facts (header, claims) of the first few tokens per cause: candidates for the examples.
            rows = first_rows(ev, S.EXAMPLES_PER_CAUSE)
            for fp in fps.take(token[rows[token[rows] >= 0]]).tolist():
                if fp in batch.tokens:
                    out.examples[fp] = batch.tokens[fp]
            for fp, f in batch.tokens.items():
                cache[fp] = f
            _evict(cache)  # between batches: every token of the next batch is looked up after its scan
    finally:
        if parts is not None:
            parts.close()
    if pending is not None:
        out.held_file = pending.close()
    return outs


def _task_batches(units: list[WorkUnit], outs: list[UnitOutput], cache: dict[str, TokenFacts],
                  ctx: WorkerContext) -> Iterator[Batch]:
    """The units' batches in order, with file line numbers; those of small files joined till `Batch.full`."""
    held: Batch | None = None
    for unit, out in zip(units, outs, strict=True):
        for batch in scan_file(unit.file, ctx.settings, ctx.ring, out.result, cache,
                               start=unit.start, end=unit.end, count_from=unit.count_from, memo=ctx.memo):
            # A range of a compressed file counts the lines before it while it decompresses them.
            base = unit.line_base + out.result.stats.lines_before
            if base:
                batch.shift_lines(base)
            if held is None:
                held = batch
            else:
                held.extend(batch)
            if held.full():
                yield held
                held = None
    if held is not None:
        yield held
