"""`inspect_token.inspect` called directly (the CLI's `inspect` prints what it returns): every check's verdict,
times judged at the given moment, the signature judged only with keys, bad input as data, never the signature."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwts as T
import pytest

from analyzer import schema as S
from analyzer.config import Settings, build_settings
from analyzer.errors import ConfigError
from analyzer.inspect_token import FAIL, NOT_CHECKED, PASS, inspect
from analyzer.tokens.check import WRONG_TYPE_DETAIL

TENANT = "11111111-2222-3333-4444-555555555555"
API = "api://orders"
CLIENT = "c0ffee00-0000-4000-8000-000000000001"
T0 = 1_780_000_000  # 2026-05-28T20:26:40Z: every token's iat; times are judged at T0 + an offset
KEY = T.make_rsa_key("k1")
SAME_KID = T.make_rsa_key("k1")  # another key that claims the trusted key's kid


def us(seconds: float) -> int:
    return int(seconds * 1_000_000)


def access(key: T.KeyPair = KEY, **extra: Any) -> str:
    claims = T.access_token_claims(TENANT, API, CLIENT, iat=T0, exp=T0 + 3600, scp="read", seed=1, extra=extra)
    return T.sign(claims, key)


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./analyzer.toml is picked up by accident


@pytest.fixture
def no_keys(tmp_path: Path) -> Settings:
    return build_settings(None, [], cache_dir=tmp_path / "cache", offline=True)


@pytest.fixture
def with_keys(tmp_path: Path) -> Settings:
    """A config with a JWKS file holding KEY, an API `orders` and an API `bare` without audiences."""
    (tmp_path / "keys.json").write_text(json.dumps(T.jwks(KEY)))
    cfg = tmp_path / "analyzer.cfg.toml"
    cfg.write_text(f'jwks_file = "keys.json"\n\n[[api]]\nname = "orders"\nhosts = ["orders.contoso.com"]\n'
                   f'audiences = ["{API}"]\nissuers = ["{T.issuer_v2(TENANT)}"]\n\n'
                   f'[[api]]\nname = "bare"\nhosts = ["bare.contoso.com"]\n')
    return build_settings(cfg, [], cache_dir=tmp_path / "cache", offline=True)


def checks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in result["checks"]}


def verdicts(result: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["verdict"] for c in result["checks"]}


# ----------------------------------------------------------------------------- shape and secrecy


def test_every_check_has_one_verdict_in_cause_order(no_keys: Settings) -> None:
    result = inspect(access(), no_keys, us(T0 + 60))
    assert [c["check"] for c in result["checks"]] == list(S.FAILURE_CAUSES)
    for c in result["checks"]:
        assert c["verdict"] in (PASS, FAIL, NOT_CHECKED)
        assert ("detail" in c) == (c["verdict"] != PASS), c  # why it failed or was not checked; nothing if it passed
    assert result["kind"] == S.KIND_ACCESS and result["cause"] == S.OK and result["causes"] == []
    assert result["claims"]["aud"] == API and result["header"] == {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    assert re.fullmatch(r"[0-9a-f]{16}", result["token_fp"])


@pytest.mark.parametrize("raw", ["{tok}", "Bearer {tok}", "  bearer {tok}\n", "Authorization: Bearer {tok}, extra"])
def test_the_result_never_holds_the_signature_or_the_token(no_keys: Settings, with_keys: Settings, raw: str) -> None:
    toks = [access(), T.tamper_signature(access()), access(SAME_KID),
            T.sign(T.id_token_claims(TENANT, CLIENT, iat=T0, seed=2), KEY)]
    for tok in toks:
        signature = tok.rsplit(".", 1)[1]
        for settings, api in ((no_keys, None), (with_keys, "orders")):
            text = json.dumps(inspect(raw.format(tok=tok), settings, us(T0 + 60), api), default=str)
            assert signature not in text and tok not in text


def test_a_bearer_prefix_and_surrounding_text_are_not_part_of_the_token(no_keys: Settings) -> None:
    tok = access()
    bare = inspect(tok, no_keys, us(T0))
    for raw in (f"Bearer {tok}", f"  bearer {tok}\n", f"Authorization: Bearer {tok}, extra"):
        got = inspect(raw, no_keys, us(T0))
        assert (got["token_fp"], got["cause"]) == (bare["token_fp"], S.OK)


# ----------------------------------------------------------------------------- times


def test_an_expired_token_fails_the_time_check_at_a_later_moment_only(no_keys: Settings) -> None:
    tok = access()
    late = inspect(tok, no_keys, us(T0 + 3600 + 2 * 3600))
    assert (late["cause"], checks(late)[S.EXPIRED]["verdict"]) == (S.EXPIRED, FAIL)
    assert checks(late)[S.EXPIRED]["detail"] == (f"expired 2 h 0 min before {late['judged_at']} (--at) "
                                                 "(leeway 300 s)")
    assert late["judged_at"] == "2026-05-28T23:26:40+00:00" and late["judged_at_now"] is False
    early = inspect(tok, no_keys, us(T0 + 60))
    assert (early["cause"], verdicts(early)[S.EXPIRED]) == (S.OK, PASS)


def test_the_leeway_is_allowed_on_both_sides(no_keys: Settings) -> None:
    tok = access()
    assert verdicts(inspect(tok, no_keys, us(T0 + 3600 + 299)))[S.EXPIRED] == PASS
    assert verdicts(inspect(tok, no_keys, us(T0 + 3600 + 301)))[S.EXPIRED] == FAIL
    assert verdicts(inspect(tok, no_keys, us(T0 - 299)))[S.NOT_YET_VALID] == PASS
    early = inspect(tok, no_keys, us(T0 - 3600))
    assert (early["cause"], verdicts(early)[S.NOT_YET_VALID]) == (S.NOT_YET_VALID, FAIL)
    assert checks(early)[S.NOT_YET_VALID]["detail"].startswith("not valid until ")


def test_without_a_moment_the_token_is_judged_now(no_keys: Settings) -> None:
    result = inspect(access(), no_keys)  # T0 + 1 h is long past
    assert result["judged_at_now"] is True and result["cause"] == S.EXPIRED
    assert checks(result)[S.EXPIRED]["detail"].endswith("before now (leeway 300 s)")


def test_readable_times_for_time_claims_and_none_for_nonsense(no_keys: Settings) -> None:
    result = inspect(access(auth_time="yesterday", pwd_exp=10**30, xms_tcdt=True), no_keys, us(T0))
    assert result["times"] == {"iat": "2026-05-28 20:26:40 UTC", "nbf": "2026-05-28 20:26:40 UTC",
                               "exp": "2026-05-28 21:26:40 UTC"}


def test_missing_time_claims_are_not_checked_and_say_why(no_keys: Settings) -> None:
    claims = T.access_token_claims(TENANT, API, CLIENT, iat=T0, scp="read", seed=1, omit=("exp", "nbf", "iat"))
    result = inspect(T.sign(claims, KEY), no_keys, us(T0))
    by = checks(result)
    assert by[S.EXPIRED] == {"check": S.EXPIRED, "verdict": NOT_CHECKED, "detail": "the token has no exp claim"}
    assert by[S.NOT_YET_VALID] == {"check": S.NOT_YET_VALID, "verdict": NOT_CHECKED,
                                   "detail": "the token has neither nbf nor iat"}
    assert result["cause"] == S.MISSING_CLAIMS and by[S.MISSING_CLAIMS]["verdict"] == FAIL


# ----------------------------------------------------------------------------- signature


def test_without_keys_nothing_about_the_signature_or_issuer_is_claimed(no_keys: Settings) -> None:
    result = inspect(access(SAME_KID), no_keys, us(T0))  # signed by a key nobody trusts: still unknown here
    by = checks(result)
    reason = "no signing keys are configured: add an [[issuer]] with its metadata_url, or pass --jwks FILE"
    assert by[S.UNKNOWN_KID] == by[S.BAD_SIGNATURE] | {"check": S.UNKNOWN_KID}
    assert by[S.BAD_SIGNATURE] == {"check": S.BAD_SIGNATURE, "verdict": NOT_CHECKED, "detail": reason}
    assert (result["signature_checked"], result["signature_not_checked_because"]) == (False, reason)
    assert by[S.ISSUER_MISMATCH]["verdict"] == NOT_CHECKED and "no --api" in by[S.ISSUER_MISMATCH]["detail"]
    assert by[S.AUDIENCE_MISMATCH]["verdict"] == NOT_CHECKED and "--api NAME" in by[S.AUDIENCE_MISMATCH]["detail"]


def test_with_the_issuers_keys_a_good_token_passes(with_keys: Settings) -> None:
    result = inspect(access(), with_keys, us(T0 + 60))
    assert result["signature_checked"] is True and result["signature_not_checked_because"] is None
    assert verdicts(result)[S.UNKNOWN_KID] == verdicts(result)[S.BAD_SIGNATURE] == PASS
    assert result["cause"] == S.OK


def test_a_token_signed_by_another_key_with_the_trusted_kid_fails(with_keys: Settings) -> None:
    result = inspect(access(SAME_KID), with_keys, us(T0 + 60))
    assert (result["cause"], result["signature_checked"]) == (S.BAD_SIGNATURE, False)
    assert verdicts(result)[S.UNKNOWN_KID] == PASS  # the kid's key was found: it just does not verify
    assert checks(result)[S.BAD_SIGNATURE]["verdict"] == FAIL
    assert result["signature_not_checked_because"] is None  # it was checked, and failed


def test_a_token_of_an_unknown_kid_cannot_be_judged_for_its_signature(with_keys: Settings) -> None:
    result = inspect(access(T.make_ec_key("other")), with_keys, us(T0 + 60))
    assert result["cause"] == S.UNKNOWN_KID and verdicts(result)[S.UNKNOWN_KID] == FAIL
    assert checks(result)[S.BAD_SIGNATURE] == {"check": S.BAD_SIGNATURE, "verdict": NOT_CHECKED,
                                               "detail": "no key with the token's kid was found"}


# ----------------------------------------------------------------------------- kinds and APIs


def test_an_id_token_presented_as_bearer_is_the_wrong_type(with_keys: Settings) -> None:
    tok = T.sign(T.id_token_claims(TENANT, CLIENT, iat=T0, seed=2), KEY)
    result = inspect(f"Bearer {tok}", with_keys, us(T0 + 60), "orders")
    by = checks(result)
    assert (result["kind"], result["cause"]) == (S.KIND_ID, S.WRONG_TOKEN_TYPE)
    assert by[S.WRONG_TOKEN_TYPE] == {"check": S.WRONG_TOKEN_TYPE, "verdict": FAIL, "detail": WRONG_TYPE_DETAIL}
    assert by[S.AUDIENCE_MISMATCH]["verdict"] == NOT_CHECKED  # its aud is the client: not the API's to judge
    assert "this is a id_token" in by[S.AUDIENCE_MISMATCH]["detail"]
    assert by[S.MISSING_NONCE]["verdict"] == NOT_CHECKED  # judged as a bearer token, not a sign-in response
    assert result["signature_checked"] is True  # the issuer's key signed it: the token is real, just misused


def test_an_api_judges_the_audience(with_keys: Settings) -> None:
    assert verdicts(inspect(access(), with_keys, us(T0), "orders"))[S.AUDIENCE_MISMATCH] == PASS
    graph = inspect(access(aud="https://graph.microsoft.com"), with_keys, us(T0), "orders")
    assert (graph["api"], graph["cause"]) == ("orders", S.AUDIENCE_MISMATCH)
    assert "https://graph.microsoft.com" in checks(graph)[S.AUDIENCE_MISMATCH]["detail"]
    bare = checks(inspect(access(), with_keys, us(T0), "bare"))[S.AUDIENCE_MISMATCH]
    assert bare == {"check": S.AUDIENCE_MISMATCH, "verdict": NOT_CHECKED, "detail": "the [[api]] bare lists no "
                    "audiences"}


def test_an_unknown_api_is_a_config_error_naming_the_known_ones(no_keys: Settings, with_keys: Settings) -> None:
    with pytest.raises(ConfigError, match=r"no \[\[api\]\] with that name in the config \(it has: orders, bare\)"):
        inspect(access(), with_keys, us(T0), "shipping")
    with pytest.raises(ConfigError, match="has no"):
        inspect(access(), no_keys, us(T0), "orders")


def test_a_client_assertion_is_judged_against_its_clients_certificates(no_keys: Settings, tmp_path: Path) -> None:
    cert, other = T.make_self_signed_cert(KEY), T.make_self_signed_cert(SAME_KID)
    tok = T.client_assertion(CLIENT, TENANT, KEY, cert, iat=T0, seed=3)
    result = inspect(tok, no_keys, us(T0 + 60))
    by = checks(result)
    assert result["kind"] == S.KIND_ASSERTION
    assert by[S.CLIENT_ASSERTION_KEY_MISMATCH] == {
        "check": S.CLIENT_ASSERTION_KEY_MISMATCH, "verdict": NOT_CHECKED,
        "detail": f"no [[client]] with certificate_thumbprints for client {CLIENT}"}
    assert by[S.BAD_SIGNATURE]["detail"].startswith("client assertion: signed with the client's own certificate")
    for client, registered, verdict in ((CLIENT, cert, PASS), (CLIENT, other, FAIL), ("another", other, NOT_CHECKED)):
        cfg = tmp_path / f"{verdict}.toml"
        cfg.write_text(f'[[client]]\nclient_id = "{client}"\ncertificate_thumbprints = ["{registered.sha1_hex}"]\n')
        settings = build_settings(cfg, [], cache_dir=tmp_path / "cache", offline=True)
        judged = inspect(tok, settings, us(T0 + 60))
        assert verdicts(judged)[S.CLIENT_ASSERTION_KEY_MISMATCH] == verdict, client
        assert judged["cause"] == (S.CLIENT_ASSERTION_KEY_MISMATCH if verdict == FAIL else S.OK)


def test_checks_that_do_not_apply_to_an_access_token_say_so(no_keys: Settings) -> None:
    by = checks(inspect(access(), no_keys, us(T0)))
    assert by[S.CLIENT_ASSERTION_KEY_MISMATCH] == {"check": S.CLIENT_ASSERTION_KEY_MISMATCH, "verdict": NOT_CHECKED,
                                                   "detail": "only judged for client assertions"}
    assert by[S.MISSING_NONCE]["verdict"] == NOT_CHECKED and "bearer token" in by[S.MISSING_NONCE]["detail"]
    assert by[S.WRONG_TOKEN_TYPE] == {"check": S.WRONG_TOKEN_TYPE, "verdict": PASS}


# ----------------------------------------------------------------------------- bad input is data


@pytest.mark.parametrize("raw", [
    "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0",  # two segments
    "eyJhbGciOiJSUzI1NiJ9.!!!notbase64!!!.c2ln",
    "eyJhbGciOiJSUzI1NiJ9.e30x.c2ln",  # base64url of a length that cannot be
    T.b64url(b"[1,2]") + "." + T.b64url(b'{"aud":"x"}') + ".c2ln",  # a header that is not an object
    T.b64url(b'{"alg":"RS256"}') + "." + T.b64url(b"\xff\xfe not json") + ".c2ln",
    "not a token at all",
])
def test_a_malformed_token_is_a_verdict_not_an_exception(no_keys: Settings, raw: str) -> None:
    result = inspect(raw, no_keys, us(T0))
    by = checks(result)
    assert result["cause"] == S.MALFORMED and by[S.MALFORMED]["verdict"] == FAIL and by[S.MALFORMED]["detail"]
    assert result["signature_checked"] is False and result["times"] == {}
    for cause in (S.EXPIRED, S.NOT_YET_VALID, S.AUDIENCE_MISMATCH):
        assert by[cause]["verdict"] == NOT_CHECKED, cause
    json.dumps(result)


def _with_raw_claims(extra: str) -> str:
    """A token signed by KEY over its claims plus `extra` (raw JSON members, escapes kept)."""
    base = T.access_token_claims(TENANT, API, CLIENT, iat=T0, scp="read", seed=1)
    payload = (json.dumps(base)[:-1] + ", " + extra + "}").encode()
    return T.sign_segments(T.b64url(json.dumps({"alg": "RS256", "kid": KEY.kid}).encode()), T.b64url(payload), KEY,
                           "RS256")


@pytest.mark.parametrize(("name", "extra"), [
    ("huge", '"big": "' + "x" * 2_000_000 + '", "many": [' + ",".join(["1"] * 200_000) + "]"),
    ("deep", '"deep": ' + "[" * 1020 + "1" + "]" * 1020 + ', "obj": ' + '{"a":' * 1000 + "1" + "}" * 1000),
    ("surrogates", '"appid": "\\ud800", "name": "\\udfff\\ud800", "x\\ud800": 1, "roles": ["\\udc80"]'),
    ("odd numbers", '"exp": 1e400, "nbf": -1e400, "iat": NaN, "n": ' + "9" * 4000),
])
def test_hostile_claims_do_not_raise_and_the_result_can_be_printed(with_keys: Settings, name: str,
                                                                   extra: str) -> None:
    """Before the fix, claims nested ~1000 deep (orjson reads 1024 levels) made `inspect --json` and the text
    output end with `internal error (RecursionError)`: Python's JSON writer recurses less deep than that."""
    tok = _with_raw_claims(extra)
    result = inspect(tok, with_keys, us(T0 + 60), "orders")
    assert result["cause"] in S.CAUSES and [c["check"] for c in result["checks"]] == list(S.FAILURE_CAUSES)
    text = json.dumps(result, default=str, ensure_ascii=False)  # as `inspect --json` prints it
    for value in result["claims"].values():
        json.dumps(value, ensure_ascii=False, default=str)  # as the text output prints each claim
    assert tok.rsplit(".", 1)[1] not in text
    if name == "deep":
        assert result["signature_checked"] is True  # a real, signed token: shown, just cut
        assert json.dumps(result["claims"]["deep"]).count("[") == 32  # 31 levels under the claims, then "[…]"
