"""Token factory for tests and for scripts/make_sample_logs.py: keys, key sets, Entra-like claims, JWTs.

Everything here is for tests only. Keys are generated at run time (or loaded from the throwaway
demo PEMs under sample_logs/demo-keys/); no real key or token is ever involved.

    key = make_rsa_key("k1")
    token = sign(access_token_claims(TENANT, API_GUID, CLIENT, iat=now), key)
    keyset = jwks(key)                          # {"keys": [public JWK]}

Claims and times are deterministic when a seed (or a `random.Random`) is passed; RSA (PKCS#1 v1.5)
and Ed25519 signatures are deterministic too, ECDSA signatures are not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import get_default_algorithms

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
Seed = int | str | random.Random | None
TimeLike = int | float | datetime

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


# --------------------------------------------------------------------------- encoding helpers


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Decode a base64url segment, with or without padding."""
    s = segment.rstrip("=")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_json(obj: Mapping[str, Any]) -> str:
    """A compact JSON object as one base64url segment (same serialization as PyJWT)."""
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def header_json(header: Mapping[str, Any]) -> str:
    """A JOSE header segment with sorted keys, as PyJWT writes it."""
    return b64url(json.dumps(dict(header), separators=(",", ":"), sort_keys=True).encode("utf-8"))


def split(token: str) -> list[str]:
    """The dot-separated segments of a compact token."""
    return token.split(".")


def decode_segment(segment: str) -> dict[str, Any]:
    """The JSON object inside a header or payload segment."""
    value = json.loads(b64url_decode(segment))
    if not isinstance(value, dict):
        raise ValueError("segment is not a JSON object")
    return value


def _rng(seed: Seed) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    return random.Random(seed)


def _epoch(value: TimeLike) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    return int(value)


def fake_guid(rng: random.Random) -> str:
    """A random (version 4) GUID drawn from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _opaque(rng: random.Random, n: int) -> str:
    return b64url(rng.randbytes(n))


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyPair:
    """A private signing key, its `kid`, its default JWS alg and, optionally, a certificate."""

    private_key: PrivateKey
    kid: str
    alg: str
    cert: x509.Certificate | None = None

    @property
    def public_key(self) -> Any:
        """The public half (a `cryptography` public key object)."""
        return self.private_key.public_key()

    def with_cert(self, cert: x509.Certificate) -> KeyPair:
        """The same key, with a certificate whose x5t/x5c go into the JWK."""
        return replace(self, cert=cert)

    def private_pem(self) -> bytes:
        """PKCS#8 PEM of the private key, unencrypted."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM of the public key."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_jwk(self, use: str = "sig") -> dict[str, Any]:
        """The public JWK: kty, use, kid, (x5t), n/e or crv/x/y, (x5c), alg."""
        jwk: dict[str, Any] = {"kty": "", "use": use, "kid": self.kid}
        if self.cert is not None:
            jwk["x5t"] = cert_x5t(self.cert)
        pub = self.public_key
        if isinstance(pub, rsa.RSAPublicKey):
            numbers = pub.public_numbers()
            jwk["kty"] = "RSA"
            jwk["n"] = b64url(_int_bytes(numbers.n))
            jwk["e"] = b64url(_int_bytes(numbers.e))
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            numbers_ec = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            jwk["kty"] = "EC"
            jwk["crv"] = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
            jwk["x"] = b64url(numbers_ec.x.to_bytes(size, "big"))
            jwk["y"] = b64url(numbers_ec.y.to_bytes(size, "big"))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            jwk["kty"] = "OKP"
            jwk["crv"] = "Ed25519"
            jwk["x"] = b64url(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        else:  # pragma: no cover - only the three kinds above are made here
            raise TypeError(f"unsupported key type {type(pub).__name__}")
        if self.cert is not None:
            jwk["x5c"] = [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]
        jwk["alg"] = self.alg
        return jwk


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")


def make_rsa_key(kid: str, bits: int = 2048, alg: str = "RS256") -> KeyPair:
    """A fresh RSA key pair (random every call)."""
    return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=bits), kid, alg)


def make_ec_key(kid: str, alg: str = "ES256") -> KeyPair:
    """A fresh P-256 key pair."""
    return KeyPair(ec.generate_private_key(ec.SECP256R1()), kid, alg)


