"""`analyzer inspect` on claims that would act on a terminal (bidi overrides) or carry another token.

Before the fix U+202E (right-to-left override) was printed raw, so a claim could reverse what the terminal
showed after it, and a JWT embedded in a claim was printed whole, signature included.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwts as T
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.tokens.privacy import TOKEN_REMOVED

TENANT = "11111111-2222-3333-4444-555555555555"
NOW = int(time.time())
KEY = T.make_rsa_key("k1")
# Overrides, embeddings, isolates and marks: each reorders or hides what follows it.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./analyzer.toml is picked up by accident


def _token(**claims: object) -> str:
    c = T.access_token_claims(TENANT, "api://orders", "c-1", iat=NOW - 60, exp=NOW + 3600, scp="read")
    c.update(claims)
    return T.sign(c, KEY)


def _outputs(tok: str) -> dict[str, str]:
    out = {}
    for name, extra in (("text", []), ("json", ["--json"])):
        r = CliRunner().invoke(app, ["inspect", tok, *extra])
        assert r.exit_code == 0, r.output
        out[name] = r.stdout
    return out


def test_bidi_and_invisible_characters_are_escaped_and_json_reads_back_the_same() -> None:
    app_name = f"app{BIDI}evil"
    out = _outputs(_token(app_name=app_name, roles=["r\u202eole"], **{"k\u2067ey": 1}))
    for name, text in out.items():
        assert not [c for c in BIDI if c in text], name
        assert "\\u202e" in text and "\\u2067" in text, name
    assert '  app_name: "app\\u202a\\u202b' in out["text"]
    result = json.loads(out["json"])  # the escapes are JSON's own: the value reads back unchanged
    assert result["claims"]["app_name"] == app_name and result["claims"]["roles"] == ["r\u202eole"]
    assert result["claims"]["k\u2067ey"] == 1


def test_a_token_inside_a_claim_is_not_printed() -> None:
    inner = T.sign({"sub": "x", "exp": 1}, None, "HS256", secret=b"s3cret-s3cret-s3cret-s3cret-s3cret")
    inner_ec = T.sign({"sub": "y"}, T.make_ec_key("ec1"))
    tok = _token(idp_access_token=inner, act={"sub": "svc", "token": inner_ec}, sig=inner_ec.split(".")[2])
    out = _outputs(tok)
    for name, text in out.items():
        for t in (inner, inner_ec):
            sig = t.split(".")[2]
            assert t not in text and sig[:20] not in text and sig[-20:] not in text, name
    claims = json.loads(out["json"])["claims"]
    assert claims["idp_access_token"] == TOKEN_REMOVED and claims["act"] == {"sub": "svc", "token": TOKEN_REMOVED}
    assert claims["sig"] == TOKEN_REMOVED
    assert claims["scp"] == "read" and claims["aud"] == "api://orders"  # the rest shown whole, as before
