"""Log formats: detect a file's format from its first lines and parse the request fields of a line.

Only lines that hold a token are parsed, so parsers may be thorough rather than fast. A parser
returns None when the line is not of its format; `parse_line` then unwraps syslog/CRI prefixes,
tries the other formats, and ends with the generic best effort.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from analyzer import schema as S
from analyzer import timeparse as T
from analyzer.extract import TOKEN_RE
from analyzer.formats import jsonlog, text, w3c, wrappers
from analyzer.formats.common import (
    EMPTY,
    IIS_DEFAULT_FIELDS,
    FileContext,
    LineFields,
    split_target,
    status,
    strip_client_port,
    strip_port,
)
from analyzer.formats.w3c import field_directives, field_names

__all__ = ["EMPTY", "FORMATS", "IIS_DEFAULT_FIELDS", "FileContext", "Format", "LineFields", "detect",
           "field_directives", "field_names", "parse_line"]


@dataclass(frozen=True)
class Format:
    """A log format: a name, a quick test for detection, and a parser."""

    name: str
    looks_like: Callable[[bytes], bool]
    parse: Callable[[bytes, FileContext], LineFields | None]


def _is_apache_vhost(line: bytes) -> bool:
    m = text.CLF.match(line)
    return m is not None and m["vhost"] is not None


class Probe:
    """A line with each token cut down to one `x`, and the way back to the line's own offsets.

    The formats' detection tests and the generic parser's searches (a timestamp, a request line,
    key=value pairs anywhere in the line) run on it: none of them can match inside a token, but
    each walked the token's 1.2 KB at 15-30 ns a byte. What they capture is read from the line.
    """

    __slots__ = ("_marks", "_shift", "line", "text")

    def __init__(self, line: bytes) -> None:
        self.line = line
        self._marks: list[int] = []  # where each `x` stands in `text`
        self._shift: list[int] = []  # bytes cut up to and including that token
        if b"eyJ" not in line:
            self.text = line
            return
        pieces, prev, cut = [], 0, 0
        for m in TOKEN_RE.finditer(line):
            start, end = m.span()
            pieces.append(line[prev:start])
            self._marks.append(start - cut)
            cut += end - start - 1
            self._shift.append(cut)
            pieces.append(b"x")
            prev = end
        pieces.append(line[prev:])
        self.text = b"".join(pieces) if self._marks else line

    def at(self, offset: int) -> int:
        """The line's offset for an offset of `text` (one past a token's `x` is one past the token)."""
        k = bisect.bisect_left(self._marks, offset)
        return offset + (self._shift[k - 1] if k else 0)

    def span(self, m: re.Match[bytes], group: int) -> bytes:
        """What group `group` of a match on `text` covers in the line."""
        return self.line[self.at(m.start(group)):self.at(m.end(group))]


def _parse_plain(line: bytes, ctx: FileContext, skip: Format | None = None,
                 probe: Probe | None = None) -> tuple[str, LineFields] | None:
    """The first format (other than `skip`) that recognises and parses an unwrapped line.

    The formats' tests run on the line's `Probe` (the caller's, when it has one).
    """
    text_ = (Probe(line) if probe is None else probe).text
    for f in PLAIN:
        if f is not skip and f.looks_like(text_):
            got = f.parse(line, ctx)
            if got is not None:
                return f.name, got
    return None


def _parse_inner(line: bytes, ctx: FileContext) -> LineFields | None:
    got = _parse_plain(line, ctx)
    return got[1] if got else None


def _parse_wrapped(line: bytes, ctx: FileContext, first: Format | None = None) -> tuple[str, LineFields] | None:
    """A syslog- or CRI-wrapped line: the message's own fields, the wrapper's time as a fallback.

    The message is tried in the file's own format `first` (as an unwrapped line is), then in the others.
    """
    w = wrappers.unwrap(line, ctx)
    if w is None:
        return None
    kind, wts, offset = w
    inner = line[offset:]
    own = first.parse(inner, ctx) if first is not None and first in PLAIN else None
    if first is not None and own is not None:
        name, fields = first.name, own
    else:
        probe = Probe(inner)
        got = _parse_plain(inner, ctx, first, probe)
        if got is None:
            name, fields = S.FMT_SYSLOG if kind == "syslog" else S.FMT_GENERIC, parse_generic(inner, ctx, probe)
        else:
            name, fields = got
    span = fields.query_span
    return name, fields._replace(
        ts=fields.ts if fields.ts is not None else wts,
        query_span=(span[0] + offset, span[1] + offset) if span else None,
    )


def _parse_syslog(line: bytes, ctx: FileContext) -> LineFields | None:
    got = _parse_wrapped(line, ctx)
    return got[1] if got else None


# --- anything else --------------------------------------------------------------------------------
_METHODS = rb"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)"
_REQUEST_ANY = re.compile(rb'"?\b' + _METHODS + rb' (\S+) HTTP/[\d.]+"?(?:\s+(\d{3})\b)?')
# urllib3's debug line names the origin before the request: `https://host:443 "POST /p HTTP/1.1" 200 12`.
_ORIGIN_BEFORE = re.compile(rb'(https?://[^\s/"]+) "?$')
# A call an app logs without a protocol version: `http: POST https://host/p -> 200 (122 ms)`,
# `GET /p 200 5.1 ms` (morgan), `POST https://host/p status=401`. The status must follow the
# target closely (an arrow, `returned`, `status=` or only spaces).
_CALL = re.compile(
    rb'\b' + _METHODS + rb'[ \t]+"?((?:https?://|/)[^\s"\'<>]*)"?'
    rb'(?:[ \t]*(?:->|=>|\xe2\x86\x92|returned|responded(?: with)?|status(?:=|: ?)|-)?[ \t]*(\d{3})(?![\w.]))?')
_IP_CELL = re.compile(rb"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})$")
_ADDR = rb"([0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*|\[[0-9A-Fa-f:.]+\](?::\d+)?)"
# Where some well-known app servers write a status or the client, when nothing else gave them:
# (a cheap marker that must be in the line, the field, a regex whose group 1 is the value).
_EXTRAS: tuple[tuple[bytes, str, re.Pattern[bytes]], ...] = (
    (b"(HTTP/", "status", re.compile(rb"\(HTTP/[\d.]+ (\d{3})\)")),  # uWSGI: `(HTTP/1.1 200)`
    (b"[client ", "client_ip", re.compile(rb"\[client " + _ADDR + rb"\]")),  # Apache's error log
    (b" vars in ", "client_ip", re.compile(rb"\] " + _ADDR + rb" \([^)]*\) \{\d+ vars")),  # uWSGI
    (b" for ", "client_ip", re.compile(rb'^Started [A-Z]+ "[^"]*" for ' + _ADDR + rb" at ")),  # Rails
)
_KV = re.compile(rb'(?:^|[\s,;])([A-Za-z_@][\w.@-]{0,40})=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s,;"]*)')


def parse_generic(line: bytes, ctx: FileContext, probe: Probe | None = None) -> LineFields:
    """Best effort: the first timestamp anywhere, a request line if there is one, and key=value pairs.

    The searches run on the line's `Probe`; what they capture is read from the line itself.
    """
    probe = Probe(line) if probe is None else probe
    ts = T.search_any(probe.text, ctx.year, ctx.tz, ctx.mtime_us)
    if b'{"' in line:
        got = jsonlog.parse_json_line(line, ctx)
        if got is not None:
            return got if got.ts is not None or ts is None else got._replace(ts=ts)
    method = target = code = None
    origin = None
    m = _REQUEST_ANY.search(probe.text)
    if m:
        method, target, code = m[1].decode(), probe.span(m, 2).decode("utf-8", "replace"), m[3]
        o = _ORIGIN_BEFORE.search(probe.text, max(0, m.start() - 300), m.start())
        if o is not None and target.startswith("/"):
            origin = o[1].decode("utf-8", "replace")
    else:
        m = _CALL.search(probe.text)
        if m:
            # A sentence's punctuation after the target is not part of it.
            method, target, code = m[1].decode(), probe.span(m, 2).decode("utf-8", "replace").rstrip(":,;.)"), m[3]
    flat: dict[str, Any] = {}
    if b"=" in line:
        for k in _KV.finditer(probe.text):
            v = probe.span(k, 2)
            v = v[1:-1] if v[:1] == b'"' else v
            if v and v != b"-":
                flat.setdefault(k[1].decode("ascii", "replace").lower(), v.decode("utf-8", "replace"))
    if target is None:
        path_value = jsonlog.first(flat, jsonlog.PATH_KEYS)
        target = str(path_value) if path_value else None
    thost, path = split_target(target)
    if origin is not None:
        thost = split_target(origin + "/")[0]
    host = jsonlog.first(flat, jsonlog.HOST_KEYS)
    if method is None:
        method = jsonlog.first(flat, jsonlog.METHOD_KEYS)
    code_ = status(code) or status(jsonlog.first(flat, jsonlog.STATUS_KEYS))
    ip = jsonlog.first(flat, jsonlog.IP_KEYS)
    if code_ is None or ip is None:
        for marker, field, rx in _EXTRAS:
            if (code_ if field == "status" else ip) is None and marker in probe.text:
                x = rx.search(probe.text)
                if x is not None:
                    if field == "status":
                        code_ = status(x[1])
                    else:
                        ip = x[1].decode("ascii", "replace")
    if b" | " in probe.text and (code_ is None or ip is None):
        # Go web frameworks' request lines (Gin, Fiber, Echo): `| 401 | 1.2ms | 203.0.113.9 | GET "/p"`.
        cells = [c.strip() for c in probe.text.split(b"|")]
        if code_ is None:
            code_ = next((status(c) for c in cells if len(c) == 3 and c.isdigit()), None)
        if ip is None:
            ip = next((c.decode() for c in cells if _IP_CELL.match(c)), None)
    return LineFields(
        ts=ts,
        host=strip_port(thost or (str(host) if host else None)),
        method=str(method).upper() if method else None,
        path=path,
        status=code_,
        client_ip=strip_client_port(ip) if isinstance(ip, str) and ("." in ip or ip[:1] == "[") else ip,
        user_agent=jsonlog.first(flat, jsonlog.UA_KEYS),
    )


_json = partial(jsonlog.parse_json_line, inner=_parse_inner)

# Detection order: the most specific test first.
PLAIN: tuple[Format, ...] = (
    Format(S.FMT_IIS, w3c.looks_like_w3c, w3c.parse_w3c),
    Format(S.FMT_ENVOY, text.looks_like_envoy, text.parse_envoy),
    Format(S.FMT_INGRESS_NGINX, text.looks_like_ingress, text.parse_clf),
    Format(S.FMT_APACHE, _is_apache_vhost, text.parse_clf),
    Format(S.FMT_NGINX, lambda b: text.CLF.match(b) is not None, text.parse_clf),
    Format(S.FMT_ALB, lambda b: text.ALB.match(b) is not None, text.parse_alb),
    Format(S.FMT_NGINX_ERROR, lambda b: text.NGINX_ERROR.match(b) is not None, text.parse_nginx_error),
    Format(S.FMT_SQUID, lambda b: text.SQUID.match(b) is not None, text.parse_squid),
    Format(S.FMT_HAPROXY, lambda b: text.HAPROXY.search(b) is not None, text.parse_haproxy),
    Format(S.FMT_TRAEFIK, jsonlog.looks_like_traefik, _json),
    Format(S.FMT_CADDY, jsonlog.looks_like_caddy, _json),
    Format(S.FMT_APPGW, jsonlog.looks_like_appgw, _json),
    Format(S.FMT_FRONTDOOR, jsonlog.looks_like_frontdoor, _json),
    Format(S.FMT_JSON, jsonlog.looks_like_json, _json),
)
SYSLOG = Format(S.FMT_SYSLOG, wrappers.looks_like_syslog, _parse_syslog)
GENERIC = Format(S.FMT_GENERIC, lambda b: True, parse_generic)
FORMATS: tuple[Format, ...] = (*PLAIN, SYSLOG)
BY_NAME: dict[str, Format] = {f.name: f for f in (*FORMATS, GENERIC)}


def _classify(line: bytes) -> str | None:
    for f in PLAIN:
        if f.looks_like(line):
            return f.name
    return None


def detect(lines: Iterable[bytes]) -> str:
    """The format most of these lines are in (generic if none fits); a wrapped line counts as its message."""
    votes: dict[str, int] = {}
    ctx = FileContext()
    for line in lines:
        if line.startswith((b"#Fields:", b"#Software: Microsoft Internet Information")):
            return S.FMT_IIS
        if not line.strip() or line.startswith(b"#"):
            continue
        name = _classify(line)
        if name is None:
            w = wrappers.unwrap(line, ctx)
            if w is not None:
                name = _classify(line[w[2]:]) or (S.FMT_SYSLOG if w[0] == "syslog" else None)
        if name is not None:
            votes[name] = votes.get(name, 0) + 1
    return max(votes, key=lambda k: votes[k]) if votes else S.FMT_GENERIC


def parse_line(line: bytes, fmt: str, ctx: FileContext) -> tuple[str, LineFields]:
    """Parse with the file's format; if the line is not of it, unwrap, try the others, then generic."""
    primary = BY_NAME.get(fmt)
    if primary is not None and primary is not GENERIC:
        got = primary.parse(line, ctx)
        if got is not None:
            return fmt, got
    wrapped = _parse_wrapped(line, ctx, primary)
    if wrapped is not None:
        return wrapped
    probe = Probe(line)
    plain = _parse_plain(line, ctx, primary, probe)
    if plain is not None:
        return plain
    return S.FMT_GENERIC, parse_generic(line, ctx, probe)
