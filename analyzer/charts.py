"""Charts as inline SVG, drawn with matplotlib (imported only when a report is drawn).

SVG output is small, deterministic (fixed hash salt, no dates) and needs no script. Labels come
from logs, so they are cut short and have control characters made visible; matplotlib escapes
the rest as XML text, and `_clean_svg` drops the XML prolog so the markup can sit inside HTML.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd

from analyzer import schema as S

CAUSE_COLORS: dict[str, str] = {
    S.MALFORMED: "#6e7781",
    S.ENCRYPTED: "#8c959f",
    S.UNSUPPORTED_ALG: "#82071e",
    S.MISSING_CLAIMS: "#bf8700",
    S.WRONG_TOKEN_TYPE: "#8250df",
    S.AUDIENCE_MISMATCH: "#cf222e",
    S.ISSUER_MISMATCH: "#bc4c00",
    S.UNKNOWN_KID: "#0969da",
    S.BAD_SIGNATURE: "#a40e26",
    S.EXPIRED: "#fb8f44",
    S.NOT_YET_VALID: "#4d2d00",
    S.MISSING_NONCE: "#1f6feb",
    S.CLIENT_ASSERTION_KEY_MISMATCH: "#6639ba",
    S.OK: "#2da44e",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_FONT = "font-family: 'DejaVu Sans', sans-serif"
MAX_LABEL = 42


def label(value: Any) -> str:
    """A log-derived value as a short, visible chart label."""
    if value is None or (isinstance(value, float) and value != value):
        return "(none)"
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(value))
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "analyzer",
            "svg.fonttype": "none",
            "text.parse_math": False,
            "text.usetex": False,
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Any, title: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = _METADATA.sub("", _PROLOG.sub("", buf.getvalue()))
    svg = re.sub(r"font-family: [^;\"]*", _FONT, svg)
    from analyzer.report import esc  # the one escaper for text in the page

    return svg.replace("<svg ", f'<svg role="img" aria-label="{esc(title)}" ', 1)


def hbar(items: list[tuple[Any, int]], title: str, color: str = "#cf222e") -> str:
    """A horizontal bar chart, largest at the top, with each count beside its bar."""
    if not items:
        return ""
    labels = [label(k) for k, _ in items][::-1]
    values = [int(v) for _, v in items][::-1]
    fig = _figure(7.5, 0.6 + 0.28 * len(items))
    ax = fig.subplots()
    # Positions, not labels, place the bars: two different ids that look alike stay two bars.
    bars = ax.barh(range(len(values)), values, color=color, height=0.7)
    ax.set_yticks(range(len(values)), labels)
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=8)
    ax.set_xlim(0, max(values) * 1.18 + 1)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.set_title(title, loc="left", fontsize=10)
    return _svg(fig, title)


def timeline(hourly: pd.DataFrame, title: str) -> str:
    """Failing occurrences by cause over time: stacked bars per hour (per day or week over long periods)."""
    df = hourly[(hourly["cause"] != S.OK) & hourly["hour"].notna()]
    if df.empty:
        return ""
    span = df["hour"].max() - df["hour"].min()
    # Few enough bars to stay small: hours up to four days, then days, then weeks.
    freq = "h" if span <= pd.Timedelta(days=4) else "D" if span <= pd.Timedelta(days=120) else "7D"
    df = df.assign(bucket=df["hour"].dt.floor(freq), cause=df["cause"].astype(str))
    table = df.pivot_table(index="bucket", columns="cause", values="occurrences", aggfunc="sum", fill_value=0)
    full = pd.date_range(table.index.min(), table.index.max(), freq=freq)
    table = table.reindex(full, fill_value=0)
    order = [c for c in S.CAUSES if c in table.columns]
    table = table[sorted(order, key=lambda c: -int(table[c].sum()))]
    fig = _figure(7.5, 2.8)
    ax = fig.subplots()
    x = table.index.tz_convert(None) if table.index.tz is not None else table.index
    width = pd.Timedelta("1" + freq if freq[0].isalpha() else freq) * 0.9
    bottom = [0] * len(table)
    for cause in table.columns:
        vals = table[cause].to_numpy()
        ax.bar(
            x,
            vals,
            width=width,
            bottom=bottom,
            color=CAUSE_COLORS.get(cause, "#57606a"),
            label=cause,
            align="edge",
            linewidth=0,
        )
        bottom = [b + int(v) for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("failing per " + {"h": "hour", "D": "day"}.get(freq, "week"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.autofmt_xdate()
    ax.set_title(title + " (UTC)", loc="left", fontsize=10)
    return _svg(fig, title)
