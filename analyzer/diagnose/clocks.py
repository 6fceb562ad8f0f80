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
- sparse data near the edge: the minimum alone lies one spacing above the edge; the spacing is
  measured over the lowest tenth of the values and taken off (`lower_edge`), which for any density
  that is roughly flat near its edge is unbiased.

The edge is the host's offset plus the *quickest* clients' delay, which no log tells apart from the
offset: the estimate assumes it lies between 0 and QUICKEST_DELAY_S and takes off half of that.
When every client waits at least N seconds before its first call, the estimate is N - 10 s high.
The estimate carries a 90 % interval (from the spacing of the values at the edge, widened by that
assumption) and a word for how sure it is.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

SKEW_THRESHOLD_S = 60.0  # a clock off by this much or more is named, inside the leeway too (it fails as it grows)
MIN_SAMPLES = 5  # first uses (distinct tokens) a host needs for an estimate
WINDOW_S = 120.0  # width of the window in which the dense lower edge of a host's values is looked for
EDGE_SHARE = 0.10  # share of a host's values (its lowest) over which the spacing at the edge is measured
PEAK_SHARE = 0.25  # a window at the edge must hold this share of the densest window's values
CI_LEVEL = 0.90
# The quickest clients send a fresh token within this many seconds of getting it: MSAL calls at once,
# a job may first prepare its work (scripts/make_sample_logs.py waits 20-240 s). The edge of the lags
# is the offset plus that delay, which no log can tell apart from the offset; the estimate takes off
# half of it and its interval spans all or none of it, so it is never more than half of it off.
QUICKEST_DELAY_S = 20.0
SEPARATE_S = 300.0  # a single client's cluster this far below everyone else's first uses is not the edge


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
        if self.samples >= 30 and width <= 40 and self.excluded * 4 <= self.samples:  # few left out
            return "high"
        if self.samples >= 10 and width <= 80:
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


def body(lags: np.ndarray, sources: np.ndarray | None = None) -> np.ndarray:
    """The sorted values from the dense lower edge on: scattered values below it are left out.

    The edge is the lowest value whose window [v, v + WINDOW_S] holds at least 3 values and a quarter
    as many as the densest window. Tokens that are not yet valid are few, or
    spread over minutes to hours; the first uses of fresh tokens crowd at the edge. With `sources`
    (who sent each token: client IPs), a window of one source's tokens only, at a host that three or
    more sources reach, is skipped when every other source's first uses begin more than SEPARATE_S
    above it: one client's tokens minted far ahead (a kiosk whose token service runs ahead) must not
    set the clock of a host that everyone else sees at its right time.
    """
    order = np.argsort(lags, kind="stable")
    x = np.asarray(lags, dtype=float)[order]
    if len(x) == 0:
        return x
    counts = np.searchsorted(x, x + WINDOW_S, side="right") - np.arange(len(x))
    # Relative to the densest window only: a share of all values would, for values spread over hours,
    # pass no window but the densest, wherever that is.
    need = max(3, math.ceil(PEAK_SHARE * int(counts.max())))
    candidates = np.nonzero(counts >= min(need, int(counts.max())))[0]
    start = int(candidates[0])
    if sources is not None and len(set(sources.tolist())) >= 3:
        codes = np.unique(np.asarray(sources, dtype=str)[order], return_inverse=True)[1]
        changes = np.nonzero(codes[1:] != codes[:-1])[0] + 1  # where the sorted values' source changes
        at = np.searchsorted(changes, candidates, side="right")
        other = np.append(changes, len(x))[at]  # per candidate: the first value from another source
        end = candidates + counts[candidates]  # per candidate: one past its window
        single = other >= end
        far = x[np.minimum(other, len(x) - 1)] - x[end - 1] > SEPARATE_S
        keep = ~(single & far & (other < len(x)))
        start = int(candidates[np.argmax(keep)]) if keep.any() else start
    return x[start:]


def _spacing(y: np.ndarray) -> tuple[float, int]:
    """(mean spacing of the lowest tenth of the sorted values `y`, within WINDOW_S of the minimum; spacings)."""
    near = int(np.searchsorted(y, y[0] + WINDOW_S, side="right"))
    k = min(max(3, math.ceil(EDGE_SHARE * len(y))), len(y), near)
    return (float(y[k - 1] - y[0]) / (k - 1), k - 1) if k >= 2 else (0.0, 0)


