"""Aggregate: a run's counts and examples as batches pass, and the summary from the events dataset.

The summary is folded one date partition at a time, so memory grows with the number of distinct
groups and tokens of one day, never with the number of occurrences.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analyzer import schema as S
from analyzer.frames import coded
from analyzer.outputs.write import date_partitions

EXAMPLE_COLUMNS = ("ts", "source", "line", "format", "location", "host", "method", "path", "status", "client_id",
                   "audience", "issuer", "token_fp", "token_kind", "detail")


def merge_examples(into: dict[str, list[dict[str, Any]]], more: dict[str, list[dict[str, Any]]]) -> None:
    """Add the examples of `more` after those of `into`, per cause: no token twice, at most EXAMPLES_PER_CAUSE."""
    for cause, extra in more.items():
        have = into.setdefault(cause, [])
        for e in extra:
            if len(have) < S.EXAMPLES_PER_CAUSE and all(h.get("token_fp") != e.get("token_fp") for h in have):
                have.append(e)


class Aggregator:
    """Counts a run's occurrences by cause and keeps a few example occurrences per cause.

    The summary itself is built from the events dataset (`summary_days`), so that it covers
    every night, not just this run.
    """

    def __init__(self) -> None:
        self._rows = 0
        self._causes: dict[str, int] = {}
        self.examples: dict[str, list[dict[str, Any]]] = {}

    def add(self, ev: pd.DataFrame) -> None:
        """Fold in one classified batch."""
        if ev.empty:
            return
        self._rows += len(ev)
        for cause, n in _counts(ev["cause"]):
            self._causes[cause] = self._causes.get(cause, 0) + n
        if all(len(self.examples.get(c, ())) >= S.EXAMPLES_PER_CAUSE for c in self._causes):
            return
        rows = first_rows(ev, S.EXAMPLES_PER_CAUSE)
        # The few rows' values column by column: `to_dict("records")` of the frame cost more than the rest.
        values = {c: _values(ev[c], rows) if c in ev.columns else [None] * len(rows)
                  for c in (*EXAMPLE_COLUMNS, "cause")}
        for i in range(len(rows)):
            have = self.examples.setdefault(str(values["cause"][i]), [])
            if len(have) < S.EXAMPLES_PER_CAUSE and all(e["token_fp"] != values["token_fp"][i] for e in have):
                have.append({k: _plain(values[k][i]) for k in EXAMPLE_COLUMNS})

    def merge(self, other: Aggregator) -> None:
        """Fold in an aggregator of later rows (a worker's, of one unit): the same as adding its rows here.

        The first examples of a cause over all rows are among the first examples of the first part
        that has them, so merging parts in order keeps the same examples.
        """
        self._rows += other._rows
        for cause, n in other._causes.items():
            self._causes[cause] = self._causes.get(cause, 0) + n
        merge_examples(self.examples, other.examples)

    def cause_counts(self) -> dict[str, int]:
        """Occurrences per cause folded in so far."""
        return dict(self._causes)

    @property
    def rows(self) -> int:
        """Occurrences folded in so far."""
        return self._rows


def _counts(col: pd.Series) -> list[tuple[str, int]]:
    """Rows per value of a column (missing values not counted), by its codes: a categorical's own,
    else factorized."""
    codes, values = coded(col)
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    return [(str(v), int(n)) for v, n in zip(values, counts.tolist(), strict=True) if n]


def _values(col: pd.Series, rows: np.ndarray) -> list[Any]:
    """The values of a few rows of a column (None or NaN where missing); a categorical's by its codes,
    which costs a fraction of taking a categorical of the rows."""
    arr = col.array
    if isinstance(arr, pd.arrays.NumpyExtensionArray):
        return list(arr.to_numpy()[rows].tolist())  # Python numbers, as the Series gives them
    if not isinstance(arr, pd.Categorical):
        return list(arr.take(rows).tolist())
    codes = arr.codes[rows]
    if not len(arr.categories):
        return [None] * len(rows)
    names = arr.categories.array.take(np.maximum(codes, 0)).tolist()
    return [name if code >= 0 else None for name, code in zip(names, codes.tolist(), strict=True)]


def first_rows(ev: pd.DataFrame, per_cause: int) -> np.ndarray:
    """The rows of the first `per_cause` distinct tokens of each cause, in row order: what
    `drop_duplicates(["cause", "token_fp"]).groupby("cause").head(per_cause)` keeps, on integer codes."""
    cause, _ = coded(ev["cause"])
    token, tokens = coded(ev["token_fp"])
    pair = pd.Series(cause * (len(tokens) + 1) + (token + 1))
    first = np.flatnonzero(~pair.duplicated().to_numpy())  # the first row of each (cause, token), in row order
    by_cause = cause[first]
    order = np.argsort(by_cause, kind="stable")
    starts = np.searchsorted(by_cause[order], by_cause[order])  # where each row's cause begins in `order`
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first)) - starts  # the row's place among its cause's first rows
    return first[(rank < per_cause) & (by_cause >= 0)]  # a row without a cause is no example


class DistinctTokens:
    """The distinct tokens of a run, and how many are of each kind.

    Kept as a sorted array of 64-bit fingerprints: 8 bytes a token, where a set of strings took
    about 100.
    """

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.uint64)
        self.kinds: dict[str, int] = {}

    def add(self, tokens: dict[str, str]) -> None:
        """Count the tokens (fingerprint -> kind) not counted before."""
        ids = token_ids(tokens)
        at = np.searchsorted(self._seen, ids)
        new = at == len(self._seen)
        new[~new] = self._seen[at[~new]] != ids[~new]
        for kind in itertools.compress(tokens.values(), new):
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        added = np.sort(ids[new])
        self._seen = np.insert(self._seen, np.searchsorted(self._seen, added), added)

    def __len__(self) -> int:
        return len(self._seen)


def _plain(value: Any) -> Any:
    """A missing value of any kind (NaN of a categorical, NA, NaT) as None: examples.json is plain JSON."""
    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


SUMMARY_READ = ["ts", "host", "client_id", "audience", "issuer", "cause", "token_fp"]
SUMMARY_ROWS = 1 << 16


def iter_event_tables(events_dir: Any, columns: Collection[str], since_us: int | None = None,
                      until_us: int | None = None, rows: int = 1 << 16,
                      footers: list[int] | None = None) -> Iterator[tuple[Any, pa.Table]]:
    """The events dataset as (day, Arrow table of about `rows` rows), day by day, oldest first.

    Only the asked-for columns that a part file has are read. Plain per-file reads keep memory flat;
    a dataset scanner reads ahead across files and buffers far more than one batch. A day's small part
    files are read into one table until it holds `rows` rows: per-table costs are then paid once per
    many files. `footers`, if given, gets each part file's rows (all of them, whatever the window).
    """
    for day, d in date_partitions(events_dir):
        pending: list[pa.RecordBatch] = []
        held = 0
        for path in sorted(d.glob("*.parquet")):
            # Neither pre-buffering nor reader threads: they allocate from Arrow's built-in pool
            # (mimalloc, which `engine.processes.use_memory_pool` cannot replace and which keeps what it
            # freed), so the process grew with every file read.
            pf = pq.ParquetFile(path, pre_buffer=False)
            if footers is not None:
                footers.append(pf.metadata.num_rows)
            names = set(pf.schema_arrow.names)
            have = [c for c in columns if c in names]
            for batch in pf.iter_batches(batch_size=rows, columns=have, use_threads=False):
                if since_us is not None or until_us is not None:
                    ts = pc.cast(batch.column("ts"), "int64")
                    keep = pc.is_valid(ts)
                    if since_us is not None:
                        keep = pc.and_(keep, pc.greater_equal(ts, since_us))
                    if until_us is not None:
                        keep = pc.and_(keep, pc.less(ts, until_us))
                    batch = batch.filter(keep)
                if batch.num_rows == 0:
                    continue
                if pending and (held + batch.num_rows > rows or not batch.schema.equals(pending[0].schema)):
                    yield day, pa.Table.from_batches(pending)
                    pending, held = [], 0
                pending.append(batch)
                held += batch.num_rows
        if pending:
            yield day, pa.Table.from_batches(pending)


_T = TypeVar("_T")


def read_ahead(items: Iterator[_T], depth: int = 1) -> Iterator[_T]:
    """The items of an iterator, made on a thread of their own up to `depth` items ahead of the caller.

    Reading a part file and folding a table both run mostly in Arrow, which lets go of the GIL: the
    pass over the dataset then uses a second core for its reads. Memory grows by `depth` tables and the
    one being made (about 13 MB at 740 MB of logs, the thread's allocations included).
    """
    made: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as e:  # raised again in the caller's thread
            put((False, e))

    thread = threading.Thread(target=make, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = made.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def summarize_dataset(events_dir: Any, since_us: int | None = None, until_us: int | None = None) -> pd.DataFrame:
    """The contract's summary over the whole events dataset (or a time window), as one frame."""
    days = list(summary_days(events_dir, since_us, until_us))
    if not days:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in SUMMARY_COLUMNS})
    return pd.concat(days, ignore_index=True)


