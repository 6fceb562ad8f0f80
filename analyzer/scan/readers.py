"""Read the inputs: open plain or compressed files, yield line-aligned byte chunks (`inputs` finds them).

Only this module opens log files. It never holds a whole file: chunks come from a bounded buffer
and always end at a newline (or at a safe cut inside an over-long line).
"""

from __future__ import annotations

import io
import lzma
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from analyzer._core import count_newlines
from analyzer.scan.codecs import Decoder, TrailingGarbage, Utf16Text, kind_of, utf16_codec
from analyzer.scan.inputs import InputFile

CHUNK_SIZE = 1 << 20
BLOCK_SIZE = 1 << 16  # reads that look for a line's end
_CUT_LOOKBACK = 1 << 16  # how far back `_safe_cut` looks for a byte outside a token
_DIRECTIVE_MAX = 1 << 16  # the longest W3C `#Fields:` line kept whole (one beyond is cut short)
# A chunk that holds no newline is cut at the last byte that cannot be part of a token,
# so that a token is not split in two; this many bytes at most are carried into the next chunk.
_TOKEN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")


@dataclass
class ReadStats:
    """What reading found besides lines: errors and oddities, counted for run.json."""

    bytes_read: int = 0
    lines: int = 0
    long_lines: int = 0
    errors: list[str] = field(default_factory=list)
    truncated: bool = False
    # Found while content before the start was decompressed and dropped (a compressed file resumed,
    # or a range of one): the newlines from where counting began, and the last W3C `#Fields:` line.
    lines_before: int = 0
    fields_before: bytes | None = None


def compression(path: str) -> str | None:
    """The compression a file's magic bytes name (gzip, bz2, xz, zstd), or None (plain).

    OSError when the file cannot be read.
    """
    with open(path, "rb") as fh:
        return kind_of(fh.read(8))


_SAMPLE_IN = 1 << 16  # compressed bytes decompressed to estimate a file's ratio
_SAMPLE_OUT = 16 << 20  # at most this much output from them (a bomb stops here)
UNKNOWN_RATIO = 8  # when neither the header nor a sample tells: a typical ratio for logs


