"""Signing keys: key sets (from files, or fetched by the key store), issuer matching and signature checks.

A KeyRing holds plain JWK dicts so that it can be sent to worker processes; each process builds
the key objects it needs once per kid. Nothing here opens a connection: a ring may carry a
`refresher` hook (set by analyzer.tokens.keystore in the parent process) that is asked to re-fetch an
issuer's keys when a kid is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from jwt.exceptions import InvalidKeyError, PyJWKError

from analyzer.errors import ConfigError
from analyzer.tokens.issuers import accepts, mismatch_detail, same_keys
from analyzer.tokens.shared import SharedVerdicts, sets_digest

HMAC_ALGS = frozenset({"HS256", "HS384", "HS512"})
VERDICT_MEMO = 32_768  # signature verdicts kept per process (about 4 MB: equal verdicts are one object)
ROUTE_MEMO = 4_096  # (issuer, alg, kid) routes and issuer checks kept per process: hostile tokens vary them

# Which JWK a JWS alg can be verified with: key type, and the curve where the alg fixes one.
_ALG_KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_ALG_CRV = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1", "Ed25519": "Ed25519"}


@dataclass
class KeySet:
    """One issuer's published keys, and where they came from."""

    source: str  # the configured metadata URL, JWKS URL or file: the set's identity
    origin: str  # "file", "network", "cache", or "none" when no key could be had
    jwks: list[dict[str, Any]]
    issuer: str | None = None  # may hold the {tenantid} template of multi-tenant metadata
    algorithms: tuple[str, ...] = ()
    fetched_at: str | None = None  # ISO 8601 UTC: when the provider last served (or confirmed) these keys
    error: str | None = None
    stale: bool = False  # served from the cache because a fetch failed
    jwks_uri: str | None = None  # where the keys were read, when discovered through metadata

    @property
    def kids(self) -> list[str]:
        """The kids of this set, in order."""
        return [str(k["kid"]) for k in self.jwks if "kid" in k]

    @property
    def refreshable(self) -> bool:
        """Whether the key store can fetch this set again (it came from a URL, not a file)."""
        return self.origin != "file"

    def describe(self) -> dict[str, Any]:
        """What run.json and the report say about this key set."""
        return {"source": self.source, "origin": self.origin, "issuer": self.issuer, "kids": self.kids,
                "fetched_at": self.fetched_at, "stale": self.stale, "error": self.error,
                "jwks_uri": self.jwks_uri, "algorithms": list(self.algorithms)}


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


Refresher = Callable[["KeyRing", int], bool]


