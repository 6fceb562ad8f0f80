"""write.write_parts: part files depend on the rows' values only, not on how the frame stores them."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analyzer.outputs.write import _first_use, write_parts

DAY1, DAY2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)


def _frame(categorical: bool) -> pd.DataFrame:
    """A few event rows over two days; strings as categoricals (unused, shuffled categories) or objects."""
    hosts = ["b.example", None, "a.example", "b.example", "c.example"]
    causes = [["expired"], [], ["audience_mismatch", "expired"], [], []]
    df = pd.DataFrame({
        "line": [1, 2, 3, 4, 5],
        "host": pd.Series(hosts, dtype=object),
        "path": pd.Series(["/x", "/y", None, "/x", "/z"], dtype=object),
        "cause": pd.Series(["expired", "ok", "audience_mismatch", "ok", "ok"], dtype=object),
        "causes": pd.Series(causes, dtype=object),
        "date": pd.Series([DAY1, DAY2, DAY1, DAY1, DAY2], dtype=object),
    })
    if categorical:
        df["host"] = pd.Categorical(hosts, categories=["unused", "c.example", "a.example", "b.example"])
        df["path"] = df["path"].astype("str")
        df["causes"] = pd.arrays.ArrowExtensionArray(pa.array(causes, pa.list_(pa.string())))
        df["date"] = pd.arrays.ArrowExtensionArray(pa.array(df["date"].tolist(), pa.date32()))
    return df


def _parts(stage: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted((stage / "events").rglob("*.parquet"))}


def test_part_files_are_the_same_for_any_column_storage(tmp_path: Path) -> None:
    assert write_parts(tmp_path / "plain", "r", "t", _frame(categorical=False)) == 2
    assert write_parts(tmp_path / "cat", "r", "t", _frame(categorical=True)) == 2
    plain, cat = _parts(tmp_path / "plain"), _parts(tmp_path / "cat")
    assert list(plain) == [f"date={DAY1}", f"date={DAY2}"]
    assert plain == cat


def test_a_part_file_holds_its_rows_and_just_their_dictionary_entries(tmp_path: Path) -> None:
    write_parts(tmp_path, "r", "t", _frame(categorical=True))
    day1 = pq.read_table(tmp_path / "events" / f"date={DAY1}" / "part-r-t.parquet")
    assert day1.column("line").to_pylist() == [1, 3, 4]
    host = day1.column("host").chunk(0)
    assert host.dictionary.to_pylist() == ["b.example", "a.example"]  # in the order the rows use them
    assert host.to_pylist() == ["b.example", "a.example", "b.example"]
    assert day1.column("causes").to_pylist() == [["expired"], ["audience_mismatch", "expired"], []]


def test_first_use_is_what_dictionary_encode_gives() -> None:
    rng = random.Random(7)
    for _ in range(500):
        size = rng.randint(0, 5)
        names = [f"v{i}" for i in range(size)]
        values = [rng.choice([None, *names]) for _ in range(rng.randint(0, 10))]
        order = rng.sample(names, size)  # a dictionary in any order, maybe with entries no row uses
        indices = pa.array([None if v is None else order.index(v) for v in values], pa.int32())
        got = _first_use(pa.DictionaryArray.from_arrays(indices, pa.array(order, pa.string())))
        want = pa.array(values, pa.string()).dictionary_encode()
        assert got.dictionary.equals(want.dictionary)
        assert got.indices.equals(want.indices.cast(pa.int32()))


@pytest.mark.whole_run
def test_status_reads_back_as_a_nullable_integer(tmp_path: Path) -> None:
    """`status` is an integer column: pandas reads 401, not 401.0, and a line without one as <NA>."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    tok = "eyJhbGciOiJub25lIn0.eyJleHAiOjF9."
    log = tmp_path / "a.log"
    log.write_text(f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /x HTTP/1.1" 401 5 "-" "ua" "Bearer {tok}"\n'
                   f'2024-10-10T13:55:37Z app: calling with Bearer {tok}\n')
    res = CliRunner().invoke(app, ["scan", str(log), "--out", str(tmp_path / "out"), "--quiet", "--offline"])
    assert res.exit_code == 0, res.output
    ev = pd.read_parquet(tmp_path / "out" / "events")
    assert str(ev["status"].dtype) == "Int32"
    assert 401 in ev["status"].tolist() and ev["status"].isna().any()


