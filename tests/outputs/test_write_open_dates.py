"""write.PartWriter keeps at most OPEN_DATES date files open; a date met again continues in another file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analyzer.outputs import write
from analyzer.outputs.write import OPEN_DATES, PartWriter

START = dt.date(2026, 10, 1)


def _day(n: int, lines: range) -> pd.DataFrame:
    """Event rows of day `n` after START (just a line number and the date)."""
    return pd.DataFrame({"line": list(lines), "date": [START + dt.timedelta(days=n)] * len(lines)})


def _files(stage: Path) -> list[str]:
    return sorted(str(p.relative_to(stage / "events")) for p in (stage / "events").rglob("*.parquet"))


def test_a_month_of_dates_never_keeps_more_than_open_dates_files_open(tmp_path: Path) -> None:
    parts = PartWriter(tmp_path, "r", "t")
    for n in range(33):  # a task over a month of a quiet log: a date every few batches
        parts.write(_day(n, range(10 * n, 10 * n + 10)))
        assert len(parts._open) <= OPEN_DATES
    assert parts.close() == 33
    assert _files(tmp_path) == [f"date={START + dt.timedelta(days=n)}/part-r-t.parquet" for n in range(33)]
    assert not list(tmp_path.rglob(".*.tmp"))  # every file completed under its own name


def test_a_date_met_again_after_it_was_completed_continues_in_a_file_that_sorts_after_it(tmp_path: Path) -> None:
    parts = PartWriter(tmp_path, "r", "t")
    parts.write(_day(0, range(0, 3)))
    for n in range(1, OPEN_DATES + 1):  # day 0 is written least recently: completed to make room
        parts.write(_day(n, range(10 * n, 10 * n + 2)))
    parts.write(_day(0, range(3, 5)))  # a line out of order, or the next file of a bundle
    parts.write(_day(0, range(5, 6)))  # still open: the same file
    assert parts.close() == OPEN_DATES + 2
    day0 = tmp_path / "events" / f"date={START}"
    assert [p.name for p in sorted(day0.glob("*.parquet"))] == ["part-r-t.parquet", "part-r-tb0001.parquet"]
    assert write.part_run_id("part-r-tb0001.parquet") == "r"
    lines = [v for p in sorted(day0.glob("*.parquet")) for v in pq.read_table(p).column("line").to_pylist()]
    assert lines == list(range(6))  # in name order, the date's rows in the order they came
    assert pq.ParquetFile(day0 / "part-r-tb0001.parquet").metadata.num_row_groups == 2  # a row group per batch


def test_close_completes_the_other_files_when_one_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = PartWriter(tmp_path, "r", "t")
    parts.write(pd.concat([_day(0, range(2)), _day(1, range(2, 4))], ignore_index=True))
    broken = next(iter(parts._open.values()))[0]

    def fail() -> None:
        broken.is_open = False  # nor closed again when collected
        raise OSError("disk full")

    monkeypatch.setattr(broken, "close", fail)
    with pytest.raises(OSError, match="disk full"):
        parts.close()
    assert _files(tmp_path) == [f"date={START + dt.timedelta(days=1)}/part-r-t.parquet"]
    assert not list(tmp_path.rglob(".*.tmp"))
