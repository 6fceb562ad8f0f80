#!/usr/bin/env python3
"""The floor: what the work every scan must do costs on this machine, before any of the analysis.

Runs the analyzer's own stages over a corpus on `--workers` forked processes, with the same plan,
schedule and tasks as `analyzer scan`, each level doing a little more of what a scan cannot skip:

- `start`: the interpreter and the imports these stages need (the core, pyarrow's Parquet writer,
  PyJWT and `cryptography`, the readers, the key ring), the corpus's keys loaded, the plan made and
  the pool forked; no file is read;
- `read`: + every file read and decompressed in chunks (`readers.iter_chunks`: gzip through ISA-L,
  bz2, zstd, byte ranges of large plain files);
- `scan`: + each chunk through the core's `LineScanner` (tokens found, request fields parsed,
  fingerprints, Arrow columns);
- `decode`: + each distinct token decoded and checked once per process (`analyze_token`: the core's
  decoding, the issuer check and the signature verified with PyJWT and `cryptography`; workers share
  their verdicts, so a signature is verified once in all); the scan's bounded memo decodes some again;
- `write`: + the core's occurrence columns (14 of the events' 36) written as Parquet (zstd), a file
  per task and a row group per 65,536 rows.

None of them imports pandas, classifies, aggregates, diagnoses or renders anything: whatever a level
costs, `analyzer scan` costs more. Beside `rg -o -z -c` over the same files, in the same sitting:

    python benchmarks/floor.py /tmp/benchroot/corpus-740000000-seed7 [--workers 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEVELS = ("start", "read", "scan", "decode", "write")
RG_PATTERN = r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"
ROW_GROUP = 1 << 16

_job: dict[str, Any] = {}  # the level, settings, key ring and output directory: set before forking


def work(task: list[Any]) -> tuple[int, int, int]:
    """(bytes read, occurrences, tokens decoded) of one task's units at the job's level.

    Each process decodes a token once, whatever the tasks it comes in (the scan's memo is bounded, and
    decodes some again): the floor is the least decoding there can be with the work split by process."""
    import pyarrow as pa

    from analyzer import _core
    from analyzer.scan import formats, readers
    from analyzer.tokens.decode import analyze_token

    level, settings, ring, out = _job["level"], _job["settings"], _job["ring"], _job["out"]
    facts = _job["facts"]  # every token this process decoded: none is decoded twice
    nbytes = occurrences = decoded = 0
    known: set[str] = set()  # the tokens of this task looked up (as `scan_file`'s cache)
    writer: Any = None
    held: list[pa.RecordBatch] = []
    try:
        for unit in task:
            f = unit.file
            stats = readers.ReadStats()
            scanner = None
            mtime = f.mtime or time.time()
            for chunk, first_line in readers.iter_chunks(f, stats, readers.decompressed_limit(f.size),
                                                         start=unit.start, end=unit.end, count_from=unit.count_from):
                nbytes += len(chunk)
                if level == "read":
                    continue
                if scanner is None:
                    fmt = formats.detect(bytes(chunk[:1 << 16]).split(b"\n")[:50])
                    scanner = _core.LineScanner(fmt, datetime.fromtimestamp(mtime, tz=UTC).year, settings.timezone,
                                                int(mtime * 1_000_000))
                occ, toks, _ = scanner.scan(chunk, first_line)
                occurrences += occ.num_rows
                if level == "scan":
                    continue
                fps, used = toks.column(1).to_pylist(), toks.column(2).to_pylist()
                fresh = [i for i, (fp, kept) in enumerate(zip(fps, used, strict=True)) if kept and fp not in known]
                if fresh:
                    tokens, cuts = toks.column(0).to_pylist(), toks.column(3).to_pylist()
                    for i in fresh:
                        known.add(fps[i])
                        if (fps[i], cuts[i]) not in facts:
                            facts[fps[i], cuts[i]] = analyze_token(tokens[i], ring, settings.clients, cuts[i], fps[i])
                            decoded += 1
                if level == "decode" or not occ.num_rows:
                    continue
                held.append(occ)
                if sum(b.num_rows for b in held) >= ROW_GROUP:
                    writer = _write(held, writer, out, task)
                    held = []
        if held:
            writer = _write(held, writer, out, task)
    finally:
        if writer is not None:
            writer.close()
    return nbytes, occurrences, decoded


def _write(held: list[Any], writer: Any, out: Path, task: list[Any]) -> Any:
    """The held record batches as one row group of the task's file (opened on its first)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_batches(held).unify_dictionaries().combine_chunks()
    if writer is None:
        writer = pq.ParquetWriter(out / f"part-{task[0].index:06d}.parquet", table.schema, compression="zstd")
    writer.write_table(table, row_group_size=ROW_GROUP)
    return writer


