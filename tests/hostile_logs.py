"""Signed tokens and nginx lines for the hostile-input tests, and an in-process scan of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwts as T

from analyzer.config import build_settings
from analyzer.run import run

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
KEY = T.make_rsa_key("hostile-k1")
TS = "[10/Oct/2024:13:55:36 +0000]"


def token(**extra: Any) -> str:
    """A well-formed, signed user access token."""
    claims = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=1)
    claims.update(extra)
    return T.sign(claims, KEY)


def raw_token(claims: Any, header: dict[str, Any] | None = None) -> str:
    """A token signed over whatever JSON is given (PyJWT refuses odd claim types)."""
    hdr = {"alg": "RS256", "kid": KEY.kid, **(header or {})}
    return T.sign_segments(T.b64url_json(hdr), T.b64url_json(claims), KEY, "RS256")


def nginx_line(tok: str) -> str:
    return f'10.0.0.1 - - {TS} "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {tok}"\n'


def scan(out: Path, *inputs: Path, **flags: Any) -> dict[str, Any]:
    """Run the pipeline in this process; the run summary (as in run.json)."""
    paths = [str(p) for p in inputs]
    settings = build_settings(None, paths, out_dir=out, workers=1, offline=True, **flags)
    outcome = run(settings, paths)
    assert outcome.exit_code == outcome.summary["exit_code"]
    return outcome.summary
