"""What the report says, as plain values for the templates: no HTML is written here.

`build` reads a `ReportData` and returns the page's content top down: the headline (failure rate,
who fails most, what changed), the client x API matrix, the causes with their fixes, what each
client should do, the charts, the tables and the details folded below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from analyzer import schema as S
from analyzer.diagnose.unverified import needs_keys
from analyzer.report import charts
from analyzer.report.advice import ADVICE, FIX, SHORT, Facts, next_steps
from analyzer.report.context import changes, day_of, example, method
from analyzer.report.data import DIMENSIONS, ReportData, sample_examples, shows_token
from analyzer.report.diagnosis import diagnosis, humane
from analyzer.report.groups import group_sums, per_owner, without_period
from analyzer.report.text import (
    NONE,
    Names,
    as_int,
    count,
    missing,
    none_reason,
    pct,
    plain,
    when,
)
from analyzer.tokens.keys import ASSERTION_REASON

TABLE_ROWS = 300  # rows a table holds at most (the Parquet holds them all)
SHOWN_ROWS = 10  # rows shown before "show all"
MATRIX_CLIENTS = 8
MATRIX_APIS = 5
TODO_MAX = 30  # clients with their own "what to do" (the tables list them all)
CHART_BARS = 8
# Okabe-Ito: colours that readers with any common colour-vision deficiency can tell apart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER_COLOR = "#8c8c8c"
OTHER = "other"
TITLES = {
    "client_id": "Clients",
    "target": "APIs",
    "audience": "Audiences (what the tokens were requested for)",
    "host": "Hosts",
    "api": "Configured APIs",
    "issuer": "Issuers",
    "tenant_id": "Tenants",
}
HEADS = {"client_id": "Client", "target": "API", "audience": "Audience", "host": "Host", "api": "API",
         "issuer": "Issuer", "tenant_id": "Tenant"}


@dataclass
class Cell:
    """One table cell: main text, an id under it, a tooltip, a link; numbers align right."""

    text: Any = ""
    sub: Any = None
    tip: Any = None
    num: bool = False
    href: str | None = None
    cls: str = ""
    sort: Any = None


@dataclass
class Table:
    """A sortable, filterable table; rows past `shown` wait behind "show all"."""

    id: str
    headers: list[tuple[str, bool, str]]
    rows: list[list[Cell]]
    shown: int = SHOWN_ROWS
    note: str = ""
    total: int = 0
    widths: list[str] = field(default_factory=list)
    title: str = ""


def build(data: ReportData) -> dict[str, Any]:
    """The page's content."""
    names = Names(dict(data.client_names), list((data.run.get("expectations") or {}).get("apis") or []))
    cube = _with_target(without_period(data.cube), names)
    scope = data.scope
    causes = data.by_cause()
    failing_causes = [str(c) for c in causes.index if c != S.OK]
    colors = palette(failing_causes)
    first, last = data.period()
    v: dict[str, Any] = {
        "scope": scope,
        "title": _title(data, names),
        "period": (f"Requests from {when(first)} to {when(last)}" if first is not None
                   else "No request times in the logs"),
        "version": data.run.get("version") or "",
        "scope_id": None if scope is None or scope.value is None else scope.value,
        "scope_what": "" if scope is None else ("Client id" if scope.dimension == "client_id" else "Audience"),
        "colors": colors,
        "legend": [(SHORT.get(c, c) if c != OTHER else "Other causes", col) for c, col in colors.items()],
    }
    v["headline"] = _headline(data, cube, names, causes)
    v["unverified"] = _unverified(data.run, names) if scope is None else None
    v["cards"] = _cards(data, cube)
    v["changes"] = changes(data.run) if scope is None else None
    v["matrix"] = _matrix(cube, names, colors)
    v["causes"] = _causes(data, cube, causes)
    v["todo"] = _todo(data, cube, names)
    v["timeline"] = _timeline(data, colors)
    v["bars"] = _bars(cube, names, colors, scope)
    v["tables"] = [t for t in (_owner_table(cube, names, d) for d in _table_dims(data, cube)) if t]
    v["details"] = _cause_details(data, cube, names, causes)
    v["diagnosis"] = diagnosis(data.run, names, scope)
    v["method"] = method(data)
    return v


