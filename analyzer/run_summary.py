"""run.json: what a run counted (`Tally`), its exit code, and the summary record built from them.

The keys are the public contract's (`docs/contract.md`); this module builds them all but the diagnosis
keys, `finished_at` and the last timings, which `run` adds when it has them.
Imports the stages' records (scan, outputs, diagnose, report data); nothing of `run` or `cli`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer import schema as S
from analyzer.config import Settings
from analyzer.errors import ExitCode
from analyzer.outputs.aggregate import Aggregator, DistinctTokens, merge_examples
from analyzer.outputs.state import Rebuild, Recorded
from analyzer.report import data as report_data
from analyzer.scan.chunks import FileResult
from analyzer.scan.inputs import Expansion, shown
from analyzer.tokens.keys import KeyRing

RUN_JSON_FILES = 1000  # files listed one by one in run.json (the counts cover them all)
RUN_JSON_SKIPPED = 100  # files skipped as not logs, listed one by one (the counts cover them all)


@dataclass
class Tally:
    """What a run read, found and changed: everything run.json says about it but the diagnosis."""

    run_id: str
    started: float  # epoch seconds
    inputs: list[str]  # as given on the command line
    expansion: Expansion  # the files they named, the ones skipped, the errors
    results: list[FileResult]  # per file read, in input order
    unchanged: int  # files with nothing new since the last run
    counts: Aggregator  # this run's occurrences by cause, and the examples
    unique: DistinctTokens
    window: dict[str, int]  # the dataset's occurrences by cause, within --since/--until
    events: Path  # the published events dataset
    unverified_ok: dict[str, Any]  # `unverified.Unverified` of the dataset's window, folded on the summary's pass
    dataset_rows: int  # rows of the whole dataset, from the footers that pass read
    rebuild: Rebuild | None = None
    recorded: list[Recorded] = dataclasses.field(default_factory=list)  # inputs an earlier run read
    vanished: list[Recorded] = dataclasses.field(default_factory=list)  # of those, the ones that are gone
    kept: int = 0  # occurrences of vanished inputs carried over by a rebuild
    orphans: int = 0  # part files of runs that never committed, removed
    dropped: list[str] = dataclasses.field(default_factory=list)  # partitions past --keep-days
    nothing_new_since: float | None = None  # when a run last read something (epoch seconds)

    @property
    def errors(self) -> list[Any]:
        return self.expansion.errors + [e for r in self.results for e in r.stats.errors]

    @property
    def nothing_read(self) -> bool:
        """Nothing could be read at all: there were inputs, and every one failed (exit code 3). Paths that
        hold no log file (an empty directory) are not an error: there is just nothing new."""
        return not self.unchanged and not any(r.stats.bytes_read for r in self.results) and bool(self.errors)

    def exit_code(self, fail_above: float | None) -> ExitCode:
        if self.nothing_read:
            return ExitCode.NOTHING_READ
        if fail_above is not None and _rate(self.window) > fail_above:
            return ExitCode.FAIL_ABOVE
        return ExitCode.OK


def _rate(by_cause: dict[str, int]) -> float:
    total = sum(by_cause.values())
    return (total - by_cause.get(S.OK, 0)) / total if total else 0.0


def summary(settings: Settings, tally: Tally, ring: KeyRing, fail_above: float | None,
            timings: dict[str, float]) -> dict[str, Any]:
    """The run summary, as run.json holds it (without the diagnosis keys and `finished_at`)."""
    results = tally.results
    by_cause = {c: 0 for c in S.CAUSES}
    by_cause.update(tally.counts.cause_counts())
    occurrences = tally.counts.rows
    failures = occurrences - by_cause[S.OK]
    window_total = sum(tally.window.values())
    rebuild = tally.rebuild
    nothing_new = rebuild is None and not tally.nothing_read and not any(r.stats.bytes_read for r in results)
    expansion = tally.expansion
    run: dict[str, Any] = {
        "version": __version__,
        "schema_version": S.SCHEMA_VERSION,
        "run_id": tally.run_id,
        "started_at": datetime.fromtimestamp(tally.started, tz=UTC).isoformat(),
        "finished_at": None,
        "inputs": [shown(p) for p in tally.inputs],
        "options": options(settings, fail_above),
        "files": {
            "count": len(results),
            "unchanged": tally.unchanged,
            "bytes": sum(r.stats.bytes_read for r in results),
            "lines": sum(r.stats.lines for r in results),
            "lines_undecodable": sum(r.invalid_utf8_lines for r in results),
            "long_lines": sum(r.stats.long_lines for r in results),
            "errors": tally.errors,
            "by_format": count_by(r.format for r in results),
            "skipped_not_logs": {
                "count": len(expansion.not_logs),
                "by_reason": count_by(reason for _, reason in expansion.not_logs),
                "paths": [{"path": p, "reason": reason} for p, reason in expansion.not_logs[:RUN_JSON_SKIPPED]],
            },
            "detail": [{"path": r.path, "format": r.format, "bytes": r.stats.bytes_read, "lines": r.stats.lines,
                        "tokens": r.tokens, "errors": len(r.stats.errors)} for r in results[:RUN_JSON_FILES]],
        },
        "tokens": {
            "occurrences": occurrences,
            "unique": len(tally.unique),
            "failing": failures,
            "failure_rate": round(failures / occurrences if occurrences else 0.0, 6),
            "masked": sum(r.masked for r in results),
            "rejected_candidates": sum(r.rejected for r in results),
            "by_cause": by_cause,
            "by_kind": dict(sorted(tally.unique.kinds.items(), key=lambda kv: -kv[1])),
        },
        "dataset": {
            "occurrences": window_total,
            "failing": window_total - tally.window.get(S.OK, 0),
            "failure_rate": round(_rate(tally.window), 6),
            "by_cause": tally.window,
            "since": iso(settings.since_us),
            "until": iso(settings.until_us),
            "total_occurrences": tally.dataset_rows,
            "nothing_new": nothing_new,
            "nothing_new_since": (iso(int(tally.nothing_new_since * 1e6))
                                  if nothing_new and tally.nothing_new_since else None),
            "rescanned": rebuild.reason if rebuild is not None else None,
            "rebuild": None if rebuild is None else {
                "reason": rebuild.reason,
                "inputs_given": [shown(p) for p in tally.inputs],
                "inputs_recorded": len(tally.recorded),
                "files_read": len(results),
                "vanished": [shown(rec.abs_path or rec.path) for rec in tally.vanished],
                "kept_occurrences": tally.kept,
            },
            "orphans_removed": tally.orphans,
            "partitions_dropped": tally.dropped,
        },
        # `ok` rows of the dataset (the window) whose signature could not be checked, and why.
        "unverified_ok": tally.unverified_ok,
        "keys": ring.describe(),
        "timings": timings,
        "exit_code": int(tally.exit_code(fail_above)),
    }
    run["history"] = report_data.history(settings.out_dir)
    run["expectations"] = report_data.expectations(settings)
    return run


def classification_settings(settings: Settings) -> dict[str, Any]:
    """What `Settings.fingerprint` hashes, readable: kept in the state to say what changed."""
    return {
        "version": __version__, "schema_version": S.SCHEMA_VERSION, "leeway_seconds": settings.leeway_seconds,
        "issuers": [s.location for s in settings.issuers],
        "apis": [dataclasses.asdict(a) for a in settings.apis],
        "clients": sorted([c.client_id, c.name, sorted(c.thumbprints)] for c in settings.clients),
        "format": settings.format, "timezone": settings.timezone, "include_pii": settings.include_pii,
        "config": str(settings.config_path) if settings.config_path else None,
    }


def what_changed(before: dict[str, Any], now: dict[str, Any]) -> str:
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


def options(settings: Settings, fail_above: float | None) -> dict[str, Any]:
    """The options of a run, as run.json records them."""
    return {
        "out": shown(str(settings.out_dir)),
        "config": shown(str(settings.config_path)) if settings.config_path else None,
        "leeway_seconds": settings.leeway_seconds, "offline": settings.offline,
        "format": settings.format, "workers": settings.workers, "engine": settings.engine,
        "include_pii": settings.include_pii, "fail_above": fail_above, "keep_days": settings.keep_days,
        "since": iso(settings.since_us), "until": iso(settings.until_us), "rescan": settings.rescan,
        "cache_dir": shown(str(settings.cache_dir)) if settings.cache_dir else None,
        # Every key-set file the run read: the config's `jwks_file` entries, then the `--jwks` files.
        "jwks": [shown(str(s.jwks_file)) for s in settings.issuers if s.jwks_file is not None],
        "max_decompressed": settings.max_decompressed, "scheduler": settings.scheduler,
    }


def previous_diagnosis(out_dir: Path, fresh: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis keys of the output directory's previous run.json (else `fresh`), marked as such."""
    try:
        previous = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    carried = {k: previous[k] for k in fresh if k in previous}
    if not carried:
        return fresh
    carried["diagnosis_from_run"] = previous.get("diagnosis_from_run") or previous.get("run_id")
    return {**fresh, **carried}


