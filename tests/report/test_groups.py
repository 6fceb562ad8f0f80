"""The cube's groups summed on codes give what pandas' groupby gives: the same values in the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyzer import schema as S
from analyzer.report import groups
from analyzer.report.data import DIMENSIONS, build_cube


def _cube(seed: int, rows: int = 3000) -> pd.DataFrame:
    """A cube of random events with missing values in every key and time."""
    rng = np.random.default_rng(seed)

    def pick(values: list[str | None]) -> list[str | None]:
        return [values[i] for i in rng.integers(0, len(values), rows)]

    start = pd.Timestamp("2026-11-20", tz="UTC").value // 1000
    ts = pd.to_datetime(start + rng.integers(0, 3 * 86_400_000_000, rows), unit="us", utc=True)
    events = pd.DataFrame({
        "ts": ts.where(rng.random(rows) > 0.05),
        "cause": pick([S.OK, S.EXPIRED, S.AUDIENCE_MISMATCH, S.MALFORMED, None]),
        **{d: pick([f"{d}-{i}" for i in range(int(rng.integers(1, 6)))] + [None]) for d in DIMENSIONS},
    })
    return build_cube(events)


def _same(a: object, b: object) -> bool:
    """Equal group values (missing equals missing), tuples item by item."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(pd.isna(a) and pd.isna(b)) if pd.isna(a) or pd.isna(b) else a == b


@pytest.mark.parametrize("seed", range(5))
def test_codes_give_what_groupby_gives(seed: int) -> None:
    cube = _cube(seed)
    keys = [*DIMENSIONS, "cause"]
    flat = groups.without_period(cube)
    want = cube.groupby(keys, observed=True, dropna=False).agg(
        occurrences=("occurrences", "sum"), first_seen=("first_seen", "min"), last_seen=("last_seen", "max")
    ).reset_index()
    pd.testing.assert_frame_equal(flat, want)

    for by in (["client_id"], ["client_id", "cause"], ["client_id", "host", "audience", "issuer", "tenant_id"]):
        got, exp = groups.group_sums(flat, by), flat.groupby(by, observed=True, dropna=False)["occurrences"].sum()
        assert got.tolist() == exp.tolist()
        assert all(_same(g, e) for g, e in zip(got.index, exp.index, strict=True))
        assert got.sort_values(ascending=False).tolist() == exp.sort_values(ascending=False).tolist()

    failing = flat.assign(failing=flat["occurrences"].where((flat["cause"] != S.OK).to_numpy(), 0))
    for dim in ("client_id", "tenant_id"):
        got = groups.per_owner(flat, dim)
        exp = failing.groupby(dim, observed=True, dropna=False).agg(
            total=("occurrences", "sum"), failing=("failing", "sum"), last=("last_seen", "max"))
        assert got["total"].tolist() == exp["total"].tolist() and got["failing"].tolist() == exp["failing"].tolist()
        assert [str(t) for t in got["last"]] == [str(t) for t in exp["last"]]
        assert all(_same(g, e) for g, e in zip(got.index, exp.index, strict=True))
