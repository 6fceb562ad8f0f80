"""W3C extended log files (IIS, also CloudFront): columns named by the latest `#Fields:` directive."""

from __future__ import annotations

import re
from functools import lru_cache

from analyzer import timeparse as T
from analyzer.formats.common import FileContext, LineFields, split_target_bytes, status, strip_port, text

_FIELDS_DIRECTIVE = re.compile(rb"#Fields:[ \t]*(.*?)\r?$", re.M)  # matched where `#Fields:` starts a line
_HOST_FIELDS = ("cs-host", "x-host-header", "cs(host)")
_UA_FIELDS = ("cs(user-agent)", "c-user-agent")
_W3C_LINE = re.compile(rb"^\d{4}-\d{2}-\d{2}[ \t]\d{2}:\d{2}:\d{2}[ \t]")


def field_names(values: bytes) -> list[str]:
    """The lowercased field names in what follows `#Fields:` on a directive line."""
    return [f.lower() for f in values.decode("latin-1").split()]


def field_directives(chunk: bytes) -> list[tuple[int, list[str]]]:
    """Every `#Fields:` directive in a chunk: (offset, lowercased field names), in order.

    Chunks without directives (nearly all) cost one C-level scan.
    """
    out = []
    at = chunk.find(b"#Fields:")
    while at >= 0:
        # Found by `bytes.find`, then matched: a regex anchored at every line start (`^` with
        # re.M) would try each line of the chunk, about 10 ms a chunk.
        if at == 0 or chunk[at - 1] == 0x0A:
            m = _FIELDS_DIRECTIVE.match(chunk, at)
            if m is not None:
                out.append((at, field_names(m[1])))
        at = chunk.find(b"#Fields:", at + 8)
    return out


def looks_like_w3c(line: bytes) -> bool:
    """A W3C directive line, or a data line that starts `date time`."""
    return line.startswith((b"#Software: Microsoft Internet Information", b"#Fields:")) or (
        _W3C_LINE.match(line) is not None and line.count(b" ") + line.count(b"\t") >= 6)


@lru_cache(maxsize=64)
def _plan(names: tuple[str, ...], n: int) -> tuple[tuple[int, ...], ...]:
    """For a line of `n` values: the columns of date, time, stem, user agent, host, method, status,
    client IP and query, each as the indices of its candidate names in order (a repeated name: its
    last column). The same for every line under one `#Fields:` directive, hence cached."""
    col = {name: i for i, name in enumerate(names) if i < n}

    def idx(*keys: str) -> tuple[int, ...]:
        return tuple(col[k] for k in keys if k in col)

    return (idx("date"), idx("time"), idx("cs-uri-stem"), idx(*_UA_FIELDS), idx(*_HOST_FIELDS),
            idx("cs-method"), idx("sc-status"), idx("c-ip"), idx("cs-uri-query"))


def _get(parts: list[bytes], cols: tuple[int, ...]) -> bytes | None:
    """The first of these columns with a value (`-` and empty are none)."""
    for i in cols:
        v = parts[i]
        if v and v != b"-":
            return v
    return None


def parse_w3c(line: bytes, ctx: FileContext) -> LineFields | None:
    """A data line, read with the field names of the latest `#Fields:` directive."""
    names = ctx.iis_fields
    if line.startswith(b"#") or (names[:1] == ["date"] and not _W3C_LINE.match(line)):
        return None
    line = line.rstrip(b"\r")
    parts = line.split(b"\t" if b"\t" in line else b" ")
    c_date, c_time, c_stem, c_ua, c_host, c_method, c_status, c_ip, c_query = _plan(tuple(names), len(parts))
    date, clock = _get(parts, c_date), _get(parts, c_time)
    # W3C times are UTC by definition, whatever the server's zone.
    ts = T.parse_iso(date + b" " + clock + b"Z") if date and clock else None
    _, path = split_target_bytes(_get(parts, c_stem))
    ua = text(_get(parts, c_ua))
    query = None
    if c_query:
        q = c_query[0]
        start = sum(map(len, parts[:q])) + q  # one separator byte after each earlier value
        query = (start, start + len(parts[q]))
    return LineFields(
        ts,
        strip_port(text(_get(parts, c_host))),
        text(_get(parts, c_method)),
        path,
        status(_get(parts, c_status)),
        text(_get(parts, c_ip)),
        # IIS writes spaces inside a value as `+`.
        ua.replace("+", " ") if ua else None,
        query,
    )
