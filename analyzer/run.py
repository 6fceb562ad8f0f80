"""`analyzer scan`: one run, from the inputs to a published output directory.

`run` owns the run: the lock and the state store, planning and running the units (`engine`),
folding what the workers add up to, the commit, and the summary, examples and report.
The stages themselves live in their packages; run.json's record is `run_summary`'s.
Imports every stage; only `cli` imports this module.
"""

from __future__ import annotations

import dataclasses
import glob
import itertools
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analyzer import run_summary
from analyzer import schema as S
from analyzer.config import Settings, find_config
from analyzer.diagnose import unverified
from analyzer.diagnose.diagnoser import Diagnoser
from analyzer.engine.plan import plan, unit_bytes
from analyzer.engine.processes import (
    Signals,
    Terminated,
    TerminatedError,
    handle_signals,
    release_freed_memory,
    use_memory_pool,
)
from analyzer.engine.workers import run_units
from analyzer.errors import InputNotFoundError
from analyzer.outputs.aggregate import Aggregator, DistinctTokens, TableFold, summary_days
from analyzer.outputs.state import STATE_FILE, Lock, Progressed, Rebuild, Recorded, Resume, State, StateMissingError
from analyzer.outputs.write import OutputDir, part_files
from analyzer.report import page as report
from analyzer.report.data import EventsScan, ReportData
from analyzer.run_summary import Tally
from analyzer.scan.chunks import FileResult
from analyzer.scan.inputs import InputFile, configs_not_used, expand_inputs, shown
from analyzer.tokens import privacy
from analyzer.tokens.decode import TokenFacts
from analyzer.tokens.keys import KeyRing
from analyzer.tokens.keystore import load_keyring

SPARE_EXAMPLES = 1000  # token facts kept for examples among held-back rows (a few KB each)

ProgressCallback = Callable[[int, int, int, int], None]  # bytes done, bytes in all, files done, files in all


@dataclass
class RunOutcome:
    """What `run` returns to the CLI: the run summary (as written to run.json) and the exit code."""

    summary: dict[str, Any]
    exit_code: int


class Progress:
    """Bytes read against the total, and files finished; the CLI supplies the display."""

    def __init__(self, total: int, update: ProgressCallback | None = None, units_per_file: Counter[int] | None = None,
                 ) -> None:
        self.total = total
        self.done = 0
        self._update = update
        self._left = units_per_file or Counter()
        self.files_total = len(self._left)
        self.files_done = 0

    def advance(self, n: int, file_no: int | None = None) -> None:
        """Count n more bytes (the last unit of file `file_no`, if so, finishes that file)."""
        self.done += n
        if file_no is not None and file_no in self._left:
            self._left[file_no] -= 1
            if self._left[file_no] == 0:
                self.files_done += 1
        if self._update:
            self._update(self.done, self.total, self.files_done, self.files_total)


def between_commit_steps() -> None:
    """Called after the events are published and before the state records them: nothing to do.

    The crash-safety tests replace it with one that kills the process there.
    """


def run(settings: Settings, inputs: list[str], progress: ProgressCallback | None = None,
        fail_above: float | None = None) -> RunOutcome:
    """Scan what is new in the inputs and write every output; the one place that connects all stages.

    Incremental and idempotent: the state store says how far each input was read before, so a
    rerun reads only new content, and appends its events under its own run id. The state commits
    after the events are in place; part files of a run that never committed are removed by the
    next run, so a crash neither loses nor doubles anything.
    """
    # Before the output directory is touched: a typo in a path must not cost the dataset anything.
    missing = missing_inputs(inputs)
    if missing:
        raise InputNotFoundError(missing, str(settings.out_dir))
    if not settings.rescan and not (settings.out_dir / STATE_FILE).exists() and part_files(settings.out_dir / "events"):
        raise StateMissingError(settings.out_dir)
    # The hashing secret is loaded (created) once, before workers start, so they all hash with it; and
    # before the output directory is touched, as a key file that is no key is refused (ConfigError).
    settings = dataclasses.replace(settings, pii_key=settings.pii_key or privacy.load_key())
    if not settings.quiet:
        _say_configs_not_used(settings, inputs)
    with handle_signals() as signals:
        try:
            started = settings.clock()
            run_id = _new_run_id()
            # The keys too: a key-set file that is missing or no JSON is refused (ConfigError) before the
            # output directory is created or locked. The key store is the only stage that may open a
            # connection; its cache lives in the cache directory, not in the output directory.
            ring = load_keyring(settings)
            lock = Lock(settings.out_dir)
            try:
                state = State(settings.out_dir)
                try:
                    return _run_locked(settings, inputs, progress, fail_above, state, run_id, started, signals,
                                       ring)
                finally:
                    state.close()
            finally:
                lock.release()
        except Terminated:
            raise TerminatedError(shown(str(settings.out_dir))) from None


