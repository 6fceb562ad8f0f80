"""The hand-written SVG timeline: well-formed, scalable, escaped, deterministic, and true to the numbers."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

import pandas as pd
import pytest

from analyzer import schema as S
from analyzer.report import charts
from analyzer.report.advice import SHORT

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"onload=alert(1) x="', "a\u202eb", "tab\there\x07", None]


def parse(svg: str) -> ET.Element:
    """The SVG's root element, after checking what every chart's root carries."""
    assert svg.startswith("<svg ") and "<?xml" not in svg and "DOCTYPE" not in svg
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg" and root.get("role") == "img" and root.get("aria-label")
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    assert root.get("width") is None and root.get("height") is None  # scales to its column
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
    """A frame shaped like the report's (period, cause, occurrences) table, per hour."""
    df = pd.DataFrame(rows, columns=["period", "cause", "occurrences"])
    df["period"] = pd.to_datetime(df["period"], utc=True).dt.as_unit("us")
    df["cause"] = df["cause"].astype("category")
    df["occurrences"] = df["occurrences"].astype("int64")
    return df


COLORS = {S.AUDIENCE_MISMATCH: "#0072B2", S.EXPIRED: "#E69F00", S.BAD_SIGNATURE: "#009E73"}


def test_hostile_title_is_inert_text() -> None:
    svg = charts.timeline(hourly([("2024-10-10 08:00", S.EXPIRED, 3)]), '<script>alert(1)</script> "x="')
    root = parse(svg)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert not [el for el in root.iter() if el.tag in (NS + "script", "script", NS + "a", NS + "foreignObject")]
    allowed = r"[xy][12]?|width|height|fill|stroke|text-anchor|font-\w+|role|aria-label|viewBox|class|transform|" \
        r"preserveAspectRatio"
    assert all(re.fullmatch(allowed, a) for el in root.iter() for a in el.attrib)
    shown = texts(root)
    # As the report writes it (`=`, `(` and `@` as references), it is still well-formed and the same text.
    assert texts(ET.fromstring(charts.safe_svg(svg))) == shown


def test_empty_input_draws_nothing() -> None:
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
    root = parse(charts.timeline(hourly(rows), "Failing", COLORS))
    rects = bars(root)
    assert len({r.get("x") for r in rects}) == buckets and len(rects) == 2 * buckets
    shown = texts(root)
    assert f"failing per {per}" in shown and "Failing (UTC)" in shown
    assert root.get("aria-label") == "Failing (UTC)"
    dates = [s for s in shown if re.fullmatch(r"\d{4}-\d\d-\d\d", s)]
    assert dates and times[0].strftime("%Y-%m-%d") <= min(dates)
    assert 2 <= len([s for s in shown if re.fullmatch(r"\d\d:\d\d|\d{4}-\d\d-\d\d", s)]) <= 12


def test_timeline_stacks_add_up() -> None:
    """Each part's height is its count on one scale, parts stack without gaps, colours are the ones given."""
    counts = {
        "2024-10-10 08:00": {S.EXPIRED: 40, S.AUDIENCE_MISMATCH: 10, S.OK: 999},
        "2024-10-10 09:00": {S.EXPIRED: 5, S.BAD_SIGNATURE: 25},
        "2024-10-10 11:00": {S.AUDIENCE_MISMATCH: 70},
    }
    rows = [(t, c, n) for t, per in counts.items() for c, n in per.items()]
    root = parse(charts.timeline(hourly(rows), "t", COLORS))
    rects = bars(root)
    assert len(rects) == 5
    per_x: dict[str, list[ET.Element]] = defaultdict(list)
    scales = []
    for r in rects:
        when, name, n = re.fullmatch(r"(.+) · ([\w ]+): ([\d,]+)", r.find(NS + "title").text or "").groups()
        cause = next(c for c in COLORS if SHORT[c] == name)
        assert counts[when][cause] == int(n.replace(",", ""))
        assert r.get("fill") == COLORS[cause]
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
    # The first cause given is at the bottom of each stack; "ok" is never drawn.
    first = [max(parts, key=lambda r: num(r, "y")) for parts in per_x.values()]
    assert {r.get("fill") for r in first} <= {COLORS[S.AUDIENCE_MISMATCH], COLORS[S.EXPIRED]}


