"""The HTML report: one self-contained, offline file that is safe to forward.

The page is built from Jinja2 templates (analyzer/templates) with autoescaping on: every value a
template prints goes through `esc` unless it is markup this module made. The page fetches nothing:
a Content-Security-Policy forbids it, styles and charts are inline, and the one inline script
(sorting, filtering, "show all") is allowed by its hash only. What the page says is assembled here
and in `report_view` as plain values; the templates only lay it out.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import hashlib
from typing import Any

from markupsafe import Markup

from analyzer.report.assets import SCRIPT, STYLE
from analyzer.report.data import ReportData
from analyzer.report.html import esc
from analyzer.report.text import GUID, Names, PathScrubber, count, none_reason, pct, when
from analyzer.report.view import build

# Beyond html.escape: `=`, `(` and `@` as references, so no log text can look like a URL attribute,
# a CSS url() or an @import to a checker that reads the raw file.
# The scrubber of the page being rendered: machine paths leave every printed value.
_SCRUB: contextvars.ContextVar[PathScrubber | None] = contextvars.ContextVar("scrub", default=None)


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` of a template: our markup as it is, anything else scrubbed and escaped."""
    if isinstance(value, Markup):
        return value
    scrub = _SCRUB.get()
    text = "" if value is None else str(value)
    return Markup(esc(scrub(text) if scrub is not None else text))


def ident(value: Any, limit: int | None = None) -> Markup:
    """An id as shown in a cell: each GUID shortened to its ends; the full value stays for copy and search.

    The middle of a GUID is kept in the page at font size 0 and an ellipsis is drawn in its place,
    so selecting and copying the cell copies the whole id, and the filter box still finds it. A
    value longer than `limit` (log text can be anything) is cut, with an ellipsis; its tooltip
    holds it whole.
    """
    text = "" if value is None else str(value)
    scrub = _SCRUB.get()
    text = scrub(text) if scrub is not None else text
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out, at = [], 0
    for m in GUID.finditer(text):
        g = m.group(0)
        out += [esc(text[at : m.start()]), esc(g[:8]), f'<span class="gm">{esc(g[8:-4])}</span>', esc(g[-4:])]
        at = m.end()
    out.append(esc(text[at:]))
    return Markup("".join(out))


@functools.cache
def _env(strict: bool = False) -> Any:
    """The templates' environment: autoescaping on, every printed value through `_finalize`.

    A value a template names but the view lacks prints as nothing; tests render with `strict` so
    that such a slip fails there instead.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined if strict else jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ident=ident, n=count, when=when)
    return env


def csp() -> str:
    """The page's Content-Security-Policy: nothing may be fetched; only our own script runs."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


STRICT = False  # tests: a name missing from the view is an error, not an empty string


def _page(template: str, run: dict[str, Any], **context: Any) -> str:
    token = _SCRUB.set(PathScrubber(run))
    try:
        return _env(STRICT).get_template(template).render(
            csp=Markup(csp()), style=Markup(STYLE), script=Markup(SCRIPT), **context
        ) + "\n"
    finally:
        _SCRUB.reset(token)


def compile_template() -> None:
    """Load and compile the report's templates ahead of `render` (a run does it while its workers scan):
    the page's own, and those it extends and imports from, which `render` would compile otherwise."""
    env = _env(STRICT)
    for name in ("report.html.j2", "base.html.j2", "macros.html.j2"):
        env.get_template(name)


def render(data: ReportData) -> str:
    """The whole report as one HTML string."""
    view = build(data)
    return _page("report.html.j2", data.run, v=view)


def render_index(entries: list[tuple[str, str | None, int, int]], dimension: str, data: ReportData) -> str:
    """The index of per-owner reports: (file name, owner, occurrences, failing) per report."""
    names = Names.of_run(data.run)
    what = "client" if dimension == "client_id" else "audience"
    rows = [
        {
            "href": fname,
            "name": names.name(dimension, owner),
            "id": owner if names.has_name(dimension, owner) else None,
            "tip": none_reason(dimension) if owner is None else owner,
            "failing": count(fail),
            "total": count(occ),
            "rate": pct(fail, occ),
        }
        for fname, owner, occ, fail in entries
    ]
    first, last = data.period()
    none = next((f"{names.name(dimension, None)}: {none_reason(dimension)}." for _, o, _, _ in entries
                 if o is None), "")
    return _page(
        "index.html.j2", data.run, what=what, rows=rows, first=when(first), last=when(last), none=none,
        title=f"Token failure reports, one per {what}",
    )
