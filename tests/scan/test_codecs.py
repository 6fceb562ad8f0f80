"""Compressed inputs as the command-line tools read them: every line before damage, members after padding,
pzstd's skippable frames, trailing garbage kept apart from the content (found by QA: D2, D8)."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
from collections.abc import Callable
from pathlib import Path

import jwts as T
import pytest
import zstandard

from analyzer.scan.codecs import kind_of
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import ReadStats, iter_chunks

RNG = random.Random(5)
# Lines that do not compress to nothing, so that a cut falls somewhere inside the content.
DATA = b"".join(b"%06d %064x request\n" % (i, RNG.getrandbits(256)) for i in range(20_000))
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zst": zstandard.compress,
}


def read(path: Path, **kw: int) -> tuple[bytes, ReadStats]:
    stats = ReadStats()
    f = InputFile(str(path), path.stat().st_size, 0)
    return b"".join(bytes(c) for c, _ in iter_chunks(f, stats, **kw)), stats


def _whole_lines(data: bytes) -> bytes:
    """The complete lines of what was decompressed (ISA-L holds back a last byte that zlib gives, at times)."""
    return data[: data.rfind(b"\n") + 1]


def _streamed(codec: str, blob: bytes) -> bytes:
    """What the codec's own streaming decompressor makes of a cut archive: the reference."""
    if codec == "zst":
        return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    dec = {"gz": lambda: __import__("zlib").decompressobj(31), "bz2": bz2.BZ2Decompressor,
           "xz": lzma.LZMADecompressor}[codec]()
    return dec.decompress(blob)  # type: ignore[no-any-return]


@pytest.mark.parametrize("codec", sorted(COMPRESS))
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_a_cut_archive_yields_every_line_its_decompressor_can(tmp_path: Path, codec: str, keep: float) -> None:
    """All that streaming decompression gets out of a cut archive is read, up to the last byte (zcat's
    lines), and the cut is one error. The reader used to lose its last read before the cut, and a small
    archive everything."""
    blob = COMPRESS[codec](DATA)
    p = tmp_path / f"access.log.{codec}"
    p.write_bytes(blob[: int(len(blob) * keep)])
    data, stats = read(p)
    assert _whole_lines(_streamed(codec, p.read_bytes())) == _whole_lines(data) and DATA.startswith(data)
    assert stats.truncated and len(stats.errors) == 1
    assert f"stream is damaged after {len(data)} bytes (EOFError)" in stats.errors[0]


def test_a_small_cut_gzip_is_read_up_to_the_cut(tmp_path: Path) -> None:
    """A 200-line archive cut in half (QA's case): its first half, not nothing and exit 3."""
    lines = b"".join(b"line %03d of a short log that is cut\n" % i for i in range(200))
    blob = gzip.compress(lines)
    p = tmp_path / "access.log.1.gz"
    p.write_bytes(blob[: len(blob) // 2])
    data, stats = read(p)
    assert data.count(b"\n") > 30 and lines.startswith(data) and stats.truncated


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_trailing_garbage_after_a_complete_archive_is_one_error_and_the_lines_are_kept(tmp_path: Path,
                                                                                        codec: str) -> None:
    """As `gzip -dc` does: the content is read whole, what follows it is reported and not read."""
    p = tmp_path / f"one.log.{codec}"
    p.write_bytes(COMPRESS[codec](b"the one line\n") + b"GARBAGE after the archive")
    data, stats = read(p)
    assert data == b"the one line\n" and stats.lines == 1
    assert len(stats.errors) == 1 and "trailing garbage" in stats.errors[0] and str(p) in stats.errors[0]
    assert not stats.truncated  # all of the content was read: nothing to look at again


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_members_after_zero_padding_are_read(tmp_path: Path, codec: str) -> None:
    """Zero bytes between and after members (xz's stream padding, a tape's) hold no data: skipped, the
    next member read (an xz file used to lose its second stream silently)."""
    a, b = DATA[:5000], DATA[5000:9000]
    p = tmp_path / f"padded.log.{codec}"
    p.write_bytes(COMPRESS[codec](a) + bytes(4) + COMPRESS[codec](b) + bytes(8))
    data, stats = read(p)
    assert data == a + b and not stats.errors


def test_pzstd_archives_start_with_a_skippable_frame_and_are_zstd(tmp_path: Path) -> None:
    """pzstd (and seekable zstd) write a skippable frame first, magic 0x184D2A50-5F: it is zstd, not a
    plain file whose bytes hold no line (0 tokens, no error, as it was)."""
    z = zstandard.ZstdCompressor()
    for nibble in (0x0, 0xF):
        skippable = bytes([0x50 | nibble]) + b"\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"\x00\x01\x02\x03"
        p = tmp_path / f"access-{nibble}.log.zst"
        p.write_bytes(skippable + z.compress(DATA[:7000]) + skippable + z.compress(DATA[7000:12000]))
        assert kind_of(p.read_bytes()[:8]) == "zstd"
        data, stats = read(p)
        assert data == DATA[:12000] and not stats.errors


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_a_range_of_a_cut_archive_reads_on_to_the_cut(tmp_path: Path, codec: str) -> None:
    """A range of a cut archive (a big one is read in ranges) ends at the cut too, its lines all read."""
    blob = COMPRESS[codec](DATA)
    p = tmp_path / f"big.log.{codec}"
    p.write_bytes(blob[: len(blob) * 3 // 4])
    whole = _streamed(codec, p.read_bytes())
    start = len(whole) // 3
    data, stats = read(p, start=start, count_from=0)
    first = whole.index(b"\n", start - 1) + 1
    assert _whole_lines(data) == _whole_lines(whole[first:]) and data.startswith(whole[first:first + 1000])
    assert stats.truncated and len(stats.errors) == 1


def test_the_cli_counts_the_lines_of_a_cut_and_of_a_garbage_tailed_archive(tmp_path: Path, scan_dir) -> None:
    """Through the CLI: the tokens before the cut are events, each file one error in run.json, exit 0."""
    key = T.make_rsa_key("codec-k1")
    tok = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders",
                                       "22222222-2222-2222-2222-222222222222", seed=3), key)
    line = '10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /orders/{} HTTP/1.1" 401 5 "-" "curl/8" "Bearer {}"\n'
    logs = tmp_path / "logs"
    logs.mkdir()
    blob = gzip.compress("".join(line.format(i, tok) for i in range(200)).encode())
    (logs / "access.log.1.gz").write_bytes(blob[: len(blob) // 2])
    (logs / "one.log.gz").write_bytes(gzip.compress(line.format("x", tok).encode()) + b"GARBAGE")
    code, out, result = scan_dir(str(logs), "--offline")
    assert code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    detail = {Path(d["path"]).name: (d["tokens"], d["errors"]) for d in run["files"]["detail"]}
    assert detail["one.log.gz"] == (1, 1)
    assert detail["access.log.1.gz"][0] > 30 and detail["access.log.1.gz"][1] == 1
    assert len(run["files"]["errors"]) == 2
