"""Connects the stages: read -> extract -> decode -> check -> aggregate -> write.

`scan_file` is a pure function of one input file and the settings: it yields batches of
occurrence columns plus the facts of the tokens first seen in them. It is what runs in worker
processes (and, later, on a cluster). `run` owns everything else, including all writing.
"""

from __future__ import annotations

import time
from pathlib import Path
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from analyzer import extract, formats
from analyzer import schema as S
from analyzer.config import Settings
from analyzer.decode import TokenFacts, analyze_token, fingerprint
from analyzer.keys import KeyRing
from analyzer.readers import InputFile, ReadStats, iter_chunks

BATCH_ROWS = 200_000
_OCC_COLUMNS = ("ts", "source", "line", "format", "location", "param", "host", "method", "path", "status",
                "client_ip", "user_agent", "token_fp")


@dataclass
class Batch:
    """Occurrences found in part of one file, and the tokens first seen there."""

    columns: dict[str, list[Any]]
    tokens: dict[str, TokenFacts]
    mtime_us: int

    def __len__(self) -> int:
        return len(self.columns["token_fp"])


@dataclass
class FileResult:
    """Per-file counters for run.json."""

    path: str
    format: str = S.FMT_GENERIC
    stats: ReadStats = field(default_factory=ReadStats)
    tokens: int = 0
    rejected: int = 0
    masked: int = 0
    invalid_utf8_lines: int = 0


def _new_columns() -> dict[str, list[Any]]:
    return {c: [] for c in _OCC_COLUMNS}


def _file_context(f: InputFile, settings: Settings, start: int) -> tuple[formats.FileContext, str | None]:
    """Per-file parsing state, and the format when it must come from the file's head (a byte range)."""
    from analyzer import readers
    from analyzer.timeparse import zone_from_text

    mtime = f.mtime or time.time()
    ctx = formats.FileContext(year=datetime.fromtimestamp(mtime, tz=timezone.utc).year,
                              tz=zone_from_text(settings.timezone), mtime_us=int(mtime * 1_000_000))
    fmt = settings.format
    if start > 0:
        # A range in the middle of a file: detect from the file's first lines, and pick up the W3C
        # field list in force where the range starts.
        if fmt is None:
            fmt = formats.detect(readers.read_head(f).split(b"\n")[:50])
        if fmt == S.FMT_IIS:
            directive = readers.last_line_starting(f, b"#Fields:", start)
            if directive:
                ctx.iis_fields = [d.lower() for d in directive[8:].decode("latin-1").split()]
    return ctx, fmt


def scan_file(f: InputFile, settings: Settings, ring: KeyRing, result: FileResult,
              known: dict[str, TokenFacts] | None = None, start: int = 0, end: int | None = None
              ) -> Iterator[Batch]:
    """Find and decode every token in one file (or byte range); yield occurrence batches.

    `known` holds the facts of tokens decoded before (it gains the new ones): each unique token
    is decoded once per process. A batch's `tokens` are the ones first decoded in it.
    """
    known = {} if known is None else known
    ctx, fmt = _file_context(f, settings, start)
    mtime_us = ctx.mtime_us or 0
    if fmt is not None:
        result.format = fmt
    cols = _new_columns()
    new_tokens: dict[str, TokenFacts] = {}
    for chunk, first_line in iter_chunks(f, result.stats, settings.extra.get("max_decompressed", 1 << 40),
                                         start=start, end=end):
        if fmt is None:
            fmt = formats.detect(chunk[:65536].split(b"\n")[:50])
            result.format = fmt
        result.masked += extract.count_masked(chunk)
        if not chunk.isascii():
            result.invalid_utf8_lines += _invalid_utf8_lines(chunk)
        # W3C `#Fields:` directives may change the columns mid-file: apply each before the lines after it.
        directives = formats.field_directives(chunk)
        next_directive = 0
        last_line = -1
        line_fmt, fields = S.FMT_GENERIC, formats.EMPTY
        for hit in extract.find_tokens(chunk, first_line):
            while next_directive < len(directives) and directives[next_directive][0] < hit.line_start:
                ctx.iis_fields = directives[next_directive][1]
                next_directive += 1
            token = extract.canonical(chunk[hit.start:hit.end])
            location, param = extract.locate(chunk[max(hit.line_start, hit.start - 160):hit.start])
            # Inside an Authorization header anything `eyJ...` is a token (maybe a malformed one);
            # elsewhere a JWT-shaped string must at least have a JOSE header to count.
            if location != S.LOC_AUTHORIZATION and not extract.plausible_header(token):
                result.rejected += 1
                continue
            fp = fingerprint(token)
            if fp not in known:
                # A token that runs to the end of its line was probably cut by a line-length limit.
                cut = chunk[hit.end:hit.end + 1] in (b"", b"\n", b"\r")
                known[fp] = new_tokens[fp] = analyze_token(token, ring, settings.clients, truncated=cut)
            del token
            if hit.line_start != last_line:
                last_line = hit.line_start
                line_fmt, fields = formats.parse_line(chunk[hit.line_start:hit.line_end], fmt, ctx)
            span = fields.query_span
            if span is not None and location in (S.LOC_FORM, S.LOC_TEXT) and \
                    span[0] <= hit.start - hit.line_start < span[1]:
                location = S.LOC_QUERY
            cols["ts"].append(fields.ts)
            cols["source"].append(f.path)
            cols["line"].append(hit.line_no)
            cols["format"].append(line_fmt)
            cols["location"].append(location)
            cols["param"].append(param)
            cols["host"].append(fields.host)
            cols["method"].append(fields.method)
            cols["path"].append(fields.path)
            cols["status"].append(fields.status)
            cols["client_ip"].append(fields.client_ip)
            cols["user_agent"].append(fields.user_agent)
            cols["token_fp"].append(fp)
            result.tokens += 1
        if directives:
            ctx.iis_fields = directives[-1][1]
        if len(cols["token_fp"]) >= BATCH_ROWS:
            yield Batch(cols, new_tokens, mtime_us)
            cols, new_tokens = _new_columns(), {}
    if cols["token_fp"] or new_tokens:
        yield Batch(cols, new_tokens, mtime_us)