SUMMARY_COLUMNS = [*S.SUMMARY_KEYS, "occurrences", "unique_tokens", "first_seen", "last_seen"]


class TableFold(Protocol):
    """A fold of the events dataset that rides along the summary's pass (`summary_days`' `also`)."""

    @property
    def columns(self) -> Collection[str]:
        """The columns it reads."""

    @property
    def coded(self) -> Collection[str]:
        """The columns it asks the pass's `KeyCodes` to `encode` (encoded as the tables are read)."""

    def add(self, table: pa.Table, codes: KeyCodes) -> None:
        """Fold in one table of the pass (of the window; it may hold more columns than asked for); `codes`
        are the pass's own, shared by every fold of it, so that each table's columns are encoded once."""


def summary_days(events_dir: Any, since_us: int | None = None, until_us: int | None = None,
                 also: Collection[TableFold] = (), footers: list[int] | None = None) -> Iterator[pd.DataFrame]:
    """The contract's summary over the events dataset (or a time window), one day at a time, in order.

    Each fold of `also` is given every table of the same pass: the dataset is read once for all of them
    (`footers` as `iter_event_tables` takes it).

    No summary row spans two days, so each day is folded on its own, table by table, by Arrow's
    hash aggregation over integers (`KeyCodes`): each table is reduced at once to one row per
    (group, token) with its count and first and last time, and those partials are folded as they
    come. Memory is bounded by the distinct (group, token) pairs of one day, about 40 bytes each,
    whatever the number of occurrences or days. The days come in date order, each sorted as the
    whole summary is.
    """
    day: _DayFold | None = None
    codes = KeyCodes()
    columns = list(dict.fromkeys([*SUMMARY_READ, *(c for fold in also for c in fold.columns)]))
    keys = list(dict.fromkeys([*_GROUP, *(c for fold in also for c in fold.coded)]))

    def read() -> Iterator[tuple[Any, pa.Table, dict[str, pa.Array]]]:
        for date, table in iter_event_tables(events_dir, columns, since_us, until_us, rows=SUMMARY_ROWS,
                                             footers=footers):
            yield date, table, codes.encoded(table, keys)

    # Each table is read and its keys encoded on a thread of their own, while the tables before are folded.
    for date, table, encoded in read_ahead(read()):
        codes.adopt(table, encoded)
        for fold in also:
            fold.add(table, codes)
        if day is None or date != day.date:
            if day is not None:
                yield day.summary()
            day = _DayFold(date, codes)
        day.add(table)
    if day is not None:
        yield day.summary()


