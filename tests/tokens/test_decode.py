"""decode.analyze_token: one unique token in, facts and request-independent failures out."""

from __future__ import annotations

import dataclasses

import jwts as T
import pytest

from analyzer import _core
from analyzer import schema as S
from analyzer.config import SIGNING_ALGS, ClientApp
from analyzer.tokens.decode import TokenFacts, analyze_token, fingerprint
from analyzer.tokens.keys import KeyRing, KeySet

TENANT = "11111111-2222-3333-4444-555555555555"
NOW = 1_795_000_000


@pytest.fixture(scope="module")
def key() -> T.KeyPair:
    return T.make_rsa_key("k1")


@pytest.fixture(scope="module")
def ring(key: T.KeyPair) -> KeyRing:
    return KeyRing([KeySet(source="test", origin="file", jwks=[key.public_jwk()])])


def _claims(**over: object) -> dict:
    c = T.access_token_claims(TENANT, "api://orders", "c-1", iat=NOW, exp=NOW + 3600, scp="read")
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def causes(facts) -> list[str]:
    return [c for c, _ in facts.failures]


def test_valid_token_verifies_and_exposes_claims(key, ring) -> None:
    tok = T.sign(_claims(), key)
    f = analyze_token(tok.encode(), ring)
    assert f.failures == ()
    assert f.signature_checked
    assert f.kind == S.KIND_ACCESS
    assert f.audience == "api://orders"
    assert f.client_id == "c-1"
    assert f.exp == (NOW + 3600) * 1_000_000
    assert f.fp == fingerprint(tok.encode()) and len(f.fp) == 16


def test_facts_never_hold_the_signature(key, ring) -> None:
    tok = T.sign(_claims(), key)
    sig = tok.rsplit(".", 1)[1]
    assert sig not in repr(analyze_token(tok.encode(), ring))


@pytest.mark.parametrize(
    ("make", "cause", "words"),
    [
        (lambda k: "eyJhbGciOiJSUzI1NiJ9.!!!.abc", S.MALFORMED, "payload"),
        (lambda k: T.truncate(T.sign(_claims(), k), 80), S.MALFORMED, "truncated"),
        (lambda k: T.jwe_like(seed=1), S.ENCRYPTED, "JWE"),
        (lambda k: T.unsigned(_claims()), S.UNSUPPORTED_ALG, "none"),
        (lambda k: T.sign(_claims(), None, "HS256", secret=b"s3cret-s3cret-s3cret-s3cret-s3cret"), S.UNSUPPORTED_ALG,
         "shared-secret"),
        (lambda k: T.sign(_claims(exp=None), k), S.MISSING_CLAIMS, "exp"),
        (lambda k: T.sign(_claims(), T.make_rsa_key("k1")), S.BAD_SIGNATURE, "does not verify"),
        (lambda k: T.sign(_claims(), T.make_rsa_key("rotated")), S.UNKNOWN_KID, "rotated"),
        (lambda k: T.sign(_claims(exp="tomorrow"), k), S.MALFORMED, "not a number"),
        (lambda k: T.sign(_claims(exp=1e308), k), S.MALFORMED, "representable"),
    ],
)
def test_each_static_cause(key, ring, make, cause, words) -> None:
    f = analyze_token(make(key).encode(), ring, truncated=True)
    assert causes(f)[0] == cause
    assert words in dict(f.failures)[cause]


def test_graph_token_with_header_nonce_is_named(key, ring) -> None:
    tok = T.sign_with_header_nonce(_claims(aud="00000003-0000-0000-c000-000000000000"), key, "n0nce")
    f = analyze_token(tok.encode(), ring)
    assert causes(f) == [S.BAD_SIGNATURE]
    assert "Microsoft Graph" in dict(f.failures)[S.BAD_SIGNATURE]


def test_no_keys_means_signature_not_checked(key) -> None:
    f = analyze_token(T.sign(_claims(), key).encode(), KeyRing())
    assert f.failures == () and not f.signature_checked


def test_hostile_claim_types_do_not_crash(key, ring) -> None:
    claims = _claims(aud=12345, iss=["a", "b"], nbf=-5, appid={"x": 1}, scp=None)
    tok = T.sign_segments(T.header_json({"alg": "RS256", "kid": "k1"}), T.b64url_json(claims), key, "RS256")
    f = analyze_token(tok.encode(), ring)
    assert f.audience == "12345"
    assert f.nbf == -5_000_000


