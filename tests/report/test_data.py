"""The report's and the summary's folds over the events dataset, against plain pandas over the same rows.

Arrow's hash grouping does not keep groups in the order of their first row, and part files carry
dictionaries of their own; these tests make a dataset of many small part files where both matter.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from analyzer import schema as S
from analyzer.outputs import aggregate
from analyzer.report import data as D

DAYS = ["2026-11-19", "2026-11-20"]


def _dataset(root: Path, seed: int = 5, files: int = 12, rows: int = 400) -> pd.DataFrame:
    """Part files of random events (missing values in every key); all their rows, in dataset order."""
    rng = np.random.default_rng(seed)

    def pick(values: list[str | None], n: int) -> list[str | None]:
        return [values[i] for i in rng.integers(0, len(values), n)]

    written = []
    for day in DAYS:
        folder = root / "events" / f"date={day}"
        folder.mkdir(parents=True)
        start = pd.Timestamp(day, tz="UTC").value // 1000
        for f in range(files):
            ts = start + np.sort(rng.integers(0, 86_400_000_000, rows))
            frame = pd.DataFrame({
                "ts": pd.to_datetime(ts, unit="us", utc=True).where(rng.random(rows) > 0.05),
                "token_fp": pick([f"{i:016x}" for i in range(60)] + [None], rows),
                "cause": pick(["ok", "expired", S.AUDIENCE_MISMATCH, None], rows),
                "client_id": pick(["c1", "c2", "c3", None], rows),
                "audience": pick(["api://a", "api://b", None], rows),
                "host": pick(["h1", "h2", None], rows),
                "api": pick(["orders", None], rows),
                "issuer": pick(["https://i/v2.0", None], rows),
                "tenant_id": pick(["t1", None], rows),
            })
            table = pa.Table.from_pandas(frame, preserve_index=False)
            # Each file's own dictionaries, in the order its rows use them, as the writer makes them.
            table = pa.table({c: (table[c].combine_chunks().dictionary_encode() if c != "ts" else table[c])
                              for c in table.column_names})
            pq.write_table(table, folder / f"part-r-{f:03d}.parquet")
            written.append(frame.assign(date=day))
    return pd.concat(written, ignore_index=True)


@pytest.fixture
def small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables of 300 rows and a fold every 3 tables: many partials, folded several times."""
    monkeypatch.setattr(D, "iter_event_tables", functools.partial(aggregate.iter_event_tables, rows=300))
    monkeypatch.setattr(D, "_FOLD_EVERY", 3)
    monkeypatch.setattr(aggregate, "SUMMARY_ROWS", 300)
    monkeypatch.setattr(aggregate, "_FOLD_EVERY", 3)


def _plain(values: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in values]


@pytest.mark.usefixtures("small_tables")
@pytest.mark.parametrize("shard_rows", [None, 64], ids=["whole", "sharded"])
def test_the_cube_and_tokens_match_pandas_over_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        shard_rows: int | None) -> None:
    if shard_rows is not None:  # the distinct tokens grouped in shards of their token, as a large report's are
        monkeypatch.setattr(D, "_SHARD_ROWS", shard_rows)
    rows = _dataset(tmp_path)
    scan = D._scan_events(tmp_path, None, None)

    keys = ["period", *D.DIMENSIONS, "cause"]
    want = (rows.assign(period=rows["ts"].dt.floor("h"))
            .groupby(keys, dropna=False, sort=False)["ts"]
            .agg(occurrences="size", first_seen="min", last_seen="max").reset_index())
    got = scan.cube
    assert len(got) == len(want)
    for col in keys:  # the groups in the order of their first row
        assert _plain(got[col].astype(object)) == _plain(want[col].astype(object)), col
    assert got["occurrences"].tolist() == want["occurrences"].tolist()
    assert _plain(got["first_seen"]) == _plain(want["first_seen"])
    assert _plain(got["last_seen"]) == _plain(want["last_seen"])
    for col in (*D.DIMENSIONS, "cause"):
        assert list(got[col].cat.categories) == sorted(rows[col].dropna().unique())

    with_token = rows[rows["token_fp"].notna()]
    assert scan.unique_tokens == with_token["token_fp"].nunique()
    for dim in ("client_id", "audience"):
        per = with_token.groupby(dim, dropna=False, sort=False)["token_fp"].nunique()
        assert _plain(scan.unique_by[dim].index.to_series()) == _plain(per.index.to_series()), dim
        assert scan.unique_by[dim].tolist() == per.tolist(), dim

    firsts: set[str] = set()
    for dim in ("client_id", "audience"):
        distinct = rows[[dim, "cause", "token_fp"]].drop_duplicates()
        head = distinct.groupby([dim, "cause"], dropna=False, sort=False).head(S.EXAMPLES_PER_CAUSE)
        firsts |= {fp for fp in head["token_fp"] if isinstance(fp, str)}
    assert scan.sample_tokens == set(aggregate.token_ids(firsts).tolist())


@pytest.mark.usefixtures("small_tables")
def test_the_sample_holds_the_first_row_of_each_token_and_cause(tmp_path: Path) -> None:
    rows = _dataset(tmp_path, seed=9)
    fps = {f"{i:016x}" for i in (1, 7, 30)}
    sample = D._sample_events(tmp_path, set(aggregate.token_ids(fps).tolist()))
    chosen = rows[rows["token_fp"].isin(fps)]
    # Dataset order is day, then part file, then row: the order the rows were written in.
    want = chosen.drop_duplicates(["token_fp", "cause"])
    assert list(zip(sample["token_fp"], _plain(sample["cause"]), strict=True)) == list(
        zip(want["token_fp"], _plain(want["cause"]), strict=True))
    assert _plain(sample["client_id"]) == _plain(want["client_id"])


@pytest.mark.usefixtures("small_tables")
def test_the_summary_matches_pandas_over_the_rows(tmp_path: Path) -> None:
    rows = _dataset(tmp_path, seed=11)
    got = aggregate.summarize_dataset(tmp_path / "events")
    group = ["date", "host", "client_id", "audience", "issuer", "cause"]
    want = (rows.groupby(group, dropna=False, sort=False)
            .agg(occurrences=("ts", "size"), unique_tokens=("token_fp", "nunique"),
                 first_seen=("ts", "min"), last_seen=("ts", "max")).reset_index())
    want["date"] = [pd.Timestamp(d).date() for d in want["date"]]
    want = want.sort_values(["date", "occurrences", *group[1:]], ascending=[True, False, *[True] * 5],
                            na_position="last", kind="stable", ignore_index=True)
    assert len(got) == len(want)
    for col in want.columns:
        assert _plain(got[col].astype(object)) == _plain(want[col].astype(object)), col


def test_periods_are_floored_as_arrow_floors_utc_times() -> None:
    """The cube's hours and days on integers are `floor_temporal`'s, before 1970 and with missing times too."""
    rng = np.random.default_rng(1)
    us = rng.integers(-10**17, 10**17, 20_000)
    ts = pa.chunked_array([pa.array(us, pa.timestamp("us", tz="UTC"), mask=rng.random(len(us)) < 0.1),
                           pa.array(us[:5], pa.timestamp("us", tz="UTC"))])
    for grain, unit in (("h", "hour"), ("D", "day")):
        assert D._floor(ts, D._PERIOD_US[grain]).equals(pc.floor_temporal(ts, unit=unit).combine_chunks())
