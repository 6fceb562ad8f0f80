"""Timestamps found in log lines, normalized to UTC epoch microseconds.

Parsers are small and cached by their input text: lines of one second share one parse. A time
without a zone is read in the zone the caller passes (the config's `timezone`, UTC by default).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_US = -62135596800 * 1_000_000
_MAX_US = 253402300799 * 1_000_000
UTC: tzinfo = UTC

ISO_RE = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    rb"\s?(Z|z|[+-]\d{2}:?\d{2}(?!\d)|UTC|GMT)?"
)
CLF_RE = re.compile(
    rb"(\d{1,2})/([A-Za-z]{3})/(\d{4})[: ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    rb"(?: ?([+-]\d{4}|[+-]\d{2}:\d{2}|Z))?"
)
# `2026/11/26 03:14:15`: nginx's error log, Go's `log` package; a wall time without a zone.
# Gin writes `2026/11/26 - 03:14:15`.
SLASHED_RE = re.compile(rb"(\d{4})/(\d{2})/(\d{2})(?:[ T]| - )(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?")
# asctime, as Apache's error log writes it: `Thu Nov 26 03:14:15.123456 2026`.
ASCTIME_RE = re.compile(rb"[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (\d{4})\b")
SYSLOG_RE = re.compile(rb"\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\b")
EPOCH_RE = re.compile(rb"(?<![\w.])(1[5-9]\d{8}|2[0-9]\d{8})(?:(\d{3})|\.(\d{1,9}))?(?![\w])")


def zone_from_text(text: str) -> tzinfo:
    """A zone from `UTC`, `+01:00` / `-0800`, or an IANA name; ValueError when it is none of them."""
    t = text.strip()
    if t.upper() in ("UTC", "Z", "GMT"):
        return UTC
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", t)
    if m:
        minutes = int(m[2]) * 60 + int(m[3])
        if minutes >= 24 * 60:
            raise ValueError(f"offset {t!r} is out of range")
        return timezone((-1 if m[1] == "-" else 1) * timedelta(minutes=minutes))
    try:
        return ZoneInfo(t)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {t!r} (use UTC, an offset like +01:00, or a name like "
                         "Europe/Berlin)") from None


def _offset_seconds(zone: bytes) -> int:
    if zone in (b"Z", b"z", b"UTC", b"GMT"):
        return 0
    sign = -1 if zone[:1] == b"-" else 1
    digits = zone[1:].replace(b":", b"")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


@lru_cache(maxsize=1024)
def _utc_day_us(year: int, month: int, day: int) -> int | None:
    """Epoch microseconds of a UTC midnight, or None for an impossible date."""
    try:
        return int((datetime(year, month, day, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1))
    except ValueError:
        return None


def to_us(year: int, month: int, day: int, hh: int, mm: int, ss: int, frac: bytes | None,
          zone: bytes | None, tz: tzinfo = UTC) -> int | None:
    """Epoch microseconds of a wall-clock time with an explicit zone, else in `tz`; None if impossible."""
    if zone or tz is UTC:
        # UTC wall time: the day's epoch, once per day, plus the time of day (a leap second, :60,
        # is read as :59 rather than dropped).
        day_us = _utc_day_us(year, month, day)
        if day_us is None or hh > 23 or mm > 59 or ss > 60:
            return None
        us = day_us + ((hh * 60 + mm) * 60 + min(ss, 59)) * 1_000_000
    else:
        try:
            dt = datetime(year, month, day, hh, mm, min(ss, 59), tzinfo=tz)
        except ValueError:
            return None
        us = int((dt - _EPOCH) // timedelta(microseconds=1))
    if zone:
        us -= _offset_seconds(zone) * 1_000_000
    if frac:
        us += int(frac[:6].ljust(6, b"0"))
    return us


# Most log times have sub-second digits, so a cache of whole texts hardly ever hits (Envoy, ALB):
# the common shapes are read as a cached minute plus seconds and fraction; the rest go to the regex.
_ISO_MINUTE_RE = re.compile(rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})")
_CLF_MINUTE_RE = re.compile(rb"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2})")


@lru_cache(maxsize=1024)
def _iso_minute_us(head: bytes) -> int | None:
    """Epoch microseconds of a UTC `YYYY-MM-DDTHH:MM`; None if it is not one (or impossible)."""
    m = _ISO_MINUTE_RE.fullmatch(head)
    if m is None:
        return None
    y, mo, d, hh, mi = (int(g) for g in m.groups())
    return to_us(y, mo, d, hh, mi, 0, None, b"Z")


@lru_cache(maxsize=1024)
def _clf_minute_us(head: bytes, zone: bytes) -> int | None:
    """Epoch microseconds of `DD/Mon/YYYY:HH:MM` at offset `+HHMM`; None if it is not one (or impossible)."""
    m = _CLF_MINUTE_RE.fullmatch(head)
    if m is None or zone[:1] not in (b"+", b"-") or len(zone) != 5 or not zone[1:].isdigit():
        return None
    month = _MONTHS.get(m[2].lower().decode())
    if month is None:
        return None
    return to_us(int(m[3]), month, int(m[1]), int(m[4]), int(m[5]), 0, None, zone)


def _add_seconds(base: int, ss: bytes, frac: bytes) -> int | None:
    """A minute's epoch plus `SS` and a fraction, the way `to_us` reads them (:60 is :59, above is None)."""
    s = int(ss)
    if s > 60:
        return None
    us = base + min(s, 59) * 1_000_000
    return us + int(frac[:6].ljust(6, b"0")) if frac else us


