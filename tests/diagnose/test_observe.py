"""Workers fold their rows; the parent merges the folds in unit order: the same as folding every row at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyzer import schema as S
from analyzer.diagnose import observe as diagnose
from analyzer.diagnose.diagnoser import Diagnoser
from analyzer.diagnose.learn import ExpectationLearner
from analyzer.diagnose.observe import Observations
from analyzer.outputs.aggregate import Aggregator, DistinctTokens

T0 = pd.Timestamp("2026-11-20", tz="UTC")


def classified(n: int, seed: int, tokens: int = 300) -> pd.DataFrame:
    """Rows shaped like `classify` output, with the columns the folds read."""
    rng = np.random.default_rng(seed)
    tok = rng.integers(0, tokens, n)
    cause = np.array([S.OK, S.EXPIRED, S.AUDIENCE_MISMATCH, S.BAD_SIGNATURE])[tok % 4]
    ts = T0 + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    iat = T0 + pd.to_timedelta((tok * 97) % 80_000, unit="s")
    return pd.DataFrame({
        "ts": ts,
        "source": "a.log",
        "line": np.arange(n),
        "format": "nginx",
        "location": S.LOC_AUTHORIZATION,
        "host": pd.Categorical(np.array(["a.example", "B.example", "c.example", None])[rng.integers(0, 4, n)]),
        "method": "GET",
        "path": np.array(["/v1/x", "/v2/y", None])[rng.integers(0, 3, n)],
        "status": pd.array(np.array([200, 401, 403, 500])[rng.integers(0, 4, n)], dtype="Int32"),
        "client_ip": np.array(["10.0.0.1", "10.0.0.2", None])[tok % 3],
        "token_fp": [f"{(int(t) * 0x9E3779B97F4A7C15) % 2**64:016x}" for t in tok],
        "token_kind": np.array([S.KIND_ACCESS, S.KIND_ASSERTION, S.KIND_UNKNOWN])[tok % 3],
        "client_id": np.array(["c1", "c2", None])[tok % 3],
        "audience": np.array(["api://a", "api://b"])[tok % 2],
        "issuer": "https://issuer/v2.0",
        "tenant_id": "t",
        "version": "2.0",
        "api": pd.Categorical(np.array(["orders", None])[rng.integers(0, 2, n)]),
        "cause": cause,
        "detail": "",
        "iat": iat,
        "seconds_past_exp": np.where(cause == S.EXPIRED, rng.integers(1, 200_000, n), np.nan),
        "logged_error": np.array(["IDX10223", "IDX10503 keys=0", None, None])[rng.integers(0, 4, n)],
        "signature_checked": tok % 2 == 0,
    })


def fold(batches: list[pd.DataFrame]) -> tuple[Observations, Aggregator]:
    seen, counts = Observations(300.0), Aggregator()
    for ev in batches:
        now, _, _ = Diagnoser.prepare(ev)
        counts.add(now)
        seen.learn(now)
        seen.observe(now)
    return seen, counts


def state(seen: Observations) -> tuple:
    return (list(seen.clock.items()), seen.clock_level, list(seen.clients.items()), seen.late, seen.lateness,
            list(seen.logged.items()), {k: list(v) for k, v in seen.logged_hosts.items()})


@pytest.mark.parametrize("cuts", [[1], [2, 5], [1, 2, 3, 4, 5]])
def test_merged_units_equal_one_fold(cuts: list[int]) -> None:
    batches = [classified(500, seed) for seed in range(6)]
    whole, whole_counts = fold(batches)
    learner = ExpectationLearner()
    learner.add(whole.accepted.values())
    merged, counts, merged_learner = Observations(300.0), Aggregator(), ExpectationLearner()
    for a, b in zip([0, *cuts], [*cuts, len(batches)], strict=True):
        unit, unit_counts = fold(batches[a:b])
        merged_learner.add(unit.accepted.values())
        merged.merge(unit)
        counts.merge(unit_counts)
    assert state(merged) == state(whole)
    assert merged_learner.learned == learner.learned and merged_learner.learned
    assert (counts.rows, counts.cause_counts(), counts.examples) == (
        whole_counts.rows, whole_counts.cause_counts(), whole_counts.examples)


def test_clock_sample_is_bounded_and_the_same_in_any_order(monkeypatch) -> None:
    monkeypatch.setattr(diagnose, "MAX_CLOCK_PAIRS", 100)
    batches = [classified(400, seed, tokens=2000) for seed in range(4)]
    whole, _ = fold(batches)
    backwards = Observations(300.0)
    for ev in reversed(batches):
        unit, _ = fold([ev])
        backwards.merge(unit)
    assert whole.clock_level > 0 and len(whole.clock) <= 100
    assert backwards.clock_level == whole.clock_level
    assert sorted(backwards.clock) == sorted(whole.clock)


def test_distinct_tokens_counts_each_token_once_by_kind() -> None:
    unique = DistinctTokens()
    unique.add({"00000000000000ff": "access_token", "ffffffffffffffff": "id_token", "not-a-fingerprint": "unknown"})
    unique.add({"ffffffffffffffff": "id_token", "0000000000000001": "access_token"})
    unique.add({})
    assert len(unique) == 4
    assert unique.kinds == {"access_token": 2, "id_token": 1, "unknown": 1}


def test_clients_are_folded_as_a_row_by_row_count_would_fold_them() -> None:
    """Per client key (categorical and object columns, missing values as None): rows, first and last
    failure, keys in the order of their first row."""
    rows = pd.concat([classified(700, 11), classified(300, 12)], ignore_index=True)
    rows["version"] = np.array(["2.0", None, "1.0"])[np.arange(len(rows)) % 3]
    now, _, _ = Diagnoser.prepare(rows)
    seen = Observations(300.0)
    seen.observe(now)
    want: dict[tuple, list] = {}
    for rec in now.astype({k: "object" for k in diagnose._CLIENT_KEYS}).itertuples(index=False):
        if rec.client_id is None or rec.client_id != rec.client_id:
            continue
        key = tuple(None if (v is None or v != v) else v for v in (getattr(rec, k) for k in diagnose._CLIENT_KEYS))
        have = want.setdefault(key, [0, pd.NaT, pd.NaT])
        have[0] += 1
        if rec.cause != S.OK:
            have[1] = rec.ts if pd.isna(have[1]) else min(have[1], rec.ts)
            have[2] = rec.ts if pd.isna(have[2]) else max(have[2], rec.ts)
    assert list(seen.clients) == list(want)
    assert any(None in key for key in want) and len(want) > 20
    for key, (n, first, last) in want.items():
        got = seen.clients[key]
        assert got[0] == n
        assert (pd.isna(got[1]) and pd.isna(first)) or got[1] == first
        assert (pd.isna(got[2]) and pd.isna(last)) or got[2] == last


def _clock_by_rows(ev: pd.DataFrame, seen: Observations) -> None:
    """The clock fold as it reads: every row's (host, token) pair in order of lag, through the per-pair rule."""
    sel = ev["ts"].notna() & ev["iat"].notna() & ev["host"].notna() & (ev["status"] != 101).fillna(True)
    sub = ev.loc[sel, ["host", "token_fp", "client_ip", "token_kind"]].astype("object")
    sub = sub.assign(lag=(ev.loc[sel, "ts"] - ev.loc[sel, "iat"]).dt.total_seconds().to_numpy()).sort_values("lag")
    for host, fp, ip, kind, lag in sub.drop_duplicates(["host", "token_fp"]).itertuples(index=False):
        key = (str(host).lower(), str(fp))
        if int(key[1][:8], 16) >> (32 - seen.clock_level):
            continue  # not in the sample
        have = seen.clock.get(key)
        if have is None or lag < have[0]:
            seen.clock[key] = (float(lag), ip if isinstance(ip, str) else None, kind == S.KIND_ASSERTION)
        if len(seen.clock) > diagnose.MAX_CLOCK_PAIRS:
            seen._sample_clock(seen.clock_level + 1)


