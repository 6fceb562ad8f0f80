"""Aggregate: a run's counts and examples as batches pass, and the summary from the events dataset.

The summary is folded one date partition at a time, so memory grows with the number of distinct
groups and tokens of one day, never with the number of occurrences.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from analyzer import schema as S

EXAMPLES_PER_CAUSE = 3
EXAMPLE_COLUMNS = ("ts", "source", "line", "format", "location", "host", "method", "path", "status", "client_id",
                   "audience", "issuer", "token_fp", "token_kind", "detail")


class Aggregator:
    """Counts a run's occurrences by cause and keeps a few example occurrences per cause.

    The summary itself is built from the events dataset (`summarize_dataset`), so that it covers
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
        for cause, n in ev["cause"].value_counts().items():
            self._causes[str(cause)] = self._causes.get(str(cause), 0) + int(n)
        if all(len(self.examples.get(c, ())) >= EXAMPLES_PER_CAUSE for c in self._causes):
            return
        firsts = ev.drop_duplicates(["cause", "token_fp"]).groupby("cause", observed=True, sort=False).head(
            EXAMPLES_PER_CAUSE)
        for rec in firsts[[c for c in EXAMPLE_COLUMNS if c in ev.columns] + ["cause"]].to_dict("records"):
            have = self.examples.setdefault(str(rec["cause"]), [])
            if len(have) < EXAMPLES_PER_CAUSE and all(e["token_fp"] != rec["token_fp"] for e in have):
                have.append({k: _plain(rec.get(k)) for k in EXAMPLE_COLUMNS})

    def merge(self, other: Aggregator) -> None:
        """Fold in an aggregator of later rows (a worker's, of one unit): the same as adding its rows here.

        The first examples of a cause over all rows are among the first examples of the first part
        that has them, so merging parts in order keeps the same examples.
        """
        self._rows += other._rows
        for cause, n in other._causes.items():
            self._causes[cause] = self._causes.get(cause, 0) + n
        for cause, more in other.examples.items():
            have = self.examples.setdefault(cause, [])
            for e in more:
                if len(have) < EXAMPLES_PER_CAUSE and all(h["token_fp"] != e["token_fp"] for h in have):
                    have.append(e)

    def cause_counts(self) -> dict[str, int]:
        """Occurrences per cause folded in so far."""
        return dict(self._causes)

    @property
    def rows(self) -> int:
        """Occurrences folded in so far."""
        return self._rows


def _plain(value: Any) -> Any:
    """A missing value of any kind (NaN of a categorical, NA, NaT) as None: examples.json is plain JSON."""
    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


SUMMARY_READ = ["ts", "host", "client_id", "audience", "issuer", "cause", "token_fp"]


def iter_event_frames(events_dir: Any, columns: list[str], since_us: int | None = None,
                      until_us: int | None = None, rows: int = 1 << 16) -> Iterator[pd.DataFrame]:
    """The events dataset as small pandas frames, file by file (with `date` from the partition).

    Plain per-file reads keep memory flat; a dataset scanner reads ahead across files and
    buffers far more than one batch.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not events_dir.is_dir():
        return
    for d in sorted(p for p in events_dir.iterdir() if p.is_dir() and p.name.startswith("date=")):
        day = pd.Timestamp(d.name[5:]).date()
        for path in sorted(d.glob("*.parquet")):
            # Neither pre-buffering nor reader threads: they allocate from Arrow's built-in pool
            # (mimalloc, which `engine.use_memory_pool` cannot replace and which keeps what it
            # freed), so the process grew with every file read.
            pf = pq.ParquetFile(path, pre_buffer=False)
            have = [c for c in columns if c != "date" and c in pf.schema_arrow.names]
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
                df = batch.to_pandas()
                if "date" in columns:
                    df["date"] = day
                yield df


def summarize_dataset(events_dir: Any, since_us: int | None = None, until_us: int | None = None) -> pd.DataFrame:
    """The contract's summary over the whole events dataset (or a time window).

    Read batch by batch: each batch is reduced to one row per (group, token) at once, and those
    partials are folded as they come, so memory is bounded by the number of distinct groups and
    tokens, whatever the number of occurrences.
    """
    cols = [*S.SUMMARY_KEYS, "occurrences", "unique_tokens", "first_seen", "last_seen"]
    keys = [*S.SUMMARY_KEYS, "token_fp"]
    parts: list[pd.DataFrame] = []
    for df in iter_event_frames(events_dir, [*SUMMARY_READ, "date"], since_us, until_us):
        parts.append(df.groupby(keys, dropna=False, observed=True, sort=False)["ts"]
                     .agg(occurrences="size", first_seen="min", last_seen="max").reset_index())
        if len(parts) >= 16:
            parts = [_fold_partials(parts, keys)]
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    per_token = _fold_partials(parts, keys)
    out = (per_token.groupby(list(S.SUMMARY_KEYS), dropna=False, observed=True)
           .agg(occurrences=("occurrences", "sum"), unique_tokens=("token_fp", "nunique"),
                first_seen=("first_seen", "min"), last_seen=("last_seen", "max")).reset_index())
    return out.sort_values(["date", "occurrences"], ascending=[True, False], ignore_index=True)[cols]


def _fold_partials(parts: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Per-(group, token) partials of several batches as one."""
    df = pd.concat(parts, ignore_index=True)
    for k in keys:
        if df[k].dtype == object or str(df[k].dtype) in ("str", "string"):
            df[k] = df[k].astype("category")
    return (df.groupby(keys, dropna=False, observed=True, sort=False)
            .agg(occurrences=("occurrences", "sum"), first_seen=("first_seen", "min"),
                 last_seen=("last_seen", "max")).reset_index())
