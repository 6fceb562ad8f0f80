"""Aggregate classified occurrences, batch by batch, into the summary and the report's numbers.

Each batch is reduced to one row per (group, token) right away, so memory grows with the number
of distinct groups and tokens, never with the number of occurrences.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analyzer import schema as S

_PARTIAL_KEYS = [*S.SUMMARY_KEYS, "token_fp"]
EXAMPLES_PER_CAUSE = 3
EXAMPLE_COLUMNS = ("ts", "source", "line", "format", "location", "host", "method", "path", "status", "client_id",
                   "audience", "issuer", "token_fp", "token_kind", "detail")


class Aggregator:
    """Collects per-batch partial aggregates and a few example occurrences per cause."""

    def __init__(self) -> None:
        self._partials: list[pd.DataFrame] = []
        self._hourly: list[pd.DataFrame] = []
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
        frame = ev[[*S.SUMMARY_KEYS, "token_fp", "ts"]]
        part = (frame.groupby(_PARTIAL_KEYS, dropna=False, observed=True, sort=False)["ts"]
                .agg(occurrences="size", first_seen="min", last_seen="max").reset_index())
        self._partials.append(part)
        hour = ev["ts"].dt.floor("h")
        self._hourly.append(ev.assign(hour=hour).groupby(["hour", "cause"], observed=True).size()
                            .rename("occurrences").reset_index())
        if len(self._partials) >= 16:
            self._partials = [self._fold(self._partials)]
        for cause, group in ev.groupby("cause", observed=True):
            have = self.examples.setdefault(str(cause), [])
            if len(have) >= EXAMPLES_PER_CAUSE:
                continue
            known = {e["token_fp"] for e in have}
            for rec in group.drop_duplicates("token_fp").head(EXAMPLES_PER_CAUSE).to_dict("records"):
                if rec["token_fp"] not in known and len(have) < EXAMPLES_PER_CAUSE:
                    have.append({k: rec.get(k) for k in EXAMPLE_COLUMNS})

    @staticmethod
    def _fold(parts: list[pd.DataFrame]) -> pd.DataFrame:
        df = pd.concat(parts, ignore_index=True)
        return (df.groupby(_PARTIAL_KEYS, dropna=False, observed=True, sort=False)
                .agg(occurrences=("occurrences", "sum"), first_seen=("first_seen", "min"),
                     last_seen=("last_seen", "max")).reset_index())

    def summary(self) -> pd.DataFrame:
        """One row per (date, host, client_id, audience, issuer, cause), as the contract says."""
        cols = [*S.SUMMARY_KEYS, "occurrences", "unique_tokens", "first_seen", "last_seen"]
        if not self._partials:
            return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
        per_token = self._fold(self._partials)
        out = (per_token.groupby(list(S.SUMMARY_KEYS), dropna=False, observed=True)
               .agg(occurrences=("occurrences", "sum"), unique_tokens=("token_fp", "nunique"),
                    first_seen=("first_seen", "min"), last_seen=("last_seen", "max")).reset_index())
        return out.sort_values(["date", "occurrences"], ascending=[True, False], ignore_index=True)[cols]

    def hourly(self) -> pd.DataFrame:
        """Occurrences per (hour, cause)."""
        if not self._hourly:
            return pd.DataFrame({"hour": [], "cause": [], "occurrences": []})
        df = pd.concat(self._hourly, ignore_index=True)
        return df.groupby(["hour", "cause"], observed=True)["occurrences"].sum().reset_index()

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
