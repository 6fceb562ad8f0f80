"""Occurrence batches built by hand, as the core would hand them to `scan.chunks.batch_frame`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from analyzer.scan.chunks import Batch
from analyzer.tokens.decode import TokenFacts

_TYPES = {"line": pa.int64(), "ts": pa.int64(), "status": pa.int32()}
CODED = ("format", "location", "param", "host", "method", "user_agent", "token_fp")
COLUMNS = ("line", "ts", "format", "location", "param", "host", "method", "path", "status", "client_ip",
           "user_agent", "logged_error", "token_fp")


def empty_columns() -> dict[str, list[Any]]:
    """The columns of `batch_of`, without rows (plus `source`)."""
    return {c: [] for c in (*COLUMNS, "source")}


def batch_of(cols: dict[str, list[Any]], tokens: dict[str, TokenFacts], mtime_us: int) -> Batch:
    """A Batch of these rows (one record batch per row, each with its own `source`), the repeating
    columns dictionary-coded as the core codes them (`LineScanner.scan`)."""
    n = len(cols["token_fp"])
    parts = []
    for i in range(n):
        rb = pa.record_batch({c: _column(c, cols[c][i] if c in cols else None) for c in COLUMNS})
        parts.append((rb, str(cols["source"][i]), mtime_us))
    return Batch(parts, tokens)


def _column(name: str, value: Any) -> pa.Array:
    """One row's value of a column, typed as the core types it."""
    array = pa.array([value], _TYPES.get(name, pa.string()))
    return array.dictionary_encode() if name in CODED else array
