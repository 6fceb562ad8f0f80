"""The command line: parse options, freeze them into Settings, call the run, map errors to exit codes.

Only this module imports Typer (and Rich, for the progress display). It imports `run`, `inspect_token`,
`report.rebuild` and the base modules, inside the commands that use them: `--help` and a bad option
answer before pandas or pyarrow load.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core

from analyzer import __version__
from analyzer import schema as S
from analyzer.config import MAX_KEEP_DAYS, MAX_LEEWAY
from analyzer.errors import AnalyzerError, ConfigError, ExitCode, redact_secrets

if TYPE_CHECKING:
    from rich.progress import Progress


def _as_typed(param: Any) -> None:
    """Help shows what a user types (a metavar such as PATH or SECONDS), never a Python type:
    a flag takes no value, and an argument's name is its metavar."""
    if isinstance(param, typer.core.TyperOption) and (param.is_flag or param.count):
        param.metavar = ""
    elif isinstance(param, typer.core.TyperArgument):
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]


class _Command(typer.core.TyperCommand):
    """A command whose help shows metavars (see `_as_typed`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for p in params:  # the help option is made here, so it is covered too
            _as_typed(p)
        return params


class _Group(typer.core.TyperGroup):
    """The top level, likewise (its --help and --version are flags); and the one place where errors become
    exit codes and messages, for `main` and for an in-process caller (Typer's CliRunner) alike."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for p in params:
            _as_typed(p)
        return params

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Run the command line, then end with its exit code (`SystemExit`): Click's usage errors come back
        as exceptions (not printed by Click, which would show what was typed, a token included)."""
        kwargs["standalone_mode"] = False
        sys.exit(_exit_code(lambda: super(_Group, self).main(*args, **kwargs)))


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    invoke_without_command=True,
    help="Find out why bearer tokens fail: scan logs, decode and verify every JWT, classify causes, report.",
    pretty_exceptions_enable=False,
)


def usable_cores() -> int:
    """The cores this process may run on (a `taskset` or a container's cpuset limits them), not the machine's:
    a worker more than there are cores only waits its turn and costs memory."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _stderr(line: str) -> None:
    """Write one line to stderr: every message of the program leaves through here, with no token in it
    (`redact_secrets`), whatever the user typed where a token did not belong."""
    typer.echo(redact_secrets(line), err=True)


def _say(message: str) -> None:
    _stderr(f"analyzer: {message}")


def _fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    _say(message)
    return typer.Exit(int(code))


def _at_least(low: int, high: int | None = None, unit: str = "") -> Any:
    """A check for a whole-number option: a clear message instead of a Python-style range in help."""
    def check(value: int | None) -> int | None:
        if value is not None and value < low:
            raise typer.BadParameter(f"must be {low} or more, not {value}")
        if value is not None and high is not None and value > high:
            raise typer.BadParameter(f"must be at most {high:,}{unit}, not {value}")
        return value
    return check


def _rate(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise typer.BadParameter(f"a share between 0 and 1 (0.05 is 5%), not {value}")
    return value


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"analyzer {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Find out why bearer tokens fail: scan logs, decode and verify every JWT, classify causes, report."""
    if ctx.invoked_subcommand is None:
        text = ctx.get_help()  # Rich prints the help itself and returns ''
        if text:
            typer.echo(text)
        raise typer.Exit(0)


def _progress_display() -> tuple[Progress, Any]:
    """A Rich progress display on stderr (bytes, rate, ETA, files done) and the callback that feeds it."""
    from rich import progress as rp
    from rich.console import Console

    display = rp.Progress(rp.TextColumn("scanning"), rp.BarColumn(), rp.DownloadColumn(), rp.TransferSpeedColumn(),
                          rp.TextColumn("ETA"), rp.TimeRemainingColumn(), rp.TextColumn("{task.fields[files]}"),
                          console=Console(stderr=True), transient=True)
    task = display.add_task("scan", total=None, files="")

    def update(done: int, total: int, files_done: int, files_total: int) -> None:
        display.update(task, completed=done, total=total, files=f"{files_done:,}/{files_total:,} files")

    return display, update


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, carried as lone surrogates
        return False
    return True


def _not_logs(files: dict[str, Any]) -> str:
    """' (8 skipped as not logs: 5 pem, 2 certificate, 1 markdown)' for the end-of-run line, or ''."""
    skipped = files.get("skipped_not_logs") or {}
    if not skipped.get("count"):
        return ""
    reasons = ", ".join(f"{n} {reason}" for reason, n in skipped["by_reason"].items())
    return f" ({skipped['count']:,} skipped as not logs: {reasons})"


def _window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """--since/--until as epoch microseconds (relative times count back from now); an empty window is refused."""
    from analyzer.config import parse_when

    now_us = int(time.time() * 1_000_000)

    def when(name: str, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_when(value, now_us)
        except ConfigError as e:
            raise _fail(f"--{name}: {e}") from None

    bounds = (when("since", since), when("until", until))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
        raise _fail(f"--since {since} is not before --until {until}: the window would be empty")
    return bounds


def _writable_dir(out_arg: str) -> str | None:
    """Why --out cannot be the output directory, or None (checked before a run, which creates it)."""
    if not out_arg.strip():  # Path('') would be the working directory
        return "--out is empty; name the output directory"
    out = Path(out_arg)
    if out.exists() and not out.is_dir():
        return f"--out {out}: exists and is not a directory"
    parent = out
    while not parent.exists():  # the nearest ancestor that exists must be a directory we may write in
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent != out and (not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK)):
        return f"--out {out}: cannot create it in {parent}"
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        return f"--out {out}: the directory is not writable"
    return None


@app.command(cls=_Command)
def scan(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Log files, directories (read "
                                               "recursively) or globs; - is stdin (read whole on every run: the "
                                               "same input piped twice is counted twice). In a directory, key "
                                               "material, key sets, Markdown and analyzer.toml files are "
                                               "skipped; name such a file to read it.")],
    out_arg: Annotated[str, typer.Option("--out", "-o", metavar="DIR", help="Output directory.")] = "reports",
    config: Annotated[Path | None, typer.Option("--config", "-c", metavar="FILE", help="TOML config file (default: "
                                                "./analyzer.toml, or analyzer.toml inside a scanned "
                                                "directory).")] = None,
    jwks: Annotated[list[Path] | None, typer.Option("--jwks", metavar="FILE", help="A JSON Web Key Set file to "
                                                    "verify signatures with; may be repeated.")] = None,
    offline: Annotated[bool | None, typer.Option("--offline/--online", help="Never open a network connection.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", metavar="DIR", help="Where fetched signing keys "
                                                   "and their history are kept (default: the user cache "
                                                   "directory).")] = None,
    leeway: Annotated[int | None, typer.Option("--leeway", metavar="SECONDS",
                                               callback=_at_least(0, MAX_LEEWAY, " (10 years)"),
                                               help="Clock-skew tolerance in seconds (default 300).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", metavar="N", callback=_at_least(1),
                                                help="Worker processes (default: the cores this process "
                                                     "may use).")] = None,
    engine: Annotated[str, typer.Option("--engine", metavar="local|dask", help="Where to run: worker "
                                        "processes here, or a Dask cluster.")] = "local",
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help="Dask scheduler address "
                                                  "(tcp://host:8786).")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="TIME", help="Window of summary.parquet and the "
                                              "report: requests at or after this time (ISO date/time, or 7d, "
                                              "12h).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="TIME", help="End of that window "
                                              "(exclusive).")] = None,
    keep_days: Annotated[int | None, typer.Option("--keep-days", metavar="DAYS",
                                                  callback=_at_least(1, MAX_KEEP_DAYS, " (100 years)"),
                                                  help="Drop events older than this many days from the dataset "
                                                  "(retention).")] = None,
    rescan: Annotated[bool, typer.Option("--rescan", help="Forget what earlier runs read and rebuild the "
                                         "dataset from the paths given only (data read from other paths is "
                                         "dropped).")] = False,
    fail_above: Annotated[float | None, typer.Option("--fail-above", metavar="RATE", callback=_rate,
                                                     help="Exit 1 when the share of failing tokens is above "
                                                     "this rate (0..1, e.g. 0.05).")] = None,
    log_format: Annotated[str | None, typer.Option("--format", metavar="FORMAT", help="Force a log format instead "
                                                   "of detecting it: " + ", ".join(S.FORMATS) + ".")] = None,
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
    from analyzer.errors import InputNotFoundError
    from analyzer.run import missing_inputs, run

    if log_format is not None and log_format not in S.FORMATS:
        raise _fail(f"unknown --format {log_format!r}; choose one of: {', '.join(S.FORMATS)}")
    if engine not in ("local", "dask"):
        raise _fail(f"unknown --engine {engine!r}; choose local or dask")
    if scheduler and engine != "dask":
        raise _fail("--scheduler needs --engine dask")
    if scheduler:
        from analyzer.engine.cluster import check_scheduler

        check_scheduler(scheduler)
    problem = _writable_dir(out_arg)
    if problem:
        from analyzer.scan.inputs import shown

        raise _fail(shown(problem))
    out = Path(out_arg)
    if any(p != "-" and Path(p).is_dir() and Path(p).resolve() == out.resolve() for p in paths):
        from analyzer.scan.inputs import shown

        # Its outputs (events, report.html, state.sqlite) would be read as logs by the next run.
        raise _fail(f"--out {shown(out_arg)} is a directory being scanned; write the outputs elsewhere "
                    "(a subdirectory is fine)")
    if not _is_utf8(str(out)):
        from analyzer.scan.inputs import shown

        # Inputs may have any name; Parquet's writer takes only UTF-8 paths.
        raise _fail(f"--out {shown(str(out))}: the output directory's path must be valid UTF-8")
    window = _window(since, until)
    limit = None
    if max_decompressed is not None:
        from analyzer.config import parse_size

        try:
            limit = parse_size(max_decompressed)
        except ValueError as e:
            raise _fail(f"--max-decompressed: {e}") from None
    missing = missing_inputs(paths)  # before the config lookup: a mistyped path is the one thing said
    if missing:
        raise InputNotFoundError(missing, str(out))
    if config is None:
        config = _dataset_config(out, paths, quiet, bool(rescan))
    settings = build_settings(
        config, paths, jwks=[str(j) for j in jwks or []], offline=offline, leeway_seconds=leeway,
        cache_dir=cache_dir, workers=workers or usable_cores(), out_dir=out, format=log_format,
        quiet=quiet, include_pii=include_pii or None, engine=engine, scheduler=scheduler,
        since_us=window[0], until_us=window[1], keep_days=keep_days, rescan=rescan or None,
        max_decompressed=limit,
    )
    if quiet or not sys.stderr.isatty():
        outcome = run(settings, paths, fail_above=fail_above)
    else:
        display, update = _progress_display()
        with display:
            outcome = run(settings, paths, progress=update, fail_above=fail_above)
    s = outcome.summary
    if s["dataset"].get("rebuild"):  # said even with --quiet: the dataset was replaced
        _say(_rebuild_message(s['dataset']['rebuild']))
    if as_json:
        typer.echo(json.dumps(s, default=str, separators=(",", ":")))
    elif not quiet:
        _stderr(f"{_outcome_line(s)} Report: {out / 'report.html'}")
    if outcome.exit_code == ExitCode.NOTHING_READ:  # said even with --quiet: the exit code alone tells nothing
        _say(_nothing_read(s["files"]))
    from analyzer.diagnose.unverified import needs_keys, summary_line

    unverified = summary_line(s.get("unverified_ok", {}))
    if unverified and not quiet:
        label = "warning" if needs_keys(s["unverified_ok"]) else "note"
        _say(f"{label}: {unverified}")
    raise typer.Exit(outcome.exit_code)


