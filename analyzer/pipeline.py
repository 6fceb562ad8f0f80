"""Connects the stages: scan -> decode -> check -> aggregate -> write / report.

`run` owns the run: the state store, planning (through `engine`), merging what the workers add up
to, and all writing. The per-file scan is `scan.chunks.scan_file`.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.config import Settings
from analyzer.scan.chunks import FileResult
from analyzer.scan.inputs import InputFile, shown
from analyzer.state import Rebuild, Recorded
from analyzer.tokens.decode import TokenFacts

RUN_JSON_FILES = 1000  # files listed one by one in run.json (the counts cover them all)



def _load_report_data(directory: Path, since_us: int | None, until_us: int | None) -> Any:
    from analyzer.report.data import ReportData

    return ReportData.load(directory, {}, since_us=since_us, until_us=until_us)


class _ReportReader:
    """`ReportData.load` of an output directory: in a forked process, while this one does other
    work, when there is a core to spare (else here, when the data is asked for)."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from analyzer.engine import init_child

        self._pool = None
        self._args = (directory, settings.since_us, settings.until_us)
        if os.name == "posix" and settings.workers > 1:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                             initializer=init_child)
            self._future = self._pool.submit(_load_report_data, *self._args)

    def result(self) -> Any:
        """The report data (without a run summary), read here if no process could be forked."""
        if self._pool is None:
            return _load_report_data(*self._args)
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()


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


@dataclass
class RunOutcome:
    """What `run` returns to the CLI: the run summary (as written to run.json) and the exit code."""

    summary: dict[str, Any]
    exit_code: int


