"""Reading inputs: codecs by magic bytes, damaged archives, walks with loops and odd files, stdin."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
from pathlib import Path

import pytest
import zstandard

from analyzer.scan.inputs import InputFile, expand_inputs
from analyzer.scan.readers import ReadStats, iter_chunks, last_line_starting, read_head

DATA = b"".join(b"line %06d some log text that compresses well enough\n" % i for i in range(60_000))
CODECS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    # Two frames: the reader must go on across frames.
    "zst": lambda d: b"".join(zstandard.ZstdCompressor().compress(p) for p in (d[:1_000_000], d[1_000_000:])),
}


def read_all(path: Path, chunk_size: int = 1 << 16) -> tuple[bytes, ReadStats, list[int]]:
    stats = ReadStats()
    firsts, out = [], []
    f = InputFile(str(path), path.stat().st_size, 0)
    for chunk, first in iter_chunks(f, stats, chunk_size=chunk_size):
        out.append(bytes(chunk))  # a view of the reader's buffer: good until the next chunk
        firsts.append(first)
    return b"".join(out), stats, firsts


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_codecs_by_magic_bytes_whatever_the_name(tmp_path: Path, codec: str) -> None:
    p = tmp_path / "app.log.2"  # a rotated name that says nothing about the codec
    p.write_bytes(CODECS[codec](DATA))
    data, stats, firsts = read_all(p)
    assert data == DATA and not stats.errors and stats.lines == 60_000
    # Every chunk starts on a line boundary and knows its line number.
    assert all(DATA.split(b"\n")[n - 1].startswith(b"line %06d" % (n - 1)) for n in firsts)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("codec", sorted(CODECS))
def test_damaged_archive_yields_what_it_has_and_one_error(tmp_path: Path, codec: str, damage: str) -> None:
    blob = CODECS[codec](DATA)
    half = len(blob) // 2
    blob = blob[:half] if damage == "truncated" else blob[:half] + bytes(64) + blob[half + 64:]
    p = tmp_path / f"access.log.{codec}"
    p.write_bytes(blob)
    data, stats, _ = read_all(p)
    assert len(stats.errors) == 1 and str(p) in stats.errors[0]
    assert stats.truncated
    whole_lines = data[: data.rfind(b"\n") + 1]
    assert whole_lines.count(b"\n") > 10_000  # most of what came before the damage
    if codec != "gz":  # deflate may decode some garbage before the CRC check notices
        assert DATA.startswith(whole_lines)


# Lines of every kind a range boundary can fall in: short, empty, longer than the buffer (cut in
# pieces), and a last line without a newline.
RANGED = b"a\n\nbb\n" + b"x" * 300 + b"\nc\n" + b"y " * 200 + b"\n" + b"d\n" * 20 + b"z" * 150 + b"\nend"


def read_range(f: InputFile, start: int, end: int | None, **kw: int) -> tuple[list[tuple[bytes, int]], ReadStats]:
    stats = ReadStats()
    chunks = [(bytes(c), first) for c, first in iter_chunks(f, stats, chunk_size=64, start=start, end=end, **kw)]
    return chunks, stats


def numbered(chunks: list[tuple[bytes, int]], base: int) -> list[tuple[int, bytes]]:
    """The lines of a range's chunks, numbered in the file (a line cut in pieces joined again)."""
    lines: dict[int, bytes] = {}
    for chunk, first in chunks:
        for i, line in enumerate(chunk.split(b"\n")[:-1] if chunk.endswith(b"\n") else chunk.split(b"\n")):
            lines[base + first + i] = lines.get(base + first + i, b"") + line
    return sorted(lines.items())