def lower_edge(y: np.ndarray) -> tuple[float, float, float]:
    """(edge, interval low, high) where the sorted values `y` begin.

    The minimum of values that are flat near their edge lies above it by an exponential amount whose
    mean is the spacing of the values there. So the edge is the minimum less the mean spacing of the
    lowest tenth of the values; its interval is where the edge lies with CI_LEVEL probability given
    the minimum, with the spacing widened by its own uncertainty (it is a mean of few spacings).
    """
    spacing, m = _spacing(y)
    low0 = float(y[0])
    if m == 0:
        return low0, low0 - WINDOW_S, low0  # one value near the edge: the offset is at most it
    tail = (1 - CI_LEVEL) / 2
    z = NormalDist().inv_cdf(1 - tail)
    grow = 1 + z / math.sqrt(m)
    return low0 - spacing, low0 + math.log(tail) * spacing * grow, low0 + math.log(1 - tail) * spacing / grow


def estimate(lags: Iterable[float], sources: Iterable[Any] | None = None,
             quickest: float = QUICKEST_DELAY_S) -> OffsetEstimate | None:
    """The offset from the first-use lags (`ts - iat`, seconds) of distinct tokens; None with too few.

    `sources` (optional, one per lag): who sent each token, for `body`. `quickest`: the most the
    quickest senders wait (QUICKEST_DELAY_S; 0 for client assertions, built just before they are sent).
    """
    x = np.asarray(list(lags), dtype=float)
    if len(x) < MIN_SAMPLES:
        return None
    y = body(x, None if sources is None else np.asarray(list(sources), dtype=object))
    edge, low, high = lower_edge(y)
    # The edge is the offset plus the quickest clients' delay, somewhere in [0, quickest].
    return OffsetEstimate(edge - quickest / 2, len(y), len(x) - len(y), low - quickest, high)


def host_offsets(pairs: Iterable[tuple[str, str, float, Any]]) -> dict[str, OffsetEstimate]:
    """Per host, its clock offset from (host, token fingerprint, first-use lag, source) of IdP tokens.

    A token whose lag lies more than WINDOW_S below the estimate on every one of two or more hosts
    was not yet valid when it was used (its minter's clock, not the hosts'): it is dropped on all of
    them.

    The pairs are sorted once, by host, lag and token: each host's slice is then its lags in the order
    `body` sorts them, ties by token, however the pairs came. Each (host, token) counts once, its last lag.
    """
    rows = {(h, fp): (lag, source) for h, fp, lag, source in pairs}
    if not rows:
        return {}
    hosts, fps = (np.array(k, dtype=object) for k in zip(*rows.keys(), strict=True))
    lags = np.fromiter((v[0] for v in rows.values()), dtype=float, count=len(rows))
    sources = np.array(["" if v[1] is None else str(v[1]) for v in rows.values()], dtype=object)
    names, host = np.unique(hosts, return_inverse=True)
    _, token = np.unique(fps, return_inverse=True)
    order = np.lexsort((token, lags, host))
    host, token, lags, sources = host[order], token[order], lags[order], sources[order]
    bounds = np.searchsorted(host, np.arange(len(names) + 1))

    def fit(lag: np.ndarray, source: np.ndarray) -> OffsetEstimate | None:
        return estimate(lag, list(source))

    first = [fit(lags[a:b], sources[a:b]) for a, b in itertools.pairwise(bounds)]
    edge = np.array([np.nan if est is None else est.offset_s - WINDOW_S for est in first])
    below = lags < edge[host]  # NaN where the host has no estimate: never below
    uses = np.bincount(token)
    early = ((uses >= 2) & (np.bincount(token, weights=below, minlength=len(uses)) == uses))[token]
    out: dict[str, OffsetEstimate] = {}
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        dropped = int(early[a:b].sum())
        keep = ~early[a:b]
        est = fit(lags[a:b][keep], sources[a:b][keep]) if dropped else first[i]
        if est is not None:
            out[str(names[i])] = replace(est, excluded=est.excluded + dropped)
    return out
