"""Space-separated proxy formats: nginx/Apache (combined, common, ingress-nginx), Envoy, HAProxy, AWS ALB."""

from __future__ import annotations

import re

from analyzer import timeparse as T
from analyzer.formats.common import (
    HOSTNAME,
    FileContext,
    LineFields,
    arrival,
    seconds_us,
    split_target_bytes,
    status,
    strip_client_port,
    strip_port,
    text,
)

# A quoted field (backslash escapes allowed, as Apache writes them) or a bare word.
# Unrolled (`[^"\\]*(?:\\.[^"\\]*)*`): a per-character alternation costs ~100 ns a byte on a token.
QUOTED = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)')
_REQUEST = re.compile(rb"^([A-Za-z]{3,12}) (\S+)(?: (\S+))?")


def request_line(req: bytes | None) -> tuple[str | None, str | None, str | None]:
    """(method, host, path) from a request line `GET /a?b HTTP/1.1`."""
    # What `_REQUEST` matches, without walking the target (maybe a 1.5 KB query) in the regex engine:
    # 3-12 letters, one space, then the run of non-whitespace after it.
    if not req:
        return None, None, None
    sp = req.find(b" ", 0, 13)
    if sp < 3 or not req[:sp].isalpha() or req[sp + 1:sp + 2].isspace():
        return None, None, None
    parts = req.split(None, 2)
    if len(parts) < 2:
        return None, None, None
    host, path = split_target_bytes(parts[1])
    return parts[0].decode("ascii").upper(), host, path


# The usual request, `METHOD /path[?query] VERSION`, read inside a format's own regex: the method,
# then an ASCII path up to `?`, whitespace or the closing quote. For these `request_line` returns
# (METHOD, None, path), when the target's first 12 bytes are ASCII without `://` (`_origin`):
# otherwise it may read the target as a URL.
_ORIGIN_REQUEST = rb'([A-Za-z]{3,12}) (/[^\s?"\\\x80-\xff]*)(?=[?\s"])'


def _origin(line: bytes, m: re.Match[bytes], verb: int) -> tuple[str | None, str | None, str | None, bytes] | None:
    """(method, host, path, the rest of the line) of a fast-path match whose `_ORIGIN_REQUEST` groups
    start at group `verb`, or None where `request_line` might read the target otherwise."""
    window = line[m.start(verb + 1):m.start(verb + 1) + 12]
    if not window.isascii() or b"://" in window or b"\n" in line:
        return None
    return m[verb].decode("ascii").upper(), None, m[verb + 1].decode("ascii"), line[m.end():]


def _words(rest: bytes) -> list[tuple[bytes, bool]]:
    """The fields after a format's fixed part, each with whether it was quoted."""
    if b"\\" in rest:  # escaped quotes: the regex knows them
        return [(q[1], True) if q[1] is not None else (q[2], False) for q in QUOTED.finditer(rest)]
    # Without escapes, splitting at quotes is the same and far cheaper on lines that hold tokens:
    # odd pieces were inside quotes, even ones hold bare words (usually just the space between).
    out: list[tuple[bytes, bool]] = []
    pieces = rest.split(b'"')
    n = len(pieces)
    for i in range(0, n, 2):
        bare = pieces[i]
        if bare.strip():
            out.extend([(w, False) for w in bare.split()])
        if i + 1 < n:
            out.append((pieces[i + 1], True))
    return out


def _quoted(rest: bytes) -> list[bytes]:
    """The quoted fields among `_words(rest)`."""
    if b"\\" in rest:
        return [v for v, q in _words(rest) if q]
    return rest.split(b'"')[1::2]