@pytest.mark.parametrize("codec", [None, "gz"])
def test_two_ranges_read_each_line_once_wherever_the_split_falls(tmp_path: Path, codec: str | None) -> None:
    """Split at every byte, two byte ranges (a compressed file: two ranges of its content) read every
    line once, with its number, and count together what one read of the whole file counts; a split
    inside a line longer than the buffer or at a chunk's last byte included."""
    p = tmp_path / "ranged.log"
    p.write_bytes(RANGED if codec is None else gzip.compress(RANGED))
    f = InputFile(str(p), p.stat().st_size, 0)
    whole, stats = read_range(f, 0, None)
    expected = list(enumerate(RANGED.split(b"\n"), 1))
    assert numbered(whole, 0) == expected and b"".join(c for c, _ in whole) == RANGED
    assert (stats.lines, stats.long_lines, stats.bytes_read) == (len(expected), 3, len(RANGED))
    extra = {} if codec is None else {"count_from": 0}
    for split in range(1, len(RANGED)):
        first, a = read_range(f, 0, split, **extra)
        second, b = read_range(f, split, None, **extra)
        # The lines before the second range: a plain file's the planner counts, a compressed file's the reader.
        before = b.lines_before if codec else RANGED.count(b"\n", 0, split - 1) + 1
        assert numbered(first, 0) + numbered(second, before) == expected, split
        assert a.lines + b.lines == stats.lines and a.bytes_read + b.bytes_read == stats.bytes_read, split
        assert not a.errors and not b.errors


