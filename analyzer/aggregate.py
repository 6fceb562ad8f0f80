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
    """The contract's summary over the whole events dataset (or a time window), one date at a time.

    Summing partition by partition keeps memory bounded by one day's occurrences, whatever the
    dataset's size; `date` is part of every group, so no group spans two partitions.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cols = [*S.SUMMARY_KEYS, "occurrences", "unique_tokens", "first_seen", "last_seen"]
    parts = []
    for d in sorted(p for p in events_dir.iterdir() if p.is_dir() and p.name.startswith("date=")) \
            if events_dir.is_dir() else []:
        files = sorted(d.glob("*.parquet"))
        if not files:
            continue
        table = pq.ParquetDataset(files).read(columns=SUMMARY_READ)
        if since_us is not None or until_us is not None:
            ts = pc.cast(table["ts"], "int64")
            keep = pc.is_valid(ts)
            if since_us is not None:
                keep = pc.and_(keep, pc.greater_equal(ts, since_us))
            if until_us is not None:
                keep = pc.and_(keep, pc.less(ts, until_us))
            table = table.filter(keep)
        if table.num_rows == 0:
            continue
        df = table.to_pandas()
        df.insert(0, "date", pd.Timestamp(d.name[5:]).date())
        g = (df.groupby(list(S.SUMMARY_KEYS), dropna=False, observed=True)
             .agg(occurrences=("token_fp", "size"), unique_tokens=("token_fp", "nunique"),
                  first_seen=("ts", "min"), last_seen=("ts", "max")).reset_index())
        parts.append(g)
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["date", "occurrences"], ascending=[True, False], ignore_index=True)[cols]