def run_job(corpus: Path, level: str, workers: int) -> dict[str, Any]:
    """One level in this process: the imports, keys, plan and pool of a scan, then the tasks."""
    import pyarrow.parquet  # noqa: F401 - what writing Parquet needs, loaded once before forking

    from analyzer.config import build_settings
    from analyzer.engine.plan import bundle, plan, schedule
    from analyzer.scan.inputs import expand_inputs
    from analyzer.tokens.keystore import load_keyring
    from analyzer.tokens.shared import SharedVerdicts

    out = Path(tempfile.mkdtemp(prefix="floor-"))
    try:
        settings = build_settings(corpus / "analyzer.toml", [str(corpus / "logs")], out_dir=out / "o", quiet=True)
        ring = load_keyring(settings)
        files = expand_inputs([str(corpus / "logs")]).files
        tasks = bundle(schedule(plan(files, workers=workers)))
        ring.shared = SharedVerdicts()  # as a scan's workers do: a signature verified by one is not by the other
        _job.update(level=level, settings=settings, ring=ring, out=out, facts={})
        if level == "start":
            tasks = []
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            got = pool.map(work, tasks, chunksize=1)
        written = sum(p.stat().st_size for p in out.glob("part-*.parquet"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"bytes": sum(g[0] for g in got), "occurrences": sum(g[1] for g in got),
            "decoded": sum(g[2] for g in got), "parquet_bytes": written}


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of it and its children, stdout) of a whole process."""
    before = os.times()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="a corpus directory (`make_corpus.py`): logs/ and analyzer.toml")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: the cores)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest counts (default: 3)")
    ap.add_argument("--scan", action="store_true", help="also time `analyzer scan` itself, for comparison")
    ap.add_argument("--json-out", type=Path, help="also write the figures here, as JSON")
    ap.add_argument("--level", choices=LEVELS, help=argparse.SUPPRESS)  # one level, in this process
    args = ap.parse_args()
    if args.level:
        # As `python -m analyzer` does before its imports: Arrow's jemalloc pool, one OpenBLAS thread.
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        print(json.dumps(run_job(args.corpus, args.level, args.workers)))
        return
    runs: dict[str, list[str]] = {}
    if shutil.which("rg"):
        runs["rg -o -z -c"] = ["rg", "--no-config", "--no-ignore", "--hidden", "-o", "-z", "-c", RG_PATTERN,
                               str(args.corpus / "logs")]
    for level in LEVELS:
        runs[level] = [sys.executable, __file__, str(args.corpus), "--level", level, "--workers", str(args.workers)]
    out = Path(tempfile.mkdtemp(prefix="floor-scan-"))
    if args.scan:
        runs["analyzer scan"] = [sys.executable, "-m", "analyzer", "scan", str(args.corpus / "logs"), "--config",
                                 str(args.corpus / "analyzer.toml"), "--out", str(out / "o"), "--workers",
                                 str(args.workers), "--quiet"]
    best: dict[str, tuple[float, float, str]] = {}
    try:
        for _ in range(args.repeat):  # interleaved: the machine's drift falls on every row alike
            for name, cmd in runs.items():
                shutil.rmtree(out / "o", ignore_errors=True)  # each scan a first one
                got = measure(cmd)
                if name not in best or got[0] < best[name][0]:
                    best[name] = got
    finally:
        shutil.rmtree(out, ignore_errors=True)
    base = best.get("rg -o -z -c", (0.0, 0.0, ""))[0]
    print(f"{'level':14s} {'wall s':>7s} {'CPU s':>6s} {'x rg':>6s}  what it did")
    for name, (wall, cpu, text) in best.items():
        info = json.loads(text) if name in LEVELS else {}
        did = (f"{info['bytes'] / 1e6:.0f} MB, {info['occurrences']} occurrences, {info['decoded']} decoded, "
               f"{info['parquet_bytes'] / 1e6:.1f} MB Parquet" if info else "")
        ratio = f"{wall / base:6.2f}" if base else f"{'':6s}"
        print(f"{name:14s} {wall:7.2f} {cpu:6.2f} {ratio}  {did}")
    if args.json_out:
        args.json_out.write_text(json.dumps({name: {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                                                    **(json.loads(text) if name in LEVELS else {})}
                                             for name, (wall, cpu, text) in best.items()}, indent=2))


if __name__ == "__main__":
    main()
