"""The compiled scan core (`analyzer._core`) against the pure-Python regex scan it replaced.

`extract_reference.py` is the former implementation (bytes regexes with lookbehinds); on any
input the core must find the same tokens on the same lines, the same locations and parameters,
the same chunk marks and the same count of masked Bearer values.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import extract_reference as R
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analyzer import _core
from analyzer import schema as S
from analyzer.scan import extract

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments that make tokens, separators, locations, masks and marks, glued at random.
_BITS = st.sampled_from([
    b"eyJ", b"eyJhbGciOiJub25lIn0", b".", b"=", b"==", b"%3D", b"%3d", b"%3", b"%20", b"%41", b"-", b"_", b"ab",
    b"Zz09", b"\n", b"\r\n", b" ", b"\t", b"+", b"\\t", b'"', b"'", b":", b"[", b"]", b"<", b">", b"*", b"***",
    b"****", b"xxx", b"XXX", b"x", b"?", b"&", b";", b"%26", b"%3F", b"{", b"|", b",", b"@",
    b"Bearer ", b"bearer+", b"BEARER ", b"bEaReR\t", b"Authorization: ", b"authorization=", b'"Authorization":"',
    b"Cookie: a=b; ", b"cOoKiE", b"access_token=", b"id_token%3D", b"?code=1&state=2&", b'"requestQuery":"',
    b'{"token":"', b"\\\"", b"REDACTED", b"[redacted]", b"<token>", b"PII is hidden", b"masked", b"filtered",
    b"hidden", b"removed", b"IDX10223", b"AADSTS50027", b"#Fields: a b", b"idx", b"\xff", b"\x00", b"\x0b",
])
CHUNKS = st.lists(_BITS | st.binary(max_size=8), max_size=60).map(b"".join)


def _hits(chunk: bytes, marks: int) -> list[tuple[int, ...]]:
    return [tuple(h) for h in R.find_tokens(chunk, 7, marks)]


@FAST
@given(CHUNKS)
@example(b"x eyJa=eyJab.c.d.e.f.g\nBearer  eyJab.c")
@example(b"Authorization: [ Bearer REDACTED")
def test_the_core_finds_what_the_regex_scan_finds(chunk: bytes) -> None:
    marks = R.chunk_marks_exact(chunk)
    assert extract.chunk_marks(chunk) == marks
    for pct in (0, R.MARK_PCT):  # both grammars, whatever the chunk holds
        want = _hits(chunk, pct)
        assert [tuple(h) for h in extract.find_tokens(chunk, 7, pct)] == want
    assert extract.count_masked(chunk) == R.count_masked(chunk)


@FAST
@given(CHUNKS)
def test_the_chunk_scan_agrees_occurrence_by_occurrence(chunk: bytes) -> None:
    scan = extract.scan_chunk(chunk, 7)
    marks = R.chunk_marks_exact(chunk)
    assert scan.marks == marks
    assert scan.masked == (R.count_masked(chunk) if marks & R.MARK_MASK else 0)
    occ = scan.occurrences.to_pydict()
    tokens = scan.tokens.to_pydict()
    hits = _hits(chunk, marks)
    assert list(zip(occ["line"], occ["line_start"], occ["line_end"], occ["start"], occ["end"], strict=True)) == hits
    for i, h in enumerate(hits):
        want = R.locate_at(chunk, h[1], h[3], marks)
        assert (S.LOCATIONS[occ["location"][i]], occ["param"][i]) == want
        token = R.canonical(chunk[h[3]:h[4]])
        assert tokens["token"][occ["token"][i]] == token
        assert occ["cut"][i] == (chunk[h[4]:h[4] + 1] in (b"", b"\n", b"\r"))
    assert len(set(tokens["token"])) == len(tokens["token"])
    assert tokens["fp"] == [hashlib.sha256(t).hexdigest()[:16] for t in tokens["token"]]


_LINES = st.lists(st.sampled_from([
    b'1.2.3.4 - - [20/Nov/2026:05:01:07 +0000] "GET /a?access_token=eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln HTTP/1.1" '
    b'200 1 "-" "curl/8"',
    b'5.6.7.8 - - [20/Nov/2026:05:01:08 +0000] "POST /b HTTP/1.1" 401 1 "-" "Mozilla/5.0" '
    b'"Bearer eyJhbGciOiJSUzI1NiJ9.eyJiIjoyfQ.c2ln"',
    b'{"host":"h.example","method":"GET","authorization":"Bearer eyJhbGciOiJFUzI1NiJ9.eyJjIjozfQ.c2ln"}',
    b"text id_token=eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln and Cookie: t=eyJhbGciOiJSUzI1NiJ9.eyJiIjoyfQ.c2ln",
    b"no token here",
]) | CHUNKS, max_size=30).map(b"\n".join)


@FAST
@given(_LINES, st.sampled_from([S.FMT_NGINX, S.FMT_GENERIC, S.FMT_JSON]))
def test_the_repeating_columns_come_coded_with_each_lines_values(chunk: bytes, fmt: str) -> None:
    """`LineScanner.scan` codes format, location, param, host, method, user agent and fingerprint: values
    in order of first appearance, each once; decoded, a row holds what the line parser reads of its line
    and the fingerprint of its token."""
    occ, tokens, _ = _core.LineScanner(fmt, 2026, "UTC").scan(chunk, 1)
    lines = chunk.split(b"\n")
    fps = tokens.column(1).to_pylist()
    coded = {}
    for name in ("format", "location", "param", "host", "method", "user_agent", "token_fp"):
        column = occ.column(name)
        assert pa.types.is_dictionary(column.type), name
        values = column.to_pylist()
        assert column.dictionary.to_pylist() == list(dict.fromkeys(v for v in values if v is not None)), name
        coded[name] = values
    for i, line_no in enumerate(occ.column("line").to_pylist()):
        got_format, fields = _core.parse_line(lines[line_no - 1], fmt, 2026, "UTC", None, [])
        assert coded["format"][i] == got_format
        assert (coded["host"][i], coded["method"][i], coded["user_agent"][i]) == (fields[1], fields[2], fields[6])
        assert coded["location"][i] in S.LOCATIONS
        assert coded["token_fp"][i] in fps


@FAST
@given(st.lists(_BITS | st.binary(max_size=6), max_size=40).map(b"".join))
def test_locate_agrees_on_any_bytes(before: bytes) -> None:
    assert extract.locate(before) == R.locate(before)


def test_hostile_runs_stay_linear() -> None:
    """Runs that hold many candidate starts: each run is read once (6 MB each, well under a second)."""
    for unit in (b"eyJ", b"eyJa=", b"=eyJab", b"%20eyJab", b"eyJab%3D", b"eyJab."):
        chunk = unit * (6_000_000 // len(unit))
        t0 = time.perf_counter()
        extract.scan_chunk(chunk, 1)
        _core.find_tokens(chunk, 1, True)
        assert time.perf_counter() - t0 < 2.0, unit


def _fuzz_target() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_core.py"
    spec = importlib.util.spec_from_file_location("fuzz_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_core_fuzz_target_on_seeds_and_random_bytes() -> None:
    target = _fuzz_target()
    rng = random.Random(16)
    seeds = [p.read_bytes() for p in sorted(Path(target.SEEDS).glob("*"))]
    for data in seeds:
        target.check(data)
    for _ in range(1500):
        target.check(rng.randbytes(rng.randrange(0, 400)))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_the_core_fuzz_target_under_atheris(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, str(root / "fuzz" / "fuzz_core.py"), "-runs=3000", "-seed=1",
                        "-max_len=2048"], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "Done 3000 runs" in r.stderr


_TEXT_RE = __import__("re").compile(R.TOKEN_RE.pattern.decode("ascii"))


@FAST
@given(st.lists(_BITS.map(lambda b: b.decode("latin-1")) | st.text(max_size=4), max_size=40).map("".join))
def test_redact_and_token_re_agree_with_the_regex(text: str) -> None:
    assert extract.redact(text) == _TEXT_RE.sub("[token]", text)
    raw = text.encode("utf-8", "surrogatepass")
    assert extract.TOKEN_RE.findall(raw) == R.TOKEN_RE.findall(raw)
    assert [m.span() for m in extract.TOKEN_RE.finditer(raw)] == [m.span() for m in R.TOKEN_RE.finditer(raw)]


@pytest.mark.whole_run
def test_a_token_line_with_a_long_run_of_candidates_is_fast(tmp_path: Path) -> None:
    """`eyJa=eyJa=...` lets a candidate start at every `=`: a regex rescans the run from each (quadratic;
    200 KB took 25 s, 6 MB hours). The core reads it once, in the scan and in the line's fields."""
    from analyzer.config import build_settings
    from analyzer.run import run

    log = tmp_path / "access.log"
    log.write_bytes(b'10.0.0.1 - - [20/Nov/2026:10:00:00 +0000] "GET /p?x=' + b"eyJa=" * 1_200_000
                    + b' HTTP/1.1" 200 5 "-" "ua" Bearer eyJhbGciOiJub25lIn0.e30.\n')
    settings = build_settings(None, [str(log)], offline=True, out_dir=tmp_path / "out", cache_dir=tmp_path / "c",
                              workers=1)
    t0 = time.perf_counter()
    outcome = run(settings, [str(log)])
    assert time.perf_counter() - t0 < 30
    assert outcome.summary["tokens"]["occurrences"] == 1
