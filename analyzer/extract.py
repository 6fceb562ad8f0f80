"""Find tokens in byte chunks: where each one sits (line, offsets) and how it was presented.

The scan is one bytes regex over a whole chunk; only lines that hold a match are looked at
further. The pattern can start only where a base64url run starts (the lookbehind), so a long run
of `eyJeyJ...` is tried once, and scanning stays linear in the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import NamedTuple

import orjson

from analyzer import schema as S

_B64 = rb"A-Za-z0-9_\-"
TOKEN_RE = re.compile(
    rb"(?<![" + _B64 + rb"])eyJ[" + _B64 + rb"]{2,}={0,2}\.[" + _B64 + rb"]*={0,2}"
    rb"(?:\.[" + _B64 + rb"]*={0,2}(?:\.[" + _B64 + rb"]*\.[" + _B64 + rb"]*)?)?"
)

# What stands right before a token tells how it was presented. Matched on the reversed
# preceding bytes would be faster; these run only for lines that hold a token.
_BEARER = re.compile(rb"(?i:bearer)(?:\s|\+|%20|\\t)+$")
_PARAM = re.compile(rb"([?&;\s\"',{]|^)([A-Za-z_][A-Za-z0-9_.\-]{0,40})(?:=|%3D)$")
_JSON_KEY = re.compile(rb"[\"']([A-Za-z_@:][A-Za-z0-9_.\-@:]{0,60})\\?[\"']\s*[:=]\s*\\?[\"']$")
_COOKIE = re.compile(rb"(?i:cookie)")
_MASKED = re.compile(
    rb"(?i:bearer)(?:\s|\+|%20)+(?:\*{3,}|\[?(?i:redacted|filtered|masked|hidden|removed|pii is hidden)\]?|"
    rb"<(?i:redacted|token)>|x{3,}|X{3,})(?![A-Za-z0-9_.\-])"
)
_MASK_HINTS = (b"REDACTED", b"***", b"edacted", b"FILTERED", b"MASKED", b"xxx", b"XXX", b"idden")

BEARER_PARAMS = frozenset({"authorization", "access_token", "token", "bearer"})
SIGNIN_PARAMS = frozenset({"id_token"})
ASSERTION_PARAMS = frozenset({"client_assertion", "assertion"})


class Hit(NamedTuple):
    """One token candidate: its line and where in the chunk it and its line are."""

    line_no: int
    line_start: int
    line_end: int
    start: int
    end: int


def find_tokens(chunk: bytes, first_line: int) -> Iterator[Hit]:
    """Every token candidate in a chunk, in order, with its 1-based line number."""
    line_no = first_line
    pos = 0
    for m in TOKEN_RE.finditer(chunk):
        start = m.start()
        line_no += chunk.count(b"\n", pos, start)
        pos = start
        line_start = chunk.rfind(b"\n", 0, start) + 1
        line_end = chunk.find(b"\n", start)
        if line_end < 0:
            line_end = len(chunk)
        yield Hit(line_no, line_start, line_end, start, m.end())


def count_masked(chunk: bytes) -> int:
    """Bearer values that were masked before logging (`Bearer REDACTED`, `Bearer ***`)."""
    if not any(h in chunk for h in _MASK_HINTS):
        return 0
    return len(_MASKED.findall(chunk))


def locate(before: bytes) -> tuple[str, str]:
    """(location, parameter name) for a token preceded by these bytes of its line."""
    tail = before[-120:]
    if _BEARER.search(tail):
        return (S.LOC_COOKIE, "cookie") if _is_cookie(tail) else (S.LOC_AUTHORIZATION, "authorization")
    m = _JSON_KEY.search(tail)
    if m:
        key = m.group(1).decode("ascii", "replace").lower()
        if key in ("authorization", "http_authorization", "request_authorization", "auth"):
            return S.LOC_AUTHORIZATION, "authorization"
        if key in ("cookie", "cookies"):
            return S.LOC_COOKIE, "cookie"
        return S.LOC_JSON, key
    m = _PARAM.search(tail)
    if m:
        sep, name = m.group(1), m.group(2).decode("ascii", "replace")
        lname = name.lower()
        if sep == b";" or _is_cookie(tail[: m.start(2)]):
            return S.LOC_COOKIE, lname
        if sep == b"?" or (sep == b"&" and _in_url(tail[: m.start(1)])):
            return S.LOC_QUERY, lname
        return S.LOC_FORM, lname
    return S.LOC_TEXT, ""


def _is_cookie(before: bytes) -> bool:
    """A `Cookie:` header or cookie field shortly before, with no quote in between."""
    m = None
    for m in _COOKIE.finditer(before):
        pass
    return m is not None and b'"' not in before[m.end():].lstrip(b'":= ')


def _in_url(before: bytes) -> bool:
    """Whether the `&` that precedes a parameter belongs to a URL (a `?` in the same word)."""
    word_start = max(before.rfind(b" "), before.rfind(b'"'), before.rfind(b"'"))
    return b"?" in before[word_start + 1 :]


_header_ok: dict[bytes, bool] = {}


def plausible_header(token: bytes) -> bool:
    """Whether the first segment decodes to a JSON object that names an algorithm.

    Used for tokens found in free text, where a JWT-shaped string may be something else.
    """
    head = token.split(b".", 1)[0]
    cached = _header_ok.get(head)
    if cached is not None:
        return cached
    ok = False
    try:
        obj = orjson.loads(base64.urlsafe_b64decode(head.rstrip(b"=") + b"=" * (-len(head.rstrip(b"=")) % 4)))
        ok = isinstance(obj, dict) and ("alg" in obj or "enc" in obj)
    except (binascii.Error, ValueError):
        ok = False
    if len(_header_ok) > 65536:
        _header_ok.clear()
    _header_ok[head] = ok
    return ok