def _dataset_config(out: Path, paths: list[str], quiet: bool, rescan: bool) -> Path | None:
    """Without --config and with none to be found, the config the output directory's dataset was built with.

    Config discovery looks inside the scanned directories, so scanning a subfolder or one file
    would otherwise find none and classify differently from the rest of the dataset. A recorded config
    that is gone is refused, not passed over: the run would rebuild the whole dataset without its keys,
    APIs and clients (a bad signature turned `ok`), and the output directory is not touched yet.
    """
    from analyzer.config import find_config
    from analyzer.outputs.state import recorded_meta
    from analyzer.scan.inputs import shown

    if find_config(None, paths) is not None:
        return None
    recorded = recorded_meta(out, "config_path")
    if not recorded:
        return None
    if not Path(recorded).is_file():
        if rescan:  # rebuilding from the paths given, without it, is what --rescan asks for
            return None
        raise _fail(f"the dataset in {shown(str(out))} was built with the config {shown(recorded)}, which is "
                    "gone: pass --config (or --rescan to rebuild without it)")
    if not quiet:
        _say(f"using {recorded}, the config {out} was built with (--config to choose another)")
    return Path(recorded)


def _rebuild_message(rebuild: dict[str, Any]) -> str:
    """One line on a run that replaced the dataset: why, from what, and what could not be read again."""
    if rebuild["reason"] == "--rescan":
        return ("--rescan: the dataset was rebuilt from the paths given only; what earlier runs read elsewhere "
                "was dropped")
    text = (f"{rebuild['reason']}: the dataset was rebuilt from the {rebuild['inputs_recorded']:,} inputs it was "
            "built from and the paths given")
    vanished = rebuild["vanished"]
    if vanished:
        more = f" and {len(vanished) - 3:,} more" if len(vanished) > 3 else ""
        text += (f"; {len(vanished):,} of them are gone ({', '.join(vanished[:3])}{more}): their "
                 f"{rebuild['kept_occurrences']:,} occurrences were kept as classified before")
    return text


