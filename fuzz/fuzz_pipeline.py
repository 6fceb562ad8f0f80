"""Coverage-guided fuzzing of the hot path: bytes of a log chunk -> core scan (tokens, fields) -> decode -> classify.

    python fuzz/fuzz_pipeline.py -runs=2000          # the CI budget
    python fuzz/fuzz_pipeline.py -max_total_time=600 fuzz/corpus

Needs atheris (`pip install atheris`); `check_chunk` is importable without it, so the tests can
drive the same target with random bytes. Every crash found becomes a regression test.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import Any

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


@cache
def _context() -> tuple[Any, Any]:
    from analyzer.config import Settings
    from analyzer.tokens.keys import KeyRing

    return KeyRing(), Settings(offline=True)


def check_chunk(data: bytes) -> None:
    """Run one chunk through the scan as the pipeline does; raise only on a broken invariant.

    Detection and the core's line scanner (tokens, request fields, locations), decoding of each
    distinct token, then classification of the batch.
    """
    import analyzer._core as _core
    from analyzer import schema as S
    from analyzer.scan import formats
    from analyzer.scan.chunks import Batch, FileResult, batch_frame, scan_chunk
    from analyzer.tokens.check import classify
    from analyzer.tokens.decode import FactsMemo

    ring, settings = _context()
    fmt = formats.detect(data[:65536].split(b"\n")[:50])
    scanner = _core.LineScanner(fmt, 2024, "UTC", 1_700_000_000_000_000)
    known: dict[str, Any] = {}
    part, facts = scan_chunk(scanner, data, 1, FileResult("fuzz.log"), known, FactsMemo(), ring, settings)
    if part is None:
        return
    lines = part.column("line").to_pylist()
    if not all(1 <= n <= data.count(b"\n") + 1 for n in lines):
        raise AssertionError(f"line numbers out of range: {lines[:5]}")
    if set(part.column("location").to_pylist()) - set(S.LOCATIONS):
        raise AssertionError("unknown location")
    if set(part.column("format").to_pylist()) - {*S.FORMATS, S.FMT_GENERIC}:
        raise AssertionError("unknown format")
    ev = classify(batch_frame(Batch([(part, "fuzz.log", 1_700_000_000_000_000)], facts)), facts, settings)
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
        pass
    # Start from the seed lines unless the caller named a corpus directory. libFuzzer adds what it
    # finds to the first directory: a scratch one, so the checked-in seeds stay as they are.
    if not any(not a.startswith("-") for a in argv[1:]) and os.path.isdir(SEEDS):
        import tempfile

        argv = [*argv, tempfile.mkdtemp(prefix="fuzz-corpus-"), SEEDS]
    atheris.Setup(argv, check_chunk)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
