"""The scan of one file (or byte range): chunks through the compiled core, batches out.

`scan_file` reads a file chunk by chunk; the core's `LineScanner` finds every token of a chunk,
where it sat and the request fields of its line, and hands back one Arrow record batch. What is
left here is per distinct token (decoding, through `decode.FactsMemo`) and per batch
(`batch_frame`, the occurrence DataFrame classification works on). `scan_file` writes nothing, but
it is not pure: it fills in the caller's `FileResult` (read statistics, format) and adds the tokens
it decodes to the `known` cache it is given. It runs in worker processes (and on a Dask cluster).

Imports the scan layer, `frames`, `config` and `tokens.decode`/`keys`; nothing of the outputs, engine or run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

import analyzer._core as _core
from analyzer import schema as S
from analyzer.config import Settings
from analyzer.frames import categorical, from_codes, strings
from analyzer.scan import formats, readers
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import ReadStats, decompressed_limit, iter_chunks
from analyzer.tokens.decode import FactsMemo, TokenFacts
from analyzer.tokens.keys import KeyRing

BATCH_ROWS = 65_536  # rows per classified batch: bounds the memory of every stage after the scan
# Tokens first decoded in a batch, at most: their facts (~1.3 KB each) live as long as the batch. A log of
# tokens each used once (client assertions, sign-in form posts) filled a batch of rows with 29,000 of
# them at 7.4 GB and the worker kept ~20 MB more for the rest of the run.
BATCH_TOKENS = 8_192
DETECT_BYTES = 1 << 16  # a file's format is detected from its first lines within this many bytes
DETECT_LINES = 50
_OCC_COLUMNS = ("ts", "source", "line", "format", "location", "param", "host", "method", "path", "status",
                "client_ip", "user_agent", "token_fp", "logged_error")


class Batch:
    """Occurrences found in part of a file (or in several small files), and the tokens first seen there.

    The occurrences stay Arrow record batches as the core made them (one per chunk), each with the
    file it came from and that file's mtime, until `batch_frame` turns them into one DataFrame.
    """

    def __init__(self, parts: list[tuple[pa.RecordBatch, str, int]], tokens: dict[str, TokenFacts]) -> None:
        self.parts = parts  # (occurrences with a `token_fp` column, source name, mtime in epoch µs)
        self.tokens = tokens

    def __len__(self) -> int:
        return sum(p[0].num_rows for p in self.parts)

    def full(self) -> bool:
        """Whether the batch is due (`_due`)."""
        return _due(len(self), len(self.tokens))

    def extend(self, other: Batch) -> None:
        """Append another batch's rows (of another file, maybe) and tokens to this one."""
        self.parts.extend(other.parts)
        self.tokens.update(other.tokens)

    def shift_lines(self, base: int) -> None:
        """Add `base` to every line number (a byte range's lines counted from its file's start)."""
        import pyarrow.compute as pc

        shifted = []
        for rb, source, mtime in self.parts:
            i = rb.schema.get_field_index("line")
            shifted.append((rb.set_column(i, "line", pc.add(rb.column(i), base)), source, mtime))
        self.parts = shifted


def _due(rows: int, tokens: int) -> bool:
    """Whether a batch of this many rows and tokens first decoded in it is due: BATCH_ROWS, or BATCH_TOKENS."""
    return rows >= BATCH_ROWS or tokens >= BATCH_TOKENS


@dataclass
class FileResult:
    """Per-file counters for run.json."""

    path: str
    format: str = S.FMT_GENERIC
    stats: ReadStats = field(default_factory=ReadStats)
    tokens: int = 0
    rejected: int = 0
    masked: int = 0
    invalid_utf8_lines: int = 0


def _detect(head: bytes) -> str:
    """A file's format from its first lines."""
    return formats.detect(head[:DETECT_BYTES].split(b"\n")[:DETECT_LINES])


