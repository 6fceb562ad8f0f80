"""Read the inputs: expand paths, open plain or compressed files, yield line-aligned byte chunks.

Only this module opens log files. It never holds a whole file: chunks come from a bounded buffer
and always end at a newline (or at a safe cut inside an over-long line).
"""

from __future__ import annotations

import bz2
import glob
import io
import lzma
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1 << 20
# A chunk that holds no newline is cut at the last byte that cannot be part of a token,
# so that a token is not split in two; this many bytes at most are carried into the next chunk.
_TOKEN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass(frozen=True)
class InputFile:
    """One file to read: its path as the user gave it (joined with what the walk found)."""

    path: str
    size: int
    mtime: float
    device: int = 0
    inode: int = 0


@dataclass
class ReadStats:
    """What reading found besides lines: errors and oddities, counted for run.json."""

    bytes_read: int = 0
    lines: int = 0
    long_lines: int = 0
    errors: list[str] = field(default_factory=list)
    truncated: bool = False


@dataclass
class Expansion:
    """The files that the input paths name, plus what could not be used."""

    files: list[InputFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _file_entry(path: str, st: os.stat_result) -> InputFile:
    return InputFile(path=path, size=st.st_size, mtime=st.st_mtime, device=st.st_dev, inode=st.st_ino)


def _walk(top: str, skip: frozenset[Path], out: Expansion, seen: set[tuple[int, int]]) -> None:
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as e:
        out.errors.append(f"{top}: cannot list directory ({e.strerror or e})")
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as e:
            out.errors.append(f"{entry.path}: {e.strerror or e}")
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in seen:
                out.errors.append(f"{entry.path}: directory loop, skipped")
                continue
            seen.add(key)
            _walk(entry.path, skip, out, seen)
        elif stat.S_ISREG(st.st_mode):
            if Path(entry.path).resolve() not in skip:
                out.files.append(_file_entry(entry.path, st))


def expand_inputs(paths: list[str], skip: frozenset[Path] = frozenset()) -> Expansion:
    """Files named by the inputs: files, directories (recursively) and globs; `-` is stdin."""
    out = Expansion()
    seen_files: set[tuple[str, int, int]] = set()
    for raw in paths:
        if raw == "-":
            out.files.append(InputFile(path="-", size=0, mtime=0.0))
            continue
        matches = [raw]
        if glob.has_magic(raw) and not os.path.exists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                out.errors.append(f"{raw}: no file matches")
                continue
        for m in matches:
            try:
                st = os.stat(m)
            except OSError as e:
                out.errors.append(f"{m}: {e.strerror or e}")
                continue
            if stat.S_ISDIR(st.st_mode):
                _walk(m, skip, out, {(st.st_dev, st.st_ino)})
            elif Path(m).resolve() not in skip:
                out.files.append(_file_entry(m, st))
    unique = []
    for f in out.files:
        key = (f.path, f.device, f.inode) if f.path == "-" else ("", f.device, f.inode)
        if key not in seen_files:
            seen_files.add(key)
            unique.append(f)
    out.files = unique
    return out


def _sniff(raw: BinaryIO) -> str | None:
    head = raw.peek(8)[:8] if isinstance(raw, io.BufferedReader) else b""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


class BoundedReader(io.RawIOBase):
    """Stops a decompressing stream after `limit` bytes, so a compression bomb cannot fill the disk."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self.inner = inner
        self.left = limit
        self.exceeded = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            if self.inner.read(1):
                self.exceeded = True
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.left)]
        n = self.inner.readinto(view)  # type: ignore[attr-defined]
        n = n or 0
        self.left -= n
        return n


def open_stream(path: str, max_decompressed: int) -> tuple[BinaryIO, str | None]:
    """Open a file for binary reading, decompressing by magic bytes (not by name)."""
    if path == "-":
        return sys.stdin.buffer, None
    raw = open(path, "rb", buffering=CHUNK_SIZE)  # noqa: SIM115 - the caller closes the stream
    kind = _sniff(raw)
    stream: BinaryIO
    if kind is None:
        return raw, None
    if kind == "gzip":
        from isal import igzip

        stream = igzip.IGzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif kind == "bz2":
        stream = bz2.BZ2File(raw, "rb")  # type: ignore[assignment]
    elif kind == "xz":
        stream = lzma.LZMAFile(raw, "rb")  # type: ignore[assignment]
    else:
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[assignment]
    return BoundedReader(stream, max_decompressed), kind  # type: ignore[return-value]


def _safe_cut(buf: bytearray | memoryview, end: int) -> int:
    """Where to cut a newline-less buffer: after the last byte that cannot belong to a token."""
    floor = max(0, end - 65536)
    i = end - 1
    while i >= floor and buf[i] in _TOKEN_BYTES:
        i -= 1
    return i + 1 if i >= floor else end


def iter_chunks(
    f: InputFile, stats: ReadStats, max_decompressed: int = 1 << 40, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, number of the chunk's first line); every chunk ends at a line boundary.

    Read errors (a truncated archive, an unreadable file) end the file and are recorded in
    `stats.errors`; the lines read before the error are still yielded.
    """
    try:
        stream, kind = open_stream(f.path, max_decompressed)
    except OSError as e:
        stats.errors.append(f"{f.path}: cannot open ({e.strerror or e})")
        return
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    filled = 0
    line_no = 1
    in_long_line = False
    try:
        while True:
            try:
                n = stream.readinto(view[filled:])  # type: ignore[attr-defined]
            except (EOFError, OSError, lzma.LZMAError, ValueError) as e:
                stats.errors.append(f"{f.path}: {kind or 'file'} stream is damaged after "
                                    f"{stats.bytes_read + filled} bytes ({type(e).__name__})")
                stats.truncated = True
                n = 0
            except Exception as e:  # zstandard raises its own ZstdError
                stats.errors.append(f"{f.path}: cannot decompress ({type(e).__name__})")
                stats.truncated = True
                n = 0
            if not n:
                break
            filled += n
            if filled < chunk_size:
                continue
            cut = buf.rfind(b"\n", 0, filled) + 1
            if cut == 0:
                # One line longer than the buffer: pass it on in pieces, line number unchanged.
                if not in_long_line:
                    stats.long_lines += 1
                in_long_line = True
                cut = _safe_cut(buf, filled)
                chunk = bytes(view[:cut])
                yield chunk, line_no
            else:
                chunk = bytes(view[:cut])
                yield chunk, line_no
                newlines = chunk.count(b"\n")
                line_no += newlines
                stats.lines += newlines
                in_long_line = False
            stats.bytes_read += cut
            rest = filled - cut
            view[:rest] = view[cut:filled]
            filled = rest
        if filled:
            chunk = bytes(view[:filled])
            yield chunk, line_no
            stats.bytes_read += filled
            stats.lines += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    finally:
        if isinstance(stream, BoundedReader) and stream.exceeded:
            stats.errors.append(f"{f.path}: decompressed size passed the limit of {max_decompressed} bytes; "
                                "the rest was skipped (--max-decompressed lifts it)")
            stats.truncated = True
        if f.path != "-":
            stream.close()