def _invalid_utf8_lines(chunk: bytes) -> int:
    """Lines of a non-ASCII chunk that are not valid UTF-8 (counted, then read as bytes anyway)."""
    try:
        chunk.decode("utf-8")
        return 0
    except UnicodeDecodeError:
        pass
    bad = 0
    for line in chunk.split(b"\n"):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
    return bad


def batch_frame(batch: Batch) -> pd.DataFrame:
    """A batch's columns as a DataFrame with the occurrence dtypes."""
    c = batch.columns
    df = pd.DataFrame({
        "ts": pd.array(c["ts"], dtype="Int64"),
        "source": c["source"],
        "line": pd.array(c["line"], dtype="int64"),
        "format": c["format"],
        "location": c["location"],
        "param": c["param"],
        "host": c["host"],
        "method": c["method"],
        "path": c["path"],
        "status": pd.array(c["status"], dtype="Int32"),
        "client_ip": c["client_ip"],
        "user_agent": c["user_agent"],
        "token_fp": c["token_fp"],
    })
    df["mtime_us"] = batch.mtime_us
    return df


ProgressFn = Callable[[int], None]


@dataclass
class RunOutcome:
    """What `run` returns to the CLI: the run summary (as written to run.json) and the exit code."""

    summary: dict[str, Any]
    exit_code: int


class Progress:
    """Bytes read against the total; the CLI supplies the display."""

    def __init__(self, total: int, update: Callable[[int, int], None] | None = None) -> None:
        self.total = total
        self.done = 0
        self._update = update

    def advance(self, n: int) -> None:
        """Count n more bytes."""
        self.done += n
        if self._update:
            self._update(self.done, self.total)