def make_ed25519_key(kid: str) -> KeyPair:
    """A fresh Ed25519 key pair (JWS alg EdDSA)."""
    return KeyPair(ed25519.Ed25519PrivateKey.generate(), kid, "EdDSA")


def load_key(pem: bytes | str | Path, kid: str, alg: str | None = None) -> KeyPair:
    """A KeyPair from a PEM private key (bytes, text, or a file path)."""
    if isinstance(pem, Path):
        pem = pem.read_bytes()
    elif isinstance(pem, str):
        pem = pem.encode("ascii")
    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return KeyPair(key, kid, alg or "RS256")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return KeyPair(key, kid, alg or "ES256")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return KeyPair(key, kid, alg or "EdDSA")
    raise TypeError(f"unsupported private key type {type(key).__name__}")


def jwks(*keys: KeyPair) -> dict[str, Any]:
    """A JWK Set of the public halves: {"keys": [...]}."""
    return {"keys": [k.public_jwk() for k in keys]}


# --------------------------------------------------------------------------- certificates


def cert_sha1_hex(cert: x509.Certificate) -> str:
    """The certificate thumbprint as portals show it: uppercase hex SHA-1 of the DER."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # a thumbprint, not a security use


def cert_x5t(cert: x509.Certificate) -> str:
    """`x5t`: base64url of the SHA-1 thumbprint."""
    return b64url(cert.fingerprint(hashes.SHA1()))


def cert_x5t_s256(cert: x509.Certificate) -> str:
    """`x5t#S256`: base64url of the SHA-256 thumbprint."""
    return b64url(cert.fingerprint(hashes.SHA256()))


@dataclass(frozen=True)
class SelfSignedCert:
    """A self-signed certificate plus the thumbprint forms a config or a header uses."""

    cert: x509.Certificate
    sha1_hex: str  # uppercase hex, as the Entra portal shows it
    x5t: str  # base64url SHA-1, as in a client assertion header
    x5t_s256: str

    @property
    def der(self) -> bytes:
        """DER bytes of the certificate."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        """PEM of the certificate."""
        return self.cert.public_bytes(serialization.Encoding.PEM)


def make_self_signed_cert(
    key: KeyPair,
    common_name: str | None = None,
    not_before: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    days: int = 730,
    serial: int | None = None,
) -> SelfSignedCert:
    """A self-signed certificate for `key`; the same inputs give the same bytes for RSA/Ed25519 keys."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or key.kid)])
    if serial is None:
        # Derived from the public key so reruns with the same key give the same certificate.
        spki = key.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        serial = int.from_bytes(hashlib.sha256(spki).digest()[:16], "big") >> 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    algorithm = None if isinstance(key.private_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(key.private_key, algorithm)
    return SelfSignedCert(cert, cert_sha1_hex(cert), cert_x5t(cert), cert_x5t_s256(cert))


# --------------------------------------------------------------------------- signing


def sign(
    claims: Mapping[str, Any],
    key: KeyPair | bytes | str | None,
    alg: str | None = None,
    headers: Mapping[str, Any] | None = None,
    *,
    secret: bytes | str | None = None,
) -> str:
    """A compact JWS over `claims`.

    - `key` a KeyPair: signed with it (alg defaults to the key's, `kid` header set to its kid;
      pass `headers={"kid": None}` to leave the kid out).
    - `alg="none"`: `header.payload.` with an empty signature, built by hand.
    - HS256/384/512: `secret` (or `key` given as bytes/str) is the HMAC secret. A secret that
      looks like a PEM (the alg-confusion attack: the issuer's public key as HMAC secret) is
      refused by PyJWT, so that case is signed by hand.
    Extra `headers` are merged in; a value of None removes that header.
    """
    if alg is None:
        alg = key.alg if isinstance(key, KeyPair) else "HS256"
    header: dict[str, Any] = {}
    if isinstance(key, KeyPair) and not alg.startswith("HS") and alg != "none":
        header["kid"] = key.kid
    header.update(headers or {})
    drop = [k for k, v in header.items() if v is None]
    for k in drop:
        header.pop(k)

    if alg == "none":
        full = {"alg": "none", "typ": "JWT", **header}
        return f"{header_json(full)}.{b64url_json(claims)}."

    if alg.startswith("HS"):
        material = secret if secret is not None else key
        if isinstance(material, KeyPair) or material is None:
            raise ValueError(f"{alg} needs a secret (bytes or str)")
        raw = material.encode("utf-8") if isinstance(material, str) else material
        if b"-----BEGIN" in raw:
            full = {"alg": alg, "typ": "JWT", **header}
            return sign_segments(header_json(full), b64url_json(claims), raw, alg)
        return jwt.encode(dict(claims), raw, algorithm=alg, headers=header or None)

    if not isinstance(key, KeyPair):
        raise ValueError(f"{alg} needs a KeyPair")
    return jwt.encode(dict(claims), key.private_key, algorithm=alg, headers=header or None)


def sign_segments(header_seg: str, payload_seg: str, key: KeyPair | bytes, alg: str) -> str:
    """Sign pre-built segments as they are (e.g. with `=` padding kept): `h.p.sig`."""
    signing_input = f"{header_seg}.{payload_seg}".encode("ascii")
    if alg.startswith("HS"):
        if isinstance(key, KeyPair):
            raise ValueError(f"{alg} needs a secret")
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        sig = hmac.new(key, signing_input, digest).digest()
    else:
        if not isinstance(key, KeyPair):
            raise ValueError(f"{alg} needs a KeyPair")
        algo = get_default_algorithms()[alg]
        sig = algo.sign(signing_input, algo.prepare_key(key.private_key))
    return f"{header_seg}.{payload_seg}.{b64url(sig)}"


def sign_padded(claims: Mapping[str, Any], key: KeyPair, headers: Mapping[str, Any] | None = None) -> str:
    """A valid RS256 token whose header/payload segments keep their `=` padding (as some real ones do).

    Segments whose length happens to be a multiple of 4 have no padding; add a filler claim
    to `claims` if a padded payload is required.
    """
    header = {"alg": key.alg, "kid": key.kid, "typ": "JWT", **(headers or {})}

    def padded(obj: Mapping[str, Any], sort: bool) -> str:
        raw = json.dumps(dict(obj), separators=(",", ":"), sort_keys=sort).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    return sign_segments(padded(header, True), padded(claims, False), key, key.alg)


def sign_with_header_nonce(
    claims: Mapping[str, Any], key: KeyPair, nonce: str, headers: Mapping[str, Any] | None = None
) -> str:
    """A Microsoft-Graph-style token: the header carries `nonce`, but the signature covers the
    SHA-256 of that nonce, so nobody but Graph can verify it (the signature check fails)."""
    hashed = b64url(hashlib.sha256(nonce.encode("ascii")).digest())
    signed = sign(claims, key, key.alg, {**(headers or {}), "nonce": hashed})
    h, p, s = signed.split(".")
    shown = decode_segment(h)
    shown["nonce"] = nonce
    return f"{header_json(shown)}.{p}.{s}"


def alg_confusion_hs256(
    claims: Mapping[str, Any], key: KeyPair, headers: Mapping[str, Any] | None = None
) -> str:
    """HS256 signed with the issuer's *public* key PEM as HMAC secret, with the RSA key's kid."""
    return sign(claims, None, "HS256", {"kid": key.kid, **(headers or {})}, secret=key.public_pem())


def unsigned(claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
    """An `alg: none` token: `header.payload.`."""
    return sign(claims, None, "none", headers)


def tamper_signature(token: str, seed: Seed = 0) -> str:
    """The same token with one character in the middle of its signature changed (still base64url)."""
    h, p, s = token.split(".")
    if len(s) < 8:
        raise ValueError("token has no signature to alter")
    rng = _rng(seed)
    i = len(s) // 2 + rng.randrange(-len(s) // 4, len(s) // 4)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    new = rng.choice([c for c in alphabet if c != s[i]])
    return f"{h}.{p}.{s[:i]}{new}{s[i + 1 :]}"


def replace_claims(token: str, claims: Mapping[str, Any]) -> str:
    """`token` with its payload swapped for `claims`, header and signature kept (a tampered token)."""
    h, _, s = token.split(".")
    return f"{h}.{b64url_json(claims)}.{s}"


def truncate(token: str, keep: int) -> str:
    """The first `keep` characters of `token` (as a log line limit cuts it)."""
    return token[:keep]


def jwe_like(seed: Seed = None, header: Mapping[str, Any] | None = None, content_bytes: int = 900) -> str:
    """A five-segment compact JWE shape: protected header, encrypted key, IV, ciphertext, tag.

    The content is random, not an encryption of anything.
    """
    rng = _rng(seed)
    hdr = {"alg": "RSA-OAEP", "enc": "A256GCM", **(header or {})}
    return ".".join(
        [
            b64url_json(hdr),
            b64url(rng.randbytes(256)),
            b64url(rng.randbytes(12)),
            b64url(rng.randbytes(content_bytes)),
            b64url(rng.randbytes(16)),
        ]
    )


# --------------------------------------------------------------------------- Entra-like claims


def issuer_v1(tenant: str) -> str:
    """The v1.0 issuer of a tenant."""
    return f"https://sts.windows.net/{tenant}/"


def issuer_v2(tenant: str) -> str:
    """The v2.0 issuer of a tenant."""
    return f"https://login.microsoftonline.com/{tenant}/v2.0"


def token_endpoint(tenant: str) -> str:
    """The v2.0 token endpoint (the `aud` of a client assertion)."""
    return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


@dataclass(frozen=True)
class User:
    """A fake signed-in user."""

    given_name: str
    family_name: str
    upn: str
    oid: str

    @property
    def name(self) -> str:
        """Display name."""
        return f"{self.given_name} {self.family_name}"


_GIVEN = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"]
_FAMILY = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman"]


def fake_user(seed: Seed = None, domain: str = "contoso.com") -> User:
    """A fake user with a stable oid for a given seed."""
    rng = _rng(seed)
    given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
    return User(given, family, f"{given.lower()}.{family.lower()}@{domain}", fake_guid(rng))


def _times(
    iat: TimeLike | None, exp: TimeLike | None, nbf: TimeLike | None, lifetime: int
) -> tuple[int, int, int]:
    i = _epoch(iat) if iat is not None else int(time.time())
    n = _epoch(nbf) if nbf is not None else i
    e = _epoch(exp) if exp is not None else i + lifetime
    return i, n, e


def _finish(claims: dict[str, Any], extra: Mapping[str, Any] | None, omit: Iterable[str]) -> dict[str, Any]:
    claims.update(extra or {})
    for name in omit:
        claims.pop(name, None)
    return claims


def access_token_claims(
    tenant: str,
    aud: str,
    client_id: str,
    version: str = "2.0",
    iat: TimeLike | None = None,
    exp: TimeLike | None = None,
    scp: str | None = None,
    roles: list[str] | None = None,
    *,
    nbf: TimeLike | None = None,
    lifetime: int = 3600,
    user: User | None = None,
    issuer: str | None = None,
    client_auth: int = 0,
    idtyp: bool = False,
    seed: Seed = None,
    extra: Mapping[str, Any] | None = None,
    omit: Iterable[str] = (),
) -> dict[str, Any]:
    """Claims of an Entra access token, v1 (`appid`, sts.windows.net issuer) or v2 (`azp`).

    With `scp` it is a delegated (user) token, with `roles` and no `scp` an app-only one.
    `client_auth` is `appidacr`/`azpacr` (0 public, 1 secret, 2 certificate). `omit` drops claims
    (e.g. `omit=("exp",)`), `extra` adds or overrides them.
    """
    rng = _rng(seed)
    i, n, e = _times(iat, exp, nbf, lifetime)
    app_only = scp is None
    if not app_only and user is None:
        user = fake_user(rng)
    sp_oid = fake_guid(rng)
    aio, rh, uti = _opaque(rng, 48), "0.A" + _opaque(rng, 36), _opaque(rng, 16)
    if version == "1.0":
        c: dict[str, Any] = {"aud": aud, "iss": issuer or issuer_v1(tenant), "iat": i, "nbf": n, "exp": e}
        if not app_only:
            c.update({"acr": "1", "aio": aio, "amr": ["pwd", "mfa"]})
        else:
            c["aio"] = aio
        c.update({"appid": client_id, "appidacr": str(client_auth)})
        if user is not None and not app_only:
            c.update({"family_name": user.family_name, "given_name": user.given_name})
            c["ipaddr"] = f"198.51.100.{rng.randrange(1, 255)}"
            c["name"] = user.name
        c["oid"] = user.oid if user is not None and not app_only else sp_oid
        c["rh"] = rh
        if roles:
            c["roles"] = list(roles)
        if scp is not None:
            c["scp"] = scp
        c["sub"] = _opaque(rng, 32) if not app_only else c["oid"]
        c["tid"] = tenant
        if user is not None and not app_only:
            c.update({"unique_name": user.upn, "upn": user.upn})
        c["uti"] = uti
        c["ver"] = "1.0"
    else:
        c = {"aud": aud, "iss": issuer or issuer_v2(tenant), "iat": i, "nbf": n, "exp": e, "aio": aio}
        c.update({"azp": client_id, "azpacr": str(client_auth)})
        if idtyp and app_only:
            c["idtyp"] = "app"
        if user is not None and not app_only:
            c["name"] = user.name
        c["oid"] = user.oid if user is not None and not app_only else sp_oid
        if user is not None and not app_only:
            c["preferred_username"] = user.upn
        c["rh"] = rh
        if roles:
            c["roles"] = list(roles)
        if scp is not None:
            c["scp"] = scp
        c["sub"] = _opaque(rng, 32) if not app_only else c["oid"]
        c["tid"] = tenant
        c["uti"] = uti
        c["ver"] = "2.0"
    return _finish(c, extra, omit)


def id_token_claims(
    tenant: str,
    client_id: str,
    iat: TimeLike | None = None,
    exp: TimeLike | None = None,
    nonce: str | None = None,
    version: str = "2.0",
    *,
    nbf: TimeLike | None = None,
    lifetime: int = 3600,
    user: User | None = None,
    issuer: str | None = None,
    seed: Seed = None,
    extra: Mapping[str, Any] | None = None,
    omit: Iterable[str] = (),
) -> dict[str, Any]:
    """Claims of an Entra ID token: aud = the client app's GUID, `nonce` when given,
    `name`/`preferred_username` (v2) or `upn`/`unique_name` (v1); no scp/roles/appid/azp."""
    rng = _rng(seed)
    i, n, e = _times(iat, exp, nbf, lifetime)
    user = user or fake_user(rng)
    aio, rh, uti, sid = _opaque(rng, 48), "0.A" + _opaque(rng, 36), _opaque(rng, 16), fake_guid(rng)
    if version == "1.0":
        c: dict[str, Any] = {
            "aud": client_id,
            "iss": issuer or issuer_v1(tenant),
            "iat": i,
            "nbf": n,
            "exp": e,
        }
        c.update({"amr": ["pwd"], "family_name": user.family_name, "given_name": user.given_name})
        c["ipaddr"] = f"198.51.100.{rng.randrange(1, 255)}"
        c["name"] = user.name
        if nonce is not None:
            c["nonce"] = nonce
        c.update({"oid": user.oid, "rh": rh, "sub": _opaque(rng, 32), "tid": tenant})
        c.update({"unique_name": user.upn, "upn": user.upn, "uti": uti, "ver": "1.0"})
    else:
        c = {"aud": client_id, "iss": issuer or issuer_v2(tenant), "iat": i, "nbf": n, "exp": e}
        c.update({"aio": aio, "name": user.name})
        if nonce is not None:
            c["nonce"] = nonce
        c.update({"oid": user.oid, "preferred_username": user.upn, "rh": rh, "sid": sid})
        c.update({"sub": _opaque(rng, 32), "tid": tenant, "uti": uti, "ver": "2.0"})
    return _finish(c, extra, omit)


def client_assertion_claims(
    client_id: str,
    tenant: str,
    iat: TimeLike | None = None,
    *,
    lifetime: int = 600,
    jti: str | None = None,
    seed: Seed = None,
    extra: Mapping[str, Any] | None = None,
    omit: Iterable[str] = (),
) -> dict[str, Any]:
    """Claims of a certificate client assertion: iss = sub = client id, aud = the v2 token endpoint."""
    rng = _rng(seed)
    i = _epoch(iat) if iat is not None else int(time.time())
    c = {
        "aud": token_endpoint(tenant),
        "exp": i + lifetime,
        "iss": client_id,
        "jti": jti or fake_guid(rng),
        "nbf": i,
        "sub": client_id,
        "iat": i,
    }
    return _finish(c, extra, omit)


def client_assertion(
    client_id: str,
    tenant: str,
    key: KeyPair,
    cert: SelfSignedCert,
    iat: TimeLike | None = None,
    *,
    seed: Seed = None,
    s256: bool = False,
) -> str:
    """A signed client assertion whose header names the certificate by `x5t` (and `x5t#S256`)."""
    headers: dict[str, Any] = {"kid": None, "x5t": cert.x5t}
    if s256:
        headers["x5t#S256"] = cert.x5t_s256
    return sign(client_assertion_claims(client_id, tenant, iat, seed=seed), key, "RS256", headers)
