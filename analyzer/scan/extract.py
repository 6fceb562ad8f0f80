"""Find tokens in byte chunks: where each one sits (line, offsets) and how it was presented.

The work per byte is done by the compiled core (`analyzer._core`, Rust, `src/`): a linear scan
for `eyJ` where a base64url run starts, the chunk's marks (rare strings that switch on extra
work), masked Bearer values, and where each token sat. This module is its Python face.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import analyzer._core as _core
from analyzer import schema as S


class TokenMatch(NamedTuple):
    """One token found in bytes by `TOKEN_RE` (the subset of `re.Match` its callers use)."""

    string: bytes
    pos: int
    endpos: int

    def span(self, group: int = 0) -> tuple[int, int]:
        """(start, end) of the token."""
        return self.pos, self.endpos

    def start(self, group: int = 0) -> int:
        """Where the token starts."""
        return self.pos

    def end(self, group: int = 0) -> int:
        """One past the token's last byte."""
        return self.endpos

    def group(self, group: int = 0) -> bytes:
        """The token's bytes."""
        return self.string[self.pos:self.endpos]


class TokenPattern:
    """The token grammar of plain chunks, for the code that finds tokens in one line or value.

    It has the interface of a compiled `re` pattern (`finditer`, `search`, `findall`) but runs the
    core's linear scan: a regex with the same grammar is quadratic on runs like `eyJa=eyJa=...`,
    where every `=` lets a new candidate start (0.2 MB of them: 25 s; 6 MB: hours).
    """

    def finditer(self, data: bytes) -> Iterator[TokenMatch]:
        """Every token in `data`, in order."""
        if b"eyJ" not in data:
            return
        batch = _core.find_tokens(bytes(data), 1, False)
        for start, end in zip(batch.column(3).to_pylist(), batch.column(4).to_pylist(), strict=True):
            yield TokenMatch(data, start, end)

    def search(self, data: bytes) -> TokenMatch | None:
        """The first token in `data`, if any."""
        return next(self.finditer(data), None)

    def findall(self, data: bytes) -> list[bytes]:
        """Every token in `data`, as bytes."""
        return [m.group(0) for m in self.finditer(data)]


TOKEN_RE = TokenPattern()


class Hit(NamedTuple):
    """One token candidate: its line and where in the chunk it and its line are."""

    line_no: int
    line_start: int
    line_end: int
    start: int
    end: int


def redact(value: str | None) -> str | None:
    """A log field with any token in it replaced by `[token]` (the core's token grammar).

    The scan does this to every field it writes, then masks what is left of a token the grammar reads
    only in part (standard alphabet, escaped dots, a stray byte inside): the core's `lines::mask`.
    """
    return value if value is None or "eyJ" not in value else str(_core.redact(value))


def canonical(token: bytes) -> bytes:
    """The token as issued: URL-encoded padding (`%3D`) turned back into `=`."""
    return _core.canonical(token) if b"%" in token else token


# --- what a chunk holds, in one pass ----------------------------------------------------------------
# Rare strings that switch on extra work for a chunk, found by the core in one pass.
MARK_PCT: int = _core.MARK_PCT  # `%3D`: URL-encoded padding, the token grammar that allows it
MARK_CODES: int = _core.MARK_CODES  # `IDX` / `AADSTS`: a validator's error code may be logged here
MARK_FIELDS: int = _core.MARK_FIELDS  # `#Fields:`: a W3C directive changes the columns
MARK_MASK: int = _core.MARK_MASK  # a mask value (`***`, `REDACTED`, `xxx`, ...): Bearer values may be masked
MARK_COOKIE: int = _core.MARK_COOKIE  # `cookie` in any case: a token after `Bearer ` may still sit in a cookie
MARK_ALL: int = _core.MARK_ALL


def chunk_marks(chunk: bytes) -> int:
    """Which MARK_* strings the chunk holds."""
    return int(_core.chunk_marks(chunk))


class ChunkScan(NamedTuple):
    """What the core found in one chunk: occurrence columns, the distinct tokens, marks, masked values."""

    occurrences: Any  # pyarrow.RecordBatch: line, line_start, line_end, start, end, location, param, token, cut
    tokens: Any  # pyarrow.RecordBatch: token (binary), fp (16 hex digits), one row per distinct token
    marks: int
    masked: int


def scan_chunk(chunk: bytes, first_line: int) -> ChunkScan:
    """Every token occurrence of a chunk of whole lines, as Arrow columns (see `_core.scan_chunk`)."""
    return ChunkScan(*_core.scan_chunk(chunk, first_line))


def find_tokens(chunk: bytes, first_line: int, marks: int | None = None) -> Iterator[Hit]:
    """Every token candidate in a chunk, in order, with its 1-based line number.

    `marks` are the chunk's (`chunk_marks`), when the caller has them already.
    """
    pct = bool((chunk_marks(chunk) if marks is None else marks) & MARK_PCT)
    batch = _core.find_tokens(chunk, first_line, pct)
    columns = [batch.column(i).to_numpy().tolist() for i in range(5)]
    for row in zip(*columns, strict=True):
        yield Hit(*row)


def count_masked(chunk: bytes, marks: int = MARK_ALL) -> int:
    """Bearer values that were masked before logging (`Bearer REDACTED`, `Bearer ***`)."""
    if not marks & MARK_MASK:
        return 0
    return int(_core.count_masked(chunk))


def locate_at(chunk: bytes, line_start: int, start: int, marks: int = MARK_ALL) -> tuple[str, str]:
    """`locate` for the token at `start` of a chunk whose line starts at `line_start`."""
    return locate(chunk[max(line_start, start - 120):start])


def locate(before: bytes) -> tuple[str, str]:
    """(location, parameter name) for a token preceded by these bytes of its line."""
    code, param = _core.locate(before)
    return S.LOCATIONS[code], param  # the core's location codes are indexes into it


def plausible_header(token: bytes) -> bool:
    """Whether the first segment decodes (as orjson reads it) to a JSON object that names an algorithm.

    Used for tokens found in free text, where a JWT-shaped string may be something else.
    """
    return bool(_core.plausible_header(token))
