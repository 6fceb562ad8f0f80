"""The diagnosis keys of run.json (written by `diagnose.diagnoser`) as the report shows them: plain values.

Findings get a title a person understands, clock offsets read "4 min 2 s behind", lateness
buckets read "hours late". Anything missing or of an unexpected shape is left out, never shown
as a Python value.
"""

from __future__ import annotations

import re
from typing import Any

from analyzer.report.advice import SHORT
from analyzer.report.text import Names, as_int, count, missing, offset, plain, plural

FINDING_TITLES = {
    "clock_skew": "A clock is off",
    "server_cannot_fetch_metadata": "A server cannot fetch the signing keys",
    "server_not_configured": "A server's token validation is not configured",
    "server_stale_keys": "A server's signing-key cache is stale",
    "server_rejects_valid_token": "A server rejects valid tokens",
    "disagreement": "The server and the analyzer disagree",
}
LATENESS = {
    "within_skew": "within the clock-skew leeway",
    "minutes": "minutes late",
    "hours": "hours late",
    "days": "days late",
}
_JARGON = (
    (re.compile(r"\(no \[\[api\]\] entry to compare with\)"), "(the config file does not describe this API)"),
    (re.compile(r"no \[\[api\]\] entry"), "no API in the config file"),
)


def humane(text: Any) -> str:
    """A detail sentence with the config-file jargon spelled out."""
    s = plain(text)
    for pattern, words in _JARGON:
        s = pattern.sub(words, s)
    return s


def diagnosis(run: dict[str, Any], names: Names, scope: Any) -> dict[str, Any] | None:
    """Findings, clocks, lateness, what servers logged and inferred expectations; run-wide reports only."""
    if scope is not None:
        return None  # the rest describes other owners
    out: dict[str, Any] = {
        "findings": _findings(run),
        "clocks": _clocks(run.get("clocks"), run),
        "estimates": _clocks(run.get("clock_estimates"), run),
        "lateness": _lateness(run.get("expired_by_lateness")),
        "logged": _logged(run.get("logged_errors")),
        "inferred": _inferred(run.get("inferred_expectations"), names),
        "carried": plain(run.get("diagnosis_from_run")) if run.get("diagnosis_from_run") else "",
    }
    return out if any(v for k, v in out.items() if k != "carried") else None


def _findings(run: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for f in run.get("findings") or []:
        if not isinstance(f, dict):
            continue
        kind = str(f.get("kind") or "")
        hosts = [str(h) for h in f.get("hosts") or []]
        out.append({
            "title": FINDING_TITLES.get(kind, kind.replace("_", " ").capitalize() or "Finding"),
            "count": count(as_int(f.get("count"))),
            "detail": humane(f.get("detail")),
            "hosts": ", ".join(hosts[:5]) + (f" and {len(hosts) - 5} more" if len(hosts) > 5 else ""),
        })
    return out


def _clocks(entries: Any, run: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for c in entries or []:
        if not isinstance(c, dict) or missing(c.get("offset_seconds")):
            continue
        machine = f"host {c['host']}" if c.get("host") else f"client IP {c.get('client_ip') or '?'}"
        lo, hi = c.get("ci_low_s"), c.get("ci_high_s")
        rng = ""
        if not missing(lo) and not missing(hi):
            rng = f"{offset(lo)} to {offset(hi)}" if offset(lo) != offset(hi) else offset(lo)
        rows.append({
            "machine": machine,
            "offset": offset(c.get("offset_seconds")),
            "samples": count(as_int(c.get("samples"))) if not missing(c.get("samples")) else "",
            "confidence": plain(c.get("confidence")),
            "range": rng,
        })
    return rows


def _lateness(late: Any) -> list[tuple[str, str]]:
    if not isinstance(late, dict) or not any(isinstance(v, int) and v for v in late.values()):
        return []
    return [(LATENESS.get(str(k), str(k).replace("_", " ")), count(as_int(v))) for k, v in late.items()]


def _logged(matrix: Any) -> list[dict[str, str]]:
    rows = []
    for m in matrix or []:
        if not isinstance(m, dict):
            continue
        cause = str(m.get("cause") or "")
        rows.append({
            "code": plain(m.get("logged_error")),
            "meaning": plain(m.get("meaning")),
            "found": SHORT.get(cause, cause),
            "count": count(as_int(m.get("count"))),
            "agree": "yes" if m.get("agrees") else "no",
        })
    return rows


def _inferred(entries: Any, names: Names) -> list[dict[str, str]]:
    rows = []
    for e in entries or []:
        if not isinstance(e, dict):
            continue
        host = names.host(e.get("host"))
        if e.get("checks") == "skipped" or not e.get("support"):
            n = as_int(e.get("rejected_unchecked"))
            rows.append({
                "host": host, "path": plain(e.get("path_prefix")),
                "expects": "Unknown: no token was accepted here, so the audience and issuer it expects could not be "
                           "learned" + (f" ({plural(n, 'rejected token use')} left unchecked)" if n else "")
                           + ". Describe this API in the config file to check them.",
                "based_on": "–",
            })
            continue

        def values(key: str, e: dict[str, Any] = e) -> str:
            return ", ".join(f"{v.get('value')} ({count(as_int(v.get('support')))})"
                             for v in e.get(key) or [] if isinstance(v, dict))

        expects = "; ".join(p for p in (
            f"audience {values('audiences')}" if e.get("audiences") else "",
            f"issuer {values('issuers')}" if e.get("issuers") else "",
            f"token version {values('versions')}" if e.get("versions") else "",
        ) if p)
        rows.append({"host": host, "path": plain(e.get("path_prefix")), "expects": expects,
                     "based_on": plural(as_int(e.get("support")), "accepted token use")})
    return rows
