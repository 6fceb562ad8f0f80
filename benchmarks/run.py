#!/usr/bin/env python3
"""Throughput benchmark: `analyzer scan` beside `rg -o -z -c` and a straightforward PyJWT script.

    python benchmarks/run.py --size 200MB                      # one corpus, three tools
    python benchmarks/run.py --sizes 100MB,1GB --no-naive      # flat-memory proof: RSS at two sizes
    python benchmarks/run.py --size 200MB --check-identical    # --workers 1 and 2 give the same events
    python benchmarks/run.py --size 200MB --profile            # + cProfile top functions (--workers 1)

Every tool runs as its own subprocess, measured from start to exit: wall time; its peak RSS, the
high-water marks (`VmHWM` of /proc/PID/status, read every 50 ms while it runs) of every process
of its tree (workers and decompressors included) summed, or the wait4 rusage of the tool where that
is larger (a process too short-lived to be read); and the peak of the summed RSS and PSS of the
tree sampled at one moment. Summed RSS and summed high-water marks count the pages forked workers
still share with their parent once per process; the summed PSS (proportional set size) counts each
page once, split among its sharers: what the tree really occupies.
Rates use the corpus's uncompressed bytes, lines and token occurrences from its manifest.
The naive baseline runs on a slice of each file (`--naive-sample`, 50 MB by default) and its
time is extrapolated to the whole corpus by bytes; the table says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_corpus import GENERATOR_VERSION, make_corpus, parse_size  # noqa: E402

RG_PATTERN = r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    """One command, start to exit."""

    name: str
    cmd: list[str]
    wall: float
    max_rss_mb: float  # largest single process (rusage ru_maxrss)
    peak_rss_mb: float  # the tree's VmHWM summed over its processes (at least max_rss_mb)
    max_hwm_mb: float  # the largest VmHWM of one process of the tree
    tree_rss_mb: float  # peak of the summed RSS over the process tree (sampled)
    tree_pss_mb: float  # peak of the summed PSS over the process tree (sampled; 0 without smaps_rollup)
    rc: int
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _tree_rss(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes of a process and its descendants."""
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        pss += _pss(pid)
        todo += _children(pid)
    return rss, pss