def palette(causes: list[str]) -> dict[str, str]:
    """A colour per cause, most frequent first; causes past the palette share one grey."""
    colors = dict(zip(causes, PALETTE, strict=False))
    if len(causes) > len(PALETTE):
        colors[OTHER] = OTHER_COLOR
    return colors


def _with_target(cube: pd.DataFrame, names: Names) -> pd.DataFrame:
    """The cube with `target`: the API each request was for, by name (`Names.target`, per distinct value)."""
    def per_value(col: str, fn: Any) -> pd.Series:
        s = cube[col]
        values = s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else pd.Index(s.dropna().unique())
        return s.astype(object).map(dict(zip(values, [fn(v) for v in values], strict=True)))

    api = cube["api"].astype(object)
    strong = per_value("audience", names.audience_api)
    host = per_value("host", names.host_api)
    weak = per_value("audience", names.audience)
    target = api.where(api.notna(), strong)
    target = target.where(target.notna(), host)
    target = target.where(target.notna(), weak)
    return cube.assign(target=target.fillna(names.target(None, None, None)).astype(object))


def _title(data: ReportData, names: Names) -> str:
    scope = data.scope
    if scope is None:
        return "Why bearer tokens fail"
    if scope.dimension == "client_id":
        return f"Bearer token failures for client {names.client(scope.value)}"
    return f"Bearer token failures for audience {names.audience(scope.value)}"


_LAST: list[Any] = [None, {}]  # the cube last asked about, and what was computed from it


def _memo(cube: pd.DataFrame, key: Any, make: Any) -> Any:
    """`make()` computed once per cube: a report asks the same questions of its cube many times."""
    if _LAST[0] is not cube:
        _LAST[:] = [cube, {}]
    memo = _LAST[1]
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _failing(cube: pd.DataFrame) -> pd.DataFrame:
    return _memo(cube, "failing", lambda: cube[(cube["cause"] != S.OK).to_numpy()])


def _ranked(cube: pd.DataFrame, dim: str) -> pd.Series:
    """Failing occurrences per value of a dimension (None kept), most first."""
    def make() -> pd.Series:
        s = _sums(_failing(cube), [dim])
        return s[s > 0].sort_values(ascending=False, kind="stable")

    return _memo(cube, ("ranked", dim), make)


