"""Decode one unique token: header, claims, kind, and every check that does not depend on the request.

Runs once per unique token. The raw token lives only inside `analyze_token`; what comes out is
its fingerprint and decoded facts, never the token or its signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from analyzer import schema as S
from analyzer.config import ClientApp
from analyzer.keys import ASYMMETRIC_ALGS, HMAC_ALGS, KeyRing, check_issuer, verify
from analyzer.timeparse import clamp_us

MAX_TOKEN_BYTES = 64 * 1024
ASSERTION_AUD_HINTS = ("/oauth2/token", "/oauth2/v2.0/token")
ID_HINTS = ("nonce", "at_hash", "c_hash", "preferred_username", "email", "auth_time", "name", "login_hint")
ACCESS_HINTS = ("scp", "roles", "appid", "azp", "idtyp")


def fingerprint(token: bytes) -> str:
    """First 16 hex digits of SHA-256 of the whole token: joins occurrences, reveals nothing."""
    return hashlib.sha256(token).hexdigest()[:16]


@dataclass(frozen=True)
class TokenFacts:
    """What one unique token is, and which request-independent checks it fails."""

    fp: str
    kind: str = S.KIND_UNKNOWN
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    alg: str | None = None
    kid: str | None = None
    typ: str | None = None
    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    client_id: str | None = None
    tenant_id: str | None = None
    version: str | None = None
    scopes: str | None = None
    roles: str | None = None
    exp: int | None = None  # epoch microseconds
    nbf: int | None = None
    iat: int | None = None
    has_nonce: bool = False
    signature_checked: bool = False
    # `oid` (else `sub`) of a token issued to a user: kept in memory only, written as a keyed hash.
    subject: str | None = None
    # Request-independent failures, in cause order: (cause, detail).
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def audience(self) -> str | None:
        """`aud` as one string: list members sorted and comma-joined."""
        return ",".join(self.audiences) if self.audiences else None


def _b64decode(segment: bytes) -> bytes:
    core = segment.rstrip(b"=")
    if b"=" in core or len(core) % 4 == 1:
        raise ValueError("bad padding")
    return base64.urlsafe_b64decode(core + b"=" * (-len(core) % 4))


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # orjson refuses integers beyond 64 bits; the stdlib takes them
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    return obj if isinstance(obj, dict) else None


def _text(value: Any, limit: int = 512) -> str | None:
    """A claim as a bounded string, whatever JSON type it arrived as."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value
    elif isinstance(value, (list, tuple)):
        s = " ".join(str(v) for v in value)
    else:
        s = str(value)
    return s[:limit]


