"""Diagnosis across the whole population: inferred expectations, the server's own errors, clocks, clients.

A validator sees one token at a time. This module sees every occurrence of a run (batch by batch,
with state bounded by distinct hosts, clients and tokens, never by occurrences) and answers why,
where and whose fault:

- what a host without an `[[api]]` entry accepts, learned from the tokens it answered with 2xx;
- which IDX/AADSTS error the server logged next to a token, and whether it agrees with our cause;
- which machine's clock is off (the lower edge of `ts - iat` at tokens' first use, `analyzer.diagnose.clocks`),
  and which clients never refresh;
- per client: failure rate, causes, audiences asked for against the ones accepted, version mismatch.

Each worker folds the classified batches of its unit into `Observations` (after `Diagnoser.prepare`
set aside, in a spill file, the rows that cannot be judged yet); the parent merges them unit by unit
(`Diagnoser.merge`), judges the held-back rows after the last unit (`Diagnoser.finish`), and writes
the diagnosis (`Diagnoser.report`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from analyzer import schema as S
from analyzer.config import ApiExpectation, Settings
from analyzer.diagnose import clocks
from analyzer.diagnose.codes import LOGGED_CODES, NO_KEYS, SERVER_CONFIG, SERVER_METADATA, code_of
from analyzer.diagnose.learn import HOST_WIDE, ExpectationLearner, Inferred, default_scope
from analyzer.diagnose.observe import LATENESS, MAX_CLIENTS, PENDING_BATCH_ROWS, Observations, PendingRows, iso_or_none
from analyzer.frames import missing, numbers
from analyzer.tokens.check import recheck


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
        keys0 = "logged_error" not in ev.columns or _any_qualified(ev["logged_error"])
        if keys0:
            ev = cls._normalize_logged(ev)
        pending = missing(ev["api"])
        if pending.any():
            status = numbers(ev["status"])
            pending &= ~missing(ev["host"]) & ((status == 401) | (status == 403))
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
        (`analyzer.diagnose.clocks`), whatever the clients' habits. A client assertion is minted by the client,
        so its `iat` is the client's clock: the upper edge of (host offset - lag) over a client IP's
        assertions is that client's offset. Skews inside the leeway are named too: nothing fails yet,
        but everything fails once they grow past it.
        """
        # In any order: each estimate depends on its set of values only (`host_offsets` orders its own).
        pairs = self.seen.clock.items()
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
                "first_failure": iso_or_none(c["first"]),
                "last_failure": iso_or_none(c["last"]),
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


def _any_qualified(logged: pd.Series) -> bool:
    """Whether any logged error carries the scan's `keys=0` qualifier (most rows log no error at all)."""
    has = ~missing(logged)
    return bool(has.any() and logged[has].astype("string").str.endswith(NO_KEYS).any())


def _plain_frame(table: Any) -> pd.DataFrame:
    """An Arrow batch of held-back rows as the frame `classify` produced (plain strings and lists).

    Text columns become object columns of str and None at once (by way of pandas' string type, each
    took a conversion and a `where`: most of the time of finishing the held-back rows).
    """
    text: dict[str, pd.Series] = {}
    other = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            text[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            other[name] = col
    rest = pa.table(other).to_pandas() if other else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    df = pd.DataFrame({name: text[name] if name in text else rest[name] for name in table.column_names},
                      index=pd.RangeIndex(table.num_rows))
    df["causes"] = [list(c) if c is not None else [] for c in df["causes"]]
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