ProgressCallback = Callable[[int, int, int, int], None]  # bytes done, bytes in all, files done, files in all


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
    from analyzer.errors import InputNotFoundError
    from analyzer.state import Lock, State

    # Before the output directory is touched: a typo in a path must not cost the dataset anything.
    missing = missing_inputs(inputs)
    if missing:
        raise InputNotFoundError(missing, str(settings.out_dir))
    started = time.time()
    run_id = datetime.fromtimestamp(started, tz=UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"
    lock = Lock(settings.out_dir)
    state = State(settings.out_dir)
    try:
        return _run_locked(settings, inputs, progress, fail_above, state, run_id, started)
    finally:
        state.close()
        lock.release()


def _run_locked(settings: Settings, inputs: list[str], progress: ProgressCallback | None,
                fail_above: float | None, state: Any, run_id: str, started: float) -> RunOutcome:
    from analyzer import __version__, unverified
    from analyzer.aggregate import Aggregator, DistinctTokens, summary_days
    from analyzer.diagnose.diagnoser import Diagnoser
    from analyzer.engine import plan, run_units, unit_bytes, use_memory_pool
    from analyzer.errors import ExitCode
    from analyzer.report import data as report_data
    from analyzer.report import page as report
    from analyzer.scan.inputs import expand_inputs
    from analyzer.tokens import privacy
    from analyzer.tokens.keystore import load_keyring
    from analyzer.write import OutputDir

    use_memory_pool()
    timings: dict[str, float] = {}
    meta = {"fingerprint": settings.fingerprint(), "settings": json.dumps(_classification_settings(settings)),
            "config_path": str(settings.config_path or "")}  # the CLI falls back on it when it finds no config
    nothing_new_since = state.last_new_data()
    out = OutputDir(settings.out_dir, run_id)
    orphans = out.remove_orphans(state.committed_runs())
    ring = load_keyring(settings)  # the key store is the only stage that may open a connection
    privacy.load_key()  # created here, before workers start, so that they all hash with the same key
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
    agg = Aggregator()
    diag = Diagnoser(settings, out.stage)
    tokens: dict[str, TokenFacts] = {}  # full facts of the example tokens only
    spare: dict[str, TokenFacts] = {}  # facts of candidates among held-back rows (bounded)
    unique = DistinctTokens()
    results: dict[int, FileResult] = {}  # per input file, in input order
    line_base = {i: resumes[i].line_base for i in todo}
    try:
        units = [u for u in plan(expansion.files, resume_at=todo, base_at=line_base,
                                   workers=max(1, settings.workers), max_decompressed=settings.max_decompressed)
                 if u.file_no in todo]
        # Progress in bytes of log (a compressed file by its decompressed size), as throughput is.
        meter = Progress(sum(unit_bytes(u) for u in units), progress, Counter(u.file_no for u in units))
        for output in run_units(units, settings, ring, max(1, settings.workers), run_id, (out.stage, run_id)):
            unit = output.unit
            fi = unit.file_no
            part = output.result
            base = line_base.get(fi, 0)
            line_base[fi] = base + part.stats.lines
            results[fi] = merge_results(results.get(fi), part)
            for ev in output.events:  # rows a remote worker could not write
                out.write_events(ev)
            for held in output.held:
                diag.hold(held)
            if output.held_file is not None:
                diag.hold_file(output.held_file)
            diag.merge(output.seen)
            agg.merge(output.counts)
            unique.add(output.tokens)
            wanted = {e["token_fp"] for exs in agg.examples.values() for e in exs}
            tokens.update({fp: f for fp, f in output.examples.items() if fp in wanted})
            if output.held or output.held_file is not None:
                # Held-back rows become examples only at diag.finish: keep their candidates' facts till then.
                for fp, f in output.examples.items():
                    if fp not in tokens and len(spare) < _SPARE_EXAMPLES:
                        spare[fp] = f
            meter.advance(unit_bytes(unit), fi)
        for ev in diag.finish():  # judged against what their host accepted, now that all is seen
            out.write_events(ev)
            agg.add(ev)
        timings["scan_seconds"] = round(time.time() - started, 3)

        kept = 0
        if rebuild is not None and rebuild.keep:
            # Events of inputs that are gone cannot be read again: they stay, as they were classified.
            rebuild = dataclasses.replace(rebuild, kept_reads=tuple(state.reads(rebuild.keep)))
            kept = out.keep_events(list(rebuild.kept_reads))

        # Commit: events into the dataset first, then the state that says they were read.
        out.publish_events()
        progressed = _progress_made(expansion.files, resumes, results, line_base)
        new_bytes = sum(r.stats.bytes_read for r in results.values())
        between_commit_steps()
        state.commit(out.run_id, progressed, new_bytes, agg.rows, started, meta, rebuild)
        if rebuild is not None:
            out.remove_orphans(state.committed_runs())  # the replaced dataset, now that the new one is in
        dropped: list[str] = []
        if settings.keep_days is not None:
            cutoff = datetime.fromtimestamp(started - settings.keep_days * 86400, tz=UTC)
            dropped = out.drop_partitions_before(cutoff.strftime("%Y-%m-%d"))

        t0 = time.time()
        key = privacy.load_key()
        # The summary and the report's data each read the events dataset once: with a core to spare,
        # the report's data is read in a forked process meanwhile.
        report_reader = _ReportReader(out.out, settings)
        window = {c: 0 for c in S.CAUSES}

        def counted(days: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for day in days:
                for c, n in day.groupby("cause", observed=True)["occurrences"].sum().items():
                    window[str(c)] += int(n)
                yield day

        # Written day by day: the summary is never whole in memory, however many days it spans.
        out.write_parquet_frames("summary.parquet", counted(summary_days(out.events, settings.since_us,
                                                                         settings.until_us)), S.SUMMARY_SCHEMA)
        by_cause = {c: 0 for c in S.CAUSES}
        for c, n in agg.cause_counts().items():
            by_cause[c] = n
        for e in agg.examples.values():
            for ex in e:
                f_ = tokens.get(ex["token_fp"]) or spare.get(ex["token_fp"])
                if f_ is not None:
                    ex["header"] = privacy.scrub_claims(f_.header, key, True)
                    ex["claims"] = privacy.scrub_claims(f_.claims, key, settings.include_pii)
        occurrences = agg.rows
        failures = occurrences - by_cause[S.OK]
        rate = failures / occurrences if occurrences else 0.0
        window_total = sum(window.values())
        window_rate = (window_total - window[S.OK]) / window_total if window_total else 0.0
        results_list = [results[i] for i in sorted(results)]
        errors = expansion.errors + [e for r in results_list for e in r.stats.errors]
        unchanged = sum(1 for i in range(len(expansion.files)) if i not in todo)
        nothing_read = not unchanged and not any(r.stats.bytes_read for r in results_list) and (
            bool(errors) or not expansion.files)
        nothing_new = rebuild is None and not nothing_read and not any(r.stats.bytes_read for r in results_list)
        exit_code = ExitCode.OK
        if nothing_read:
            exit_code = ExitCode.NOTHING_READ
        elif fail_above is not None and window_rate > fail_above:
            exit_code = ExitCode.FAIL_ABOVE
        run_summary: dict[str, Any] = {
            "version": __version__,
            "schema_version": S.SCHEMA_VERSION,
            "run_id": out.run_id,
            "started_at": datetime.fromtimestamp(started, tz=UTC).isoformat(),
            "finished_at": None,
            "inputs": [shown(p) for p in inputs],
            "options": _options(settings, fail_above),
            "files": {
                "count": len(results_list),
                "unchanged": unchanged,
                "bytes": sum(r.stats.bytes_read for r in results_list),
                "lines": sum(r.stats.lines for r in results_list),
                "lines_undecodable": sum(r.invalid_utf8_lines for r in results_list),
                "long_lines": sum(r.stats.long_lines for r in results_list),
                "errors": errors,
                "by_format": _count_by(r.format for r in results_list),
                "skipped_not_logs": {
                    "count": len(expansion.not_logs),
                    "by_reason": _count_by(reason for _, reason in expansion.not_logs),
                    "paths": [{"path": p, "reason": reason} for p, reason in expansion.not_logs[:100]],
                },
                "detail": [{"path": r.path, "format": r.format, "bytes": r.stats.bytes_read, "lines": r.stats.lines,
                            "tokens": r.tokens, "errors": len(r.stats.errors)} for r in results_list[:RUN_JSON_FILES]],
            },
            "tokens": {
                "occurrences": occurrences,
                "unique": len(unique),
                "failing": failures,
                "failure_rate": round(rate, 6),
                "masked": sum(r.masked for r in results_list),
                "rejected_candidates": sum(r.rejected for r in results_list),
                "by_cause": by_cause,
                "by_kind": dict(sorted(unique.kinds.items(), key=lambda kv: -kv[1])),
            },
            "dataset": {
                "occurrences": window_total,
                "failing": window_total - window[S.OK],
                "failure_rate": round(window_rate, 6),
                "by_cause": window,
                "since": _iso(settings.since_us),
                "until": _iso(settings.until_us),
                "total_occurrences": _dataset_rows(out.events),
                "nothing_new": nothing_new,
                "nothing_new_since": _iso(int(nothing_new_since * 1e6)) if nothing_new and nothing_new_since else None,
                "rescanned": rebuild.reason if rebuild is not None else None,
                "rebuild": None if rebuild is None else {
                    "reason": rebuild.reason,
                    "inputs_given": [shown(p) for p in inputs],
                    "inputs_recorded": len(recorded),
                    "files_read": len(results_list),
                    "vanished": [shown(rec.abs_path or rec.path) for rec in vanished],
                    "kept_occurrences": kept,
                },
                "orphans_removed": orphans,
                "partitions_dropped": dropped,
            },
            # `ok` rows of the dataset (the window) whose signature could not be checked, and why.
            "unverified_ok": unverified.count(out.events, ring, settings.since_us, settings.until_us),
            "keys": ring.describe(),
            "timings": timings,
            "exit_code": int(exit_code),
        }
        run_summary["history"] = report_data.history(settings.out_dir)
        run_summary["expectations"] = report_data.expectations(settings)
        diagnosis = diag.report()
        if not agg.rows:
            # Nothing new was read: the diagnosis of the last run that read something still holds
            # for the dataset (a second run the same night must not blank the report's diagnosis).
            diagnosis = _previous_diagnosis(settings.out_dir, diagnosis)
        run_summary.update(diagnosis)
        out.write_json("examples.json", agg.examples)
        data = report_reader.result().with_run(run_summary)
        data.examples = agg.examples  # this run's; the published examples.json is the previous run's
        out.write_text("report.html", report.render(data))
        timings["write_seconds"] = round(time.time() - t0, 3)
        run_summary["finished_at"] = datetime.now(tz=UTC).isoformat()
        timings["total_seconds"] = round(time.time() - started, 3)
        out.write_json("run.json", run_summary)
        out.publish()
    except BaseException:
        out.abandon()
        raise
    return RunOutcome(run_summary, int(exit_code))


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


def _classification_settings(settings: Settings) -> dict[str, Any]:
    """What `Settings.fingerprint` hashes, readable: kept in the state to say what changed."""
    from analyzer import __version__

    return {
        "version": __version__, "schema_version": S.SCHEMA_VERSION, "leeway_seconds": settings.leeway_seconds,
        "issuers": [s.location for s in settings.issuers],
        "apis": [dataclasses.asdict(a) for a in settings.apis],
        "clients": sorted([c.client_id, c.name, sorted(c.thumbprints)] for c in settings.clients),
        "format": settings.format, "timezone": settings.timezone, "include_pii": settings.include_pii,
        "config": str(settings.config_path) if settings.config_path else None,
    }


def _what_changed(before: dict[str, Any], now: dict[str, Any]) -> str:
    """The settings that differ, in words: `leeway_seconds 300 -> 60; apis`."""
    said = []
    for key, value in now.items():
        old = before.get(key)
        if old == value or key == "config":
            continue
        if isinstance(value, (list, dict)) or isinstance(old, (list, dict)):
            said.append(key)
        else:
            said.append(f"{key} {'none' if old is None else old} -> {'none' if value is None else value}")
    if said and before.get("config") != now.get("config"):
        said.append(f"config {before.get('config') or 'none'} -> {now.get('config') or 'none'}")
    return "; ".join(said)


def _plan_rebuild(settings: Settings, state: Any, inputs: list[str],
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
    changed = _what_changed(before, json.loads(meta["settings"])) if isinstance(before, dict) and before else ""
    reason = f"the settings changed ({changed})" if changed else "the settings changed"
    recorded = state.recorded()
    located = [loc for rec in recorded if (loc := rec.locate()) is not None]
    return Rebuild(reason), inputs + [p for p in dict.fromkeys(located) if p not in inputs], recorded


def _dataset_rows(events: Path) -> int:
    """Rows in the published events dataset, from the Parquet footers."""
    import pyarrow.dataset as ds

    if not events.is_dir():
        return 0
    return int(ds.dataset(events, format="parquet", partitioning=ds.partitioning(
        S.PARTITION_SCHEMA, flavor="hive")).count_rows())


_SPARE_EXAMPLES = 1000  # token facts kept for examples among held-back rows (a few KB each)


def _progress_made(files: list[InputFile], resumes: list[Any], results: dict[int, FileResult],
                   line_base: dict[int, int]) -> list[Any]:
    """How far each input was read, for the state store (a file that could not be read is retried)."""
    from analyzer.state import Progressed

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


def _options(settings: Settings, fail_above: float | None) -> dict[str, Any]:
    """The options of a run, as run.json records them."""
    return {
        "out": shown(str(settings.out_dir)),
        "config": shown(str(settings.config_path)) if settings.config_path else None,
        "leeway_seconds": settings.leeway_seconds, "offline": settings.offline,
        "format": settings.format, "workers": settings.workers, "engine": settings.engine,
        "include_pii": settings.include_pii, "fail_above": fail_above, "keep_days": settings.keep_days,
        "since": _iso(settings.since_us), "until": _iso(settings.until_us), "rescan": settings.rescan,
        "cache_dir": shown(str(settings.cache_dir)) if settings.cache_dir else None,
    }


def _previous_diagnosis(out_dir: Path, fresh: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis keys of the output directory's previous run.json (else `fresh`), marked as such."""
    import json

    try:
        previous = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    carried = {k: previous[k] for k in fresh if k in previous}
    if not carried:
        return fresh
    carried["diagnosis_from_run"] = previous.get("diagnosis_from_run") or previous.get("run_id")
    return {**fresh, **carried}


def _iso(us: int | None) -> str | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat()


def _count_by(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class Written:
    """What `rebuild_report` wrote: the report (or the index) and, when split, each owner's report."""

    path: Path
    reports: list[tuple[str, Path, int, int]]  # (owner's name, file, occurrences, failing)


def rebuild_report(directory: Path, out_file: Path | None = None, split_by: str | None = None,
                   since_us: int | None = None, until_us: int | None = None) -> Written:
    """Write report.html again from an output directory; with `split_by`, one report per owner and an index."""
    from analyzer.errors import ConfigError
    from analyzer.report import page as report
    from analyzer.report.data import SPLIT_DIMENSIONS, ReportData, report_file_name
    from analyzer.report.text import Names
    from analyzer.write import DIR_MODE, write_text_file

    if split_by is not None and split_by not in SPLIT_DIMENSIONS:
        raise ConfigError(f"--split-by must be one of: {', '.join(SPLIT_DIMENSIONS)}")
    try:
        data = ReportData.load(directory, since_us=since_us, until_us=until_us)
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"not a readable analyzer output directory ({type(e).__name__}: {e})",
                          str(directory)) from None
    if split_by is None:
        target = out_file or directory / "report.html"
        write_text_file(target, report.render(data))
        return Written(target, [])
    dim = SPLIT_DIMENSIONS[split_by]
    folder = out_file or directory / f"reports-by-{split_by}"
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    names = Names.of_run(data.run)
    entries, written = [], []
    for value, occ, fail in data.owners(dim):
        label = names.name(dim, value)
        name = report_file_name(dim, value, label if names.has_name(dim, value) else None)
        write_text_file(folder / name, report.render(data.only(dim, value)))
        entries.append((name, value, occ, fail))
        written.append((label, folder / name, occ, fail))
    write_text_file(folder / "index.html", report.render_index(entries, dim, data))
    return Written(folder / "index.html", written)
