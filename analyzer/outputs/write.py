"""Writers: the only code that creates output files.

Everything is first written under a temporary name and then renamed into place, so a crash
leaves the previous good output readable. Files are created without world read permission.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analyzer import schema as S

FILE_MODE = 0o640
DIR_MODE = 0o750


def to_table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A DataFrame as an Arrow table with exactly this schema (dictionary strings included)."""
    arrays = []
    for f in schema:
        col = df[f.name] if f.name in df.columns else pd.Series([None] * len(df), dtype="object")
        if pa.types.is_dictionary(f.type):
            arrays.append(_dictionary(col, f.type))
        elif pa.types.is_timestamp(f.type):
            utc = isinstance(col.dtype, pd.DatetimeTZDtype) and str(col.dtype.tz) == "UTC"
            arrays.append(pa.array(col if utc else pd.to_datetime(col, utc=True), type=f.type, from_pandas=True))
        else:
            arrays.append(pa.array(col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _dictionary(col: pd.Series, type_: pa.DataType) -> pa.Array:
    """A string column as a dictionary array, straight from its Arrow (or category) storage."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        try:
            return pa.Array.from_pandas(col).cast(type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # categories that are no strings: as text, below
    return _text(col).dictionary_encode().cast(type_)


def _text(col: pd.Series) -> pa.Array:
    """A column of strings as an Arrow string array, from its Arrow storage when it has one."""
    try:
        arr = pa.Array.from_pandas(col)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type)):
            raise TypeError(arr.type)
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Mixed objects (a number where a string was expected): as text, each value on its own.
        values = [None if v is None or v != v else str(v) for v in col.astype("object").tolist()]
        return pa.array(values, type=pa.string())


def used_dictionaries(table: pa.Table) -> pa.Table:
    """The table with each dictionary column as `dictionary_encode` would give it (`_first_use`).

    So a part file's dictionaries hold just its rows' values, however the frame stored them.
    """
    return pa.table([_first_use(c.combine_chunks()) if pa.types.is_dictionary(c.type) else c for c in table.columns],
                    schema=table.schema)


def _first_use(arr: pa.DictionaryArray) -> pa.DictionaryArray:
    """The entries the rows use, in the order they first use them: what `dictionary_encode` gives for
    the values (a categorical's categories may be unused, or in another order, in a subset of rows)."""
    codes = arr.indices.fill_null(-1).to_numpy()
    return _encoded_spans(codes, arr.dictionary, arr.type, [(0, len(codes))])[0]


def _encoded_spans(codes: np.ndarray, dictionary: pa.Array, type_: pa.DataType,
                   spans: list[tuple[int, int]]) -> list[pa.DictionaryArray]:
    """Codes into `dictionary` (-1: null), span by consecutive span (a batch's dates), as dictionary
    arrays of `type_` whose entries are the ones each span's codes use, in the order they first use
    them (`_first_use`); the spans share one indices array.

    A span whose codes first use 0, 1, 2, ... in turn (a categorical made in the order of its rows, most
    often) keeps them, with the leading entries it uses; only the others are renumbered.
    """
    if dictionary.type != type_.value_type:
        dictionary = dictionary.cast(type_.value_type)
    missing = codes < 0
    nulls = bool(missing.any())
    indices = codes.astype(np.int32)  # a copy: spans out of order are renumbered in place
    entries = []
    for start, stop in spans:
        part = indices[start:stop]
        if len(dictionary) <= 1:  # one entry at most: used when a row has it
            used = np.arange(int(bool((part >= 0).any())))
        else:
            used = pd.unique(part)  # in the order the rows first use them
            if nulls:
                used = used[used >= 0]
        if (used == np.arange(len(used))).all():  # 0, 1, 2, ...: the leading entries, as they are
            entries.append(dictionary.slice(0, len(used)))
            continue
        remap = np.full(len(dictionary) + 1, -1, dtype=np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        part[:] = remap[part]  # -1 (null) picks the trailing -1
        entries.append(dictionary.take(used))
    array = pa.array(indices, pa.int32(), mask=missing if nulls else None)
    return [pa.DictionaryArray.from_arrays(array.slice(start, stop - start), used, safe=False)  # in range, as made
            for (start, stop), used in zip(spans, entries, strict=True)]


def date_partitions(events: Path) -> list[tuple[datetime.date, Path]]:
    """The events dataset's `date=YYYY-MM-DD` folders with their dates, oldest first.

    A folder whose name is no such date (left there by another tool) is not a partition: every
    reader and the retention skip it alike.
    """
    if not events.is_dir():
        return []
    found = []
    for d in events.iterdir():
        if d.is_dir() and d.name.startswith("date="):
            try:
                found.append((datetime.date.fromisoformat(d.name[5:]), d))
            except ValueError:
                continue
    return sorted(found)


def part_files(events: Path) -> list[Path]:
    """The events dataset's Parquet files, in dataset order: by date (`date_partitions`), then by name."""
    return [path for _, d in date_partitions(events) for path in sorted(d.glob("*.parquet"))]


def write_text_file(target: Path, text: str) -> None:
    """Write a text file under a temporary name, then rename it into place (a reader never sees half)."""
    tmp = target.with_name(f".{target.name}.tmp")
    # Like every output: no world read bit, whatever the umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(target)


def _secure(path: Path) -> None:
    try:
        os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
    except OSError:
        pass


EVENT_WRITE_SCHEMA = pa.schema(list(S.EVENT_FIELDS), metadata=S.EVENT_SCHEMA.metadata)
# Encodings of the columns nearly a value per row, which a Parquet dictionary would only make larger and
# slower to write: times and line numbers as deltas (they rise), a float by its bytes. Readers see the
# same values whichever the encoding.
_PLAIN_ENCODED = {"ts": "DELTA_BINARY_PACKED", "line": "DELTA_BINARY_PACKED", "seconds_past_exp": "BYTE_STREAM_SPLIT"}
# Strings nearly unique per row (at 740 MB: 136,000 paths and 372,000 client addresses in 387,000 rows):
# plain, then compressed, they are smaller than as a Parquet dictionary and cost less to write (both
# workers' writing 0.62-0.72 -> 0.58-0.59 s of CPU, the events 11.9 -> 11.3 MB). Arrow's schema in the
# file still types them as dictionaries, so readers get the same columns.
_NO_DICTIONARY = {"path", "client_ip"}
_PART_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "write_statistics": list(S.EVENT_STATISTICS),
    "use_dictionary": [f.name for f in S.EVENT_FIELDS if f.name not in _PLAIN_ENCODED and f.name not in _NO_DICTIONARY],
    "column_encoding": _PLAIN_ENCODED,
    # A row group's column in one go: statistics of a dictionary column are taken once, not per 1,024 rows.
    "write_batch_size": 1 << 16,
}


def write_parts(stage: Path, run_id: str, tag: str, ev: pd.DataFrame) -> int:
    """Stage one classified batch as part files (one per date) named `part-<run id>-<tag>.parquet`."""
    parts = PartWriter(stage, run_id, tag)
    try:
        parts.write(ev)
    finally:
        made = parts.close()
    return made


OPEN_DATES = 4  # date files a PartWriter keeps open at once (each holds a buffer and a writer, ~0.3 MB)


class PartWriter:
    """A run of classified batches as one part file per date, `part-<run id>-<tag>.parquet`, each
    batch a row group of it, written as it comes (never a whole task in memory).

    A worker keeps one per task (tagged with its first unit), the parent one for the rows it writes
    itself: so a dataset has a file per task and date, not per batch, and every reader of it pays per
    file. A file is written under a hidden name and renamed to its own when closed, so its name never
    stands for half a file; `close` is due when the batches end, also when they end with an error.

    At most OPEN_DATES files are open: a task over a month of a quiet log met a date per few thousand
    rows and kept 33 writers open (~10 MB in each process). Logs run forward in time, so the date
    written least recently is completed to make room; rows of it that come after all (lines out of
    order, a second file of a bundle) begin another file of that date, `part-<run id>-<tag>b0001.parquet`,
    which sorts right after the first: the dataset's rows stay in the same order.
    """

    def __init__(self, stage: Path, run_id: str, tag: str) -> None:
        self.stage, self._stem = stage, f"part-{run_id}-{tag}"
        # date -> (pyarrow.parquet.ParquetWriter, its buffered stream, its hidden file), least recently written first
        self._open: dict[str, tuple[Any, pa.NativeFile, Path]] = {}
        self._begun: dict[str, int] = {}  # date -> files begun for it
        self._made = 0  # files completed

    def write(self, ev: pd.DataFrame) -> None:
        """Append one batch: its rows of each date as a row group (or more, above 65,536 rows) of that date's file.

        A row group has dictionaries of its own: each batch's are the entries its rows use (`_encoded_spans`),
        whatever the batches before used.
        """
        for date, table in _date_tables(ev):
            got = self._open.pop(date, None)
            if got is None:
                if len(self._open) >= OPEN_DATES:
                    self._complete(*self._open.pop(next(iter(self._open))))
                got = self._begin(date)
            self._open[date] = got  # now the most recently written
            got[0].write_table(table, row_group_size=1 << 16)

    def _begin(self, date: str) -> tuple[Any, pa.NativeFile, Path]:
        """A new file of this date, under its hidden name: the date's first is `name`, the next ones `b0001`, ..."""
        n = self._begun.get(date, 0)
        self._begun[date] = n + 1
        d = self.stage / "events" / f"date={date}"
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{self._stem}{f'b{n:04d}' if n else ''}.parquet.tmp"
        # Buffered: a Parquet writer writes each page header and page on its own, a system call each.
        stream = pa.output_stream(tmp, compression=None, buffer_size=1 << 18)
        try:
            _secure(tmp)
            writer = pq.ParquetWriter(stream, EVENT_WRITE_SCHEMA, **_PART_OPTIONS)
        except BaseException:
            stream.close()
            tmp.unlink(missing_ok=True)
            raise
        return writer, stream, tmp

    def _complete(self, writer: Any, stream: pa.NativeFile, tmp: Path) -> None:
        """Finish one file and give it its name (its half is removed if that fails)."""
        try:
            try:
                writer.close()
            finally:
                stream.close()
            tmp.replace(tmp.with_name(tmp.name[1:-len(".tmp")]))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._made += 1

    def close(self) -> int:
        """Complete each open file and give it its name; returns how many files were made in all."""
        opened, self._open = self._open, {}
        error: BaseException | None = None
        for got in opened.values():
            try:
                self._complete(*got)
            except BaseException as exc:  # the others are still closed
                error = error or exc
        if error is not None:
            raise error
        return self._made


def _date_tables(ev: pd.DataFrame) -> Iterator[tuple[str, pa.Table]]:
    """A classified batch's rows of each date, as tables of the events' schema, dates in order.

    The rows are put in date order once (stable: each date's rows keep their order), so a date's table
    is a slice of each column, not a filter. A categorical column is encoded once for the batch, as its
    own codes into its categories; a date's slice keeps its codes when they already use the leading
    entries in order and is renumbered to the entries it uses otherwise (`_encoded_spans`), with no
    string hashed again. Other string columns (`path`, `client_ip`: nearly a value per row) are hashed
    once, date by date.
    """
    if ev.empty:
        return
    schema = EVENT_WRITE_SCHEMA
    distinct, order, spans = _by_date(pa.array(ev["date"], type=pa.date32()).to_numpy(zero_copy_only=False))
    coded: dict[str, list[pa.DictionaryArray]] = {}  # each dictionary column's array of each date
    plain: list[pa.Field] = []
    for f in schema:
        if not (pa.types.is_dictionary(f.type) and f.name in ev.columns):
            plain.append(f)
            continue
        col = ev[f.name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = np.asarray(col.array.codes)
            coded[f.name] = _encoded_spans(codes if order is None else codes[order], _entries(col, f.type), f.type,
                                           spans)
        else:
            text = _text(col) if order is None else _text(col).take(order)
            coded[f.name] = [text.slice(start, stop - start).dictionary_encode().cast(f.type)
                             for start, stop in spans]
    rest = to_table(ev, pa.schema(plain))
    if order is not None:
        rest = rest.take(order)
    for day, (date, (start, stop)) in enumerate(zip(distinct, spans, strict=True)):
        part = rest.slice(start, stop - start)
        arrays = [coded[f.name][day] if f.name in coded else part.column(f.name) for f in schema]
        yield str(date), pa.Table.from_arrays(arrays, schema=schema)


def _by_date(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, list[tuple[int, int]]]:
    """A batch's distinct dates (`datetime64[D]`) in order; the order that puts its rows in date order,
    each date's rows in theirs (None: they are already); and each date's span of rows in that order."""
    day = dates.view(np.int64)
    rank: np.ndarray
    low, high = int(day.min()), int(day.max())
    if high - low < 1 << 15:  # days since the first as 16 bits: counted and sorted without comparisons
        rank = (day - low).astype(np.int16)
        counts = np.bincount(rank)
        present = np.flatnonzero(counts)
        distinct, ends = (present + low).astype("datetime64[D]"), np.cumsum(counts[present])
    else:  # NaT (the least int64), or dates far apart
        distinct, rank = np.unique(dates, return_inverse=True)
        ends = np.cumsum(np.bincount(rank))
    ordered = len(distinct) == 1 or bool((rank[1:] >= rank[:-1]).all())
    spans = list(zip([0, *ends[:-1].tolist()], ends.tolist(), strict=True))
    return distinct, None if ordered else np.argsort(rank, kind="stable"), spans


def _entries(col: pd.Series, type_: pa.DataType) -> pa.Array:
    """A categorical's categories as Arrow values, straight from their Arrow storage when they are strings."""
    if isinstance(col.cat.categories.dtype, pd.StringDtype):
        return pa.array(col.cat.categories.array)  # large_string, cast by `_encoded_spans`
    return pa.array(col.cat.categories, type_.value_type)


def part_run_id(name: str) -> str | None:
    """The run id in an events part file name (`part-<run id>-<n>.parquet`)."""
    if not (name.startswith("part-") and name.endswith(".parquet")):
        return None
    return name[len("part-"):-len(".parquet")].rsplit("-", 1)[0]


class OutputDir:
    """A staging area inside the output directory, published with renames at the end.

    Events are appended: each run adds its own part files (named after the run) to the date
    partitions, so a rerun never rewrites what an earlier run wrote. Part files of a run that
    did not commit are removed by the next run (`remove_orphans`).
    """

    def __init__(self, out: Path, run_id: str = "run") -> None:
        self.out = out
        self.run_id = run_id
        out.mkdir(parents=True, exist_ok=True)
        _secure(out)
        for old in out.glob(".staging-*"):  # left behind by a run that was killed
            shutil.rmtree(old, ignore_errors=True)
        self.stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        _secure(self.stage)
        self._parts = 0
        self._writer: PartWriter | None = None  # the rows the parent writes, till the events are published
        self.published: list[Path] = []  # this run's part files moved into the dataset

    @property
    def events(self) -> Path:
        """The published events dataset."""
        return self.out / "events"

    def write_events(self, ev: pd.DataFrame) -> None:
        """Stage one classified batch: a row group of each of its dates' part files of the parent (`PartWriter`)."""
        if self._writer is None:
            self._parts += 1
            self._writer = PartWriter(self.stage, self.run_id, f"p{self._parts:05d}")
        self._writer.write(ev)

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def publish_events(self) -> int:
        """Move this run's staged part files into the dataset; returns how many."""
        self._close_writer()
        moved = 0
        self.events.mkdir(exist_ok=True)
        _secure(self.events)
        staged = self.stage / "events"
        if not staged.is_dir():
            return 0
        for d in sorted(staged.iterdir()):
            target = self.events / d.name
            target.mkdir(exist_ok=True)
            _secure(target)
            for part in sorted(d.iterdir()):
                os.replace(part, target / part.name)
                self.published.append(target / part.name)
                moved += 1
        shutil.rmtree(staged, ignore_errors=True)
        return moved

    def unpublish(self) -> int:
        """Remove the part files this run moved into the dataset (it stopped before its commit): readers
        of events/ would otherwise count them until the next run removed them as orphans. Returns how many."""
        removed, self.published = self.published, []
        for part in removed:
            part.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # a date folder only this run wrote to
                part.parent.rmdir()
        return len(removed)

    def keep_events(self, reads: list[Any]) -> int:
        """Stage, as this run's, the published events of these reads (`state.Read`); returns how many rows.

        A rebuild replaces the dataset; events of inputs that can no longer be read are carried over
        unchanged instead of being lost with it, in part files tagged with their record
        (`part-<run id>-k<record id>_<n>.parquet`) so that they are told apart from rows read again
        under the same name.
        """
        if not reads or not self.events.is_dir():
            return 0
        self._close_writer()  # its number is taken: the kept files number on after it
        kept = 0
        for d in sorted(self.events.iterdir()):
            if not d.is_dir():
                continue
            for part in sorted(d.glob("part-*.parquet")):
                rid = part_run_id(part.name)
                tag = part.name[:-len(".parquet")].rsplit("-", 1)[-1]
                mine = [r for r in reads if (r.run_id is None or r.run_id == rid)
                        and (tag.startswith(f"k{r.record_id}_") if r.kept else not tag.startswith("k"))]
                if not mine:
                    continue
                kept += self._keep_rows(pq.ParquetFile(part), mine, self.stage / "events" / d.name)
        return kept

    def _keep_rows(self, pf: pq.ParquetFile, reads: list[Any], target: Path) -> int:
        """Stage the rows of one published part file that these reads wrote, a file per record, row group
        by row group (a part file holds a task's rows: not read whole); returns how many rows."""
        import pyarrow.compute as pc

        writers: dict[int, Any] = {}  # record id -> pyarrow.parquet.ParquetWriter, opened on its first row
        kept = 0
        try:
            for group in range(pf.num_row_groups):
                table = pf.read_row_group(group)
                source, line = table.column("source").cast(pa.string()), table.column("line")
                by_record: dict[int, Any] = {}
                for r in reads:
                    hit = pc.and_(pc.equal(source, r.source),
                                  pc.and_(pc.greater_equal(line, r.first), pc.less_equal(line, r.last)))
                    by_record[r.record_id] = hit if r.record_id not in by_record else pc.or_(by_record[r.record_id],
                                                                                            hit)
                for record_id, mask in sorted(by_record.items()):
                    rows = table.filter(mask)
                    if not rows.num_rows:
                        continue
                    writer = writers.get(record_id)
                    if writer is None:
                        target.mkdir(parents=True, exist_ok=True)
                        self._parts += 1
                        path = target / f"part-{self.run_id}-k{record_id}_{self._parts:05d}.parquet"
                        writer = writers[record_id] = pq.ParquetWriter(path, rows.schema, compression="zstd")
                        _secure(path)
                    writer.write_table(used_dictionaries(rows), row_group_size=1 << 16)
                    kept += rows.num_rows
        finally:
            for writer in writers.values():
                writer.close()
        return kept

    def remove_orphans(self, committed: set[str]) -> int:
        """Delete part files of runs that never committed (a crash, or a reset); returns how many."""
        removed = 0
        if not self.events.is_dir():
            return 0
        for d in list(self.events.iterdir()):
            if not d.is_dir():
                continue
            for part in list(d.iterdir()):
                rid = part_run_id(part.name)
                if rid is not None and rid not in committed:
                    part.unlink(missing_ok=True)
                    removed += 1
            if not any(d.iterdir()):
                d.rmdir()
        return removed

    def drop_partitions_before(self, date: str) -> list[str]:
        """Retention: remove date partitions older than `date` (YYYY-MM-DD); returns their names."""
        dropped: list[str] = []
        for day, d in date_partitions(self.events):
            if day.isoformat() < date:
                shutil.rmtree(d, ignore_errors=True)
                dropped.append(d.name[5:])
        return dropped

    def write_parquet_frames(self, name: str, frames: Iterable[pd.DataFrame], schema: pa.Schema) -> None:
        """Stage one Parquet file from frames written one after another (a row group or more each)."""
        path = self.stage / name
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            wrote = False
            for df in frames:
                writer.write_table(to_table(df, schema))
                wrote = True
            if not wrote:
                writer.write_table(schema.empty_table())
        _secure(path)

    def write_text(self, name: str, text: str) -> None:
        """Stage one text file."""
        write_text_file(self.stage / name, text)

    def write_json(self, name: str, data: Any) -> None:
        """Stage one JSON file."""
        self.write_text(name, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")

    def publish(self) -> None:
        """Move the staged summary, report and run.json into place (run.json last)."""
        self.publish_events()
        for item in sorted(self.stage.iterdir(), key=lambda p: p.name == "run.json"):
            target = self.out / item.name
            if item.is_dir():
                if target.exists():
                    old = self.out / f".old-{item.name}-{os.getpid()}"
                    target.rename(old)
                    shutil.rmtree(old, ignore_errors=True)
                item.rename(target)
            else:
                os.replace(item, target)
        shutil.rmtree(self.stage, ignore_errors=True)

    def abandon(self) -> None:
        """Drop the staging area (after an error)."""
        with contextlib.suppress(Exception):  # the error that brought us here is the one to report
            self._close_writer()
        shutil.rmtree(self.stage, ignore_errors=True)
