"""The command line: parse options, freeze them into Settings, call the pipeline, map errors to exit codes.

Only this module imports Typer.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from analyzer import schema as S
from analyzer.errors import AnalyzerError, ConfigError, ExitCode

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find out why bearer tokens fail: scan logs, decode and verify every JWT, classify causes, report.",
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    typer.echo(f"analyzer: {message}", err=True)
    return typer.Exit(int(code))


class _Bar:
    """A one-line progress display on stderr: bytes read, throughput, ETA."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-6)
        pct = 100 * done / total if total else 100.0
        eta = (total - done) / rate if rate and total > done else 0
        sys.stderr.write(f"\r{pct:5.1f}%  {done / 1e6:,.0f}/{total / 1e6:,.0f} MB  {rate / 1e6:,.1f} MB/s  "
                         f"ETA {eta:,.0f} s ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r" + " " * 70 + "\r")
        sys.stderr.flush()


def _window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """--since/--until as epoch microseconds (relative times count back from now)."""
    from analyzer.config import parse_when

    now_us = int(time.time() * 1_000_000)
    return (parse_when(since, now_us) if since else None, parse_when(until, now_us) if until else None)


@app.command()
def scan(
    paths: Annotated[list[str], typer.Argument(help="Log files, directories (read recursively) or globs; - is stdin.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("reports"),
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file (default: ./analyzer.toml, "
                                                "or analyzer.toml inside a scanned directory).")] = None,
    jwks: Annotated[list[Path] | None, typer.Option("--jwks", help="A JSON Web Key Set file to verify signatures "
                                                    "with; may be repeated.")] = None,
    offline: Annotated[bool | None, typer.Option("--offline/--online", help="Never open a network connection.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Where fetched signing keys and "
                                                   "their history are kept (default: the user cache "
                                                   "directory).")] = None,
    leeway: Annotated[int | None, typer.Option("--leeway", min=0, help="Clock-skew tolerance in seconds "
                                               "(default 300).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Worker processes "
                                                "(default: all cores).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="local or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address "
                                                  "(tcp://host:8786).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Window of summary.parquet and the report: "
                                              "requests at or after this time (ISO date/time, or 7d, 12h).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="End of that window (exclusive).")] = None,
    keep_days: Annotated[int | None, typer.Option("--keep-days", min=1, help="Drop events older than this many "
                                                  "days from the dataset (retention).")] = None,
    rescan: Annotated[bool, typer.Option("--rescan", help="Forget what earlier runs read and rebuild the "
                                         "dataset from the inputs.")] = False,
    fail_above: Annotated[float | None, typer.Option("--fail-above", min=0.0, max=1.0,
                                                     help="Exit 1 when the share of failing tokens is above "
                                                     "this rate (0..1).")] = None,
    log_format: Annotated[str | None, typer.Option("--format", help="Force a log format instead of detecting it: "
                                                   + ", ".join(S.FORMATS) + ".")] = None,
    include_pii: Annotated[bool, typer.Option("--include-pii", help="Write personal claims in clear text "
                                              "instead of keyed hashes.")] = False,
    max_decompressed: Annotated[str | None, typer.Option(
        "--max-decompressed", metavar="SIZE", help="Read at most this much decompressed data per compressed file "
        "(e.g. 50GiB; default: 10 GiB or 1000x the file's size, whichever is more); a compression bomb stops "
        "there and the rest is counted as skipped.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as one JSON object on "
                                          "stdout.")] = False,
) -> None:
    """Scan logs for bearer tokens and write events/, summary.parquet, report.html and run.json."""
    from analyzer.config import build_settings
    from analyzer.pipeline import run

    if log_format is not None and log_format not in S.FORMATS:
        raise _fail(f"unknown --format {log_format!r}; choose one of: {', '.join(S.FORMATS)}")
    if engine not in ("local", "dask"):
        raise _fail(f"unknown --engine {engine!r}; choose local or dask")
    if scheduler and engine != "dask":
        raise _fail("--scheduler needs --engine dask")
    window = _window(since, until)
    limit = None
    if max_decompressed is not None:
        from analyzer.config import parse_size

        try:
            limit = parse_size(max_decompressed)
        except ValueError as e:
            raise _fail(f"--max-decompressed: {e}") from None
    settings = build_settings(
        config, paths, jwks=[str(j) for j in jwks or []], offline=offline, leeway_seconds=leeway,
        cache_dir=cache_dir, workers=workers or os.cpu_count() or 1, out_dir=out, format=log_format,
        quiet=quiet, include_pii=include_pii or None, engine=engine, scheduler=scheduler,
        since_us=window[0], until_us=window[1], keep_days=keep_days, rescan=rescan or None,
        max_decompressed=limit,
    )
    show = not quiet and sys.stderr.isatty()
    bar = _Bar() if show else None
    try:
        outcome = run(settings, paths, progress=bar, fail_above=fail_above)
    finally:
        if bar:
            bar.close()
    s = outcome.summary
    if as_json:
        typer.echo(json.dumps(s, default=str, separators=(",", ":")))
    elif not quiet:
        tok = s["tokens"]
        typer.echo(f"{tok['occurrences']:,} token occurrences ({tok['unique']:,} unique) in "
                   f"{s['files']['count']:,} files; {tok['failure_rate']:.1%} failing. Report: {out / 'report.html'}",
                   err=True)
    raise typer.Exit(outcome.exit_code)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="An output directory written by `analyzer scan`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Report file (default: DIR/report.html); with "
                                             "--split-by, a directory (default: DIR/reports-by-client).")] = None,
    split_by: Annotated[str | None, typer.Option("--split-by", help="client or audience: one report each, "
                                                 "plus index.html.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only requests at or after this time "
                                              "(ISO date/time, or 7d, 12h).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only requests before this time.")] = None,
) -> None:
    """Rebuild report.html from an existing output directory, or one report per client or audience."""
    from analyzer.pipeline import rebuild_report

    if split_by is not None and split_by not in ("client", "audience"):
        raise _fail(f"unknown --split-by {split_by!r}; choose client or audience")
    bounds = _window(since, until)
    if not (directory / "run.json").is_file():
        raise _fail(f"{directory} is not an analyzer output directory (no run.json)")
    written = rebuild_report(directory, out, split_by, bounds[0], bounds[1])
    if split_by is None:
        typer.echo(f"wrote {written.path}", err=True)
        return
    what = "client" if split_by == "client" else "audience"
    typer.echo(f"wrote {len(written.reports)} reports, one per {what}, and their index {written.path}", err=True)
    for label, path, occ, fail in written.reports[:_LISTED]:
        shown = "".join(ch if ch.isprintable() else "?" for ch in label)[:60]  # log text: no terminal escapes
        typer.echo(f"  {path.name}  {shown}: {fail:,} failing of {occ:,}", err=True)
    if len(written.reports) > _LISTED:
        typer.echo(f"  … and {len(written.reports) - _LISTED} more (see the index)", err=True)


