"""What a scan's examples (examples.json, report.html) show of claims a denylist of top-level names missed.

Personal claims under other names (B2C `emails`, `mail`, `Email`, OIDC `phone_number`, `address`, ...),
nested in an object or put in the JOSE header are hashed unless --include-pii; a token embedded in a claim
(B2C `idp_access_token`, token exchange `actor_token`) or a bare signature is removed whatever
--include-pii says. Before the fix all of these were written in clear.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwts as T
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.tokens.privacy import TOKEN_REMOVED

pytestmark = pytest.mark.whole_run

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
KEY = T.make_rsa_key("personal-k1")

# Personal values under names the old denylist did not hold, nested, in the header, or personal by
# their look only (an e-mail address under a made-up name).
PERSONAL = {
    "emails": ["b2c.emails.value@contoso.com"],
    "Email": "capital.email.value@contoso.com",
    "mail": "mail.claim.value@contoso.com",
    "phone_number": "+15550001111",
    "nickname": "NickValueQ",
    "birthdate": "1981-02-03",
    "middle_name": "MiddleValueQ",
    "address": {"formatted": "7 Private Road"},
    "puid": "10037FFE9BADCAFE",
    "home_oid": "88888888-aaaa-bbbb-cccc-0123456789ab",
    "altsecid": "5::10037FFE9ALTSEC",
    "ctx": {"email": "nested.email.value@contoso.com", "people": [{"Name": "Nested Listed Name"}]},
    "contact_of_record": "look.alike.value@fabrikam.example.org",
}
HEADER_PERSONAL = {"upn": "header.upn.value@contoso.com"}
CLEAR = ["b2c.emails.value", "capital.email.value", "mail.claim.value", "+15550001111", "NickValueQ", "1981-02-03",
         "MiddleValueQ", "7 Private Road", "10037FFE9BADCAFE", "88888888-aaaa-bbbb-cccc-0123456789ab",
         "10037FFE9ALTSEC", "nested.email.value", "Nested Listed Name", "look.alike.value", "header.upn.value"]


def _embedded() -> dict[str, Any]:
    """Claims that carry whole tokens (short HS256, EC, RSA) or a bare signature."""
    inner_hs = T.sign({"sub": "x", "exp": 1}, None, "HS256", secret=b"s3cret-s3cret-s3cret-s3cret-s3cret")
    inner_ec = T.sign({"sub": "y", "aud": "z"}, T.make_ec_key("ec1"))
    inner_rs = T.sign(T.access_token_claims(TENANT, "api://other", CLIENT, seed=90), KEY)
    return {"idp_access_token": inner_rs, "actor_token": inner_hs, "act": {"sub": "svc", "token": inner_ec},
            "sigs": [inner_rs.split(".")[2]], "note": f"Bearer {inner_hs} was refused"}


def _fragments(tokens: list[str]) -> set[str]:
    """Whole tokens and every 20-character window of their signatures: none may show."""
    out = set(tokens)
    for tok in tokens:
        sig = tok.split(".")[2]
        out.update(sig[i:i + 20] for i in range(0, len(sig) - 19, 4))
    return out


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("personal")
    embedded = _embedded()
    claims = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=3)
    claims.update(PERSONAL)
    claims.update(embedded)
    outer = T.sign(claims, KEY, headers=HEADER_PERSONAL)
    logs = base / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /orders HTTP/1.1" 401 5 "-" '
                                f'"curl/8" "Bearer {outer}"\n')
    jwks = base / "keys.json"
    jwks.write_text(json.dumps(T.jwks(KEY)))
    outs = {}
    for name, extra in (("hashed", []), ("pii", ["--include-pii"])):
        out = base / name
        r = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--jwks", str(jwks), "--offline",
                                     "--quiet", "--workers", "1", *extra])
        assert r.exit_code == 0, r.output
        outs[name] = out
    inner = [embedded["idp_access_token"], embedded["actor_token"], embedded["act"]["token"]]
    return {"outs": outs, "secrets": _fragments([outer, *inner]), "outer": outer}


def _texts(out: Path) -> dict[str, str]:
    return {f: (out / f).read_text() for f in ("examples.json", "report.html", "run.json")}


def _example(out: Path) -> dict[str, Any]:
    examples = json.loads((out / "examples.json").read_text())
    shown = [ex for exs in examples.values() for ex in exs if ex.get("claims")]
    assert len(shown) == 1, examples
    return shown[0]


def test_personal_claims_of_any_name_case_depth_or_place_are_hashed(scans: dict[str, Any]) -> None:
    out = scans["outs"]["hashed"]
    leaks = [(f, v) for f, text in _texts(out).items() for v in CLEAR if v in text]
    assert not leaks, leaks
    ex = _example(out)
    claims, header = ex["claims"], ex["header"]
    for name in ("emails", "Email", "mail", "phone_number", "nickname", "birthdate", "middle_name", "address",
                 "puid", "home_oid", "altsecid", "contact_of_record"):
        assert claims[name].startswith("h:"), (name, claims[name])
    assert claims["ctx"]["email"].startswith("h:")
    assert claims["ctx"]["people"][0]["Name"].startswith("h:")
    assert header["upn"].startswith("h:") and header["kid"] == "personal-k1" and header["alg"] == "RS256"
    assert claims["aud"] == "api://orders" and claims["scp"] == "read"  # what diagnoses stays in clear


def test_include_pii_shows_them_in_clear(scans: dict[str, Any]) -> None:
    out = scans["outs"]["pii"]
    ex = _example(out)
    assert ex["claims"]["Email"] == PERSONAL["Email"] and ex["claims"]["emails"] == PERSONAL["emails"]
    assert ex["claims"]["ctx"]["email"] == PERSONAL["ctx"]["email"]
    assert ex["header"]["upn"] == HEADER_PERSONAL["upn"]
    report = (out / "report.html").read_text()  # the page writes `@` as a character reference
    assert "look.alike.value" in report and "MiddleValueQ" in report


@pytest.mark.parametrize("which", ["hashed", "pii"])
def test_tokens_and_signatures_in_claims_are_removed_whatever_include_pii_says(scans: dict[str, Any],
                                                                             which: str) -> None:
    out = scans["outs"][which]
    leaks = [(f, s[:12]) for f, text in _texts(out).items() for s in scans["secrets"] if s in text]
    assert not leaks, leaks[:5]
    claims = _example(out)["claims"]
    assert claims["idp_access_token"] == TOKEN_REMOVED and claims["actor_token"] == TOKEN_REMOVED
    assert claims["act"]["token"] == TOKEN_REMOVED and claims["sigs"] == [TOKEN_REMOVED]
    assert claims["note"] == TOKEN_REMOVED
    assert TOKEN_REMOVED in (out / "report.html").read_text()
