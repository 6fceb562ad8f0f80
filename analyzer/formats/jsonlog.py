"""JSON lines: app logs (Serilog, ASP.NET Core, ECS), Traefik, Caddy, Azure App Gateway and Front Door.

One parser for all of them: values are looked up by the names these formats use, on the object
flattened to leaf names and dotted paths (lowercased). Fields a format has earlier win.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from analyzer import timeparse as T
from analyzer.formats.common import (
    FileContext,
    LineFields,
    arrival,
    seconds_us,
    split_target,
    status,
    strip_client_port,
    strip_port,
)
from analyzer.formats.text import request_line

# Where a record has both, the time the request started beats the time it was logged.
TS_KEYS = ("startutc", "start_time", "edgestarttimestamp", "started_at", "@t", "@timestamp", "timestamp",
           "time", "time_iso8601", "timegenerated", "ts", "datetime", "starttime", "eventtime", "logged_at",
           "startlocal", "requesttime", "time_local", "msec", "date")
# App Gateway's `host` is the Host after any rewrite; `originalHost` is what the client sent.
HOST_KEYS = ("requesthost", "request.host", "request_host", "originalhost", "host", "hostname", "url.domain",
             ":authority", "authority", "x-forwarded-host", "http_host", "request_hostname",
             "clientrequesthost", "domainname", "vhost", "domain")
METHOD_KEYS = ("requestmethod", "request.method", "request_method", "http.request.method", "method",
               "httpmethod", "http_method", "clientrequestmethod", "verb")
PATH_KEYS = ("requestpath", "request.uri", "request_path", "url.path", "path", "x-envoy-origin-path",
             "x-envoy-original-path", "uri", "requesturi",
             "request_uri", "originalrequesturiwithargs", "url.original", "url.full", "requesturl",
             "request_url", "url", "originalurl", "clientrequesturi", "target")
STATUS_KEYS = ("downstreamstatus", "http.response.status_code", "status", "statuscode", "status_code",
               "httpstatus", "httpstatuscode", "http_status", "response_status", "responsestatus",
               "response_code", "responsecode", "edgeresponsestatus", "originstatus")
IP_KEYS = ("clienthost", "request.client_ip", "client_ip", "clientip", "request.remote_ip", "remote_ip",
           "remoteip", "remote_addr", "remoteaddr", "client.ip", "source.ip", "clientaddr", "c-ip",
           "clientaddress", "client_address", "sourceip", "downstream_remote_address", "client.address",
           "source.address", "ip",
           "x_real_ip", "x_forwarded_for", "x-forwarded-for", "http_x_forwarded_for", "x_forward_for", "fwd")
UA_KEYS = ("request_user-agent", "user_agent.original", "useragent", "user_agent", "user-agent",
           "http_user_agent", "useragent_s")
_MAX_DEPTH = 8



def flatten(obj: Any, out: dict[str, Any], prefix: str = "", depth: int = 0) -> None:
    """Leaf values by lowercased leaf name and dotted path; a list of strings counts as its first one."""
    if depth > _MAX_DEPTH or not isinstance(obj, dict):
        return
    nested = []
    for k, v in obj.items():
        key = str(k).lower()
        if isinstance(v, dict):
            nested.append((key, v))
            continue
        if isinstance(v, list):
            if not v or not isinstance(v[0], (str, int, float)):
                continue
            v = v[0]
        out.setdefault(prefix + key, v)
        if prefix:
            out.setdefault(key, v)
    # Top-level names first: a nested `date` response header must not beat a top-level `time`.
    for key, v in nested:
        flatten(v, out, f"{prefix}{key}.", depth + 1)


def first(flat: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of these keys with a real value."""
    for k in keys:
        v = flat.get(k)
        if v not in (None, "", "-") and not isinstance(v, bool):
            return v
    return None


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def json_object(line: bytes) -> dict[str, Any] | None:
    """The JSON object a line holds (after any prefix), or None."""
    start = line.find(b"{")
    if start < 0:
        return None
    try:
        obj = orjson.loads(line[start:].rstrip(b"\r\n "))
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _time(v: Any, ctx: FileContext) -> int | None:
    if isinstance(v, str):
        return T.parse_any(v.encode(), ctx.tz)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return T.from_number(v)
    return None