@dataclass
class KeyRing:
    """All key sets known to a run, what was seen in earlier sets, and the issuers accepted."""

    sets: list[KeySet] = field(default_factory=list)
    # source -> kid -> ISO time the kid was last seen in a set fetched for that source.
    history: dict[str, dict[str, str]] = field(default_factory=dict)
    # Issuers accepted besides those of the key sets (the [[api]] issuers lists).
    accepted_issuers: tuple[str, ...] = ()
    # Asked to re-fetch set i on a kid miss; returns whether the set changed. Parent process only.
    refresher: Refresher | None = field(default=None, repr=False, compare=False)
    # The process that may call the refresher: a forked worker inherits the hook but must never use
    # the parent's HTTP session (nor see keys the others do not).
    owner_pid: int = field(default_factory=os.getpid, repr=False, compare=False)
    _cache: dict[tuple[int, str], Any] = field(default_factory=dict, repr=False, compare=False)
    # Token fingerprint -> its signature's verdict with these sets: a token seen again (in another
    # file, say) is not verified again. Forgotten when a set changes.
    _verdicts: dict[str, SignatureVerdict] = field(default_factory=dict, repr=False, compare=False)
    _distinct: dict[SignatureVerdict, SignatureVerdict] = field(default_factory=dict, repr=False, compare=False)
    # (iss, tid, alg, kid, x5t) -> the keys that may have signed such a token (`_route`): most tokens of a
    # run share a few of these. Forgotten when a set changes.
    _routes: dict[tuple[Any, ...], Route] = field(default_factory=dict, repr=False, compare=False)
    # Verdicts the forked workers of a run share (made by the parent before forking), and the digest of
    # `sets` their keys carry, recomputed when a set changes.
    shared: SharedVerdicts | None = field(default=None, repr=False, compare=False)
    _digest: int | None = field(default=None, repr=False, compare=False)
    # (iss, tid) -> `check_issuer`'s answer. Forgotten when a set changes.
    _issuer_checks: dict[tuple[str | None, str | None], str | None] = field(default_factory=dict, repr=False,
                                                                           compare=False)

    def __getstate__(self) -> dict[str, Any]:
        # Key objects and the network hook stay in the process that made them.
        return {"sets": self.sets, "history": self.history, "accepted_issuers": self.accepted_issuers}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.sets = state["sets"]
        self.history = state.get("history", {})
        self.accepted_issuers = state.get("accepted_issuers", ())
        self.refresher = None
        self.owner_pid = os.getpid()
        self._cache = {}
        self._verdicts = {}
        self._distinct = {}
        self._routes = {}
        self._issuer_checks = {}
        self.shared = None
        self._digest = None

    @property
    def issuers(self) -> list[str]:
        """Issuers whose tokens the key sets sign (from metadata or config, templates included): an Entra
        tenant's v1 and v2 issuers both, whichever of its metadata documents was configured."""
        return list(dict.fromkeys(i for s in self.sets if s.issuer for i in same_keys(s.issuer)))

    def candidates(self, iss: str | None, tid: str | None = None) -> list[KeySet]:
        """Key sets that may sign tokens of this issuer: those bound to it, else the unbound ones."""
        bound = [s for s in self.sets if s.issuer and iss and accepts(same_keys(s.issuer), iss, tid)]
        return bound or [s for s in self.sets if not s.issuer]

    def replace(self, index: int, new: KeySet) -> None:
        """Put a re-fetched set in place of set `index`, dropping key objects built from the old one."""
        self.sets[index] = new
        for k in [k for k in self._cache if k[0] == index]:
            del self._cache[k]
        self._verdicts.clear()
        self._routes.clear()
        self._issuer_checks.clear()
        self._digest = None

    def verdict(self, fp: str, kid: str | None = None, x5t: str | None = None,
                header_nonce: bool = False) -> SignatureVerdict | None:
        """The verdict on the signature of the token with this fingerprint (and this kid, x5t and header
        nonce, which a verdict another process wrote down is rebuilt from), if it was checked before."""
        got = self._verdicts.get(fp)
        if got is None and self.shared is not None:
            code = self.shared.get(fp, self.digest())
            if code:  # another worker checked it with the same keys
                return VALID if code == CODE_VALID else mismatch(key_name(kid, x5t), header_nonce)
        return got

    def remember(self, fp: str, verdict: SignatureVerdict) -> None:
        """Keep a verdict (at most VERDICT_MEMO of them; equal verdicts share one object), and write down
        for the other workers those that cost a signature check."""
        if len(self._verdicts) >= VERDICT_MEMO:
            self._verdicts.clear()
            self._distinct.clear()
        self._verdicts[fp] = verdict if verdict is VALID else self._distinct.setdefault(verdict, verdict)
        if verdict.code and self.shared is not None:
            self.shared.add(fp, self.digest(), verdict.code)

    def digest(self) -> int:
        """`sets_digest` of the current sets, computed once per change."""
        if self._digest is None:
            self._digest = sets_digest(self.sets)
        return self._digest

    def key_for(self, set_index: int, jwk: dict[str, Any]) -> Any:
        """A PyJWK for a JWK dict, built once per process."""
        cache_key = (set_index, str(jwk.get("kid", id(jwk))))
        if cache_key not in self._cache:
            try:
                self._cache[cache_key] = jwt.PyJWK(jwk)
            except (PyJWKError, InvalidKeyError, ValueError, TypeError, KeyError):
                self._cache[cache_key] = None
        return self._cache[cache_key]

    def last_seen(self, sources: Iterable[str], kid: str) -> str | None:
        """When `kid` was last seen in a key set fetched for one of these sources (ISO), or None."""
        seen = [self.history.get(src, {}).get(kid) for src in sources]
        return max((s for s in seen if s), default=None)

    def describe(self) -> list[dict[str, Any]]:
        """Per key set: source, origin, issuer, kids, fetched_at, stale, error."""
        return [s.describe() for s in self.sets]


