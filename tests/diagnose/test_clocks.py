"""Clock offsets per host: the estimator on known distributions, and the whole scan on logs with known offsets."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jwts as T
import numpy as np
import pandas as pd
import pytest
from clock_logs import clock_logs

from analyzer.config import Settings
from analyzer.diagnose import clocks
from analyzer.diagnose.clocks import SKEW_THRESHOLD_S, OffsetEstimate, estimate, host_offsets
from analyzer.diagnose.diagnoser import Diagnoser

# Prompt clients' tokens reach a host within seconds: the edge is the offset, and the estimate lies
# half the assumed quickest delay below it.
HALF = clocks.QUICKEST_DELAY_S / 2

OFFSETS = {
    "behind.example": -420.0,  # fails already (beyond the 300 s leeway)
    "ahead.example": 240.0,  # inside the leeway: nothing fails yet, but it is skewed
    "right.example": 0.0,
    "far.example": 900.0,
    "slight.example": -45.0,  # under the threshold: not named
}


def lags(kind: str, n: int, seed: int) -> np.ndarray:
    """First-use delays (s) of n tokens for one client habit."""
    rng = np.random.default_rng(seed)
    if kind == "seconds":
        return rng.exponential(3.0, n)
    if kind == "uniform":  # any wait up to 4 minutes
        return rng.uniform(0, 240, n)
    if kind == "minutes":
        return rng.exponential(120.0, n)
    # Most within seconds, a fifth minutes later, a few long polls and WebSockets hours later.
    u = rng.random(n)
    d = rng.exponential(3.0, n)
    d = np.where(u < 0.2, rng.uniform(60, 900, n), d)
    return np.where(u < 0.05, rng.uniform(3600, 7200, n), d)


@pytest.mark.parametrize("kind", ["seconds", "uniform", "minutes", "mixed"])
@pytest.mark.parametrize("offset", [-420.0, 0.0, 240.0])
def test_the_offset_is_the_lower_edge_whatever_the_clients_wait(kind: str, offset: float) -> None:
    for seed in range(20):
        est = estimate(offset + lags(kind, 100, seed))
        assert est is not None
        assert abs(est.offset_s - offset) <= 15, (seed, est)
        assert est.ci_low_s <= est.offset_s <= est.ci_high_s


def test_tokens_that_really_are_not_yet_valid_are_left_out() -> None:
    rng = np.random.default_rng(1)
    fresh = 240.0 + lags("mixed", 100, 1)
    scattered = 240.0 - rng.uniform(300, 3600, 8)  # minted minutes to an hour ahead
    one_kiosk = 240.0 - 1200 + rng.uniform(0, 30, 6)  # a kiosk fleet 20 minutes ahead, together
    est = estimate([*fresh, *scattered, *one_kiosk])
    assert est is not None
    assert abs(est.offset_s - (240 - HALF)) <= 5
    assert est.excluded == 14 and est.samples == 100


def test_one_clients_tokens_far_below_everyone_elses_do_not_set_the_clock() -> None:
    """A kiosk whose token service runs 20-50 minutes ahead sends as many tokens as the two real clients."""
    rng = np.random.default_rng(2)
    kiosk = [*(240 - rng.uniform(1200, 1300, 4)), *(240 - rng.uniform(2900, 3000, 4))]
    values = [*(240 + rng.uniform(20, 240, 8)), *kiosk]
    sources = ["10.0.0.1", "10.0.0.2"] * 4 + ["10.40.0.3"] * 8
    est = estimate(values, sources)
    assert est is not None and abs(est.offset_s - 240 - 20) <= 30 and est.excluded == 8
    alone = estimate(values)  # without knowing who sent what, the kiosk's cluster is as good as any
    assert alone is not None and alone.offset_s < -500


def test_one_prompt_client_at_the_edge_still_sets_it() -> None:
    """One client sends its tokens at once; the others only minutes later: the edge is the prompt one's."""
    rng = np.random.default_rng(3)
    values = [*(-420 + rng.exponential(2.0, 10)), *(-420 + rng.uniform(150, 900, 20))]
    sources = ["10.0.0.1"] * 10 + ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"] * 5
    est = estimate(values, sources)
    assert est is not None and abs(est.offset_s - (-420 - HALF)) <= 5


def test_too_few_tokens_give_no_estimate_and_few_give_low_confidence() -> None:
    assert estimate([1.0, 2.0, 3.0, 4.0]) is None
    few = estimate(-420 + lags("uniform", 6, 3))
    assert few is not None and few.confidence == "low"
    many = estimate(-420 + lags("seconds", 200, 3))
    assert many is not None and many.confidence == "high" and many.samples == 200


def test_the_estimate_does_not_depend_on_the_order_of_its_input() -> None:
    values = list(-420 + lags("mixed", 300, 4))
    a = estimate(values)
    random.Random(0).shuffle(values)
    assert estimate(values) == a


def test_a_token_early_on_every_host_is_left_out_everywhere() -> None:
    pairs = []
    for h, off in (("a", 0.0), ("b", -420.0)):
        pairs += [(h, f"t{i}", off + d, f"10.0.0.{i % 4}") for i, d in enumerate(lags("seconds", 40, 5))]
        # six tokens minted ten minutes ahead, used on both hosts
        pairs += [(h, f"early{i}", off - 600 + i, "10.0.0.9") for i in range(6)]
    est = host_offsets(pairs)
    assert abs(est["a"].offset_s + HALF) <= 3 and abs(est["b"].offset_s - (-420 - HALF)) <= 3
    assert est["a"].excluded == est["b"].excluded == 6