def test_kinds(key, ring) -> None:
    def kind(claims: dict) -> str:
        return analyze_token(T.sign(claims, key).encode(), ring).kind

    assert kind(T.id_token_claims(TENANT, "c-1", iat=NOW, nonce="n")) == S.KIND_ID
    assert kind(T.client_assertion_claims("c-1", TENANT, iat=NOW)) == S.KIND_ASSERTION
    assert kind({"foo": 1}) == S.KIND_UNKNOWN
    assert kind({"tid": TENANT}) == S.KIND_ACCESS


def test_the_core_allows_the_configured_signing_algorithms() -> None:
    assert tuple(_core.SIGNING_ALGS) == SIGNING_ALGS


def test_client_assertion_with_unregistered_certificate(key, ring) -> None:
    registered = T.make_self_signed_cert(key)
    other_key = T.make_rsa_key("other")
    other = T.make_self_signed_cert(other_key)
    apps = (ClientApp("c-9", "billing-job", frozenset({registered.sha1_hex.lower()})),)
    good = T.client_assertion("c-9", TENANT, key, registered, iat=NOW)
    bad = T.client_assertion("c-9", TENANT, other_key, other, iat=NOW)
    assert analyze_token(good.encode(), ring, apps).failures == ()
    f = analyze_token(bad.encode(), ring, apps)
    assert causes(f) == [S.CLIENT_ASSERTION_KEY_MISMATCH]
    assert "billing-job" in dict(f.failures)[S.CLIENT_ASSERTION_KEY_MISMATCH]


def test_padded_segments_decode(key, ring) -> None:
    tok = T.sign_padded(_claims(), key)
    assert "=" in tok
    assert analyze_token(tok.encode(), ring).failures == ()


# --- JSON and claims as Python's readers took them (the compiled core must give the same) -------------
# Each case: header, claims (raw bytes), and what the facts must say. The expectations are what the
# Python implementation (orjson, else `json`) answered; lone surrogates are the one intended change:
# they come out as U+FFFD, as every writer replaced them anyway.

_OK = b'"aud": "a", "iss": "i", "exp": 1'
_RS = b'{"alg":"RS256"}'
_NOT_JSON = [(S.MALFORMED, "the payload is not base64url-encoded JSON")]


def _outside(name: str, shown: str) -> tuple[str, str]:
    return (S.MALFORMED, f"claim {name} ({shown}) is outside any representable date")


def _not_number(name: str, type_name: str) -> tuple[str, str]:
    return (S.MALFORMED, f"claim {name} is {type_name}, not a number of seconds")


