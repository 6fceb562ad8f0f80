"""Token finding: linear scan, line numbers, padding, %-escapes, locations, masked values."""

from __future__ import annotations

import time

import jwts as tk
import pytest

from analyzer import schema as S
from analyzer.scan import extract
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import ReadStats, iter_chunks


@pytest.fixture(scope="module")
def token() -> str:
    claims = tk.access_token_claims("t", "api://x", "c", iat=1_790_000_000, scp="a")
    return tk.sign(claims, tk.make_rsa_key("k"))


def test_long_run_without_dot_scans_linearly() -> None:
    blob = b"eyJ" * (1_000_000 // 3)
    t0 = time.perf_counter()
    assert list(extract.find_tokens(blob, 1)) == []
    assert time.perf_counter() - t0 < 5.0  # quadratic backtracking would take hours
    escaped = b"%41eyJ" * 200_000
    t0 = time.perf_counter()
    assert list(extract.find_tokens(escaped, 1)) == []
    assert time.perf_counter() - t0 < 5.0


def test_line_numbers_and_offsets(token: str) -> None:
    chunk = f"a\nb Bearer {token}\n\nx={token} y={token}\n".encode()
    hits = list(extract.find_tokens(chunk, 10))
    assert [h.line_no for h in hits] == [11, 13, 13]
    assert all(chunk[h.start:h.end] == token.encode() for h in hits)


def test_tokens_at_chunk_boundaries_keep_their_line(tmp_path, token: str) -> None:
    lines = [f"{i} Authorization: Bearer {token}" if i % 7 == 0 else f"{i} filler " + "z" * (i % 50)
             for i in range(1, 400)]
    p = tmp_path / "a.log"
    p.write_text("\n".join(lines) + "\n")
    found = []
    f = InputFile(str(p), p.stat().st_size, 0)
    for view, first in iter_chunks(f, ReadStats(), chunk_size=2 * len(token) + 77):
        chunk = bytes(view)
        found += [(h.line_no, chunk[h.start:h.end]) for h in extract.find_tokens(chunk, first)]
    assert [n for n, _ in found] == [i for i in range(1, 400) if i % 7 == 0]
    assert all(t == token.encode() for _, t in found)


def test_line_longer_than_chunk(tmp_path, token: str) -> None:
    p = tmp_path / "long.log"
    p.write_text(f"first\n{'q ' * 9000}Bearer {token} {'w ' * 9000}\nlast Bearer {token}\n")
    found = []
    stats = ReadStats()
    f = InputFile(str(p), p.stat().st_size, 0)
    for view, first in iter_chunks(f, stats, chunk_size=2 * len(token) + 13):
        chunk = bytes(view)
        found += [(h.line_no, chunk[h.start:h.end]) for h in extract.find_tokens(chunk, first)]
    assert found == [(2, token.encode()), (3, token.encode())]
    assert stats.long_lines == 1


def test_padding_percent_escapes_and_jwe(token: str) -> None:
    padded = "eyJhbGciOiJSUzI1NiJ9.eyJhIjoiYmMifQ==.c2ln"
    h = next(extract.find_tokens(f"x {padded} y".encode(), 1))
    assert h.end - h.start == len(padded)
    enc = padded.replace("=", "%3D")
    chunk = f"GET /cb?redirect=https%3A%2F%2Fa%2Fb%3Faccess_token%3D{enc}%26x%3D1".encode()
    h = next(extract.find_tokens(chunk, 1))
    assert extract.canonical(chunk[h.start:h.end]) == padded.encode()
    assert extract.locate(chunk[:h.start]) == (S.LOC_QUERY, "access_token")
    jwe = tk.jwe_like(seed=1)
    h = next(extract.find_tokens(f"Bearer {jwe}".encode(), 1))
    assert (h.end - h.start) == len(jwe)
    unsigned = tk.unsigned({"a": 1})
    h = next(extract.find_tokens(f'"{unsigned}"'.encode(), 1))
    assert (h.end - h.start) == len(unsigned)


@pytest.mark.parametrize(("before", "want"), [
    (b"Authorization: Bearer ", (S.LOC_AUTHORIZATION, "authorization")),
    (b'"BEARER ', (S.LOC_AUTHORIZATION, "authorization")),
    (b"Bearer%20", (S.LOC_AUTHORIZATION, "authorization")),
    (b'{"request_Authorization":"', (S.LOC_AUTHORIZATION, "authorization")),
    (b"GET /a?id_token=", (S.LOC_QUERY, "id_token")),
    (b"GET /a?x=1&access_token=", (S.LOC_QUERY, "access_token")),
    (b'"requestQuery":"assertion=', (S.LOC_QUERY, "assertion")),
    (b"grant_type=x&client_assertion=", (S.LOC_FORM, "client_assertion")),
    (b"Cookie: a=b; id_token=", (S.LOC_COOKIE, "id_token")),
    (b'"sid=1; session=', (S.LOC_COOKIE, "session")),
    (b'{"access_token": "', (S.LOC_JSON, "access_token")),
    (b"rejected ", (S.LOC_TEXT, "")),
])
def test_locate(before: bytes, want: tuple[str, str]) -> None:
    assert extract.locate(before) == want


def test_masked_values_are_counted_not_found() -> None:
    chunk = (b'"Bearer REDACTED"\nAuthorization: Bearer ***\n{"request_Authorization":"REDACTED"}\n'
             b'{"Authorization":["REDACTED"]}\nbearer [redacted]\nBearer eyJhbGciOiJub25lIn0.e30.\n')
    assert extract.count_masked(chunk) == 5
    assert len(list(extract.find_tokens(chunk, 1))) == 1


def test_plausible_header_rejects_json_that_is_not_jose() -> None:
    assert not extract.plausible_header(b"eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2ln")
    assert not extract.plausible_header(b"eyJeyJeyJ.eyJ")
    assert extract.plausible_header(b"eyJhbGciOiJub25lIn0.e30.")
