"""The HTML report: one self-contained, offline file that is safe to forward.

Every value that comes from a log or a token goes through `esc`. The page fetches nothing:
a Content-Security-Policy forbids it, and styles are inline.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.advice import ADVICE
from analyzer.config import Settings

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:20px}.bar{background:#cf222e;height:10px;display:inline-block}
.okbar{background:#1a7f37}code,pre{font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;
word-break:break-all}pre{background:#f6f8fa;padding:8px;border-radius:6px;max-height:320px;overflow:auto}
.muted{color:#57606a}@media print{pre{max-height:none}}
"""


def esc(value: Any) -> str:
    """Text for HTML: escaped, with control and bidi-override characters shown as code points."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = str(value)
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", s)
    return html.escape(s, quote=True)


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th{" class=n" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c if isinstance(c, _Raw) else esc(c)}</td>'
                         for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Raw(str):
    """Markup built here from escaped parts."""


def _top(summary: pd.DataFrame, key: str, settings: Settings, limit: int = 15) -> str:
    if summary.empty:
        return "<p class=muted>No tokens.</p>"
    df = summary.assign(failing=summary["occurrences"].where(summary["cause"] != S.OK, 0))
    g = df.groupby(key, dropna=False, observed=True).agg(total=("occurrences", "sum"),
                                                         failing=("failing", "sum")).reset_index()
    g = g[g["failing"] > 0].sort_values("failing", ascending=False).head(limit)
    if g.empty:
        return "<p class=muted>No failures.</p>"
    causes = (df[df["cause"] != S.OK].groupby([key, "cause"], dropna=False, observed=True)["occurrences"].sum()
              .reset_index().sort_values("occurrences", ascending=False))
    rows = []
    for _, r in g.iterrows():
        name = r[key]
        label = "(none)" if pd.isna(name) else str(name)
        if key == "client_id" and not pd.isna(name) and settings.client_name(str(name)):
            label = f"{settings.client_name(str(name))} ({name})"
        mine = causes[causes[key].isna()] if pd.isna(name) else causes[causes[key] == name]
        top = ", ".join(f"{c} {n}" for c, n in zip(mine["cause"].head(3), mine["occurrences"].head(3), strict=False))
        rows.append([label, int(r["failing"]), int(r["total"]), f"{r['failing'] / r['total']:.0%}", top])
    return _table([key, "failing", "total", "failure rate", "top causes"], rows, {1, 2, 3})


def _example(ex: dict[str, Any]) -> str:
    where = f"{ex.get('source')}:{ex.get('line')} ({ex.get('format')}, {ex.get('location')})"
    req = " ".join(str(x) for x in (ex.get("method"), ex.get("host"), ex.get("path"), ex.get("status")) if x)
    parts = [f"<p><b>{esc(where)}</b> {esc(req)} <span class=muted>token {esc(ex.get('token_fp'))}</span></p>",
             f"<p>{esc(ex.get('detail'))}</p>"]
    if ex.get("header") is not None:
        parts.append("<pre>" + esc(json.dumps(ex["header"], indent=1, ensure_ascii=False, default=str)) + "</pre>")
    if ex.get("claims"):
        parts.append("<pre>" + esc(json.dumps(ex["claims"], indent=1, ensure_ascii=False, default=str)) + "</pre>")
    return "".join(parts)


def render(run: dict[str, Any], summary: pd.DataFrame, hourly: pd.DataFrame,
           examples: dict[str, list[dict[str, Any]]], settings: Settings) -> str:
    """The whole report as one HTML string."""
    tok = run["tokens"]
    files = run["files"]
    period = ""
    if not summary.empty:
        period = f"{summary['first_seen'].min()} — {summary['last_seen'].max()}"
    cards = [("Failure rate", f"{tok['failure_rate']:.1%}"), ("Token occurrences", f"{tok['occurrences']:,}"),
             ("Unique tokens", f"{tok['unique']:,}"), ("Lines scanned", f"{files['lines']:,}"),
             ("Files", f"{files['count']:,}")]
    total = max(tok["occurrences"], 1)
    cause_rows = []
    for c, n in sorted(tok["by_cause"].items(), key=lambda kv: -kv[1]):
        if n:
            width = max(1, int(200 * n / total))
            bar = _Raw(f'<span class="bar{" okbar" if c == S.OK else ""}" style="width:{width}px"></span>')
            cause_rows.append([_Raw(f'<a href="#cause-{esc(c)}">{esc(c)}</a>'), n, f"{n / total:.1%}", bar])
    sections = []
    for c, n in sorted(tok["by_cause"].items(), key=lambda kv: -kv[1]):
        if not n or c == S.OK:
            continue
        a = ADVICE[c]
        steps = "".join(f"<li>{esc(s)}</li>" for s in a.steps)
        exs = "".join(_example(e) for e in examples.get(c, []))
        sections.append(f'<section id="cause-{esc(c)}"><h3>{esc(a.title)} <code>{esc(c)}</code> — {n:,}</h3>'
                        f"<p>{esc(a.meaning)}</p><p><b>What to do</b></p><ol>{steps}</ol>"
                        f"<details><summary>Examples</summary>{exs}</details></section>")
    keys = "".join(f"<li>{esc(k['source'])} ({esc(k['origin'])}): kids {esc(', '.join(k['kids']))}</li>"
                   for k in run.get("keys", []))
    errors = "".join(f"<li>{esc(e)}</li>" for e in files["errors"][:50])
    body = f"""
<h1>Bearer token failures</h1>
<p class=muted>{esc(period)}</p>
<div class=cards>{''.join(f'<div class=card>{esc(k)}<b>{esc(v)}</b></div>' for k, v in cards)}</div>
<h2>Causes</h2>{_table(['cause', 'occurrences', 'share', ''], cause_rows, {1, 2})}
<h2>Clients that fail most</h2>{_top(summary, 'client_id', settings)}
<h2>Audiences that fail most</h2>{_top(summary, 'audience', settings)}
<h2>Hosts</h2>{_top(summary, 'host', settings)}
<h2>What to do, cause by cause</h2>{''.join(sections) or '<p>No failures.</p>'}
<h2>How this was obtained</h2>
<ul><li>analyzer {esc(run['version'])}, started {esc(run['started_at'])}</li>
<li>Inputs: {esc(', '.join(map(str, run['inputs'])))}; {files['count']} files, {files['bytes']:,} bytes,
{files['lines']:,} lines; formats: {esc(', '.join(f'{k} {v}' for k, v in files['by_format'].items()))}</li>
<li>Lines not valid UTF-8: {files['lines_undecodable']:,}; masked tokens: {tok['masked']:,}</li>
<li>Leeway: {run['options']['leeway_seconds']} s</li>
<li>Key sets:<ul>{keys or '<li>none: signatures were not checked</li>'}</ul></li>
<li>Read errors:<ul>{errors or '<li>none</li>'}</ul></li></ul>
"""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>Token failures report</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>")