@pytest.mark.parametrize(("header", "claims", "expected"), [
    (_RS, b'{"exp": NaN, "aud": "a", "iss": "i"}', {"failures": [_not_number("exp", "float")]}),
    (_RS, b'{"exp": 1e400, "nbf": -Infinity, "aud": "a", "iss": "i"}',
     {"failures": [_not_number("exp", "float"), _not_number("nbf", "float")]}),
    # Beyond 64 bits orjson reads a float; where only `json` reads the text (NaN), an int.
    (_RS, b'{"exp": 99999999999999999999, "aud": "a", "iss": "i"}', {"failures": [_outside("exp", "1e+20")]}),
    (_RS, b'{"exp": 99999999999999999999, "x": NaN, "aud": "a", "iss": "i"}',
     {"failures": [_outside("exp", "99999999999999999999")]}),
    # An int too large for a float: Python's float(v) raised OverflowError, which ended the run.
    (_RS, b'{"exp": 1' + b"0" * 400 + b', "x": NaN, "aud": "a", "iss": "i"}',
     {"failures": [_outside("exp", "1" + "0" * 29)]}),
    (_RS, b'{"exp": true, "iat": "2026", "nbf": null, "aud": "a", "iss": "i"}',
     {"failures": [_not_number("exp", "bool"), _not_number("nbf", "NoneType"), _not_number("iat", "str")]}),
    (_RS, b'{"exp": -62135596801, "iat": 253402300799.5, "aud": "a", "iss": "i"}',
     {"failures": [_outside("exp", "-62135596801"), _outside("iat", "253402300799.5")]}),
    (_RS, b"\xef\xbb\xbf{" + _OK + b"}", {"failures": [], "exp": 1_000_000}),
    (_RS, ("{" + _OK.decode() + "}").encode("utf-16"), {"failures": [], "issuer": "i"}),
    (_RS, b'{"a": ' + b"[" * 1023 + b"]" * 1023 + b", " + _OK + b"}", {"failures": []}),
    (_RS, b'{"a": ' + b"[" * 1024 + b"]" * 1024 + b", " + _OK + b"}", {"failures": _NOT_JSON}),
    (_RS, b'{"a": ' + b"9" * 4300 + b", " + _OK + b"}", {"failures": []}),
    (_RS, b'{"a": ' + b"9" * 4301 + b", " + _OK + b"}", {"failures": _NOT_JSON}),
    (_RS, b"{" + _OK + b",}", {"failures": _NOT_JSON}),
    (_RS, b'{"x": "\x01", ' + _OK + b"}", {"failures": _NOT_JSON}),
    (_RS, b'{"scp": ["a", 1, 1.0, 1e16, true, null, -0], "roles": {"r": [1.5e-7]}, ' + _OK + b"}",
     {"scopes": "a 1 1.0 1e+16 True None 0", "roles": "{'r': [1.5e-07]}", "kind": S.KIND_ACCESS}),
    (_RS, b'{"iss": "x", "iss": "y", "aud": [3, null, "b", "b"], "exp": 1}',
     {"issuer": "y", "audiences": ("3", "b")}),
    (b'{"alg":"it\'s"}', b"{" + _OK + b"}",
     {"failures": [(S.UNSUPPORTED_ALG, "alg \"it's\" is not an allowed signing algorithm")]}),
    (b'{"alg":"RS256","x":NaN}', b"{" + _OK + b"}", {"failures": [], "header": ["alg", "x"]}),  # keys read
    (_RS, b'{"appid": "\\ud800", ' + _OK + b"}", {"client_id": "\ufffd", "kind": S.KIND_ACCESS}),
    (_RS, b'{"iss": 7, "sub": 7.0, "aud": "https://login.microsoftonline.com/t/oauth2/v2.0/token", "exp": 1}',
     {"kind": S.KIND_ASSERTION, "client_id": "7.0", "issuer": "7"}),
])
def test_json_and_claims_read_as_python_did(header: bytes, claims: bytes, expected: dict) -> None:
    tok = f"{T.b64url(header)}.{T.b64url(claims)}.c2ln".encode()
    f = analyze_token(tok, KeyRing())  # no keys: only the key-free checks speak
    got = {k: list(f.failures) if k == "failures" else getattr(f, k) for k in expected}
    if "header" in got:
        got["header"] = list(got["header"])
    assert got == expected


def test_header_and_claims_are_read_when_asked_for(key, ring) -> None:
    f = analyze_token(T.sign(_claims(), key).encode(), ring)
    assert "claims" not in f.__dict__  # not read yet
    assert f.claims["aud"] == "api://orders" and f.header["alg"] == "RS256"
    assert f.claims is f.claims  # read once


def test_facts_are_whole_frozen_and_share_strings(key, ring) -> None:
    """`analyze_token` fills the facts without the dataclass's __init__: every field, in order, still frozen,
    equal and hashed like facts built the ordinary way; the strings tokens share are one object."""
    a = analyze_token(T.sign(_claims(), key).encode(), ring)
    b = analyze_token(T.sign(_claims(jti="other"), key).encode(), ring)
    names = [f.name for f in dataclasses.fields(TokenFacts)]
    assert list(a.__dict__) == names
    same = TokenFacts(**{n: getattr(a, n) for n in names})
    assert same == a and hash(same) == hash(a) and repr(same) == repr(a)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.kind = S.KIND_ID  # type: ignore[misc]
    assert a.fp != b.fp
    assert a.issuer is b.issuer and a.tenant_id is b.tenant_id and a.client_id is b.client_id
    assert a.audiences[0] is b.audiences[0] and a.scopes is b.scopes and a.alg is b.alg