def examples_of_dataset(out_dir: Path, fresh: dict[str, list[dict[str, Any]]],
                        window: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """The examples of a run that added to the dataset (or added nothing): the previous examples.json's,
    then this run's, per cause, no token twice, at most EXAMPLES_PER_CAUSE; only of the causes that
    still have rows in the window (`window`: occurrences by cause).

    A run's own examples cover only what it read: a rerun with nothing new would otherwise blank them,
    and a run that read one line would describe the whole dataset by that line's cause. (A rebuild
    takes only its own: it read the dataset anew, under settings the old examples may not match.)
    """
    try:
        previous = json.loads((out_dir / "examples.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    if not isinstance(previous, dict):
        previous = {}
    merged: dict[str, list[dict[str, Any]]] = {}
    for examples in ({c: [e for e in exs if isinstance(e, dict)] for c, exs in previous.items()
                      if isinstance(exs, list)}, fresh):
        merge_examples(merged, {c: exs for c, exs in examples.items() if window.get(c)})
    return {c: exs for c, exs in merged.items() if exs}


def iso(us: int | None) -> str | None:
    """Epoch microseconds as an ISO 8601 UTC time (None stays None)."""
    return None if us is None else datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat()


def count_by(values: Any) -> dict[str, int]:
    """How often each value occurs, most frequent first."""
    counts: dict[str, int] = {}
    for v in values:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