def test_a_range_of_an_archive_knows_the_field_list_in_force_where_it_starts(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The content before a range is decompressed and dropped, piece by piece: the last W3C `#Fields:`
    line in it is noted wherever the pieces cut it, and `#` elsewhere on a line is no directive."""
    import analyzer.scan.readers as R

    monkeypatch.setattr(R, "CHUNK_SIZE", 16)  # pieces shorter than a directive
    body = (b"#Fields: date a\n2026-11-26 00:00:00 x#y\n" + b"2026-11-26 00:00:01 z\n" * 3
            + b"#Fields: date time b c\r\n" + b"2026-11-26 00:00:02 #Fields: no\n" * 2 + b"#Fields: last\n" + b"end\n")
    p = tmp_path / "u_ex261126.log.gz"
    p.write_bytes(gzip.compress(body))
    f = InputFile(str(p), p.stat().st_size, 0)
    for start in range(1, len(body)):
        stats = ReadStats()
        chunks = [bytes(c) for c, _ in iter_chunks(f, stats, chunk_size=64, start=start, count_from=0)]
        first = body.index(b"\n", start - 1) + 1  # the range's first line starts there
        dropped = [line for line in body[:first].split(b"\n") if line.startswith(b"#Fields:")]
        assert stats.fields_before == (dropped[-1].rstrip(b"\r") if dropped else None), start
        assert b"".join(chunks) == body[first:] and stats.lines_before == body.count(b"\n", 0, first), start


def test_a_file_that_shrinks_or_vanishes_while_read_ends_without_a_crash(tmp_path: Path) -> None:
    """A log truncated under the reader (logrotate's copytruncate) ends where it now ends; one deleted
    is read to its end through the open file. Chunks are read, not mapped, so neither can fault."""
    p = tmp_path / "live.log"
    p.write_bytes(DATA)
    f = InputFile(str(p), len(DATA), 0)
    stats = ReadStats()
    got = []
    for chunk, _ in iter_chunks(f, stats, chunk_size=1 << 16):
        got.append(bytes(chunk))
        if len(got) == 1:
            os.truncate(p, 100_000)
    data = b"".join(got)
    assert DATA.startswith(data) and 65_536 <= len(data) < 1 << 18
    assert stats.bytes_read == len(data) and stats.lines == data.count(b"\n") + (not data.endswith(b"\n"))
    p.write_bytes(DATA)
    for start, end in ((0, 500_000), (2_000_000, None)):
        stats = ReadStats()
        chunks = iter_chunks(f, stats, chunk_size=1 << 16, start=start, end=end)
        got = [bytes(next(chunks)[0])]
        os.truncate(p, 1_000)  # the first range's rest, the second range's whole, gone
        got += [bytes(c) for c, _ in chunks]
        assert len(b"".join(got)) <= 1 << 16 and not stats.errors
        p.write_bytes(DATA)
    stats = ReadStats()
    chunks = iter_chunks(f, stats, chunk_size=1 << 16)
    got = [bytes(next(chunks)[0])]
    p.unlink()
    got += [bytes(c) for c, _ in chunks]
    assert b"".join(got) == DATA and stats.lines == 60_000 and not stats.errors


def test_chunks_are_views_the_core_scans_as_it_scans_bytes(tmp_path: Path) -> None:
    """A chunk is a read-only view of the reader's buffer, not a copy; the core's line scan takes it
    as it is and finds what it finds in the same bytes."""
    from analyzer import schema as S
    from analyzer._core import LineScanner

    line = b'1.2.3.4 - - [20/Nov/2026:05:01:07 +0000] "GET /a?access_token=%s HTTP/1.1" 200 1 "-" "c"\n'
    token = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    p = tmp_path / "access.log"
    p.write_bytes(b"".join(line % token if i % 3 else line % b"-" for i in range(3000)))
    f = InputFile(str(p), p.stat().st_size, 0)
    for chunk, first in iter_chunks(f, ReadStats(), chunk_size=1 << 16):
        assert isinstance(chunk, memoryview) and chunk.readonly
        got = [LineScanner(S.FMT_NGINX, 2026, "UTC").scan(c, first) for c in (chunk, bytes(chunk))]
        assert got[0][0].num_rows > 0 and got[0][0].equals(got[1][0]) and got[0][1].equals(got[1][1])
        assert got[0][2] == got[1][2]


def test_walk_reports_loops_fifos_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.log").write_text("x\n")
    (tmp_path / "d" / "sub" / "b.log.1").write_text("y\n")
    os.symlink(tmp_path / "d", tmp_path / "d" / "sub" / "loop")
    os.symlink(tmp_path / "nowhere", tmp_path / "d" / "dangling.log")
    os.symlink("self", tmp_path / "d" / "self")
    os.mkfifo(tmp_path / "d" / "pipe")
    exp = expand_inputs([str(tmp_path / "d")])
    assert sorted(Path(f.path).name for f in exp.files) == ["a.log", "b.log.1"]
    text = "\n".join(exp.errors)
    assert "loop" in text and "dangling.log" in text and "self" in text and "pipe" in text
    assert len(exp.errors) == 4


def test_explicit_fifo_and_missing_file_are_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p")
    exp = expand_inputs([str(tmp_path / "p"), str(tmp_path / "gone.log"), str(tmp_path / "*.nothing")])
    assert exp.files == [] and len(exp.errors) == 3


def test_globs_and_duplicates(tmp_path: Path) -> None:
    for name in ("access.log", "access.log.1", "access.log.2.gz", "other.txt"):
        (tmp_path / name).write_bytes(b"z\n")
    exp = expand_inputs([str(tmp_path / "access.log*"), str(tmp_path / "access.log")])
    assert [Path(f.path).name for f in exp.files] == ["access.log", "access.log.1", "access.log.2.gz"]


def test_vanishing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "soon-gone.log"
    p.write_text("x\n")
    f = expand_inputs([str(p)]).files[0]
    p.unlink()
    stats = ReadStats()
    assert list(iter_chunks(f, stats)) == []
    assert "soon-gone.log" in stats.errors[0]


def test_unreadable_directory_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything; the FIFO and loop cases cover skipping")
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        exp = expand_inputs([str(tmp_path)])
        assert any("locked" in e for e in exp.errors)
    finally:
        d.chmod(0o755)


@pytest.mark.parametrize("codec", [None, "gz"])
def test_stdin(monkeypatch: pytest.MonkeyPatch, codec: str | None) -> None:
    payload = DATA[:5000] if codec is None else gzip.compress(DATA[:5000])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(payload))))
    f = expand_inputs(["-"]).files[0]
    assert f.path == "-" and f.mtime > 0
    stats = ReadStats()
    assert b"".join(bytes(c) for c, _ in iter_chunks(f, stats)) == DATA[:5000]


def test_head_and_last_directive(tmp_path: Path) -> None:
    p = tmp_path / "u_ex261126.log"
    body = b"#Fields: date time a\n" + b"2026-11-26 00:00:00 x\n" * 5000 + b"#Fields: date time b c\n"
    body += b"2026-11-26 00:00:01 y z\n" * 5000
    p.write_bytes(body)
    f = InputFile(str(p), len(body), 0)
    assert read_head(f, 30) == (body[:30], False)
    gz = tmp_path / "u_ex261126.log.gz"
    gz.write_bytes(gzip.compress(body))
    assert read_head(InputFile(str(gz), gz.stat().st_size, 0), 30) == (body[:30], True)  # decompressed
    assert last_line_starting(f, b"#Fields:", len(body) - 10, block=4096) == b"#Fields: date time b c"
    assert last_line_starting(f, b"#Fields:", 200, block=64) == b"#Fields: date time a"


@pytest.mark.parametrize(("raw", "shown_as"), [
    (b"access.log", "access.log"),
    (b"caf\xc3\xa9.log", "café.log"),
    (b"bad-name-\xff\xfe.log", "bad-name-\\xff\\xfe.log"),
    (b"two\nlines\x1b[31m.log", "two\\x0alines\\x1b[31m.log"),
])
def test_names_are_shown_escaped_but_opened_as_given(tmp_path: Path, raw: bytes, shown_as: str) -> None:
    """A name that is not UTF-8 (or holds control characters) is escaped where it is shown, never where
    it is opened: the file is still read."""
    path = os.path.join(os.fsencode(tmp_path), raw)
    with open(path, "wb") as fh:
        fh.write(b"a line\n")
    (f,) = expand_inputs([str(tmp_path)]).files
    assert f.name == str(tmp_path / shown_as)
    f.name.encode("utf-8")  # what Parquet and JSON files need
    assert read_all(Path(f.path))[0] == b"a line\n"


def _key_material(d: Path) -> dict[str, str]:
    """Files a key directory holds, made now (no key belongs to anyone), with why each is not a log."""
    import json
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pkcs8 = serialization.PrivateFormat.PKCS8
    files = {
        "key.pem": (key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()), "pem"),
        "pub.key": (key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo), "pem"),
        "app.crt": (b"\n" + cert.public_bytes(serialization.Encoding.PEM), "certificate"),
        "app.cer": (cert.public_bytes(serialization.Encoding.DER), "certificate"),
        "keys.json": (json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]},
                                 indent=2).encode(), "jwks"),
        "one-key.jwk": (b'{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}', "jwks"),
        "README.md": (b"# Keys\n\nDemo keys, not logs.\n", "markdown"),
        "notes.markdown": (b"text\n", "markdown"),
    }
    for file, (data, _) in files.items():
        (d / file).write_bytes(data)
    return {file: reason for file, (_, reason) in files.items()}


def test_a_walk_skips_key_material_key_sets_and_markdown(tmp_path: Path) -> None:
    """Files in a directory that are clearly not logs are skipped and counted with a reason; logs that
    merely mention keys or certificates are read."""
    expected = _key_material(tmp_path)
    logs = {
        "access.log": b'10.0.0.1 - - [20/Nov/2026:05:01:07 +0000] "GET / HTTP/1.1" 200 1 "-" "curl"\n',
        "app.jsonl": b'{"msg": "fetched keys", "kty": "RSA", "keys": 3}\n{"msg": "next"}\n',
        "tls.log": b"2026-11-20 handshake\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "data.json": b'{"keys": ["a", "b"]}',
    }
    for file, data in logs.items():
        (tmp_path / file).write_bytes(data)
    exp = expand_inputs([str(tmp_path)])
    assert sorted(Path(f.path).name for f in exp.files) == sorted(logs)
    assert {Path(p).name: reason for p, reason in exp.not_logs} == expected
    assert exp.errors == []


def test_a_file_named_explicitly_is_read_whatever_it_holds(tmp_path: Path) -> None:
    _key_material(tmp_path)
    named = [str(tmp_path / "key.pem"), str(tmp_path / "README.md"), str(tmp_path / "*.json")]
    exp = expand_inputs(named)
    assert sorted(Path(f.path).name for f in exp.files) == ["README.md", "key.pem", "keys.json"]
    assert exp.not_logs == []


def test_the_core_counts_newlines_as_python_does() -> None:
    """`_core.count_newlines` (memchr's vectorized count) gives bytes.count's answer on any bytes."""
    import random

    from analyzer._core import count_newlines

    rng = random.Random(5)
    for size in (0, 1, 31, 32, 33, 64, 1000, 1 << 16):
        for density in (0.0, 0.01, 0.5, 1.0):
            data = bytes(10 if rng.random() < density else rng.randrange(256) for _ in range(size))
            assert count_newlines(data) == data.count(b"\n"), (size, density)
