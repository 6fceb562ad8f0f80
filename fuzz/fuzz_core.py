"""Coverage-guided differential fuzzing of the compiled scan core (`analyzer._core`).

    python fuzz/fuzz_core.py -runs=20000                 # a short run
    python fuzz/fuzz_core.py -max_total_time=600 fuzz/corpus

Every entry point of the core (`scan_chunk`, `find_tokens` in both grammars, `chunk_marks`,
`count_masked`, `locate`, `canonical`) is fed the same bytes as the pure-Python regex scan it
replaced (`tests/extract_reference.py`); any difference, or any exception, is a finding. The
decoder (`decode_token`, `plausible_header`) gets the tokens found and the whole input. The core
itself is Rust without `unsafe` of its own: a panic would surface here as a Python exception.
`check` is importable without atheris, so the tests drive it with random bytes.
"""

from __future__ import annotations

import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "corpus")
sys.path.insert(0, os.path.join(ROOT, "tests"))


def check(data: bytes) -> None:
    """Run the core and the reference on one chunk; raise on any difference."""
    import extract_reference as R

    from analyzer import _core
    from analyzer import schema as S
    from analyzer.scan import extract

    marks = R.chunk_marks_exact(data)
    got_marks = _core.chunk_marks(data)
    if got_marks != marks:
        raise AssertionError(f"marks {got_marks} != {marks}")
    if _core.count_masked(data) != R.count_masked(data):
        raise AssertionError("masked counts differ")
    for pct in (False, True):
        want = [tuple(h) for h in R.find_tokens(data, 3, R.MARK_PCT if pct else 0)]
        got = _core.find_tokens(data, 3, pct).to_pydict()
        rows = list(zip(got["line"], got["line_start"], got["line_end"], got["start"], got["end"], strict=True))
        if rows != want:
            raise AssertionError(f"hits differ (pct={pct}): {rows[:3]} != {want[:3]}")
    occurrences, tokens, _, _ = _core.scan_chunk(data, 3)
    occ, tok = occurrences.to_pydict(), tokens.to_pydict()
    for i in range(occurrences.num_rows):
        start, line_start = occ["start"][i], occ["line_start"][i]
        if (S.LOCATIONS[occ["location"][i]], occ["param"][i]) != R.locate_at(data, line_start, start):
            raise AssertionError("locations differ")
        token = tok["token"][occ["token"][i]]
        if token != R.canonical(data[start:occ["end"][i]]):
            raise AssertionError("tokens differ")
        if tok["fp"][occ["token"][i]] != hashlib.sha256(token).hexdigest()[:16]:
            raise AssertionError("fingerprints differ")
    tail = data[-160:]
    if extract.locate(tail) != R.locate(tail):
        raise AssertionError("locate differs")
    # Decoding (no reference left: the Python decoder was replaced): a panic would raise here.
    for token in [*tok["token"][:4], data]:
        _core.decode_token(token, True)
        _core.plausible_header(token)


def main(argv: list[str]) -> None:
    """The atheris entry point."""
    import atheris

    # Start from the seed lines unless the caller named a corpus directory (libFuzzer writes what it
    # finds into the first directory: a scratch one).
    if not any(not a.startswith("-") for a in argv[1:]) and os.path.isdir(SEEDS):
        import tempfile

        argv = [*argv, tempfile.mkdtemp(prefix="fuzz-core-"), SEEDS]
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
