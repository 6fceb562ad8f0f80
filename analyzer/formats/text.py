"""Space-separated proxy formats: nginx/Apache (combined, common, ingress-nginx), Envoy, HAProxy, AWS ALB."""

from __future__ import annotations

import re

from analyzer import timeparse as T
from analyzer.formats.common import (
    HOSTNAME,
    FileContext,
    LineFields,
    split_target,
    status,
    strip_client_port,
    strip_port,
    text,
)

# A quoted field (backslash escapes allowed, as Apache writes them) or a bare word.
# Unrolled (`[^"\\]*(?:\\.[^"\\]*)*`): a per-character alternation costs ~100 ns a byte on a token.
QUOTED = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)')
_REQUEST = re.compile(rb"^([A-Za-z]{3,12}) (\S+)(?: (\S+))?")


def _request(req: bytes | None) -> tuple[str | None, str | None, str | None]:
    """(method, host, path) from a request line `GET /a?b HTTP/1.1`."""
    m = _REQUEST.match(req or b"")
    if not m:
        return None, None, None
    host, path = split_target(text(m[2]))
    return m[1].decode("ascii").upper(), host, path


def _words(rest: bytes) -> list[tuple[bytes, bool]]:
    """The fields after a format's fixed part, each with whether it was quoted."""
    if b"\\" in rest:  # escaped quotes: the regex knows them
        return [(q[1], True) if q[1] is not None else (q[2], False) for q in QUOTED.finditer(rest)]
    # Without escapes, splitting at quotes is the same and far cheaper on lines that hold tokens:
    # odd pieces were inside quotes, even ones hold bare words.
    out: list[tuple[bytes, bool]] = []
    for i, piece in enumerate(rest.split(b'"')):
        if i % 2:
            out.append((piece, True))
        else:
            out.extend((w, False) for w in piece.split())
    return out


# --- nginx / Apache combined and common, with appended fields -------------------------------------
CLF = re.compile(
    rb'^(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+) \S+ (?P<user>"[^"]*"|\S+) '
    rb'\[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}:[^\]]{8,30})\] '
    rb'"(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}|-) (?P<bytes>\S+)(?P<rest>.*)$'
)
# ingress-nginx appends `$request_length $request_time [$proxy_upstream_name] [$proxy_alternative...]`.
INGRESS_REST = re.compile(rb'^ "[^"]*" "[^"\\]*(?:\\.[^"\\]*)*" \d+ [\d.]+ \[[^\]]*\] \[[^\]]*\]')
_HOST_PREFIX = (b"host=", b"host:", b"Host: ", b"vhost=")


def parse_clf(line: bytes, ctx: FileContext) -> LineFields | None:
    """nginx/Apache combined or common; a hostname among appended fields becomes `host`."""
    m = CLF.match(line)
    if not m:
        return None
    method, thost, path = _request(m["req"])
    words = _words(m["rest"] or b"")
    ua = text(words[1][0]) if len(words) >= 2 and words[0][1] and words[1][1] else None
    host = m["vhost"]
    if host is None:
        # Appended `"$host"` / `%{Host}i` / `host=$host`: the first word shaped like a host name,
        # after the referer and user agent (a referer is a URL, never a bare name).
        for value, _quoted in words[2:] if ua is not None else words:
            for prefix in _HOST_PREFIX:
                if value.startswith(prefix):
                    value = value[len(prefix):]
            if HOSTNAME.match(value):
                host = value
                break
    return LineFields(
        ts=T.parse_clf(m["ts"], ctx.tz),
        host=strip_port(thost or text(host)),
        method=method,
        path=path,
        status=status(m["status"]),
        client_ip=text(m["ip"]),
        user_agent=ua,
    )


def looks_like_ingress(line: bytes) -> bool:
    """The ingress-nginx controller's default `upstreaminfo` format."""
    m = CLF.match(line)
    return m is not None and INGRESS_REST.match(m["rest"]) is not None


