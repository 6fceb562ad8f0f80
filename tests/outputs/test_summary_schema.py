"""summary.parquet: the exact, versioned Arrow schema, read back with pyarrow and pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import report_corpus as C

from analyzer import schema as S

pytestmark = pytest.mark.whole_run  # every test here runs a whole scan

_DICT = pa.dictionary(pa.int32(), pa.string())
EXPECTED = pa.schema([
    ("date", pa.date32()), ("host", _DICT), ("client_id", _DICT), ("audience", _DICT), ("issuer", _DICT),
    ("cause", _DICT), ("occurrences", pa.int64()), ("unique_tokens", pa.int64()),
    ("first_seen", pa.timestamp("us", tz="UTC")), ("last_seen", pa.timestamp("us", tz="UTC")),
])


@pytest.fixture(scope="module")
def summary_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """summary.parquet of one scan of the report corpus."""
    return C.scan(tmp_path_factory.mktemp("corpus"), runs=1) / "summary.parquet"


def test_exact_arrow_schema(summary_path: Path) -> None:
    """Types are stable: date32, dictionary strings, int64 counts, UTC microsecond timestamps."""
    schema = pq.read_schema(summary_path)
    assert schema.remove_metadata().equals(EXPECTED)
    assert schema.metadata[b"analyzer.schema_version"] == str(S.SCHEMA_VERSION).encode()
    assert S.SUMMARY_SCHEMA.remove_metadata().equals(EXPECTED)


def test_read_back_with_pandas(summary_path: Path) -> None:
    """pandas sees categoricals, int64 counts and UTC timestamps; counts add up to the events."""
    df = pd.read_parquet(summary_path)
    assert list(df.columns) == EXPECTED.names
    assert all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in ("host", "client_id", "cause"))
    assert str(df["occurrences"].dtype) == "int64"
    assert str(df["first_seen"].dtype) == "datetime64[us, UTC]"
    events = pd.read_parquet(summary_path.parent / "events", columns=["cause"])
    assert int(df["occurrences"].sum()) == len(events)
    table = pq.read_table(summary_path)
    assert table.column("date").type == pa.date32()


def test_written_day_by_day_in_the_contract_order(tmp_path: Path) -> None:
    """One row group per day (the summary is never whole in memory), rows by date, then most
    occurrences first: the same as the whole summary folded and sorted at once."""
    from conftest import ROOT

    from analyzer.config import build_settings
    from analyzer.outputs.aggregate import summarize_dataset
    from analyzer.run import run

    lines = (ROOT / "sample_logs" / "nginx" / "orders-access.log").read_bytes().splitlines(keepends=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    third = len(lines) // 3
    (logs / "access.log").write_bytes(b"".join(
        line.replace(b"/Nov/2026:", b"/Nov/2026:" if n >= 2 * third else
                     (b"/Oct/2026:" if n < third else b"/Sep/2026:")) for n, line in enumerate(lines)))
    out = tmp_path / "out"
    run(build_settings(ROOT / "sample_logs" / "analyzer.toml", [str(logs)], out_dir=out, workers=1), [str(logs)])
    path = out / "summary.parquet"
    df = pd.read_parquet(path)
    assert df["date"].nunique() == 3 and pq.ParquetFile(path).metadata.num_row_groups == 3
    key = list(zip(df["date"].astype(str), -df["occurrences"], strict=True))
    assert key == sorted(key)
    whole = summarize_dataset(out / "events")
    pd.testing.assert_frame_equal(df.astype(str), whole[df.columns].astype(str))