def parse_iso(text: bytes, tz: tzinfo = UTC) -> int | None:
    """ISO 8601 (`2026-11-26T03:14:15.123Z`, `2026-11-26 03:14:15+01:00`); no zone means `tz`."""
    # Fast path, the same result as the regex for: `...THH:MM:SS` then an optional `.` or `,` and
    # 1-9 digits, then `Z` (or nothing, when the default zone is UTC anyway).
    if len(text) >= 19 and text[16:17] == b":" and text[17:19].isdigit():
        tail = text[19:]
        if tail[-1:] == b"Z":
            tail = tail[:-1]
        elif tz is not UTC:
            tail = b"x"  # no zone: wall time in `tz`, left to the regex path
        if not tail or (tail[:1] in (b".", b",") and len(tail) <= 10 and tail[1:].isdigit()):
            base = _iso_minute_us(text[:16])
            if base is not None:
                return _add_seconds(base, text[17:19], tail[1:])
    return _parse_iso_re(text, tz)


@lru_cache(maxsize=4096)
def _parse_iso_re(text: bytes, tz: tzinfo = UTC) -> int | None:
    m = ISO_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    return to_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), frac, zone, tz)


def parse_clf(text: bytes, tz: tzinfo = UTC) -> int | None:
    """Common log format time: `26/Nov/2026:03:14:15 +0000` (HAProxy's has milliseconds, no zone)."""
    # Fast path for nginx's and Apache's exact shape: a cached minute at its offset, plus seconds.
    if len(text) == 26 and text[17:18] == b":" and text[20:21] == b" ":
        ss = text[18:20]
        if ss.isdigit():
            base = _clf_minute_us(text[:17], text[21:])
            if base is not None:
                s = int(ss)
                return base + s * 1_000_000 if s < 60 else _add_seconds(base, ss, b"")
    return _parse_clf_re(text, tz)


@lru_cache(maxsize=4096)
def _parse_clf_re(text: bytes, tz: tzinfo = UTC) -> int | None:
    m = CLF_RE.match(text)
    return _day_month_year(m.groups(), tz) if m else None


def _day_month_year(groups: tuple[Any, ...], tz: tzinfo) -> int | None:
    """Epoch µs from (day, month name, year, hh, mm, ss, fraction, zone) match groups."""
    d, mon, y, hh, mi, ss, frac, zone = groups
    month = _MONTHS.get(mon.lower().decode())
    if month is None:
        return None
    return to_us(int(y), month, int(d), int(hh), int(mi), int(ss), frac, zone, tz)


@lru_cache(maxsize=1024)
def parse_slashed(text: bytes, tz: tzinfo = UTC) -> int | None:
    """`2026/11/26 03:14:15` (nginx error log, Go's `log`), read in `tz`."""
    m = SLASHED_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac = m.groups()
    return to_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), frac, None, tz)