# --- nginx / Apache combined and common, with appended fields -------------------------------------
CLF = re.compile(
    rb'^(?!\d{4}-\d{2}-\d{2}T)(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*) '
    rb'(?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+) '
    rb'\[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2}, [^\]]{20,30})\] '
    rb'"(?P<req>[^"\\]*(?:\\.[^"\\]*)*)" (?P<status>\d{3}|-) (?P<bytes>\S+)(?P<rest>.*)$'
)
# ingress-nginx appends `$request_length $request_time [$proxy_upstream_name] [$proxy_alternative...]`.
# Before 0.20 it had no `[$proxy_alternative_upstream_name]`, and began `$the_real_ip - [$the_real_ip] - `.
INGRESS_REST = re.compile(rb'^ "[^"]*" "[^"\\]*(?:\\.[^"\\]*)*" \d+ ([\d.]+) \[[^\]]*\](?: \[[^\]]*\])?')
_REQUEST_TIME = re.compile(rb'(?<![\w-])(?:rt|request_time)="?(\d+(?:\.\d+)?)')
_IP_WORD = re.compile(rb"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})$")
_HOST_PREFIX = (b"host=", b"host:", b"Host: ", b"vhost=")


# The fixed part of `CLF` up to the request's opening quote, and what follows its closing quote:
# the request (maybe holding a token) is found with `bytes.find`, the appended fields are sliced off.
_CLF_HEAD = re.compile(
    # Not a line that starts with an ISO time: a CRI prefix (`<time> stdout F `) is unwrapped first.
    rb'(?!\d{4}-\d{2}-\d{2}T)(?:(?P<vhost>[A-Za-z0-9._-]+(?::\d{1,5})?) )?(?P<ip>\S+(?:, ?[0-9A-Fa-f.:]+)*) '
    rb'(?:- \[[^\]\s]*\] )?\S+ (?P<user>"[^"]*"|\S+) '
    rb'\[(?P<ts>\d{1,2}/[A-Za-z]{3}/\d{4}[: ][^\]]{8,30}|\d{4}-\d{2}-\d{2}T[^\]]{8,30}|[A-Z][a-z]{2}, [^\]]{20,30})\] "'
)
_CLF_TAIL = re.compile(rb'" (\d{3}|-) \S+')
# Head (committed to its first match, as `_CLF_HEAD.match` is), an origin-form request without
# escapes, status and bytes: `_split_clf` and `request_line` in one regex for the usual line.
_CLF_FAST = re.compile(rb"(?>" + _CLF_HEAD.pattern + rb")" + _ORIGIN_REQUEST + rb'[^"\\]*" (\d{3}|-) \S+')


def _split_clf(line: bytes) -> tuple[bytes | None, bytes, bytes, bytes, bytes, bytes] | None:
    """(vhost, ip, time, request, status, rest) as `CLF` matches them, or None."""
    m = _CLF_HEAD.match(line)
    if m is None:
        return None  # no match of the head, no match of the whole
    start = m.end()
    end = line.find(b'"', start)
    # Exactly `CLF`'s match when the request has no backslash escapes and the line no newline (the
    # `.*$` of `rest`); otherwise (or if this reading of the head fails further on) the full regex.
    if end >= 0 and line.find(b"\\", start, end) < 0 and b"\n" not in line:
        t = _CLF_TAIL.match(line, end)
        if t is not None:
            return m["vhost"], m["ip"], m["ts"], line[start:end], t[1], line[t.end():]
    full = CLF.match(line)
    if full is None:
        return None
    return full["vhost"], full["ip"], full["ts"], full["req"], full["status"], full["rest"] or b""


