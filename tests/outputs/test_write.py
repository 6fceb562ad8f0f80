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