def test_date_partitions_are_the_dated_folders_oldest_first(tmp_path) -> None:
    """Every reader of the events dataset and the retention list partitions through one function, which
    skips what is no `date=YYYY-MM-DD` folder (another tool's leftovers, stray files)."""
    import datetime

    from analyzer.outputs.write import date_partitions

    events = tmp_path / "events"
    assert date_partitions(events) == []
    for name in ("date=2024-05-02", "date=2024-05-01", "date=None", "other"):
        (events / name).mkdir(parents=True)
    (events / "date=2024-05-03").write_text("a file, not a folder")
    assert date_partitions(events) == [(datetime.date(2024, 5, 1), events / "date=2024-05-01"),
                                       (datetime.date(2024, 5, 2), events / "date=2024-05-02")]


def test_part_files_keep_statistics_of_the_columns_queries_filter_on(tmp_path: Path) -> None:
    from analyzer import schema as S

    write_parts(tmp_path, "r", "t", _frame(categorical=True))
    meta = pq.ParquetFile(tmp_path / "events" / f"date={DAY1}" / "part-r-t.parquet").metadata.row_group(0)
    stats = {meta.column(i).path_in_schema: meta.column(i).statistics for i in range(meta.num_columns)}
    assert stats["line"] is not None and (stats["line"].min, stats["line"].max) == (1, 4)
    assert stats["host"] is not None and stats["host"].has_min_max and stats["cause"] is not None
    assert stats["path"] is None  # nearly unique: its statistics could not skip a row group
    assert {"ts", "cause", "host", "client_id"} <= set(S.EVENT_STATISTICS) <= set(S.EVENT_COLUMNS)


def test_the_parents_batches_go_to_one_part_file_per_date(tmp_path: Path) -> None:
    """Rows the parent writes (remote workers', held-back ones) are appended, a row group per batch, to
    one file per date, complete and named when the events are published."""
    from analyzer.outputs.write import OutputDir

    out = OutputDir(tmp_path / "out", "r")
    out.write_events(_frame(categorical=True))
    out.write_events(_frame(categorical=False))
    assert out.publish_events() == 2
    path = out.events / f"date={DAY1}" / "part-r-p00001.parquet"
    assert path.stat().st_mode & 0o777 == 0o640  # like every output: no world read bit
    day1 = pq.ParquetFile(path)
    assert day1.metadata.num_row_groups == 2
    assert day1.read().column("line").to_pylist() == [1, 3, 4, 1, 3, 4]


def test_a_rebuild_keeps_each_records_rows_row_group_by_row_group(tmp_path: Path) -> None:
    """Kept rows are read a row group at a time (a part file holds a whole task's rows), into a file per
    record whose rows are in the order the dataset had them."""
    from analyzer.outputs.state import Read
    from analyzer.outputs.write import OutputDir

    first = OutputDir(tmp_path / "out", "r1")
    for n in range(3):  # one file per date, of three row groups
        df = _frame(categorical=bool(n % 2))
        df["source"] = ["a.log", "b.log", "a.log", "b.log", "a.log"]
        df["line"] += 10 * n
        first.write_events(df)
    first.publish_events()
    first.abandon()
    again = OutputDir(tmp_path / "out", "r2")
    assert again.keep_events([Read(1, "a.log", 1, 13, "r1"), Read(2, "b.log", 0, 99, "r1")]) == 11
    again.publish_events()
    day1 = {p.name: pq.ParquetFile(p) for p in (again.events / f"date={DAY1}").glob("part-r2-*.parquet")}
    assert sorted(day1) == ["part-r2-k1_00001.parquet", "part-r2-k2_00002.parquet"]
    a, b = day1["part-r2-k1_00001.parquet"], day1["part-r2-k2_00002.parquet"]
    assert a.read().column("line").to_pylist() == [1, 3, 11, 13] and a.metadata.num_row_groups == 2
    assert b.read().column("line").to_pylist() == [4, 14, 24] and b.metadata.num_row_groups == 3
    assert b.read().column("host").to_pylist() == ["b.example"] * 3


