"""UTF-16 logs (what PowerShell 5 writes) are read as UTF-8 text; they used to give no token and no error
(found by QA: D9)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import jwts as T
import pytest

from analyzer.engine.plan import plan
from analyzer.scan.codecs import utf16_codec
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import ReadStats, iter_chunks

TEXT = "".join(f"2026-11-26T03:14:{i % 60:02d}Z GET /orders/{i} 401 caf\u00e9 \u65e5\u672c\n" for i in range(3000))
ENCODED = {
    "le-bom": b"\xff\xfe" + TEXT.encode("utf-16-le"),
    "be-bom": b"\xfe\xff" + TEXT.encode("utf-16-be"),
    "le": TEXT.encode("utf-16-le"),  # Out-File -Append writes no byte order mark
}


def read(path: Path, **kw: int) -> tuple[bytes, ReadStats]:
    stats = ReadStats()
    f = InputFile(str(path), path.stat().st_size, 0)
    return b"".join(bytes(c) for c, _ in iter_chunks(f, stats, chunk_size=1 << 12, **kw)), stats


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("form", sorted(ENCODED))
def test_utf16_text_is_read_as_utf8_and_counted_in_its_own_bytes(tmp_path: Path, form: str, gz: bool) -> None:
    p = tmp_path / ("ps-export.log" + (".gz" if gz else ""))
    raw = ENCODED[form]
    p.write_bytes(gzip.compress(raw) if gz else raw)
    data, stats = read(p)
    assert data == TEXT.encode() and stats.lines == 3000 and not stats.errors
    assert stats.bytes_read == len(raw)  # where a later run resumes, in the file's (content's) bytes


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("form", ["le-bom", "be-bom"])
def test_a_grown_utf16_log_is_read_on_where_the_last_read_ended(tmp_path: Path, form: str, gz: bool) -> None:
    """A nightly run resumes at the bytes an earlier run read: the new lines, in the mark's byte order."""
    p = tmp_path / ("ps-export.log" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(ENCODED[form]) if gz else ENCODED[form])
    _, stats = read(p)
    more = "2026-11-26T04:00:00Z GET /new 401\n"
    grown = ENCODED[form] + more.encode("utf-16-le" if form == "le-bom" else "utf-16-be")
    p.write_bytes(gzip.compress(grown) if gz else grown)
    data, again = read(p, start=stats.bytes_read)
    assert data == more.encode() and again.lines == 1 and not again.errors


def test_a_range_of_utf16_text_is_reported_not_misread(tmp_path: Path) -> None:
    """A range may start inside a character: such a read is one error, and the planner makes none."""
    p = tmp_path / "big.log"
    p.write_bytes(ENCODED["le-bom"])
    data, stats = read(p, start=1001, end=50_000)
    assert data == b"" and len(stats.errors) == 1 and "UTF-16" in stats.errors[0] and "UTF-8" in stats.errors[0]
    f = InputFile(str(p), p.stat().st_size, 0)
    assert [(u.start, u.end) for u in plan([f], range_bytes=10_000)] == [(0, None)]


def test_only_utf16_is_taken_for_utf16() -> None:
    assert utf16_codec(b"10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] GET") is None
    assert utf16_codec("short".encode("utf-16-le")[:6]) is None  # too little to tell without a mark
    assert utf16_codec("\u65e5\u672c".encode("utf-8")) is None
    assert utf16_codec(b"\xfe\xff\x00a") == "utf-16"


def test_the_cli_finds_the_tokens_of_a_powershell_export(tmp_path: Path, scan_dir) -> None:
    key = T.make_rsa_key("utf16-k1")
    tok = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders",
                                       "22222222-2222-2222-2222-222222222222", seed=4), key)
    line = f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {tok}"\n'
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "ps-export.log").write_bytes(b"\xff\xfe" + (line * 5).encode("utf-16-le"))
    (logs / "ps-export-be.log").write_bytes(b"\xfe\xff" + (line * 5).encode("utf-16-be"))
    code, out, result = scan_dir(str(logs), "--offline")
    assert code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["tokens"]["occurrences"] == 10 and run["files"]["lines_undecodable"] == 0
    assert run["files"]["errors"] == [] and run["files"]["by_format"] == {"nginx": 2}