def _numeric_date(claims: dict[str, Any], name: str) -> tuple[int | None, str | None]:
    """(epoch µs, problem) for a NumericDate claim."""
    if name not in claims:
        return None, None
    v = claims[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return None, f"claim {name} is {type(v).__name__}, not a number of seconds"
    us = clamp_us(float(v))
    if us is None:
        return None, f"claim {name} ({str(v)[:30]}) is outside any representable date"
    return us, None


def _audiences(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(sorted({str(v)[:256] for v in value if v is not None}))
    return (str(value)[:256],)


def token_kind(header: dict[str, Any], claims: dict[str, Any], audiences: tuple[str, ...]) -> str:
    """access_token, id_token, client_assertion or unknown, from the claims alone."""
    iss, sub = claims.get("iss"), claims.get("sub")
    if iss and iss == sub and any(a.endswith(h) for a in audiences for h in ASSERTION_AUD_HINTS):
        return S.KIND_ASSERTION
    if any(k in claims for k in ACCESS_HINTS):
        return S.KIND_ACCESS
    if any(k in claims for k in ID_HINTS):
        return S.KIND_ID
    if "scp" in claims or "tid" in claims:
        return S.KIND_ACCESS
    return S.KIND_UNKNOWN


def _thumbprints(header: dict[str, Any]) -> set[str]:
    """Header certificate references (`x5t`, `x5t#S256`, hex `kid`) as lowercase hex."""
    out = set()
    for name in ("x5t", "x5t#S256"):
        v = header.get(name)
        if isinstance(v, str):
            try:
                out.add(_b64decode(v.encode()).hex())
            except (ValueError, binascii.Error):
                pass
    kid = header.get("kid")
    if isinstance(kid, str) and len(kid) in (40, 64):
        try:
            out.add(bytes.fromhex(kid).hex())
        except ValueError:
            pass
    return out


def _user_subject(kind: str, claims: dict[str, Any]) -> str | None:
    """The user a token was issued to (`oid`, else `sub`); None for app-only tokens and assertions."""
    user = kind == S.KIND_ID or (kind == S.KIND_ACCESS and "scp" in claims and claims.get("idtyp") != "app")
    if not user:
        return None
    return _text(claims.get("oid") if claims.get("oid") is not None else claims.get("sub"), 256)


def malformed(fp: str, reason: str, kind: str = S.KIND_UNKNOWN, header: dict[str, Any] | None = None) -> TokenFacts:
    """Facts of a token that is not a usable compact JWS."""
    hdr = header or {}
    return TokenFacts(fp=fp, kind=kind, header=hdr, alg=_text(hdr.get("alg"), 40), kid=_text(hdr.get("kid"), 128),
                      typ=_text(hdr.get("typ"), 40), failures=((S.MALFORMED, reason),))


def analyze_token(token: bytes, ring: KeyRing, clients: tuple[ClientApp, ...] = (),
                  truncated: bool = False) -> TokenFacts:
    """Decode and check one unique token. `truncated` says the log line was cut right after it."""
    fp = fingerprint(token)
    if len(token) > MAX_TOKEN_BYTES:
        return malformed(fp, f"token is {len(token)} bytes long, far beyond any real token")
    parts = token.split(b".")
    try:
        header = _json_object(_b64decode(parts[0]))
    except (ValueError, binascii.Error):
        header = None
    if header is None:
        return malformed(fp, "the header is not base64url-encoded JSON")
    if len(parts) == 5:
        enc = _text(header.get("enc"), 40)
        return TokenFacts(fp=fp, header=header, alg=_text(header.get("alg"), 40), kid=_text(header.get("kid"), 128),
                          typ=_text(header.get("typ"), 40),
                          failures=((S.ENCRYPTED, f"an encrypted token (JWE, enc {enc or '?'}): its claims cannot "
                                     "be read without the recipient's private key"),))
    if len(parts) != 3:
        reason = (f"truncated: only {len(parts)} of 3 segments (the log line was probably cut at a length limit)"
                  if len(parts) < 3 else f"{len(parts)} segments; a signed token has 3 and an encrypted one 5")
        return malformed(fp, reason, header=header)
    try:
        claims = _json_object(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        claims = None
    if claims is None:
        reason = "the payload is not base64url-encoded JSON"
        if truncated:
            reason = "truncated: the payload ends early (the log line was probably cut at a length limit)"
        return malformed(fp, reason, header=header)
    try:
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        return malformed(fp, "the signature is not valid base64url", header=header)

    alg = _text(header.get("alg"), 40)
    kid = _text(header.get("kid"), 128)
    failures: list[tuple[str, str]] = []
    dates = {}
    for name in ("exp", "nbf", "iat"):
        value, problem = _numeric_date(claims, name)
        dates[name] = value
        if problem:
            failures.append((S.MALFORMED, problem))
    auds = _audiences(claims.get("aud"))
    iss = _text(claims.get("iss"))
    kind = token_kind(header, claims, auds)
    client_id = _text(claims.get("appid") or claims.get("azp") or (claims.get("sub") if kind == S.KIND_ASSERTION
                                                                   else None), 128)
    header_nonce = "nonce" in header

    if alg is None or alg.lower() == "none":
        failures.append((S.UNSUPPORTED_ALG, "alg is 'none': the token is unsigned and must be rejected"))
    elif alg in HMAC_ALGS:
        failures.append((S.UNSUPPORTED_ALG, f"alg {alg} is a shared-secret algorithm, but the issuer signs with "
                         "public keys: possible algorithm-confusion attempt"))
    elif alg not in ASYMMETRIC_ALGS:
        failures.append((S.UNSUPPORTED_ALG, f"alg {alg!r} is not an allowed signing algorithm"))
    elif not signature:
        failures.append((S.MALFORMED, "the signature segment is empty"))

    missing = [c for c in ("exp", "aud", "iss") if c not in claims]
    if missing:
        failures.append((S.MISSING_CLAIMS, f"the token has no {', '.join(missing)} claim"))

    tid = _text(claims.get("tid"), 64)
    if kind != S.KIND_ASSERTION:
        # The issuer must be one of the configured providers' (metadata issuer, tenant filled in). An
        # `iss` is only compared here: it is never used to find keys to fetch.
        problem = check_issuer(ring, iss, tid)
        if problem:
            failures.append((S.ISSUER_MISMATCH, problem))

    checked = False
    if kind != S.KIND_ASSERTION and not any(f[0] in (S.UNSUPPORTED_ALG, S.MALFORMED) for f in failures):
        x5t = header.get("x5t")
        verdict = ring.verdict(fp)
        if verdict is None:
            verdict = verify(ring, token.rsplit(b".", 1)[0], signature, alg or "", kid, iss, header_nonce, tid,
                             x5t if isinstance(x5t, str) else None)
            if verdict.cause != S.UNKNOWN_KID or ring.refresher is None:  # a later miss may refresh
                ring.remember(fp, verdict)
        checked = verdict.checked and verdict.cause is None
        if verdict.cause:
            failures.append((verdict.cause, verdict.detail))

    if kind == S.KIND_ASSERTION:
        app = next((c for c in clients if c.client_id == client_id), None)
        if app is not None and app.thumbprints:
            presented = _thumbprints(header)
            if not presented & app.thumbprints:
                shown = ", ".join(sorted(presented)) or "none"
                failures.append((S.CLIENT_ASSERTION_KEY_MISMATCH,
                                 f"the assertion is signed with certificate {shown} (x5t as hex), which is not "
                                 f"registered for client {client_id}{' (' + app.name + ')' if app.name else ''}"))

    failures.sort(key=lambda f: S.CAUSE_RANK[f[0]])
    ver = _text(claims.get("ver"), 10)
    return TokenFacts(
        fp=fp, kind=kind, header=header, claims=claims, alg=alg, kid=kid, typ=_text(header.get("typ"), 40),
        issuer=iss, audiences=auds, client_id=client_id, tenant_id=tid, version=ver,
        scopes=_text(claims.get("scp")), roles=_text(claims.get("roles")),
        exp=dates["exp"], nbf=dates["nbf"], iat=dates["iat"], has_nonce="nonce" in claims,
        subject=_user_subject(kind, claims),
        signature_checked=checked, failures=tuple(failures),
    )
