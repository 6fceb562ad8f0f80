"""Prefixes that wrap another line: syslog (RFC 3164 and 5424, rsyslog's ISO form) and Kubernetes CRI.

`unwrap` returns the wrapper's time and where the wrapped message starts; the caller parses the
message with the other formats (an nginx line sent to syslog is still an nginx line).
"""

from __future__ import annotations

import re

from analyzer import timeparse as T
from analyzer.formats.common import FileContext

_PRI = rb"(?:<\d{1,3}>)?"
RFC3164 = re.compile(
    _PRI + rb"(?P<ts>[A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(?: \d{4})? "
    rb"(?:[^:\s]+ ){0,2}?[^:\s\[]*(?:\[[^\]\s]*\])?: ?"
)
RFC5424 = re.compile(
    _PRI + rb"\d{1,2} (?P<ts>\d{4}-\d{2}-\d{2}T\S+|-) \S+ \S+ \S+ \S+"
    rb"(?: -| (?:\[(?:[^\]\\]|\\.)*\])+)?(?: |$)"
    rb"(?:\xef\xbb\xbf)?"
)
ISO_SYSLOG = re.compile(
    _PRI + rb"(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) "
    # The tag is not an `address:port` (a Classic ELB line has the same start).
    rb"\S+ (?!\d[\d.]*:\d)[^:\s\[]+(?:\[[^\]\s]*\])?: ?"
)
CRI = re.compile(rb"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) "
                 rb"(?:stdout|stderr) [FP] ")


def unwrap(line: bytes, ctx: FileContext) -> tuple[str, int | None, int] | None:
    """(wrapper kind, its time, offset of the wrapped message), or None for an unwrapped line."""
    m = CRI.match(line)
    if m:
        return "cri", T.parse_iso(m["ts"], ctx.tz), m.end()
    m = RFC5424.match(line)
    if m:
        return "syslog", T.parse_iso(m["ts"], ctx.tz), m.end()
    m = ISO_SYSLOG.match(line)
    if m:
        return "syslog", T.parse_iso(m["ts"], ctx.tz), m.end()
    m = RFC3164.match(line)
    if m:
        return "syslog", T.parse_syslog(m["ts"], ctx.year, ctx.tz, ctx.mtime_us), m.end()
    return None


def looks_like_syslog(line: bytes) -> bool:
    """A syslog header (either RFC) at the start of the line."""
    return (RFC5424.match(line) or ISO_SYSLOG.match(line) or RFC3164.match(line)) is not None