# --- Envoy default access log (and Istio's, which adds fields) ------------------------------------
ENVOY = re.compile(
    rb'^\[(?P<ts>\d{4}-\d{2}-\d{2}T[^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{1,3}) (?P<flags>\S+) '
    rb'(?P<rest>.*)$'
)
_UUID = re.compile(rb"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_envoy(line: bytes, ctx: FileContext) -> LineFields | None:
    """Envoy's default format: XFF, user agent, request id, authority, upstream, then anything added."""
    m = ENVOY.match(line)
    if not m:
        return None
    method, thost, path = _request(m["req"])
    quoted = [v for v, q in _words(m["rest"]) if q]
    # The request id is the anchor: Istio adds quoted fields before XFF, users add them at the end.
    rid = next((i for i, v in enumerate(quoted) if _UUID.match(v)), None)
    if rid is None or rid < 2:
        rid = 2
    xff = text(quoted[rid - 2]) if len(quoted) > rid - 2 else None
    authority = text(quoted[rid + 1]) if len(quoted) > rid + 1 else None
    return LineFields(
        ts=T.parse_iso(m["ts"], ctx.tz),
        host=strip_port(authority or thost),
        method=method,
        path=path,
        status=status(m["status"]),
        client_ip=xff.split(",")[0].strip() if xff else None,
        user_agent=text(quoted[rid - 1]) if len(quoted) > rid - 1 else None,
    )


# --- HAProxy HTTP log (usually behind a syslog header) --------------------------------------------
HAPROXY = re.compile(
    # The lookbehind lets a match start only where a run of address characters starts: a long run
    # of `AAAA...` or `1111...` is then tried once, not once per position (quadratic).
    rb'(?<![0-9A-Fa-f.:])(?P<ip>[0-9A-Fa-f.:]+):\d{1,5} '
    rb'\[(?P<ts>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d+)?)\] '
    rb'\S+ \S+ [-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+/[-+\d]+ (?P<status>-?\d+) [-+\d]+ \S+ \S+ \S+ '
    rb'[\d/+]+ [\d/+]+ (?P<caps>(?:\{[^}]*\} )*)"(?P<req>[^"]*)"'
)
_CAPTURE = re.compile(rb"\{([^}]*)\}")


def parse_haproxy(line: bytes, ctx: FileContext) -> LineFields | None:
    """HAProxy's `option httplog`; captured request headers `{host|Bearer ...}` give the host."""
    m = HAPROXY.search(line)
    if not m:
        return None
    method, thost, path = _request(m["req"])
    host = thost
    if host is None:
        for block in _CAPTURE.findall(m["caps"]):
            host = next((v.decode() for v in block.split(b"|") if HOSTNAME.match(v)), None)
            if host:
                break
    return LineFields(
        ts=T.parse_clf(m["ts"], ctx.tz),
        host=strip_port(host),
        method=method,
        path=path,
        status=status(m["status"]),
        client_ip=text(m["ip"]),
    )


# --- AWS Application (and Classic) Load Balancer --------------------------------------------------
ALB = re.compile(
    rb'^(?:(?:https?|h2|grpcs?|wss?) )?(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) \S+ '
    rb'(?P<client>\S+) \S+ \S+ \S+ \S+ (?P<status>\d{3}|-) (?:\d{3}|-) \d+ \d+ '
    rb'"(?P<req>[^"]*)" "(?P<ua>[^"\\]*(?:\\.[^"\\]*)*)"(?P<rest>.*)$'
)


def parse_alb(line: bytes, ctx: FileContext) -> LineFields | None:
    """An ALB access log entry; the host comes from the request URL, else `domain_name`."""
    m = ALB.match(line)
    if not m:
        return None
    method, thost, path = _request(m["req"])
    quoted = [v for v, q in _words(m["rest"]) if q]
    domain = text(quoted[1]) if len(quoted) > 1 else None
    return LineFields(
        ts=T.parse_iso(m["ts"], ctx.tz),
        host=strip_port(thost or domain),
        method=method,
        path=path,
        status=status(m["status"]),
        client_ip=strip_client_port(text(m["client"])),
        user_agent=text(m["ua"]),
    )
