"""Writers: the only code that creates output files.

Everything is first written under a temporary name and then renamed into place, so a crash
leaves the previous good output readable. Files are created without world read permission.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

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
            values = col.astype("object").where(col.notna(), None).tolist()
            arr = pa.array(values, type=pa.string()).dictionary_encode()
            arrays.append(arr.cast(f.type))
        elif pa.types.is_timestamp(f.type):
            arrays.append(pa.array(pd.to_datetime(col, utc=True), type=f.type, from_pandas=True))
        elif pa.types.is_list(f.type):
            arrays.append(pa.array(col.tolist(), type=f.type))
        else:
            arrays.append(pa.array(col.tolist() if col.dtype == object else col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _secure(path: Path) -> None:
    try:
        os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
    except OSError:
        pass


class OutputDir:
    """A staging area inside the output directory, published with renames at the end."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        _secure(self.stage)
        self._parts = 0
        self.event_schema = pa.schema([f for f in S.EVENT_FIELDS], metadata=S.EVENT_SCHEMA.metadata)

    def write_events(self, ev: pd.DataFrame) -> None:
        """Append one classified batch to the staged events dataset, one file per date."""
        if ev.empty:
            return
        self._parts += 1
        for date, group in ev.groupby("date", sort=True):
            d = self.stage / "events" / f"date={date}"
            d.mkdir(parents=True, exist_ok=True)
            path = d / f"part-{self._parts:05d}.parquet"
            pq.write_table(to_table(group, self.event_schema), path, compression="zstd")
            _secure(path)

    def write_parquet(self, name: str, df: pd.DataFrame, schema: pa.Schema) -> None:
        """Stage one Parquet file."""
        path = self.stage / name
        pq.write_table(to_table(df, schema), path, compression="zstd")
        _secure(path)

    def write_text(self, name: str, text: str) -> None:
        """Stage one text file."""
        path = self.stage / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)

    def write_json(self, name: str, data: Any) -> None:
        """Stage one JSON file."""
        self.write_text(name, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")

    def publish(self) -> None:
        """Move the staged outputs into place, replacing the previous run's."""
        (self.stage / "events").mkdir(exist_ok=True)
        for d in (self.stage / "events").rglob("*"):
            _secure(d)
        _secure(self.stage / "events")
        for item in sorted(self.stage.iterdir(), key=lambda p: p.name == "run.json"):
            target = self.out / item.name
            if item.is_dir():
                old = None
                if target.exists():
                    old = self.out / f".old-{item.name}-{os.getpid()}"
                    target.rename(old)
                item.rename(target)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(item, target)
        shutil.rmtree(self.stage, ignore_errors=True)

    def abandon(self) -> None:
        """Drop the staging area (after an error)."""
        shutil.rmtree(self.stage, ignore_errors=True)