def _scanner(f: InputFile, settings: Settings, fmt: str) -> Any:
    """The core's line scanner for a file of format `fmt`: year-less times are in the year of its mtime."""
    mtime = f.mtime or time.time()
    return _core.LineScanner(fmt, datetime.fromtimestamp(mtime, tz=UTC).year, settings.timezone,
                             int(mtime * 1_000_000))


def scan_file(f: InputFile, settings: Settings, ring: KeyRing, result: FileResult,
              known: dict[str, TokenFacts] | None = None, start: int = 0, end: int | None = None,
              count_from: int | None = None, memo: FactsMemo | None = None) -> Iterator[Batch]:
    """Find and decode every token in one file (or byte range); yield occurrence batches.

    The core scans each chunk: it finds the tokens, parses the request fields of their lines and
    hands back Arrow columns. What is left here is per distinct token: `known` holds the facts of
    tokens decoded before (it gains the new ones), so each unique token is decoded once per
    task. A batch's `tokens` are the ones first seen in it; `memo` (the process's) saves decoding a
    token that another task of the process decoded already.
    """
    known = {} if known is None else known
    memo = FactsMemo() if memo is None else memo
    fmt = settings.format
    directive = None
    if start > 0:
        # A range in the middle of a file: detect from the file's first lines, and pick up the W3C
        # field list in force where the range starts.
        if fmt is None:
            fmt = _detect(readers.read_head(f, DETECT_BYTES)[0])
        if fmt == S.FMT_IIS:
            directive = readers.last_line_starting(f, b"#Fields:", start)
    scanner = None
    if fmt is not None:
        result.format = fmt
        scanner = _scanner(f, settings, fmt)
        if directive:
            scanner.set_fields(directive[8:])
    mtime_us = int((f.mtime or time.time()) * 1_000_000)
    source = f.name  # a name that is not UTF-8, escaped: Parquet holds UTF-8 strings only
    parts: list[tuple[pa.RecordBatch, str, int]] = []
    rows = 0
    new_tokens: dict[str, TokenFacts] = {}
    limit = settings.max_decompressed or decompressed_limit(f.size)
    for chunk, first_line in iter_chunks(f, result.stats, limit, start=start, end=end, count_from=count_from):
        if scanner is None:
            fmt = _detect(bytes(chunk[:DETECT_BYTES]))
            result.format = fmt
            scanner = _scanner(f, settings, fmt)
        if result.stats.fields_before is not None:
            # Content before the start was decompressed and dropped: the W3C field list in force.
            scanner.set_fields(result.stats.fields_before[8:])
            result.stats.fields_before = None
        part, decoded = scan_chunk(scanner, chunk, first_line, result, known, memo, ring, settings)
        new_tokens.update(decoded)
        if part is not None:
            parts.append((part, source, mtime_us))
            rows += part.num_rows
        if _due(rows, len(new_tokens)):
            result.tokens += rows
            yield Batch(parts, new_tokens)
            parts, rows, new_tokens = [], 0, {}
    if rows or new_tokens:
        result.tokens += rows
        yield Batch(parts, new_tokens)


def scan_chunk(scanner: Any, chunk: bytes | memoryview, first_line: int, result: FileResult,
               known: dict[str, TokenFacts], memo: FactsMemo, ring: KeyRing, settings: Settings,
               ) -> tuple[pa.RecordBatch | None, dict[str, TokenFacts]]:
    """One chunk through the core's `LineScanner`: its occurrences (None if it has none), with each
    token's fingerprint, and the facts of the tokens no earlier chunk decoded (added to `known` too).

    `chunk` may be the readers' view of their buffer: the core scans it in place, and nothing the scan
    returns refers to it."""
    occ, toks, (rejected, masked, invalid) = scanner.scan(chunk, first_line)
    result.rejected += rejected
    result.masked += masked
    result.invalid_utf8_lines += invalid
    new: dict[str, TokenFacts] = {}
    # Each distinct token of the chunk that an occurrence kept and no earlier chunk decoded. The few
    # hundred tokens of a chunk are read as lists at once: picking the fresh ones with an Arrow `take`
    # first cost more than the lists.
    fps, used = toks.column(1).to_pylist(), toks.column(2).to_pylist()
    fresh = [i for i, (fp, kept) in enumerate(zip(fps, used, strict=True)) if kept and fp not in known]
    if fresh:
        tokens, cuts = toks.column(0).to_pylist(), toks.column(3).to_pylist()
        for i in fresh:
            fp = fps[i]
            known[fp] = new[fp] = memo.facts(tokens[i], fp, cuts[i], ring, settings.clients)
    return (occ if occ.num_rows else None), new


