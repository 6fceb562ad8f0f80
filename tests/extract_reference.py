"""The test oracle for the compiled scan core: the pure-Python token finding it replaced.

This is the analyzer's former `extract.py` (bytes regexes with lookbehinds, `re` passes for the
chunk marks), kept only in the tests: `test_core_scan.py` checks that the core finds the same
tokens, lines, locations, marks and masked values on any input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from analyzer import schema as S

_B64 = rb"A-Za-z0-9_\-"
_PAD = rb"(?:=|%3[Dd]){0,2}"  # `=` padding, also URL-encoded
# A token starts where a base64url run starts, or right after a percent escape (`Bearer%20eyJ`,
# `access_token%3DeyJ` in an encoded redirect URL). Either way each run is tried once: linear.
# The literal `eyJ` comes first so that the regex engine can jump between candidates with a fast
# substring search; the lookbehinds then check where the run started (about 20x faster than
# putting them first, which makes the engine try every byte). `=` padding sits in the character
# class: optional padding groups after each segment would double the cost of every match.
_SEG = rb"[" + _B64 + rb"=]"
_START = rb"eyJ(?:(?<![" + _B64 + rb"]eyJ)|(?<=%[0-9A-Fa-f]{2}eyJ))"
# One dotted run is one candidate, whatever its count of segments (3: a JWS, 5: a JWE, else malformed); past
# the third a segment holds at least one byte, so a dot that ends a sentence is not one.
TOKEN_RE = re.compile(
    _START + _SEG + rb"{2,}\." + _SEG + rb"*(?:\." + _SEG + rb"*(?:\." + _SEG + rb"+)*)?"
)
# Padding written URL-encoded (`%3D`): the slower pattern, only for chunks that hold such escapes.
TOKEN_PCT_RE = re.compile(
    _START + rb"[" + _B64 + rb"]{2,}" + _PAD + rb"\.[" + _B64 + rb"]*" + _PAD
    + rb"(?:\.[" + _B64 + rb"]*" + _PAD + rb"(?:\.(?:[" + _B64 + rb"]+" + _PAD + rb"|(?:=|%3[Dd]){1,2}))*)?"
)


# What stands right before a token tells how it was presented. Matched on the reversed
# preceding bytes would be faster; these run only for lines that hold a token.
_BEARER = re.compile(rb"(?i:bearer)(?:\s|\+|%20|\\t)+$")
_BEARER_ENDINGS = (b"Bearer ", b"bearer ", b"Bearer+", b"BEARER ")
_PARAM = re.compile(rb"([?&;\s\"',{|]|^|%26|%3[Ff])([A-Za-z_][A-Za-z0-9_.\-]{0,40})(?:=|%3[Dd])$")
# The JSON key whose string value holds `name=...`: a query field (`"requestQuery":"access_token=..."`).
_KEY_BEFORE = re.compile(rb"[\"']([A-Za-z_@][A-Za-z0-9_.\-@]{0,60})[\"']\s*:\s*$")
_QUERY_KEYS = (b"query", b"uri", b"url", b"path", b"target", b"referer", b"referrer", b"location")
_JSON_KEY = re.compile(rb"[\"']([A-Za-z_@:][A-Za-z0-9_.\-@:]{0,60})\\?[\"']\s*[:=]\s*\\?[\"']$")
_COOKIE = re.compile(rb"(?i:cookie)")
_MASK_VALUE = (rb"(?:\*{3,}|\[?(?i:redacted|filtered|masked|hidden|removed|pii is hidden)\]?|"
               rb"<(?i:redacted|token|hidden)>|x{3,}|X{3,})(?![A-Za-z0-9_.\-])")
# `Bearer ***`, and an Authorization value masked whole (Traefik's and Caddy's `REDACTED`).
# A Bearer (or whole Authorization) value that is not a JWT, found with literal-first patterns
# (a fast substring search); only those few are then matched against the masked shapes.
_NOT_JWT = (
    re.compile(rb"earer(?<=[Bb]earer)(?:\s|\+|%20)+(?!eyJ)"),
    re.compile(rb"EARER(?<=BEARER)(?:\s|\+|%20)+(?!eyJ)"),
    re.compile(rb"uthorization(?<=[Aa]uthorization)[\"']?\s*[:=]\s*\[?\s*[\"']?(?![Bb]earer|eyJ)"),
)
_MASK_VALUE_RE = re.compile(_MASK_VALUE)


class Hit(NamedTuple):
    """One token candidate: its line and where in the chunk it and its line are."""

    line_no: int
    line_start: int
    line_end: int
    start: int
    end: int


_TOKEN_TEXT_RE = re.compile(TOKEN_RE.pattern.decode("ascii"))


def redact(value: str | None) -> str | None:
    """A log field with any token in it replaced: a path like `/cb/eyJ...` must not carry one out."""
    if value is None or "eyJ" not in value:
        return value
    return _TOKEN_TEXT_RE.sub("[token]", value)


def canonical(token: bytes) -> bytes:
    """The token as issued: URL-encoded padding (`%3D`) turned back into `=`."""
    return token.replace(b"%3D", b"=").replace(b"%3d", b"=") if b"%" in token else token


# --- what a chunk holds, in one pass ----------------------------------------------------------------
# Rare strings that switch on extra work for a chunk. Testing for each with `in` costs a pass over
# the chunk apiece (about 0.6 ns a byte each, as much as the token scan itself); Hyperscan finds all
# of them in one pass at about 0.2 ns a byte. Without Hyperscan every mark but MARK_PCT is assumed
# present, which costs time, never results.
MARK_PCT = 1  # `%3D`: URL-encoded padding, the token pattern that allows it
MARK_CODES = 2  # `IDX` / `AADSTS`: a validator's error code may be logged here
MARK_FIELDS = 4  # `#Fields:`: a W3C directive changes the columns
MARK_MASK = 8  # a mask value (`***`, `REDACTED`, `xxx`, ...): Bearer values may have been masked
MARK_COOKIE = 16  # `cookie` in any case: a token after `Bearer ` may still sit in a cookie
MARK_ALL = MARK_PCT | MARK_CODES | MARK_FIELDS | MARK_MASK | MARK_COOKIE
# (mark, regular expression, caseless): plain strings but one, in the syntax Hyperscan and `re` share.
MARK_PATTERNS: tuple[tuple[int, bytes, bool], ...] = (
    (MARK_PCT, rb"%3[Dd]", False),
    (MARK_CODES, rb"IDX", False), (MARK_CODES, rb"AADSTS", False),
    (MARK_FIELDS, rb"#Fields:", False),
    # Every alternative of `_MASK_VALUE` holds one of these. `xxx` occurs in base64 by chance
    # (about twice per MiB of tokens): it counts only after what can stand before a mask value.
    (MARK_MASK, rb"\*\*\*", False), (MARK_MASK, rb"[\s+0\"':=\[](?:xxx|XXX)", False),
    *((MARK_MASK, w, True) for w in (rb"redacted", rb"filtered", rb"masked", rb"hidden", rb"removed", rb"<token>")),
    (MARK_COOKIE, rb"cookie", True),
)
def chunk_marks_exact(chunk: bytes) -> int:
    """`chunk_marks` computed the slow way, one `re` pass per pattern: what the fast one must agree with."""
    marks = 0
    for mark, pattern, caseless in MARK_PATTERNS:
        if re.search(pattern, chunk, re.IGNORECASE if caseless else 0):
            marks |= mark
    return marks


def token_pattern(marks: int) -> re.Pattern[bytes]:
    """The token pattern for a chunk with these marks."""
    return TOKEN_PCT_RE if marks & MARK_PCT else TOKEN_RE


def find_tokens(chunk: bytes, first_line: int, marks: int | None = None) -> Iterator[Hit]:
    """Every token candidate in a chunk, in order, with its 1-based line number.

    `marks` are the chunk's (`chunk_marks`), when the caller has them already. A line's bounds are
    looked up once, however many tokens it holds.
    """
    pattern = token_pattern(chunk_marks_exact(chunk) if marks is None else marks)
    line_no, pos, line_start, line_end = first_line, 0, 0, -1
    count, rfind, find = chunk.count, chunk.rfind, chunk.find
    for m in pattern.finditer(chunk):
        start, end = m.span()
        line_no += count(b"\n", pos, start)
        pos = start
        if start > line_end:  # a new line
            line_start = rfind(b"\n", 0, start) + 1
            line_end = find(b"\n", start)
            if line_end < 0:
                line_end = len(chunk)
        yield Hit(line_no, line_start, line_end, start, end)


def count_masked(chunk: bytes, marks: int = MARK_ALL) -> int:
    """Bearer values that were masked before logging (`Bearer REDACTED`, `Bearer ***`)."""
    if not marks & MARK_MASK:
        return 0
    n = 0
    for pattern in _NOT_JWT:
        for m in pattern.finditer(chunk):
            if _MASK_VALUE_RE.match(chunk, m.end()):
                n += 1
    return n


_IN_AUTHORIZATION = (S.LOC_AUTHORIZATION, "authorization")


def locate_at(chunk: bytes, line_start: int, start: int, marks: int = MARK_ALL) -> tuple[str, str]:
    """`locate` for the token at `start`, without copying its line for the common `Bearer ` case.

    `marks` are the chunk's: without MARK_COOKIE no cookie can precede the token.
    """
    lo = max(line_start, start - 120)  # `locate` looks at the last 120 bytes
    if chunk.endswith(_BEARER_ENDINGS, lo, start) and (
            not marks & MARK_COOKIE or _COOKIE.search(chunk, lo, start) is None):
        return _IN_AUTHORIZATION
    return locate(chunk[lo:start])


def locate(before: bytes) -> tuple[str, str]:
    """(location, parameter name) for a token preceded by these bytes of its line."""
    tail = before[-120:]
    if tail.endswith(_BEARER_ENDINGS) or _BEARER.search(tail):  # the common case first, without a regex
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
        before = tail[: m.start(1)]
        if sep == b";" or before.endswith(b";") or _is_cookie(tail[: m.start(2)]):
            return S.LOC_COOKIE, lname
        if sep in (b"?", b"%3F", b"%3f") or (sep in (b"&", b"%26") and _in_url(before)):
            return S.LOC_QUERY, lname
        if sep in (b'"', b"'"):
            k = _KEY_BEFORE.search(before)
            if k and any(q in k.group(1).lower() for q in _QUERY_KEYS):
                return S.LOC_QUERY, lname
        return S.LOC_FORM, lname
    return S.LOC_TEXT, ""


def _is_cookie(before: bytes) -> bool:
    """A `Cookie:` header or cookie field shortly before, with no quote in between."""
    m = None
    for m in _COOKIE.finditer(before):  # noqa: B007 - the last match is the one wanted
        pass
    return m is not None and b'"' not in before[m.end():].lstrip(b'":= ')


def _in_url(before: bytes) -> bool:
    """Whether the `&` that precedes a parameter belongs to a URL (a `?` in the same word)."""
    word_start = max(before.rfind(b" "), before.rfind(b'"'), before.rfind(b"'"))
    word = before[word_start + 1 :]
    return b"?" in word or b"%3F" in word or b"%3f" in word
