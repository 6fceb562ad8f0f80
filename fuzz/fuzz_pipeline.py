"""Coverage-guided fuzzing of the hot path: bytes of a log chunk -> extract -> parse -> decode -> classify.

    python fuzz/fuzz_pipeline.py -runs=2000          # the CI budget
    python fuzz/fuzz_pipeline.py -max_total_time=600 fuzz/corpus

Needs atheris (`pip install atheris`); `check_chunk` is importable without it, so the tests can
drive the same target with random bytes. Every crash found becomes a regression test.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.formats import FileContext

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


@cache
def _context() -> tuple[Any, Any, FileContext]:
    from analyzer import formats
    from analyzer.config import Settings
    from analyzer.keys import KeyRing

    return KeyRing(), Settings(offline=True), formats.FileContext(year=2024, mtime_us=1_700_000_000_000_000)


def check_chunk(data: bytes) -> None:
    """Run one chunk through every per-line stage; raise only on a broken invariant."""
    from analyzer import extract, formats
    from analyzer import schema as S
    from analyzer.check import classify
    from analyzer.decode import TokenFacts, analyze_token, fingerprint
    from analyzer.pipeline import Batch, _new_columns, batch_frame

    ring, settings, ctx = _context()
    fmt = formats.detect(data[:65536].split(b"\n")[:50])
    extract.count_masked(data)
    cols = _new_columns()
    facts: dict[str, TokenFacts] = {}
    for hit in extract.find_tokens(data, 1):
        if not (0 <= hit.line_start <= hit.start < hit.end <= hit.line_end <= len(data)):
            raise AssertionError(f"hit out of bounds: {hit}")
        token = extract.canonical(data[hit.start:hit.end])
        location, param = extract.locate(data[max(hit.line_start, hit.start - 160):hit.start])
        if location not in S.LOCATIONS:
            raise AssertionError(f"unknown location {location!r}")
        extract.plausible_header(token)
        fp = fingerprint(token)
        if fp not in facts:
            facts[fp] = analyze_token(token, ring, (), truncated=data[hit.end:hit.end + 1] in (b"", b"\n"))
        line_fmt, fields = formats.parse_line(data[hit.line_start:hit.line_end], fmt, ctx)
        if line_fmt not in (*S.FORMATS, S.FMT_GENERIC):
            raise AssertionError(f"unknown format {line_fmt!r}")
        row = {"ts": fields.ts, "source": "fuzz.log", "line": hit.line_no, "format": line_fmt,
               "location": location, "param": param, "host": fields.host, "method": fields.method,
               "path": fields.path, "status": fields.status, "client_ip": fields.client_ip,
               "user_agent": fields.user_agent, "token_fp": fp, "logged_error": None}
        for k, v in row.items():
            cols[k].append(v)
    if not cols["token_fp"]:
        return
    ev = classify(batch_frame(Batch(cols, facts, ctx.mtime_us or 0)), facts, settings)
    bad = set(ev["cause"]) - set(S.CAUSES)
    if bad:
        raise AssertionError(f"unknown causes {bad}")
    for fp, f in facts.items():
        alg = (f.alg or "").lower()
        if (alg in ("", "none") or alg.startswith("hs")) and (ev.loc[ev["token_fp"] == fp, "cause"] == S.OK).any():
            raise AssertionError(f"alg {f.alg!r} reported ok")


def main(argv: list[str]) -> None:
    """The atheris entry point."""
    import atheris

    with atheris.instrument_imports(include=["analyzer"]):
        # Imported here to be instrumented for coverage.
        import analyzer.check
        import analyzer.pipeline  # noqa: F401
    # Start from the seed lines unless the caller named a corpus directory. libFuzzer adds what it
    # finds to the first directory: a scratch one, so the checked-in seeds stay as they are.
    if not any(not a.startswith("-") for a in argv[1:]) and os.path.isdir(SEEDS):
        import tempfile

        argv = [*argv, tempfile.mkdtemp(prefix="fuzz-corpus-"), SEEDS]
    atheris.Setup(argv, check_chunk)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