def _say_configs_not_used(settings: Settings, inputs: list[str]) -> None:
    """One line on stderr when the config was found (not given) and a scanned directory holds another one.

    Discovery takes ./analyzer.toml, else the first scanned directory's: with two scanned directories
    holding different configs, the argument order chose the leeway, keys and APIs without a word.
    """
    used, found = settings.config_path, find_config(None, inputs)
    if used is None or found is None or found.resolve() != used.resolve():
        return  # no config, or the one --config named (or the dataset's): the user's choice
    others = configs_not_used(inputs, used)
    if others:
        more = f" and {len(others) - 1:,} more" if len(others) > 1 else ""
        print(f"analyzer: using the config {shown(str(used))}; {others[0]}{more} in a scanned directory "
              "differs and is not used (--config to choose)", file=sys.stderr, flush=True)


_runs_here = itertools.count()


def _new_run_id() -> str:
    """A run's id, unique whatever clock the settings carry: the real start time, the process, a counter.

    Part files and the state's rows are named after it: two runs with one id would overwrite each other.
    """
    now = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S%fZ")
    n = next(_runs_here)
    return f"{now}-{os.getpid()}" + (f"-{n}" if n else "")


@dataclass
class _Folded:
    """What the parent folds from the workers' outputs, unit by unit, in a fixed order."""

    counts: Aggregator = dataclasses.field(default_factory=Aggregator)
    unique: DistinctTokens = dataclasses.field(default_factory=DistinctTokens)
    results: dict[int, FileResult] = dataclasses.field(default_factory=dict)  # per input file, in input order
    line_base: dict[int, int] = dataclasses.field(default_factory=dict)  # lines read so far, per input file
    tokens: dict[str, TokenFacts] = dataclasses.field(default_factory=dict)  # full facts of the example tokens
    spare: dict[str, TokenFacts] = dataclasses.field(default_factory=dict)  # candidates among held-back rows

    def facts(self, fp: str) -> TokenFacts | None:
        return self.tokens.get(fp) or self.spare.get(fp)