def _tree_pids(root: int) -> list[int]:
    """A process and its descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += _children(pid)
    return out


def _hwm(pid: int) -> int:
    """A process's peak resident set size in bytes (`VmHWM`), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _pss(pid: int) -> int:
    """Proportional set size in bytes (0 where /proc/<pid>/smaps_rollup is missing)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


# Without /usr/bin/time, a small Python wrapper runs the command and reports its children's rusage.
_WRAPPER = (
    "import resource,subprocess,sys,time;t=time.perf_counter();rc=subprocess.call(sys.argv[2:]);"
    "w=time.perf_counter()-t;open(sys.argv[1],'w').write("
    "f'{w} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}');sys.exit(rc)"
)


def measure(
    name: str, cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None,
    sample: bool = True,
) -> Measured:
    """Run `cmd` under `/usr/bin/time` (or a small wrapper), from start to exit; sample its tree's RSS
    unless `sample` is false (then only the wall time and the rusage peak are measured).

    The wrapper matters: the child's ru_maxrss starts from the RSS of the process that forks it,
    so forking straight from this (pandas-loaded) process would overstate it. The sampler reads every
    process's `smaps_rollup` 20 times a second, which makes the kernel walk its page tables: on two
    cores that slows a big multi-process tool (the analyzer) far more than a small one (rg), so the
    times compared are those of runs without it.
    """
    fd, stats_file = tempfile.mkstemp(prefix="rusage-")
    os.close(fd)
    if os.access("/usr/bin/time", os.X_OK):
        wrapped = ["/usr/bin/time", "-f", "%e %M", "-o", stats_file, *cmd]
    else:
        wrapped = [sys.executable, "-c", _WRAPPER, stats_file, *cmd]
    peak = peak_pss = 0
    hwm: dict[int, int] = {}  # pid -> its high-water mark, last read (it only grows)
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def poll() -> None:
        nonlocal peak, peak_pss
        while not done.is_set():
            tops = _children(proc.pid)  # the wrapper not counted
            sizes = [_tree_rss(c) for c in tops]
            peak = max(peak, sum(r for r, _ in sizes))
            peak_pss = max(peak_pss, sum(p for _, p in sizes))
            for pid in (p for c in tops for p in _tree_pids(c)):
                hwm[pid] = max(hwm.get(pid, 0), _hwm(pid))
            done.wait(0.05)

    sampler = threading.Thread(target=poll, daemon=True)
    if sample:
        sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    if sample:
        sampler.join()
    try:
        fields = Path(stats_file).read_text().split()
        max_rss_kb = float(fields[-1])
    except (OSError, ValueError, IndexError):
        max_rss_kb = 0.0
    finally:
        Path(stats_file).unlink(missing_ok=True)
    tree_mb = peak / 2**20 if peak else max_rss_kb / 1024  # too short to sample: the rusage figure
    return Measured(
        name,
        list(cmd),
        wall,
        max_rss_kb / 1024,
        max(sum(hwm.values()) / 2**20, max_rss_kb / 1024),
        max(max(hwm.values(), default=0) / 2**20, max_rss_kb / 1024),
        tree_mb,
        peak_pss / 2**20,
        proc.returncode,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
    )


def analyzer_cmd(args: argparse.Namespace) -> list[str]:
    if args.analyzer:
        return args.analyzer.split()
    exe = Path(sys.executable).with_name("analyzer")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "analyzer"]


def get_corpus(root: Path, size: int, seed: int, created: list[Path]) -> tuple[Path, dict[str, Any]]:
    """The corpus for (size, seed) under root: reused when its manifest matches, else generated."""
    d = root / f"corpus-{size}-seed{seed}"
    manifest = d / "corpus.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("size") == size and m.get("seed") == seed and m.get("version") == GENERATOR_VERSION:
            print(f"reusing corpus {d}", file=sys.stderr)
            return d, m
    shutil.rmtree(d, ignore_errors=True)
    created.append(d)
    print(f"generating {size / 1e6:.0f} MB corpus in {d} ...", file=sys.stderr)
    m = make_corpus(d, size, seed, quiet=True)
    print(
        f"  {m['bytes'] / 1e6:.0f} MB, {m['lines']} lines, {m['tokens']} tokens "
        f"({m['unique_tokens']} unique), "
        f"{m['disk_bytes'] / 1e6:.0f} MB on disk, in {m['seconds']['total']} s",
        file=sys.stderr,
    )
    return d, m


def rotated(corpus: Path, lines_per_file: int, created: list[Path]) -> Path:
    """A copy of the corpus with every plain log cut into files of `lines_per_file` lines, as hourly
    rotation leaves an archive (compressed files stay whole). A W3C piece starts with the `#Fields:`
    directive in force, as IIS writes one at the top of every file. Same tokens, same causes."""
    d = corpus.with_name(f"{corpus.name}-rot{lines_per_file}")
    if (d / ".complete").exists():
        print(f"reusing rotated corpus {d}", file=sys.stderr)
        return d
    shutil.rmtree(d, ignore_errors=True)
    created.append(d)
    shutil.copytree(corpus, d, ignore=shutil.ignore_patterns("logs"))
    pieces = 0
    for src in sorted((corpus / "logs").rglob("*")):
        if not src.is_file():
            continue
        dst = d / "logs" / src.relative_to(corpus / "logs")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix in (".gz", ".zst", ".bz2"):
            shutil.copyfile(src, dst)
            continue
        directive: bytes | None = None
        with src.open("rb") as fh:
            for k, block in enumerate(iter(lambda: list(itertools.islice(fh, lines_per_file)), [])):
                with open(f"{dst}.{k:05d}", "wb") as out:
                    if directive is not None and not block[0].startswith(b"#"):
                        out.write(directive)
                    out.writelines(block)
                directive = next((ln for ln in reversed(block) if ln.startswith(b"#Fields:")), directive)
                pieces += 1
    (d / ".complete").write_text(f"{pieces}\n")
    print(f"rotated corpus: plain logs in {pieces} files of {lines_per_file} lines, in {d}", file=sys.stderr)
    return d


def run_rg(corpus: Path, sample: bool = True) -> Measured:
    """`rg -o -z -c` (as the judge runs it: decompressing gzip, bz2 and zstd through child processes),
    with no config file or ignore rules in the way."""
    cmd = ["rg", "--no-config", "--no-ignore", "--hidden", "-o", "-z", "-c", RG_PATTERN, str(corpus / "logs")]
    m = measure("rg -o -z -c", cmd, sample=sample)
    if m.rc not in (0, 1):
        raise RuntimeError(f"rg failed ({m.rc}): {m.stderr.strip()[:500]}")
    return m


def rg_tokens(m: Measured) -> int:
    return sum(int(line.rsplit(":", 1)[1]) for line in m.stdout.splitlines() if ":" in line)


def run_analyzer(args: argparse.Namespace, corpus: Path, out: Path, workers: int, tries: int = 3,
                 sample: bool = True) -> Measured:
    cmd = [
        *analyzer_cmd(args),
        "scan",
        str(corpus / "logs"),
        "--config",
        str(corpus / "analyzer.toml"),
        "--out",
        str(out),
        "--quiet",
        "--json",
        "--workers",
        str(workers),
    ]
    for attempt in range(tries):
        shutil.rmtree(out, ignore_errors=True)
        m = measure(f"analyzer scan --workers {workers}", cmd, sample=sample)
        if m.rc in (0, 1):
            return m
        print(
            f"analyzer failed (rc {m.rc}, try {attempt + 1}/{tries}): {m.stderr.strip()[-800:]}",
            file=sys.stderr,
        )
        if attempt + 1 < tries:
            time.sleep(args.retry_wait)
    raise RuntimeError("analyzer scan kept failing")


def analyzer_summary(m: Measured) -> dict[str, Any]:
    try:
        value = json.loads(m.stdout.strip().splitlines()[-1])
        return value if isinstance(value, dict) else {}
    except (ValueError, IndexError):
        return {}


def run_naive(corpus: Path, manifest: dict[str, Any], sample: int) -> tuple[Measured, dict[str, Any]]:
    fraction = min(1.0, sample / manifest["bytes"])
    cmd = [
        sys.executable,
        str(HERE / "naive_baseline.py"),
        str(corpus / "logs"),
        "--jwks",
        str(corpus / "jwks.json"),
        "--config",
        str(corpus / "analyzer.toml"),
        "--fraction",
        f"{fraction:.6f}",
    ]
    m = measure("naive PyJWT loop", cmd)
    if m.rc != 0:
        raise RuntimeError(f"naive baseline failed: {m.stderr[-800:]}")
    return m, json.loads(m.stdout.strip().splitlines()[-1])


def row(
    name: str, wall: float, nbytes: float, lines: float, tokens: float, m: Measured, note: str = ""
) -> dict[str, Any]:
    return {
        "tool": name,
        "wall_s": round(wall, 3),
        "mb_per_s": round(nbytes / 1e6 / wall, 1),
        "lines_per_s": round(lines / wall),
        "tokens_per_s": round(tokens / wall),
        "peak_rss_mb": round(m.peak_rss_mb, 1),
        "max_hwm_mb": round(m.max_hwm_mb, 1),
        "max_rss_mb": round(m.max_rss_mb, 1),
        "tree_rss_mb": round(m.tree_rss_mb, 1),
        "tree_pss_mb": round(m.tree_pss_mb, 1),
        "note": note,
    }


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    head = (
        f"{'tool':<28} {'wall s':>8} {'MB/s':>8} {'lines/s':>11} {'tokens/s':>10} "
        f"{'peak RSS':>8} {'1 proc':>8} {'tree MB':>8} {'tree PSS':>8}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['tool']:<28} {r['wall_s']:>8.2f} {r['mb_per_s']:>8.1f} {r['lines_per_s']:>11,} "
            f"{r['tokens_per_s']:>10,} {r['peak_rss_mb']:>8.0f} {r['max_hwm_mb']:>8.0f} {r['tree_rss_mb']:>8.0f} "
            f"{r['tree_pss_mb']:>8.0f}  "
            f"{r['note']}"
        )


def _frame(path: Path) -> Any:
    import pandas as pd

    df = pd.read_parquet(path)
    df = df.astype(str)  # list columns (causes) and categories compare as text
    cols = sorted(df.columns)
    return df[cols].sort_values(cols).reset_index(drop=True)


def causes_by_file(out: Path, corpus: Path, manifest: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    """The files whose counts by cause in the scan's events differ from corpus.json's:
    {file: {cause: {"analyzer": n, "corpus": m}}} (where a format's parser goes wrong)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    read = ds.dataset(out / "events", format="parquet", partitioning="hive").to_table(columns=["source", "cause"])
    events = pa.table({c: read.column(c).cast(pa.string()) for c in ("source", "cause")})  # dictionaries differ
    logs = (corpus / "logs").as_posix().rstrip("/") + "/"
    got: dict[str, dict[str, int]] = {}
    counts = events.group_by(["source", "cause"]).aggregate([([], "count_all")])
    for src, cause, n in zip(*(counts.column(c).to_pylist() for c in ("source", "cause", "count_all")), strict=True):
        rel = re.sub(r"\.\d{5}$", "", str(src).removeprefix(logs))  # a piece of a rotated corpus: its file
        counted = got.setdefault(rel, {})
        counted[str(cause)] = counted.get(str(cause), 0) + int(n)
    out_diff: dict[str, dict[str, dict[str, int]]] = {}
    for f in manifest["files"]:
        have, want = got.get(f["path"], {}), f["causes"]
        diff = {c: {"analyzer": have.get(c, 0), "corpus": want.get(c, 0)}
                for c in sorted(set(have) | set(want)) if have.get(c, 0) != want.get(c, 0)}
        if diff:
            out_diff[f["path"]] = diff
    return out_diff


def compare_outputs(a: Path, b: Path) -> tuple[bool, str]:
    """Whether two scan outputs hold the same events and summary (order ignored)."""
    for part in ("events", "summary.parquet"):
        if not (a / part).exists() or not (b / part).exists():
            return False, f"{part} missing"
        fa, fb = _frame(a / part), _frame(b / part)
        if list(fa.columns) != list(fb.columns):
            return False, f"{part}: columns differ: {sorted(set(fa.columns) ^ set(fb.columns))}"
        if len(fa) != len(fb):
            return False, f"{part}: {len(fa)} vs {len(fb)} rows"
        if not fa.equals(fb):
            diff = [c for c in fa.columns if not fa[c].equals(fb[c])]
            return False, f"{part}: columns with different values: {diff}"
    return True, f"events and summary identical ({len(_frame(a / 'events'))} events)"


def profile(args: argparse.Namespace, corpus: Path, out: Path, top: int = 20) -> str:
    """cProfile of one `--workers 1` scan: the analyzer's functions by cumulative time, all by own time."""
    import io
    import pstats

    prof = out.with_suffix(".prof")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(prof),
        "-m",
        "analyzer",
        "scan",
        str(corpus / "logs"),
        "--config",
        str(corpus / "analyzer.toml"),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "1",
    ]
    m = measure("cProfile", cmd)
    if m.rc not in (0, 1) or not prof.exists():
        return f"profiling failed: {m.stderr[-500:]}"
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("cumulative").print_stats(r"analyzer[/\\](?!cli|__main__)", top)
    stats.sort_stats("tottime").print_stats(top)
    text = "\n".join(
        line for line in buf.getvalue().splitlines() if line.strip() and "List reduced" not in line
    )
    return f"cProfile, --workers 1, {m.wall:.1f} s under the profiler ({prof}):\n{text}"