def content_size(path: str, size: int) -> int:
    """About how many bytes reading a file yields: what the planner balances the work by, never a result.

    A plain file: its size. gzip: the length its trailer records (ISIZE, the last member's, modulo
    2**32), when that is plausible. zstd: the content size its frame header records (a streaming
    compressor leaves it out). Otherwise the ratio of its first 64 KiB, decompressed, times its size.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(18)
            kind = kind_of(head)
            if kind is None:
                return size
            if kind == "gzip" and size >= 18:
                fh.seek(-4, os.SEEK_END)
                recorded = int.from_bytes(fh.read(4), "little")
                wraps = max(0, round((size * UNKNOWN_RATIO - recorded) / 2**32))
                if recorded + wraps * 2**32 >= size:
                    return recorded + wraps * 2**32
            if kind == "zstd":
                import zstandard

                recorded = zstandard.frame_content_size(head[:18])
                if recorded >= size:
                    return int(recorded)
            fh.seek(0)
            head = fh.read(_SAMPLE_IN)
        return max(size, round(size * _sample_ratio(head, kind)))
    except Exception:  # unreadable or corrupt: the scan itself reports it; plan with a guess
        return size * UNKNOWN_RATIO


def _sample_ratio(head: bytes, kind: str) -> float:
    """Decompressed bytes per compressed byte in the first bytes of a file (UNKNOWN_RATIO if untold)."""
    import zlib

    out = 0
    used = len(head)
    if kind == "gzip":
        d = zlib.decompressobj(wbits=31)
        out = len(d.decompress(head, _SAMPLE_OUT))
        used -= len(d.unconsumed_tail) + len(d.unused_data)
    elif kind == "xz":
        lz = lzma.LZMADecompressor()
        out = len(lz.decompress(head, _SAMPLE_OUT))
        used -= len(lz.unused_data)
    elif kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(head), read_across_frames=True)
        while out < _SAMPLE_OUT:
            piece = reader.read(min(1 << 20, _SAMPLE_OUT - out))
            if not piece:
                break
            out += len(piece)
    # bz2 yields nothing before a whole block (up to 900 KB of output) is in.
    return out / used if out >= 1 << 16 and used > 0 else UNKNOWN_RATIO


def decompressed_limit(compressed_size: int) -> int:
    """The default bound on one file's decompressed bytes: 10 GiB, or 1000x its compressed size if more.

    Real logs compress 10-50x; a bomb compresses ~1000x and more, so it is cut off near this bound.
    """
    return max(10 << 30, 1000 * compressed_size)


def open_stream(path: str, max_decompressed: int) -> tuple[BinaryIO, str | None]:
    """Open a file (or stdin for `-`) for binary reading, decompressing by magic bytes (not by name)."""
    # The caller closes the stream (never stdin).
    if path == "-":
        raw: BinaryIO = sys.stdin.buffer
        kind = kind_of(raw.peek(8)[:8] if isinstance(raw, io.BufferedReader) else b"")
    else:
        # Unbuffered: a plain file is read straight into the reader's buffer (through a 1 MiB
        # BufferedReader each byte was copied once more), a compressed one in large blocks.
        raw = open(path, "rb", buffering=0)  # noqa: SIM115
        try:
            kind = kind_of(os.pread(raw.fileno(), 8, 0))
        except OSError:
            raw.close()
            raise
    if kind is None:
        return raw, None
    return Decoder(raw, kind, max_decompressed, close_raw=path != "-"), kind  # type: ignore[return-value]


def _safe_cut(buf: bytearray | memoryview, end: int) -> int:
    """Where to cut a newline-less buffer: after the last byte that cannot belong to a token."""
    floor = max(0, end - _CUT_LOOKBACK)
    i = end - 1
    while i >= floor and buf[i] in _TOKEN_BYTES:
        i -= 1
    return i + 1 if i >= floor else end


def iter_chunks(
    f: InputFile, stats: ReadStats, max_decompressed: int = 1 << 40, chunk_size: int = CHUNK_SIZE,
    start: int = 0, end: int | None = None, count_from: int | None = None,
) -> Iterator[tuple[memoryview, int]]:
    """Yield (chunk, number of the chunk's first line); every chunk ends at a line boundary.

    A chunk is a read-only view of the reader's one buffer, not a copy: it is good until the next
    chunk is asked for (`bytes(chunk)` keeps it). The core scans such views as they are.

    With a byte range, only the lines that *start* in [start, end) are read, and line numbers count
    from the range's first line: the caller adds the lines before it. A plain file seeks to the
    range. A range of a compressed file (`count_from` given: where this run's reading begins, a line
    start) is decompressed from the beginning; the newlines between `count_from` and the range go to
    `stats.lines_before`. Without `count_from`, `start` in a compressed file is where to resume.
    Read errors (a truncated archive, an unreadable file) end the file and are recorded in
    `stats.errors`; the lines read before the error are still yielded. UTF-16 text (PowerShell's) is
    read as UTF-8 (`_iter_utf16`).
    """
    try:
        stream, kind = open_stream(f.path, max_decompressed)
    except OSError as e:
        stats.errors.append(f"{f.name}: cannot open ({e.strerror or e})")
        return
    head = _head(stream, f.path)
    codec = utf16_codec(head)
    if codec is None and kind is None and (start or end is not None):
        if f.path != "-":
            stream.close()
        yield from _iter_range(f, stats, chunk_size, start, end)
        return
    try:
        if codec is not None:
            yield from _iter_utf16(stream, kind, codec, head, f, stats, chunk_size, start, end, count_from)
        elif count_from is not None:  # a range of a compressed file
            yield from _iter_compressed_range(stream, kind, f, stats, chunk_size, count_from, start, end)
        # Compressed: resume after what was read before (the W3C field list in force is noted).
        elif not start or _drop(stream, start, stats, count=False) is not None:
            yield from _iter_stream(stream, kind, f, stats, chunk_size)
    finally:
        if isinstance(stream, Decoder) and stream.exceeded:
            stats.errors.append(f"{f.name}: decompressed size passed the limit of {max_decompressed} bytes; "
                                "the rest was skipped (--max-decompressed lifts it)")
            stats.truncated = True
        if f.path != "-":
            stream.close()


_HEAD = 256  # content bytes that tell UTF-16 text


def _head(stream: BinaryIO, path: str) -> bytes:
    """The first content bytes of a stream just opened (it is read from its start all the same).

    A plain file's are read where they are; stdin's and a decompressing stream's peeked. An error here
    is left to the reading, which meets it again.
    """
    try:
        if isinstance(stream, Decoder):
            return stream.peek(_HEAD)
        if path == "-":
            return stream.peek(_HEAD)[:_HEAD] if isinstance(stream, io.BufferedReader) else b""
        return os.pread(stream.fileno(), _HEAD, 0)
    except OSError:
        return b""


def is_utf16(f: InputFile) -> bool:
    """Whether a file's content is UTF-16 text: it is read whole (or resumed where a read ended), never in ranges."""
    return utf16_codec(read_head(f, _HEAD)[0]) is not None


def _iter_utf16(stream: BinaryIO, kind: str | None, codec: str, head: bytes, f: InputFile, stats: ReadStats,
                chunk_size: int, start: int, end: int | None, count_from: int | None,
                ) -> Iterator[tuple[memoryview, int]]:
    """UTF-16 text as UTF-8 lines (`Utf16Text`), from `start`: 0, or where an earlier read of it ended.

    `stats.bytes_read` counts the file's own bytes, so that a later run resumes where this one ended.
    A range (which `plan` does not make of such a file) is not read but reported: its start need not be
    where a UTF-16 character or line starts.
    """
    if end is not None or count_from is not None:
        stats.errors.append(f"{f.name}: UTF-16 text, read only as a whole file and this read is part of it; "
                            "not read: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)")
        stats.truncated = True
        return
    if start:
        if codec == "utf-16":  # the byte order mark is at the file's start only
            codec = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
        if kind is None:
            stream.seek(start)
        elif _drop(stream, start, stats, count=False) is None:
            return
    text, before = Utf16Text(stream, codec), stats.bytes_read
    try:
        yield from _iter_stream(text, kind, f, stats, chunk_size)  # type: ignore[arg-type]
    finally:
        stats.bytes_read = before + text.source_bytes


_FIELDS_LINE = b"\n#Fields:"


class _Dropped:
    """Counts what `_drop` drops: newlines (if asked), and the last W3C `#Fields:` line seen."""

    def __init__(self, stats: ReadStats, count: bool) -> None:
        self.stats = stats
        self.count = count
        self.tail = b"\n"  # dropping starts at a line start: a directive right there counts
        self.partial: bytearray | None = None  # a directive line whose end is still to come
        self.bytes = 0

    def feed(self, piece: bytes | bytearray) -> None:
        self.bytes += len(piece)
        if self.count:
            self.stats.lines_before += count_newlines(piece)
        if self.partial is not None:
            nl = piece.find(b"\n")
            if nl < 0:
                if len(self.partial) < _DIRECTIVE_MAX:
                    self.partial += piece
            else:
                self.stats.fields_before = bytes(self.partial + piece[:nl]).rstrip(b"\r")
                self.partial = None
        # The last directive that starts in this piece, else one across the seam with the last piece
        # (searched apart: joining each 1 MiB piece to the tail would copy it). Only up to its last `#`
        # (memrchr): most logs hold none, and the directive's search took longer than the newline count.
        keep = len(_FIELDS_LINE) - 1
        last_hash = piece.rfind(b"#")
        at = piece.rfind(_FIELDS_LINE, 0, last_hash + keep) if last_hash > 0 else -1
        if at >= 0:
            self._directive(piece, at + 1)
        else:
            seam = self.tail + piece[:keep]
            at = seam.rfind(_FIELDS_LINE)
            if at >= 0:
                self._directive(seam[at + 1:] + piece[keep:], 0)
        self.tail = bytes(piece[-keep:]) if len(piece) >= keep else (self.tail + piece)[-keep:]

    def _directive(self, text: bytes | bytearray, start: int) -> None:
        """Note the `#Fields:` line at `start` of `text` (or hold it, when its end is still to come)."""
        nl = text.find(b"\n", start)
        if nl < 0:
            self.partial = bytearray(text[start:])
        else:
            self.stats.fields_before = bytes(text[start:nl]).rstrip(b"\r")


def _read(stream: BinaryIO, n: int) -> bytes:
    try:
        return stream.read(n) or b""
    except Exception:  # a damaged archive ends here: the range that reads there reports it
        return b""


def _fill(stream: BinaryIO, view: memoryview) -> bool:
    """Read exactly len(view) bytes into `view`: False if the stream ends (or fails) first."""
    got = 0
    while got < len(view):
        try:
            n = stream.readinto(view[got:])  # type: ignore[attr-defined]
        except Exception:  # a damaged archive ends here: the range that reads there reports it
            return False
        if not n:
            return False
        got += n
    return True


def _drop(stream: BinaryIO, n: int, stats: ReadStats, count: bool,
          to_line_end: bool = False) -> tuple[bytes, int] | None:
    """Read and drop n bytes from a line start (and, with `to_line_end`, the rest of the line they end
    in): (the bytes read past them, how many were dropped), or None if the stream ends first. See
    `_Dropped` for what is noted on the way."""
    seen = _Dropped(stats, count)
    # Through one reused buffer: a range of a big archive drops hundreds of MB before it.
    buf = bytearray(min(n, CHUNK_SIZE))
    while n > 0:
        want = min(n, len(buf))
        if not _fill(stream, memoryview(buf)[:want]):
            return None
        n -= want
        seen.feed(buf if want == len(buf) else buf[:want])
    while to_line_end:
        block = _read(stream, BLOCK_SIZE)
        if not block:
            return None
        nl = block.find(b"\n")
        if nl >= 0:
            seen.feed(block[:nl + 1])
            return block[nl + 1:], seen.bytes
        seen.feed(block)
    return b"", seen.bytes


class _Prefixed(io.RawIOBase):
    """A stream after some bytes were already read from it: those first, then the rest."""

    def __init__(self, head: bytes, inner: BinaryIO) -> None:
        self._head = memoryview(head)
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._inner.readinto(buffer)  # type: ignore[attr-defined]


def _iter_compressed_range(stream: BinaryIO, kind: str | None, f: InputFile, stats: ReadStats, chunk_size: int,
                           count_from: int, start: int, end: int | None) -> Iterator[tuple[memoryview, int]]:
    """The lines of a compressed file's content that start in [start, end) (see `iter_chunks`)."""
    if count_from and _drop(stream, count_from, stats, count=False) is None:
        return
    head, pos = b"", count_from
    if start > count_from:
        # The line that straddles `start` belongs to the previous range: drop through its end.
        dropped = _drop(stream, start - 1 - count_from, stats, count=True, to_line_end=True)
        if dropped is None:  # the content ends before the range: nothing of it is here
            stats.lines_before = 0
            return
        head, n = dropped
        pos += n
    yield from _iter_stream(_Prefixed(head, stream), kind, f, stats, chunk_size, pos, end)  # type: ignore[arg-type]


_CR_TO_LF = bytes.maketrans(b"\r", b"\n")


def _cr_lines(buf: bytearray, filled: int, end: int | None) -> bool:
    """Whether a stream's lines end in a lone CR (old Mac OS): its first buffer holds a CR and no LF.

    Such lines are read as if they ended in LF (the CRs turned into LFs as read, a byte for a byte, so
    offsets hold): else the whole file is one line, every token on line 1. Only a read to the end is
    turned: a byte range's bounds are found by LF (`plan`, `_iter_range`), so there the file stays one
    long line as before rather than losing the lines past the range.
    """
    return end is None and buf.find(b"\n", 0, filled) < 0 and buf.find(b"\r", 0, filled) >= 0


def _iter_stream(stream: BinaryIO, kind: str | None, f: InputFile, stats: ReadStats, chunk_size: int,
                 pos: int = 0, end: int | None = None) -> Iterator[tuple[memoryview, int]]:
    """Line-aligned chunks of a stream at content offset `pos` (a line start), as views of one reused buffer.

    With `end`, only the lines that start before it; a line longer than the buffer goes on in pieces
    to its end wherever that is. Each chunk's newlines are counted once, after it was handed on.
    """
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    chunks = view.toreadonly()  # what is handed on: the caller reads it, only this reader writes
    filled = 0
    line_no = 1
    in_long_line = False
    cr_lines: bool | None = None  # decided on the first buffer (`_cr_lines`)
    turned = 0  # with `cr_lines`, the buffer's bytes before this are turned already

    def turn_crs() -> None:
        nonlocal cr_lines, turned
        if cr_lines is None:
            cr_lines = _cr_lines(buf, filled, end)
        if cr_lines:
            if buf.find(b"\n", turned, filled) >= 0:
                cr_lines = False  # LFs after all: the rest is read as it is
            else:
                view[turned:filled] = buf[turned:filled].translate(_CR_TO_LF)
        turned = filled

    while end is None or pos < end or in_long_line:
        try:
            n = stream.readinto(view[filled:])  # type: ignore[attr-defined]
        except TrailingGarbage as e:
            # What gzip -dc does too: the content is all there; what follows it is not read.
            stats.errors.append(f"{f.name}: {e.kind} data ends after {stats.bytes_read + filled} bytes; "
                                f"what follows is not {e.kind} data and was ignored (trailing garbage)")
            n = 0
        except Exception as e:  # a damaged archive (each codec has its own errors), or an I/O error
            stats.errors.append(f"{f.name}: {kind or 'file'} stream is damaged after "
                                f"{stats.bytes_read + filled} bytes ({type(e).__name__})")
            stats.truncated = True
            n = 0
        if not n:
            break
        filled += n
        if filled < chunk_size:
            continue
        turn_crs()
        cut = buf.rfind(b"\n", 0, filled) + 1
        if cut == 0:
            # One line longer than the buffer: pass it on in pieces, line number unchanged.
            if not in_long_line:
                stats.long_lines += 1
            in_long_line = True
            cut = _safe_cut(buf, filled)
            yield chunks[:cut], line_no
        else:
            cut = _last_line_end(buf, pos, end, cut)
            chunk = chunks[:cut]
            yield chunk, line_no
            newlines = count_newlines(chunk)
            line_no += newlines
            stats.lines += newlines
            in_long_line = False
        stats.bytes_read += cut
        pos += cut
        rest = filled - cut
        view[:rest] = view[cut:filled]
        filled = turned = rest
    if filled and (end is None or pos < end or in_long_line):
        turn_crs()
        cut = _last_line_end(buf, pos, end, filled)
        chunk = chunks[:cut]
        yield chunk, line_no
        stats.bytes_read += cut
        stats.lines += count_newlines(chunk) + (0 if buf.endswith(b"\n", 0, cut) else 1)


def _last_line_end(buf: bytearray, pos: int, end: int | None, upto: int) -> int:
    """Where the buffer's lines (at content offset `pos`, up to `upto`) are cut: after the line that holds
    content offset `end` - 1, the last that starts before `end`, if it ends in the buffer; else `upto`."""
    if end is None:
        return upto
    return buf.find(b"\n", max(0, end - 1 - pos), upto) + 1 or upto


def _iter_range(f: InputFile, stats: ReadStats, chunk_size: int, start: int, end: int | None
                ) -> Iterator[tuple[memoryview, int]]:
    """The lines of a plain file that start in [start, end), as line-aligned chunks."""
    try:
        raw = open(f.path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as e:
        stats.errors.append(f"{f.name}: cannot open ({e.strerror or e})")
        return
    with raw:
        pos = 0
        if start > 0:
            # The line that straddles `start` belongs to the previous range: skip past its end.
            raw.seek(start - 1)
            pos = start - 1
            while True:
                block = raw.read(BLOCK_SIZE)
                if not block:
                    return
                nl = block.find(b"\n")
                if nl >= 0:
                    pos += nl + 1
                    raw.seek(pos)
                    break
                pos += len(block)
        yield from _iter_stream(raw, None, f, stats, chunk_size, pos, end)


def read_head(f: InputFile, n: int) -> tuple[bytes, bool]:
    """The first n content bytes of a file (decompressed), and whether it is compressed.

    What could be read: b"" for a file that cannot be opened; of a damaged archive, what came before the
    damage (for format detection of a byte range, an empty head means the range's own lines decide).
    """
    try:
        stream, kind = open_stream(f.path, n)
    except OSError:
        return b"", False
    try:
        chunks = []
        got = 0
        while got < n:
            try:
                block = stream.read(n - got)
            except Exception:  # a damaged archive: what was read so far is the head
                break
            if not block:
                break
            chunks.append(block)
            got += len(block)
        return b"".join(chunks), kind is not None
    finally:
        stream.close()


def last_line_starting(f: InputFile, marker: bytes, before: int, block: int = CHUNK_SIZE) -> bytes | None:
    """The last line of a plain file that starts with `marker` and begins before byte `before`.

    Read backwards block by block: a byte range that starts mid-file finds the W3C `#Fields:`
    directive in force there without reading the whole prefix in most files.
    """
    needle = b"\n" + marker
    try:
        with open(f.path, "rb") as raw:
            end = before
            carry = b""
            while end > 0:
                start = max(0, end - block)
                raw.seek(start)
                data = raw.read(end - start) + carry
                hit = data.rfind(needle)
                if hit < 0 and start == 0 and data.startswith(marker):
                    hit = -1
                elif hit < 0:
                    carry = data[: len(needle)]
                    end = start
                    continue
                line_end = data.find(b"\n", hit + 1)
                if line_end < 0:
                    raw.seek(start + hit + 1)
                    return raw.readline().rstrip(b"\r\n")
                return data[hit + 1:line_end].rstrip(b"\r")
    except OSError:
        return None
    return None