def parse_clf(line: bytes, ctx: FileContext) -> LineFields | None:
    """nginx/Apache combined or common; a hostname among appended fields becomes `host`."""
    m = _CLF_FAST.match(line)
    fast = None if m is None else _origin(line, m, 5)
    if m is not None and fast is not None:
        host, ip, ts, code = m["vhost"], m["ip"], m["ts"], m[7]
        method, thost, path, rest = fast
    else:
        got = _split_clf(line)
        if got is None:
            return None
        host, ip, ts, req, code, rest = got
        method, thost, path = request_line(req)
    pieces = None if b"\\" in rest else rest.split(b'"')
    # The text outside quotes: short, where a token (in a quoted header) makes `rest` long, and
    # searching 1.3 KB of `AAAA...` for a two-byte needle takes microseconds. With escaped quotes
    # (`\x22` in a user agent) the quoted fields are told apart by `_words`: a `[` or `rt=` inside a
    # quoted user agent must not be taken for ingress-nginx's fields or a request time.
    bare = b" ".join(v for v, q in _words(rest) if not q) if pieces is None else b"".join(pieces[::2])
    only_quoted = pieces is not None and not bare.strip()
    if pieces is not None and only_quoted:
        # Only quoted fields (`"$http_referer" "$http_user_agent" "..."`), the usual shape: they
        # are the odd pieces, and `_words` would give the same list, all marked quoted.
        values = pieces[1::2]
        ua = text(values[1]) if len(values) >= 2 else None
    else:
        words = _words(rest)
        ua = text(words[1][0]) if len(words) >= 2 and words[0][1] and words[1][1] else None
        values = [v for v, _ in words]
    if host is None:
        # Appended `"$host"` / `%{Host}i` / `host=$host`: the first word shaped like a host name,
        # after the referer and user agent (a referer is a URL, never a bare name).
        for value in values[2:] if ua is not None else values:
            if value[:1] in b"hHv":  # only then can a prefix be there to strip
                for prefix in _HOST_PREFIX:
                    if value.startswith(prefix):
                        value = value[len(prefix):]
            if HOSTNAME.match(value):
                host = value
                break
    if b"," in ip:  # `$http_x_forwarded_for` logged for `$remote_addr`: the client is the first
        ip = ip.split(b",", 1)[0]
    elif host is None and not 48 <= ip[-1] <= 57 and HOSTNAME.match(ip):
        # `$host $remote_addr $remote_user [...]`: a host name first, then the client's address.
        after = line[len(ip) + 1:line.find(b" ", len(ip) + 1)]
        if _IP_WORD.match(after):
            host, ip = ip, after
    # `[$time_local]`; `[$time_iso8601]` in a custom `log_format`; morgan's `[Thu, 26 Nov 2026
    # 03:14:15 GMT]`; Werkzeug's `[26/Nov/2026 03:14:15]`: when the entry was logged.
    when = T.parse_clf(ts, ctx.tz) if ts[2] == 47 or ts[1] == 47 else T.parse_any(ts, ctx.tz)  # 47: `/`
    # The usual `"$http_referer" "$http_user_agent" ...` (only quoted fields) has no bare `$request_time`.
    # ingress-nginx logs `$request_time`: a WebSocket's entry is written when it closes.
    ing = INGRESS_REST.match(rest) if not only_quoted and b"[" in bare else None
    if ing is not None:
        when = arrival(when, seconds_us(ing[1]))
    elif not only_quoted and (b"rt=" in bare or b"request_time=" in bare):
        # nginx's documented `rt=$request_time` (also `request_time=`) among appended fields.
        rt = _REQUEST_TIME.search(bare)
        if rt is not None:
            when = arrival(when, seconds_us(rt[1]))
    return LineFields(when, strip_port(thost or text(host)), method, path,
                      None if code == b"-" else int(code),  # `CLF` allows only `-` or three digits
                      text(ip), ua)


def looks_like_ingress(line: bytes) -> bool:
    """The ingress-nginx controller's default `upstreaminfo` format."""
    m = CLF.match(line)
    return m is not None and INGRESS_REST.match(m["rest"]) is not None


# --- nginx error log ----------------------------------------------------------------------------
# `2026/11/26 03:14:15 [error] 1234#0: *1 <message>, client: IP, server: NAME, request: "GET / HTTP/1.1",
# upstream: "...", host: "HOST", referrer: "..."`: nginx's own layout, with no status.
NGINX_ERROR = re.compile(rb"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[[a-z]+\] \d+#\d+: ")
_NGINX_ERROR_KV = re.compile(rb', (client|server|request|host|referrer): ("[^"\\]*(?:\\.[^"\\]*)*"|[^,\s]*)')


def parse_nginx_error(line: bytes, ctx: FileContext) -> LineFields | None:
    """An nginx error-log line: the client, request and Host that nginx appends to the message."""
    m = NGINX_ERROR.match(line)
    if m is None:
        return None
    kv: dict[bytes, bytes] = {}
    at = line.find(b", client: ", m.end())
    if at >= 0:
        for k in _NGINX_ERROR_KV.finditer(line, at):
            v = k[2]
            kv.setdefault(k[1], v[1:-1] if v[:1] == b'"' else v)
    method, thost, path = request_line(kv.get(b"request"))
    return LineFields(
        T.parse_slashed(m["ts"], ctx.tz),
        strip_port(thost or text(kv.get(b"host"))),
        method,
        path,
        None,
        text(kv.get(b"client")),
    )


