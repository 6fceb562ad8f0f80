"""Log formats: the Python face of the core's parsers (`src/formats/`).

`detect` names a file's format from its first lines; `parse_line` reads the request fields of one
line (with the file's format first, then unwrapping syslog/CRI prefixes, then the other formats,
then the generic best effort). The scan itself does not come through here: the core parses each
token line as it scans a chunk (`analyzer._core.LineScanner`). This module serves detection, the
`inspect`-style callers and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import analyzer._core as _core

__all__ = ["FileContext", "LineFields", "detect", "field_directives", "parse_line"]


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


@dataclass
class FileContext:
    """Per-file parsing state: the year for year-less times, the default zone, the W3C field list."""

    year: int = 1970
    tz: str = "UTC"  # `UTC`, an offset like `+01:00`, or an IANA name
    mtime_us: int | None = None
    # The latest `#Fields:` directive's names; empty until one is seen (lines are then read by shape).
    iis_fields: list[str] = field(default_factory=list)


def detect(lines: Iterable[bytes]) -> str:
    """The format most of these lines are in (generic if none fits); a wrapped line counts as its message."""
    return str(_core.detect([bytes(line) for line in lines]))


def parse_line(line: bytes, fmt: str, ctx: FileContext) -> tuple[str, LineFields]:
    """Parse with the file's format; if the line is not of it, unwrap, try the others, then generic."""
    name, fields = _core.parse_line(bytes(line), fmt, ctx.year, ctx.tz, ctx.mtime_us, list(ctx.iis_fields))
    return name, LineFields(*fields)


def field_directives(chunk: bytes) -> list[tuple[int, list[str]]]:
    """Every `#Fields:` directive in a chunk: (offset, lowercased field names), in order."""
    return list(_core.field_directives(chunk))