@pytest.mark.parametrize(
    ("offset", "ci", "skewed"),
    [(-420, (-430, -410), True), (240, (230, 250), True), (-45, (-60, -30), False), (70, (-5, 140), False),
     (SKEW_THRESHOLD_S, (50, 70), True)],
)
def test_only_clearly_skewed_clocks_are_named(offset: float, ci: tuple[float, float], skewed: bool) -> None:
    assert OffsetEstimate(offset, 50, 0, *ci).skewed is skewed


def test_a_client_assertion_measures_the_clients_clock(tmp_path: Path) -> None:
    diag = Diagnoser(Settings(), tmp_path)
    for i, d in enumerate(lags("seconds", 30, 6)):
        diag.seen.clock[("login.example", f"a{i}")] = (d - 600.0, "10.7.7.7", True)  # client 600 s ahead
        diag.seen.clock[("login.example", f"b{i}")] = (d, "10.1.1.1", False)
    named, estimates = diag.clocks()
    by = {e.get("host") or e["client_ip"]: e for e in estimates}
    # The client's clock is measured against the host's estimated one (HALF behind the true one).
    assert abs(by["10.7.7.7"]["offset_seconds"] - (600 - HALF)) <= 5
    assert by["10.7.7.7"]["basis"] == "client_assertion"
    assert abs(by["login.example"]["offset_seconds"] + HALF) <= 5
    assert [e.get("client_ip") for e in named] == ["10.7.7.7"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs = tmp_path_factory.mktemp("clock-logs")
    key = T.make_rsa_key("k1")
    for host, lines in clock_logs(key, OFFSETS, seed=7).items():
        (logs / f"{host}.log").write_text("".join(lines))
    return logs


@pytest.mark.whole_run
def test_every_host_is_estimated_within_30_s_and_only_skewed_ones_are_named(corpus: Path, scan_dir) -> None:
    code, out, result = scan_dir(str(corpus), "--offline")
    assert code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    est = {e["host"]: e for e in run["clock_estimates"] if "host" in e}
    assert set(est) == set(OFFSETS)
    for host, off in OFFSETS.items():
        e = est[host]
        assert abs(e["offset_seconds"] - off) <= 30, e
        assert e["ci_low_s"] <= e["offset_seconds"] <= e["ci_high_s"]
        assert e["samples"] >= 30 and e["confidence"] == "high", e
        assert e["ci_level"] == clocks.CI_LEVEL and e["basis"] == "first_use"
        assert e["within_leeway"] is (abs(off) <= 300)
    assert sum(e["excluded_not_yet_valid"] for e in est.values()) >= 6  # the kiosk's tokens
    named = {c["host"] for c in run["clocks"]}
    assert named == {h for h, off in OFFSETS.items() if abs(off) >= SKEW_THRESHOLD_S}
    assert not any("client_ip" in c for c in run["clocks"])
    details = [f["detail"] for f in run["findings"] if f["kind"] == "clock_skew"]
    assert len(details) == 3
    assert any("ahead.example" in d and "inside the 300 s leeway" in d for d in details)


@pytest.mark.whole_run
def test_the_estimates_are_the_same_for_any_number_of_workers(corpus: Path, scan_dir, tmp_path: Path) -> None:
    runs = []
    for workers in ("1", "2"):
        code, out, result = scan_dir(str(corpus), "--offline", "--workers", workers, out=tmp_path / workers)
        assert code == 0, result.output
        runs.append(json.loads((out / "run.json").read_text()))
    assert runs[0]["clock_estimates"] == runs[1]["clock_estimates"]
    assert runs[0]["clocks"] == runs[1]["clocks"]



def test_one_client_that_sends_nearly_everything_far_early_costs_no_quadratic_time() -> None:
    import time

    rng = np.random.default_rng(8)
    values = [*(-3000 + rng.uniform(0, 2000, 19_000)), *rng.exponential(3.0, 1_000)]
    sources = ["10.40.0.3"] * 19_000 + [f"10.0.0.{i % 50}" for i in range(1_000)]
    began = time.perf_counter()
    est = estimate(values, sources)
    assert time.perf_counter() - began < 1.0
    # Fifty clients agree with each other, not with the one that sent 19 times as many tokens.
    assert est is not None and abs(est.offset_s + HALF) <= 5 and est.excluded == 19_000


def test_clients_that_wait_anywhere_up_to_an_hour_still_give_the_edge() -> None:
    est = estimate(240 + np.random.default_rng(9).uniform(0, 3600, 3000))
    assert est is not None and abs(est.offset_s - (240 - HALF)) <= 10


def test_a_websocket_upgrade_is_not_a_first_use() -> None:
    """Its line is written when the connection closes: its time says nothing about the token's first use."""
    from analyzer import schema as S
    from analyzer.diagnose.observe import Observations

    t0 = pd.Timestamp("2026-11-20 08:00", tz="UTC")
    ev = pd.DataFrame({
        "ts": [t0 + pd.Timedelta(seconds=s) for s in (3600, 5, 7200)],
        "iat": [t0] * 3,
        "host": ["a.example", "a.example", "b.example"],
        "token_fp": ["00000000000000a1", "00000000000000b2", "00000000000000c3"],
        "client_ip": ["10.0.0.1"] * 3,
        "token_kind": [S.KIND_ACCESS] * 3,
        "status": pd.array([101, 200, None], dtype="Int32"),
    })
    seen = Observations(300.0)
    seen._observe_clock(ev)
    assert sorted(seen.clock) == [("a.example", "00000000000000b2"), ("b.example", "00000000000000c3")]
