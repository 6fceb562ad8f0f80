"""Compressed inputs: which codec a file's first bytes name, and a stream that decompresses it.

`Decoder` drives each codec's incremental decompressor object itself (ISA-L's for gzip), member after
member, rather than through a file object such as `IGzipFile` or `LZMAFile`: those raise on damage and
throw away what they decompressed in that read, and they end a file quietly at data that is not a next
member (an xz file with stream padding lost its second stream). Here every byte decompressed before the
damage is handed out first; the damage is raised on the next read. Used by `readers` only.
"""

from __future__ import annotations

import bz2
import codecs
import io
import lzma
from typing import BinaryIO, Protocol

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_MAGIC_MAX = max(len(m) for m, _ in MAGIC)
# pzstd and seekable zstd start with a skippable frame: magic 0x184D2A50 to 0x184D2A5F, little-endian.
_SKIPPABLE_TAIL = b"\x2a\x4d\x18"

_IN_BLOCK = 1 << 17  # compressed bytes read at a time
# Output of one decompress call at most: damage that a decompressor finds in the middle of a call costs
# that call's output (a cut stream costs nothing: it is found between calls).
_OUT_MAX = 1 << 16
_ZSTD_PIECE = 1 << 14  # zstd has no output bound per call: small input pieces bound what damage costs


def kind_of(head: bytes) -> str | None:
    """The compression these first bytes of a file name (gzip, bz2, xz, zstd), or None (plain)."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _SKIPPABLE_TAIL:
        return "zstd"
    return None


class TrailingGarbage(Exception):
    """Data after the last complete member that is not another member: ignored, as `gzip -dc` does."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Decompressor(Protocol):
    """What `Decoder` asks of a codec's decompressor (the API of `lzma.LZMADecompressor`)."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _ZstdFrame:
    """One zstd frame (or skippable frame) through zstandard's `decompressobj`, with lzma's API."""

    def __init__(self) -> None:
        import zstandard

        self._dobj = zstandard.ZstdDecompressor().decompressobj()
        self._input = memoryview(b"")  # compressed bytes not yet given to `_dobj`
        self._out = b""
        self._pos = 0  # how much of `_out` was handed out (slicing it each time would copy it)

    @property
    def eof(self) -> bool:
        return self._dobj.eof and self._pos >= len(self._out)

    @property
    def needs_input(self) -> bool:
        return not self._dobj.eof and not self._input and self._pos >= len(self._out)

    @property
    def unused_data(self) -> bytes:
        return self._dobj.unused_data + bytes(self._input)

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if data:
            self._input = memoryview(data)
        while self._pos >= len(self._out) and self._input and not self._dobj.eof:
            piece, self._input = self._input[:_ZSTD_PIECE], self._input[_ZSTD_PIECE:]
            self._out, self._pos = self._dobj.decompress(piece), 0
        start = self._pos
        self._pos = len(self._out) if max_length < 0 else min(len(self._out), start + max_length)
        return self._out[start:self._pos]


def _decompressor(kind: str) -> _Decompressor:
    if kind == "gzip":
        # ISA-L's gzip is about three times the stdlib's speed.
        from isal import igzip_lib

        return igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return _ZstdFrame()


class Decoder(io.RawIOBase):
    """A compressed file's content: its members (gzip), streams (bz2, xz) or frames (zstd) one after another.

    Zero bytes between or after members are padding (xz's stream padding, a tape's) and skipped. A stream
    that ends in the middle of a member raises EOFError, and damage the decompressor's own error, each
    after everything decompressed before it was read. Data after a complete member that is not another
    member raises `TrailingGarbage` at the end. After `limit` bytes of output the stream ends and
    `exceeded` tells whether there was more: a compression bomb cannot fill the disk.
    """

    def __init__(self, raw: BinaryIO, kind: str, limit: int, close_raw: bool = True) -> None:
        self.raw = raw
        self.kind = kind
        self.left = limit
        self.exceeded = False
        self._close_raw = close_raw  # stdin is not ours to close
        self._dec = _decompressor(kind)
        self._held = b""  # read, not yet given to a decompressor: the start of the next member
        self._done = False  # the content ended where it should
        self._failed: Exception | None = None
        self._ahead = b""  # decompressed by `peek`, to be read again

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Close the file under the stream too (unless it is stdin)."""
        if not self.closed and self._close_raw:
            self.raw.close()
        super().close()

    def peek(self, n: int) -> bytes:
        """Up to the first `n` bytes of what is read next, read again then (an error is met by that read)."""
        if not self._ahead and self.left > 0:
            try:
                self._ahead = self._produce(min(n, self.left))
            except Exception:  # raised again by the next read
                return b""
        return self._ahead[:n]

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._ahead:
            n = min(len(buffer), len(self._ahead))
            buffer[:n] = self._ahead[:n]
            self._ahead = self._ahead[n:]
            self.left -= n
            return n
        if self.left <= 0:
            if not self.exceeded:
                try:
                    self.exceeded = bool(self._produce(1))
                except Exception:  # damaged past the limit: there was more all the same
                    self.exceeded = True
            return 0
        out = self._produce(min(len(buffer), self.left, _OUT_MAX))
        n = len(out)
        buffer[:n] = out
        self.left -= n
        return n

    def _produce(self, want: int) -> bytes:
        """Up to `want` bytes of content; b"" at its end. An error, once raised, is raised on every read after."""
        if self._failed is not None:
            raise self._failed
        try:
            return self._decode(want)
        except Exception as e:
            self._failed = e
            raise

    def _decode(self, want: int) -> bytes:
        stalled = False  # a call without new input gave nothing: give it input, whatever it says
        while not self._done:
            if self._dec.eof and not self._next_member():
                break
            data = b""
            if self._dec.needs_input or stalled:
                data, self._held = self._held or self.raw.read(_IN_BLOCK) or b"", b""
                if not data:
                    raise EOFError(f"{self.kind} data ends in the middle of a member")
            out = self._dec.decompress(data, want)
            if out:
                return out
            stalled = not data
        return b""

    def _next_member(self) -> bool:
        """After a member: start the next one (True), or end (False; `TrailingGarbage` if data follows)."""
        rest = self._dec.unused_data
        while True:
            rest = rest.lstrip(b"\x00")
            if len(rest) >= _MAGIC_MAX:
                break
            more = self.raw.read(_IN_BLOCK)
            if not more:
                break
            rest += more
        if not rest:
            self._done = True
            return False
        if kind_of(rest) != self.kind:
            raise TrailingGarbage(self.kind)
        self._dec = _decompressor(self.kind)
        self._held = rest
        return True