# Records whose time is written after the response, with their duration: (the key and the start
# of its value that mark the record, the duration's key path, its unit in µs).
END_TIMES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("logger", "http.log.access", ("duration",), 1e6),  # Caddy: `ts`, `duration` in seconds
    ("category", "FrontDoorAccessLog", ("properties", "timeTaken"), 1e6),  # Front Door: `time`, seconds
    ("category", "FrontdoorAccessLog", ("properties", "timeTaken"), 1e6),
)


def _arrival(obj: dict[str, Any], ts: int) -> int | None:
    """The record's time, minus its duration where the format logs the end (`END_TIMES`)."""
    for mark, prefix, path, unit in END_TIMES:
        v = obj.get(mark)
        if isinstance(v, str) and v.startswith(prefix):
            d: Any = obj
            for k in path:
                d = d.get(k) if isinstance(d, dict) else None
            return arrival(ts, seconds_us(d, unit) if isinstance(d, (str, int, float)) else None)
    return ts


InnerParser = Callable[[bytes, FileContext], LineFields | None]


_FIELD_KEYS = (TS_KEYS, HOST_KEYS, METHOD_KEYS, PATH_KEYS, STATUS_KEYS, IP_KEYS, UA_KEYS)
# Every looked-up key, with each (field, rank in that field's list) it stands for.
_ROLES: dict[str, tuple[tuple[int, int], ...]] = {}
for _f, _keys in enumerate(_FIELD_KEYS):
    for _r, _k in enumerate(_keys):
        _ROLES[_k] = (*_ROLES.get(_k, ()), (_f, _r))
# Log Analytics' `AzureDiagnostics` table types its columns by suffix (`clientIP_s`, `httpStatus_d`):
# each such name stands for what the name without it stands for.
for _k in [k for k in _ROLES if "." not in k]:
    for _suffix in ("_s", "_d"):
        _ROLES.setdefault(_k + _suffix, _ROLES[_k])
# The prefixes (`request.`, `http.request.` ...) under which a dotted path can be a looked-up key.
_PATH_PREFIXES = frozenset(k[:i + 1] for k in _ROLES for i, c in enumerate(k) if c == ".")


class _Found:
    """`first(flat, keys)` for every field at once, fed the (key, value) pairs `flatten` would insert."""

    __slots__ = ("ranks", "seen", "values")

    def __init__(self) -> None:
        self.values: list[Any] = [None] * len(_FIELD_KEYS)
        self.ranks = [len(k) for k in _FIELD_KEYS]
        self.seen: set[str] = set()

    def add(self, key: str, v: Any) -> None:
        # `flatten` keeps the first value of a key (`setdefault`), real or not.
        if key in self.seen:
            return
        self.seen.add(key)
        if v not in (None, "", "-") and not isinstance(v, bool):
            for f, r in _ROLES[key]:
                if r < self.ranks[f]:
                    self.ranks[f] = r
                    self.values[f] = v

    def walk(self, obj: dict[str, Any], prefix: str, depth: int) -> None:
        """`flatten(obj, ..., prefix, depth)`, keeping only the keys some field looks up."""
        if depth > _MAX_DEPTH:
            return
        nested = []
        dotted = prefix in _PATH_PREFIXES
        for k, v in obj.items():
            key = k.lower()  # orjson's keys are always str
            if type(v) is dict:  # orjson gives exact types
                nested.append((key, v))
                continue
            if type(v) is list and v and type(v[0]) is dict and "name" in v[0] and "value" in v[0]:
                # Headers as `[{"name": "Host", "value": "..."}]` (AWS WAF, CloudTrail): a mapping.
                nested.append((key, {str(h.get("name")): h.get("value") for h in v if type(h) is dict}))
                continue
            if dotted and prefix + key in _ROLES:
                if type(v) is list:
                    if not v or not isinstance(v[0], (str, int, float)):
                        continue
                    v = v[0]
                self.add(prefix + key, v)
            if key in _ROLES:
                if type(v) is list:
                    if not v or not isinstance(v[0], (str, int, float)):
                        continue
                    v = v[0]
                self.add(key, v)
        for key, v in nested:
            self.walk(v, f"{prefix}{key}.", depth + 1)


