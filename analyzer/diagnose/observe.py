"""What the diagnosis keeps of classified rows (`Observations`, mergeable across workers) and the rows
held back until expectations are learned (`PendingRows`): state bounded by hosts, clients and tokens."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analyzer import schema as S
from analyzer.diagnose.learn import ExpectationLearner
from analyzer.frames import NAT, among, coded, first_of_each, missing, numbers, utc_times
from analyzer.outputs.write import to_table, used_dictionaries

# ----------------------------------------------------------------------------- clocks and lateness

LATENESS = ("within_skew", "minutes", "hours", "days")
MAX_CLOCK_PAIRS = 20_000  # (host, token) pairs kept for the clock estimates (about 5 MB); beyond, a sample
WEBSOCKET_UPGRADE = 101  # status of a WebSocket handshake: its line's time may be the connection's end


def _lateness_codes(seconds: np.ndarray, leeway: float) -> np.ndarray:
    """How late each token past its exp was, as its index in LATENESS: within the skew (the leeway),
    minutes, hours or days (for values that are no NaN)."""
    with np.errstate(invalid="ignore"):
        return np.select([seconds <= leeway, seconds < 3600, seconds < 86400], [0, 1, 2], 3)


def _micros(col: pd.Series) -> np.ndarray:
    """Times as int64 epoch microseconds, NAT where missing."""
    times = col.array if isinstance(col.dtype, pd.DatetimeTZDtype) else pd.to_datetime(col, utc=True).array
    return np.asarray(times.as_unit("us").asi8)


def _times(micros: np.ndarray, like: pd.Series) -> pd.DatetimeIndex:
    """Epoch microseconds (NAT: missing) as times of the type of `like`'s (UTC unless it says otherwise)."""
    times = utc_times(micros)
    dtype = like.dtype
    return times.tz_convert(dtype.tz).as_unit(dtype.unit) if isinstance(dtype, pd.DatetimeTZDtype) else times


def _picked(col: pd.Series, rows: np.ndarray) -> list[Any]:
    """The values of some rows of a column, as Python objects (NaN or None where missing)."""
    return list(col.array.take(rows).astype(object).tolist())


