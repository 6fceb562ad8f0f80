"""Microbenchmark of `formats.parse_line` on real token lines of a corpus, per format.

Collects, per file of a corpus made by `make_corpus.py`, the first few thousand lines that hold a
token (`eyJ`), then times `parse_line` over them (best of N, timestamp caches cleared before each
run so that cache hits are those of one pass in file order, as in a scan):

    python benchmarks/parse_bench.py /tmp/corpus/logs [--lines 3000] [--repeat 3]
    python benchmarks/parse_bench.py /tmp/corpus/logs --save before.pickle   # the parsed fields
    python benchmarks/parse_bench.py /tmp/corpus/logs --compare before.pickle  # same fields now?
    python -m cProfile -s tottime benchmarks/parse_bench.py /tmp/corpus/logs | head -40
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from functools import _lru_cache_wrapper
from pathlib import Path
from typing import Any

from analyzer import formats
from analyzer import timeparse as T

Sample = tuple[bytes, list[str]]  # a line and the W3C field list in force for it


def _open(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield from fh
    elif path.name.endswith(".zst"):
        import zstandard

        with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as z:
            import io

            yield from io.BufferedReader(z)
    else:
        with path.open("rb") as fh:
            yield from fh


def collect(path: Path, limit: int) -> tuple[str, list[Sample]]:
    """The file's detected format and its first `limit` token lines (without the newline)."""
    head: list[bytes] = []
    samples: list[Sample] = []
    fields = list(formats.FileContext().iis_fields)
    for raw in _open(path):
        line = raw.rstrip(b"\n")
        if len(head) < 50:
            head.append(line)
        if line.startswith(b"#Fields:"):
            fields = [f.lower() for f in line[8:].decode("latin-1").split()]
        elif b"eyJ" in line:
            samples.append((line, fields))
            if len(samples) >= limit:
                break
    return formats.detect(head), samples


def _clear_caches() -> None:
    for value in vars(T).values():
        if isinstance(value, _lru_cache_wrapper):
            value.cache_clear()


def run(fmt: str, samples: list[Sample]) -> list[tuple[str, formats.LineFields]]:
    """One pass over the samples, in file order."""
    ctx = formats.FileContext(year=2026)
    parse: Callable[[bytes, str, formats.FileContext], tuple[str, formats.LineFields]] = formats.parse_line
    out = []
    for line, fields in samples:
        ctx.iis_fields = fields
        out.append(parse(line, fmt, ctx))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="a directory of logs (make_corpus.py's `logs/`)")
    ap.add_argument("--lines", type=int, default=3000, help="token lines per file (default 3000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    ap.add_argument("--save", type=Path, help="write the parsed fields of every line to this pickle")
    ap.add_argument("--compare", type=Path, help="check the parsed fields against a --save pickle")
    args = ap.parse_args(argv)

    files = sorted(p for p in args.corpus.rglob("*") if p.is_file())
    results: dict[str, Any] = {}
    for path in files:
        fmt, samples = collect(path, args.lines)
        if not samples:
            continue
        best = float("inf")
        for _ in range(args.repeat):
            _clear_caches()
            t = time.perf_counter()
            got = run(fmt, samples)
            best = min(best, time.perf_counter() - t)
        results[str(path.relative_to(args.corpus))] = got
        size = sum(len(s[0]) for s in samples) / len(samples)
        print(f"{path.relative_to(args.corpus)!s:42} {fmt:14} {len(samples):6} lines "
              f"{size:6.0f} B/line {best / len(samples) * 1e6:7.2f} µs/line")
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    if args.compare:
        before = pickle.loads(args.compare.read_bytes())
        bad = 0
        for name, got in results.items():
            for i, (a, b) in enumerate(zip(before.get(name, []), got, strict=False)):
                if a != b:
                    bad += 1
                    if bad <= 10:
                        print(f"DIFF {name} #{i}:\n  before {a}\n  now    {b}")
        print("same fields as before" if not bad else f"{bad} lines differ")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
