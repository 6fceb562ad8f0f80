"""Per-machine clock offsets from when tokens were first used against when they were minted.

For a token minted by the identity provider (whose clock is taken as true), its first use on a host
is logged at `ts = iat + delay + offset`: the host's clock error plus the client's wait between
getting the token and first sending it there. The wait is never negative, often seconds, sometimes
minutes, and heavy-tailed (long polls, WebSockets logged at their end, clients that hold a token for
a while). So the offset is the *lower edge* of a host's `ts - iat` values, not their median or mean:
the median moves with how clients behave, the edge only with the clock.

The edge has two enemies, both handled here:

- tokens that really are not yet valid (minted by a skewed client or a foreign issuer): scattered
  values far below the edge. The edge is looked for only where values are dense (`body`); a token
  that is below the edge on every host it was used on is dropped everywhere (`host_offsets`).
- sparse data near the edge: the edge is extrapolated from the lowest tenth of the values by a
  straight line through their order statistics (`lower_edge`), which for any density that is
  roughly flat near its edge is unbiased, where the minimum alone is biased by one spacing.

The estimate carries a 90 % bootstrap interval (a fixed seed per host, so runs are reproducible)
and a word for how sure it is. It measures the host's offset plus the *quickest* clients' delay:
when every client waits at least N seconds before its first call, the estimate is N seconds high.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

SKEW_THRESHOLD_S = 60.0  # a clock off by this much or more is named, inside the leeway too (it fails as it grows)
MIN_SAMPLES = 5  # first uses (distinct tokens) a host needs for an estimate
WINDOW_S = 120.0  # width of the window in which the dense lower edge of a host's values is looked for
EDGE_SHARE = 0.10  # share of a host's values (its lowest) the edge is extrapolated from
PEAK_SHARE = 0.25  # a window at the edge must hold this share of the densest window's values
BOOTSTRAP_ROUNDS = 200
CI_LEVEL = 0.90


@dataclass(frozen=True)
class OffsetEstimate:
    """One machine's clock offset (seconds, positive = ahead), with how sure it is."""

    offset_s: float
    samples: int  # first uses the estimate is made from
    excluded: int  # first uses left out as tokens that really were not yet valid
    ci_low_s: float
    ci_high_s: float

    @property
    def confidence(self) -> str:
        """`high`, `medium` or `low`: from the number of samples and the width of the interval."""
        width = self.ci_high_s - self.ci_low_s
        if self.samples >= 30 and width <= 30 and self.excluded * 4 <= self.samples:
            return "high"
        if self.samples >= 10 and width <= 60:
            return "medium"
        return "low"

    @property
    def skewed(self) -> bool:
        """Whether the clock is off by SKEW_THRESHOLD_S or more, and the interval excludes a correct one."""
        return abs(self.offset_s) >= SKEW_THRESHOLD_S and (self.ci_low_s > 0 or self.ci_high_s < 0)

    def as_json(self) -> dict[str, Any]:
        """The run.json fields of one estimate (next to `host` or `client_ip`)."""
        return {
            "offset_seconds": round(self.offset_s, 1),
            "samples": self.samples,
            "excluded_not_yet_valid": self.excluded,
            "ci_low_s": round(self.ci_low_s, 1),
            "ci_high_s": round(self.ci_high_s, 1),
            "ci_level": CI_LEVEL,
            "confidence": self.confidence,
            "skewed": self.skewed,
        }


def body(lags: np.ndarray) -> np.ndarray:
    """The sorted values from the dense lower edge on: scattered values below it are left out.

    The edge is the lowest value whose window [v, v + WINDOW_S] holds at least 3 values, a tenth of
    them all, and a quarter as many as the densest window. Tokens that are not yet valid are few, or
    spread over minutes to hours; the first uses of fresh tokens crowd at the edge.
    """
    x = np.sort(lags)
    if len(x) == 0:
        return x
    counts = np.searchsorted(x, x + WINDOW_S, side="right") - np.arange(len(x))
    need = max(3, math.ceil(EDGE_SHARE * len(x)), math.ceil(PEAK_SHARE * int(counts.max())))
    start = int(np.argmax(counts >= min(need, int(counts.max()))))
    return x[start:]


def _edge_ranks(n: int) -> int:
    """How many of n values the edge is extrapolated from (at most)."""
    return min(n, max(3, math.ceil(EDGE_SHARE * n)))


def lower_edge(y: np.ndarray, n: int | None = None) -> float:
    """Where sorted values begin: a line through the lowest tenth (within WINDOW_S) of ranks, at rank 0.

    `y` holds the lowest values of `n` (default: all of them), sorted.
    """
    k = _edge_ranks(len(y) if n is None else n)
    k = min(k, int(np.searchsorted(y, y[0] + WINDOW_S, side="right")))
    if k < 2:
        return float(y[0])
    # Least squares of value on rank 1..k, evaluated at rank 0 (closed form: polyfit costs 20x more).
    rank = np.arange(1, k + 1, dtype=float)
    low = y[:k]
    rm, ym = rank.mean(), low.mean()
    slope = float(((rank - rm) * (low - ym)).sum() / ((rank - rm) ** 2).sum())
    return float(ym - slope * rm)


def estimate(lags: Iterable[float], seed: str = "") -> OffsetEstimate | None:
    """The offset from the first-use lags (`ts - iat`, seconds) of distinct tokens; None with too few."""
    x = np.asarray(sorted(lags), dtype=float)
    if len(x) < MIN_SAMPLES:
        return None
    y = body(x)
    edge = lower_edge(y)
    # Bootstrap the edge over the dense values (with a seed of the host's name: reproducible runs).
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    boots = np.empty(BOOTSTRAP_ROUNDS)
    keep = _edge_ranks(len(y))  # a resample's edge needs only its lowest values
    for i in range(BOOTSTRAP_ROUNDS):
        resample = y[rng.integers(0, len(y), len(y))]
        boots[i] = lower_edge(np.sort(np.partition(resample, keep - 1)[:keep]), len(y))
    tail = (1 - CI_LEVEL) / 2 * 100
    low, high = np.percentile(boots, [tail, 100 - tail])
    return OffsetEstimate(edge, len(y), len(x) - len(y), float(min(low, edge)), float(max(high, edge)))


def host_offsets(pairs: Iterable[tuple[str, str, float]]) -> dict[str, OffsetEstimate]:
    """Per host, its clock offset from (host, token fingerprint, first-use lag) of tokens minted by the IdP.

    A token whose lag lies more than WINDOW_S below the estimate on every one of two or more hosts
    was not yet valid when it was used (its minter's clock, not the hosts'): it is dropped on all of
    them.
    """
    per_host: dict[str, dict[str, float]] = {}
    for host, fp, lag in pairs:
        per_host.setdefault(host, {})[fp] = lag
    first = {h: estimate(v.values(), h) for h, v in per_host.items()}
    below: dict[str, list[bool]] = {}
    for h, toks in per_host.items():
        est = first[h]
        for fp, lag in toks.items():
            below.setdefault(fp, []).append(est is not None and lag < est.offset_s - WINDOW_S)
    early = {fp for fp, b in below.items() if len(b) >= 2 and all(b)}
    own: dict[str, OffsetEstimate] = {}
    for h in sorted(per_host):
        toks = per_host[h]
        dropped = sum(fp in early for fp in toks)
        if dropped:
            per_host[h] = {fp: lag for fp, lag in toks.items() if fp not in early}
        est = estimate(per_host[h].values(), h) if dropped else first[h]
        if est is not None:
            own[h] = replace(est, excluded=est.excluded + dropped)
    return own