@lru_cache(maxsize=1024)
def parse_asctime(text: bytes, tz: tzinfo = UTC) -> int | None:
    """`Thu Nov 26 03:14:15.123456 2026` (Apache's error log), read in `tz`."""
    m = ASCTIME_RE.match(text)
    if not m:
        return None
    mon, d, hh, mi, ss, frac, y = m.groups()
    return _day_month_year((d, mon, y, hh, mi, ss, frac, None), tz)


def parse_syslog(text: bytes, year: int, tz: tzinfo = UTC, before_us: int | None = None) -> int | None:
    """RFC 3164 time (`Nov 26 03:14:15`), which has no year: the caller supplies one.

    With `before_us` (the file's mtime), a time more than a day after it is taken from the
    year before: a file written in January holds December's lines.
    """
    m = SYSLOG_RE.match(text)
    if not m:
        return None
    mon, d, hh, mi, ss, frac = m.groups()
    month = _MONTHS.get(mon.lower().decode())
    if month is None:
        return None
    us = to_us(year, month, int(d), int(hh), int(mi), int(ss), frac, None, tz)
    if us is not None and before_us and us > before_us + 86_400_000_000:
        us = to_us(year - 1, month, int(d), int(hh), int(mi), int(ss), frac, None, tz)
    return us


def parse_epoch(text: bytes) -> int | None:
    """Epoch seconds (`1764126855`, `1764126855.123`) or milliseconds (`1764126855123`)."""
    m = EPOCH_RE.match(text)
    if not m:
        return None
    secs, millis, frac = m.groups()
    us = int(secs) * 1_000_000
    if millis:
        us += int(millis) * 1000
    elif frac:
        us += int(frac[:6].ljust(6, b"0"))
    return us


def from_number(value: float) -> int | None:
    """A JSON number as a time: epoch seconds, milliseconds, microseconds or nanoseconds."""
    v = float(value)
    for scale in (1, 1e3, 1e6, 1e9):
        if 1e9 <= v / scale < 1e10:  # 2001..2286 in seconds
            return round(v / scale * 1_000_000)
    return None


def parse_any(text: bytes, tz: tzinfo = UTC) -> int | None:
    """Best effort for a value of unknown shape: ISO, CLF, RFC 1123, then epoch."""
    text = text.strip()
    return (parse_iso(text, tz) or parse_clf(text, tz) or parse_rfc1123(text, tz) or parse_slashed(text, tz)
            or (parse_epoch(text) if EPOCH_RE.fullmatch(text) else None))


_RFC1123_RE = re.compile(rb"(?:[A-Za-z]{3},? )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})"
                         rb"(?:\.(\d{1,6}))? ?(GMT|UTC|Z|[+-]\d{4})?")


@lru_cache(maxsize=1024)
def parse_rfc1123(text: bytes, tz: tzinfo = UTC) -> int | None:
    """HTTP-date style: `Wed, 26 Nov 2026 03:14:15 GMT`."""
    m = _RFC1123_RE.match(text)
    return _day_month_year(m.groups(), tz) if m else None


def search_any(line: bytes, year: int, tz: tzinfo = UTC, before_us: int | None = None) -> int | None:
    """The first recognisable timestamp anywhere in a line (the generic format's best effort)."""
    for rx, parse in ((ISO_RE, parse_iso), (CLF_RE, parse_clf), (SLASHED_RE, parse_slashed),
                      (ASCTIME_RE, parse_asctime)):
        m = rx.search(line)
        if m:
            v = parse(m.group(0), tz)
            if v is not None:
                return v
    m = SYSLOG_RE.search(line)
    if m:
        v = parse_syslog(m.group(0), year, tz, before_us)
        if v is not None:
            return v
    m = EPOCH_RE.search(line)
    return parse_epoch(m.group(0)) if m else None


def clamp_us(value: float) -> int | None:
    """A NumericDate (seconds) as epoch microseconds, or None when it is outside years 1..9999."""
    us = value * 1_000_000
    if us != us or us < _MIN_US or us > _MAX_US:
        return None
    return int(us)
