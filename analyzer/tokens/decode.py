"""Decode one unique token: header, claims, kind, and every check that does not depend on the request.

Runs once per unique token. The raw token lives only inside `analyze_token`; what comes out is
its fingerprint and decoded facts, never the token or its signature.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from analyzer import _core
from analyzer import schema as S
from analyzer.config import ClientApp
from analyzer.tokens.keys import KeyRing, check_issuer, verify


def fingerprint(token: bytes) -> str:
    """First 16 hex digits of SHA-256 of the whole token: joins occurrences, reveals nothing."""
    return hashlib.sha256(token).hexdigest()[:16]


@dataclass(frozen=True)
class TokenFacts:
    """What one unique token is, and which request-independent checks it fails."""

    fp: str
    kind: str = S.KIND_UNKNOWN
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
    subject: str | None = field(default=None, repr=False)
    # Request-independent failures, in cause order: (cause, detail).
    failures: tuple[tuple[str, str], ...] = ()
    # The header and claims as the JSON text the core decoded. Most tokens' are never looked at (only
    # examples and `inspect` show them), and reading every one into a dict was a good part of decoding.
    header_json: bytes = field(default=b"{}", repr=False)
    claims_json: bytes = field(default=b"{}", repr=False)

    @property
    def audience(self) -> str | None:
        """`aud` as one string: list members sorted and comma-joined."""
        return ",".join(self.audiences) if self.audiences else None

    @cached_property
    def header(self) -> dict[str, Any]:
        """The JOSE header, read from its JSON text on first use ({} when it is not a JSON object)."""
        return _json_object(self.header_json) or {}

    @cached_property
    def claims(self) -> dict[str, Any]:
        """The claims, read from their JSON text on first use ({} when they are not a JSON object)."""
        return _json_object(self.claims_json) or {}


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """A decoded segment as the dict it holds (orjson, else the stdlib, which takes NaN and ints beyond 64 bits)."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    return obj if isinstance(obj, dict) else None


_DECODED = 0  # `_core.decode_token` status: a JWS with JSON header and claims


def analyze_token(token: bytes, ring: KeyRing, clients: tuple[ClientApp, ...] = (),
                  truncated: bool = False, fp: str | None = None) -> TokenFacts:
    """Decode and check one unique token. `truncated` says the log line was cut right after it; `fp`
    is its `fingerprint` when the caller has it already (the scan's core computes it).

    The compiled core decodes it (`_core.decode_token`: base64url, JSON, claims, and the failures that
    need no key: malformed, encrypted, dates, algorithm, missing claims); here come the checks that
    need the configuration: issuer, signature, client assertion certificates.
    """
    fp = fp or fingerprint(token)
    (status, header, claims, alg, kid, typ, kind, iss, auds, client_id, tid, ver, scopes, roles, exp, nbf, iat,
     has_nonce, header_nonce, x5t, thumbprints, subject, signed, signature,
     found) = _core.decode_token(token, truncated)
    failures = list(found)
    checked = False
    if status == _DECODED:
        if kind != S.KIND_ASSERTION:
            # The issuer must be one of the configured providers' (metadata issuer, tenant filled in).
            # An `iss` is only compared here: it is never used to find keys to fetch.
            problem = check_issuer(ring, iss, tid)
            if problem:
                failures.append((S.ISSUER_MISMATCH, problem))
            if not found or not any(f[0] in (S.UNSUPPORTED_ALG, S.MALFORMED) for f in found):
                verdict = ring.verdict(fp, kid, x5t, header_nonce)
                if verdict is None:
                    verdict = verify(ring, token[:signed], signature, alg or "", kid, iss, header_nonce, tid, x5t)
                    if verdict.cause != S.UNKNOWN_KID or ring.refresher is None:  # a later miss may refresh
                        ring.remember(fp, verdict)
                checked = verdict.checked and verdict.cause is None
                if verdict.cause:
                    failures.append((verdict.cause, verdict.detail))
        else:
            app = next((c for c in clients if c.client_id == client_id), None)
            if app is not None and app.thumbprints and not set(thumbprints) & app.thumbprints:
                shown = ", ".join(thumbprints) or "none"
                failures.append((S.CLIENT_ASSERTION_KEY_MISMATCH,
                                 f"the assertion is signed with certificate {shown} (x5t as hex), which is not "
                                 f"registered for client {client_id}{' (' + app.name + ')' if app.name else ''}"))
        if len(failures) > 1:
            failures.sort(key=lambda f: S.CAUSE_RANK[f[0]])
    # Filled in directly, not through the frozen dataclass's __init__ (which sets each of the 21 fields
    # with object.__setattr__: half the Python time of decoding a token), in field order so that the
    # instance dict keeps sharing its keys with the class's. The strings thousands of tokens share
    # (issuer, tenant, client, audiences, scopes ...) come interned from the core.
    facts = _new(TokenFacts)
    d = facts.__dict__
    d["fp"] = fp
    d["kind"] = kind
    d["alg"] = alg
    d["kid"] = kid
    d["typ"] = typ
    d["issuer"] = iss
    d["audiences"] = auds
    d["client_id"] = client_id
    d["tenant_id"] = tid
    d["version"] = ver
    d["scopes"] = scopes
    d["roles"] = roles
    d["exp"] = exp
    d["nbf"] = nbf
    d["iat"] = iat
    d["has_nonce"] = has_nonce
    d["signature_checked"] = checked
    d["subject"] = subject
    d["failures"] = tuple(failures)
    d["header_json"] = header
    d["claims_json"] = claims
    return facts


_new = object.__new__


class FactsMemo:
    """The facts of tokens this process decoded, whichever task decoded them, bounded.

    `analyze_token` gives the same facts for the same token (and `truncated`) while the keys stay the
    same; a token whose kid was unknown is decoded again, as a later miss may have refreshed the keys.
    Tokens recur across the files of an archive (a client sends one token to every host for an hour).
    """

    LIMIT = 8_192  # facts kept (about 1.3 KB each: header and claims stay JSON text), about 11 MB

    def __init__(self) -> None:
        self._facts: dict[tuple[str, bool], TokenFacts] = {}

    def facts(self, token: bytes, fp: str, truncated: bool, ring: KeyRing,
              clients: tuple[ClientApp, ...]) -> TokenFacts:
        """The token's facts: remembered, or decoded now."""
        key = (fp, truncated)
        got = self._facts.get(key)
        if got is None:
            got = analyze_token(token, ring, clients, truncated=truncated, fp=fp)
            if ring.refresher is None or not any(c == S.UNKNOWN_KID for c, _ in got.failures):
                if len(self._facts) >= self.LIMIT:  # the oldest half goes: logs run forward in time
                    for k in list(self._facts)[: self.LIMIT // 2]:
                        del self._facts[k]
                self._facts[key] = got
        return got
