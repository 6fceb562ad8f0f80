"""Microbenchmark of the core's line parser (`formats.parse_line`) per format, on the test suite's samples.

The figure includes the Python call into the core (a scan makes no such call per line).

Every `{TOKEN_...}` placeholder of `tests/formats/*.log` becomes a realistic 1.2 KB token, and each
sample's token lines are parsed in the format the file is detected as (µs per line, best of 3).
Also syslog- and CRI-wrapped nginx lines from a corpus, when one is given:

    python benchmarks/format_bench.py [--corpus /tmp/corpus/logs] [--repeat 200]
"""

from __future__ import annotations

import argparse
import re
import timeit
from pathlib import Path

from analyzer.scan import formats
from analyzer.scan.formats import FileContext

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "formats"
TOKEN = b"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + b"eyJ" + b"A" * 900 + b"." + b"S" * 342


def per_line(lines: list[bytes], fmt: str, ctx: FileContext, repeat: int) -> float:
    """Best of 3 runs of `repeat` passes: µs per line."""
    runs = timeit.repeat(lambda: [formats.parse_line(line, fmt, ctx) for line in lines], number=repeat, repeat=3)
    return min(runs) / repeat / len(lines) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, help="a corpus's logs/ (make_corpus.py): wrapped nginx lines too")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    print(f"{'sample':28s} {'format':16s} {'us/line':>8s}")
    for path in sorted(SAMPLES.glob("*.log")):
        raw = re.sub(rb"\{TOKEN_[A-Z_]+\}", TOKEN, path.read_bytes())
        lines = raw.split(b"\n")
        fmt = formats.detect(lines[:50])
        ctx = FileContext(year=2026)
        directives = formats.field_directives(raw)
        if directives:
            ctx.iis_fields = directives[-1][1]
        token_lines = [line for line in lines if b"eyJ" in line and not line.startswith(b"#")]
        if token_lines:
            print(f"{path.stem:28s} {fmt:16s} {per_line(token_lines, fmt, ctx, args.repeat):8.1f}")
    if args.corpus:
        nginx = next(args.corpus.rglob("orders-access.log")).read_bytes()[: 8 << 20].split(b"\n")
        plain = [line for line in nginx if b"eyJ" in line][:2000]
        for name, prefix in (("nginx", b""), ("nginx in syslog", b"Nov 20 05:01:07 web01 nginx: "),
                             ("nginx in CRI", b"2026-11-20T05:01:07.123456789Z stdout F ")):
            lines = [prefix + line for line in plain]
            fmt = formats.detect(lines[:50])
            print(f"{name:28s} {fmt:16s} {per_line(lines, fmt, FileContext(year=2026), 3):8.1f}")


if __name__ == "__main__":
    main()