def _nothing_read(files: dict[str, Any]) -> str:
    """Why a run read nothing (exit 3: every input failed): the first problems of run.json's `files.errors`."""
    errors = files.get("errors") or []
    more = f" (and {len(errors) - 2:,} more: run.json files.errors)" if len(errors) > 2 else ""
    return f"nothing could be read: {'; '.join(errors[:2])}{more}"


def _outcome_line(s: dict[str, Any]) -> str:
    """The summary line of a scan: what was found, or that nothing was new."""
    ds = s["dataset"]
    if ds.get("nothing_new"):
        since = f" since {ds['nothing_new_since'][:16].replace('T', ' ')} UTC" if ds.get("nothing_new_since") else ""
        return f"nothing new{since}; the dataset holds {ds['total_occurrences']:,} occurrences."
    tok = s["tokens"]
    files = s["files"]["count"]
    return (f"{tok['occurrences']:,} token occurrences ({tok['unique']:,} unique) in {files:,} "
            f"file{'' if files == 1 else 's'}"
            f"{_not_logs(s['files'])}; "
            f"{tok['failure_rate']:.1%} failing; the dataset holds {ds['total_occurrences']:,} occurrences.")


def _report_target(out: Path, folder: bool) -> str | None:
    """Why `report --out` cannot be written, or None: said before anything is written (no temp file is left)."""
    if folder:  # --split-by: a directory, made with its parents
        if out.is_symlink() and not out.exists():
            return f"--out {out} is a symbolic link to nothing; name a directory"
        if out.exists() and not out.is_dir():
            return f"--out {out}: exists and is not a directory (with --split-by, --out names a directory)"
        return None
    if out.is_dir():
        return f"--out {out} is a directory; name the report file (such as {out / 'report.html'})"
    if not out.parent.is_dir():
        return f"--out {out}: there is no directory {out.parent} to write it in"
    return None


