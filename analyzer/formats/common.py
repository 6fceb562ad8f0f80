"""What every format parser shares: the fields of a line, per-file state, and small value helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from analyzer.timeparse import UTC


class LineFields(NamedTuple):
    """The request fields a log line carries; None where the format has no such field."""

    ts: int | None = None  # epoch microseconds, UTC
    host: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    # Byte span of the request's query string within the line, when the format keeps it in a
    # field of its own (IIS `cs-uri-query`, App Gateway `requestQuery`): a token there is in the query.
    query_span: tuple[int, int] | None = None


EMPTY = LineFields()

# IIS's default field list (w3c.LAYOUTS has it and the other common ones).
IIS_DEFAULT_FIELDS = [
    "date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
    "cs(User-Agent)", "cs(Referer)", "sc-status", "sc-substatus", "sc-win32-status", "time-taken",
]


@dataclass
class FileContext:
    """Per-file parsing state: the year for year-less times, the default zone, the W3C field list."""

    year: int = 1970
    tz: tzinfo = UTC
    mtime_us: int | None = None
    # The latest `#Fields:` directive's names; empty until one is seen (lines are then read by shape).
    iis_fields: list[str] = field(default_factory=list)


# A logged duration shorter than this is not taken off the logged time: for an API call the two
# are the same second, and most formats' times have whole seconds only. A longer one (a WebSocket,
# a long poll, a slow upload) is: the token was checked when the request arrived.
MIN_DURATION_US = 1_000_000


def arrival(logged_us: int | None, duration_us: float | None) -> int | None:
    """When a request arrived, from the time its entry was logged (after the response) and its duration."""
    if logged_us is None or duration_us is None or not duration_us >= MIN_DURATION_US:
        return logged_us
    return logged_us - int(duration_us)


def seconds_us(b: bytes | str | float | int | None, scale: float = 1_000_000) -> float | None:
    """A logged duration (seconds, or another unit by `scale`) in microseconds; None if not a number."""
    if b is None or isinstance(b, bool):
        return None
    try:
        v = float(b)
    except ValueError:
        return None
    return v * scale if 0 <= v < 1e12 else None


def text(b: bytes | None) -> str | None:
    """A field's text; None for the `-` and empty placeholders logs use for 'no value'."""
    if b is None or b in (b"-", b"", b'""'):
        return None
    return b.decode("utf-8", "replace")


def status(b: bytes | str | int | float | None) -> int | None:
    """An HTTP status from a field, or None when it is not a three-digit code."""
    if isinstance(b, float) and b.is_integer():
        b = int(b)
    if isinstance(b, int) and not isinstance(b, bool):
        return b if 100 <= b <= 999 else None
    if isinstance(b, (bytes, str)) and len(b) == 3 and b.isdigit():
        return int(b)
    return None


def split_target(target: str | None) -> tuple[str | None, str | None]:
    """(host, path without query) from a request target: `/a?b`, or `https://h/a?b`."""
    if not target:
        return None, None
    if "://" in target[:12]:
        try:
            parts = urlsplit(target)
            return (parts.hostname, parts.path or "/")
        except ValueError:
            return None, target.split("?", 1)[0]
    if target == "*" or not target.startswith("/"):
        # CONNECT host:port, or an authority form: no path to speak of.
        return None, target.split("?", 1)[0] or None
    return None, target.split("?", 1)[0]


@lru_cache(maxsize=1024)
def _split_url(target: str) -> tuple[str | None, str | None]:
    """`split_target` of an absolute URL without its query (few distinct values: cached)."""
    try:
        parts = urlsplit(target)
        return (parts.hostname, parts.path or "/")
    except ValueError:
        return None, target


def split_target_bytes(target: bytes | None) -> tuple[str | None, str | None]:
    """`split_target(text(target))` without decoding, copying or URL-parsing the query string.

    A token in the query makes a target 1.5 KB long; the path before `?` is all that is kept.
    Decoding the part before an ASCII `?` gives the same text as cutting the decoded whole, and
    `urlsplit` reads scheme, host and path from before the first `?` alone, so both are exact.
    """
    if target is None or target in (b"-", b"", b'""'):
        return None, None
    head = target.partition(b"?")[0]
    # `"://" in target[:12]` looks at 12 characters: on bytes that is only the same when they are ASCII.
    if not head.isascii() or (len(head) < 12 and not target[:12].isascii()):
        return split_target(text(target))
    path = head.decode("ascii")
    if b"://" in target[:12]:
        return _split_url(path)
    if not head.startswith(b"/"):
        return None, path or None
    return None, path


HOSTNAME = re.compile(rb"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}\.?(?::\d{1,5})?$")


def strip_port(host: str | None) -> str | None:
    """A Host value without its port, lowercased (`[::1]:443` keeps its brackets off too)."""
    if not host:
        return None
    if host.startswith("["):
        return host[1:].split("]", 1)[0].lower() or None
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".").lower() or None


def strip_client_port(addr: str | None) -> str | None:
    """`203.0.113.9:51234` → `203.0.113.9`; IPv6 without brackets is left alone."""
    if not addr:
        return None
    if addr.startswith("["):
        return addr[1:].split("]", 1)[0]
    if addr.count(":") == 1:
        return addr.split(":", 1)[0]
    return addr
