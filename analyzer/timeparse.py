"""Timestamps found in log lines, normalized to UTC epoch microseconds.

Parsers are small and cached by their input text: lines of one second share one parse.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MIN_US = -62135596800 * 1_000_000
_MAX_US = 253402300799 * 1_000_000

ISO_RE = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|z|[+-]\d{2}:?\d{2}|UTC)?"
)
CLF_RE = re.compile(rb"(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([+-]\d{4}))?")
SYSLOG_RE = re.compile(rb"\b([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b")
EPOCH_RE = re.compile(rb"(?<![\d.])(1[5-9]\d{8}|2[0-9]\d{8})(?:(\d{3})|\.(\d{1,6}))?(?![\d])")


def _offset_seconds(zone: bytes | None) -> int | None:
    if not zone or zone in (b"Z", b"z", b"UTC"):
        return 0
    sign = -1 if zone[:1] == b"-" else 1
    digits = zone[1:].replace(b":", b"")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def to_us(year: int, month: int, day: int, hh: int, mm: int, ss: int, frac: bytes | None,
          offset: int) -> int | None:
    """Epoch microseconds of a wall-clock time at a UTC offset (seconds), or None if impossible."""
    try:
        dt = datetime(year, month, day, hh, mm, min(ss, 59), tzinfo=timezone.utc)
    except ValueError:
        return None
    us = int((dt - _EPOCH) // timedelta(microseconds=1)) - offset * 1_000_000
    if frac:
        us += int(frac[:6].ljust(6, b"0"))
    return us


@lru_cache(maxsize=4096)
def parse_iso(text: bytes, default_offset: int = 0) -> int | None:
    """ISO 8601 (`2026-11-26T03:14:15.123Z`, `2026-11-26 03:14:15+01:00`); no zone means the default."""
    m = ISO_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    off = _offset_seconds(zone) if zone else default_offset
    return to_us(int(y), int(mo), int(d), int(hh), int(mi), int(ss), frac, off or 0)


@lru_cache(maxsize=4096)
def parse_clf(text: bytes, default_offset: int = 0) -> int | None:
    """Common log format time: `26/Nov/2026:03:14:15 +0000`."""
    m = CLF_RE.match(text)
    if not m:
        return None
    d, mon, y, hh, mi, ss, frac, zone = m.groups()
    month = _MONTHS.get(mon.lower().decode())
    if month is None:
        return None
    off = _offset_seconds(zone) if zone else default_offset
    return to_us(int(y), month, int(d), int(hh), int(mi), int(ss), frac, off or 0)


def parse_syslog(text: bytes, year: int, default_offset: int = 0) -> int | None:
    """RFC 3164 time (`Nov 26 03:14:15`), which has no year: the caller supplies one."""
    m = SYSLOG_RE.match(text)
    if not m:
        return None
    mon, d, hh, mi, ss = m.groups()
    month = _MONTHS.get(mon.lower().decode())
    if month is None:
        return None
    return to_us(year, month, int(d), int(hh), int(mi), int(ss), None, default_offset)


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


def parse_any(text: bytes, default_offset: int = 0) -> int | None:
    """Best effort for a value of unknown shape: ISO, CLF, then epoch."""
    return parse_iso(text, default_offset) or parse_clf(text, default_offset) or parse_epoch(text)


def search_any(line: bytes, year: int, default_offset: int = 0) -> int | None:
    """The first recognisable timestamp anywhere in a line (the generic format's best effort)."""
    for rx, parse in ((ISO_RE, parse_iso), (CLF_RE, parse_clf)):
        m = rx.search(line)
        if m:
            v = parse(m.group(0), default_offset)
            if v is not None:
                return v
    m = SYSLOG_RE.search(line)
    if m:
        v = parse_syslog(m.group(0), year, default_offset)
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
