"""Aggregate: a run's counts and examples as batches pass, and the summary from the events dataset.

The summary is folded one date partition at a time, so memory grows with the number of distinct
groups and tokens of one day, never with the number of occurrences.
"""

from __future__ import annotations

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
                have.append({k: rec.get(k) for k in EXAMPLE_COLUMNS})

    def cause_counts(self) -> dict[str, int]:
        """Occurrences per cause folded in so far."""
        return dict(self._causes)

    @property
    def rows(self) -> int:
        """Occurrences folded in so far."""
        return self._rows


SUMMARY_READ = ["ts", "host", "client_id", "audience", "issuer", "cause", "token_fp"]


def summarize_dataset(events_dir: Any, since_us: int | None = None, until_us: int | None = None) -> pd.DataFrame:
    """The contract's summary over the whole events dataset (or a time window).

    Read record batch by record batch: each batch is reduced to one row per (group, token) at
    once, and those partials are folded as they come, so memory is bounded by the number of
    distinct groups and tokens, whatever the number of occurrences.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    cols = [*S.SUMMARY_KEYS, "occurrences", "unique_tokens", "first_seen", "last_seen"]
    if not events_dir.is_dir() or not any(events_dir.glob("date=*/*.parquet")):
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    dataset = ds.dataset(events_dir, format="parquet", partitioning=ds.partitioning(S.PARTITION_SCHEMA,
                                                                                     flavor="hive"))
    flt = None
    ts_type = pa.timestamp("us", tz="UTC")
    if since_us is not None:
        flt = ds.field("ts") >= pa.scalar(since_us, ts_type)
    if until_us is not None:
        upper = ds.field("ts") < pa.scalar(until_us, ts_type)
        flt = upper if flt is None else flt & upper
    keys = [*S.SUMMARY_KEYS, "token_fp"]
    parts: list[pd.DataFrame] = []
    for batch in dataset.to_batches(columns=[*SUMMARY_READ, "date"], filter=flt, batch_size=1 << 19):
        if batch.num_rows == 0:
            continue
        df = batch.to_pandas()
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
