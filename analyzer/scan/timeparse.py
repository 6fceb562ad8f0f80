"""Timestamps in log lines, normalized to UTC epoch microseconds: the Python face of the core's parser.

The parsing itself is compiled (`src/timeparse.rs`); a time without a zone is read in the zone the
caller names (the config's `timezone`: `UTC`, an offset like `+01:00`, or an IANA name such as
`Europe/Berlin`, read as Python's `zoneinfo` reads it). Zones are passed as that text.
"""

from __future__ import annotations

import analyzer._core as _core

UTC = "UTC"


def zone_from_text(text: str) -> str:
    """The zone text itself when it names a zone; ValueError (saying why) when it does not."""
    problem = _core.zone_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def parse_iso(text: bytes, tz: str = UTC) -> int | None:
    """ISO 8601 (`2026-11-26T03:14:15.123Z`, `2026-11-26 03:14:15+01:00`); no zone means `tz`."""
    return _core.parse_time("iso", text, tz)


def parse_clf(text: bytes, tz: str = UTC) -> int | None:
    """Common log format time: `26/Nov/2026:03:14:15 +0000` (HAProxy's has milliseconds, no zone)."""
    return _core.parse_time("clf", text, tz)


def parse_syslog(text: bytes, year: int, tz: str = UTC, before_us: int | None = None) -> int | None:
    """RFC 3164 time (`Nov 26 03:14:15`), which has no year: the caller supplies one.

    With `before_us` (the file's mtime), a time more than a day after it is taken from the
    year before: a file written in January holds December's lines.
    """
    return _core.parse_time("syslog", text, tz, year, before_us)


def parse_any(text: bytes, tz: str = UTC) -> int | None:
    """Best effort for a value of unknown shape: ISO, CLF, RFC 1123, slashed, then epoch."""
    return _core.parse_time("any", text, tz)


def search_any(line: bytes, year: int, tz: str = UTC, before_us: int | None = None) -> int | None:
    """The first recognisable timestamp anywhere in a line (the generic format's best effort)."""
    return _core.parse_time("search", line, tz, year, before_us)


def from_number(value: float) -> int | None:
    """A JSON number as a time: epoch seconds, milliseconds, microseconds or nanoseconds."""
    return _core.time_from_number(float(value))