def lookup(obj: dict[str, Any]) -> list[Any]:
    """`[first(flat, keys) for keys in _FIELD_KEYS]` of the flattened object, in one pass over it.

    Building the flat dict and probing ~90 names in it took longer than parsing the JSON.
    """
    found = _Found()
    found.walk(obj, "", 0)
    return found.values


def parse_json_line(line: bytes, ctx: FileContext, inner: InnerParser | None = None) -> LineFields | None:
    """A JSON object per line; `inner` parses a wrapped text line (Docker's `{"log": ...}`)."""
    obj = json_object(line)
    if obj is None:
        return None
    ts_v, host_v, method_v, path_v, status_v, ip_v, ua_v = lookup(obj)
    ts = _time(ts_v, ctx)
    if ts is not None:
        ts = _arrival(obj, ts)
    wrapped = obj.get("log")
    if inner is not None and isinstance(wrapped, str) and not wrapped.lstrip().startswith("{"):
        got = inner(wrapped.strip().encode(), ctx)
        if got is not None:
            return got if got.ts is not None else got._replace(ts=ts)
    thost, path = split_target(_str(path_v))
    request = obj.get("request")
    if path is None and isinstance(request, str):
        # nginx's JSON `log_format`s carry `"request": "$request"`, the request line.
        rmethod, thost, path = request_line(request.encode("utf-8", "replace"))
        method_v = method_v or rmethod
    ip = _str(ip_v)
    if ip and "," in ip:  # an X-Forwarded-For list: the client is the first
        ip = ip.split(",", 1)[0].strip()
    return LineFields(
        ts=ts,
        host=strip_port(_str(host_v) or thost),
        method=_str(method_v),
        path=path,
        status=status(status_v),
        # `203.0.113.9:51234` and `[2001:db8::1]:51234` lose the port; bare IPv6 is left alone.
        client_ip=strip_client_port(ip) if ip and ("." in ip or ip[:1] == "[") else ip,
        user_agent=_str(ua_v),
    )


def looks_like_json(line: bytes) -> bool:
    """Any JSON object line."""
    return line.lstrip()[:1] == b"{"


def looks_like_traefik(line: bytes) -> bool:
    """Traefik's JSON access log (`RequestHost`, `DownstreamStatus`); not Serilog's compact JSON,
    whose request logging has a `RequestHost` property too (`@t`, `@mt`)."""
    return (looks_like_json(line) and (b'"RequestHost"' in line or b'"DownstreamStatus"' in line)
            and b'"@mt"' not in line and b'"@t"' not in line)


def looks_like_caddy(line: bytes) -> bool:
    """Caddy's access logger."""
    return looks_like_json(line) and (b'"http.log.access' in line or b'"resp_headers"' in line)


def looks_like_appgw(line: bytes) -> bool:
    """Azure Application Gateway access log records."""
    return looks_like_json(line) and b"ApplicationGatewayAccess" in line


def looks_like_frontdoor(line: bytes) -> bool:
    """Azure Front Door access log records (classic and Standard/Premium)."""
    return looks_like_json(line) and (b"FrontDoorAccessLog" in line or b"FrontdoorAccessLog" in line
                                      or b'"trackingReference"' in line)
