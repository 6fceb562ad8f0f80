"""The hand-written SVG charts: well-formed, escaped, deterministic, and true to the numbers."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

import pandas as pd
import pytest

from analyzer import charts
from analyzer import schema as S
from analyzer.report import _safe_svg

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"onload=alert(1) x="', "a\u202eb", "tab\there\x07", None]


def parse(svg: str) -> ET.Element:
    """The SVG's root element, after checking what every chart's root carries."""
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg" and root.get("role") == "img" and root.get("aria-label")
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert "system-ui" in root.get("font-family", "")
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    """The bar rects (legend swatches excluded)."""
    (group,) = [g for g in root.iter(NS + "g") if g.get("class") == "bars"]
    return list(group.iter(NS + "rect"))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(NS + "text")]


def num(el: ET.Element, attr: str) -> float:
    return float(el.get(attr, "nan"))


def hourly(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """A frame shaped like the report's (hour, cause, occurrences) table."""
    df = pd.DataFrame(rows, columns=["hour", "cause", "occurrences"])
    df["hour"] = pd.to_datetime(df["hour"], utc=True).dt.as_unit("us")
    df["cause"] = df["cause"].astype("category")
    df["occurrences"] = df["occurrences"].astype("int64")
    return df


def test_hbar_one_bar_per_item_largest_at_top() -> None:
    items = [("client-a", 1200), ("client-b", 300), ("client-c", 7)]
    root = parse(charts.hbar(items, "Top clients"))
    rects = bars(root)
    assert len(rects) == 3
    ys = [num(r, "y") for r in rects]
    widths = [num(r, "width") for r in rects]
    assert ys == sorted(ys) and widths == sorted(widths, reverse=True)
    assert widths[1] / widths[0] == pytest.approx(300 / 1200, abs=1e-3)
    assert {"client-a", "client-b", "client-c", "1,200", "300", "7", "Top clients"} <= set(texts(root))
    assert root.get("aria-label") == "Top clients"
    assert [r.find(NS + "title").text for r in rects] == ["client-a: 1,200", "client-b: 300", "client-c: 7"]
    assert all(r.get("fill") == "#cf222e" for r in rects)


def test_hbar_labels_alike_stay_two_bars() -> None:
    """Two ids that are cut to the same label are still two bars."""
    items = [("x" * 60 + "1", 5), ("x" * 60 + "2", 5)]
    root = parse(charts.hbar(items, "t", "#bc4c00"))
    assert len(bars(root)) == 2
    assert texts(root).count(charts.label(items[0][0])) == 2
    assert {r.get("fill") for r in bars(root)} == {"#bc4c00"}


def test_hostile_labels_are_inert_text() -> None:
    svg = charts.hbar([(v, 10 - i) for i, v in enumerate(HOSTILE)], '<b title="x">')
    root = parse(svg)
    assert "<script" not in svg and "<b " not in svg and "\u202e" not in svg and "\x07" not in svg
    assert not [el for el in root.iter() if el.tag in (NS + "script", "script", NS + "a", NS + "foreignObject")]
    allowed = r"[xy][12]?|width|height|fill|stroke|text-anchor|font-\w+|role|aria-label|viewBox|class|transform"
    assert all(re.fullmatch(allowed, a) for el in root.iter() for a in el.attrib)
    shown = texts(root)
    for value in HOSTILE:
        assert charts.label(value) in shown
    assert "a\\u202eb" in shown and "(none)" in shown
    assert root.get("aria-label") == '<b title="x">'
    # As the report writes it (`=`, `(` and `@` as references), it is still well-formed and the same text.
    assert texts(ET.fromstring(_safe_svg(svg))) == shown


def test_empty_input_draws_nothing() -> None:
    assert charts.hbar([], "t") == ""
    assert charts.timeline(hourly([]), "t") == ""
    assert charts.timeline(hourly([("2024-10-10 10:00", S.OK, 50)]), "t") == ""


@pytest.mark.parametrize(
    ("start", "step", "per", "buckets"),
    [("2024-10-10 00:00", "1h", "hour", 30), ("2024-03-01 05:00", "1D", "day", 10), ("2023-01-02", "7D", "week", 30)],
)
def test_timeline_buckets(start: str, step: str, per: str, buckets: int) -> None:
    """Hours up to four days, then days, then weeks: one stacked bar per bucket."""
    times = pd.date_range(start, periods=buckets, freq=step, tz="UTC")
    rows = [(str(t), c, n) for t in times for c, n in ((S.EXPIRED, 3), (S.UNKNOWN_KID, 1), (S.OK, 100))]
    root = parse(charts.timeline(hourly(rows), "Failing"))
    rects = bars(root)
    assert len({r.get("x") for r in rects}) == buckets and len(rects) == 2 * buckets
    shown = texts(root)
    assert f"failing per {per}" in shown and "Failing (UTC)" in shown
    assert root.get("aria-label") == "Failing (UTC)"
    dates = [s for s in shown if re.fullmatch(r"\d{4}-\d\d-\d\d", s)]
    assert dates and times[0].strftime("%Y-%m-%d") <= min(dates)
    assert 2 <= len([s for s in shown if re.fullmatch(r"\d\d:\d\d|\d{4}-\d\d-\d\d", s)]) <= 12


