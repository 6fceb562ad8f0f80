"""`analyzer inspect`: checks that did not run say "not checked" (and why), times are judged "now" or at
--at (never "before the request"), and --api judges audience and issuer as that [[api]] would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import jwts as T
import pytest
from typer.testing import CliRunner

from analyzer import schema as S
from analyzer.cli import app

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
API = "api://orders"
NOW = int(time.time())
KEY = T.make_rsa_key("k1")


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./analyzer.toml is picked up by accident


def token(key: T.KeyPair = KEY, **claims: Any) -> str:
    c = T.access_token_claims(TENANT, API, "c-1", iat=NOW - 60, exp=NOW + 3600, scp="read")
    c.update(claims)
    return T.sign(c, key)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "keys.json").write_text(json.dumps(T.jwks(KEY)))
    cfg = tmp_path / "analyzer.cfg.toml"
    cfg.write_text(f'jwks_file = "keys.json"\n\n[[api]]\nname = "orders"\nhosts = ["orders.contoso.com"]\n'
                   f'path_prefix = "/v1/"\naudiences = ["{API}"]\n'
                   f'issuers = ["https://login.microsoftonline.com/{{tenantid}}/v2.0"]\n\n'
                   f'[[api]]\nname = "billing"\nhosts = ["billing.contoso.com"]\naudiences = ["api://billing"]\n'
                   f'issuers = ["{T.issuer_v1(TENANT)}"]\n')
    return cfg


def inspect(*args: str) -> tuple[dict[str, Any], str]:
    """(the --json result with checks by name, the text output) of one token."""
    as_json = CliRunner().invoke(app, ["inspect", *args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    text = CliRunner().invoke(app, ["inspect", *args])
    assert text.exit_code == 0, text.output
    result = json.loads(as_json.stdout)
    result["by_check"] = {c["check"]: c for c in result["checks"]}
    return result, text.stdout


def test_without_keys_the_signature_is_not_checked_not_ok() -> None:
    """main printed `ok bad_signature` and `ok unknown_kid` for a token whose signature nobody checked."""
    result, text = inspect(T.tamper_signature(token()))
    assert result["cause"] == S.OK and result["signature_checked"] is False
    for check in (S.BAD_SIGNATURE, S.UNKNOWN_KID):
        assert result["by_check"][check]["verdict"] == "not checked"
        assert result["by_check"][check]["detail"].startswith("no signing keys are configured")
        assert f"not checked {check}: no signing keys are configured" in text
        assert f"ok          {check}" not in text
    assert "verdict: ok (signature not checked)" in text
    assert result["signature_not_checked_because"].startswith("no signing keys are configured")
    assert result["by_check"][S.AUDIENCE_MISMATCH]["verdict"] == "not checked"
    assert "--api NAME" in result["by_check"][S.AUDIENCE_MISMATCH]["detail"]
    assert result["by_check"][S.MALFORMED]["verdict"] == "pass"


def test_with_keys_the_signature_is_judged(config: Path) -> None:
    keys = str(config.parent / "keys.json")
    result, text = inspect(token(), "--jwks", keys)
    assert result["signature_checked"] and {result["by_check"][c]["verdict"]
                                            for c in (S.BAD_SIGNATURE, S.UNKNOWN_KID)} == {"pass"}
    assert "signature checked: yes" in text
    result, _ = inspect(T.tamper_signature(token()), "--jwks", keys)
    assert (result["cause"], result["by_check"][S.BAD_SIGNATURE]["verdict"]) == (S.BAD_SIGNATURE, "fail")
    assert result["by_check"][S.UNKNOWN_KID]["verdict"] == "pass"  # the kid's key was found
    result, _ = inspect(token(T.make_rsa_key("rogue")), "--jwks", keys)
    assert result["by_check"][S.UNKNOWN_KID]["verdict"] == "fail"
    assert result["by_check"][S.BAD_SIGNATURE] == {"check": S.BAD_SIGNATURE, "verdict": "not checked",
                                                   "detail": "no key with the token's kid was found"}


def test_times_are_judged_now_or_at_the_given_moment() -> None:
    """main said "expired ... before the request" when there was no request."""
    now = int(time.time())  # the module's NOW may be minutes old in a long test run
    old = token(iat=now - 9000, nbf=now - 9000, exp=now - 7200)
    result, text = inspect(old)
    assert result["judged_at_now"] is True and result["cause"] == S.EXPIRED
    assert re.fullmatch(r"expired 2 h [0-4] min before now \(leeway 300 s\)", result["detail"])
    # The text run reads the clock again: its "now" may be a second later than the JSON run's.
    shown = re.search(r"checks \(at now, (\S+?)[;)]", text)
    assert shown is not None, text
    seconds = datetime.fromisoformat(shown.group(1)) - datetime.fromisoformat(result["judged_at"])
    assert 0 <= seconds.total_seconds() <= 5
    result, text = inspect(old, "--at", "2026-01-01T00:00:00Z")
    assert result["judged_at_now"] is False and result["judged_at"] == "2026-01-01T00:00:00+00:00"
    assert result["by_check"][S.NOT_YET_VALID]["detail"].startswith("not valid until ")
    assert "after 2026-01-01T00:00:00+00:00 (--at)" in result["by_check"][S.NOT_YET_VALID]["detail"]
    assert "the request" not in text and "checks (at 2026-01-01T00:00:00+00:00;" in text
    expired, _ = inspect(token(), "--at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + 3 * 3600)))
    assert expired["by_check"][S.EXPIRED]["verdict"] == "fail"  # not the primary's detail: its own
    assert expired["by_check"][S.EXPIRED]["detail"] == "expired 2 h 0 min before {} (--at) (leeway 300 s)".format(
        expired["judged_at"])


def test_api_judges_audience_and_issuer_as_that_api_would(config: Path) -> None:
    cfg = str(config)
    result, text = inspect(token(), "--config", cfg, "--api", "orders")
    assert (result["cause"], result["api"]) == (S.OK, "orders")
    assert result["by_check"][S.AUDIENCE_MISMATCH] == {"check": S.AUDIENCE_MISMATCH, "verdict": "pass"}
    assert result["by_check"][S.ISSUER_MISMATCH] == {"check": S.ISSUER_MISMATCH, "verdict": "pass"}  # template
    assert "; API orders;" in text
    result, _ = inspect(token(), "--config", cfg, "--api", "billing")
    assert result["cause"] == S.AUDIENCE_MISMATCH
    assert result["causes"] == [S.AUDIENCE_MISMATCH, S.ISSUER_MISMATCH]
    assert "v2 endpoint of the right tenant" in result["by_check"][S.ISSUER_MISMATCH]["detail"]
    result, _ = inspect(token(tid=OTHER), "--config", cfg, "--api", "orders")  # iss of TENANT, tid of OTHER
    assert result["by_check"][S.ISSUER_MISMATCH]["verdict"] == "fail"
    assert f"tid is {OTHER}" in result["by_check"][S.ISSUER_MISMATCH]["detail"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.whole_run
def test_an_unknown_api_is_a_one_line_usage_error(config: Path) -> None:
    r = _cli("inspect", token(), "--config", str(config), "--api", "shipping")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "no [[api]] with that name" in r.stderr and "orders, billing" in r.stderr
    r = _cli("inspect", token(), "--api", "orders")
    assert r.returncode == 2 and "has no [[api]] entries" in r.stderr and "Traceback" not in r.stderr


def test_never_the_signature(config: Path) -> None:
    tok = token()
    for args in ([tok], [tok, "--json"], [tok, "--config", str(config), "--api", "orders"]):
        out = CliRunner().invoke(app, ["inspect", *args]).output
        assert tok.rsplit(".", 1)[1] not in out and tok not in out
