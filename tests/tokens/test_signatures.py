"""Signature verdicts, once per unique token: every asymmetric family, pinned algorithms, alg confusion,
Graph tokens, key-type mismatches. Keys are made at test time; nothing touches the network."""

from __future__ import annotations

import time
from typing import Any

import jwts as T
import pytest

from analyzer import schema as S
from analyzer.tokens.decode import analyze_token
from analyzer.tokens.keys import KeyRing, KeySet

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
API = "api://orders"
TS = int(time.time())


def claims(**extra: Any) -> dict[str, Any]:
    """v2 access-token claims for the API."""
    return T.access_token_claims(TENANT, API, "c-1", iat=TS - 60, exp=TS + 3600, roles=["r"], extra=extra)


def ring_of(*keys: T.KeyPair, algorithms: tuple[str, ...] = (), issuer: str | None = None) -> KeyRing:
    """A ring with one key set holding these public keys."""
    jwks = T.jwks(*keys)["keys"]
    return KeyRing([KeySet("test-jwks.json", "file", jwks, issuer=issuer, algorithms=algorithms)])


def outcome(ring: KeyRing, token: str) -> tuple[str, str, bool]:
    """(primary request-independent cause or ok, detail, signature_checked)."""
    f = analyze_token(token.encode(), ring)
    cause, detail = f.failures[0] if f.failures else (S.OK, "")
    return cause, detail, f.signature_checked


KEYS = {
    "RS256": lambda: T.make_rsa_key("r", alg="RS256"),
    "RS384": lambda: T.make_rsa_key("r", alg="RS384"),
    "RS512": lambda: T.make_rsa_key("r", alg="RS512"),
    "PS256": lambda: T.make_rsa_key("r", alg="PS256"),
    "PS512": lambda: T.make_rsa_key("r", alg="PS512"),
    "ES256": lambda: T.make_ec_key("e"),
    "EdDSA": lambda: T.make_ed25519_key("o"),
}


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_each_family_verifies_and_detects_tampering(alg: str) -> None:
    key = KEYS[alg]()
    ring = ring_of(key)
    good = T.sign(claims(), key, alg)
    assert outcome(ring, good) == (S.OK, "", True)
    cause, detail, _ = outcome(ring, T.tamper_signature(good))
    assert cause == S.BAD_SIGNATURE and f"key {key.kid} was found" in detail
    forged = T.replace_claims(good, claims(roles=["admin"]))
    assert outcome(ring, forged)[0] == S.BAD_SIGNATURE


def test_es384_and_es512_with_their_curves() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    for alg, curve in (("ES384", ec.SECP384R1()), ("ES512", ec.SECP521R1())):
        key = T.KeyPair(ec.generate_private_key(curve), "e", alg)
        assert outcome(ring_of(key), T.sign(claims(), key, alg)) == (S.OK, "", True)


def test_a_key_of_another_type_is_a_bad_signature_not_a_crash() -> None:
    rsa, ec = T.make_rsa_key("same"), T.make_ec_key("same")
    cause, detail, _ = outcome(ring_of(rsa), T.sign(claims(), ec, "ES256"))
    assert cause == S.BAD_SIGNATURE and "RSA key, which cannot verify alg ES256" in detail


def test_hmac_on_an_asymmetric_issuer_is_unsupported_alg() -> None:
    key = T.make_rsa_key("k1")
    cause, detail, checked = outcome(ring_of(key), T.alg_confusion_hs256(claims(), key))
    assert (cause, checked) == (S.UNSUPPORTED_ALG, False) and "algorithm-confusion" in detail
    assert outcome(ring_of(key), T.unsigned(claims()))[0] == S.UNSUPPORTED_ALG


def test_pinned_algorithms_per_issuer() -> None:
    key = T.make_rsa_key("k1")
    ring = ring_of(key, algorithms=("RS256",))
    assert outcome(ring, T.sign(claims(), key, "RS256"))[0] == S.OK
    cause, detail, _ = outcome(ring, T.sign(claims(), key, "PS256"))
    assert cause == S.UNSUPPORTED_ALG and "not among the algorithms allowed for this issuer (RS256)" in detail


