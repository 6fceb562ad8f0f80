"""The report's timeline as inline SVG, written by hand: no plotting library, a few milliseconds.

The markup is small, deterministic (same input, same bytes), fetches nothing and needs no script.
It scales with its viewBox to the width of its column; the report draws it twice, for a desktop
column and for a phone, so that its text keeps a readable size on both. Every text goes through
`analyzer.report.html.esc`, the one escaper for text in the page. Colours are given per cause by the
report (a palette that colour-blind readers can tell apart); the legend is HTML beside the chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.report.advice import SHORT
from analyzer.report.html import esc, references  # the one escaper for text in the page

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")

FONT = "system-ui, 'DejaVu Sans', sans-serif"
FG, MUTED, GRID, OTHER = "#1b1f24", "#57606a", "#d0d7de", "#8c8c8c"
WIDTH = 1000  # the wide chart's viewBox: drawn at about its own size in a desktop column
NARROW = 360  # the phone chart's viewBox: a phone's column is about as wide, so 11 px text stays 11 px
PAD = 8
TITLE_H = 30  # the title's band at the top
CHAR_W = 6.2  # estimated width of one character at the 11 px font; 10 px text uses SMALL_W
SMALL_W = 5.7
PLOT_H = 180  # the bars' area
MAX_BAR_W = 48
Y_TICKS = 4
# Tick strides (in buckets) that fall on round times: hours of a day, days of a week, weeks of a year.
_STRIDES = {"h": (1, 2, 3, 6, 12, 24, 48), "D": (1, 2, 7, 14, 28, 56), "7D": (1, 2, 4, 13, 26, 52)}
_PER = {"h": "hour", "D": "day", "7D": "week"}
_BUCKET_NS = {"h": pd.Timedelta(hours=1).value, "D": pd.Timedelta(days=1).value, "7D": pd.Timedelta(days=7).value}


def _esc(value: Any) -> str:

    return esc(value)


def safe_svg(svg: str) -> str:
    """The SVG with `=`, `(` and `@` in text nodes written as references, like `esc` does."""
    return re.sub(r">([^<]*)</(text|title)>", lambda m: ">" + references(m.group(1)) + f"</{m.group(2)}>", svg)


def _num(x: float) -> str:
    """A coordinate with at most two decimals, the same bytes for the same value."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _ceil_div(a: int, b: int) -> int:
    """a / b rounded up, exact for counts of any size."""
    return -(-a // b)


def _width(text: str, char_w: float = CHAR_W) -> float:
    """The estimated width of a text: no font is measured, so widths are the same everywhere."""
    return len(text) * char_w


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, fill: str = FG, extra: str = ""
) -> str:
    """A <text> element with escaped content."""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{extra}>'
        f"{_esc(text)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> str:
    """A filled <rect>, with an escaped tooltip when `tip` is given."""
    attrs = f'x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" fill="{fill}"'
    return f"<rect {attrs}><title>{_esc(tip)}</title></rect>" if tip else f"<rect {attrs}/>"


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    """A one-pixel line (an axis, a gridline, a tick)."""
    return f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{stroke}"/>'


def _svg(title: str, width: float, height: float, body: Iterable[str]) -> str:
    """The SVG root, scaled to its column by its viewBox (no fixed size), its title at the top left."""
    w, h = _num(width), _num(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
        f'viewBox="0 0 {w} {h}" preserveAspectRatio="xMinYMin meet" font-family="{FONT}">'
        + _text(PAD, 19, title, size=13, extra=' font-weight="600"')
        + "".join(body)
        + "</svg>"
    )


def timeline(periods: pd.DataFrame, title: str, colors: dict[str, str] | None = None, width: float = WIDTH,
             grain: str = "h") -> str:
    """Failing occurrences by cause over time: stacked bars per hour (per day or week over long periods).

    `periods` holds occurrences per (period, cause), the period an hour (`grain` "h") or a day ("D");
    bars are never finer than the grain.

    `colors` maps causes to colours, most frequent first; causes without one are drawn together as
    `other`. Without `colors` every cause has the grey of `other`.
    """
    return timelines(periods, title, colors, (width,), grain)[0]


def timelines(periods: pd.DataFrame, title: str, colors: dict[str, str] | None = None,
              widths: tuple[float, ...] = (WIDTH,), grain: str = "h") -> list[str]:
    """`timeline` at each of several widths, the buckets counted once."""
    colors = colors or {}
    table, freq = _buckets(periods, colors, grain)
    return [_drawn(table, freq, title, colors, width) for width in widths]


def _drawn(table: pd.DataFrame, freq: str, title: str, colors: dict[str, str], width: float) -> str:
    """The timeline's SVG of its buckets (empty when nothing failed)."""
    peak = int(table.sum(axis=1).max()) if not table.empty else 0
    if peak <= 0:
        return ""
    step = _nice_step(peak)
    ticks = list(range(0, _ceil_div(peak, step) * step + 1, step))
    left = PAD + 16 + max(_width(f"{t:,}", SMALL_W) for t in ticks) + 6  # axis title, then tick values
    plot_w = max(width - left - PAD, 60)
    top = TITLE_H + 6
    bottom = top + PLOT_H
    scale = PLOT_H / ticks[-1]
    body = [
        _y_axis(ticks, left, plot_w, bottom, scale, _PER[freq]),
        _stacks(table, freq, left, plot_w, bottom, scale, colors),
        _x_axis(table.index, freq, left, plot_w, bottom),
    ]
    return _svg(title + " (UTC)", width, bottom + 34, body)


