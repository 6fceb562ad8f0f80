"""Timestamps: every shape the formats use, with their zones, normalized to UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analyzer.scan import timeparse as T


def us(s: str) -> int:
    return int(datetime.fromisoformat(s).astimezone(UTC).timestamp() * 1_000_000)


@pytest.mark.parametrize(("text", "want"), [
    (b"2026-11-26T03:14:15Z", "2026-11-26T03:14:15+00:00"),
    (b"2026-11-26T03:14:15.1234567Z", "2026-11-26T03:14:15.123456+00:00"),
    (b"2026-11-26 03:14:15+01:00", "2026-11-26T02:14:15+00:00"),
    (b"2026-11-26T03:14:15-0800", "2026-11-26T11:14:15+00:00"),
    (b"2026-11-26 03:14:15,250", "2026-11-26T03:14:15.250+00:00"),
    (b"26/Nov/2026:03:14:15 -0800", "2026-11-26T11:14:15+00:00"),
    (b"26/Nov/2026:03:14:15.655", "2026-11-26T03:14:15.655+00:00"),
    (b"Thu, 26 Nov 2026 03:14:15 GMT", "2026-11-26T03:14:15+00:00"),
    (b"1795662855", "2026-11-26T03:14:15+00:00"),
    (b"1795662855123", "2026-11-26T03:14:15.123+00:00"),
    (b"1795662855.5", "2026-11-26T03:14:15.5+00:00"),
    (b"2026/11/26 03:14:15", "2026-11-26T03:14:15+00:00"),
])
def test_parse_any(text: bytes, want: str) -> None:
    assert T.parse_any(text) == us(want)


def test_zone_less_times_use_the_configured_zone() -> None:
    berlin = T.zone_from_text("Europe/Berlin")
    assert T.parse_iso(b"2026-07-01 12:00:00", berlin) == us("2026-07-01T10:00:00+00:00")  # summer time
    assert T.parse_iso(b"2026-12-01 12:00:00", berlin) == us("2026-12-01T11:00:00+00:00")
    assert T.parse_clf(b"01/Dec/2026:12:00:00", T.zone_from_text("+05:30")) == us("2026-12-01T06:30:00+00:00")
    # An explicit zone always wins over the default.
    assert T.parse_iso(b"2026-12-01 12:00:00Z", berlin) == us("2026-12-01T12:00:00+00:00")


def test_zone_from_text_rejects_nonsense() -> None:
    for bad in ("Mars/Olympus", "+25:00", "soon"):
        with pytest.raises(ValueError):
            T.zone_from_text(bad)


def test_syslog_year_rolls_back_across_new_year() -> None:
    mtime = us("2027-01-02T00:00:00+00:00")
    assert T.parse_syslog(b"Dec 31 23:59:59", 2027, T.UTC, mtime) == us("2026-12-31T23:59:59+00:00")
    assert T.parse_syslog(b"Jan  1 00:00:01", 2027, T.UTC, mtime) == us("2027-01-01T00:00:01+00:00")


def test_search_any_and_numbers() -> None:
    assert T.search_any(b"x [26/Nov/2026:03:14:15 +0000] y", 2026) == us("2026-11-26T03:14:15+00:00")
    assert T.search_any(b"Nov 26 03:14:15 host app: m", 2026) == us("2026-11-26T03:14:15+00:00")
    assert T.search_any(b"no time here 12345", 2026) is None
    assert T.from_number(1795662855123) == us("2026-11-26T03:14:15.123+00:00")
    assert T.from_number(42) is None
    assert T.parse_iso(b"2026-13-45T99:99:99Z") is None


@pytest.mark.parametrize(("line", "want"), [
    (b"2021/04/01 13:02:31 [error] 1234#0: *1 x", "2021-04-01T13:02:31+00:00"),  # nginx error log
    (b"[GIN] 2026/11/26 - 03:14:15 | 401 |", "2026-11-26T03:14:15+00:00"),
    (b"[Thu Nov 26 03:14:15.123456 2026] [core:error] x", "2026-11-26T03:14:15.123456+00:00"),  # Apache error
])
def test_search_any_finds_slashed_and_asctime_times(line: bytes, want: str) -> None:
    assert T.search_any(line, 1999) == us(want)
