"""Signing keys: key sets from files (and, later, from identity providers), and signature checks.

A KeyRing holds plain JWK dicts so that it can be sent to worker processes; each process builds
the key objects it needs once per kid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from jwt.exceptions import InvalidKeyError, PyJWKError

from analyzer.config import IssuerSource
from analyzer.errors import ConfigError

ASYMMETRIC_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384",
                             "ES512", "EdDSA", "Ed25519"})
HMAC_ALGS = frozenset({"HS256", "HS384", "HS512"})


@dataclass
class KeySet:
    """One issuer's published keys, and where they came from."""

    source: str
    origin: str  # "file", "network" or "cache"
    jwks: list[dict[str, Any]]
    issuer: str | None = None
    algorithms: tuple[str, ...] = ()
    fetched_at: str | None = None
    error: str | None = None

    @property
    def kids(self) -> list[str]:
        """The kids of this set, in order."""
        return [str(k["kid"]) for k in self.jwks if "kid" in k]

    def describe(self) -> dict[str, Any]:
        """What run.json and the report say about this key set."""
        return {"source": self.source, "origin": self.origin, "issuer": self.issuer, "kids": self.kids,
                "fetched_at": self.fetched_at, "error": self.error}


def parse_jwks(data: Any, where: str) -> list[dict[str, Any]]:
    """The keys of a JWKS document (or a single JWK); ConfigError if it is neither."""
    if isinstance(data, dict) and isinstance(data.get("keys"), list):
        keys = [k for k in data["keys"] if isinstance(k, dict) and "kty" in k]
    elif isinstance(data, dict) and "kty" in data:
        keys = [data]
    else:
        raise ConfigError("not a JSON Web Key Set (no 'keys' list)", where)
    return keys


def load_jwks_file(path: Path) -> list[dict[str, Any]]:
    """Read a JWKS file given by the user."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read key set: {e.strerror or e}", str(path)) from None
    except ValueError as e:
        raise ConfigError(f"key set is not valid JSON ({e})", str(path)) from None
    return parse_jwks(data, str(path))


@dataclass
class KeyRing:
    """All key sets known to a run."""

    sets: list[KeySet] = field(default_factory=list)
    _cache: dict[tuple[int, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"sets": self.sets, "_cache": {}}

    @property
    def has_keys(self) -> bool:
        """Whether any key is known at all (else signatures cannot be checked)."""
        return any(s.jwks for s in self.sets)

    def candidates(self, iss: str | None) -> list[KeySet]:
        """Key sets that may sign tokens of this issuer: those bound to it, else the unbound ones."""
        bound = [s for s in self.sets if s.issuer and iss and issuer_matches(s.issuer, iss)]
        return bound or [s for s in self.sets if not s.issuer]

    def key_for(self, set_index: int, jwk: dict[str, Any]) -> Any:
        """A PyJWK for a JWK dict, built once per process."""
        cache_key = (set_index, str(jwk.get("kid", id(jwk))))
        if cache_key not in self._cache:
            try:
                self._cache[cache_key] = jwt.PyJWK(jwk)
            except (PyJWKError, InvalidKeyError, ValueError, TypeError, KeyError):
                self._cache[cache_key] = None
        return self._cache[cache_key]

    def describe(self) -> list[dict[str, Any]]:
        """Per key set: source, origin, issuer, kids."""
        return [s.describe() for s in self.sets]


def issuer_matches(pattern: str, iss: str) -> bool:
    """Whether `iss` is the issuer `pattern`, where `{tenantid}` in the pattern matches any tenant."""
    if "{tenantid}" not in pattern:
        return pattern.rstrip("/") == iss.rstrip("/")
    head, _, tail = pattern.partition("{tenantid}")
    return iss.startswith(head) and iss.endswith(tail) and len(iss) > len(head) + len(tail)


def build_keyring(sources: tuple[IssuerSource, ...]) -> KeyRing:
    """Key sets from files. Network sources are left for the key store that fetches them."""
    ring = KeyRing()
    for src in sources:
        if src.jwks_file is not None:
            ring.sets.append(KeySet(source=str(src.jwks_file), origin="file", jwks=load_jwks_file(src.jwks_file),
                                    issuer=src.issuer, algorithms=src.algorithms))
    return ring


@dataclass(frozen=True)
class SignatureVerdict:
    """The outcome of checking one token's signature."""

    checked: bool
    cause: str | None = None  # "unknown_kid", "bad_signature" or "unsupported_alg"
    detail: str = ""


def verify(ring: KeyRing, signing_input: bytes, signature: bytes, alg: str, kid: str | None,
           iss: str | None, header_nonce: bool) -> SignatureVerdict:
    """Check a signature with the keys for its issuer; each key object is built once per kid."""
    cands = ring.candidates(iss)
    if not any(s.jwks for s in cands):
        return SignatureVerdict(False)
    allowed = {a for s in cands for a in s.algorithms}
    if allowed and alg not in allowed:
        return SignatureVerdict(False, "unsupported_alg",
                                f"alg {alg} is not among the algorithms allowed for this issuer ({', '.join(sorted(allowed))})")
    try:
        algorithm = jwt.get_algorithm_by_name(alg)
    except NotImplementedError:
        return SignatureVerdict(False, "unsupported_alg", f"alg {alg!r} is not a known signing algorithm")
    tried = []
    for i, s in enumerate(ring.sets):
        if s not in cands:
            continue
        for jwk in s.jwks:
            if kid is not None and str(jwk.get("kid")) != kid:
                continue
            key = ring.key_for(i, jwk)
            if key is None:
                continue
            tried.append(s)
            try:
                if algorithm.verify(signing_input, key.key, signature):
                    return SignatureVerdict(True)
            except (ValueError, TypeError, InvalidKeyError):
                pass
    if not tried:
        if kid is None:
            return SignatureVerdict(False, "unknown_kid", "the token has no kid and no key of the issuer fits it")
        sources = ", ".join(sorted({s.source for s in cands}))
        return SignatureVerdict(True, "unknown_kid",
                                f"kid {kid} is not in the issuer's current key set ({sources}); "
                                "it was never seen in a fetched key set")
    if header_nonce:
        return SignatureVerdict(True, "bad_signature",
                                "the header carries a nonce: this is a Microsoft Graph token, which only Graph can "
                                "verify; it was never meant for this API")
    return SignatureVerdict(True, "bad_signature", f"key {kid or '(no kid)'} was found but the signature does not verify "
                            "(altered token, or signed by another key with the same kid)")