_LISTED = 30  # per-owner reports listed by name after `report --split-by`


@app.command()
def inspect(
    token: Annotated[str, typer.Argument(help="The token (with or without 'Bearer '), or - to read it from stdin.")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")] = None,
    jwks: Annotated[list[Path] | None, typer.Option("--jwks", help="A JSON Web Key Set file; may be repeated.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Where fetched signing keys and "
                                                   "their history are kept (default: the user cache "
                                                   "directory).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Judge times at this moment (ISO 8601) instead of "
                                           "now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Decode one token: header, claims with readable times, and every check's verdict (never the signature)."""
    from analyzer.config import build_settings
    from analyzer.inspect_token import inspect as inspect_one
    from analyzer.timeparse import parse_any

    raw = sys.stdin.read() if token == "-" else token
    if not raw.strip():
        raise _fail("no token given")
    at_us = None
    if at is not None:
        at_us = parse_any(at.encode())
        if at_us is None:
            raise _fail(f"--at {at!r} is not an ISO 8601 time")
    settings = build_settings(config, [], jwks=[str(j) for j in jwks or []], cache_dir=cache_dir)
    result = inspect_one(raw, settings, at_us)
    if as_json:
        typer.echo(json.dumps(result, default=str, indent=2, ensure_ascii=False))
        return
    typer.echo(f"token {result['token_fp']}  kind: {result['kind']}  verdict: {result['cause']}")
    if result["detail"]:
        typer.echo(f"  {result['detail']}")
    typer.echo("header:")
    typer.echo(json.dumps(result["header"], indent=2, ensure_ascii=False, default=str))
    typer.echo("claims:")
    for k, v in result["claims"].items():
        when = result["times"].get(k)
        typer.echo(f"  {k}: {json.dumps(v, ensure_ascii=False, default=str)}" + (f"   ({when})" if when else ""))
    typer.echo(f"checks (at {result['judged_at']}; signature checked: {result['signature_checked']}):")
    for c in result["checks"]:
        typer.echo(f"  {'FAIL' if c['verdict'] == 'fail' else 'ok  '} {c['check']}"
                   + (f": {c['detail']}" if c.get("detail") else ""))


def _usage_message(e: Exception) -> str | None:
    """The one-line message of a Typer/Click usage error (duck-typed: Typer vendors Click since 0.22)."""
    fmt = getattr(e, "format_message", None)
    if fmt is None or not hasattr(e, "exit_code"):
        return None
    return " ".join(str(fmt()).split())


# A young-generation collection every 100,000 net allocations instead of Python's 700: the scan
# allocates and frees millions of short-lived tuples and strings a second, none of them in reference
# cycles, and the collector's passes over them cost about 5% of a scan's CPU. Memory is unchanged
# (`benchmarks/run.py`): what is garbage is freed by reference counting, not by the collector.
GC_THRESHOLDS = (100_000, 20, 20)


def main() -> None:
    """Entry point: the one place where errors become exit codes."""
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except AnalyzerError as e:
        typer.echo(f"analyzer: {e}", err=True)
        sys.exit(int(e.exit_code))
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("analyzer: interrupted", err=True)
        sys.exit(130)
    except Exception as e:
        message = _usage_message(e)
        if message is not None:
            typer.echo(f"analyzer: {message} (see --help)", err=True)
            sys.exit(int(ExitCode.USAGE))
        if os.environ.get("ANALYZER_DEBUG"):
            raise
        typer.echo(f"analyzer: internal error ({type(e).__name__}); set ANALYZER_DEBUG=1 for details", err=True)
        sys.exit(70)


__all__ = ["ConfigError", "app", "main"]