@app.command(cls=_Command)
def report(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="An output directory written by "
                                              "`analyzer scan`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="PATH", help="Report file (default: "
                                             "DIR/report.html); with --split-by, a directory (default: "
                                             "DIR/reports-by-client).")] = None,
    split_by: Annotated[str | None, typer.Option("--split-by", metavar="client|audience", help="One report per "
                                                 "client or per audience, plus index.html.")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="TIME", help="Only requests at or after this "
                                              "time (ISO date/time, or 7d, 12h).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="TIME", help="Only requests before this "
                                              "time.")] = None,
) -> None:
    """Rebuild report.html from an existing output directory, or one report per client or audience."""
    from analyzer.report.rebuild import rebuild_report
    from analyzer.scan.inputs import shown

    if split_by is not None and split_by not in ("client", "audience"):
        raise _fail(f"unknown --split-by {split_by!r}; choose client or audience")
    bounds = _window(since, until)
    if not (directory / "run.json").is_file():
        raise _fail(f"{shown(str(directory))} is not an analyzer output directory (no run.json)")
    problem = _report_target(out, split_by is not None) if out is not None else None
    if problem:
        raise _fail(shown(problem))
    written = rebuild_report(directory, out, split_by, bounds[0], bounds[1])
    if split_by is None:
        _stderr(f"wrote {written.path}")
        return
    what = "client" if split_by == "client" else "audience"
    _stderr(f"wrote {len(written.reports)} reports, one per {what}, and their index {written.path}")
    for label, path, occ, fail in written.reports[:_LISTED]:
        label_text = "".join(ch if ch.isprintable() else "?" for ch in label)[:60]  # log text: no terminal escapes
        _stderr(f"  {path.name}  {label_text}: {fail:,} failing of {occ:,}")
    if len(written.reports) > _LISTED:
        _stderr(f"  … and {len(written.reports) - _LISTED} more (see the index)")


_LISTED = 30  # per-owner reports listed by name after `report --split-by`


