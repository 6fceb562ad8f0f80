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
        self.examples: dict[str, list[dict[str, Any]]] = {}

    def add(self, ev: pd.DataFrame) -> None:
        """Fold in one classified batch."""
        if ev.empty:
            return
        self._rows += len(ev)
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

    @property
    def rows(self) -> int:
        """Occurrences folded in so far."""
        return self._rows
