"""Through the scan: the line and time a token line gives its rows (QA round 3: hours-only UTC offsets,
lines longer than the reader's buffer, old-Mac CR-only line ends)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import jwts as T
import pandas as pd
import pytest

from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import ReadStats, iter_chunks

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"


@pytest.fixture(scope="module")
def token() -> str:
    claims = T.access_token_claims(TENANT, "api://orders", CLIENT, seed=3, iat=1728568000, exp=1728571600)
    return T.sign(claims, T.make_rsa_key("times-k1"))


def _events(scan_dir, logs: Path) -> pd.DataFrame:
    for f in logs.iterdir():
        os.utime(f, (1900000000, 1900000000))  # 2030: a fallback to the mtime would show
    code, out, result = scan_dir(str(logs), "--offline")
    assert code == 0, result.output
    return pd.read_parquet(out / "events").sort_values("line", ignore_index=True)


def _at(iso: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(iso).astimezone(UTC))


def test_an_hours_only_offset_is_the_offset_not_utc(tmp_path: Path, scan_dir, token: str) -> None:
    """PostgreSQL writes `-05`, some syslog daemons ` -05`: 10:00 at -05 is 15:00 UTC, not 10:00."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "pg.log").write_text(
        f"2024-10-10 09:00:00-05 [42] LOG:  Authorization: Bearer {token}\n"
        f"2024-10-10 09:10:00 -05 app: Authorization: Bearer {token}\n"
        f"2024-10-10T19:30:00+0530 app: Authorization: Bearer {token}\n")
    ev = _events(scan_dir, logs)
    assert list(ev.ts) == [_at("2024-10-10T14:00:00+00:00"), _at("2024-10-10T14:10:00+00:00"),
                           _at("2024-10-10T14:00:00+00:00")]


def test_a_token_past_the_first_mebibyte_of_its_line_has_the_lines_time(tmp_path: Path, scan_dir,
                                                                           token: str) -> None:
    """The reader hands a line over 1 MiB on in pieces: a token in a later piece keeps the time at the
    line's start, and is not judged at the file's mtime (which would call it expired)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    pad = "a=b&" * 300_000  # 1.2 MB of query
    (logs / "long.log").write_text(
        f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /x?{pad} HTTP/1.1" 401 5 "-" "curl/8" "Bearer {token}"\n'
        f"no time here Bearer {token}\n")
    ev = _events(scan_dir, logs)
    assert list(ev.line) == [1, 2]
    assert ev.ts[0] == _at("2024-10-10T13:55:36+00:00")
    assert pd.isna(ev.ts[1])  # the head is the long line's only: the next line has none
    assert ev.cause[0] != "expired" and "no time on the line" not in str(ev.detail[0])


def test_lone_cr_line_ends_number_the_lines(tmp_path: Path, scan_dir, token: str) -> None:
    """Old Mac OS ends lines in a CR alone: each is a line of its own, in a small file and in one
    larger than the reader's buffer; a CRLF file is numbered as before."""
    logs = tmp_path / "logs"
    logs.mkdir()
    line = f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /o HTTP/1.1" 200 5 "-" "curl/8" "Bearer {token}"'
    (logs / "small.log").write_bytes((line + "\r").encode() * 3)
    (logs / "big.log").write_bytes((line + "\r").encode() * 1500)  # ~2 MB
    (logs / "crlf.log").write_bytes((line + "\r\n").encode() * 3)
    ev = _events(scan_dir, logs)
    ev["name"] = ev.source.map(lambda s: Path(s).name)
    lines = ev.groupby("name").line.apply(list).to_dict()
    assert lines == {"small.log": [1, 2, 3], "big.log": list(range(1, 1501)), "crlf.log": [1, 2, 3]}
    assert (ev.ts == _at("2024-10-10T13:55:36+00:00")).all()


def test_cr_line_ends_are_turned_only_where_lf_never_came(tmp_path: Path) -> None:
    """The CRs turn into LFs from a first buffer without LF until an LF comes (a mixed file is read
    as it is from there), and only in a read to the end: a range's bounds are found by LF."""
    p = tmp_path / "mixed.log"
    p.write_bytes(b"a\rb\rc\rd\ne\n")
    f = InputFile(str(p), p.stat().st_size, 0)
    stats = ReadStats()
    whole = [(bytes(v), n) for v, n in iter_chunks(f, stats, chunk_size=4)]
    assert b"".join(c for c, _ in whole) == b"a\nb\nc\rd\ne\n"
    assert stats.lines == 4
    ranged = b"".join(bytes(v) for v, _ in iter_chunks(f, ReadStats(), chunk_size=4, start=0, end=3))
    assert ranged == b"a\rb\rc\rd\n"
