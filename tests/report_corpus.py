"""A small log with several owners, causes and hostile values, scanned into an output directory.

Used by the report tests: tokens are signed at test time with a throwaway key (tests/tokens.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tokens as T

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
BASE = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
GOOD = "0a0a0a0a-good-client"
EXPIRING = "0b0b0b0b-expiring-client"
HOSTILE = "<img src=x onerror=alert(1)>"
BIDI = "evil\u202egnp.exe\x07"
HOSTILE_AUD = "<script>alert(1)</script>"
SECRET_HOST = "secret-payroll.internal"
EXPIRING_HOST = "orders.contoso.com"


def _line(t: datetime, host: str, token: str, status: int) -> str:
    ts = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'10.0.0.1 - - [{ts}] "GET /api/v1/items HTTP/1.1" {status} 12 "-" "curl/8" "{host}" "Bearer {token}"'
    )


def write_corpus(root: Path) -> tuple[Path, Path, Path]:
    """Write logs, a key set and a config under root; return (log dir, jwks file, config file)."""
    key = T.make_rsa_key("k1")
    (root / "jwks.json").write_text(json.dumps(T.jwks(key)))
    (root / "analyzer.toml").write_text(
        f'jwks_file = "jwks.json"\n'
        f'[[api]]\nname = "orders"\nhosts = ["{EXPIRING_HOST}", "{SECRET_HOST}"]\n'
        f'audiences = ["api://orders"]\nissuers = ["{T.issuer_v2(TENANT)}"]\n'
        f'[[client]]\nclient_id = "{GOOD}"\nname = "billing-job"\n'
    )
    good = T.sign(T.access_token_claims(TENANT, "api://orders", GOOD, iat=BASE, lifetime=86400, seed=1), key)
    expiring = T.sign(
        T.access_token_claims(TENANT, "api://orders", EXPIRING, iat=BASE - timedelta(hours=5), seed=2), key
    )
    hostile = T.sign(
        T.access_token_claims(
            TENANT,
            HOSTILE_AUD,
            HOSTILE,
            iat=BASE,
            lifetime=86400,
            scp="read",
            seed=3,
            extra={"xss": "<img src=x onerror=alert(1)>", "link": "javascript:alert(1)", "bidi": BIDI},
        ),
        key,
    )
    other_iss = T.sign(
        T.access_token_claims(OTHER_TENANT, "api://orders", BIDI, iat=BASE, lifetime=86400, seed=4), key
    )
    lines = []
    for i in range(48):
        t = BASE + timedelta(minutes=i * 10)
        lines.append(_line(t, SECRET_HOST, good, 200))
        if i % 2:
            lines.append(_line(t, EXPIRING_HOST, expiring, 401))
        if i % 6 == 0:
            lines.append(_line(t, EXPIRING_HOST, hostile, 401))
        if i % 8 == 0:
            lines.append(_line(t, EXPIRING_HOST, other_iss, 401))
    logs = root / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join(lines) + "\n")
    return logs, root / "jwks.json", root / "analyzer.toml"


def scan(root: Path, runs: int = 2) -> Path:
    """Scan the corpus (twice by default, so the report has a previous run to compare with)."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    logs, _, config = write_corpus(root)
    out = root / "out"
    for _ in range(runs):
        result = CliRunner().invoke(
            app, ["scan", str(logs), "--config", str(config), "--out", str(out), "--quiet", "--offline"]
        )
        assert result.exit_code == 0, result.output
    return out