def _sums(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Occurrences per group of the keys, as `groupby(keys, observed=True, dropna=False)` sums them: on
    the codes when the keys are categoricals (all but the API column, `target`)."""
    if all(isinstance(rows[k].dtype, pd.CategoricalDtype) for k in keys):
        return group_sums(rows, keys)
    return rows.groupby(keys, observed=True, dropna=False)["occurrences"].sum()


def _by_cause(cube: pd.DataFrame, dim: str) -> dict[Any, list[tuple[str, int]]]:
    """Per value of a dimension (None for missing): its failing causes with their counts, most first."""
    def make() -> dict[Any, list[tuple[str, int]]]:
        g = _sums(_failing(cube), [dim, "cause"])
        out: dict[Any, list[tuple[str, int]]] = {}
        for (k, c), n in g[g > 0].sort_values(ascending=False, kind="stable").items():
            out.setdefault(None if missing(k) else k, []).append((str(c), int(n)))
        return out

    return _memo(cube, ("by_cause", dim), make)


def _headline(data: ReportData, cube: pd.DataFrame, names: Names, causes: pd.Series) -> dict[str, Any]:
    occ, fail = data.occurrences, data.failing
    out: dict[str, Any] = {"occ": count(occ), "fail": count(fail), "rate": pct(fail, occ), "top": [], "none": ""}
    if not occ:
        out["text"] = "No bearer tokens were found in this scope."
        return out
    if not fail:
        out["text"] = f"All {count(occ)} token uses passed every check."
        return out
    out["text"] = f"{pct(fail, occ)} of {count(occ)} token uses failed: {count(fail)} requests carried a bad token."
    top_cause = next(str(c) for c in causes.index if c != S.OK)
    rows: list[tuple[str, str, Any, int, str | None, list[tuple[str, str]]]] = []
    scope = data.scope
    if scope is None or scope.dimension != "client_id":
        clients = _ranked(cube, "client_id")
        named = clients[[not missing(k) for k in clients.index]]
        if len(named):
            cid = named.index[0]
            rows.append(("Client failing most", names.client(cid), cid if names.has_name("client_id", cid) else None,
                         int(named.iloc[0]), _dominant(cube, "client_id", cid),
                         [(names.client(k), count(n)) for k, n in named.iloc[1:4].items()]))
    apis = _ranked(cube, "target")
    if len(apis):
        api = apis.index[0]
        rows.append(("API failing most", str(api), None, int(apis.iloc[0]), _dominant(cube, "target", api),
                     [(str(k), count(n)) for k, n in apis.iloc[1:4].items()]))
    rows.append(("Main cause", ADVICE[top_cause].title, None, int(causes[top_cause]), None, []))
    out["top"] = [
        {"label": label, "name": name, "id": ident, "tip": name if len(name) > 80 else "", "n": count(n),
         "share": pct(n, fail),
         "cause": SHORT.get(dom, dom) if dom else "", "next": nxt}
        for label, name, ident, n, dom, nxt in rows
    ]
    none = _ranked(cube, "client_id")
    none = none[[missing(k) for k in none.index]]
    if len(none) and (scope is None or scope.dimension != "client_id"):
        out["none"] = (f"{count(int(none.iloc[0]))} failing tokens name no client: "
                       f"{_none_client_reason(cube, names)}.")
    return out


def _dominant(cube: pd.DataFrame, dim: str, value: Any) -> str:
    causes = _by_cause(cube, dim).get(None if missing(value) else value) or []
    return causes[0][0] if causes else ""


def _none_client_reason(cube: pd.DataFrame, names: Names) -> str:
    """Why tokens name no client, from their causes: ID tokens (whose audience is the client), unreadable ones.

    Asked for up to three times a page: worked out once per cube (one page's `names`).
    """
    return str(_memo(cube, "none_client_reason", lambda: _no_client(cube, names)))


def _no_client(cube: pd.DataFrame, names: Names) -> str:
    f = _failing(cube)
    f = f[f["client_id"].isna().to_numpy()]
    by = f.groupby("cause", observed=True)["occurrences"].sum()
    parts = []
    id_causes = [c for c in (S.WRONG_TOKEN_TYPE, S.MISSING_NONCE) if by.get(c, 0)]
    if id_causes:
        auds = f[f["cause"].isin(id_causes).to_numpy()]["audience"].dropna().astype(str).unique()
        who = ", ".join(sorted({names.client(a) for a in auds}))
        n = int(sum(by.get(c, 0) for c in id_causes))
        parts.append(f"{count(n)} are ID tokens, which carry no appid or azp; their audience is the client"
                     + (f" ({who})" if who else ""))
    unread = [c for c in (S.MALFORMED, S.ENCRYPTED) if by.get(c, 0)]
    if unread:
        n = int(sum(by.get(c, 0) for c in unread))
        parts.append(f"{count(n)} could not be read ({' or '.join(c for c in unread)})")
    rest = int(by.sum()) - sum(int(by.get(c, 0)) for c in (*id_causes, *unread))
    if rest > 0:
        parts.append(f"{count(rest)} have no appid, azp or client assertion subject")
    return "; ".join(parts) or NONE["client_id"][1]


def _unverified(run: dict[str, Any], names: Names) -> dict[str, Any] | None:
    u = run.get("unverified_ok")
    if not isinstance(u, dict):
        return None
    n = as_int(u.get("count"))
    if n <= 0:
        return None
    issuers = [i for i in u.get("issuers") or [] if isinstance(i, dict)]
    return {
        "count": count(n),
        "unique": count(as_int(u.get("unique_tokens"))),
        # A client assertion's issuer is its client: shown by the config's name for it, when there is one.
        "issuers": [{"issuer": (names.client(i.get("issuer")) if i.get("reason") == ASSERTION_REASON
                                else plain(i.get("issuer"))) or NONE["issuer"][0],
                     "count": count(as_int(i.get("count"))),
                     "reason": plain(i.get("reason"))} for i in issuers[:10]],
        "more": max(len(issuers) - 10, 0),
        # Client assertions and Graph tokens cannot be verified by anyone here: say so, don't ask for keys.
        "need_keys": needs_keys(u),
    }


def _cards(data: ReportData, cube: pd.DataFrame) -> list[dict[str, Any]]:
    occ, fail = data.occurrences, data.failing
    rate = fail / occ if occ else 0.0
    trend, trend_cls = "", ""
    history = data.run.get("history") or []
    if data.scope is None and history and isinstance(history[-1], dict):
        prev = history[-1]
        try:
            prev_rate = float(prev.get("failure_rate", 0))
        except (TypeError, ValueError):
            prev_rate = 0.0
        delta = (rate - prev_rate) * 100
        move = f"up {delta:.1f} points" if delta > 0.05 else f"down {-delta:.1f} points" if delta < -0.05 else \
            "unchanged"
        trend = f"{move} since the previous run ({day_of(prev.get('started_at'))}: {prev_rate:.1%})"
        trend_cls = "up" if delta > 0.05 else "down" if delta < -0.05 else ""
    clients = _ranked(cube, "client_id")
    cards = [
        {"label": "Failure rate", "value": f"{rate:.1%}", "sub": trend, "cls": trend_cls},
        {"label": "Failing token uses", "value": count(fail), "sub": f"of {count(occ)}", "cls": ""},
        {"label": "Distinct tokens", "value": count(data.unique_tokens), "sub": "", "cls": ""},
    ]
    if data.scope is None or data.scope.dimension != "client_id":
        cards.append({"label": "Clients with failures", "value": count(len(clients)), "sub": "", "cls": ""})
    cards.append({"label": "APIs with failures", "value": count(len(_ranked(cube, "target"))), "sub": "", "cls": ""})
    return cards


def _matrix(cube: pd.DataFrame, names: Names, colors: dict[str, str]) -> dict[str, Any] | None:
    """Failing occurrences per client (rows) and API (columns), with the dominant cause of each cell."""
    f = _failing(cube)
    if f.empty:
        return None
    clients = _ranked(cube, "client_id")
    apis = _ranked(cube, "target")
    rows_k = list(clients.index[:MATRIX_CLIENTS])
    cols_k = list(apis.index[:MATRIX_APIS])
    more_cols = len(apis) > len(cols_k)
    g = f.assign(
        r=_keyed(f["client_id"], rows_k), c=_keyed(f["target"], cols_k)
    ).groupby(["r", "c", "cause"], observed=True)["occurrences"].sum()
    cells: dict[tuple[int, int], tuple[int, str]] = {}
    for (r, c, cause), n in g.sort_values(ascending=False, kind="stable").items():
        if n > 0:  # largest first: the first cause of a cell is its dominant one
            total, best = cells.get((r, c), (0, ""))
            cells[(r, c)] = (total + int(n), best or str(cause))
    header = [{"name": str(k), "n": count(int(apis[k]))} for k in cols_k]
    if more_cols:
        header.append({"name": f"{len(apis) - len(cols_k)} other APIs", "n": count(int(apis.iloc[len(cols_k):].sum()))})
    ncols = len(header)
    rows = []
    for i, k in enumerate([*rows_k, *([None] if len(clients) > len(rows_k) else [])]):
        if i < len(rows_k):
            label = names.client(k)
            sub = k if names.has_name("client_id", k) else None
            tip = none_reason("client_id") if missing(k) else str(k)
            total = int(clients[k]) if not missing(k) else int(clients[clients.index.isna()].sum())
        else:
            label, sub, tip = f"{len(clients) - len(rows_k)} other clients", None, ""
            total = int(clients.iloc[len(rows_k):].sum())
        row_cells = []
        for j in range(ncols):
            n, cause = cells.get((i, j), (0, ""))
            row_cells.append({"n": count(n) if n else "", "cause": SHORT.get(cause, cause) if n else "",
                              "color": colors.get(cause, colors.get(OTHER, OTHER_COLOR)) if n else ""})
        rows.append({"label": label, "sub": sub, "tip": tip, "total": count(total), "cells": row_cells,
                     "none": missing(k) and i < len(rows_k)})
    return {"header": header, "rows": rows, "none": any(r["none"] for r in rows),
            "none_reason": _none_client_reason(cube, names)}


def _keyed(col: pd.Series, keys: list[Any]) -> pd.Series:
    """The position of each value among `keys` (None matches a missing value); the rest go to len(keys)."""
    pos = {k: i for i, k in enumerate(keys) if not missing(k)}
    none_at = next((i for i, k in enumerate(keys) if missing(k)), len(keys))
    s = col.astype(object)
    return s.map(pos).where(s.notna(), none_at).fillna(len(keys)).astype("int64")


def _causes(data: ReportData, cube: pd.DataFrame, causes: pd.Series) -> Table:
    fail, occ = data.failing, data.occurrences
    rows = []
    for c, n in causes.items():
        cause = str(c)
        if cause == S.OK:
            continue
        clients = cube.loc[(cube["cause"] == cause).to_numpy(), "client_id"].nunique()
        rows.append([
            Cell(ADVICE[cause].title, sub=cause, href=f"#cause-{cause}"),
            Cell(count(n), num=True),
            Cell(pct(int(n), fail), num=True),
            Cell(count(clients), num=True),
            Cell(FIX.get(cause, "")),
        ])
    ok = int(causes.get(S.OK, 0))
    note = f"Valid: {count(ok)} token uses ({pct(ok, occ)}) passed every check." if occ else ""
    return Table("t-causes", [("Cause", False, ""), ("Failing", True, "token uses"), ("Share", True, "of failures"),
                              ("Clients", True, "distinct client ids"), ("What to do", False, "")],
                 rows, shown=TABLE_ROWS, note=note, total=len(rows),
                 widths=["28%", "9%", "8%", "8%", "47%"])


def _example_detail(data: ReportData, cause: str, cid: Any) -> str:
    for e in data.examples.get(cause, []):
        if (e.get("client_id") is None and missing(cid)) or e.get("client_id") == cid:
            return str(e.get("detail") or "")
    return ""


def _todo(data: ReportData, cube: pd.DataFrame, names: Names) -> list[dict[str, Any]]:
    """Per client failing most: its failures and the next steps, from the diagnosis and from each cause."""
    diag = {c.get("client_id"): c for c in data.run.get("clients") or [] if isinstance(c, dict)}
    if data.scope is not None and data.scope.dimension != "client_id":
        diag = {}  # a client's diagnosis covers all its audiences: an audience's report keeps to its own
    clients = _ranked(cube, "client_id")
    causes_of = _by_cause(cube, "client_id")
    g = _failing(cube).groupby(["client_id", "target"], observed=True, dropna=False)["occurrences"].sum()
    apis_of: dict[Any, list[str]] = {}
    for k, api in g[g > 0].sort_values(ascending=False, kind="stable").index:
        apis_of.setdefault(None if missing(k) else k, []).append(str(api))
    out = []
    for cid in clients.index[:TODO_MAX]:
        key = None if missing(cid) else str(cid)
        by = list(dict(causes_of.get(key, [])).items())  # its failing causes, most first
        d = diag.get(key) or {}
        steps = [{"text": _named(str(s), key, names), "example": ""} for s in d.get("next_steps") or []]
        covered = set()
        if d.get("audience_mismatches"):
            covered.add(S.AUDIENCE_MISMATCH)
        if d.get("version_mismatches"):
            covered.add(S.ISSUER_MISMATCH)
        if d.get("behaviour") in ("not_refreshing", "refreshing_late"):
            covered.add(S.EXPIRED)
        for c, n in by[:3]:
            cause = str(c)
            if cause in covered:
                continue
            steps.append({"text": f"{SHORT.get(cause, cause)} ({count(n)}): {FIX.get(cause, '')}",
                          "example": humane(_example_detail(data, cause, key))})
        out.append({
            "name": names.client(key), "id": key if names.has_name("client_id", key) else None,
            "tip": none_reason("client_id") if key is None else key,
            "failing": count(int(clients[cid]) if key is not None else sum(n for _, n in by)),
            "causes": ", ".join(f"{SHORT.get(str(c), c)} {count(n)}" for c, n in by[:3]),
            "apis": ", ".join(_clip(a, 48) for a in apis_of.get(key, [])[:3]),
            "behaviour": _behaviour(d.get("behaviour")),
            "steps": steps,
            "none": key is None,
        })
    return out


def _named(step: str, cid: str | None, names: Names) -> str:
    """A diagnosis step with 'Client <id> (<name>)' written as the name, and a long id cut short."""
    if cid and cid in names.clients:
        step = step.replace(f"{cid} ({names.clients[cid]})", names.clients[cid])
    elif cid and len(cid) > 60:
        step = step.replace(cid, _clip(cid, 60))
    return step


def _clip(text: str, limit: int) -> str:
    """Log text cut to `limit` characters, with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _behaviour(b: Any) -> str:
    return {"not_refreshing": "keeps using expired tokens (does not refresh)",
            "refreshing_late": "refreshes tokens late"}.get(str(b), "")


def _timeline(data: ReportData, colors: dict[str, str]) -> dict[str, Markup] | None:
    periods = data.cube.groupby(["period", "cause"], observed=True)["occurrences"].sum().reset_index()
    title = "Failing token uses over time"
    wide, narrow = charts.timelines(periods, title, colors, (charts.WIDTH, charts.NARROW), grain=data.grain)
    if not wide:
        return None
    return {"wide": Markup(charts.safe_svg(wide)), "narrow": Markup(charts.safe_svg(narrow))}


def _bars(cube: pd.DataFrame, names: Names, colors: dict[str, str], scope: Any) -> list[dict[str, Any]]:
    """Stacked bars (HTML) of the clients and APIs failing most, by cause."""
    out = []
    dims = [("client_id", "Clients failing most"), ("target", "APIs failing most")]
    for dim, title in dims:
        if scope is not None and scope.dimension == dim:
            continue
        ranked = _ranked(cube, dim)
        if ranked.empty:
            continue
        causes_of = _by_cause(cube, dim)
        top = int(ranked.iloc[0])
        items = []
        for k, n in ranked.head(CHART_BARS).items():
            parts: dict[str, int] = {}
            for c, m in causes_of.get(None if missing(k) else k, []):
                key = c if c in colors else OTHER
                parts[key] = parts.get(key, 0) + m
            segs = [{"w": f"{100 * m / top:.2f}%", "color": colors.get(c, OTHER_COLOR),
                     "tip": f"{SHORT.get(c, 'Other causes')}: {count(m)}"}
                    for c, m in sorted(parts.items(), key=lambda kv: list(colors).index(kv[0]))]
            label = names.client(k) if dim == "client_id" else str(k)
            items.append({"label": label, "n": count(int(n)), "segs": segs,
                          "tip": none_reason(dim) if missing(k) else str(k)})
        out.append({"title": title, "rows": items})
    return out


def _table_dims(data: ReportData, cube: pd.DataFrame) -> list[str]:
    scope = data.scope
    dims = ["client_id", "target", "audience", "host", "issuer", "tenant_id"]
    return [d for d in dims if not (scope is not None and d == scope.dimension)]


def _owner_table(cube: pd.DataFrame, names: Names, dim: str) -> Table | None:
    if cube.empty or (dim == "tenant_id" and cube[dim].isna().all()):
        return None
    g = per_owner(cube, dim).sort_values(["failing", "total"], ascending=False, kind="stable")
    causes_of = _by_cause(cube, dim)
    shown = g.head(TABLE_ROWS)
    rows = []
    for key, total, failing, last in zip(shown.index, shown["total"].tolist(), shown["failing"].tolist(),
                                         shown["last"].tolist(), strict=True):
        k = None if missing(key) else key
        mine = causes_of.get(k, [])
        top = ", ".join(f"{SHORT.get(c, c)} {count(n)}" for c, n in mine[:3])
        if len(mine) > 3:
            top += f", {len(mine) - 3} more"
        if dim == "target":
            name, sub = str(k), None
        else:
            name = names.name(dim, k)
            sub = k if names.has_name(dim, k) else None
        rows.append([
            Cell(name, sub=sub, tip=none_reason(dim) if k is None else str(k), cls="id"),
            Cell(count(failing), num=True),
            Cell(count(total), num=True),
            Cell(pct(failing, total), num=True),
            Cell(top or "–"),
            Cell(when(last)[:16] if failing else "", sort=when(last)),
        ])
    note = ""
    if len(g) > len(shown):
        note = (f"Showing the {len(shown):,} of {len(g):,} rows with the most failures; summary.parquet and "
                "events/ hold them all.")
    none_note = "" if not g.index.isna().any() else (
        _none_client_reason(cube, names) if dim == "client_id" else none_reason(dim))
    if none_note:
        note = (note + " " if note else "") + f"{NONE.get(dim, ('(none)', ''))[0]}: {none_note}."
    return Table(f"t-{dim}", [(HEADS[dim], False, ""),
                              ("failing", True, "failing token uses"), ("total", True, "all token uses"),
                              ("rate", True, "failure rate"), ("Main causes", False, ""),
                              ("Last seen", False, "UTC")],
                 rows, note=note, total=len(g), widths=["30%", "9%", "9%", "8%", "30%", "14%"], title=TITLES[dim])


def _facts(data: ReportData, c: pd.DataFrame, names: Names, example: dict[str, Any] | None) -> Facts:
    """What the advice for a cause fills in, from the cube's rows of that cause (`c`)."""
    keys = ["client_id", "host", "audience", "issuer", "tenant_id"]
    top = group_sums(c, keys).sort_values(ascending=False)
    (cid, host, aud, iss, tid), n = top.index[0], int(top.iloc[0])
    apis = (data.run.get("expectations") or {}).get("apis") or []
    api: dict[str, Any] = next((a for a in apis if str(host) in (a.get("hosts") or [])), {})
    detail = (str(example.get("detail") or "")
              if example and example.get("client_id") == (None if missing(cid) else cid) else "")
    return Facts(names.client(cid), names.host(host), names.audience(aud) if not missing(aud) else "(no audience)",
                 "" if missing(iss) else str(iss), "" if missing(tid) else str(tid), detail, n,
                 tuple(api.get("audiences", ())), tuple(api.get("issuers", ())))


def _cause_details(data: ReportData, cube: pd.DataFrame, names: Names, causes: pd.Series) -> list[dict[str, Any]]:
    out = []
    fail = data.failing
    for c, n in causes.items():
        cause = str(c)
        if cause == S.OK:
            continue
        a = ADVICE[cause]
        examples = data.cause_examples(cause)
        if data.samples is not None and not shows_token(examples):
            examples = sample_examples(data.samples, cause) or examples
        f = cube[(cube["cause"] == cause).to_numpy()]
        facts = _facts(data, f, names, examples[0] if examples else None)
        steps = [humane(s) for s in (*next_steps(cause, facts), *a.steps)]
        top = group_sums(f, ["client_id"]).sort_values(ascending=False)
        affected = [(names.client(k), count(v), none_reason("client_id") if missing(k) else "")
                    for k, v in top.head(5).items() if v > 0]
        out.append({
            "cause": cause, "title": a.title, "n": count(n), "share": pct(int(n), fail), "meaning": a.meaning,
            "affected": affected if data.scope is None or data.scope.dimension != "client_id" else [],
            "steps": steps, "examples": [example(e) for e in examples],
        })
    return out


__all__ = ["DIMENSIONS", "build", "palette"]
