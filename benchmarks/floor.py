#!/usr/bin/env python3
"""The CPython floor: how fast a scan can possibly be before it does the work `analyzer scan` must do.

Runs skeleton pipelines over a corpus on `--workers` forked processes (as `analyzer scan` splits
the work: whole compressed files, plain files in line-aligned byte ranges), each level doing a
little more of what a scan needs, none of them decoding, classifying or writing anything:

- `read`: start-up with the imports any Parquet writer needs (pandas, pyarrow), then read every
  file in 1 MiB chunks (gzip through ISA-L, zstd through zstandard, bz2) cut at the last newline;
- `find`: + every token candidate with the analyzer's regex (`extract.TOKEN_RE.finditer`);
- `lines`: + per token its line's bounds and number, one regex match of the line's head (the
  fields before the token: the cheapest per-line parse there is), a dict lookup of the token,
  and a tuple appended per occurrence;
- `write`: + the occurrences written to Parquet (zstd) every 64k rows as seven columns: line, token
  id and the head's five fields dictionary-encoded (the contract's events have 30).

Beside `rg -o -c` over the same files. Whatever a level costs, a pipeline that also decodes,
classifies, aggregates and writes every occurrence, and renders a report, costs more.

    python benchmarks/floor.py /tmp/analyzer-bench/corpus-750000000-seed7/logs [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RANGE = 64 << 20
CHUNK = 1 << 20
HEAD = re.compile(rb'(\S+) \S+ (\S+) \[([^\]]{8,40})\] "([A-Z]{3,12}) (/[^\s?"]*)')
LEVELS = ("read", "find", "lines", "write")


def _open(path: str) -> Any:
    """A binary stream of the file's content."""
    if path.endswith(".gz"):
        from isal import igzip

        return igzip.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), read_across_frames=True)
    if path.endswith(".bz2"):
        import bz2

        return bz2.open(path, "rb")
    return open(path, "rb")


def _chunks(path: str, start: int, end: int | None) -> Iterator[bytes]:
    """Line-aligned chunks of the lines that start in [start, end)."""
    with _open(path) as f:
        if start:
            f.seek(start - 1)
            f.readline()  # the line that straddles `start` belongs to the range before
        pos = f.tell() if end is not None else 0
        rest = b""
        while True:
            block = f.read(CHUNK)
            if not block:
                if rest:
                    yield rest
                return
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if end is not None and pos + cut >= end:
                # Stop after the line that straddles `end`.
                stop = data.find(b"\n", max(0, end - pos - 1)) + 1 or len(data)
                yield data[:stop]
                return
            pos += cut
            rest = data[cut:]
            yield data[:cut]


def work(task: tuple[str, int, int | None, str]) -> tuple[int, int, int]:
    """(bytes, tokens, token lines) of one file or byte range at one level."""
    from analyzer.scan.extract import TOKEN_RE

    path, start, end, level = task
    nbytes = tokens = lines = 0
    seen: dict[bytes, int] = {}
    rows: list[tuple[object, ...]] = []
    for chunk in _chunks(path, start, end):
        nbytes += len(chunk)
        if level == "read":
            continue
        if level == "find":
            tokens += sum(1 for _ in TOKEN_RE.finditer(chunk))
            continue
        line_no, pos, line_end = 1, 0, -1
        head = None
        for m in TOKEN_RE.finditer(chunk):
            s, e = m.span()
            if s > line_end:
                line_no += chunk.count(b"\n", pos, s)
                pos = s
                line_start = chunk.rfind(b"\n", 0, s) + 1
                line_end = chunk.find(b"\n", s)
                head = HEAD.match(chunk, line_start, line_end)
                lines += 1
            token = chunk[s:e]
            fp = seen.get(token)
            if fp is None:
                fp = seen[token] = len(seen)
            rows.append((line_no, fp, head and head.groups()))
            tokens += 1
        if len(rows) > 65536:
            _flush(rows, level, path, start)
    if rows:
        _flush(rows, level, path, start)
    return nbytes, tokens, lines


def _flush(rows: list[tuple[object, ...]], level: str, path: str, start: int) -> None:
    """Forget the rows (`lines`), or write them first (`write`)."""
    if level == "write":
        import tempfile

        import pyarrow as pa
        import pyarrow.parquet as pq

        line, fp, heads = zip(*rows, strict=True)
        fields = list(zip(*(h or (None,) * 5 for h in heads), strict=True))
        table = pa.table({"line": pa.array(line, pa.int64()), "token": pa.array(fp, pa.int32()),
                          **{name: pa.array(col, pa.binary()).dictionary_encode()
                             for name, col in zip(("ip", "user", "ts", "method", "path"), fields, strict=True)}})
        with tempfile.NamedTemporaryFile(suffix=".parquet") as f:
            pq.write_table(table, f.name, compression="zstd")
    rows.clear()


def tasks(root: Path, level: str) -> list[tuple[str, int, int | None, str]]:
    out: list[tuple[str, int, int | None, str]] = []
    for p in sorted(x for x in root.rglob("*") if x.is_file()):
        size = p.stat().st_size
        if p.suffix in (".gz", ".zst", ".bz2") or size <= RANGE:
            out.append((str(p), 0, None, level))
        else:
            out += [(str(p), s, min(s + RANGE, size), level) for s in range(0, size, RANGE)]
    return out


def run_level(root: Path, level: str, workers: int) -> dict[str, float]:
    """One level as a subprocess, start (imports included) to exit."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, str(root), "--level", level, "--workers", str(workers)],
                         check=True, capture_output=True, text=True).stdout
    return {"wall": time.perf_counter() - t0, **json.loads(out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", type=Path, help="a corpus's logs/ directory")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=2, help="runs per level; the fastest counts")
    ap.add_argument("--level", choices=LEVELS, help=argparse.SUPPRESS)  # one level, in this process
    args = ap.parse_args()
    if args.level:
        import pandas  # noqa: F401 - what any pipeline that writes Parquet from frames imports
        import pyarrow.parquet  # noqa: F401

        todo = tasks(args.logs, args.level)
        todo.sort(key=lambda t: -((t[2] or os.path.getsize(t[0]) * 4) - t[1]))  # largest first
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            got = pool.map(work, todo, chunksize=1)
        print(json.dumps({"bytes": sum(g[0] for g in got), "tokens": sum(g[1] for g in got),
                          "token_lines": sum(g[2] for g in got)}))
        return
    rg = shutil.which("rg")
    results: dict[str, dict[str, float]] = {}
    if rg:
        t0 = time.perf_counter()
        subprocess.run([rg, "--no-config", "--no-ignore", "--hidden", "-z", "-o", "-c",
                        r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?", str(args.logs)],
                       check=False, capture_output=True)
        results["rg -o -c"] = {"wall": time.perf_counter() - t0}
    for level in LEVELS:
        results[level] = min((run_level(args.logs, level, args.workers) for _ in range(args.repeat)),
                             key=lambda r: r["wall"])
    base = results.get("rg -o -c", {}).get("wall")
    print(f"{'level':10s} {'wall s':>7s} {'MB/s':>7s} {'x rg':>6s}  tokens")
    for name, r in results.items():
        mbs = f"{r['bytes'] / r['wall'] / 1e6:7.0f}" if "bytes" in r else f"{'':7s}"
        ratio = f"{r['wall'] / base:6.2f}" if base else f"{'':6s}"
        print(f"{name:10s} {r['wall']:7.2f} {mbs} {ratio}  {int(r.get('tokens', 0)) or ''}")


if __name__ == "__main__":
    main()