def test_causes_without_a_colour_are_one_grey_part() -> None:
    """Past the palette, causes are drawn together as 'Other causes' in grey."""
    rows = [("2024-10-10 08:00", S.EXPIRED, 5), ("2024-10-10 08:00", S.MALFORMED, 2),
            ("2024-10-10 08:00", S.ENCRYPTED, 1)]
    rects = bars(parse(charts.timeline(hourly(rows), "t", {S.EXPIRED: "#E69F00"})))
    assert [(r.get("fill"), (r.find(NS + "title").text or "").split(" · ")[1]) for r in rects] == [
        ("#E69F00", "Expired: 5"), (charts.OTHER, "Other causes: 3")]


def test_narrow_chart_for_phones() -> None:
    """The phone variant is drawn at a phone column's width, so its text is not shrunk."""
    rows = [(str(t), S.EXPIRED, 3) for t in pd.date_range("2024-10-10", periods=24, freq="1h", tz="UTC")]
    wide, narrow = (parse(charts.timeline(hourly(rows), "t", COLORS, width=w)) for w in (charts.WIDTH, charts.NARROW))
    assert wide.get("viewBox", "").split()[2] == str(charts.WIDTH)
    assert narrow.get("viewBox", "").split()[2] == str(charts.NARROW)
    assert len(bars(narrow)) == len(bars(wide)) == 24
    assert 2 <= len([s for s in texts(narrow) if re.fullmatch(r"\d\d:\d\d", s)]) <= 8


def test_y_axis_has_round_ticks_above_the_peak() -> None:
    root = parse(charts.timeline(hourly([("2024-10-10 08:00", S.EXPIRED, 1234)]), "t"))
    ticks = [int(s.replace(",", "")) for s in texts(root) if re.fullmatch(r"[\d,]+", s)]
    assert ticks[0] == 0 and ticks[-1] >= 1234 and len(ticks) >= 3
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


def test_single_bucket_and_huge_counts() -> None:
    huge = 10**17
    rows = [("2024-10-10 08:00", S.EXPIRED, huge), ("2024-10-10 08:00", S.BAD_SIGNATURE, 3 * huge)]
    svg = charts.timeline(hourly(rows), "t", {S.BAD_SIGNATURE: "#009E73", S.EXPIRED: "#E69F00"})
    root = parse(svg)
    rects = bars(root)
    assert len(rects) == 2 and len({r.get("x") for r in rects}) == 1
    assert 0 < num(rects[0], "width") <= charts.MAX_BAR_W
    assert num(rects[0], "height") == pytest.approx(3 * num(rects[1], "height"), abs=0.02)
    assert "08:00" in texts(root) and "2024-10-10" in texts(root)
    assert f"{huge:,}" in " ".join(r.find(NS + "title").text or "" for r in rects)
    assert not re.search(r'="[^"]*(?:e[+-]\d|nan|inf)', svg)
    assert all(num(r, a) >= 0 for r in bars(ET.fromstring(svg)) for a in ("x", "y", "width", "height"))


def test_deterministic_and_self_contained() -> None:
    rows = [
        (f"2024-10-{d:02d} 0{h}:00", c, d * h + 1)
        for d in (10, 11)
        for h in range(5)
        for c in (S.EXPIRED, S.UNKNOWN_KID)
    ]
    svg = charts.timeline(hourly(rows), "t", COLORS)
    assert svg == charts.timeline(hourly(rows), "t", COLORS)
    assert not re.search(r"href|<script|url\(|@import|https?://(?!www\.w3\.org/2000/svg\")", svg, re.I)


def test_a_day_grained_timeline_has_no_hourly_bars() -> None:
    """Over a dataset folded per day, failures within a few days are drawn per day: one bar per day, not per hour."""
    times = pd.date_range("2024-10-10", periods=3, freq="1D", tz="UTC")
    rows = [(str(t), S.EXPIRED, 5) for t in times]
    hourly_svg = parse(charts.timeline(hourly(rows), "Failing", COLORS))
    daily_svg = parse(charts.timeline(hourly(rows), "Failing", COLORS, grain="D"))
    assert len(bars(hourly_svg)) == 3 and "failing per hour" in texts(hourly_svg)  # 49 hourly slots, 3 filled
    assert len(bars(daily_svg)) == 3 and "failing per day" in texts(daily_svg)