def test_graph_token_with_header_nonce_is_named() -> None:
    key = T.make_rsa_key("k1")
    tok = T.sign_with_header_nonce(claims(aud=S_GRAPH), key, "abc123")
    cause, detail, checked = outcome(ring_of(key), tok)
    assert cause == S.BAD_SIGNATURE and "Microsoft Graph" in detail and not checked


S_GRAPH = "00000003-0000-0000-c000-000000000000"


def test_unknown_kid_in_a_file_set() -> None:
    cause, detail, _ = outcome(ring_of(T.make_rsa_key("k1")), T.sign(claims(), T.make_rsa_key("k2")))
    assert cause == S.UNKNOWN_KID and "kid k2 is not in the key set file" in detail


def test_no_kid_uses_x5t_or_tries_every_key() -> None:
    key = T.make_rsa_key("k1")
    cert = T.make_self_signed_cert(key)
    keyed = key.with_cert(cert.cert)
    ring = ring_of(T.make_rsa_key("other"), keyed)
    assert outcome(ring, T.sign(claims(), key, headers={"kid": None, "x5t": cert.x5t}))[0] == S.OK
    assert outcome(ring, T.sign(claims(), key, headers={"kid": None}))[0] == S.OK


def test_header_urls_are_data_only() -> None:
    """A token's own jku/x5u/x5c never supplies a key: a self-signed token with its key inlined fails."""
    rogue = T.make_rsa_key("k1")
    cert = T.make_self_signed_cert(rogue)
    x5c = cert.der.hex()
    tok = T.sign(claims(), rogue, headers={"jku": "http://127.0.0.1:9/keys", "x5u": "http://127.0.0.1:9/c",
                                           "x5c": [x5c], "jwk": rogue.public_jwk()})
    assert outcome(ring_of(T.make_rsa_key("k1")), tok)[0] == S.BAD_SIGNATURE


def test_ring_pickles_without_its_network_hook() -> None:
    import pickle

    ring = ring_of(T.make_rsa_key("k1"))
    ring.history = {"src": {"k0": "2026-11-20T00:00:00+00:00"}}
    ring.refresher = lambda r, i: False
    copy = pickle.loads(pickle.dumps(ring))
    assert copy.refresher is None and copy.history == ring.history and copy.sets[0].kids == ["k1"]


def test_a_token_seen_again_is_not_verified_again_until_the_keys_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict is kept per token fingerprint (a token is reused across files); a re-fetched set
    (a rotation) forgets the verdicts, so the same token is judged against the new keys."""
    import analyzer.tokens.decode as D

    calls: list[bytes] = []
    real = D.verify

    def counting(ring: KeyRing, signing_input: bytes, *args: Any) -> Any:
        calls.append(signing_input)
        return real(ring, signing_input, *args)

    monkeypatch.setattr(D, "verify", counting)
    old, new = T.make_rsa_key("old"), T.make_rsa_key("new")
    ring = ring_of(old)
    token = T.sign(claims(), old, "RS256")
    tampered = T.tamper_signature(token)
    assert outcome(ring, token)[0] == S.OK
    assert outcome(ring, token)[0] == S.OK
    assert outcome(ring, tampered)[0] == S.BAD_SIGNATURE  # same signing input, another token: checked
    assert len(calls) == 2
    ring.replace(0, KeySet("test-jwks.json", "file", T.jwks(new)["keys"]))  # the old key was rotated out
    assert outcome(ring, token)[0] == S.UNKNOWN_KID
    assert len(calls) == 3


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_a_signature_cut_short_is_malformed_and_truncated_not_bad(alg: str) -> None:
    """A log that cuts a line inside the signature (a length limit, a half-written last line) leaves a
    signature shorter than any the key makes: that is a cut token, not an altered one."""
    key = KEYS[alg]()
    ring = ring_of(key)
    good = T.sign(claims(), key, alg)
    head, body, sig = good.split(".")
    for keep in (4, len(sig) // 2, len(sig) - 4):  # whole base64url quanta: the bytes decode
        cause, detail, checked = outcome(ring, f"{head}.{body}.{sig[:keep]}")
        assert (cause, checked) == (S.MALFORMED, False), (keep, detail)
        assert detail.startswith("truncated: the signature has") and f"key {key.kid} makes" in detail
    # A signature of the full length that does not verify is still an altered token.
    assert outcome(ring, T.tamper_signature(good))[0] == S.BAD_SIGNATURE
