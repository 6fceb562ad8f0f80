"""W3C extended log files (IIS, also CloudFront): columns named by the latest `#Fields:` directive."""

from __future__ import annotations

import re
from functools import lru_cache

from analyzer import timeparse as T
from analyzer.formats.common import (
    FileContext,
    LineFields,
    arrival,
    seconds_us,
    split_target_bytes,
    status,
    strip_port,
    text,
)

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
    client IP, query and time taken, each as the indices of its candidate names in order (a repeated name: its
    last column). The same for every line under one `#Fields:` directive, hence cached."""
    col = {name: i for i, name in enumerate(names) if i < n}

    def idx(*keys: str) -> tuple[int, ...]:
        return tuple(col[k] for k in keys if k in col)

    return (idx("date"), idx("time"), idx("cs-uri-stem"), idx(*_UA_FIELDS), idx(*_HOST_FIELDS),
            idx("cs-method"), idx("sc-status"), idx("c-ip"), idx("cs-uri-query"), idx("time-taken"))


def _get(parts: list[bytes], cols: tuple[int, ...]) -> bytes | None:
    """The first of these columns with a value (`-` and empty are none)."""
    for i in cols:
        v = parts[i]
        if v and v != b"-":
            return v
    return None


# --- lines without their `#Fields:` directive (a fragment of a rotated file, logs shipped without it)
# The layouts IIS and CloudFront write by default or that people commonly pick. A line is read by
# the layouts its own shape fits (field count, and the shape of each field that has one); where
# the layouts that fit disagree on a field's column, the field is left empty rather than guessed.
IIS_DEFAULT = ("date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username",
               "c-ip", "cs(user-agent)", "cs(referer)", "sc-status", "sc-substatus", "sc-win32-status",
               "time-taken")
IIS_FULL = ("date", "time", "s-sitename", "s-computername", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query",
            "s-port", "cs-username", "c-ip", "cs-version", "cs(user-agent)", "cs(cookie)", "cs(referer)",
            "cs-host", "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken")
CLOUDFRONT = ("date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(host)", "cs-uri-stem",
              "sc-status", "cs(referer)", "cs(user-agent)", "cs-uri-query", "cs(cookie)", "x-edge-result-type",
              "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
              "ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status",
              "fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type",
              "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end")
# (field names, fewest fields a line may have: a layout that grew over the years is cut at any point
# after that, as CloudFront's did).
LAYOUTS: tuple[tuple[tuple[str, ...], int], ...] = (
    (IIS_DEFAULT, len(IIS_DEFAULT)),
    # IIS 7's default, before `cs(Referer)` was added.
    (tuple(f for f in IIS_DEFAULT if f != "cs(referer)"), len(IIS_DEFAULT) - 1),
    ((*IIS_DEFAULT, "x-forwarded-for"), len(IIS_DEFAULT) + 1),
    (("date", "time", "s-sitename", *IIS_DEFAULT[2:]), len(IIS_DEFAULT) + 1),
    (IIS_FULL, len(IIS_FULL)),
    ((*IIS_FULL, "x-forwarded-for"), len(IIS_FULL) + 1),
    # Azure App Service's web server logs.
    (("date", "time", "s-sitename", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
      "cs(user-agent)", "cs(cookie)", "cs(referer)", "cs-host", "sc-status", "sc-substatus", "sc-win32-status",
      "sc-bytes", "cs-bytes", "time-taken"), 19),
    (CLOUDFRONT, 19),
)
_IP = rb"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,4})"
_NUMBER = re.compile(rb"\d+(?:\.\d+)?$")
# The shape of each field that has one; a field not named here may hold anything.
SHAPES: dict[str, re.Pattern[bytes]] = {
    "date": re.compile(rb"\d{4}-\d{2}-\d{2}$"),
    "time": re.compile(rb"\d{2}:\d{2}:\d{2}(?:\.\d+)?$"),
    "s-ip": re.compile(_IP + rb"$"),
    "c-ip": re.compile(_IP + rb"$"),
    "cs-method": re.compile(rb"[A-Z][A-Z-]{2,15}$"),
    "cs-uri-stem": re.compile(rb"/"),
    "s-port": re.compile(rb"\d{1,5}$"),
    "c-port": re.compile(rb"\d{1,5}$"),
    "cs-version": re.compile(rb"(?:HTTP/[\d.]+|-)$"),
    "cs-protocol": re.compile(rb"(?:https?|wss?|-)$"),
    "sc-status": re.compile(rb"(?:\d{3}|000|-)$"),
    "sc-substatus": _NUMBER,
    "sc-win32-status": _NUMBER,
    "sc-bytes": _NUMBER,
    "cs-bytes": _NUMBER,
    "time-taken": _NUMBER,
    "x-forwarded-for": re.compile(rb"(?:-|" + _IP + rb"(?:(?:,|%2C)\+?" + _IP + rb")*)$"),
}
_BY_COUNT: dict[int, list[tuple[str, ...]]] = {}
for _names, _fewest in LAYOUTS:
    for _n in range(_fewest, len(_names) + 1):
        _BY_COUNT.setdefault(_n, []).append(_names[:_n])


def _fits(names: tuple[str, ...], parts: list[bytes]) -> bool:
    """Whether each field of a line has the shape its name in `names` asks for."""
    for name, value in zip(names, parts, strict=True):
        shape = SHAPES.get(name)
        if shape is not None and shape.match(value) is None:
            return False
    return True


@lru_cache(maxsize=64)
def _agreed(layouts: tuple[tuple[str, ...], ...], n: int) -> tuple[tuple[int, ...], ...]:
    """`_plan` of the fields on whose columns all these layouts agree; the others are left out."""
    plans = [_plan(names, n) for names in layouts]
    return tuple(cols if all(p[k] == cols for p in plans) else () for k, cols in enumerate(plans[0]))


def infer_plan(parts: list[bytes]) -> tuple[tuple[int, ...], ...] | None:
    """The columns of a line without a directive, from the known layouts its shape fits.

    A line that fits none still gives its date, time, method and path (and the query after it)
    when a method word is followed by a path; otherwise None.
    """
    fitting = tuple(names for names in _BY_COUNT.get(len(parts), ()) if _fits(names, parts))
    if fitting:
        return _agreed(fitting, len(parts))
    # IIS keeps one order whatever fields are picked: `cs-method cs-uri-stem cs-uri-query s-port
    # cs-username c-ip ... sc-status sc-substatus sc-win32-status`.
    n = len(parts)
    for i in range(2, n - 1):
        if parts[i + 1][:1] == b"/" and SHAPES["cs-method"].match(parts[i]):
            q = i + 2
            if q >= n or not (parts[q] == b"-" or b"=" in parts[q]):
                return (0,), (1,), (i + 1,), (), (), (i,), (), (), (), ()
            ip: tuple[int, ...] = ()
            if q + 3 < n and SHAPES["s-port"].match(parts[q + 1]) and SHAPES["c-ip"].match(parts[q + 3]):
                ip = (q + 3,)
            code = next(((j,) for j in range(q + 1, n - 2) if len(parts[j]) == 3 and parts[j].isdigit()
                         and parts[j + 1].isdigit() and parts[j + 2].isdigit()), ())
            return (0,), (1,), (i + 1,), (), (), (i,), code, ip, (q,), ()
    return None


def parse_w3c(line: bytes, ctx: FileContext) -> LineFields | None:
    """A data line, read with the field names of the latest `#Fields:` directive.

    Without a directive (or when the line's field count is not the directive's), the line is read
    by the known layouts its shape fits; a line that fits none is not taken as W3C.
    """
    names = ctx.iis_fields
    if line.startswith(b"#"):
        return None
    line = line.rstrip(b"\r")
    parts = line.split(b"\t" if b"\t" in line else b" ")
    dated = _W3C_LINE.match(line) is not None
    plan = None
    if not names or len(names) != len(parts):
        plan = infer_plan(parts) if dated else None
    if plan is None:
        if not names or (names[:1] == ["date"] and not dated):
            return None
        plan = _plan(tuple(names), len(parts))
    c_date, c_time, c_stem, c_ua, c_host, c_method, c_status, c_ip, c_query, c_taken = plan
    date, clock = _get(parts, c_date), _get(parts, c_time)
    # W3C times are UTC by definition, whatever the server's zone. They are when the entry was
    # written, after the response: `time-taken` (IIS: ms; CloudFront: seconds, with a point) before.
    ts = T.parse_iso(date + b" " + clock + b"Z") if date and clock else None
    taken = _get(parts, c_taken)
    if taken is not None and ts is not None:
        ts = arrival(ts, seconds_us(taken) if b"." in taken else seconds_us(taken, 1000))
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
