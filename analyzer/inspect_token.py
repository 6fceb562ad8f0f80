"""Inspect one token, like jwt.ms: header, claims with readable times, and every check's verdict.

A check is `pass` or `fail` only when it ran. One that could not run (no keys for the signature,
no API for the audience, no sign-in response for the nonce) is `not checked`, with the reason.
The token is judged as a bearer token in an Authorization header, at `--at` or now.
Imports `tokens` (decode, keys, keystore, check, privacy), `scan.extract` and the base modules; only `cli` imports it.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analyzer import schema as S
from analyzer.config import ApiExpectation, Settings
from analyzer.errors import ConfigError
from analyzer.scan.extract import TOKEN_RE
from analyzer.tokens.check import WRONG_TYPE_DETAIL, classify, early_detail, expired_detail, pair_verdict
from analyzer.tokens.decode import TokenFacts, analyze_token
from analyzer.tokens.keys import KeyRing, unverified_reason
from analyzer.tokens.keystore import load_keyring
from analyzer.tokens.privacy import shallow, without_secrets, writable

TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time", "xms_tcdt", "pwd_exp")
PASS, FAIL, NOT_CHECKED = "pass", "fail", "not checked"
_INSPECT_HOST = "<inspect>"  # the host an --api is matched on: the token is "sent" to it
_API_KINDS = (S.KIND_ACCESS, S.KIND_UNKNOWN)  # the kinds an API's audience and issuer are judged for


# Characters that reorder or hide what a terminal shows (bidi embeddings, overrides and isolates, marks,
# zero-width ones): a claim holding U+202E would print its text reversed. JSON escapes C0 controls itself.
_INVISIBLE = re.compile(r"[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def terminal_text(text: str) -> str:
    """A line of inspect's output as a terminal can show it inertly: invisible and reordering characters as
    `\\uXXXX` (a JSON escape, so JSON output stays JSON that reads back the same), lone surrogates as U+FFFD."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", writable(text))