# --------------------------------------------------------------------------- issuers


def check_issuer(ring: KeyRing, iss: str | None, tid: str | None) -> str | None:
    """Why `iss` is not an issuer of any configured provider (tenant filled in), or None if it is.

    Only judged when some provider's issuer is known (from its metadata or the config); bare key
    files say nothing about issuers. Judged once per (iss, tid) while the key sets stay the same.
    """
    key = (iss, tid)
    if key not in ring._issuer_checks:
        if len(ring._issuer_checks) >= ROUTE_MEMO:
            ring._issuer_checks.clear()
        ring._issuer_checks[key] = _check_issuer(ring, iss, tid)
    return ring._issuer_checks[key]


def _check_issuer(ring: KeyRing, iss: str | None, tid: str | None) -> str | None:
    own = ring.issuers
    if not own or not iss:
        return None
    accepted = [*dict.fromkeys([*own, *ring.accepted_issuers])]
    if accepts(accepted, iss, tid):
        return None
    return mismatch_detail(iss, accepted, "from the identity providers' metadata and config", tid)


# --------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class SignatureVerdict:
    """The outcome of checking one token's signature."""

    checked: bool
    cause: str | None = None  # "unknown_kid", "bad_signature", "unsupported_alg" or "malformed" (a cut signature)
    detail: str = ""
    # How the workers' shared table names it (0: not written there): only the verdicts that cost a
    # signature check, and whose detail the token's header rebuilds (`KeyRing.verdict`).
    code: int = field(default=0, compare=False, repr=False)


# The verdict of most tokens, one object: neither built nor hashed (to share it) once per token.
CODE_VALID, CODE_MISMATCH = 1, 2  # the `code`s of VALID and of `mismatch` verdicts
VALID = SignatureVerdict(True, code=CODE_VALID)
GRAPH_MISMATCH = ("the header carries a nonce: this is a Microsoft Graph token, which only Graph can verify; "
                  "it was never meant for this API")


def key_name(kid: str | None, x5t: str | None) -> str:
    """How a verdict names the key a token asks for: its kid, else its x5t."""
    return kid or (f"x5t {x5t}" if x5t else "(no kid)")


def mismatch(name: str, header_nonce: bool) -> SignatureVerdict:
    """The verdict on a signature that none of the keys named `name` verifies."""
    if header_nonce:
        return SignatureVerdict(True, "bad_signature", GRAPH_MISMATCH, CODE_MISMATCH)
    return SignatureVerdict(True, "bad_signature", f"key {name} was found but the signature does not "
                            "verify (altered token, or signed by another key with the same kid)", CODE_MISMATCH)


def _fits(jwk: dict[str, Any], alg: str) -> bool:
    """Whether a JWK is of the type (and curve) that `alg` verifies with."""
    kty = _ALG_KTY.get(alg[:2])
    crv = _ALG_CRV.get(alg)
    return jwk.get("kty") == kty and (crv is None or jwk.get("crv") == crv)


def _matching(ring: KeyRing, cands: list[KeySet], kid: str | None,
              x5t: str | None) -> list[tuple[int, dict[str, Any]]]:
    """(set index, JWK) of signing keys named by the token's kid (or x5t when it has no kid)."""
    out = []
    for i, s in enumerate(ring.sets):
        if not any(s is c for c in cands):
            continue
        for jwk in s.jwks:
            if jwk.get("use", "sig") != "sig":
                continue
            if kid is not None:
                if str(jwk.get("kid")) == kid:
                    out.append((i, jwk))
            elif x5t is None or jwk.get("x5t") == x5t:
                out.append((i, jwk))  # no kid: the x5t names the key, or else every key is tried
    return out


