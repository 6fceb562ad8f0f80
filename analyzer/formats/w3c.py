"""W3C extended log files (IIS, also CloudFront): columns named by the latest `#Fields:` directive."""

from __future__ import annotations

import re

from analyzer import timeparse as T
from analyzer.formats.common import FileContext, LineFields, split_target, status, strip_port, text

_FIELDS_DIRECTIVE = re.compile(rb"^#Fields:[ \t]*(.*?)\r?$", re.M)
_HOST_FIELDS = ("cs-host", "x-host-header", "cs(host)")
_UA_FIELDS = ("cs(user-agent)", "c-user-agent")
_W3C_LINE = re.compile(rb"^\d{4}-\d{2}-\d{2}[ \t]\d{2}:\d{2}:\d{2}[ \t]")


def field_directives(chunk: bytes) -> list[tuple[int, list[str]]]:
    """Every `#Fields:` directive in a chunk: (offset, lowercased field names), in order.

    A `bytes.find` first, so chunks without directives (nearly all) cost one C-level scan.
    """
    if b"#Fields:" not in chunk:
        return []
    return [(m.start(), [f.lower() for f in m[1].decode("latin-1").split()])
            for m in _FIELDS_DIRECTIVE.finditer(chunk)]


def looks_like_w3c(line: bytes) -> bool:
    """A W3C directive line, or a data line that starts `date time`."""
    return line.startswith((b"#Software: Microsoft Internet Information", b"#Fields:")) or (
        _W3C_LINE.match(line) is not None and line.count(b" ") + line.count(b"\t") >= 6)


def _split(line: bytes) -> list[tuple[int, int]]:
    sep = b"\t" if b"\t" in line else b" "
    spans, pos = [], 0
    while True:
        end = line.find(sep, pos)
        if end < 0:
            spans.append((pos, len(line)))
            return spans
        spans.append((pos, end))
        pos = end + 1


def parse_w3c(line: bytes, ctx: FileContext) -> LineFields | None:
    """A data line, read with the field names of the latest `#Fields:` directive."""
    names = ctx.iis_fields
    if line.startswith(b"#") or (names[:1] == ["date"] and not _W3C_LINE.match(line)):
        return None
    line = line.rstrip(b"\r")
    spans = _split(line)
    col = {name: spans[i] for i, name in enumerate(names) if i < len(spans)}

    def get(*keys: str) -> bytes | None:
        for k in keys:
            span = col.get(k)
            if span is not None:
                v = line[span[0]:span[1]]
                if v not in (b"-", b""):
                    return v
        return None

    date, clock = get("date"), get("time")
    # W3C times are UTC by definition, whatever the server's zone.
    ts = T.parse_iso(date + b" " + clock + b"Z") if date and clock else None
    _, path = split_target(text(get("cs-uri-stem")))
    ua = text(get(*_UA_FIELDS))
    query = col.get("cs-uri-query")
    return LineFields(
        ts=ts,
        host=strip_port(text(get(*_HOST_FIELDS))),
        method=text(get("cs-method")),
        path=path,
        status=status(get("sc-status")),
        client_ip=text(get("c-ip")),
        # IIS writes spaces inside a value as `+`.
        user_agent=ua.replace("+", " ") if ua else None,
        query_span=query,
    )
