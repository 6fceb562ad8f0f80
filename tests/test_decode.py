"""decode.analyze_token: one unique token in, facts and request-independent failures out."""

from __future__ import annotations

import pytest
import tokens as T

from analyzer import _core
from analyzer import schema as S
from analyzer.config import SIGNING_ALGS, ClientApp
from analyzer.decode import analyze_token, fingerprint
from analyzer.keys import KeyRing, KeySet

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
