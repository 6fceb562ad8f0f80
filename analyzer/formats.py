"""Log formats: detect a file's format from its first lines and parse the request fields of a line.

Only lines that hold a token are parsed, so parsers may be thorough rather than fast. A parser
returns None when the line is not of its format; the caller then falls back per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes, urlsplit

import orjson

from analyzer import schema as S
from analyzer import timeparse as T


class LineFields(NamedTuple):
    """The request fields a log line carries; None where the format has no such field."""

    ts: int | None = None  # epoch microseconds, UTC
    host: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    client_ip: str | None = None
    user_agent: str | None = None


EMPTY = LineFields()


@dataclass
class FileContext:
    """Per-file parsing state: the year for year-less times, the default zone, IIS field lists."""

    year: int = 1970
    default_offset: int = 0
    iis_fields: list[str] = field(default_factory=list)


def _s(b: bytes | None) -> str | None:
    if b is None or b in (b"-", b""):
        return None
    return b.decode("utf-8", "replace")


def _status(b: bytes | str | int | None) -> int | None:
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
    return None, target.split("?", 1)[0]


_HOSTNAME = re.compile(rb"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}(?::\d{1,5})?$")


def _strip_port(host: str | None) -> str | None:
    if host and ":" in host and not host.startswith("["):
        host = host.rsplit(":", 1)[0]
    return host.lower() if host else None


# --- nginx / Apache combined and common, with appended fields -------------------------------------
_CLF = re.compile(
    rb'^(?:(?P<vhost>[A-Za-z0-9.-]+(?::\d+)?) )?(?P<ip>[0-9A-Fa-f.:]+|-) \S+ \S+ \[(?P<ts>[^\]]{10,40})\] '
    rb'"(?P<method>[A-Z]{3,10}) (?P<target>\S+)(?: [^"]*)?" (?P<status>\d{3}) \S+'
    rb'(?: "(?P<ref>[^"]*)" "(?P<ua>(?:[^"\\]|\\.)*)")?(?P<rest>.*)$'
)
_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


def parse_clf(line: bytes, ctx: FileContext) -> LineFields | None:
    """nginx/Apache combined or common; a hostname among appended fields becomes `host`."""
    m = _CLF.match(line)
    if not m:
        return None
    host = _s(m["vhost"])
    for q in _QUOTED.finditer(m["rest"] or b""):
        v = q.group(1) if q.group(1) is not None else q.group(2)
        if v.startswith(b"host="):
            v = v[5:]
        if _HOSTNAME.match(v):
            host = v.decode()
            break
    thost, path = split_target(_s(m["target"]))
    return LineFields(
        ts=T.parse_clf(m["ts"], ctx.default_offset),
        host=_strip_port(host or thost),
        method=_s(m["method"]),
        path=path,
        status=_status(m["status"]),
        client_ip=_s(m["ip"]),
        user_agent=_s(m["ua"]),
    )


# --- Envoy default access log ---------------------------------------------------------------------
_ENVOY = re.compile(
    rb'^\[(?P<ts>\d{4}-\d{2}-\d{2}T[^\]]+)\] "(?P<method>[A-Z]{3,10}|-) (?P<target>\S+) (?P<proto>[^"]*)" '
    rb'(?P<status>\d{1,3}) (?P<flags>\S+) \d+ \d+ \S+ \S+ "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" '
    rb'"(?P<authority>[^"]*)" "(?P<upstream>[^"]*)"'
)


def parse_envoy(line: bytes, ctx: FileContext) -> LineFields | None:
    """Envoy's default format (plus any appended fields)."""
    m = _ENVOY.match(line)
    if not m:
        return None
    thost, path = split_target(_s(m["target"]))
    xff = _s(m["xff"])
    return LineFields(
        ts=T.parse_iso(m["ts"], ctx.default_offset),
        host=_strip_port(_s(m["authority"]) or thost),
        method=_s(m["method"]),
        path=path,
        status=_status(m["status"]),
        client_ip=xff.split(",")[0].strip() if xff else None,
        user_agent=_s(m["ua"]),
    )


# --- JSON lines -----------------------------------------------------------------------------------
_JSON_TS = ("@t", "@timestamp", "timestamp", "time", "ts", "timestamp_utc", "timegenerated", "datetime",
            "date", "start_time", "starttime", "eventtime", "logged_at")
_JSON_HOST = ("requesthost", "request_host", "host", "hostname_header", "request_hostname", "authority",
              ":authority", "originalhost", "x-forwarded-host", "hostname", "serverhost")
_JSON_METHOD = ("requestmethod", "request_method", "method", "httpmethod", "http_method", "verb")
_JSON_PATH = ("requestpath", "request_path", "path", "uri", "requesturi", "request_uri", "url", "target",
              "originalurl", "requesturl", "request_url")