def _strings_at(col: pd.Series, rows: np.ndarray) -> list[str | None]:
    """The strings of some rows of a column, None where missing (or not a string)."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return list(pa.array(col.array).take(rows).to_pylist())  # no NaN to map to None: Arrow's nulls are
    return [v if isinstance(v, str) else None for v in _picked(col, rows)]


def iso_or_none(ts: Any) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


# ----------------------------------------------------------------------------- the run-wide diagnoser

_CLIENT_KEYS = ["client_id", "host", "api", "audience", "version", "cause"]
MAX_CLIENTS = 500  # clients listed in run.json, the most failing first
MAX_LOGGED_HOSTS = 10  # hosts named per (logged error, cause) pair
# Held-back rows judged (and written) at a time by `Diagnoser.finish`. Judging takes about 4 KB a row
# (object columns, the recheck's frames), and held-back rows grow with the input: a month of logs held
# 4,313 rows, judged at once for +26 MB of the parent's peak (+5 MB still held when the tail began).
PENDING_BATCH_ROWS = 1 << 10


class Observations:
    """What the diagnosis keeps of classified rows: state bounded by distinct hosts, clients and tokens.

    Mergeable: each worker folds the rows of its unit into one of its own, and the parent merges
    them in unit order, with the same result as folding every row in one process. So neither rows
    nor anything proportional to them cross from the workers to the parent.
    """

    def __init__(self, leeway: float) -> None:
        self.leeway = leeway
        # Accepted tokens for the expectation learner, first row per (host, prefix, token) in order.
        self.accepted: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.clock: dict[tuple[str, str], tuple[float, str | None, bool]] = {}  # -> (lag, client IP, assertion)
        self.clock_level = 0  # `clock` holds the tokens whose fingerprint starts with this many zero bits
        self.clients: dict[tuple[Any, ...], list[Any]] = {}  # _CLIENT_KEYS -> [rows, first failure, last]
        self.late: Counter[tuple[str, str]] = Counter()  # (client_id, lateness bucket) of expired rows
        self.lateness: Counter[str] = Counter()
        self.logged: Counter[tuple[str, str, bool]] = Counter()  # (logged_error, cause, signature_checked)
        self.logged_hosts: dict[tuple[str, str], dict[str, None]] = {}  # the first hosts, in order

    def learn(self, ev: pd.DataFrame) -> None:
        """Keep the batch's accepted tokens for `ExpectationLearner.add`."""
        for row in ExpectationLearner.accepted(ev):
            self.accepted.setdefault(row[:3], row)

    def observe(self, ev: pd.DataFrame) -> None:
        """Fold one final batch into the clock, client, lateness and logged-error statistics."""
        if ev.empty:
            return
        self._observe_clock(ev)
        cause = ev["cause"]
        past = numbers(ev["seconds_past_exp"])
        with np.errstate(invalid="ignore"):
            late = past > 0
        bucket = _lateness_codes(past, self.leeway)
        for b, n in zip(*np.unique(bucket[late], return_counts=True), strict=True):
            self.lateness[LATENESS[b]] += int(n)
        is_exp = among(cause, (S.EXPIRED,)) & late
        if is_exp.any():
            cid, names = coded(ev["client_id"])
            cid = cid[is_exp]
            named = np.array([isinstance(c, str) for c in names] + [False])[cid]  # -1 picks the trailing False
            keys = cid.astype(np.int64) * len(LATENESS) + bucket[is_exp]
            for key, n in zip(*np.unique(keys[named], return_counts=True), strict=True):
                self.late[(names[key // len(LATENESS)], LATENESS[key % len(LATENESS)])] += int(n)
        self._observe_clients(ev, ~among(cause, (S.OK,)))  # a missing cause: failed
        has = ~missing(ev["logged_error"])
        if has.any():
            sub = ev[has]
            for le, c, sig, host in zip(
                sub["logged_error"].astype("object"),
                sub["cause"].astype("object"),
                sub["signature_checked"].astype("object"),
                sub["host"].astype("object"),
                strict=True,
            ):
                self.logged[(str(le), str(c), bool(sig))] += 1
                hosts = self.logged_hosts.setdefault((str(le), str(c)), {})
                if isinstance(host, str) and len(hosts) < MAX_LOGGED_HOSTS:
                    hosts[host] = None

    def _observe_clients(self, ev: pd.DataFrame, failed: np.ndarray) -> None:
        """Rows, first and last failure per client key (_CLIENT_KEYS) of the rows that name a client.

        Grouped on the columns' integer codes (a categorical's own, else factorized) taken together as
        one integer: grouping the values as objects took three quarters of `observe`. Groups come in
        the order of their first row, as `groupby(sort=False)` gives them; a missing value is None.
        """
        has = ~missing(ev["client_id"])
        if not has.any():
            return
        # Each row's key as one integer, the columns' codes in mixed radix (compacted by a factorize
        # whenever the next column could overflow it), numbered in order of first appearance at the end.
        key = np.zeros(int(has.sum()), dtype=np.int64)
        radix = 1
        columns = []
        for k in _CLIENT_KEYS:
            codes, values = coded(ev[k])
            codes = codes[has]
            columns.append((np.array([*values, None], dtype=object), codes))  # code -1 reads the trailing None
            if radix * (len(values) + 1) >= 1 << 62:
                key, distinct = pd.factorize(key)
                radix = len(distinct)
            key = key * (len(values) + 1) + (codes + 1)
            radix *= len(values) + 1
        group, _ = pd.factorize(key)
        # Rows per group, and the first and last time of its failed rows (NaT if none), by integer codes.
        ts = _micros(ev["ts"])[has]
        fail = failed[has] & (ts != NAT)
        first_rows = first_of_each(group)  # in group order: factorize numbers them by first appearance
        size = np.bincount(group, minlength=len(first_rows))
        low = np.full(len(first_rows), np.iinfo(np.int64).max)
        np.minimum.at(low, group[fail], ts[fail])
        high = np.full(len(first_rows), NAT)
        np.maximum.at(high, group[fail], ts[fail])
        firsts, lasts = _times(np.where(high == NAT, NAT, low), ev["ts"]), _times(high, ev["ts"])
        keys = zip(*(names[ids[first_rows]].tolist() for names, ids in columns), strict=True)
        for key_of, n, first, last in zip(keys, size.tolist(), firsts, lasts, strict=True):
            self._add_client(key_of, n, first, last)

    def _observe_clock(self, ev: pd.DataFrame) -> None:
        """Keep, per (host, token), the earliest `ts - iat`: the token's first use there.

        A WebSocket upgrade (status 101) is left out: its line is often written when the connection
        closes, hours after the token was sent. Only each pair's earliest row of the batch is looked
        at in Python: the rows are ordered by lag and reduced to their pairs by their codes.
        """
        ts, iat = _micros(ev["ts"]), _micros(ev["iat"])
        host, hosts = coded(ev["host"])
        sel = (ts != NAT) & (iat != NAT) & (host >= 0)
        if "status" in ev.columns:
            sel &= numbers(ev["status"]) != WEBSOCKET_UPGRADE
        if not sel.any():
            return
        rows = np.flatnonzero(sel)
        lags = (ts[rows] - iat[rows]) / 1e6  # seconds, as `total_seconds` of the times' difference gives them
        order = lags.argsort(kind="quicksort")  # as `sort_values` orders them: which of equal lags comes first
        low, lows = pd.factorize(np.array([str(h).lower() for h in hosts], dtype=object))
        fp, fps = coded(ev["token_fp"])
        pair = low[host[rows]].astype(np.int64)[order] * (len(fps) + 1) + (fp[rows][order] + 1)
        keep = order[~pd.Series(pair).duplicated().to_numpy()]  # each pair's earliest row, earliest first
        take = rows[keep]
        ips = _strings_at(ev["client_ip"], take)
        kind, kinds = coded(ev["token_kind"])
        assertion = np.array([k == S.KIND_ASSERTION for k in kinds] + [False])[kind[take]].tolist()
        taken = fp[take]
        tokens = (fps.take(taken).tolist() if (taken >= 0).all()  # a row without a token reads "nan", as str() did
                  else [str(f) for f in _picked(ev["token_fp"], take)])
        keys = zip(np.asarray(lows, dtype=object)[low[host[take]]].tolist(), tokens, strict=True)
        self._fold_clock(dict(zip(keys, zip(lags[keep].tolist(), ips, assertion, strict=True), strict=True)))

    def _fold_clock(self, pairs: dict[tuple[str, str], tuple[float, str | None, bool]]) -> None:
        """Fold in (host, token) pairs with their lag, client IP and whether the token is an assertion."""
        clock, level = self.clock, self.clock_level
        if not level and len(clock) + len(pairs) <= MAX_CLOCK_PAIRS:
            # Nothing sampled, now or after: what the loop below does, by sets and one update.
            fresh = dict(pairs)
            for key in pairs.keys() & clock.keys():
                if not pairs[key][0] < clock[key][0]:
                    del fresh[key]
            clock.update(fresh)
            return
        for key, (lag, ip, assertion) in pairs.items():
            if level and int(key[1][:8], 16) >> (32 - level):
                continue  # not in the sample
            have = clock.get(key)
            if have is None or lag < have[0]:
                clock[key] = (lag, ip, assertion)
            if len(clock) > MAX_CLOCK_PAIRS:
                self._sample_clock(level + 1)
                clock, level = self.clock, self.clock_level

    def _sample_clock(self, level: int) -> None:
        """Keep only the pairs of the tokens whose fingerprint starts with `level` zero bits (a 2^-level share).

        Bounds memory however many tokens a run sees. The level ends as the lowest at which the
        run's pairs fit, and the pairs kept are the same whatever order the rows come in: the
        estimates are the same for any number of workers (and exact below MAX_CLOCK_PAIRS).
        """
        self.clock_level = level
        self.clock = {k: v for k, v in self.clock.items() if not int(k[1][:8], 16) >> (32 - level)}

    def _add_client(self, key: tuple[Any, ...], n: int, first: Any, last: Any) -> None:
        have = self.clients.get(key)
        if have is None:
            self.clients[key] = [n, first, last]
            return
        have[0] += n
        if pd.notna(first) and (pd.isna(have[1]) or first < have[1]):
            have[1] = first
        if pd.notna(last) and (pd.isna(have[2]) or last > have[2]):
            have[2] = last

    def merge(self, other: Observations) -> None:
        """Fold in the observations of later rows (all but `accepted`, which the learner takes)."""
        if other.clock_level > self.clock_level:
            self._sample_clock(other.clock_level)
        self._fold_clock(other.clock)
        for key, (n, first, last) in other.clients.items():
            self._add_client(key, n, first, last)
        self.late.update(other.late)
        self.lateness.update(other.lateness)
        self.logged.update(other.logged)
        for key, more in other.logged_hosts.items():
            hosts = self.logged_hosts.setdefault(key, {})
            for host in more:
                if len(hosts) < MAX_LOGGED_HOSTS:
                    hosts[host] = None


_PENDING_SCHEMA = pa.schema([*S.EVENT_FIELDS, pa.field("date", pa.date32())])


class PendingRows:
    """Rows held back for `Diagnoser.finish`, appended to a Parquet file as they come (not kept in memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: Any = None  # pyarrow.parquet.ParquetWriter, opened on the first row

    def add(self, rows: pd.DataFrame) -> None:
        """Append rows (classified, as `Diagnoser.prepare` holds them back)."""
        if rows.empty:
            return
        import pyarrow.parquet as pq

        # Dictionaries of the values these rows use: a batch's categoricals hold every value of the batch
        # (29,000 token fingerprints for a few held rows), which the file kept and `finish` read back.
        table = used_dictionaries(to_table(rows, _PENDING_SCHEMA))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, _PENDING_SCHEMA, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> Path | None:
        """The file, complete; None when no row was held back."""
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        return self.path