# --- Squid native access log --------------------------------------------------------------------
# `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`: the time is when the
# transaction was logged (epoch seconds), `%tr` its duration (ms); the URL is absolute.
SQUID = re.compile(rb"^(?P<ts>\d{9,11}\.\d{3}) +(?P<elapsed>-?\d+) (?P<ip>\S+) [A-Z_]+/(?P<status>\d{3}) \d+ "
                   rb"(?P<method>[A-Z]{3,12}) ")


def parse_squid(line: bytes, ctx: FileContext) -> LineFields | None:
    """A Squid access-log line in its native format."""
    m = SQUID.match(line)
    if m is None:
        return None
    end = line.find(b" ", m.end())
    thost, path = split_target_bytes(line[m.end():end if end >= 0 else len(line)])
    return LineFields(arrival(T.parse_epoch(m["ts"]), seconds_us(m["elapsed"], 1000)), strip_port(thost),
                      m["method"].decode("ascii"), path, status(m["status"]), text(m["ip"]))


# --- Envoy default access log (and Istio's, which adds fields) ------------------------------------
# An optional word before the time: Emissary/Ambassador write `ACCESS [...]`.
_ENVOY_PREFIX = rb"(?:[A-Z][A-Za-z_-]{0,19} )?"
ENVOY = re.compile(
    rb'^' + _ENVOY_PREFIX + rb'\[(?P<ts>\d{4}-\d{2}-\d{2}[T ][^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{1,3}) '
    rb'(?P<flags>\S+) (?P<rest>.*)$'
)
_UUID = re.compile(rb"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


_ENVOY_HEAD = re.compile(_ENVOY_PREFIX + rb'\[(?P<ts>\d{4}-\d{2}-\d{2}[T ][^\]]+)\] "')
_ENVOY_TAIL = re.compile(rb'" (\d{1,3}) \S+ ')
# `_split_envoy` and `request_line` in one regex for an origin-form request (Envoy writes no escapes).
_ENVOY_FAST = re.compile(rb'(?>' + _ENVOY_HEAD.pattern + rb')' + _ORIGIN_REQUEST + rb'[^"]*" (\d{1,3}) \S+ ')


def looks_like_envoy(line: bytes) -> bool:
    """Envoy's (or Istio's) text access log: `[START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS ...`."""
    return (line[:1] == b"[" or line[:1].isupper()) and ENVOY.match(line) is not None


def _split_envoy(line: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """(time, request, status, rest) as `ENVOY` matches them, or None."""
    m = _ENVOY_HEAD.match(line)
    if m is None:
        return None
    start = m.end()
    end = line.find(b'"', start)
    # `ENVOY` has no alternatives to backtrack into: without a newline (for `.*$`) this is its match.
    if end >= 0 and b"\n" not in line:
        t = _ENVOY_TAIL.match(line, end)
        return None if t is None else (m["ts"], line[start:end], t[1], line[t.end():])
    full = ENVOY.match(line)
    return None if full is None else (full["ts"], full["req"], full["status"], full["rest"])


def _counter(word: bytes) -> bool:
    """A byte count, a duration in ms, or `-`: Envoy's `%BYTES_RECEIVED%` ... `%DURATION%` and the like."""
    return word == b"-" or word.isdigit()


def _envoy_fields(rest: bytes) -> tuple[bytes | None, bytes | None, bytes | None, bytes | None]:
    """(X-Forwarded-For, user agent, authority, downstream remote address) after the response flags.

    Envoy's default format and Istio's both have four counters (bytes received, bytes sent,
    duration, upstream service time) right before `"XFF" "UA" "REQUEST-ID" "AUTHORITY" "UPSTREAM"`;
    Istio puts `DETAILS TERMINATION "FAILURE"` before them and appends `CLUSTER UPSTREAM_LOCAL
    DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE SNI ROUTE`. Without that shape, the request id (a UUID) is
    the anchor, as users add quoted fields before or after.
    """
    if b"\\" not in rest:
        # Split at quotes: even pieces are bare text, odd pieces quoted values.
        pieces = rest.split(b'"')
        for k in range(0, min(len(pieces) - 10, 7), 2):
            words = pieces[k].split()
            if (len(words) >= 4 and all(_counter(w) for w in words[-4:])
                    and all(pieces[j] == b" " for j in range(k + 2, k + 10, 2))):
                tail = pieces[k + 10].split()
                return pieces[k + 1], pieces[k + 3], pieces[k + 7], tail[3] if len(tail) >= 4 else None
    parts = _words(rest)
    at = [i for i, (_, q) in enumerate(parts) if q]  # where each quoted value is among the words
    quoted = [parts[i][0] for i in at]
    rid = next((i for i, v in enumerate(quoted) if len(v) == 36 and _UUID.match(v)), None)
    if rid is None or rid < 2:
        rid = 2
    # Istio's bare `CLUSTER UPSTREAM_LOCAL DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE ...` after `"UPSTREAM"`,
    # also when a quoted field holds escapes (`\"` in a user agent) and the split above cannot be used.
    remote = None
    if len(quoted) > rid + 2:
        bare: list[bytes] = []
        for w, q in parts[at[rid + 2] + 1:]:
            if q:
                break
            bare.append(w)
        remote = bare[3] if len(bare) >= 4 else None
    return (quoted[rid - 2] if len(quoted) > rid - 2 else None,
            quoted[rid - 1] if len(quoted) > rid - 1 else None,
            quoted[rid + 1] if len(quoted) > rid + 1 else None, remote)


_ADDRESS = re.compile(rb"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$")


def parse_envoy(line: bytes, ctx: FileContext) -> LineFields | None:
    """Envoy's default format: XFF, user agent, request id, authority, upstream, then anything added.

    The client is Istio's `%DOWNSTREAM_REMOTE_ADDRESS%` where the line has it, else the first
    address of X-Forwarded-For.
    """
    m = _ENVOY_FAST.match(line)
    fast = None if m is None else _origin(line, m, 2)
    if m is not None and fast is not None:
        ts, code = m["ts"], m[4]
        method, thost, path, rest = fast
    else:
        got = _split_envoy(line)
        if got is None:
            return None
        ts, req, code, rest = got
        method, thost, path = request_line(req)
    xff_b, ua, authority, remote = _envoy_fields(rest)
    xff = text(xff_b)
    client = strip_client_port(remote.decode("ascii")) if remote and _ADDRESS.match(remote) else None
    return LineFields(
        T.parse_iso(ts, ctx.tz),
        strip_port(text(authority) or thost),
        method,
        path,
        status(code),
        client or (xff.split(",")[0].strip() if xff else None),
        text(ua),
    )


# --- HAProxy HTTP log (usually behind a syslog header) --------------------------------------------
# The fixed start of `option httplog` and of most custom `log-format`s built from it:
# `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST`; what follows varies, and the request
# (`%{+Q}r`) and the captured headers (`{...}`) are looked for in it.
HAPROXY = re.compile(
    # The lookbehind lets a match start only where a run of address characters starts: a long run
    # of `AAAA...` or `1111...` is then tried once, not once per position (quadratic).
    rb'(?<![0-9A-Fa-f.:])(?P<ip>[0-9A-Fa-f.:]+):\d{1,5} '
    rb'\[(?P<ts>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: [+-]\d{4})?)\] '
    rb'\S+ \S+/\S+ (?:[-+\d]+(?:/[-+\d]+){1,5} )?(?P<status>-?\d{1,3}) '
)
_CAPTURE = re.compile(rb"\{([^}]*)\}")
_HAPROXY_REQUEST = re.compile(rb'"([A-Za-z]{3,12} [^"]*)"')
_HAPROXY_BARE_REQUEST = re.compile(rb'(?<!\S)([A-Z]{3,12} (?:/|https?://)\S*(?: HTTP/[\d.]+)?)(?!\S)')


def parse_haproxy(line: bytes, ctx: FileContext) -> LineFields | None:
    """HAProxy's `option httplog` or a custom format that starts like it; the host is the request
    URL's, else a captured header's `{host|...}`, else a bare or quoted host name logged after the
    request (`%[capture.req.hdr(0)]`, `%[req.hdr(host)]`)."""
    m = HAPROXY.search(line)
    if not m:
        return None
    rest = line[m.end():]
    # `%{+Q}r`, else `%HM %HU %HV` unquoted.
    r = _HAPROXY_REQUEST.search(rest) or _HAPROXY_BARE_REQUEST.search(rest)
    method, thost, path = request_line(r[1]) if r else (None, None, None)
    host = thost
    if host is None:
        # Captured headers `{host|...}`, or a host logged bare (`%[capture.req.hdr(0)]`), before the
        # request; the fields there are otherwise counters, flags and cookies, never host names.
        before = rest[:r.start()] if r else rest
        for block in _CAPTURE.findall(before):
            host = next((v.decode() for v in block.split(b"|") if HOSTNAME.match(v)), None)
            if host:
                break
        if host is None and b"{" not in before:
            host = next((v.decode() for v in before.split() if HOSTNAME.match(v)), None)
    if host is None and r is not None:
        host = next((v.decode() for v, _ in _words(rest[r.end():]) if HOSTNAME.match(v)), None)
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


_ALB_HEAD = re.compile(
    rb'(?:(?:https?|h2|grpcs?|wss?) )?(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) \S+ '
    rb'(?P<client>\S+) \S+ \S+ \S+ \S+ (?P<status>\d{3}|-) (?:\d{3}|-) \d+ \d+ "'
)


_ALB_CREATED = re.compile(rb" (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) ")
_ALB_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def _split_alb(line: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes] | None:
    """(time, client, status, request, user agent, rest) as `ALB` matches them, or None."""
    m = _ALB_HEAD.match(line)
    if m is None:
        return None
    start = m.end()
    end = line.find(b'"', start)  # the request (with any token in its query) ends at the next quote
    if end >= 0 and line[end:end + 3] == b'" "' and b"\n" not in line:
        ua_end = line.find(b'"', end + 3)
        if ua_end >= 0 and line.find(b"\\", end + 3, ua_end) < 0:
            return m["ts"], m["client"], m["status"], line[start:end], line[end + 3:ua_end], line[ua_end + 1:]
    full = ALB.match(line)
    if full is None:
        return None
    return full["ts"], full["client"], full["status"], full["req"], full["ua"], full["rest"]


def parse_alb(line: bytes, ctx: FileContext) -> LineFields | None:
    """An ALB access log entry; the host comes from the request URL, else `domain_name`."""
    got = _split_alb(line)
    if got is None:
        return None
    ts, client, code, req, ua, rest = got
    method, thost, path = request_line(req)
    pieces = None if b"\\" in rest else rest.split(b'"')
    quoted = _quoted(rest) if pieces is None else pieces[1::2]
    domain = text(quoted[1]) if len(quoted) > 1 else None
    # `time` is when the response was sent (for a WebSocket: when it closed); the request is judged
    # at `request_creation_time`, the first time after the user agent. Classic ELB has only `time`,
    # when its request arrived. The usual line has it second in the bare run after `"chosen_cert_arn"`.
    after_cert = pieces[6].split() if pieces is not None and len(pieces) > 6 else []
    if len(after_cert) >= 2 and _ALB_TIME.match(after_cert[1]):
        created: bytes | None = after_cert[1]
    else:
        found = _ALB_CREATED.search(rest)
        created = found[1] if found else None
    # `client:port` always has the port, also for IPv6, which ALB writes without brackets.
    ip = client.rsplit(b":", 1)[0] if b":" in client and not client.startswith(b"[") else client
    return LineFields(
        T.parse_iso(created or ts, ctx.tz),
        strip_port(thost or domain),
        method,
        path,
        status(code),
        strip_client_port(text(ip)),
        text(ua),
    )