_JSON_STATUS = ("statuscode", "status_code", "status", "httpstatus", "httpstatuscode", "http_status",
                "downstreamstatus", "response_status", "responsestatus", "originstatuscode")
_JSON_IP = ("clientip", "client_ip", "remote_addr", "remoteaddr", "clientaddr", "remote_ip", "clienthost",
            "client_address", "remoteip", "ip", "sourceip", "clientip_s")
_JSON_UA = ("useragent", "user_agent", "user-agent", "request_user-agent", "http_user_agent", "useragent_s")
_MAX_DEPTH = 8


def _flatten(obj: Any, out: dict[str, Any], depth: int = 0) -> None:
    if depth > _MAX_DEPTH or not isinstance(obj, dict):
        return
    nested = []
    for k, v in obj.items():
        if isinstance(v, dict):
            nested.append(v)
        elif isinstance(v, list):
            if v and all(isinstance(x, str) for x in v):
                out.setdefault(str(k).lower(), v[0])
        else:
            out.setdefault(str(k).lower(), v)
    for v in nested:
        _flatten(v, out, depth + 1)


def _first(flat: dict[str, Any], keys: Iterable[str]) -> Any:
    for k in keys:
        v = flat.get(k)
        if v not in (None, "", "-"):
            return v
    return None


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def parse_json_line(line: bytes, ctx: FileContext) -> LineFields | None:
    """A JSON object per line (app logs, Traefik, Caddy, cloud diagnostics): fields by common names."""
    start = line.find(b"{")
    if start < 0:
        return None
    try:
        obj = orjson.loads(line[start:].rstrip(b"\r\n"))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    flat: dict[str, Any] = {}
    _flatten(obj, flat)
    ts_raw = _first(flat, _JSON_TS)
    ts = None
    if isinstance(ts_raw, str):
        ts = T.parse_any(ts_raw.encode(), ctx.default_offset)
    elif isinstance(ts_raw, (int, float)) and not isinstance(ts_raw, bool):
        ts = T.parse_epoch(str(int(ts_raw)).encode()) if ts_raw > 1e9 else None
    target = _str_or_none(_first(flat, _JSON_PATH))
    thost, path = split_target(target)
    host = _str_or_none(_first(flat, _JSON_HOST)) or thost
    status = flat.get(next((k for k in _JSON_STATUS if k in flat), ""), None)
    return LineFields(
        ts=ts,
        host=_strip_port(host),
        method=_str_or_none(_first(flat, _JSON_METHOD)),
        path=path,
        status=_status(status if not isinstance(status, str) else status.encode()),
        client_ip=_str_or_none(_first(flat, _JSON_IP)),
        user_agent=_str_or_none(_first(flat, _JSON_UA)),
    )


# --- anything else --------------------------------------------------------------------------------
def parse_generic(line: bytes, ctx: FileContext) -> LineFields:
    """Best effort: the first timestamp anywhere in the line."""
    return LineFields(ts=T.search_any(line, ctx.year, ctx.default_offset))


@dataclass(frozen=True)
class Format:
    """A log format: a name, a quick test for detection, and a parser."""

    name: str
    looks_like: Callable[[bytes], bool]
    parse: Callable[[bytes, FileContext], LineFields | None]


FORMATS: tuple[Format, ...] = (
    Format(S.FMT_ENVOY, lambda b: b.startswith(b"[") and _ENVOY.match(b) is not None, parse_envoy),
    Format(S.FMT_NGINX, lambda b: _CLF.match(b) is not None, parse_clf),
    Format(S.FMT_JSON, lambda b: b.lstrip().startswith(b"{"), parse_json_line),
)
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
GENERIC = Format(S.FMT_GENERIC, lambda b: True, parse_generic)
BY_NAME[S.FMT_GENERIC] = GENERIC


def detect(lines: Iterable[bytes]) -> str:
    """The format most of these lines are in (generic when none fits)."""
    votes: dict[str, int] = {}
    for line in lines:
        if not line.strip() or line.startswith(b"#"):
            continue
        for f in FORMATS:
            if f.looks_like(line):
                votes[f.name] = votes.get(f.name, 0) + 1
                break
    return max(votes, key=lambda k: votes[k]) if votes else S.FMT_GENERIC


def parse_line(line: bytes, fmt: str, ctx: FileContext) -> tuple[str, LineFields]:
    """Parse with the file's format; if the line is not of it, try the others, then generic."""
    primary = BY_NAME.get(fmt)
    if primary is not None and primary is not GENERIC:
        got = primary.parse(line, ctx)
        if got is not None:
            return fmt, got
    for f in FORMATS:
        if f is not primary and f.looks_like(line):
            got = f.parse(line, ctx)
            if got is not None:
                return f.name, got
    return S.FMT_GENERIC, parse_generic(line, ctx)


def unquote(value: bytes) -> bytes:
    """Percent-decoding for tokens written URL-encoded."""
    return unquote_to_bytes(value)