def _unknown_kid(ring: KeyRing, cands: list[KeySet], kid: str) -> SignatureVerdict:
    sources = [s.source for s in cands]
    shown = ", ".join(sorted(set(sources)))
    current = max((s.fetched_at for s in cands if s.fetched_at), default=None)
    seen = ring.last_seen(sources, kid)
    if seen:
        detail = (f"kid {kid} was in the key set fetched on {seen[:10]} but is not in the current one "
                  f"({shown}{', fetched ' + current[:10] if current else ''}): the key rotated and the API's "
                  "cache is stale")
    elif all(s.origin == "file" for s in cands):
        detail = f"kid {kid} is not in the key set file ({shown}); it was never seen in a fetched key set"
    else:
        detail = (f"kid {kid} is not in the issuer's current key set ({shown}) and was never seen in any "
                  "key set fetched for this issuer")
    if any(s.stale for s in cands):
        detail += ("; note: these keys were served from the cache because the provider could not be reached, "
                   "so the kid may be newer than the cached set")
    return SignatureVerdict(True, "unknown_kid", detail)


# The keys a token may have been signed with: (algorithm, key objects to try, the key's name), or the
# verdict when no key needs trying.
# (PyJWT algorithm, keys to try, the keys' name, the fewest signature bytes any of them makes) or a verdict.
Route = tuple[Any, list[Any], str, int] | SignatureVerdict


def verify(ring: KeyRing, signing_input: bytes, signature: bytes, alg: str, kid: str | None,
           iss: str | None, header_nonce: bool, tid: str | None = None,
           x5t: str | None = None) -> SignatureVerdict:
    """Check a signature with the keys for its issuer; each key object is built once per kid.

    Which keys to try is found once per (iss, tid, alg, kid, x5t) while the key sets stay the same
    (`_route`): a run's tokens share a few of these, so most tokens cost just the signature check.
    """
    key = (iss, tid, alg, kid, x5t)
    route = ring._routes.get(key)
    if route is None:
        route = _route(ring, alg, kid, iss, tid, x5t)
        # Not kept: a kid miss (a refresh may find the kid; its detail names the keys' history), nor
        # "no keys" where a refresh may bring some.
        if not isinstance(route, SignatureVerdict) or not (
                route.cause == "unknown_kid" or (route.cause is None and any(s.refreshable for s in ring.sets))):
            if len(ring._routes) >= ROUTE_MEMO:
                ring._routes.clear()
            ring._routes[key] = route
    if isinstance(route, SignatureVerdict):
        return route
    algorithm, keys, name, fewest = route
    if len(signature) < fewest:
        # Every key of this alg makes signatures of one length (an RSA key's modulus, an EC curve's two
        # coordinates): a shorter one was cut, by the log's line length or a half-written line.
        return SignatureVerdict(False, "malformed", f"truncated: the signature has {len(signature)} bytes where "
                                f"key {name} makes {fewest} (the log line was probably cut at a length limit)")
    for k in keys:
        try:
            if algorithm.verify(signing_input, k.key, signature):
                return VALID
        except (ValueError, TypeError, AttributeError, InvalidKeyError):
            pass  # a signature of the wrong length or shape simply does not verify
    if not keys:
        return SignatureVerdict(False, "bad_signature", f"key {name} is in the key set but cannot be loaded "
                                "(invalid JWK): the signature could not be checked")
    return mismatch(name, header_nonce)