_CATEGORIES = ("format", "location", "param", "host", "method", "user_agent", "token_fp")
_STRINGS = ("path", "client_ip", "logged_error")


def batch_frame(batch: Batch) -> pd.DataFrame:
    """A batch's columns as a DataFrame with the occurrence dtypes, converted by Arrow.

    Columns whose values repeat become categoricals (which classification, the writer and the
    parent process work on by code), the nearly unique `path` and `client_ip` plain strings. The
    core hands the repeating ones dictionary-coded per chunk: joining the chunks' few distinct values
    costs less than hashing every row of the batch again.
    """
    import numpy as np

    if not batch.parts:
        return _empty_frame()
    table = pa.Table.from_batches([p[0] for p in batch.parts]).unify_dictionaries()
    counts = [p[0].num_rows for p in batch.parts]

    def column(name: str) -> pa.Array:
        return table.column(name).combine_chunks()

    frame: dict[str, Any] = {
        # pandas' own conversion of Arrow integers (the hook `to_pandas` calls), without a combined copy first.
        "ts": pd.Int64Dtype().__from_arrow__(table.column("ts")),
        "source": _sources(batch.parts, counts),
        "line": column("line").to_numpy(),
        "status": pd.Int32Dtype().__from_arrow__(table.column("status")),
    }
    for name in _CATEGORIES:
        frame[name] = _categorical(column(name))  # the chunks share one dictionary, so only codes are joined
    for name in _STRINGS:
        frame[name] = strings(column(name))
    frame["mtime_us"] = np.repeat(np.array([p[2] for p in batch.parts], dtype=np.int64), counts)
    order = ["ts", "source", "line", *_OCC_COLUMNS[3:], "mtime_us"]
    return pd.DataFrame({name: frame[name] for name in order}, copy=False)  # every column is new: no copy


def _categorical(coded: pa.DictionaryArray) -> pd.Categorical:
    """A dictionary-coded column as a categorical: its categories in the order they first appear, as
    each chunk's dictionary has them and `unify_dictionaries` keeps them (first chunk's, then the new
    ones of each next chunk)."""
    return from_codes(coded.indices.fill_null(-1).to_numpy(zero_copy_only=False), coded.dictionary)


def _sources(parts: list[tuple[pa.RecordBatch, str, int]], counts: list[int]) -> pd.Categorical:
    """Each row's source file, a categorical made from the parts' names (not from a string per row)."""
    import numpy as np

    names: dict[str, int] = {}
    codes = [names.setdefault(source, len(names)) for _, source, _ in parts]
    return from_codes(np.repeat(np.array(codes, dtype=np.int32), counts), list(names))


def _empty_frame() -> pd.DataFrame:
    """The occurrence DataFrame of no rows."""
    frame: dict[str, Any] = {name: categorical([]) for name in (*_CATEGORIES, "source")}
    frame.update({name: strings([]) for name in _STRINGS})
    frame.update(ts=pd.array([], dtype="Int64"), line=pd.array([], dtype="int64"),
                 status=pd.array([], dtype="Int32"), mtime_us=pd.array([], dtype="int64"))
    order = ["ts", "source", "line", *_OCC_COLUMNS[3:], "mtime_us"]
    return pd.DataFrame({name: frame[name] for name in order}, copy=False)  # every column is new: no copy
