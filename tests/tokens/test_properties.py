"""Properties over the extract, decode and check stages, for any input Hypothesis can make up.

Extraction never raises and reports hits that are inside the chunk and on the right line; decoding
never raises and yields only known causes; classification never raises, and a token that is
unsigned (`alg: none`) or HMAC-signed is never `ok`, whatever its claims say.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import extract_reference
import jwts as T
import pandas as pd
import pytest
from batches import batch_of, empty_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import schema as S
from analyzer.config import Settings, build_settings
from analyzer.scan import extract
from analyzer.scan.chunks import batch_frame
from analyzer.tokens.check import classify
from analyzer.tokens.decode import TokenFacts, analyze_token
from analyzer.tokens.keys import KeyRing

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
KEY = T.make_rsa_key("prop-k1")

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats(allow_nan=False) | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
CLAIM_NAMES = ("aud", "iss", "exp", "nbf", "iat", "tid", "scp", "roles", "appid", "azp", "oid", "sub", "upn",
               "ver", "nonce", "idtyp", "name")
ALGS = ("none", "None", "NONE", "HS256", "HS384", "HS512", "RS256", "ES256", "PS256", "", "RS1", None, 5)
token_bytes = st.binary(max_size=300) | st.text(
    alphabet="eyJABCabc0123_-.=%3D", max_size=300).map(lambda s: s.encode())


@cache
def _ring_and_settings() -> tuple[KeyRing, Settings]:
    """A key ring that holds KEY, so that a well-signed token can be `ok` (and alg tricks cannot)."""
    from analyzer.tokens.keystore import load_keyring

    home = Path(__import__("tempfile").mkdtemp(prefix="props-"))
    jwks = home / "keys.json"
    jwks.write_text(json.dumps(T.jwks(KEY)))
    st_ = build_settings(None, [], jwks=[str(jwks)], offline=True, cache_dir=home / "cache", out_dir=home)
    return load_keyring(st_), st_


def _classify_one(facts: TokenFacts, param: str = "authorization", ts_us: int | None = None) -> pd.DataFrame:
    cols = empty_columns()
    row = {"ts": ts_us, "source": "x.log", "line": 1, "format": S.FMT_GENERIC, "location": S.LOC_AUTHORIZATION,
           "param": param, "host": None, "method": None, "path": None, "status": None, "client_ip": None,
           "user_agent": None, "token_fp": facts.fp, "logged_error": None}
    for k, v in row.items():
        cols[k].append(v)
    _, settings_ = _ring_and_settings()
    return classify(batch_frame(batch_of(cols, {facts.fp: facts}, 1_700_000_000_000_000)), {facts.fp: facts},
                    settings_)


# --- extract ----------------------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=10**9))
def test_find_tokens_on_any_bytes(chunk: bytes, first_line: int) -> None:
    for hit in extract.find_tokens(chunk, first_line):
        assert 0 <= hit.line_start <= hit.start < hit.end <= hit.line_end <= len(chunk)
        assert chunk[hit.start:hit.start + 3] == b"eyJ"
        assert hit.line_no == first_line + chunk.count(b"\n", 0, hit.start)
        assert b"\n" not in chunk[hit.line_start:hit.line_end]
        extract.canonical(chunk[hit.start:hit.end])
    extract.count_masked(chunk)


@FAST
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_a_token_is_found_wherever_it_sits(before: bytes, after: bytes) -> None:
    tok = T.sign({"aud": "a", "iss": "i", "exp": 1}, KEY).encode()
    # A token starts a base64url run: what precedes it must end one.
    chunk = before + b" " + tok + b" " + after
    found = [chunk[h.start:h.end] for h in extract.find_tokens(chunk, 1)]
    assert tok in found


@FAST
@given(st.binary(max_size=400))
def test_locate_and_plausible_header_on_any_bytes(before: bytes) -> None:
    location, param = extract.locate(before)
    assert location in S.LOCATIONS
    assert isinstance(param, str)
    extract.plausible_header(b"eyJ" + before)


# --- decode ---------------------------------------------------------------------------------------

@FAST
@given(token_bytes, st.booleans())
def test_analyze_token_on_any_bytes(raw: bytes, truncated: bool) -> None:
    ring, _ = _ring_and_settings()
    facts = analyze_token(raw, ring, (), truncated=truncated)
    assert all(c in S.CAUSES for c, _ in facts.failures)
    assert len(facts.fp) == 16


@FAST
@given(st.dictionaries(st.sampled_from(CLAIM_NAMES) | st.text(max_size=6), json_values, max_size=12),
       st.dictionaries(st.sampled_from(("kid", "typ", "x5t", "jku", "x5u", "nonce", "enc")), json_values,
                       max_size=4),
       st.sampled_from(ALGS), st.sampled_from(("rsa", "hmac", "empty", "junk")))
@pytest.mark.slow
def test_any_claims_any_header_never_raise(claims: dict[str, Any], header: dict[str, Any], alg: Any,
                                           signer: str) -> None:
    ring, _ = _ring_and_settings()
    hdr = {**header, "alg": alg} if alg is not None else header
    h, p = T.b64url(json.dumps(hdr).encode()), T.b64url(json.dumps(claims).encode())
    if signer == "rsa" and alg == "RS256":
        tok = T.sign_segments(h, p, KEY, "RS256")
    elif signer == "hmac" and alg in ("HS256", "HS384", "HS512"):
        tok = T.sign_segments(h, p, KEY.public_pem(), alg)  # the alg-confusion attack
    elif signer == "empty":
        tok = f"{h}.{p}."
    else:
        tok = f"{h}.{p}.c2lnbmF0dXJlIHRoYXQgaXMgbm90IG9uZQ"
    facts = analyze_token(tok.encode(), ring)
    assert all(c in S.CAUSES for c, _ in facts.failures)
    ev = _classify_one(facts)
    cause = ev["cause"].iloc[0]
    assert cause in S.CAUSES
    assert set(ev["causes"].iloc[0]) <= set(S.FAILURE_CAUSES)
    if not (isinstance(alg, str) and alg == "RS256"):
        assert cause != S.OK, (alg, facts.failures)


@FAST
@given(st.sampled_from(("none", "None", "nOnE", "HS256", "HS384", "HS512")), st.booleans(),
       st.integers(min_value=-(2**40), max_value=2**40))
@pytest.mark.slow
def test_unsigned_and_hmac_tokens_are_never_ok(alg: str, with_kid: bool, skew: int) -> None:
    # A token that passes every other check: right issuer, live, and the kid of a real key.
    claims = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=1, iat=1_700_000_000,
                                   exp=1_700_003_600)
    ring, _ = _ring_and_settings()
    headers = {"kid": KEY.kid} if with_kid else {}
    if alg.lower() == "none":
        tok = T.unsigned(claims, {**headers, "alg": alg})
    else:
        tok = T.sign(claims, None, alg, headers, secret=KEY.public_pem())
    facts = analyze_token(tok.encode(), ring)
    assert facts.failures and facts.failures[0][0] == S.UNSUPPORTED_ALG
    ev = _classify_one(facts, ts_us=(1_700_000_100 + skew % 3000) * 1_000_000)
    assert ev["cause"].iloc[0] == S.UNSUPPORTED_ALG
    assert not ev["signature_checked"].iloc[0]


def test_the_same_token_well_signed_is_ok() -> None:
    """The control for the two tests above: the key ring does make a good token `ok`."""
    ring, _ = _ring_and_settings()
    claims = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=1, iat=1_700_000_000,
                                   exp=1_700_003_600)
    facts = analyze_token(T.sign(claims, KEY).encode(), ring)
    ev = _classify_one(facts, ts_us=1_700_000_100_000_000)
    assert ev["cause"].iloc[0] == S.OK and ev["signature_checked"].iloc[0]


# Fragments that switch marks on (and near misses), so that random chunks hit every branch.
_MARK_BITS = st.sampled_from([b"%3D", b"%3d", b"%3", b"IDX", b"AADSTS", b"#Fields:", b"***", b"**", b" xxx", b"xxx",
                              b"=XXX", b"Bearer ", b"bearer+", b"BEARER ", b"Authorization: ", b"ReDaCtEd", b"hidden",
                              b"<TOKEN>", b"masked", b"filtered", b"removed", b"eyJhbGciOiJub25lIn0.e30.", b"\n",
                              b'"', b"[", b"; Cookie: a=", b"cOoKiE", b"Bearer eyJhbGciOiJub25lIn0.e30."])
_MARKED_CHUNKS = st.lists(_MARK_BITS | st.binary(max_size=12), max_size=30).map(b"".join)


@FAST
@given(_MARKED_CHUNKS)
def test_chunk_marks_are_what_the_slow_way_finds(chunk: bytes) -> None:
    # The core's one-pass marks against one `re` pass per pattern (the former implementation's).
    assert extract.chunk_marks(chunk) == extract_reference.chunk_marks_exact(chunk)


@FAST
@given(_MARKED_CHUNKS)
def test_skipping_by_marks_changes_no_count(chunk: bytes) -> None:
    assert extract.count_masked(chunk, extract.chunk_marks(chunk)) == extract.count_masked(chunk)
    pct = b"%3D" in chunk or b"%3d" in chunk
    assert bool(extract.chunk_marks(chunk) & extract.MARK_PCT) == pct


@FAST
@given(_MARKED_CHUNKS, st.data())
def test_locate_at_is_locate_of_the_bytes_before(chunk: bytes, data: st.DataObject) -> None:
    start = data.draw(st.integers(min_value=0, max_value=len(chunk)))
    line_start = chunk.rfind(b"\n", 0, start) + 1
    want = extract.locate(chunk[max(line_start, start - 160):start])
    assert extract.locate_at(chunk, line_start, start) == want
    assert extract.locate_at(chunk, line_start, start, extract.chunk_marks(chunk)) == want


# --- W3C directives -------------------------------------------------------------------------------
@FAST
@given(st.lists(st.sampled_from(["#Fields:", "#Fields: date time", " ", "\t", "cs(Host)", "\n", "\r", "\r\n", "#",
                                 "x#Fields:", "é"]), max_size=12).map("".join))
def test_field_directives_are_the_lines_that_start_with_fields(text: str) -> None:
    """What a regex anchored at every line start finds, found from `bytes.find` hits."""
    import re

    from analyzer.scan.formats import field_directives

    chunk = text.encode()
    slow = [(m.start(), [f.lower() for f in m[1].decode("latin-1").split()])
            for m in re.finditer(rb"^#Fields:[ \t]*(.*?)\r?$", chunk, re.M)]
    assert field_directives(chunk) == slow


_TOK = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNzk1MTUwODY2fQ.c2lnbmF0dXJl-_"


# --- W3C lines without their `#Fields:` directive: read as the directive would read them ----------------
_W3C_VALUES: dict[str, Any] = {
    "date": st.sampled_from(["2026-11-26", "2027-01-01"]),
    "time": st.sampled_from(["00:01:02", "23:59:59"]),
    "s-ip": st.sampled_from(["10.0.0.4", "fe80::1", "192.168.1.10"]),
    "c-ip": st.sampled_from(["203.0.113.9", "2001:db8::7", "::1"]),
    "cs-method": st.sampled_from(["GET", "POST", "PROPFIND", "OPTIONS"]),
    "cs-uri-stem": st.sampled_from(["/", "/api/orders", "/a/b.aspx"]),
    "cs-uri-query": st.sampled_from(["-", "access_token=" + _TOK, "a=1&b=2"]),
    "s-port": st.sampled_from(["80", "443", "8443"]),
    "cs-username": st.sampled_from(["-", "CONTOSO\\alice", "bob"]),
    "cs-version": st.sampled_from(["HTTP/1.1", "HTTP/2", "-"]),
    "cs(user-agent)": st.sampled_from(["-", "Mozilla/5.0+(Windows+NT+10.0)", "okhttp/4.12"]),
    "cs(cookie)": st.sampled_from(["-", "a=b;+c=d"]),
    "cs(referer)": st.sampled_from(["-", "https://app.contoso.com/"]),
    "cs-host": st.sampled_from(["-", "orders.contoso.com", "orders.contoso.com:443"]),
    "sc-status": st.sampled_from(["200", "401", "500"]),
    "sc-substatus": st.sampled_from(["0", "5"]),
    "sc-win32-status": st.sampled_from(["0", "64"]),
    "sc-bytes": st.sampled_from(["0", "512"]),
    "cs-bytes": st.sampled_from(["0", "1024"]),
    "time-taken": st.sampled_from(["0", "15", "2500"]),
    "s-sitename": st.sampled_from(["W3SVC1", "~1ORDERS", "Default+Web+Site"]),
    "s-computername": st.sampled_from(["WEB01", "srv-2"]),
    "x-forwarded-for": st.sampled_from(["-", "198.51.100.1", "198.51.100.1,+10.0.0.1"]),
}


_IIS_DEFAULT = ("date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username",
                "c-ip", "cs(user-agent)", "cs(referer)", "sc-status", "sc-substatus", "sc-win32-status",
                "time-taken")
_IIS_FULL = ("date", "time", "s-sitename", "s-computername", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query",
             "s-port", "cs-username", "c-ip", "cs-version", "cs(user-agent)", "cs(cookie)", "cs(referer)",
             "cs-host", "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken")
# The IIS layouts the core recognises without a directive (src/formats/w3c.rs).
_LAYOUTS = (
    _IIS_DEFAULT, tuple(f for f in _IIS_DEFAULT if f != "cs(referer)"), (*_IIS_DEFAULT, "x-forwarded-for"),
    ("date", "time", "s-sitename", *_IIS_DEFAULT[2:]), _IIS_FULL, (*_IIS_FULL, "x-forwarded-for"),
    ("date", "time", "s-sitename", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port", "cs-username", "c-ip",
     "cs(user-agent)", "cs(cookie)", "cs(referer)", "cs-host", "sc-status", "sc-substatus", "sc-win32-status",
     "sc-bytes", "cs-bytes", "time-taken"),
)


@st.composite
def _w3c_line(draw: st.DrawFn) -> tuple[list[str], bytes]:
    names = list(draw(st.sampled_from(_LAYOUTS)))
    return names, " ".join(draw(_W3C_VALUES[n]) for n in names).encode()


@FAST
@given(_w3c_line())
def test_an_iis_line_without_its_directive_reads_as_with_it(case: tuple[list[str], bytes]) -> None:
    from analyzer.scan.formats import FileContext, parse_line

    names, line = case
    known_fmt, known = parse_line(line, S.FMT_IIS, FileContext(iis_fields=names))
    inferred_fmt, inferred = parse_line(line, S.FMT_IIS, FileContext())
    assert known_fmt == inferred_fmt == S.FMT_IIS
    # What is read is what the directive says; the method, path and time are always read.
    for got, want in zip(inferred, known, strict=True):
        assert got is None or got == want
    assert (inferred.ts, inferred.method, inferred.path) == (known.ts, known.method, known.path)