@pytest.mark.parametrize("layout", ["in order", "interleaved", "years apart"])
def test_each_dates_rows_are_written_as_if_alone(tmp_path: Path, layout: str) -> None:
    """A batch's rows are split by date however they lie (dates in order, mixed, or too far apart to
    count by day): each date's file holds what writing its rows alone gives, and every dictionary is
    its values' `dictionary_encode` (the entries they use, in the order they first use them)."""
    rng = random.Random(layout)
    days = [DAY1, DAY2, dt.date(2026, 11, 23)] if layout != "years apart" else [DAY1, dt.date(1970, 1, 2)]
    n = 400
    names = [f"v{i}" for i in range(9)]
    values = {c: [rng.choice([None, *names[:k]]) for _ in range(n)] for c, k in (("host", 9), ("cause", 3),
                                                                                ("path", 9), ("alg", 1))}
    dates = [rng.choice(days) for _ in range(n)]
    if layout == "in order":
        dates.sort()
    df = pd.DataFrame({"line": range(n), "date": pd.arrays.ArrowExtensionArray(pa.array(dates, pa.date32())),
                       "path": pd.Series(values["path"], dtype=object)})
    for c in ("host", "cause", "alg"):
        cats = [v for v in names if v in values[c]] + ["unused"]
        df[c] = pd.Categorical(values[c], categories=rng.sample(cats, len(cats)))
    write_parts(tmp_path / "all", "r", "t", df)
    for day in sorted(set(dates)):
        alone = df[[d == day for d in dates]].reset_index(drop=True)
        for c in ("host", "cause", "path", "alg"):
            alone[c] = pd.Series(alone[c].astype(object).tolist(), dtype=object)  # plain strings: hashed anew
        write_parts(tmp_path / str(day), "r", "t", alone)
        name = f"date={day}/part-r-t.parquet"
        got = pq.read_table(tmp_path / "all" / "events" / name)
        assert got.equals(pq.read_table(tmp_path / str(day) / "events" / name))
        assert got.column("line").to_pylist() == [i for i, d in enumerate(dates) if d == day]
        for c in ("host", "cause", "path", "alg"):
            col = got.column(c).chunk(0)
            want = pa.array(col.to_pylist(), pa.string()).dictionary_encode()
            assert col.dictionary.equals(want.dictionary) and col.indices.equals(want.indices)


def test_rising_and_nearly_unique_columns_are_written_without_a_parquet_dictionary(tmp_path: Path) -> None:
    """`ts` and `line` as deltas, `seconds_past_exp` by its bytes, `path` and `client_ip` plain (a dictionary
    would only be larger and slower to write); they read back as they were, missing values included."""
    df = _frame(categorical=True)
    times = ["2026-11-20T00:00:01Z", None, "2026-11-20T00:00:03.000004Z", None, "2026-11-21T10:00:00Z"]
    df["ts"] = pd.Series(pd.to_datetime(times, utc=True, format="ISO8601")).astype("datetime64[us, UTC]")
    df["seconds_past_exp"] = [1.5, float("nan"), -3.25, 0.0, 7.0]
    write_parts(tmp_path, "r", "t", df)
    path = tmp_path / "events" / f"date={DAY1}" / "part-r-t.parquet"
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in encodings["ts"] and "DELTA_BINARY_PACKED" in encodings["line"]
    assert "BYTE_STREAM_SPLIT" in encodings["seconds_past_exp"]
    for name in ("path", "client_ip"):  # nearly a value per row: plain strings, no Parquet dictionary
        assert not {"RLE_DICTIONARY", "PLAIN_DICTIONARY"} & set(encodings[name]), name
    assert "RLE_DICTIONARY" in encodings["host"]  # a column whose values repeat keeps its dictionary
    got = pq.read_table(path)
    assert got.column("ts").to_pylist() == [df["ts"][0].to_pydatetime(), df["ts"][2].to_pydatetime(), None]
    assert got.column("seconds_past_exp").to_pylist() == [1.5, -3.25, 0.0]
    assert pa.types.is_dictionary(got.column("path").type)  # typed as the schema says, values as written
    assert got.column("path").to_pylist() == ["/x", None, "/x"]  # the rows of DAY1
