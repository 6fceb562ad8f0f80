"""Diagnosis across the whole population: inferred expectations, the server's own errors, clocks, clients.

A validator sees one token at a time. This module sees every occurrence of a run (batch by batch,
with state bounded by distinct hosts, clients and tokens, never by occurrences) and answers why,
where and whose fault:

- what a host without an `[[api]]` entry accepts, learned from the tokens it answered with 2xx;
- which IDX/AADSTS error the server logged next to a token, and whether it agrees with our cause;
- which machine's clock is off (the lower edge of `ts - iat` at tokens' first use, `analyzer.clocks`),
  and which clients never refresh;
- per client: failure rate, causes, audiences asked for against the ones accepted, version mismatch.

Each worker folds the classified batches of its unit into `Observations` (after `Diagnoser.prepare`
set aside, in a spill file, the rows that cannot be judged yet); the parent merges them unit by unit
(`Diagnoser.merge`), judges the held-back rows after the last unit (`Diagnoser.finish`), and writes
the diagnosis (`Diagnoser.report`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analyzer import clocks
from analyzer import schema as S
from analyzer.advice import default_scope
from analyzer.config import ApiExpectation, Settings

# ----------------------------------------------------------------------------- the server's own errors

# The scan core (`src/logged.rs`) finds the code a server logged for a token's request, on its line
# or a nearby one of the same request, and qualifies a kid miss by a server without keys:
NO_KEYS = " keys=0"  # qualifier added in the scan; counted, then removed by `Diagnoser._bare` before writing

# Pseudo-causes for what the server logged that is about the server, not the token.
SERVER_CONFIG = "server_config"
SERVER_METADATA = "server_metadata"
_INVALID_JWT = (
    S.MALFORMED,
    S.AUDIENCE_MISMATCH,
    S.ISSUER_MISMATCH,
    S.EXPIRED,
    S.NOT_YET_VALID,
    S.MISSING_NONCE,
    S.MISSING_CLAIMS,
    S.BAD_SIGNATURE,
    S.UNKNOWN_KID,
    S.UNSUPPORTED_ALG,
)


def _codes(causes: tuple[str, ...], meaning: str, *codes: str) -> dict[str, tuple[tuple[str, ...], str]]:
    return {c: (causes, meaning) for c in codes}


# Each logged code -> (the causes it agrees with, the first being what it means; what it says).
# From shared/domain.md (Microsoft.IdentityModel and Entra token-endpoint errors).
LOGGED_CODES: dict[str, tuple[tuple[str, ...], str]] = {
    **_codes((S.AUDIENCE_MISMATCH,), "audience validation failed", "IDX10214", "IDX10215"),
    **_codes(
        (SERVER_CONFIG,),
        "the API has no valid audiences configured",
        "IDX10206",
        "IDX10207",
        "IDX10208",
        "IDX10268",
    ),
    **_codes(
        (S.ISSUER_MISMATCH,),
        "issuer validation failed",
        "IDX10205",
        "IDX10212",
        "IDX40001",
        "IDX40002",
        "IDX40003",
        "IDX40004",
        "IDX40005",
        "IDX40012",
    ),
    **_codes((SERVER_CONFIG,), "the API has no valid issuers configured", "IDX10204", "IDX10211"),
    **_codes((S.NOT_YET_VALID,), "token not yet valid", "IDX10222"),
    **_codes((S.EXPIRED,), "token expired", "IDX10223"),
    **_codes((S.MALFORMED, S.EXPIRED, S.NOT_YET_VALID), "nbf is after exp", "IDX10224"),
    **_codes((S.MISSING_CLAIMS,), "token has no exp", "IDX10225"),
    **_codes((S.UNKNOWN_KID,), "signing key (kid) not found", "IDX10503", "IDX10501", "IDX10516", "IDX10517"),
    **_codes((SERVER_METADATA, S.UNKNOWN_KID), "the server has no signing keys at all", "IDX10500"),
    **_codes((S.BAD_SIGNATURE,), "key found but the signature is invalid", "IDX10511"),
    **_codes((S.UNSUPPORTED_ALG,), "the token is unsigned", "IDX10504"),
    **_codes((S.MALFORMED, S.BAD_SIGNATURE), "the signature is improperly formatted", "IDX10508"),
    **_codes(
        (S.MALFORMED, S.ENCRYPTED),
        "the token is not a well-formed JWT",
        "IDX14100",
        "IDX14120",
        "IDX14107",
        "IDX14101",
        "IDX14102",
        "IDX12741",
        "IDX12709",
    ),
    **_codes(_INVALID_JWT, "invalid JWT (format, nonce, issuer, audience or time window)", "AADSTS50027"),
    **_codes(
        (S.CLIENT_ASSERTION_KEY_MISMATCH,),
        "client assertion signature failed: certificate not uploaded",
        "AADSTS700027",
    ),
    **_codes((S.EXPIRED, S.NOT_YET_VALID), "client assertion outside its valid time", "AADSTS700024"),
    **_codes(_INVALID_JWT, "invalid on-behalf-of assertion", "AADSTS50013"),
    **_codes((S.AUDIENCE_MISMATCH,), "on-behalf-of assertion audience mismatch", "AADSTS500131"),
    **_codes(
        (S.AUDIENCE_MISMATCH,), "resource principal not found (wrong resource or App ID URI)", "AADSTS500011"
    ),
    **_codes((S.MALFORMED,), "subject does not match issuer in a client assertion", "AADSTS50048"),
    **_codes((S.MISSING_CLAIMS,), "a required claim is missing", "AADSTS90016"),
    **_codes((S.UNKNOWN_KID,), "the app-specific signing key is missing", "AADSTS50146"),
}


def code_of(logged: str) -> str:
    """The bare code of a `logged_error` value."""
    return logged.split(" ", 1)[0]


# ----------------------------------------------------------------------------- inferred expectations


def path_key(path: str | None) -> str:
    """The path prefix expectations are learned per: the first segment (`/v1/orders/42` -> `/v1`).

    One host often serves an API and a web app (or two API versions) under different first segments;
    deeper segments are usually ids. A prefix without accepted tokens falls back to the whole host.
    """
    if not path or path == "/":
        return "/"
    seg = path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
    return "/" + seg if seg else "/"


HOST_WIDE = "*"  # the path key of a host's union over all its prefixes


@dataclass
class Inferred:
    """What one host (and path prefix) accepts, learned from its 2xx answers."""

    host: str
    prefix: str
    support: int = 0  # unique accepted tokens
    audiences: Counter[str] = field(default_factory=Counter)
    issuers: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    tenants: Counter[str] = field(default_factory=Counter)

    def api(self) -> ApiExpectation:
        """As an expectation the checks can use."""
        return ApiExpectation(
            f"inferred:{self.host}{'' if self.prefix == HOST_WIDE else self.prefix}",
            hosts=(self.host,),
            audiences=tuple(sorted(self.audiences)),
            issuers=tuple(sorted(self.issuers)),
        )

    def as_json(self) -> dict[str, Any]:
        """For run.json: every value with its support."""

        def values(c: Counter[str]) -> list[dict[str, Any]]:
            return [{"value": v, "support": n} for v, n in c.most_common()]

        return {
            "host": self.host,
            "path_prefix": "/" if self.prefix == HOST_WIDE else self.prefix,
            "support": self.support,
            "audiences": values(self.audiences),
            "issuers": values(self.issuers),
            "versions": values(self.versions),
            "tenants": values(self.tenants),
            "checks": "inferred" if self.support else "skipped",
        }


class ExpectationLearner:
    """Counts, per (host, path prefix) without config, the claims of the unique tokens it accepted."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()
        self.learned: dict[tuple[str, str], Inferred] = {}

    @staticmethod
    def accepted(ev: pd.DataFrame) -> list[tuple[Any, ...]]:
        """(host, prefix, token, audience, issuer, version, tenant) of a batch's accepted tokens at hosts
        without an [[api]] entry: the first row per (host, prefix, token), in row order."""
        status = pd.to_numeric(ev["status"], errors="coerce")
        # Only tokens that pass every other check count: an endpoint that answers 2xx to an expired or
        # forged token does not check tokens at all (a health probe), and must not teach us anything.
        sel = (
            ev["api"].isna()
            & ev["host"].notna()
            & status.between(200, 299).fillna(False)
            & (ev["cause"].astype("string") == S.OK)
            & ev["token_kind"].astype("string").isin([S.KIND_ACCESS, S.KIND_UNKNOWN]).fillna(False)
        )
        if not sel.any():
            return []
        acc = ev.loc[sel, ["host", "path", "token_fp", "audience", "issuer", "version", "tenant_id"]]
        acc = acc.assign(
            host=acc["host"].astype("string").str.lower(),
            prefix=[path_key(p) for p in acc["path"].astype("object").where(acc["path"].notna(), None)],
        )
        acc = acc.drop_duplicates(["host", "prefix", "token_fp"])
        return list(acc[["host", "prefix", "token_fp", "audience", "issuer", "version", "tenant_id"]]
                    .itertuples(index=False, name=None))

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Fold in accepted tokens (as `accepted` gives them), in the order they were seen."""
        for host, prefix, fp, aud, iss, ver, tid in rows:
            if (host, prefix, fp) in self._seen:
                continue
            self._seen.add((host, prefix, fp))
            for key in ((host, prefix), (host, HOST_WIDE)):
                inf = self.learned.setdefault(key, Inferred(host, key[1]))
                if key[1] == HOST_WIDE and (host, HOST_WIDE, fp) in self._seen:
                    continue
                inf.support += 1
                for a in str(aud).split(",") if isinstance(aud, str) and aud else ():
                    inf.audiences[a] += 1
                for counter, value in ((inf.issuers, iss), (inf.versions, ver), (inf.tenants, tid)):
                    if isinstance(value, str) and value:
                        counter[value] += 1
            self._seen.add((host, HOST_WIDE, fp))

    def lookup(self, host: str, path: str | None) -> Inferred | None:
        """The expectation for one request: its prefix's, else its host's, else None."""
        h = host.lower()
        return self.learned.get((h, path_key(path))) or self.learned.get((h, HOST_WIDE))


# ----------------------------------------------------------------------------- clocks and lateness

LATENESS = ("within_skew", "minutes", "hours", "days")
MAX_CLOCK_PAIRS = 20_000  # (host, token) pairs kept for the clock estimates (about 5 MB); beyond, a sample
WEBSOCKET_UPGRADE = 101  # status of a WebSocket handshake: its line's time may be the connection's end


def lateness_bucket(seconds: float, leeway: float) -> str:
    """How late a token past its exp was: within the skew, minutes, hours or days."""
    if seconds <= leeway:
        return "within_skew"
    if seconds < 3600:
        return "minutes"
    if seconds < 86400:
        return "hours"
    return "days"


def _iso(ts: Any) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


# ----------------------------------------------------------------------------- the run-wide diagnoser

_CLIENT_KEYS = ["client_id", "host", "api", "audience", "version", "cause"]
MAX_CLIENTS = 500  # clients listed in run.json, the most failing first
MAX_LOGGED_HOSTS = 10  # hosts named per (logged error, cause) pair
PENDING_BATCH_ROWS = 1 << 15  # held-back rows judged (and written) at a time by `Diagnoser.finish`


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
        cause = ev["cause"].astype("string")
        past = pd.to_numeric(ev["seconds_past_exp"], errors="coerce")
        late = past > 0
        buckets = [lateness_bucket(float(s), self.leeway) for s in past[late]]
        self.lateness.update(buckets)
        is_exp = (cause == S.EXPIRED).fillna(False) & late
        if is_exp.any():
            for cid, s in zip(ev.loc[is_exp, "client_id"].astype("object"), past[is_exp], strict=True):
                if isinstance(cid, str):
                    self.late[(cid, lateness_bucket(float(s), self.leeway))] += 1
        self._observe_clients(ev, (cause != S.OK).fillna(True).to_numpy(bool))
        logged = ev["logged_error"]
        has = logged.notna().to_numpy(bool)
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

        Grouped on the columns' integer codes (a categorical's own, else factorized): grouping the
        values as objects took three quarters of `observe`. Groups come in the order of their first
        row, as `groupby(sort=False)` gives them; a missing value is None.
        """
        has = ev["client_id"].notna().to_numpy(bool)
        if not has.any():
            return
        group = np.zeros(int(has.sum()), dtype=np.int64)
        columns = []
        for k in _CLIENT_KEYS:
            col = ev[k]
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes, values = col.cat.codes.to_numpy()[has].astype(np.int64), col.cat.categories
            else:
                codes, values = pd.factorize(col.to_numpy(object)[has], use_na_sentinel=True)
            columns.append((np.array([*values, None], dtype=object), codes))  # code -1 reads the trailing None
            # The pair (group so far, code) as one id; ids stay below the row count, so nothing overflows.
            group, _ = pd.factorize(group * (len(values) + 1) + (codes + 1))
        fail_ts = ev["ts"][has].where(failed[has])
        _, first_rows = np.unique(group, return_index=True)  # group ids number the groups in order
        agg = fail_ts.groupby(group, sort=False).agg(["size", "min", "max"])
        for row, n, first, last in zip(first_rows, agg["size"], agg["min"], agg["max"], strict=True):
            self._add_client(tuple(names[ids[row]] for names, ids in columns), int(n), first, last)

    def _observe_clock(self, ev: pd.DataFrame) -> None:
        """Keep, per (host, token), the earliest `ts - iat`: the token's first use there.

        A WebSocket upgrade (status 101) is left out: its line is often written when the connection
        closes, hours after the token was sent.
        """
        status = pd.to_numeric(ev["status"], errors="coerce") if "status" in ev.columns else None
        sel = ev["ts"].notna() & ev["iat"].notna() & ev["host"].notna()
        if status is not None:
            sel &= (status != WEBSOCKET_UPGRADE).fillna(True)
        if not sel.any():
            return
        sub = ev.loc[sel, ["host", "token_fp", "client_ip", "token_kind"]].astype("object")
        lag = pd.to_datetime(ev.loc[sel, "ts"], utc=True) - pd.to_datetime(ev.loc[sel, "iat"], utc=True)
        sub = sub.assign(lag=lag.dt.total_seconds().to_numpy()).sort_values("lag")
        sub = sub.drop_duplicates(["host", "token_fp"])
        for host, fp, ip, kind, lg in sub.itertuples(index=False):
            self._add_clock((str(host).lower(), str(fp)), float(lg), ip if isinstance(ip, str) else None,
                            kind == S.KIND_ASSERTION)

    def _add_clock(self, key: tuple[str, str], lag: float, ip: str | None, assertion: bool) -> None:
        if int(key[1][:8], 16) >> (32 - self.clock_level):
            return  # not in the sample
        have = self.clock.get(key)
        if have is None or lag < have[0]:
            self.clock[key] = (lag, ip, assertion)
        if len(self.clock) > MAX_CLOCK_PAIRS:
            self._sample_clock(self.clock_level + 1)

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
        for key, (lag, ip, assertion) in other.clock.items():
            self._add_clock(key, lag, ip, assertion)
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

        from analyzer.write import to_table

        table = to_table(rows, _PENDING_SCHEMA)
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


