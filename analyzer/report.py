"""The HTML report: one self-contained, offline file that is safe to forward.

Every value that comes from a log or a token goes through `esc`. The page fetches nothing: a
Content-Security-Policy forbids it, styles and charts are inline, and the one inline script (table
sorting and filtering) is allowed by its hash only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.advice import ADVICE, Facts, next_steps
from analyzer.report_assets import SCRIPT, STYLE
from analyzer.report_data import DIMENSIONS, ReportData, sample_examples

TABLE_ROWS = 300
CHART_BARS = 12
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Beyond html.escape: `=`, `(` and `@` as references, so no log text can look like a URL attribute,
# a CSS url() or an @import to a checker that reads the raw file.
_EXTRA = str.maketrans({"=": "&#61;", "(": "&#40;", "@": "&#64;"})
TITLES = {
    "client_id": "Clients",
    "audience": "Audiences",
    "host": "Hosts",
    "api": "APIs",
    "issuer": "Issuers",
    "tenant_id": "Tenants",
}
_TIME_CLAIMS = ("iat", "nbf", "exp")


def esc(value: Any) -> str:
    """Text for HTML: escaped, with control and bidi-override characters shown as code points."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(value))
    return html.escape(s, quote=True).translate(_EXTRA)


def csp() -> str:
    """The page's Content-Security-Policy: nothing may be fetched; only our own script runs."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _n(v: Any) -> str:
    return f"{int(v):,}"


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def _t(ts: Any) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")


def _name(v: Any) -> str:
    return "(none)" if v is None or pd.isna(v) else str(v)


def page(title: str, body: str) -> str:
    """A whole HTML document around a body, with the policy, styles and script inline."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
        f'<meta name="referrer" content="no-referrer">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def _table(tid: str, headers: list[tuple[str, bool, str]], rows: list[list[str]], note: str = "") -> str:
    """A sortable, filterable table; headers are (text, numeric, tooltip); cells are already escaped."""
    head = "".join(
        f"<th{' class=n' if num else ''}{f' title={chr(34)}{esc(tip)}{chr(34)}' if tip else ''}>{esc(h)}</th>"
        for h, num, tip in headers
    )
    nums = [num for _, num, _ in headers]
    body = "".join(
        "<tr>"
        + "".join(f"<td class=n>{c}</td>" if nums[i] else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    search = (
        f'<input type=search data-filter="{tid}" placeholder="Filter rows…" aria-label="Filter">'
        if len(rows) > 5
        else ""
    )
    return (
        f'{search}<div class=scroll><table id="{tid}" class=sort><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{note}"
    )


def _cards(data: ReportData) -> str:
    occ, fail = data.occurrences, data.failing
    rate = fail / occ if occ else 0.0
    trend = ""
    history = data.run.get("history") or []
    if data.scope is None and history:
        prev = history[-1]
        delta = (rate - float(prev.get("failure_rate", 0))) * 100
        move = (
            f"▲ {delta:+.1f} points"
            if delta > 0.05
            else f"▼ {delta:+.1f} points"
            if delta < -0.05
            else "unchanged"
        )
        trend = (
            f'<small class="{"up" if delta > 0.05 else "down" if delta < -0.05 else ""}">{move} since the '
            f"previous run ({esc(str(prev.get('started_at', ''))[:10])}: "
            f"{float(prev.get('failure_rate', 0)):.1%} of {_n(prev.get('occurrences', 0))})</small>"
        )
    cards = [
        ("Failure rate", f"{rate:.1%}", trend),
        ("Failing occurrences", _n(fail), ""),
        ("Token occurrences", _n(occ), ""),
        ("Unique tokens", _n(data.unique_tokens), ""),
    ]
    files = data.run.get("files", {})
    # An incremental scan may read nothing new: then the line count says nothing about these tokens.
    if data.scope is None and files.get("lines"):
        cards += [
            ("Log lines read this run", _n(files.get("lines", 0)), ""),
            ("Files read this run", _n(files.get("count", 0)), ""),
        ]
    return (
        "<div class=cards>"
        + "".join(f"<div class=card>{esc(k)}<b>{esc(v)}</b>{extra}</div>" for k, v, extra in cards)
        + "</div>"
    )


def _verdict(data: ReportData, causes: pd.Series) -> str:
    occ, fail = data.occurrences, data.failing
    if not occ:
        return "<p class=verdict>No bearer tokens were found in this scope.</p>"
    if not fail:
        return f"<p class=verdict>All {_n(occ)} token occurrences passed every check.</p>"
    failing = causes[causes.index != S.OK]
    top = str(failing.index[0])
    parts = [
        f"<b>{_pct(fail, occ)}</b> of {_n(occ)} token occurrences failed. The main cause is "
        f'<a href="#cause-{top}">{esc(ADVICE[top].title.lower())}</a> ({_pct(int(failing.iloc[0]), fail)} '
        "of failures)"
    ]
    if data.scope is None or data.scope.dimension != "client_id":
        owners = [o for o in data.owners("client_id") if o[2]]
        if owners:
            cid, _, nfail = owners[0]
            parts.append(
                f"; the client failing most is <code>{esc(_client_label(data, cid))}</code> "
                f"({_n(nfail)} failing)"
            )
    return "<p class=verdict>" + "".join(parts) + ".</p>"


def _client_label(data: ReportData, cid: str | None) -> str:
    name = data.client_names.get(cid or "", "")
    return f"{name} ({_name(cid)})" if name else _name(cid)


def _cause_table(data: ReportData, causes: pd.Series) -> str:
    occ, fail = data.occurrences, data.failing
    if causes.empty:
        return "<p class=muted>No token occurrences.</p>"
    rows = []
    for c, n in causes.items():
        cause = str(c)
        clients = data.cube.loc[data.cube["cause"] == cause, "client_id"].nunique()
        width = max(1, round(160 * int(n) / max(occ, 1)))
        bar = f'<span class="bar{" ok" if cause == S.OK else ""}" style="width:{width}px"></span>'
        title = f'<a href="#cause-{cause}">{esc(ADVICE[cause].title)}</a> <code>{esc(cause)}</code>'
        rows.append(
            [
                title if cause != S.OK else f"{esc(ADVICE[cause].title)} <code>ok</code>",
                _n(n),
                _pct(int(n), occ),
                _pct(int(n), fail) if cause != S.OK else "",
                _n(clients),
                bar,
            ]
        )
    headers = [
        ("Cause", False, ""),
        ("Occurrences", True, ""),
        ("Share of all", True, ""),
        ("Share of failures", True, ""),
        ("Clients", True, "distinct client ids"),
        ("", False, ""),
    ]
    return _table("t-causes", headers, rows)


def _dimension_table(data: ReportData, dim: str) -> str:
    cube = data.cube
    if cube.empty or (cube[dim].isna().all() and dim in ("api", "tenant_id")):
        return ""
    g = (
        cube.groupby([dim, "cause"], observed=True, dropna=False)["occurrences"]
        .sum()
        .unstack("cause", fill_value=0)
    )
    when = cube.groupby(dim, observed=True, dropna=False).agg(
        first=("first_seen", "min"), last=("last_seen", "max")
    )
    present = [c for c in S.CAUSES if c in g.columns and g[c].sum() > 0]
    failures = [c for c in present if c != S.OK]
    g = g.assign(total=g[present].sum(axis=1), failing=g[failures].sum(axis=1) if failures else 0).join(when)
    g = g.sort_values(["failing", "total"], ascending=False)
    shown = g.head(TABLE_ROWS)
    headers: list[tuple[str, bool, str]] = [(dim, False, "")]
    named = dim == "client_id" and bool(data.client_names)
    if named:
        headers.append(("name", False, "from the config file"))
    headers += [("failing", True, ""), ("total", True, ""), ("failure rate", True, "")]
    headers += [(c, True, ADVICE[c].title) for c in failures]
    headers += [("first seen", False, "UTC"), ("last seen", False, "UTC")]
    rows = []
    for key, r in shown.iterrows():
        cells = [f"<code>{esc(_name(key))}</code>"]
        if named:
            cells.append(esc(data.client_names.get(str(key), "")) if not pd.isna(key) else "")
        cells += [_n(r["failing"]), _n(r["total"]), _pct(r["failing"], r["total"])]
        cells += [_n(r[c]) if r[c] else "" for c in failures]
        cells += [_t(r["first"]), _t(r["last"])]
        rows.append(cells)
    note = ""
    if len(g) > len(shown):
        note = (
            f"<p class=muted>Showing the {len(shown):,} of {len(g):,} rows with the most failures; "
            "summary.parquet and events/ hold them all.</p>"
        )
    return f'<h3 id="tbl-{dim}">{TITLES[dim]} <small class=muted>({len(g):,})</small></h3>' + _table(
        f"t-{dim}", headers, rows, note
    )


def _top(data: ReportData, dim: str, limit: int = CHART_BARS) -> list[tuple[Any, int]]:
    c = data.cube[data.cube["cause"] != S.OK]
    s = c.groupby(dim, observed=True, dropna=False)["occurrences"].sum()
    s = s[s > 0].sort_values(ascending=False).head(limit)
    if dim == "client_id":
        return [(_client_label(data, None if pd.isna(k) else str(k)), int(v)) for k, v in s.items()]
    return [(_name(k), int(v)) for k, v in s.items()]


def _charts(data: ReportData) -> str:
    from analyzer import charts

    hourly = data.cube.groupby(["hour", "cause"], observed=True)["occurrences"].sum().reset_index()
    parts = []
    line = charts.timeline(hourly, "Failing token occurrences by cause")
    if line:
        parts.append(f"<figure>{_safe_svg(line)}</figure>")
    if data.scope is None or data.scope.dimension != "client_id":
        bars = charts.hbar(_top(data, "client_id"), "Clients with the most failing tokens")
        if bars:
            parts.append(f"<figure>{_safe_svg(bars)}</figure>")
    if data.scope is None or data.scope.dimension != "audience":
        bars = charts.hbar(_top(data, "audience"), "Audiences (APIs) with the most failing tokens", "#bc4c00")
        if bars:
            parts.append(f"<figure>{_safe_svg(bars)}</figure>")
    return "".join(parts) or "<p class=muted>No failures to chart.</p>"


def _safe_svg(svg: str) -> str:
    """The SVG with `=`, `(` and `@` in text nodes written as references, like `esc` does."""
    return re.sub(r">([^<]*)</text>", lambda m: ">" + m.group(1).translate(_EXTRA) + "</text>", svg)


def _facts(data: ReportData, cause: str, example: dict[str, Any] | None) -> Facts:
    c = data.cube[data.cube["cause"] == cause]
    keys = ["client_id", "host", "audience", "issuer", "tenant_id"]
    top = c.groupby(keys, observed=True, dropna=False)["occurrences"].sum().sort_values(ascending=False)
    (cid, host, aud, iss, tid), n = top.index[0], int(top.iloc[0])
    apis = data.run.get("expectations", {}).get("apis", [])
    api: dict[str, Any] = next((a for a in apis if _name(host) in a.get("hosts", [])), {})
    detail = (
        str(example.get("detail") or "")
        if example and example.get("client_id") == (None if pd.isna(cid) else cid)
        else ""
    )
    return Facts(
        _client_label(data, None if pd.isna(cid) else str(cid)),
        _name(host),
        _name(aud),
        _name(iss),
        "" if pd.isna(tid) else str(tid),
        detail,
        n,
        tuple(api.get("audiences", ())),
        tuple(api.get("issuers", ())),
    )


def _example(ex: dict[str, Any]) -> str:
    where = f"{ex.get('source')}:{ex.get('line')}"
    req = " ".join(
        str(x)
        for x in (ex.get("method"), ex.get("host"), ex.get("path"), ex.get("status"))
        if x is not None and not pd.isna(x)
    )
    meta = [
        ("time", str(ex.get("ts") or "")),
        ("where", f"{where} ({ex.get('format')}, {ex.get('location')})"),
        ("request", req),
        ("token", f"{ex.get('token_kind')} · fingerprint {ex.get('token_fp')}"),
        ("detail", str(ex.get("detail") or "")),
    ]
    out = [
        "<div class=example><dl>" + "".join(f"<dt>{k}</dt><dd>{esc(v)}</dd>" for k, v in meta if v) + "</dl>"
    ]
    claims = ex.get("claims") or {}
    times = [f"{k} {_epoch(claims[k])}" for k in _TIME_CLAIMS if isinstance(claims.get(k), int | float)]
    out.append(
        "<div class=jwt><div><b>Header</b><pre>"
        + esc(json.dumps(ex.get("header") or {}, indent=1, ensure_ascii=False, default=str))
        + "</pre></div>"
        "<div><b>Claims</b>"
        + (f" <small class=muted>({esc(', '.join(times))})</small>" if times else "")
        + "<pre>"
        + esc(json.dumps(claims, indent=1, ensure_ascii=False, default=str))
        + "</pre></div></div>"
    )
    if ex.get("from_events"):
        out.append("<p class=muted>Claims as kept in the events dataset.</p>")
    return "".join(out) + "</div>"


def _epoch(v: float) -> str:
    try:
        return datetime.fromtimestamp(v, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _cause_sections(data: ReportData, causes: pd.Series) -> str:
    out = []
    fail = data.failing
    for c, n in causes.items():
        cause = str(c)
        if cause == S.OK:
            continue
        a = ADVICE[cause]
        examples = list(data.examples.get(cause, []))[:3]
        if not examples and data.samples is not None:
            examples = sample_examples(data.samples, cause)
        facts = _facts(data, cause, examples[0] if examples else None)
        steps = [*next_steps(cause, facts), *a.steps]
        top = [(k, v) for k, v in _top_for(data, cause)]
        affected = ", ".join(f"<code>{esc(k)}</code> {_n(v)}" for k, v in top)
        exs = "".join(_example(e) for e in examples)
        out.append(
            f'<section id="cause-{cause}" class=cause><h3>{esc(a.title)} <code>{cause}</code> '
            f"<small class=muted>{_n(n)} · {_pct(int(n), fail)} of failures</small></h3>"
            f"<p>{esc(a.meaning)}</p>"
            + (
                f"<p><b>Most affected clients:</b> {affected}</p>"
                if affected and (data.scope is None or data.scope.dimension != "client_id")
                else ""
            )
            + "<p><b>What to do</b></p><ol>"
            + "".join(f"<li>{esc(s)}</li>" for s in steps)
            + "</ol>"
            + (
                f"<details><summary>{len(examples)} example occurrence{'s' if len(examples) != 1 else ''} "
                "(decoded header and claims; signature never shown, personal claims hashed)</summary>"
                f"{exs}</details>"
                if examples
                else ""
            )
            + "</section>"
        )
    return "".join(out) or "<p>No failures: nothing to fix.</p>"


def _top_for(data: ReportData, cause: str, limit: int = 5) -> list[tuple[str, int]]:
    c = data.cube[data.cube["cause"] == cause]
    s = c.groupby("client_id", observed=True, dropna=False)["occurrences"].sum().sort_values(ascending=False)
    return [(_client_label(data, None if pd.isna(k) else str(k)), int(v)) for k, v in s.head(limit).items()]


def _method(data: ReportData) -> str:
    run = data.run
    opts = run.get("options", {})
    items = [
        f"analyzer {esc(run.get('version'))} (Parquet schema {esc(run.get('schema_version'))}); scan started "
        f"{esc(run.get('started_at'))}."
    ]
    if data.scope is not None:
        items.append(
            f"This report is limited to {esc(data.scope.label())}: every count, chart and table holds only "
            "its token occurrences. Run-wide figures (inputs, files, other owners) are left out."
        )
    else:
        files = run.get("files", {})
        tok = run.get("tokens", {})
        formats = ", ".join(f"{k} ({v} files)" for k, v in files.get("by_format", {}).items())
        inputs = ", ".join(map(str, run.get("inputs", [])))
        items += [
            f"Inputs: {esc(inputs)} — {_n(files.get('count', 0))} files, {_n(files.get('bytes', 0))} "
            f"bytes, {_n(files.get('lines', 0))} lines.",
            f"Log formats detected: {esc(formats) or 'none'}.",
            f"Lines not valid UTF-8 (read anyway): {_n(files.get('lines_undecodable', 0))}; over-long lines: "
            f"{_n(files.get('long_lines', 0))}; masked tokens (e.g. eyJ…***): {_n(tok.get('masked', 0))}; "
            f"token-like strings rejected: {_n(tok.get('rejected_candidates', 0))}.",
        ]
        errors = files.get("errors", [])
        if errors:
            items.append(
                f"Read errors ({len(errors)}): "
                + "; ".join(esc(e) for e in errors[:20])
                + ("; …" if len(errors) > 20 else "")
            )
    keys = run.get("keys", [])
    if keys:
        items.append(
            "Signing keys: "
            + "; ".join(
                f"{esc(k.get('source'))} ({esc(k.get('origin'))}; kids "
                f"{esc(', '.join(map(str, k.get('kids', []))))})"
                for k in keys
            )
            + "."
        )
    else:
        items.append(
            "Signing keys: none were given, so signatures were not verified (bad_signature and "
            "unknown_kid cannot appear)."
        )
    items.append(
        f"Options: clock-skew leeway {esc(opts.get('leeway_seconds'))} s; "
        f"offline {esc(opts.get('offline'))}; "
        f"personal claims {'in clear' if opts.get('include_pii') else 'hashed'}; config "
        f"{esc(opts.get('config') or 'none')}."
    )
    items.append(
        "Times are judged at each request's time from the log line, in UTC. The numbers here add up to "
        "summary.parquet (one row per date, host, client, audience, issuer and cause)."
    )
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def render(data: ReportData) -> str:
    """The whole report as one HTML string."""
    causes = data.by_cause()
    first, last = data.period()
    scope = data.scope
    heading = "Why bearer tokens fail"
    if scope is not None:
        who = _client_label(data, scope.value) if scope.dimension == "client_id" else _name(scope.value)
        heading = (
            f"Bearer token failures for {'client' if scope.dimension == 'client_id' else 'audience'} {who}"
        )
    span = f"{_t(first)} – {_t(last)} UTC" if first is not None else "no request times"
    nav = " · ".join(
        f'<a href="#{i}">{t}</a>'
        for i, t in (
            ("causes", "Causes"),
            ("charts", "Charts"),
            ("tables", "Tables"),
            ("fix", "What to do"),
            ("diagnosis", "Diagnosis"),
            ("method", "How this was obtained"),
        )
    )
    tables = "".join(
        _dimension_table(data, d) for d in DIMENSIONS if not (scope is not None and d == scope.dimension)
    )
    body = (
        f"<header><h1>{esc(heading)}</h1><p class=muted>Requests from {esc(span)} · analyzer "
        f"{esc(data.run.get('version'))}</p></header>{_cards(data)}{_verdict(data, causes)}"
        f"<nav>{nav}</nav>"
        f'<h2 id="causes">Causes, ranked</h2>{_cause_table(data, causes)}'
        f'<h2 id="charts">Charts</h2>{_charts(data)}'
        f'<h2 id="tables">Who fails</h2><p class=muted>Click a column to sort; type to filter. Cause columns '
        f"count occurrences.</p>{tables}"
        f'<h2 id="fix">What to do, cause by cause</h2>{_cause_sections(data, causes)}'
        f"{_diagnosis(data)}"
        f'<h2 id="method">How this was obtained</h2>{_method(data)}'
    )
    return page(heading, body)


def _diagnosis(data: ReportData) -> str:
    """Clocks, refresh habits, inferred expectations and what the servers logged (diagnose.py).

    A per-owner report shows only that client's own entry: the rest describes other owners.
    """
    from analyzer.diagnose import render_diagnosis

    scope = data.scope
    if scope is None:
        return render_diagnosis(data.run)
    if scope.dimension == "client_id":
        mine = [c for c in data.run.get("clients") or [] if c.get("client_id") == scope.value]
        if mine:
            return render_diagnosis({"clients": mine})
    return ""


def render_index(entries: list[tuple[str, str | None, int, int]], dimension: str, data: ReportData) -> str:
    """The index of per-owner reports: (file name, owner, occurrences, failing) per report."""
    what = "client" if dimension == "client_id" else "audience"
    rows = []
    for fname, owner, occ, fail in entries:
        label = _client_label(data, owner) if dimension == "client_id" else _name(owner)
        rows.append([f'<a href="{esc(fname)}">{esc(label)}</a>', _n(fail), _n(occ), _pct(fail, occ)])
    headers = [(what, False, ""), ("failing", True, ""), ("total", True, ""), ("failure rate", True, "")]
    first, last = data.period()
    body = (
        f"<h1>Token failure reports, one per {what}</h1><p class=muted>Requests from {esc(_t(first))} – "
        f"{esc(_t(last))} UTC. Each report holds only its own {what}'s data and can be forwarded to its "
        "owner.</p>" + _table("t-index", headers, rows)
    )
    return page(f"Reports by {what}", body)