def _run_locked(settings: Settings, inputs: list[str], progress: ProgressCallback | None,
                fail_above: float | None, state: State, run_id: str, started: float, signals: Signals,
                ring: KeyRing) -> RunOutcome:
    use_memory_pool()
    timings: dict[str, float] = {}
    meta = {"fingerprint": settings.fingerprint(),
            "settings": json.dumps(run_summary.classification_settings(settings)),
            "config_path": str(settings.config_path or "")}  # the CLI falls back on it when it finds no config
    nothing_new_since = state.last_new_data()
    out = OutputDir(settings.out_dir, run_id)
    orphans = out.remove_orphans(state.committed_runs())
    rebuild, read_inputs, recorded = _plan_rebuild(settings, state, inputs, meta)
    expansion = expand_inputs(read_inputs, settings.skip_paths)
    resumes = state.resume_all(expansion.files)
    vanished: list[Recorded] = []
    if rebuild is not None:
        # Read everything again; the recorded inputs whose content is not among the files are gone.
        claimed = {r.record_id for r in resumes if r.record_id is not None}
        vanished = [rec for rec in recorded if rec.record_id not in claimed]
        rebuild = Rebuild(rebuild.reason, frozenset(rec.record_id for rec in vanished))
        resumes = [dataclasses.replace(r, record_id=None, skip_bytes=0, line_base=0, nothing_new=False)
                   for r in resumes]
    todo = {i: r.skip_bytes for i, r in enumerate(resumes) if not r.nothing_new}
    committed = False
    try:
        diag = Diagnoser(settings, out.stage)
        folded = _scan(settings, ring, expansion.files, resumes, todo, out, diag, progress, run_id)
        timings["scan_seconds"] = round(settings.clock() - started, 3)
        # The diagnosis (Python, of what the scan observed) on a thread, beside the commit and the pass over
        # the dataset below (Arrow, mostly without the GIL).
        pool = ThreadPoolExecutor(1, thread_name_prefix="diagnose")
        diagnosing = pool.submit(diag.report)
        pool.shutdown(wait=False)  # its one thread ends with the task

        kept = 0
        if rebuild is not None and rebuild.keep:
            # Events of inputs that are gone cannot be read again: they stay, as they were classified.
            rebuild = dataclasses.replace(rebuild, kept_reads=tuple(state.reads(rebuild.keep)))
            kept = out.keep_events(list(rebuild.kept_reads))

        # Commit: events into the dataset first, then the state that says they were read. From here on an
        # interrupt lets the run finish (`Signals`): stopped between the two steps, the dataset would count
        # events no state records; after them, the summary, examples and run.json would not be this run's.
        progressed = _progress_made(expansion.files, resumes, folded.results, folded.line_base)
        new_bytes = sum(r.stats.bytes_read for r in folded.results.values())
        signals.hold()
        out.publish_events()
        between_commit_steps()
        state.commit(out.run_id, progressed, new_bytes, folded.counts.rows, started, meta, rebuild,
                     now=settings.clock())
        committed = True
        if rebuild is not None:
            out.remove_orphans(state.committed_runs())  # the replaced dataset, now that the new one is in
        dropped: list[str] = []
        if settings.keep_days is not None:
            cutoff = datetime.fromtimestamp(started - settings.keep_days * 86400, tz=UTC)
            dropped = out.drop_partitions_before(cutoff.strftime("%Y-%m-%d"))

        t0 = settings.clock()
        release_freed_memory()  # what the scan freed goes back to the system before the tail's pass
        _fill_examples(folded, settings)
        # One pass over the events dataset serves the summary, the report's data and the unverified count.
        scan = EventsScan(out.out, settings.since_us, settings.until_us)
        unchecked = unverified.Unverified()
        window, rows = _write_summary(out, settings, (scan, unchecked))
        tally = Tally(run_id=out.run_id, started=started, inputs=inputs, expansion=expansion,
                      results=[folded.results[i] for i in sorted(folded.results)],
                      unchanged=sum(1 for i in range(len(expansion.files)) if i not in todo),
                      counts=folded.counts, unique=folded.unique, window=window, events=out.events,
                      rebuild=rebuild, recorded=recorded, vanished=vanished, kept=kept, orphans=orphans,
                      dropped=dropped, nothing_new_since=nothing_new_since,
                      unverified_ok=unchecked.result(ring), dataset_rows=rows)
        summary = run_summary.summary(settings, tally, ring, fail_above, timings)
        diagnosis = diagnosing.result()
        if not folded.counts.rows:
            # Nothing new was read: the diagnosis of the last run that read something still holds
            # for the dataset (a second run the same night must not blank the report's diagnosis).
            diagnosis = run_summary.previous_diagnosis(settings.out_dir, diagnosis)
        summary.update(diagnosis)
        examples = folded.counts.examples if rebuild is not None else \
            run_summary.examples_of_dataset(settings.out_dir, folded.counts.examples, window)
        out.write_json("examples.json", examples)
        report.compile_template()  # done during the scan (`_ready_tail`) unless nothing was scanned
        # These examples: the published examples.json is still the previous run's.
        data = ReportData.load(out.out, {}, examples=examples, since_us=settings.since_us,
                               until_us=settings.until_us, scanned=scan.result()).with_run(summary)
        out.write_text("report.html", report.render(data))
        timings["write_seconds"] = round(settings.clock() - t0, 3)
        summary["finished_at"] = datetime.fromtimestamp(settings.clock(), tz=UTC).isoformat()
        timings["total_seconds"] = round(settings.clock() - started, 3)
        out.write_json("run.json", summary)
        out.publish()
    except BaseException:
        if not committed:
            out.unpublish()  # an error (or a second interrupt) between the commit's two steps
        out.abandon()
        raise
    return RunOutcome(summary, summary["exit_code"])