@app.command(cls=_Command)
def inspect(
    token: Annotated[str, typer.Argument(metavar="TOKEN", help="The token (with or without 'Bearer '), or - to "
                                         "read it from stdin (wrapped over lines, it is joined).")],
    config: Annotated[Path | None, typer.Option("--config", "-c", metavar="FILE", help="TOML config file.")] = None,
    jwks: Annotated[list[Path] | None, typer.Option("--jwks", metavar="FILE", help="A JSON Web Key Set file; may be "
                                                    "repeated.")] = None,
    api: Annotated[str | None, typer.Option("--api", metavar="NAME", help="Judge audience and issuer as the "
                                            "config's \\[\\[api]] called NAME would.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", metavar="DIR", help="Where fetched signing keys "
                                                   "and their history are kept (default: the user cache "
                                                   "directory).")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="TIME", help="Judge times at this moment instead of "
                                           "now (ISO date/time, a date being its midnight UTC; or 7d, 12h "
                                           "ago).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Decode one token: header, claims with readable times, and every check's verdict (never the signature).

    A check that could not run (no keys, no --api) says "not checked" and why.
    """
    from analyzer.config import build_settings, parse_when
    from analyzer.inspect_token import NOT_CHECKED, terminal_text
    from analyzer.inspect_token import inspect as inspect_one
    from analyzer.scan.inputs import shown

    raw = sys.stdin.read() if token == "-" else token
    if not raw.strip():
        raise _fail("no token given")
    at_us = None
    if at is not None:
        try:
            at_us = parse_when(at, int(time.time() * 1_000_000))
        except ConfigError as e:
            raise _fail(f"--at: {e}") from None
    settings = build_settings(config, [], jwks=[str(j) for j in jwks or []], cache_dir=cache_dir)
    result = inspect_one(raw, settings, at_us, api)

    def say(text: str) -> None:  # a claim may hold a lone surrogate (`"\\ud800"`) or U+202E
        typer.echo(terminal_text(text))

    if as_json:
        say(json.dumps(result, default=str, indent=2, ensure_ascii=False))
        return
    unchecked = result["cause"] == S.OK and not result["signature_checked"]
    say(f"token {result['token_fp']}  kind: {result['kind']}  verdict: {result['cause']}"
               + (" (signature not checked)" if unchecked else ""))
    if result["detail"]:
        say(f"  {shown(result['detail'])}")
    say("header:")
    say(json.dumps(result["header"], indent=2, ensure_ascii=False, default=str))
    say("claims:")
    for k, v in result["claims"].items():
        when = result["times"].get(k)
        say(f"  {k}: {json.dumps(v, ensure_ascii=False, default=str)}" + (f"   ({when})" if when else ""))
    moment = f"now, {result['judged_at']}" if result["judged_at_now"] else result["judged_at"]
    target = f"; API {result['api']}" if result["api"] else ""
    say(f"checks (at {moment}{target}; signature checked: {'yes' if result['signature_checked'] else 'no'}):")
    labels = {"pass": "ok", "fail": "FAIL", NOT_CHECKED: NOT_CHECKED}
    for c in result["checks"]:
        say(f"  {labels[c['verdict']]:<11} {c['check']}" + (f": {shown(c['detail'])}" if c.get("detail") else ""))


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
    """Entry point: the command line (`_Group.main` maps its errors to exit codes), ended by `SystemExit`."""
    gc.set_threshold(*GC_THRESHOLDS)
    app()


def _exit_code(run: Callable[[], Any]) -> int:
    """The exit code of a command line run by `run`, and one line on stderr for each way it can fail."""
    try:
        code = run()
        if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into this code before it gets here
            raise KeyboardInterrupt
        return code if isinstance(code, int) else 0
    except AnalyzerError as e:
        _say(str(e))
        return int(e.exit_code)
    except OSError as e:
        # The machine refused (disk full, permission, a path that cannot be created): the user's to fix, no bug.
        from analyzer.scan.inputs import shown

        where = f"{shown(os.fsdecode(e.filename))}: " if e.filename is not None else ""
        _say(f"{where}{e.strerror or type(e).__name__}")
        return int(ExitCode.USAGE)
    except (KeyboardInterrupt, typer.Abort):
        _say("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as e:
        message = _usage_message(e)
        if message is not None:
            if message:  # a usage error whose help was printed instead has no message of its own
                _say(f"{message} (see --help)")
            return int(ExitCode.USAGE)
        if os.environ.get("ANALYZER_DEBUG"):  # the traceback, through the same filter as every message
            import traceback

            _stderr("".join(traceback.format_exception(e)).rstrip("\n"))
        else:
            _say(f"internal error ({type(e).__name__}); set ANALYZER_DEBUG=1 for details")
        return 70


__all__ = ["ConfigError", "app", "main"]