def _human(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return None


def find_api(settings: Settings, name: str) -> ApiExpectation:
    """The configured [[api]] called `name`; ConfigError naming the ones there are if none is."""
    for api in settings.apis:
        if api.name == name:
            return api
    if not settings.apis:
        raise ConfigError(f"--api {name}: the config has no [[api]] entries (give --config FILE)")
    known = ", ".join(a.name for a in settings.apis)
    raise ConfigError(f"--api {name}: no [[api]] with that name in the config (it has: {known})")


# What a token, or a piece of one cut by a line wrap, is made of (base64url, dots, padding and its %3D).
_TOKEN_PIECE = re.compile(r"[A-Za-z0-9_\-.=%]+")


def _rejoined(text: str) -> str:
    """A token that a terminal or a mail client wrapped over lines, in one piece again.

    Pieces are joined only when each is nothing but token characters (a log line is searched as it is),
    and a piece that starts a token of its own (`eyJ` after a piece that did not end a segment) stays apart.
    """
    pieces = text.split()
    if len(pieces) < 2 or not all(_TOKEN_PIECE.fullmatch(p) for p in pieces):
        return text
    joined = pieces[0]
    for piece in pieces[1:]:
        if piece.startswith("eyJ") and not joined.endswith("."):
            break  # a second token: the first is the one inspected
        joined += piece
    return joined


def _token(raw: str) -> bytes:
    text = raw.strip()
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    text = _rejoined(text)
    m = TOKEN_RE.search(text.encode("utf-8", "replace"))
    return m.group(0) if m else text.encode("utf-8", "replace")


def _checks(facts: TokenFacts, ring: KeyRing, api: ApiExpectation | None, settings: Settings, when_us: int,
            moment: str) -> list[dict[str, Any]]:
    """Every check's verdict, in cause order: pass, fail (with its detail) or not checked (with why)."""
    own = dict(facts.failures)
    decoded = bool(facts.claims)
    malformed = S.MALFORMED in own
    for_api = facts.kind in _API_KINDS and not malformed
    pair = (pair_verdict(api, facts.kind, facts.audiences, facts.issuer, malformed, tid=facts.tenant_id)
            if api is not None else (0, "", ""))
    leeway = settings.leeway_seconds
    graph = any(a in S.GRAPH_AUDIENCES for a in facts.audiences)
    out: list[dict[str, Any]] = []

    def verdict(check: str, failed: str | None, skipped: str | None = None) -> None:
        if failed:
            out.append({"check": check, "verdict": FAIL, "detail": failed})
        elif skipped:
            out.append({"check": check, "verdict": NOT_CHECKED, "detail": skipped})
        else:
            out.append({"check": check, "verdict": PASS})

    undecoded = None if decoded else "the token's claims could not be read"
    verdict(S.MALFORMED, own.get(S.MALFORMED))
    verdict(S.ENCRYPTED, own.get(S.ENCRYPTED))
    for cause in (S.UNSUPPORTED_ALG, S.MISSING_CLAIMS):
        verdict(cause, own.get(cause), undecoded)
    verdict(S.WRONG_TOKEN_TYPE, WRONG_TYPE_DETAIL if facts.kind == S.KIND_ID else None, undecoded)

    if undecoded:
        audience_skip = undecoded
    elif api is None:
        audience_skip = "no API to judge it against: give --api NAME (with --config)"
    elif not api.audiences:
        audience_skip = f"the [[api]] {api.name} lists no audiences"
    elif not for_api:
        audience_skip = f"only access tokens are judged against an API's audiences (this is a {facts.kind})"
    else:
        audience_skip = None
    verdict(S.AUDIENCE_MISMATCH, pair[1] or None, audience_skip)

    by_keys = bool(ring.issuers) and facts.kind != S.KIND_ASSERTION
    by_api = api is not None and bool(api.issuers) and for_api
    issuer_skip = None if (by_keys or by_api) else (
        undecoded or "no issuer is known to judge it against: the key sets name none, and no --api with "
        "issuers was given")
    verdict(S.ISSUER_MISMATCH, pair[2] or own.get(S.ISSUER_MISMATCH), issuer_skip)

    sig_skip = None
    if not facts.signature_checked and not (S.UNKNOWN_KID in own or S.BAD_SIGNATURE in own):
        blocked = [c for c in (S.MALFORMED, S.ENCRYPTED, S.UNSUPPORTED_ALG) if c in own]
        sig_skip = (f"not verified because of {blocked[0]}" if blocked
                    else unverified_reason(ring, facts.issuer, facts.tenant_id, facts.kind, graph))
    verdict(S.UNKNOWN_KID, own.get(S.UNKNOWN_KID), sig_skip)
    verdict(S.BAD_SIGNATURE, own.get(S.BAD_SIGNATURE),
            sig_skip or ("no key with the token's kid was found" if S.UNKNOWN_KID in own else None))

    if undecoded:
        verdict(S.EXPIRED, None, undecoded)
        verdict(S.NOT_YET_VALID, None, undecoded)
    else:
        past = (when_us - facts.exp) / 1e6 if facts.exp is not None else None
        verdict(S.EXPIRED, expired_detail(int(past), leeway, moment) if past is not None and past > leeway else None,
                None if facts.exp is not None else "the token has no exp claim")
        start = facts.nbf if facts.nbf is not None else facts.iat
        early = (start - when_us) / 1e6 if start is not None else None
        verdict(S.NOT_YET_VALID,
                early_detail(int(early), leeway, moment) if early is not None and early > leeway else None,
                None if start is not None else "the token has neither nbf nor iat")
    verdict(S.MISSING_NONCE, None, "only judged for an ID token returned by a sign-in; inspect judges the token "
            "as a bearer token")
    if facts.kind != S.KIND_ASSERTION:
        assertion_skip: str | None = "only judged for client assertions"
    elif not any(c.client_id == facts.client_id and c.thumbprints for c in settings.clients):
        assertion_skip = f"no [[client]] with certificate_thumbprints for client {facts.client_id}"
    else:
        assertion_skip = None
    verdict(S.CLIENT_ASSERTION_KEY_MISMATCH, own.get(S.CLIENT_ASSERTION_KEY_MISMATCH), assertion_skip)
    return out


def inspect(raw: str, settings: Settings, at_us: int | None = None, api_name: str | None = None) -> dict[str, Any]:
    """Decode and check one token (against one [[api]] when named); the result holds no signature."""
    api = find_api(settings, api_name) if api_name is not None else None
    ring = load_keyring(settings)
    facts = analyze_token(_token(raw), ring, settings.clients)
    now_us = at_us if at_us is not None else int(settings.clock() * 1_000_000)
    judged_at = datetime.fromtimestamp(now_us // 1_000_000, tz=UTC).isoformat()
    moment = "now" if at_us is None else f"{judged_at} (--at)"
    # Sent to the API by a host of its own, so that classify matches it whatever its hosts and paths are.
    apis = (dataclasses.replace(api, hosts=(_INSPECT_HOST,), path_prefix="/", sources=()),) if api else ()
    occ = pd.DataFrame({
        "ts": pd.array([now_us], dtype="Int64"), "source": ["<inspect>"], "line": [1], "format": [S.FMT_GENERIC],
        "location": [S.LOC_AUTHORIZATION], "param": ["authorization" if facts.kind != S.KIND_ASSERTION
                                                     else "client_assertion"],
        "host": [_INSPECT_HOST if api else None], "method": [None], "path": [None],
        "status": pd.array([None], dtype="Int32"), "client_ip": [None], "user_agent": [None],
        "token_fp": [facts.fp], "mtime_us": [now_us],
    })
    ev = classify(occ, {facts.fp: facts}, dataclasses.replace(settings, apis=apis), moment=moment).iloc[0]
    checks = _checks(facts, ring, api, settings, now_us, moment)
    unchecked = next((c["detail"] for c in checks if c["check"] == S.BAD_SIGNATURE
                      and c["verdict"] == NOT_CHECKED), None)
    times = {k: _human(facts.claims.get(k)) for k in TIME_CLAIMS if k in facts.claims}
    return {
        "token_fp": facts.fp,
        "kind": facts.kind,
        # Shown whole (personal claims too: the user holds the token), but nested no deeper than a JSON writer
        # can go (a claim may be ~1000 levels deep), and without a token or key material a claim may carry
        # (B2C's idp_access_token): the result holds no signature.
        "header": without_secrets(shallow(facts.header)),
        "claims": without_secrets(shallow(facts.claims)),
        "times": {k: v for k, v in times.items() if v},
        "judged_at": judged_at,
        "judged_at_now": at_us is None,
        "api": api.name if api else None,
        "cause": ev["cause"],
        "causes": list(ev["causes"]),
        "detail": ev["detail"],
        "signature_checked": bool(facts.signature_checked),
        "signature_not_checked_because": unchecked if not facts.signature_checked else None,
        "checks": checks,
    }