def _scan(settings: Settings, ring: KeyRing, files: list[InputFile], resumes: list[Resume], todo: dict[int, int],
          out: OutputDir, diag: Diagnoser, progress: ProgressCallback | None, run_id: str) -> _Folded:
    """Plan and run the units of the files with something new; fold their outputs in order."""
    folded = _Folded(line_base={i: resumes[i].line_base for i in todo})
    line_base = folded.line_base
    units = [u for u in plan(files, resume_at=todo, base_at=line_base,
                             workers=max(1, settings.workers), max_decompressed=settings.max_decompressed)
             if u.file_no in todo]
    # Progress in bytes of log (a compressed file by its decompressed size), as throughput is.
    meter = Progress(sum(unit_bytes(u) for u in units), progress, Counter(u.file_no for u in units))
    ready: threading.Thread | None = None
    for output in run_units(units, settings, ring, max(1, settings.workers), run_id, (out.stage, run_id)):
        if ready is None:
            # The workers are forked: this process, idle while they scan, readies the tail meanwhile.
            ready = threading.Thread(target=_ready_tail, name="ready-tail", daemon=True)
            ready.start()
        unit = output.unit
        fi = unit.file_no
        part = output.result
        line_base[fi] = line_base.get(fi, 0) + part.stats.lines
        folded.results[fi] = merge_results(folded.results.get(fi), part)
        for ev in output.events:  # rows a remote worker could not write
            out.write_events(ev)
        for held in output.held:
            diag.hold(held)
        if output.held_file is not None:
            diag.hold_file(output.held_file)
        diag.merge(output.seen)
        folded.counts.merge(output.counts)
        folded.unique.add(output.tokens)
        wanted = {e["token_fp"] for exs in folded.counts.examples.values() for e in exs}
        folded.tokens.update({fp: f for fp, f in output.examples.items() if fp in wanted})
        if output.held or output.held_file is not None:
            # Held-back rows become examples only at diag.finish: keep their candidates' facts till then.
            for fp, f in output.examples.items():
                if fp not in folded.tokens and len(folded.spare) < SPARE_EXAMPLES:
                    folded.spare[fp] = f
        meter.advance(unit_bytes(unit), fi)
    if ready is not None:
        ready.join()  # the tail uses what it readied
    for ev in diag.finish():  # judged against what their host accepted, now that all is seen
        out.write_events(ev)
        folded.counts.add(ev)
    return folded


def _ready_tail() -> None:
    """What the tail would load first: the report's compiled template (0.1 s) and the library only the
    tail imports (Arrow's Acero, which its folds' `group_by` runs on, with Arrow's datasets), so that the
    tail, where one core waits on the other, does not.

    Run on a thread while the workers scan; not before they fork, as a fork must not copy a thread
    that is halfway through an import.
    """
    import pyarrow.acero  # noqa: F401

    report.compile_template()