@pytest.mark.parametrize("limit", [100_000, 150])
def test_the_clock_of_a_batch_is_its_rows_folded_one_by_one(monkeypatch, limit: int) -> None:
    """Reduced to one row per (host, token) by codes, the clock still keeps the earliest lag (the first of
    equal lags in `sort_values`' order, with its client IP) of hosts that differ in case only."""
    monkeypatch.setattr(diagnose, "MAX_CLOCK_PAIRS", limit)
    batches = []
    for seed in range(3):
        ev = classified(600, seed, tokens=400)
        rng = np.random.default_rng(seed)
        ev["host"] = pd.Categorical(np.array(["a.example", "A.example", "b.example", None])[rng.integers(0, 4, 600)])
        ev["ts"] = T0 + pd.to_timedelta(rng.integers(0, 5, 600) * 60, unit="s")  # many equal lags
        ev["client_ip"] = np.array(["10.0.0.1", "10.0.0.2", None])[rng.integers(0, 3, 600)]
        batches.append(ev)
    fast, slow = Observations(300.0), Observations(300.0)
    for ev in batches:
        fast._observe_clock(ev)
        _clock_by_rows(ev, slow)
    assert (fast.clock_level, fast.clock) == (slow.clock_level, slow.clock)
    assert limit > 1000 or fast.clock_level > 0


def test_held_rows_are_kept_with_just_the_dictionary_entries_they_use(tmp_path) -> None:
    """A batch's categoricals hold every value of the batch; a few held rows of it must not carry them all
    into the pending file (`Diagnoser.finish` read every one back)."""
    import pyarrow.parquet as pq

    ev = classified(2_000, seed=3, tokens=1_500)
    ev["token_fp"] = ev["token_fp"].astype("category")
    ev["date"] = ev["ts"].dt.date
    held = ev.iloc[[5, 7, 5 + 1_000]]
    pending = diagnose.PendingRows(tmp_path / "held.parquet")
    pending.add(held)
    path = pending.close()
    assert path is not None
    got = pq.read_table(path)
    fps = got.column("token_fp").chunk(0)
    assert len(fps.dictionary) == held["token_fp"].nunique() < len(ev["token_fp"].cat.categories)
    assert fps.to_pylist() == held["token_fp"].astype(object).tolist()
    assert got.column("line").to_pylist() == held["line"].tolist()