def bench_size(args: argparse.Namespace, size: int, work: Path, created: list[Path]) -> dict[str, Any]:
    corpus, man = get_corpus(args.corpus_root, size, args.seed, created)
    if args.rotated_lines:
        corpus = rotated(corpus, args.rotated_lines, created)
    nbytes, lines, tokens = man["bytes"], man["lines"], man["tokens"]
    res: dict[str, Any] = {
        "size": size,
        "corpus": str(corpus),
        "bytes": nbytes,
        "disk_bytes": man["disk_bytes"],
        "lines": lines,
        "tokens": tokens,
        "unique_tokens": man["unique_tokens"],
        "compressed_share": round(man["compressed_bytes"] / nbytes, 3),
        "rows": [],
    }
    rows: list[dict[str, Any]] = res["rows"]
    out = work / f"out-{size}-w{args.workers}"

    def best(fn: Any) -> Measured:
        """The fastest of --repeat runs without the memory sampler, with the memory of one run with it."""
        timed = min((fn(False) for _ in range(args.repeat)), key=lambda m: m.wall)
        return dataclasses.replace(fn(True), wall=timed.wall)

    rg: Measured | None = None
    if not args.no_rg:
        if shutil.which("rg"):
            rg = best(lambda sample: run_rg(corpus, sample))
            found = rg_tokens(rg)
            rows.append(row("rg -o -z -c (JWT regex)", rg.wall, nbytes, lines, tokens, rg, f"{found} matches"))
            res["rg_matches"] = found
        else:
            print("rg not found: skipping the rg baseline", file=sys.stderr)
    an = best(lambda sample: run_analyzer(args, corpus, out, args.workers, sample=sample))
    summ = analyzer_summary(an)
    tok = summ.get("tokens")
    n_found = tok.get("occurrences") if isinstance(tok, dict) else tok
    res["analyzer_by_cause"] = tok.get("by_cause") if isinstance(tok, dict) else None
    res["intended_by_cause"] = man["occurrences_by_cause"]
    if isinstance(tok, dict) and isinstance(tok.get("by_cause"), dict):
        got = {k: v for k, v in tok["by_cause"].items() if v}
        res["causes_match_corpus"] = got == man["occurrences_by_cause"]
        want = man["occurrences_by_cause"]
        res["cause_differences"] = {c: {"analyzer": got.get(c, 0), "corpus": want.get(c, 0)}
                                    for c in sorted(set(got) | set(want)) if got.get(c, 0) != want.get(c, 0)}
        if res["cause_differences"]:
            try:
                res["cause_differences_by_file"] = causes_by_file(out, corpus, man)
            except Exception as e:  # the events could not be read: the totals still tell
                res["cause_differences_by_file"] = {"(events unreadable)": {type(e).__name__: {}}}
    rows.append(
        row(
            f"analyzer scan --workers {args.workers}",
            an.wall,
            nbytes,
            lines,
            tokens,
            an,
            f"{n_found} tokens" if n_found is not None else "",
        )
    )
    res["analyzer_summary"] = {k: v for k, v in summ.items() if not isinstance(v, dict | list)}
    res["analyzer_wall_s"] = an.wall
    res["analyzer_max_rss_mb"] = an.max_rss_mb
    res["analyzer_peak_rss_mb"] = an.peak_rss_mb
    res["analyzer_max_hwm_mb"] = an.max_hwm_mb
    res["analyzer_tree_rss_mb"] = an.tree_rss_mb
    res["analyzer_tree_pss_mb"] = an.tree_pss_mb
    if rg is not None:
        res["ratio_analyzer_over_rg"] = round(an.wall / rg.wall, 2)
    if args.check_identical:
        other = 1 if args.workers != 1 else 2
        out2 = work / f"out-{size}-w{other}"
        an2 = run_analyzer(args, corpus, out2, other)
        rows.append(
            row(f"analyzer scan --workers {other}", an2.wall, nbytes, lines, tokens, an2, "identity check")
        )
        same, why = compare_outputs(out, out2)
        res["identical_workers"] = {"identical": same, "detail": why}
    if not args.no_naive:
        nv, stats = run_naive(corpus, man, args.naive_sample)
        scale = nbytes / max(1, stats["bytes"])
        wall_full = nv.wall * scale
        note = (
            f"sample: first {stats['fraction']:.1%} of each file ({stats['bytes'] / 1e6:.0f} MB), "
            f"time x{scale:.1f} by bytes"
            if scale > 1.001
            else "whole corpus"
        )
        rows.append(row("naive (line loop + PyJWT)", wall_full, nbytes, lines, tokens, nv, note))
        res["naive"] = {
            "sample_bytes": stats["bytes"],
            "sample_wall_s": nv.wall,
            "extrapolated_wall_s": wall_full,
            "causes": stats["causes"],
            "tokens": stats["tokens"],
        }
        res["ratio_naive_over_analyzer"] = round(wall_full / an.wall, 1)
    if args.profile:
        res["profile"] = profile(args, corpus, work / f"prof-{size}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=parse_size("200MB"))
    ap.add_argument("--sizes", help="two or more sizes, e.g. 100MB,1GB: also prints the analyzer's RSS ratio")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--corpus-root",
        type=Path,
        default=Path(tempfile.gettempdir()) / "analyzer-bench",
        help="where corpora are generated (and reused when kept)",
    )
    ap.add_argument("--keep", action="store_true", help="keep generated corpora and scan outputs")
    ap.add_argument("--no-rg", action="store_true")
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument(
        "--naive-sample",
        type=parse_size,
        default=parse_size("50MB"),
        help="bytes the naive baseline reads (a slice of every file); its time is extrapolated",
    )
    ap.add_argument("--check-identical", action="store_true", help="compare --workers 1 and 2 outputs")
    ap.add_argument("--profile", action="store_true", help="cProfile one --workers 1 scan (top functions)")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per tool, without the memory sampler (the "
                    "fastest counts); one more run of each measures memory")
    ap.add_argument("--analyzer", help="the analyzer command (default: `analyzer` next to this Python)")
    ap.add_argument("--retry-wait", type=float, default=60.0, help="seconds between retries of a failed scan")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--rotated-lines", type=int, default=0, metavar="N",
                    help="cut every plain log into files of N lines (an archive of many small files)")
    args = ap.parse_args(argv)

    sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else [args.size]
    args.corpus_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.corpus_root))
    created: list[Path] = []
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "rg": _version(["rg", "--version"]),
            "loadavg_at_start": os.getloadavg(),
        },
        "workers": args.workers,
        "results": [],
    }
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.5:
        print(
            f"note: load average {load:.1f} on {os.cpu_count()} cores: other work competes, figures are noisy"
        )
    try:
        for size in sizes:
            res = bench_size(args, size, work, created)
            res["loadavg_after"] = os.getloadavg()
            report["results"].append(res)
            print_table(
                f"{res['bytes'] / 1e6:.0f} MB uncompressed ({res['disk_bytes'] / 1e6:.0f} MB on disk, "
                f"{res['compressed_share']:.0%} compressed), {res['lines']:,} lines, {res['tokens']:,} "
                f"tokens, {res['unique_tokens']:,} unique",
                res["rows"],
            )
            if "ratio_analyzer_over_rg" in res:
                print(f"analyzer / rg wall: {res['ratio_analyzer_over_rg']:.2f} (judged: <= 1.0)")
            if "ratio_naive_over_analyzer" in res:
                print(f"naive / analyzer wall: {res['ratio_naive_over_analyzer']:.1f} (judged: >= 30)")
            if "causes_match_corpus" in res:
                verdict = "yes" if res["causes_match_corpus"] else "NO"
                print(
                    f"analyzer causes match the corpus's intended mix: {verdict} {res['analyzer_by_cause']}"
                )
                for cause, d in res.get("cause_differences", {}).items():
                    print(f"  {cause}: analyzer {d['analyzer']}, corpus {d['corpus']}")
                for path, diff in res.get("cause_differences_by_file", {}).items():
                    shown = ", ".join(f"{c} {d['analyzer']} (corpus {d['corpus']})" for c, d in diff.items())
                    print(f"  {path}: {shown}")
            if "identical_workers" in res:
                ok = res["identical_workers"]
                print(f"--workers 1 vs 2: {'IDENTICAL' if ok['identical'] else 'DIFFERENT'}: {ok['detail']}")
            if "profile" in res:
                print("\n" + res["profile"])
        done = report["results"]
        for a, b in itertools.pairwise(done):  # each size against the one before
            print(flat_memory(a, b))
        if len(done) > 1:
            a, b = done[0], done[-1]
            report["rss_ratio"] = {
                "tree": round(b["analyzer_tree_rss_mb"] / a["analyzer_tree_rss_mb"], 2),
                "tree_pss": round(b["analyzer_tree_pss_mb"] / max(a["analyzer_tree_pss_mb"], 1e-9), 2),
                "largest_process": round(b["analyzer_max_rss_mb"] / a["analyzer_max_rss_mb"], 2),
                "peak_rss": round(b["analyzer_peak_rss_mb"] / max(a["analyzer_peak_rss_mb"], 1e-9), 2),
                "input_ratio": round(b["bytes"] / a["bytes"], 1),
            }
    finally:
        if args.json_out:
            args.json_out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            for d in created:
                shutil.rmtree(d, ignore_errors=True)
        else:
            print(f"\nkept: corpora under {args.corpus_root}, scan outputs in {work}", file=sys.stderr)
    return 0


def flat_memory(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The analyzer's peaks at two sizes, and their ratios (flat memory: 0.8 to 1.2)."""
    def pair(key: str) -> str:
        return f"{b[key]:.0f} / {a[key]:.0f} MB = {b[key] / max(a[key], 1e-9):.2f}"

    return (f"\nflat memory: analyzer peaks at {b['bytes'] / 1e6:.0f} MB vs {a['bytes'] / 1e6:.0f} MB "
            f"(x{b['bytes'] / a['bytes']:.1f} input): peak RSS {pair('analyzer_peak_rss_mb')}, "
            f"largest process {pair('analyzer_max_rss_mb')}, "
            f"tree RSS {pair('analyzer_tree_rss_mb')}, tree PSS {pair('analyzer_tree_pss_mb')} (target 0.8-1.2)")


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.split("\n")[0]
    except OSError:
        return "missing"


if __name__ == "__main__":
    sys.exit(main())