def _route(ring: KeyRing, alg: str, kid: str | None, iss: str | None, tid: str | None,
           x5t: str | None) -> Route:
    """The keys a token of this issuer, alg and kid may be signed with; or the verdict when there are none
    to try (no keys, a forbidden or unknown alg, an unknown kid, keys of the wrong type)."""
    cands = ring.candidates(iss, tid)
    if not any(s.jwks for s in cands) and not any(s.refreshable for s in cands):
        return SignatureVerdict(False)
    if alg in HMAC_ALGS:
        return SignatureVerdict(False, "unsupported_alg", f"alg {alg} is a shared-secret algorithm, but the "
                                "issuer signs with public keys: possible algorithm-confusion attempt")
    allowed = {a for s in cands for a in s.algorithms}
    if allowed and alg not in allowed:
        return SignatureVerdict(False, "unsupported_alg", f"alg {alg} is not among the algorithms allowed "
                                f"for this issuer ({', '.join(sorted(allowed))})")
    try:
        # "Ed25519" is the fully-specified name (RFC 9864) of what PyJWT calls EdDSA.
        algorithm = jwt.get_algorithm_by_name("EdDSA" if alg == "Ed25519" else alg)
    except NotImplementedError:
        return SignatureVerdict(False, "unsupported_alg", f"alg {alg!r} is not a known signing algorithm")

    found = _matching(ring, cands, kid, x5t)
    if not found and kid is not None and ring.refresher is not None and ring.owner_pid == os.getpid():
        # A kid miss: the provider may have rotated since we fetched. The key store decides whether a
        # fetch is allowed now (at most once per issuer per cooldown).
        changed = False
        for i, s in enumerate(ring.sets):
            if s.refreshable and any(s is c for c in cands):
                changed = ring.refresher(ring, i) or changed
        if changed:
            cands = ring.candidates(iss, tid)
            found = _matching(ring, cands, kid, x5t)
    if not any(s.jwks for s in cands):
        return SignatureVerdict(False)
    if not found:
        if kid is None:
            return SignatureVerdict(True, "unknown_kid", "the token has no kid (nor an x5t) naming one of "
                                    "the issuer's keys")
        return _unknown_kid(ring, cands, kid)

    name = key_name(kid, x5t)
    usable = [(i, jwk) for i, jwk in found if _fits(jwk, alg)]
    if not usable:
        kinds = ", ".join(sorted({" ".join(str(j[k]) for k in ("kty", "crv") if k in j) for _, j in found}))
        return SignatureVerdict(True, "bad_signature", f"key {name} is a {kinds} key, which cannot "
                                f"verify alg {alg}: the token was not signed with this issuer's key")
    keys = [k for k in (ring.key_for(i, jwk) for i, jwk in usable) if k is not None]
    return algorithm, keys, name, min((signature_bytes(k.key) for k in keys), default=0)


def signature_bytes(key: Any) -> int:
    """How many bytes every signature of this public key has (0: unknown, so none is too short).

    RSA: its modulus; EC (JWS's r || s): twice the curve's coordinate; Ed25519 64, Ed448 114.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return (key.key_size + 7) // 8
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 2 * ((key.curve.key_size + 7) // 8)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 64
    if isinstance(key, ed448.Ed448PublicKey):
        return 114
    return 0


# --------------------------------------------------------------------------- unverified tokens

GRAPH_REASON = ("Microsoft Graph token: only Graph can verify it (its header carries a nonce that the "
                "signature covers in another form); it was never meant for this API")
ASSERTION_REASON = ("client assertion: signed with the client's own certificate, not the identity provider's "
                    "keys; only its thumbprint is compared with a [[client]]'s certificate_thumbprints")


def unverified_reason(ring: KeyRing, iss: str | None, tid: str | None, kind: str, graph: bool) -> str:
    """Why a token's signature could not be checked with this ring: one sentence that says what to do."""
    if kind == "client_assertion":
        return ASSERTION_REASON
    if graph:
        return GRAPH_REASON
    if not ring.sets:
        return "no signing keys are configured: add an [[issuer]] with its metadata_url, or pass --jwks FILE"
    cands = ring.candidates(iss, tid)
    if not cands:
        if not iss:
            return "the token has no iss, and every configured key set belongs to a named issuer"
        return f"no key set for issuer {iss}: add an [[issuer]] with its metadata_url"
    if not any(s.jwks for s in cands):
        why = "; ".join(dict.fromkeys((s.error or "no keys").removeprefix("no keys: ") for s in cands))
        return (f"no keys could be had for issuer {iss or '(none)'} ({why}): run once with the provider "
                "reachable, or give its keys as a jwks_file")
    return "the issuer's keys were not available when these occurrences were classified (an earlier run)"
