"""What surrounds the report's figures: what changed since the previous run, how the figures were made
(the method section), and an example's decoded token as the page shows it.

Plain values for the templates, like `view`; imports `report.text`, `report.data`, `report.diagnosis` and
`report.advice` only.
"""

from __future__ import annotations

import json
from typing import Any

from analyzer import schema as S
from analyzer.report.advice import SHORT
from analyzer.report.data import ReportData
from analyzer.report.diagnosis import humane
from analyzer.report.text import (
    SINGULAR,
    Names,
    PathScrubber,
    as_int,
    count,
    duration,
    epoch,
    missing,
    plain,
    plural,
    relative,
    when,
)

_TIME_CLAIMS = ("iat", "nbf", "exp")


def day_of(ts: Any) -> str:
    """The date of a time, or an empty string."""
    return when(ts)[:10]


def changes(run: dict[str, Any]) -> dict[str, Any]:
    """What changed since the previous run into this directory: new failing clients, causes that rose, keys."""
    history = [h for h in run.get("history") or [] if isinstance(h, dict)]
    if not history:
        return {"first": True, "lines": [], "since": ""}
    if not as_int((run.get("tokens") or {}).get("occurrences")):
        return {"first": False, "since": day_of(history[-1].get("started_at")),
                "lines": ["This run read no new token uses: there is nothing new to compare. The figures below "
                          "cover the whole dataset."]}
    # Compared with the last run that read something (a rerun that found nothing new says nothing).
    prev = next((h for h in reversed(history) if h.get("occurrences")), history[-1])
    items: list[str] = []
    names = Names.of_run(run)
    now_causes = (run.get("tokens") or {}).get("by_cause") or {}
    before = prev.get("by_cause") if isinstance(prev.get("by_cause"), dict) else None
    rose: list[tuple[int, str]] = []
    if before is not None:
        for c, n in now_causes.items():
            if c == S.OK:
                continue
            b = as_int(before.get(c, 0))
            n = as_int(n)
            if n > b and n - b >= max(3, b // 2):
                rose.append((n - b, f"{SHORT.get(c, c)}: {count(b)} → {count(n)}"))
        fell = [(b - as_int(now_causes.get(c, 0)), f"{SHORT.get(c, c)}: {count(b)} → "
                 f"{count(as_int(now_causes.get(c, 0)))}") for c, b in before.items()
                if c != S.OK and as_int(b) - as_int(now_causes.get(c, 0)) >= max(3, as_int(b) // 2)]
        if rose:
            items.append("Rose: " + "; ".join(t for _, t in sorted(rose, reverse=True)[:4]) + ".")
        if fell:
            items.append("Fell: " + "; ".join(t for _, t in sorted(fell, reverse=True)[:4]) + ".")
    was_failing = prev.get("failing_clients") if isinstance(prev.get("failing_clients"), dict) else None
    if was_failing is not None:
        new = [c for c in run.get("clients") or [] if isinstance(c, dict) and c.get("failures")
               and c.get("client_id") not in was_failing]
        if new:
            items.append("New failing clients: " + ", ".join(
                f"{names.client(c.get('client_id'))} ({count(as_int(c.get('failures')))})" for c in new[:6])
                + (f" and {len(new) - 6} more" if len(new) > 6 else "") + ".")
    kids_before = prev.get("kids") if isinstance(prev.get("kids"), list) else None
    if kids_before is not None:
        kids_now = sorted({str(k) for key in run.get("keys") or [] if isinstance(key, dict)
                           for k in key.get("kids") or []})
        added = [k for k in kids_now if k not in kids_before]
        gone = [k for k in kids_before if k not in kids_now]
        if added or gone:
            text = "Signing keys rotated: " + "; ".join(
                p for p in (f"new key id {', '.join(added)}" if added else "",
                            f"key id {', '.join(gone)} gone" if gone else "") if p)
            if any(S.UNKNOWN_KID in t for _, t in rose) or any(SHORT[S.UNKNOWN_KID] in t for _, t in rose):
                text += ", before the rise of signing key not found: APIs with a stale key cache fail"
            items.append(text + ".")
    return {"first": False, "lines": items, "since": day_of(prev.get("started_at"))}


def example(ex: dict[str, Any]) -> dict[str, Any]:
    req = " ".join(plain(x) for x in (ex.get("method"), ex.get("host"), ex.get("path")) if not missing(x))
    status: Any = ex.get("status")
    if not missing(status):
        try:
            req += f" → HTTP {int(float(status))}"
        except (TypeError, ValueError):
            pass
    line: Any = ex.get("line")
    where = plain(ex.get("source")) + (f", line {int(line)}" if not missing(line) else "")
    meta = [
        ("time", when(ex.get("ts"))),
        ("where", f"{where} ({plain(ex.get('format'))} log, token in {plain(ex.get('location')).replace('_', ' ')})"),
        ("request", req),
        ("token", f"{plain(ex.get('token_kind')).replace('_', ' ')}, fingerprint {plain(ex.get('token_fp'))}"),
        ("detail", humane(ex.get("detail"))),
    ]
    raw = ex.get("claims")
    claims: dict[str, Any] = raw if isinstance(raw, dict) else {}
    times = [f"{k}: {epoch(claims[k])}" for k in _TIME_CLAIMS
             if isinstance(claims.get(k), int | float) and not isinstance(claims.get(k), bool)]
    return {
        "meta": [(k, v) for k, v in meta if v],
        "header": _json(ex.get("header") or {}),
        "claims": _json(claims),
        "times": times,
        "from_events": bool(ex.get("from_events")),
    }


def _json(value: Any) -> str:
    """A decoded header or claim set as indented JSON (lists stay lists)."""
    return json.dumps(_unrepr(value), indent=1, ensure_ascii=False, default=str)


def _unrepr(value: Any) -> Any:
    """A list kept as a Python repr string by older runs ("['a', 'b']") read back as a list."""
    if isinstance(value, dict):
        return {k: _unrepr(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("[") and value.endswith("]") and "'" in value:
        import ast

        try:
            got = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
        if isinstance(got, list) and all(isinstance(x, str | int | float) for x in got):
            return got
    return value


def method(data: ReportData) -> dict[str, Any]:
    run = data.run
    scrub = PathScrubber(run)
    opts = run.get("options") or {}
    items: list[tuple[str, str]] = [
        ("Analyzer", f"version {plain(run.get('version'))}, Parquet schema {plain(run.get('schema_version'))}; "
                     f"scan started {when(run.get('started_at'))}"),
    ]
    if data.scope is not None:
        items.append(("Scope", f"only {SINGULAR[data.scope.dimension]} "
                      f"{Names.of_run(run).name(data.scope.dimension, data.scope.value)}: every count, chart and "
                      "table holds only its token uses; run-wide figures (inputs, files, other owners) are left out"))
    else:
        files = run.get("files") or {}
        tok = run.get("tokens") or {}
        inputs = ", ".join(relative(p, scrub) for p in run.get("inputs") or []) or "standard input"
        items += [
            ("Inputs", f"{inputs}: {plural(as_int(files.get('count', 0)), 'file')} read this run, "
                       f"{duration_bytes(as_int(files.get('bytes', 0)))}, "
                       f"{plural(as_int(files.get('lines', 0)), 'line')}"),
            ("Log formats", ", ".join(f"{k} ({plural(as_int(v), 'file')})"
                                      for k, v in (files.get("by_format") or {}).items()) or "none"),
            ("Unusual lines", f"not valid UTF-8 (read anyway): {count(files.get('lines_undecodable', 0) or 0)}; "
                              f"over-long: {count(files.get('long_lines', 0) or 0)}; masked tokens: "
                              f"{count(tok.get('masked', 0) or 0)}; token-like strings rejected: "
                              f"{count(tok.get('rejected_candidates', 0) or 0)}"),
        ]
        errors = files.get("errors") or []
        if errors:
            items.append((f"Read errors ({len(errors)})", "; ".join(plain(e) for e in errors[:20])
                          + ("; …" if len(errors) > 20 else "")))
    keys = [k for k in run.get("keys") or [] if isinstance(k, dict)]
    if keys:
        items.append(("Signing keys", "; ".join(
            f"{relative(k.get('source'), scrub)} ({plain(k.get('origin'))}"
            + (f", fetched {when(k.get('fetched_at'))}" if k.get("fetched_at") else "")
            + (", stale copy: the provider could not be reached" if k.get("stale") else "")
            + f"; key ids {', '.join(map(str, k.get('kids') or [])) or 'none'})" for k in keys)))
    else:
        items.append(("Signing keys", "none were given, so signatures were not verified (bad signature and "
                                      "signing key not found cannot appear)"))
    items.append(("Options", f"clock-skew leeway {duration(as_int(opts.get('leeway_seconds')))}; "
                             f"offline: {plain(bool(opts.get('offline')))}; personal claims: "
                             f"{'in clear' if opts.get('include_pii') else 'hashed'}; config file: "
                             f"{relative(opts.get('config'), scrub) or 'none'}"))
    items.append(("Times", "judged at each request's time from the log line, in UTC. The counts add up to "
                           "summary.parquet (one row per date, host, client, audience, issuer and cause)"))
    return {"lines": items}


def duration_bytes(n: int) -> str:
    """A size in bytes as people say it."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} bytes"