def _write_summary(out: OutputDir, settings: Settings, also: Collection[TableFold] = ()) -> tuple[dict[str, int], int]:
    """summary.parquet of the dataset's window, day by day (never whole in memory); its occurrences by cause,
    and the rows of the whole dataset. The folds of `also` are given the same pass's tables."""
    window = {c: 0 for c in S.CAUSES}

    def counted(days: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for day in days:
            for c, n in day.groupby("cause", observed=True)["occurrences"].sum().items():
                window[str(c)] += int(n)
            yield day

    footers: list[int] = []
    out.write_parquet_frames("summary.parquet", counted(summary_days(out.events, settings.since_us, settings.until_us,
                                                                     also, footers)), S.SUMMARY_SCHEMA)
    return window, sum(footers)


def _fill_examples(folded: _Folded, settings: Settings) -> None:
    """The examples' header and claims, personal claims hashed in both (a header may carry them too), tokens
    removed (the facts stay in this process only)."""
    for examples in folded.counts.examples.values():
        for ex in examples:
            facts = folded.facts(ex["token_fp"])
            if facts is not None:
                ex["header"] = privacy.scrub_claims(facts.header, settings.pii_key, settings.include_pii)
                ex["claims"] = privacy.scrub_claims(facts.claims, settings.pii_key, settings.include_pii)


def merge_results(into: FileResult | None, part: FileResult) -> FileResult:
    """Counters of one file from its byte ranges (or the whole file's, unchanged)."""
    if into is None:
        return part
    into.stats.bytes_read += part.stats.bytes_read
    into.stats.lines += part.stats.lines
    into.stats.long_lines += part.stats.long_lines
    into.stats.errors.extend(part.stats.errors)
    into.stats.truncated |= part.stats.truncated
    into.tokens += part.tokens
    into.rejected += part.rejected
    into.masked += part.masked
    into.invalid_utf8_lines += part.invalid_utf8_lines
    return into


def missing_inputs(inputs: list[str]) -> list[str]:
    """The inputs that name nothing: paths that do not exist and globs that match no file."""
    missing = []
    for raw in inputs:
        if raw == "-":
            continue
        try:
            os.stat(raw)
            continue
        except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the name
            pass
        except OSError:
            continue  # there, but not to be looked at (permissions): the readers report it
        name = shown(raw)
        if glob.has_magic(raw):
            if not glob.glob(raw, recursive=True):
                missing.append(f"{name} (no file matches)")
        else:
            missing.append(name)
    return missing


def _plan_rebuild(settings: Settings, state: State, inputs: list[str],
                  meta: dict[str, str]) -> tuple[Rebuild | None, list[str], list[Recorded]]:
    """Whether this run replaces the dataset, the inputs to read, and the recorded inputs it may not find.

    `--rescan` rebuilds from the paths given, as asked. Changed settings rebuild from every input
    the state recorded as well: a dataset built from many paths must not shrink to this run's.
    """
    if settings.rescan:
        return Rebuild("--rescan"), inputs, []
    previous = state.get("fingerprint")
    if previous is None or previous == meta["fingerprint"]:
        return None, inputs, []
    try:
        before = json.loads(state.get("settings") or "{}")
    except ValueError:
        before = {}
    changed = run_summary.what_changed(before, json.loads(meta["settings"])) if isinstance(before, dict) and before \
        else ""
    reason = f"the settings changed ({changed})" if changed else "the settings changed"
    recorded = state.recorded()
    located = [loc for rec in recorded if (loc := rec.locate()) is not None]
    return Rebuild(reason), inputs + [p for p in dict.fromkeys(located) if p not in inputs], recorded


def _progress_made(files: list[InputFile], resumes: list[Resume], results: dict[int, FileResult],
                   line_base: dict[int, int]) -> list[Progressed]:
    """How far each input was read, for the state store (a file that could not be read is retried)."""
    progressed = []
    for i, f in enumerate(files):
        r = resumes[i]
        if f.path == "-" or (r.head_len == 0 and i not in results):
            continue
        got = results.get(i)
        done = r.skip_bytes + (got.stats.bytes_read if got else 0)
        cut_short = got is not None and got.stats.truncated
        if cut_short and not done:
            continue  # unreadable: try again next time
        progressed.append(Progressed(f, r, done, line_base.get(i, r.line_base), complete=not cut_short,
                                     lines_from=r.line_base))
    return progressed