HOURLY_DAYS = 4  # a timeline over at most this many days is drawn per hour


def _buckets(periods: pd.DataFrame, colors: dict[str, str], grain: str = "h") -> tuple[pd.DataFrame, str]:
    """Failing occurrences per time bucket (rows, none missing) and cause (columns, in `colors` order)."""
    df = periods[(periods["cause"] != S.OK) & periods["period"].notna()]
    if df.empty:
        return pd.DataFrame(), "h"
    span = df["period"].max() - df["period"].min()
    # Few enough bars to stay small: hours up to four days, then days, then weeks (never finer than the grain).
    hourly = span <= pd.Timedelta(days=HOURLY_DAYS) and grain == "h"
    freq = "h" if hourly else "D" if span <= pd.Timedelta(days=120) else "7D"
    cause = df["cause"].astype(str)
    df = df.assign(bucket=df["period"].dt.floor(freq), cause=cause.where(cause.isin(list(colors)), "other"))
    table = df.groupby(["bucket", "cause"])["occurrences"].sum().unstack(fill_value=0)
    table = table.reindex(pd.date_range(table.index.min(), table.index.max(), freq=freq), fill_value=0)
    order = [c for c in colors if c in table.columns] + (["other"] if "other" in table.columns and
                                                          "other" not in colors else [])
    return table[order], freq


def _nice_step(top: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) that splits 0..top into about Y_TICKS parts."""
    raw = max(_ceil_div(top, Y_TICKS), 1)
    power = 10 ** (len(str(raw)) - 1)
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _y_axis(ticks: list[int], left: float, plot_w: float, bottom: float, scale: float, per: str) -> str:
    """Gridlines with their values, and the axis title written upwards."""
    out = []
    for t in ticks:
        y = bottom - t * scale
        out.append(_line(left, y, left + plot_w, y, MUTED if t == 0 else GRID))
        out.append(_text(left - 6, y + 3.5, f"{t:,}", anchor="end", size=10, fill=MUTED))
    x, y = PAD + 10, bottom - (ticks[-1] * scale) / 2
    rotate = f' transform="rotate(-90 {_num(x)} {_num(y)})"'
    out.append(_text(x, y, f"failing per {per}", anchor="middle", size=10, fill=MUTED, extra=rotate))
    return "".join(out)


def _slots(n: int, plot_w: float) -> tuple[float, float]:
    """The width of one bucket's slot and of the bar centred in it."""
    slot = plot_w / n
    return slot, min(slot * 0.9, MAX_BAR_W)


def _stacks(table: pd.DataFrame, freq: str, left: float, plot_w: float, bottom: float, scale: float,
            colors: dict[str, str]) -> str:
    """One stacked bar per bucket, the most frequent cause at the bottom, each part with its exact count."""
    slot, bar_w = _slots(len(table), plot_w)
    causes = [str(c) for c in table.columns]
    fills = [colors.get(c, OTHER) for c in causes]
    names = [SHORT.get(c, "Other causes") for c in causes]
    when = [_when(t, freq) for t in table.index]
    out = []
    for i, row in enumerate(table.itertuples(index=False, name=None)):
        x = left + i * slot + (slot - bar_w) / 2
        y = bottom
        for name, color, v in zip(names, fills, row, strict=True):
            if v > 0:
                h = int(v) * scale
                y -= h
                out.append(_rect(x, y, bar_w, h, color, f"{when[i]} · {name}: {int(v):,}"))
    return f'<g class="bars">{"".join(out)}</g>'


def _when(t: pd.Timestamp, freq: str) -> str:
    """A bucket's start as text: date and hour for hours, the date for days and weeks."""
    return t.strftime("%Y-%m-%d %H:%M" if freq == "h" else "%Y-%m-%d")


def _x_axis(index: pd.DatetimeIndex, freq: str, left: float, plot_w: float, bottom: float) -> str:
    """A few bucket starts under their bars, on round times; hours get their date when it changes."""
    n = len(index)
    slot, _ = _slots(n, plot_w)
    room = max(int(plot_w // (_width("2024-10-10", SMALL_W) + 14)), 1)
    need = _ceil_div(n, room)
    stride = next((s for s in _STRIDES[freq] if s >= need), need)
    # Buckets are counted from the epoch, as `floor` does, so a stride of 6 hours falls on 0, 6, 12, 18 h.
    picked = [i for i, t in enumerate(index) if (t.value // _BUCKET_NS[freq]) % stride == 0] or [0]
    out, last_day = [], ""
    for i in picked:
        x = left + (i + 0.5) * slot
        day = index[i].strftime("%Y-%m-%d")
        out.append(_line(x, bottom, x, bottom + 4, MUTED))
        if freq == "h":
            out.append(_text(x, bottom + 15, index[i].strftime("%H:%M"), anchor="middle", size=10, fill=MUTED))
            if day != last_day:
                out.append(_text(x, bottom + 27, day, anchor="middle", size=10, fill=MUTED))
        else:
            out.append(_text(x, bottom + 15, day, anchor="middle", size=10, fill=MUTED))
        last_day = day
    return "".join(out)