class Diagnoser:
    """The run's diagnosis: folds the workers' observations; judges the held-back rows at the end."""

    def __init__(self, settings: Settings, spill_dir: Path) -> None:
        self.settings = settings
        self.leeway = float(settings.leeway_seconds)
        self.learner = ExpectationLearner()
        self.seen = Observations(self.leeway)
        self._spill = PendingRows(spill_dir / ".diagnose-pending.parquet")  # rows held back here
        self._pending: list[Path] = []  # files of held-back rows, in the order they were held back
        self._skipped: Counter[str] = Counter()  # host -> rejected rows that could not be checked

    # -- per batch (in a worker) and per unit (in the parent)

    @classmethod
    def prepare(cls, ev: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(rows to observe, the same rows as written, rows held back for `finish`).

        Rejected rows at hosts without an [[api]] entry wait until every batch is seen: what their
        host accepts is learned from the whole run. Needs no state of the run, so workers do it.
        """
        # Most batches hold no `keys=0` qualifier: then neither rewrite of `logged_error` changes a row.
        keys0 = "logged_error" not in ev.columns or bool(
            ev["logged_error"].astype("string").str.endswith(NO_KEYS).any()
        )
        if keys0:
            ev = cls._normalize_logged(ev)
        status = pd.to_numeric(ev["status"], errors="coerce")
        pending = (ev["api"].isna() & ev["host"].notna() & status.isin([401, 403]).fillna(False)).to_numpy(
            bool
        )
        now, held = (ev[~pending], ev[pending]) if pending.any() else (ev, ev.iloc[:0])
        return now, cls._bare(now) if keys0 else now, held

    def merge(self, seen: Observations) -> None:
        """Fold in a unit's observations (units in a fixed order, whatever the number of workers)."""
        self.learner.add(seen.accepted.values())
        self.seen.merge(seen)

    def hold(self, rows: pd.DataFrame) -> None:
        """Keep rows for `finish` that a worker returned (`prepare`'s third frame)."""
        if not rows.empty and self._spill.path not in self._pending:
            self._pending.append(self._spill.path)
        self._spill.add(rows)

    def hold_file(self, path: Path) -> None:
        """Take over a worker's file of held-back rows (`PendingRows`) for `finish`."""
        self._pending.append(path)

    @staticmethod
    def _normalize_logged(ev: pd.DataFrame) -> pd.DataFrame:
        """Say in `detail` what the scan's `keys=0` qualifier means."""
        if "logged_error" not in ev.columns:
            return ev.assign(logged_error=None)
        col = ev["logged_error"].astype("object")
        qualified = col.astype("string").str.endswith(NO_KEYS).fillna(False).to_numpy(bool)
        if not qualified.any():
            return ev
        ev = ev.copy()
        note = (
            "the server logged a kid miss with 0 keys in its configuration: it could not fetch the "
            "identity provider's metadata at all"
        )
        det = ev["detail"].astype("object").where(ev["detail"].notna(), "")
        ev.loc[qualified, "detail"] = [f"{d}; {note}" if d else note for d in det[qualified]]
        return ev

    @staticmethod
    def _bare(ev: pd.DataFrame) -> pd.DataFrame:
        """The frame to write: `logged_error` holds the bare code (the qualifier was counted)."""
        col = ev["logged_error"].astype("object")
        qualified = col.astype("string").str.endswith(NO_KEYS).fillna(False).to_numpy(bool)
        if qualified.any():
            ev = ev.copy()
            ev.loc[qualified, "logged_error"] = [code_of(v) for v in col[qualified]]
        return ev

    def finish(self) -> Iterator[pd.DataFrame]:
        """The held-back rows, judged against what their host was seen to accept, batch by batch."""
        import pyarrow.parquet as pq

        self._spill.close()
        try:
            for path in self._pending:
                for rb in pq.ParquetFile(path).iter_batches(batch_size=PENDING_BATCH_ROWS):
                    yield self._rejudge(_plain_frame(rb))
        finally:
            for path in self._pending:
                path.unlink(missing_ok=True)
            self._pending = []

    def _rejudge(self, ev: pd.DataFrame) -> pd.DataFrame:
        from analyzer.check import recheck

        expectations: list[ApiExpectation | None] = []
        notes: list[str] = []
        apis: dict[int, ApiExpectation] = {}
        for host, path, status in zip(
            ev["host"].astype("object"), ev["path"].astype("object"), ev["status"].tolist(), strict=True
        ):
            inf = self.learner.lookup(str(host), path if isinstance(path, str) else None)
            if inf is None:
                self._skipped[str(host).lower()] += 1
                expectations.append(None)
                notes.append(
                    f"the host answered {status}, but it accepted no token in these logs, so the "
                    "audience and issuer checks were skipped (no [[api]] entry to compare with)"
                )
                continue
            api = apis.setdefault(id(inf), inf.api())
            expectations.append(api)
            notes.append(
                f"audience and issuer checked against what {inf.host} accepted (inferred from "
                f"{inf.support} accepted token{'s' if inf.support != 1 else ''})"
            )
        out = recheck(ev, expectations, notes)
        self.seen.observe(out)
        return self._bare(out)

    # -- the run's diagnosis

    def clocks(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(machines whose clock is off by SKEW_THRESHOLD_S or more, every estimate with enough samples).

        Which clock the evidence points at: `ts` comes from the machine that wrote the log line, and
        `iat` from whoever minted the token. For tokens from the identity provider, `ts - iat` at a
        token's first use on a host is that host's clock error plus the client's delay between minting
        and first use (never negative): the host's offset is the lower edge of those values
        (`analyzer.clocks`), whatever the clients' habits. A client assertion is minted by the client,
        so its `iat` is the client's clock: the upper edge of (host offset - lag) over a client IP's
        assertions is that client's offset. Skews inside the leeway are named too: nothing fails yet,
        but everything fails once they grow past it.
        """
        pairs = sorted(self.seen.clock.items())
        hosts = clocks.host_offsets((h, fp, lag, ip) for (h, fp), (lag, ip, assertion) in pairs if not assertion)
        estimates: list[dict[str, Any]] = []
        for h, est in hosts.items():
            estimates.append({"host": h, "basis": "first_use", **est.as_json(),
                              "within_leeway": abs(est.offset_s) <= self.leeway})
        per_ip: dict[str, list[float]] = {}
        for (h, _), (lag, ip, assertion) in pairs:
            if assertion and ip is not None:
                off = hosts.get(h)
                per_ip.setdefault(ip, []).append(lag - (off.offset_s if off is not None else 0.0))
        for ip, rest in sorted(per_ip.items()):
            edge = clocks.estimate(rest, quickest=0.0)  # an assertion is built just before it is sent
            if edge is None:
                continue
            # rest = delay - client offset: the client's offset is minus its lower edge.
            mine = clocks.OffsetEstimate(-edge.offset_s, edge.samples, edge.excluded, -edge.ci_high_s,
                                         -edge.ci_low_s)
            estimates.append({"client_ip": ip, "basis": "client_assertion", **mine.as_json(),
                              "within_leeway": abs(mine.offset_s) <= self.leeway})
        named = [e for e in estimates if e["skewed"]]
        return named, estimates

    def _accepted(self, host: str | None, api: str | None) -> tuple[tuple[str, ...], str, str | None]:
        """(audiences accepted, 'configured'|'inferred'|'', expected token version) where a client sent."""
        conf = next((a for a in self.settings.apis if a.name == api), None) if api else None
        if conf is not None:
            shapes = {
                ("2.0" if i.rstrip("/").endswith("/v2.0") else "1.0" if "sts.windows.net" in i else "?")
                for i in conf.issuers
            }
            return (
                conf.audiences,
                "configured",
                shapes.pop() if len(shapes) == 1 and "?" not in shapes else None,
            )
        inf = self.learner.learned.get((host.lower(), HOST_WIDE)) if host else None
        if inf is None or not inf.support:
            return (), "", None
        ver = inf.versions.most_common(1)[0][0] if inf.versions else None
        return tuple(a for a, _ in inf.audiences.most_common()), "inferred", ver

    def clients(self) -> list[dict[str, Any]]:
        """Per client: failure rate, top causes, first and last failure, audiences, version, behaviour."""
        per: dict[str, dict[str, Any]] = {}
        for (cid, host, api, aud, ver, cause), (n, first, last) in self.seen.clients.items():
            c = per.setdefault(
                cid,
                {
                    "client_id": cid,
                    "occurrences": 0,
                    "failures": 0,
                    "causes": Counter(),
                    "first": None,
                    "last": None,
                    "sent": Counter(),
                    "versions": Counter(),
                    "targets": set(),
                },
            )
            c["occurrences"] += n
            c["versions"][(host, api, ver)] += n
            c["targets"].add((host, api))
            if cause != S.OK:
                c["failures"] += n
                c["causes"][cause] += n
                c["sent"][(host, api, aud, cause == S.AUDIENCE_MISMATCH)] += n
                if pd.notna(first) and (c["first"] is None or first < c["first"]):
                    c["first"] = first
                if pd.notna(last) and (c["last"] is None or last > c["last"]):
                    c["last"] = last
        out: list[dict[str, Any]] = []
        for cid, c in per.items():
            late = {b: self.seen.late.get((cid, b), 0) for b in LATENESS}
            behaviour = _behaviour(late)
            if not c["failures"] and behaviour == "normal":
                continue
            name = self.settings.client_name(cid)
            mismatched = []
            for (host, api, aud, wrong), n in c["sent"].most_common():
                if not wrong:
                    continue
                accepted, how, _ = self._accepted(host, api)
                mismatched.append(
                    {
                        "host": host,
                        "api": api,
                        "audience": aud,
                        "occurrences": n,
                        "accepted": list(accepted),
                        "accepted_source": how,
                        "should_ask_for": default_scope(accepted) if accepted else None,
                    }
                )
            versions = []
            for (host, api, ver), n in c["versions"].most_common():
                _, how, want = self._accepted(host, api)
                if ver and want and ver != want:
                    versions.append(
                        {
                            "host": host,
                            "api": api,
                            "version": ver,
                            "expected": want,
                            "occurrences": n,
                            "source": how,
                        }
                    )
            entry = {
                "client_id": cid,
                "name": name or None,
                "behaviour": behaviour,
                "occurrences": c["occurrences"],
                "failures": c["failures"],
                "failure_rate": round(c["failures"] / c["occurrences"], 4) if c["occurrences"] else 0.0,
                "top_causes": [{"cause": k, "count": v} for k, v in c["causes"].most_common(3)],
                "first_failure": _iso(c["first"]),
                "last_failure": _iso(c["last"]),
                "expired_by_lateness": late,
                "audience_mismatches": mismatched[:5],
                "version_mismatches": versions[:5],
            }
            entry["next_steps"] = client_next_steps(entry, self.settings.leeway_seconds)
            out.append(entry)
        out.sort(key=lambda e: (-(e["behaviour"] == "not_refreshing"), -e["failures"], e["client_id"]))
        return out[:MAX_CLIENTS]

    def logged_errors(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(agreement matrix: server said X, analyzer found Y; findings from the disagreements)."""
        matrix: Counter[tuple[str, str]] = Counter()
        sig: Counter[tuple[str, str]] = Counter()
        for (le, cause, checked), n in self.seen.logged.items():
            matrix[(le, cause)] += n
            if checked:
                sig[(le, cause)] += n
        rows, findings = [], []
        for (le, cause), n in sorted(matrix.items(), key=lambda kv: -kv[1]):
            code = code_of(le)
            agree_with, meaning = LOGGED_CODES.get(code, ((), "unknown code"))
            server = SERVER_METADATA if le.endswith(NO_KEYS) else (agree_with[0] if agree_with else "unknown")
            agrees = cause in agree_with and not le.endswith(NO_KEYS)
            rows.append(
                {
                    "logged_error": code,
                    "server_cause": server,
                    "meaning": meaning,
                    "cause": cause,
                    "count": n,
                    "agrees": agrees,
                }
            )
            hosts = sorted(self.seen.logged_hosts.get((le, cause), {}))
            finding = _finding(
                code, le.endswith(NO_KEYS), server, meaning, cause, n, sig[(le, cause)], agrees
            )
            if finding is not None:
                findings.append(dict(finding, hosts=hosts))
        return rows, findings

    def report(self) -> dict[str, Any]:
        """The diagnosis keys of run.json."""
        named, estimates = self.clocks()
        matrix, findings = self.logged_errors()
        inferred = [
            inf.as_json()
            for (host, prefix), inf in sorted(self.learner.learned.items())
            if prefix == HOST_WIDE or len({p for (h, p) in self.learner.learned if h == host}) > 2
        ]
        for host, n in sorted(self._skipped.items()):
            if (host, HOST_WIDE) not in self.learner.learned:
                inferred.append(dict(Inferred(host, HOST_WIDE).as_json(), rejected_unchecked=n))
        for c in named:
            who = f"host {c['host']}" if "host" in c else f"client IP {c['client_ip']}"
            inside = (f", still inside the {self.leeway:.0f} s leeway: nothing fails yet, but it will as "
                      "the clock drifts further" if c["within_leeway"] else "")
            findings.append(
                {
                    "kind": "clock_skew",
                    "count": c["samples"],
                    "detail": f"the clock of {who} is {abs(c['offset_seconds']):.0f} s "
                    f"{'behind' if c['offset_seconds'] < 0 else 'ahead'} ({c['ci_level']:.0%} interval "
                    f"{c['ci_low_s']:+.0f} to {c['ci_high_s']:+.0f} s, from {c['samples']} tokens' first "
                    f"use, {c['confidence']} confidence){inside}: sync it (timedatectl set-ntp true, "
                    "or w32tm /resync)",
                }
            )
        return {
            "inferred_expectations": inferred,
            "clocks": named,
            "clock_estimates": estimates,
            "expired_by_lateness": {b: self.seen.lateness.get(b, 0) for b in LATENESS},
            "clients": self.clients(),
            "logged_errors": matrix,
            "findings": findings,
        }


def _plain_frame(table: Any) -> pd.DataFrame:
    """An Arrow batch of held-back rows as the frame `classify` produced (plain strings and lists)."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        cols[name] = col
    df = pa.table(cols).to_pandas()
    df["causes"] = [list(c) if c is not None else [] for c in df["causes"]]
    for name in df.columns:
        if df[name].dtype != object and str(df[name].dtype) in ("str", "string"):
            df[name] = df[name].astype("object").where(df[name].notna(), None)
    return df


def _behaviour(late: dict[str, int]) -> str:
    """What a client's expired tokens say about its token cache."""
    expired = late["minutes"] + late["hours"] + late["days"]
    if expired >= 2 and (late["hours"] + late["days"]) * 2 >= expired:
        return "not_refreshing"  # half or more of its expired tokens came hours or days late
    if expired >= 2:
        return "refreshing_late"
    return "normal"


def _finding(
    code: str, no_keys: bool, server: str, meaning: str, cause: str, n: int, sig_checked: int, agrees: bool
) -> dict[str, Any] | None:
    """What a pair (server said, analyzer found) means for whoever has to fix it; None when they agree."""
    if no_keys:
        return {
            "kind": "server_cannot_fetch_metadata",
            "count": n,
            "logged_error": code,
            "cause": cause,
            "detail": f"the server logged {code} with 0 keys in its configuration: it could not fetch the "
            "identity provider's metadata at all. Fix the server's network path (proxy, firewall, "
            "DNS, TLS inspection) to login.microsoftonline.com, not the token",
        }
    if server == SERVER_CONFIG:
        return {
            "kind": "server_not_configured",
            "count": n,
            "logged_error": code,
            "cause": cause,
            "detail": f"the server logged {code} ({meaning}): fix the API's token validation settings",
        }
    if agrees:
        return None
    if server == S.UNKNOWN_KID and sig_checked:
        return {
            "kind": "server_stale_keys",
            "count": n,
            "logged_error": code,
            "cause": cause,
            "detail": f"the server logged {code} (kid not found), but the key is in the provider's current "
            "key set and the signature verifies: the server's key cache is stale or its keys are "
            "hard-coded. Let it refresh metadata from the jwks_uri",
        }
    if cause == S.OK:
        return {
            "kind": "server_rejects_valid_token",
            "count": n,
            "logged_error": code,
            "cause": cause,
            "detail": f"the server logged {code} ({meaning}) for tokens that pass every check here: "
            "compare the server's validation settings with the config",
        }
    return {
        "kind": "disagreement",
        "count": n,
        "logged_error": code,
        "cause": cause,
        "detail": f"the server logged {code} ({meaning}), the analyzer found {cause}",
    }


def client_next_steps(c: dict[str, Any], leeway: int) -> list[str]:
    """Concrete next steps for one client, filled in with its real values."""
    cid = c["client_id"] + (f" ({c['name']})" if c.get("name") else "")
    steps: list[str] = []
    for m in c["audience_mismatches"]:
        asked = m["audience"] or "(no audience)"
        if any(a in S.GRAPH_AUDIENCES for a in str(asked).split(",")):
            asked = f"Microsoft Graph ({asked})"
        if m["should_ask_for"]:
            steps.append(
                f"Client {cid} asks {m['host']} with a token for {asked}; it should ask for "
                f"{m['should_ask_for']} (accepted, {m['accepted_source']}: {', '.join(m['accepted'])})."
            )
        else:
            steps.append(
                f"Client {cid} sends tokens for {asked} to {m['host']}; find the scope the API expects "
                "(its Application ID URI) and request that."
            )
    for v in c["version_mismatches"]:
        steps.append(
            f"Client {cid} sends v{v['version']} tokens to {v['host']}, which expects v{v['expected']} "
            f"({v['source']}): set accessTokenAcceptedVersion to {v['expected'][0]} in the API's app "
            "manifest, or accept both issuers."
        )
    if c["behaviour"] == "not_refreshing":
        worst = "days" if c["expired_by_lateness"]["days"] else "hours"
        steps.append(
            f"Client {cid} sends tokens {worst} after they expired: it caches a token and never "
            "refreshes it. Acquire tokens silently before each call (MSAL refreshes them)."
        )
    elif c["behaviour"] == "refreshing_late":
        steps.append(
            f"Client {cid} sends tokens minutes after they expired (beyond the {leeway} s leeway): "
            "check its clock and refresh tokens a few minutes before exp."
        )
    return steps