def utf16_codec(head: bytes) -> str | None:
    """The codec of text whose first bytes these are, if it is UTF-16, else None.

    `utf-16` for a byte order mark (what PowerShell 5's `Out-File` and `>` write); `utf-16-le` or
    `utf-16-be` for text without one (`Out-File -Append` adds none) whose every other byte is mostly NUL,
    as in mostly ASCII text, and the bytes between hardly ever are.
    """
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = head[: min(len(head), 256) & ~1]
    if len(sample) >= 16:
        pairs = len(sample) // 2
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd * 4 >= pairs * 3 and even * 8 < pairs:
            return "utf-16-le"
        if even * 4 >= pairs * 3 and odd * 8 < pairs:
            return "utf-16-be"
    return None


_TEXT_BLOCK = 1 << 18  # UTF-16 bytes converted at a time


class Utf16Text(io.RawIOBase):
    """UTF-16 text as UTF-8: tokens, times and fields are found in it as in any log.

    A character that is not valid UTF-16 becomes U+FFFD. `source_bytes` counts the UTF-16 bytes behind
    what was read: where the file was read to is told in its own bytes, not in UTF-8's.
    """

    def __init__(self, inner: BinaryIO, codec: str) -> None:
        self._inner = inner
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self._out = b""
        self._pos = 0
        self._read = 0
        self._end = False

    def readable(self) -> bool:
        return True

    @property
    def source_bytes(self) -> int:
        """UTF-16 bytes converted so far (a character still incomplete is not counted)."""
        held = self._decoder.getstate()[0]
        return self._read - len(held)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._out):
            if self._end:
                return 0
            data = self._inner.read(_TEXT_BLOCK) or b""
            self._read += len(data)
            self._end = not data
            self._out, self._pos = self._decoder.decode(data, final=self._end).encode("utf-8", "replace"), 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = memoryview(self._out)[self._pos:self._pos + n]
        self._pos += n
        return n
