"""A small log with several owners, causes and hostile values, scanned into an output directory.

Used by the report tests: tokens are signed at test time with a throwaway key (tests/jwts.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwts as T

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


# --------------------------------------------------------------------------- a larger corpus
# Many clients, APIs and causes, and long hostile values: what the report's layout must survive.
LARGE_APIS = ("orders", "inventory", "billing-api", "shipping", "payments", "catalog", "reporting",
              "customer-profile", "notifications", "search", "pricing", "warehouse-management-system")
LONG_HOST = "a" * 90 + ".very-long-internal-hostname-without-breaks.contoso.com"
LONG_HOSTILE = "<svg onload=alert(1)>" + "x" * 260 + "\u202e" + "javascript:alert(2)"
TOP_CLIENT_NAME = "payroll-nightly-export-job"  # the client failing most in the large corpus
TOP_API_NAME = "payments"  # the API failing most


def _guid(i: int, kind: int) -> str:
    return f"{kind:08x}-1111-2222-3333-{i:012x}"


def write_large_corpus(root: Path) -> tuple[Path, Path]:
    """Write logs and a config with 12 APIs, 40 clients, most causes and long hostile values."""
    key = T.make_rsa_key("large-k1")
    old = T.make_rsa_key("large-old")
    cert_key = T.make_rsa_key("large-cert")
    registered = T.make_self_signed_cert(cert_key, "registered")
    signer = T.make_rsa_key("large-cert-2")
    unregistered = T.make_self_signed_cert(signer, "unregistered")
    (root / "jwks.json").write_text(json.dumps(T.jwks(key)))
    apis = {name: (f"{name}.contoso.com", f"api://{name}", _guid(j, 0xA)) for j, name in enumerate(LARGE_APIS)}
    clients = {_guid(i, 0xC): (f"client-{i:02d}-{LARGE_APIS[i % 12]}-consumer" if i % 5 else "") for i in range(40)}
    top = _guid(3, 0xC)
    clients[top] = TOP_CLIENT_NAME
    conf = ['jwks_file = "jwks.json"']
    for name, (host, uri, gid) in apis.items():
        conf.append(f'[[api]]\nname = "{name}"\nhosts = ["{host}"]\naudiences = ["{uri}", "{gid}"]\n'
                    f'issuers = ["{T.issuer_v2(TENANT)}"]')
    for cid, name in clients.items():
        if name:
            extra = f'\ncertificate_thumbprints = ["{T.cert_sha1_hex(registered.cert)}"]' if cid == top else ""
            conf.append(f'[[client]]\nclient_id = "{cid}"\nname = "{name}"{extra}')
    (root / "analyzer.toml").write_text("\n".join(conf) + "\n")

    lines: list[str] = []
    names = list(apis)
    for i, cid in enumerate(clients):
        for k in range(3):
            api = names[(i + k) % len(names)]
            host, uri, _ = apis[api]
            good = T.sign(T.access_token_claims(TENANT, uri, cid, iat=BASE, lifetime=2 * 86400, seed=i * 7 + k), key)
            for m in range(6):
                lines.append(_line(BASE + timedelta(minutes=37 * m + i), host, good, 200))
        host, uri, gid = apis[names[i % len(names)]]
        cause = i % 8
        if cause == 0:  # expired: not refreshing
            bad = T.sign(T.access_token_claims(TENANT, uri, cid, iat=BASE - timedelta(hours=6), seed=i), key)
        elif cause == 1:  # a Microsoft Graph token at the API
            bad = T.sign(T.access_token_claims(TENANT, "00000003-0000-0000-c000-000000000000", cid, iat=BASE,
                                               lifetime=86400, seed=i), key)
        elif cause == 2:  # v1 issuer where v2 is expected
            bad = T.sign(T.access_token_claims(TENANT, gid, cid, version="1.0", iat=BASE, lifetime=86400, seed=i), key)
        elif cause == 3:  # a rotated-out key
            bad = T.sign(T.access_token_claims(TENANT, uri, cid, iat=BASE, lifetime=86400, seed=i), old)
        elif cause == 4:
            bad = T.tamper_signature(T.sign(T.access_token_claims(TENANT, uri, cid, iat=BASE, lifetime=86400,
                                                                  seed=i), key))
        elif cause == 5:  # an ID token as a bearer token
            bad = T.sign(T.id_token_claims(TENANT, cid, iat=BASE, lifetime=86400, nonce="n", seed=i), key)
        elif cause == 6:
            bad = T.unsigned(T.access_token_claims(TENANT, uri, cid, iat=BASE, lifetime=86400, seed=i))
        else:
            bad = T.sign(T.access_token_claims(TENANT, uri, cid, iat=BASE + timedelta(hours=2), seed=i), key)
        for m in range(1 + i % 4):
            lines.append(_line(BASE + timedelta(minutes=53 * m + 3 * i), host, bad, 401))
    # The top client: client assertions signed with an unregistered certificate, and failures at payments.
    login = "login.microsoftonline.com"
    for m in range(30):
        t = BASE + timedelta(minutes=11 * m)
        assertion = T.client_assertion(top, TENANT, signer, unregistered, iat=t, seed=m)
        lines.append(_line(t, login, assertion, 401))
        pay_host, _, _ = apis[TOP_API_NAME]
        late = T.sign(T.access_token_claims(TENANT, f"api://{TOP_API_NAME}", top, iat=t - timedelta(hours=3),
                                            seed=100 + m), key)
        lines.append(_line(t, pay_host, late, 401))
        other = T.sign(T.access_token_claims(TENANT, "00000003-0000-0000-c000-000000000000", _guid(m % 7, 0xC),
                                             iat=t, lifetime=86400, seed=200 + m), key)
        lines.append(_line(t, pay_host, other, 401))
    # Unreadable tokens, and long hostile values in every place a value can come from.
    for m in range(8):
        t = BASE + timedelta(minutes=7 * m)
        lines.append(_line(t, apis["orders"][0], T.truncate(good, 60 + m), 401))
        lines.append(_line(t, apis["search"][0], T.jwe_like(seed=m), 401))
        hostile = T.sign(T.access_token_claims(TENANT, LONG_HOSTILE + str(m % 2), LONG_HOSTILE,
                                               iat=t - timedelta(hours=5), scp="read " * 40, seed=300 + m), key)
        lines.append(_line(t, LONG_HOST, hostile, 401))
    logs = root / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("\n".join(lines) + "\n")
    return logs, root / "analyzer.toml"


def scan_large(root: Path) -> Path:
    """Scan the large corpus into root/out (offline, one run)."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    logs, config = write_large_corpus(root)
    out = root / "out"
    result = CliRunner().invoke(app, ["scan", str(logs), "--config", str(config), "--out", str(out), "--quiet",
                                      "--offline"])
    assert result.exit_code in (0, 1), result.output
    return out