def run(settings: Settings, inputs: list[str], progress: Callable[[int, int], None] | None = None,
        fail_above: float | None = None) -> RunOutcome:
    """Scan the inputs and write every output; the one place that connects all stages."""
    from analyzer import __version__, privacy, report, report_data
    from analyzer.aggregate import Aggregator
    from analyzer.check import classify
    from analyzer.errors import ExitCode
    from analyzer.keystore import load_keyring
    from analyzer.readers import expand_inputs
    from analyzer.write import OutputDir

    started = time.time()
    timings: dict[str, float] = {}
    ring = load_keyring(settings)  # the key store is the only stage that may open a connection
    expansion = expand_inputs(inputs, settings.skip_paths)
    meter = Progress(sum(f.size for f in expansion.files), progress)
    out = OutputDir(settings.out_dir)
    agg = Aggregator()
    tokens: dict[str, TokenFacts] = {}
    results: list[FileResult] = []
    seen: dict[str, TokenFacts] = {}  # decoded tokens, shared across files
    t_classify = 0.0
    try:
        for f in expansion.files:
            result = FileResult(path=f.path)
            results.append(result)
            before = 0
            for batch in scan_file(f, settings, ring, result, seen):
                tokens.update(batch.tokens)
                t0 = time.perf_counter()
                ev = classify(batch_frame(batch), tokens, settings)
                t_classify += time.perf_counter() - t0
                out.write_events(ev)
                agg.add(ev)
                meter.advance(result.stats.bytes_read - before)
                before = result.stats.bytes_read
            meter.advance(max(0, f.size - before))
        timings["scan_seconds"] = round(time.time() - started, 3)
        timings["classify_seconds"] = round(t_classify, 3)

        key = privacy.load_key()
        summary_df = agg.summary()
        t0 = time.time()
        out.write_parquet("summary.parquet", summary_df, S.SUMMARY_SCHEMA)
        by_cause = {c: 0 for c in S.CAUSES}
        if not summary_df.empty:
            for c, n in summary_df.groupby("cause", observed=True)["occurrences"].sum().items():
                by_cause[str(c)] = int(n)
        for e in agg.examples.values():
            for ex in e:
                f_ = tokens.get(ex["token_fp"])
                if f_ is not None:
                    ex["header"] = privacy.scrub_claims(f_.header, key, True)
                    ex["claims"] = privacy.scrub_claims(f_.claims, key, settings.include_pii)
        occurrences = agg.rows
        failures = occurrences - by_cause[S.OK]
        rate = failures / occurrences if occurrences else 0.0
        readable = [r for r in results if r.stats.bytes_read or not r.stats.errors]
        nothing_read = not readable or not any(r.stats.bytes_read for r in results)
        exit_code = ExitCode.OK
        if nothing_read and expansion.errors + [e for r in results for e in r.stats.errors]:
            exit_code = ExitCode.NOTHING_READ
        elif nothing_read and not results:
            exit_code = ExitCode.NOTHING_READ
        elif fail_above is not None and rate > fail_above:
            exit_code = ExitCode.FAIL_ABOVE
        run_summary: dict[str, Any] = {
            "version": __version__,
            "schema_version": S.SCHEMA_VERSION,
            "started_at": datetime.fromtimestamp(started, tz=timezone.utc).isoformat(),
            "finished_at": None,
            "inputs": inputs,
            "options": {
                "out": str(settings.out_dir), "config": str(settings.config_path) if settings.config_path else None,
                "leeway_seconds": settings.leeway_seconds, "offline": settings.offline,
                "format": settings.format, "workers": settings.workers, "include_pii": settings.include_pii,
                "fail_above": fail_above,
                "cache_dir": str(settings.cache_dir) if settings.cache_dir else None,
            },
            "files": {
                "count": len(results),
                "bytes": sum(r.stats.bytes_read for r in results),
                "lines": sum(r.stats.lines for r in results),
                "lines_undecodable": sum(r.invalid_utf8_lines for r in results),
                "long_lines": sum(r.stats.long_lines for r in results),
                "errors": expansion.errors + [e for r in results for e in r.stats.errors],
                "by_format": _count_by(r.format for r in results),
                "detail": [{"path": r.path, "format": r.format, "bytes": r.stats.bytes_read, "lines": r.stats.lines,
                            "tokens": r.tokens, "errors": len(r.stats.errors)} for r in results[:1000]],
            },
            "tokens": {
                "occurrences": occurrences,
                "unique": len(tokens),
                "failing": failures,
                "failure_rate": round(rate, 6),
                "masked": sum(r.masked for r in results),
                "rejected_candidates": sum(r.rejected for r in results),
                "by_cause": by_cause,
                "by_kind": _count_by(f.kind for f in tokens.values()),
            },
            "keys": ring.describe(),
            "timings": timings,
            "exit_code": int(exit_code),
        }
        run_summary["history"] = report_data.history(settings.out_dir)
        run_summary["expectations"] = report_data.expectations(settings)
        out.write_json("examples.json", agg.examples)
        out.write_text("report.html", report.render(report_data.ReportData.load(out.stage, run_summary)))
        timings["write_seconds"] = round(time.time() - t0, 3)
        run_summary["finished_at"] = datetime.now(tz=timezone.utc).isoformat()
        timings["total_seconds"] = round(time.time() - started, 3)
        out.write_json("run.json", run_summary)
        out.publish()
    except BaseException:
        out.abandon()
        raise
    return RunOutcome(run_summary, int(exit_code))


def _count_by(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def read_events(directory: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The events dataset of an output directory (with `date` as a date, not a string)."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(directory / "events", format="parquet", partitioning=ds.partitioning(
        S.PARTITION_SCHEMA, flavor="hive"))
    return dataset.to_table(columns=columns).to_pandas()


def rebuild_report(directory: Path, out_file: Path | None = None, split_by: str | None = None,
                   since_us: int | None = None, until_us: int | None = None) -> Path:
    """Write report.html again from an output directory; with `split_by`, one report per owner and an index."""
    from analyzer import report
    from analyzer.errors import ConfigError
    from analyzer.report_data import SPLIT_DIMENSIONS, ReportData, report_file_name

    if split_by is not None and split_by not in SPLIT_DIMENSIONS:
        raise ConfigError(f"--split-by must be one of: {', '.join(SPLIT_DIMENSIONS)}")
    try:
        data = ReportData.load(directory, since_us=since_us, until_us=until_us)
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"not a readable analyzer output directory ({type(e).__name__}: {e})",
                          str(directory)) from None
    if split_by is None:
        target = out_file or directory / "report.html"
        _write_html(target, report.render(data))
        return target
    dim = SPLIT_DIMENSIONS[split_by]
    folder = out_file or directory / f"reports-by-{split_by}"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for value, occ, fail in data.owners(dim):
        name = report_file_name(dim, value)
        _write_html(folder / name, report.render(data.only(dim, value)))
        entries.append((name, value, occ, fail))
    _write_html(folder / "index.html", report.render_index(entries, dim, data))
    return folder / "index.html"


def _write_html(target: Path, text: str) -> None:
    """Write one report file under a temporary name, then rename it into place."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