def test_timeline_stacks_add_up() -> None:
    """Each part's height is its count on one scale, parts stack without gaps, colours are the causes'."""
    counts = {
        "2024-10-10 08:00": {S.EXPIRED: 40, S.AUDIENCE_MISMATCH: 10, S.OK: 999},
        "2024-10-10 09:00": {S.EXPIRED: 5, S.BAD_SIGNATURE: 25},
        "2024-10-10 11:00": {S.AUDIENCE_MISMATCH: 70},
    }
    rows = [(t, c, n) for t, per in counts.items() for c, n in per.items()]
    root = parse(charts.timeline(hourly(rows), "t"))
    rects = bars(root)
    assert len(rects) == 5
    per_x: dict[str, list[ET.Element]] = defaultdict(list)
    scales = []
    for r in rects:
        when, cause, n = re.fullmatch(r"(.+) · (\w+): ([\d,]+)", r.find(NS + "title").text or "").groups()
        assert counts[when][cause] == int(n.replace(",", ""))
        assert r.get("fill") == charts.CAUSE_COLORS[cause]
        scales.append(num(r, "height") / int(n.replace(",", "")))
        per_x[r.get("x", "")].append(r)
    assert max(scales) - min(scales) < 0.01
    # Three bars with data and one empty hour (10:00) between them: four slots.
    xs = sorted(float(x) for x in per_x)
    slot = (xs[2] - xs[1]) / 2
    assert xs[1] - xs[0] == pytest.approx(slot, abs=0.02)
    totals = [50, 30, 70]
    tops = [min(num(r, "y") for r in per_x[x]) for x in sorted(per_x, key=float)]
    base = max(num(r, "y") + num(r, "height") for r in rects)
    for top, total in zip(tops, totals, strict=True):
        assert (base - top) / total == pytest.approx((base - tops[2]) / 70, abs=0.01)
    for parts in per_x.values():
        parts.sort(key=lambda r: -num(r, "y"))
        for lower, upper in itertools.pairwise(parts):
            assert num(upper, "y") + num(upper, "height") == pytest.approx(num(lower, "y"), abs=0.02)
    legend = next(g for g in root.iter(NS + "g") if g.get("class") == "legend")
    # Largest cause first (at the bottom of each stack); "ok" is never drawn.
    assert texts(legend) == [S.AUDIENCE_MISMATCH, S.EXPIRED, S.BAD_SIGNATURE]


def test_y_axis_has_round_ticks_above_the_peak() -> None:
    root = parse(charts.timeline(hourly([("2024-10-10 08:00", S.EXPIRED, 1234)]), "t"))
    ticks = [int(s.replace(",", "")) for s in texts(root) if re.fullmatch(r"[\d,]+", s)]
    assert ticks[0] == 0 and ticks[-1] >= 1234 and len(ticks) >= 3
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


def test_single_bucket_and_huge_counts() -> None:
    huge = 10**17
    rows = [("2024-10-10 08:00", S.EXPIRED, huge), ("2024-10-10 08:00", S.BAD_SIGNATURE, 3 * huge)]
    svg = charts.timeline(hourly(rows), "t")
    root = parse(svg)
    rects = bars(root)
    assert len(rects) == 2 and len({r.get("x") for r in rects}) == 1
    assert 0 < num(rects[0], "width") <= charts.MAX_BAR_W
    assert num(rects[0], "height") == pytest.approx(3 * num(rects[1], "height"), abs=0.02)
    assert "08:00" in texts(root) and "2024-10-10" in texts(root)
    assert f"{huge:,}" in (rects[1].find(NS + "title").text or "")
    bar_svg = charts.hbar([("big", 10**30), ("small", 1)], "t")
    root = parse(bar_svg)
    assert f"{10**30:,}" in texts(root)
    assert num(root, "width") >= charts.WIDTH
    for s in (svg, bar_svg):
        assert not re.search(r'="[^"]*(?:e[+-]\d|nan|inf)', s)
        assert all(num(r, a) >= 0 for r in bars(ET.fromstring(s)) for a in ("x", "y", "width", "height"))


def test_deterministic_and_self_contained() -> None:
    rows = [
        (f"2024-10-{d:02d} 0{h}:00", c, d * h + 1)
        for d in (10, 11)
        for h in range(5)
        for c in (S.EXPIRED, S.UNKNOWN_KID)
    ]
    items = [("a", 3), ("b", 2)]
    for draw in (lambda: charts.timeline(hourly(rows), "t"), lambda: charts.hbar(items, "t")):
        svg = draw()
        assert svg == draw()
        assert not re.search(r"href|<script|url\(|@import|https?://(?!www\.w3\.org/2000/svg\")", svg, re.I)