_GROUP = [k for k in S.SUMMARY_KEYS if k != "date"]
_TOKEN_IDS = "\0token_fp"  # `KeyCodes.token_ids` among a table's codes
_PAIR = [*_GROUP, "token_fp"]
_FOLD_EVERY = 16  # table partials folded together


class KeyCodes:
    """String columns as int32 codes into lists of values that only grow, shared by every table of a fold.

    Arrow groups integers in a fraction of the memory and time strings take, and part files each carry
    dictionaries of their own: each table's distinct values are looked up once, never its rows.
    Token fingerprints become 64-bit integers instead (`tokens`): there are too many to list.
    """

    def __init__(self) -> None:
        self._ids: dict[str, dict[Any, int]] = {}
        # A pass encodes on its reading thread (`encoded`) while its folds decode on theirs.
        self._lock = threading.Lock()
        self._table: pa.Table | None = None  # the table last encoded, and its columns' codes
        self._coded: dict[str, pa.Array] = {}

    def _memo(self, table: pa.Table, key: str, make: Callable[[], pa.Array]) -> pa.Array:
        """`make()` once per column of a table: the folds of one pass ask for the same columns' codes."""
        if table is not self._table:
            self._table, self._coded = table, {}
        if key not in self._coded:
            self._coded[key] = make()
        return self._coded[key]

    def encode(self, table: pa.Table, name: str) -> pa.Array:
        """The column's codes (null where missing; all null where the table lacks the column)."""
        return self._memo(table, name, lambda: self._encode(table, name))

    def token_ids(self, table: pa.Table) -> pa.Array:
        """`tokens` of the table's `token_fp`, once per table."""
        return self._memo(table, _TOKEN_IDS, lambda: KeyCodes.tokens(table))

    def encoded(self, table: pa.Table, names: Collection[str]) -> dict[str, pa.Array]:
        """The codes of a table's columns `names`, and its token ids, for `adopt` (on another thread)."""
        return {**{name: self._encode(table, name) for name in names}, _TOKEN_IDS: KeyCodes.tokens(table)}

    def adopt(self, table: pa.Table, coded: dict[str, pa.Array]) -> None:
        """Take a table's codes made by `encoded`: `encode` and `token_ids` of the table give them."""
        self._table, self._coded = table, dict(coded)

    def _encode(self, table: pa.Table, name: str) -> pa.Array:
        column = _dictionary(table, name)
        if column is None:
            return pa.nulls(table.num_rows, pa.int32())
        # One dictionary for all the table's chunks (each part file brings its own): each value looked up once.
        column = pa.table({name: column}).unify_dictionaries().column(0)
        values = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
        with self._lock:
            ids = self._ids.setdefault(name, {})
            mapped = np.fromiter((ids.setdefault(v, len(ids)) for v in values), np.int32, count=len(values))
        indices = pa.chunked_array([c.indices for c in column.chunks], column.type.index_type).combine_chunks()
        return pc.take(pa.array(mapped, pa.int32()), indices)

    def decode(self, name: str, codes: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The values of codes (None where null)."""
        with self._lock:
            values = np.array([*self._ids.get(name, {}), None], dtype=object)
        return values[pc.fill_null(codes, -1).to_numpy()]  # -1 reads the trailing None

    @staticmethod
    def tokens(table: pa.Table, name: str = "token_fp") -> pa.Array:
        """Token fingerprints as 64-bit integers (`token_ids`), null where missing."""
        column = _dictionary(table, name)
        if column is None:
            return pa.nulls(table.num_rows, pa.uint64())
        out = np.empty(table.num_rows, dtype=np.uint64)
        missing = np.zeros(table.num_rows, dtype=bool)
        at = 0
        for chunk in column.chunks:
            ids = _dictionary_token_ids(chunk.dictionary)
            indices = chunk.indices.fill_null(-1).to_numpy()
            missing[at:at + len(chunk)] = indices < 0
            out[at:at + len(chunk)] = np.append(ids, np.zeros(1, np.uint64))[indices]  # -1 reads the trailing 0
            at += len(chunk)
        return pa.array(out, pa.uint64(), mask=missing if missing.any() else None)


def _dictionary(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """A string column, dictionary-encoded (None where the table lacks it)."""
    if name not in table.column_names:
        return None
    column = table.column(name)
    return column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)


def _dictionary_token_ids(values: pa.Array) -> np.ndarray:
    """`token_ids` of a dictionary's values: fingerprints as the scan makes them (16 hex digits each)
    are read from the values' bytes at once, without a Python string per value."""
    if pa.types.is_string(values.type) and values.null_count == 0 and len(values):
        _, offsets_buffer, data = values.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[values.offset:values.offset + len(values) + 1]
        if data is not None and np.all(np.diff(offsets) == 16):
            try:
                ids = bytes.fromhex(data[int(offsets[0]):int(offsets[-1])].to_pybytes().decode("ascii"))
            except ValueError:  # UnicodeDecodeError too: not hex
                ids = b""
            if len(ids) == 8 * len(values):  # (`fromhex` skips whitespace: then fewer bytes come out)
                return np.frombuffer(ids, dtype=">u8").astype(np.uint64)
    return token_ids(values.to_pylist())


class _DayFold:
    """The summary of one day, folded table by table from per-(group, token) partials of integers."""

    def __init__(self, date: Any, codes: KeyCodes) -> None:
        self.date = date
        self._codes = codes  # the pass's: the codes of one day, and of the days before
        self._parts: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        """Reduce one table to its (group, token) partial: occurrences, first and last time."""
        keys = {k: self._codes.encode(table, k) for k in _GROUP}
        part = pa.table({**keys, "token_fp": self._codes.token_ids(table), "ts": table.column("ts")}).group_by(
            _PAIR, use_threads=False).aggregate([([], "count_all"), ("ts", "min"), ("ts", "max")])
        self._parts.append(part.rename_columns({"count_all": "occurrences", "ts_min": "first_seen",
                                                "ts_max": "last_seen"}))
        if len(self._parts) >= _FOLD_EVERY:
            self._parts = [self._fold()]

    def _fold(self) -> pa.Table:
        folded = pa.concat_tables(self._parts).group_by(_PAIR, use_threads=False).aggregate(
            [("occurrences", "sum"), ("first_seen", "min"), ("last_seen", "max")])
        return folded.rename_columns({"occurrences_sum": "occurrences", "first_seen_min": "first_seen",
                                      "last_seen_max": "last_seen"})

    def summary(self) -> pd.DataFrame:
        """One row per group of the day, with the group's values; unique_tokens counts its fingerprints."""
        per_group = self._fold().group_by(_GROUP, use_threads=False).aggregate(
            [("occurrences", "sum"), ("token_fp", "count"), ("first_seen", "min"), ("last_seen", "max")])
        # Most occurrences first; ties in the order of the group's values (missing last): one stable
        # lexsort over each value's rank among the day's values, no sort of strings per row.
        occurrences = per_group.column("occurrences_sum").to_numpy().astype("int64")
        ranks = [self._ranks(k, per_group.column(k)) for k in reversed(_GROUP)]
        per_group = per_group.take(pa.array(np.lexsort([*ranks, -occurrences])))
        df = pd.DataFrame({"date": [self.date] * per_group.num_rows,
                           **{k: self._codes.decode(k, per_group.column(k)) for k in _GROUP}})
        df["occurrences"] = per_group.column("occurrences_sum").to_numpy().astype("int64")
        df["unique_tokens"] = per_group.column("token_fp_count").to_numpy().astype("int64")
        df["first_seen"] = per_group.column("first_seen_min").to_pandas()
        df["last_seen"] = per_group.column("last_seen_max").to_pandas()
        return df[SUMMARY_COLUMNS]

    def _ranks(self, name: str, codes: pa.ChunkedArray) -> np.ndarray:
        """Each row's place in the sorted order of the column's values; missing values after all."""
        at = pc.fill_null(codes, -1).to_numpy()
        present = np.unique(at[at >= 0])
        values = self._codes.decode(name, pa.array(present, pa.int32()))
        known = [i for i, v in enumerate(values) if v is not None]
        rank = np.full(int(present.max()) + 2 if len(present) else 1, len(known), dtype=np.int64)  # -1: missing
        rank[present[known]] = np.argsort(np.argsort(values[known], kind="stable"), kind="stable")
        return rank[at]


_HEX = re.compile(r"[0-9a-fA-F]*")


def token_ids(fingerprints: Collection[Any]) -> np.ndarray:
    """Token fingerprints (16 hex digits) as 64-bit integers; anything else as a 64-bit hash of it.

    Fingerprints as the scan makes them are read in one call (their hex joined); any other value
    makes the whole list go value by value.
    """
    values = [str(fp) for fp in fingerprints]
    joined = "".join(values)
    if len(joined) == 16 * len(values) and all(len(v) == 16 for v in values) and _HEX.fullmatch(joined):
        return np.frombuffer(bytes.fromhex(joined), dtype=">u8").astype(np.uint64)
    return np.fromiter(map(_token_id, values), dtype=np.uint64, count=len(values))


def _token_id(text: str) -> int:
    """One value's id: 16 hex digits as their number, anything else as a 64-bit hash of it."""
    try:
        if len(text) == 16:
            return int(text, 16)
    except ValueError:
        pass
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
