#!/usr/bin/env python3
"""Regenerate sample_logs/ (and tests/data/sample_truth.csv) from the committed DEMO-ONLY keys.

    python scripts/make_sample_logs.py            # same bytes on every run
    python scripts/make_sample_logs.py --new-keys # new demo keys, so new tokens and a new jwks.json

Writes, under sample_logs/:
  demo-keys/DEMO-ONLY-<kid>.pem  throwaway RSA private keys, made on the first run and reused after.
                                 DEMO ONLY: they sign nothing but these samples. Never trust them.
  demo-keys/*.crt                the billing-job client certificates (one registered, one not)
  jwks.json                      the demo tenant's published keys: demo-2026-11 (signs everything),
                                 demo-2026-12 (published, unused). NOT old-2026-10 (retired key).
  analyzer.toml                  config for these logs (contract.md): leeway, issuer, 2 APIs, clients
  nginx/orders-access.log        ingress for orders.contoso.com, 12:00-23:59 UTC
  nginx/orders-access.log.1.gz   the same, rotated: 00:00-11:59 UTC (gzip, mtime 0)
  nginx/egress-access.log        egress proxy to login.microsoftonline.com (token requests)
  app/inventory-api.jsonl        ASP.NET Core app log (Serilog compact JSON) of inventory.contoso.com
  envoy/gateway.log              Envoy gateway in front of inventory.contoso.com
and tests/data/sample_truth.csv: source,line,cause,location - one row per token occurrence, with the
intended primary cause (contract.md order). All requests happen on 2026-11-26 (UTC).

Line formats (every field is always present; "-" when empty):

  nginx (both nginx/ files):
    log_format tokens '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                      '"$http_referer" "$http_user_agent" "$http_authorization" "$host" "$request_body"';
    i.e. the combined format plus three quoted fields: Authorization header, Host, request body.
    203.0.113.7 - - [26/Nov/2026:03:14:15 +0000] "GET /v1/orders/42 HTTP/1.1" 200 123 "-" "ua" \
        "Bearer eyJ..." "orders.contoso.com" "-"
    Tokens also sit in the request URI (`?access_token=eyJ...`, sometimes followed by `&...`) and in
    form bodies (`POST /signin-oidc` with `id_token=eyJ...&state=...`; egress
    `POST /<tenant>/oauth2/v2.0/token` with `...&client_assertion=eyJ...&...`).

  envoy/gateway.log: Envoy's default format plus "%REQ(AUTHORIZATION)%":
    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
    %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
    "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%"
    "%UPSTREAM_HOST%" "%REQ(AUTHORIZATION)%"
    The log shipper cuts lines at 2048 bytes: one client's oversized token (40 groups) is cut inside
    its payload (no closing quote; the line still ends with a newline). All other lines are shorter.

  app/inventory-api.jsonl: one JSON object per line, Serilog compact keys:
    {"@t":"2026-11-26T03:14:15.123Z","@mt":"HTTP {RequestMethod} {RequestPath} responded ...",
     "RequestHost":"inventory.contoso.com","RequestMethod":"GET","RequestPath":"/items",
     "QueryString":"","StatusCode":401,"Elapsed":1.2,"ClientIp":"10.20.1.5",
     "Headers":{"Authorization":"Bearer eyJ...","User-Agent":"..."}}
    Failed validations are preceded by a JwtBearerHandler line with the IDX error in "@x" (no token).
    Tokens also sit in a "Token" field (location json_field) and inside "@mt" free text (text).

Junk lines (no token): a `Bearer REDACTED` header, a ~200 KB request of `A`s, a ~48 KB run of
`eyJeyJ...` (quadratic-regex trap), invalid UTF-8 bytes in an Envoy User-Agent.

The demo keys in sample_logs/demo-keys/ are throwaway keys for these samples only.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import jwts as T  # noqa: E402  (tests/jwts.py, the shared token factory)

OUT = ROOT / "sample_logs"
KEYS_DIR = OUT / "demo-keys"
TRUTH = ROOT / "tests" / "data" / "sample_truth.csv"

SEED = 20261126
DAY0 = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp())
H = 3600  # seconds
M = 60
LEEWAY = 300
ENVOY_LINE_LIMIT = 2048

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
ISS_V2 = T.issuer_v2(TENANT)
ORDERS_HOST = "orders.contoso.com"
INVENTORY_HOST = "inventory.contoso.com"
LOGIN_HOST = "login.microsoftonline.com"
ORDERS_APP = "6e7c1b0a-0000-0000-0000-000000000001"  # the orders API's client id (aud of v2 tokens)
INVENTORY_APP = "6e7c1b0a-0000-0000-0000-000000000003"

# Client apps (name -> client id). All appear in analyzer.toml as [[client]] with their names.
CLIENTS: dict[str, str] = {
    "billing-job": "6e7c1b0a-0000-0000-0000-000000000002",
    "orders-web": "6e7c1b0a-0000-0000-0000-000000000010",
    "orders-cli": "6e7c1b0a-0000-0000-0000-000000000011",
    "inventory-sync": "6e7c1b0a-0000-0000-0000-000000000012",
    "warehouse-scanner": "6e7c1b0a-0000-0000-0000-000000000013",
    "legacy-portal": "6e7c1b0a-0000-0000-0000-000000000014",
    "reporting-dashboard": "6e7c1b0a-0000-0000-0000-000000000015",
    "partner-integration": "6e7c1b0a-0000-0000-0000-000000000016",
    "kiosk-app": "6e7c1b0a-0000-0000-0000-000000000017",
    "mobile-app": "6e7c1b0a-0000-0000-0000-000000000018",
    "batch-importer": "6e7c1b0a-0000-0000-0000-000000000019",
    "label-printer": "6e7c1b0a-0000-0000-0000-00000000001a",
    "shipping-bot": "6e7c1b0a-0000-0000-0000-00000000001b",
    "analytics-pipeline": "6e7c1b0a-0000-0000-0000-00000000001c",
    "warehouse-manager": "6e7c1b0a-0000-0000-0000-00000000001d",
    "replenishment-worker": "6e7c1b0a-0000-0000-0000-00000000001e",
    "report-exporter": "6e7c1b0a-0000-0000-0000-00000000001f",
    "orders-admin": "6e7c1b0a-0000-0000-0000-000000000020",
}

SIGNING_KIDS = ("demo-2026-11", "demo-2026-12")  # published in jwks.json; the first signs
OLD_KID = "old-2026-10"  # retired signing key: NOT in jwks.json -> unknown_kid
CERT_REGISTERED = "billing-job-2026"  # its certificate's thumbprint is in analyzer.toml
CERT_UNREGISTERED = "billing-job-2027"  # renewed certificate, never uploaded
ALL_KIDS = (*SIGNING_KIDS, OLD_KID, CERT_REGISTERED, CERT_UNREGISTERED)

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# --------------------------------------------------------------------------- keys and certificates


@dataclass(frozen=True)
class Keys:
    signing: T.KeyPair  # demo-2026-11, with a certificate (x5t/x5c in the JWK)
    spare: T.KeyPair  # demo-2026-12
    old: T.KeyPair
    registered: T.KeyPair
    unregistered: T.KeyPair
    registered_cert: T.SelfSignedCert
    unregistered_cert: T.SelfSignedCert


def load_keys(new: bool) -> Keys:
    """Demo keys from sample_logs/demo-keys/, made there first when missing (or with --new-keys)."""
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    loaded: dict[str, T.KeyPair] = {}
    for kid in ALL_KIDS:
        path = KEYS_DIR / f"DEMO-ONLY-{kid}.pem"
        if new or not path.exists():
            path.write_bytes(T.make_rsa_key(kid).private_pem())
        loaded[kid] = T.load_key(path, kid)
    (KEYS_DIR / "README.md").write_text(
        "# DEMO-ONLY keys\n\n"
        "Throwaway demo keys made by `scripts/make_sample_logs.py` to sign the sample tokens in\n"
        "`sample_logs/`. They protect nothing and must never be trusted or used for anything real.\n"
        "`python scripts/make_sample_logs.py --new-keys` replaces them.\n\n"
        "- `DEMO-ONLY-demo-2026-11.pem`: signs the sample tokens; published in `../jwks.json`\n"
        "- `DEMO-ONLY-demo-2026-12.pem`: published in `../jwks.json`, signs nothing\n"
        "- `DEMO-ONLY-old-2026-10.pem`: retired key, not in `../jwks.json` (tokens give `unknown_kid`)\n"
        "- `DEMO-ONLY-billing-job-2026.pem` + `billing-job-2026.crt`: billing-job's registered certificate\n"
        "- `DEMO-ONLY-billing-job-2027.pem` + `billing-job-2027-NOT-REGISTERED.crt`: its renewed\n"
        "  certificate that was never uploaded (`client_assertion_key_mismatch`)\n",
        encoding="utf-8",
    )

    def with_cert(kid: str) -> T.KeyPair:
        cert = T.make_self_signed_cert(loaded[kid], f"{kid} DEMO ONLY", datetime(2026, 9, 1, tzinfo=UTC))
        return loaded[kid].with_cert(cert.cert)

    reg = T.make_self_signed_cert(
        loaded[CERT_REGISTERED], "billing-job", datetime(2026, 1, 5, tzinfo=UTC), 365
    )
    unreg = T.make_self_signed_cert(
        loaded[CERT_UNREGISTERED], "billing-job", datetime(2026, 11, 20, tzinfo=UTC), 365
    )
    (KEYS_DIR / "billing-job-2026.crt").write_bytes(reg.pem)
    (KEYS_DIR / "billing-job-2027-NOT-REGISTERED.crt").write_bytes(unreg.pem)
    return Keys(
        with_cert(SIGNING_KIDS[0]),
        with_cert(SIGNING_KIDS[1]),
        with_cert(OLD_KID),
        loaded[CERT_REGISTERED],
        loaded[CERT_UNREGISTERED],
        reg,
        unreg,
    )


# --------------------------------------------------------------------------- lines and formats


@dataclass
class Line:
    t: int  # ms since the epoch
    seq: int
    data: bytes
    cause: str | None = None
    location: str | None = None


@dataclass
class LogFile:
    lines: list[Line] = field(default_factory=list)

    def add(self, t: int, data: str | bytes, cause: str | None = None, location: str | None = None) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        self.lines.append(Line(t, len(self.lines), raw, cause, location))

    def sorted(self) -> list[Line]:
        return sorted(self.lines, key=lambda ln: (ln.t, ln.seq))


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def nginx_time(t: int) -> str:
    d = datetime.fromtimestamp(t // 1000, UTC)
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S} +0000"


def iso_ms(t: int) -> str:
    d = datetime.fromtimestamp(t // 1000, UTC)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{t % 1000:03d}Z"


def nginx_line(
    t: int,
    ip: str,
    method: str,
    target: str,
    status: int,
    size: int,
    ua: str,
    auth: str | None = None,
    host: str = ORDERS_HOST,
    body: str | None = None,
    referer: str = "-",
) -> str:
    return (
        f'{ip} - - [{nginx_time(t)}] "{method} {target} HTTP/1.1" {status} {size} "{referer}" "{ua}" '
        f'"{auth or "-"}" "{host}" "{body or "-"}"'
    )


def envoy_line(
    t: int,
    method: str,
    path: str,
    status: int,
    tx: int,
    ua: str,
    rid: str,
    xff: str,
    auth: str | None = None,
    host: str = INVENTORY_HOST,
    rx: int = 0,
    dur: int = 3,
    upstream: str = "10.1.2.3:8080",
) -> str:
    ust = str(max(dur - 1, 1))
    return (
        f'[{iso_ms(t)}] "{method} {path} HTTP/1.1" {status} - {rx} {tx} {dur} {ust} "{xff}" "{ua}" '
        f'"{rid}" "{host}" "{upstream}" "{auth or "-"}"'
    )


def jsonl(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def poisson(rng: random.Random, start: float, end: float, per_hour: float) -> list[int]:
    """Request times (ms) of a Poisson process between two offsets (seconds into the day)."""
    out: list[int] = []
    t = start
    while True:
        t += rng.expovariate(per_hour / H)
        if t >= end:
            return out
        out.append(DAY0 * 1000 + ms(t))


def spread(rng: random.Random, start: float, end: float, n: int) -> list[int]:
    """`n` request times (ms), uniformly spread between two offsets (seconds into the day)."""
    return sorted(DAY0 * 1000 + ms(rng.uniform(start, end)) for _ in range(n))


def at(hours: float) -> float:
    """Seconds into the sample day."""
    return hours * H


def rid(rng: random.Random) -> str:
    return T.fake_guid(rng)


# --------------------------------------------------------------------------- token minting


class Minter:
    """Mints the sample tokens: all RS256 with the demo signing key unless told otherwise."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys

    def access(
        self,
        rng: random.Random,
        client: str,
        iat: int,
        *,
        aud: str = ORDERS_APP,
        version: str = "2.0",
        scp: str | None = None,
        roles: list[str] | None = None,
        user: T.User | None = None,
        key: T.KeyPair | None = None,
        tenant: str = TENANT,
        lifetime: int | None = None,
        client_auth: int = 0,
        extra: dict[str, Any] | None = None,
        omit: tuple[str, ...] = (),
    ) -> tuple[str, dict[str, Any]]:
        life = lifetime if lifetime is not None else rng.randint(3600, 5400)
        claims = T.access_token_claims(
            tenant,
            aud,
            CLIENTS.get(client, client),
            version,
            iat=iat,
            exp=iat + life,
            scp=scp,
            roles=roles,
            user=user,
            client_auth=client_auth,
            seed=rng,
            extra=extra,
            omit=omit,
        )
        key = key or self.keys.signing
        headers = {"x5t": x5t_of(key)} if version == "1.0" else None
        return T.sign(claims, key, "RS256", headers), claims

    def id_token(
        self, rng: random.Random, client: str, iat: int, user: T.User, nonce: bool = True
    ) -> tuple[str, dict[str, Any]]:
        claims = T.id_token_claims(
            TENANT,
            CLIENTS[client],
            iat=iat,
            exp=iat + 3600,
            user=user,
            seed=rng,
            nonce=T.b64url(rng.randbytes(24)) if nonce else None,
        )
        return T.sign(claims, self.keys.signing, "RS256"), claims

    def session(self, rng: random.Random, client: str, **kw: Any) -> Session:
        """A Session whose tokens are `access(rng, client, iat, **kw)`."""
        return Session(rng, lambda iat: self.access(rng, client, iat, **kw))


def x5t_of(key: T.KeyPair) -> str:
    """The x5t of a signing key's certificate (v1 and Graph tokens carry it next to the kid)."""
    if key.cert is None:
        raise ValueError(f"key {key.kid} has no certificate")
    return T.cert_x5t(key.cert)


class Session:
    """One client's tokens: reuse the current one, get a new one 5-10 minutes before it expires."""

    def __init__(self, rng: random.Random, mint: Callable[[int], tuple[str, dict[str, Any]]]) -> None:
        self.rng = rng
        self.mint = mint
        self.tokens: list[tuple[int, int, str]] = []  # (iat, use-until, token)

    def at(self, t_ms: int) -> str:
        t = t_ms // 1000
        for iat, until, tok in reversed(self.tokens):
            if iat <= t <= until:
                return tok
        iat = t - self.rng.randint(20, 240)
        tok, claims = self.mint(iat)
        self.tokens.append((iat, claims["exp"] - self.rng.randint(300, 600), tok))
        return tok


def first_use(seen: set[str], tok: str) -> bool:
    if tok in seen:
        return False
    seen.add(tok)
    return True


# --------------------------------------------------------------------------- shared schedules


@dataclass
class Shared:
    """Token schedules used in more than one file."""

    billing_good: list[int]  # ms: successful token requests (client assertion ok)
    billing_bad: list[int]  # ms: failed token requests (unregistered certificate)
    billing_tokens: list[tuple[int, int, str]]  # (iat s, use-until s, access token for orders)
    inventory_sync: list[tuple[int, int, str]]  # (iat s, use-until s, token), back to back all day


def plan_shared(minter: Minter) -> Shared:
    rng = random.Random(f"{SEED}-billing")
    good: list[int] = []
    toks: list[tuple[int, int, str]] = []
    t = DAY0 + 3 * M + rng.randint(0, 59)
    rotation = DAY0 + 14 * H + 5 * M  # the renewed (unregistered) certificate is deployed here
    while t < rotation:
        good.append(t * 1000 + rng.randint(0, 999))
        tok, claims = minter.access(
            rng, "billing-job", t + 1, roles=["Orders.ReadWrite.All"], client_auth=2, extra={"idtyp": "app"}
        )
        until = claims["exp"] - rng.randint(300, 600)
        toks.append((t + 1, until, tok))
        t = until
    bad: list[int] = []
    while t < DAY0 + 24 * H - 60:
        bad.append(t * 1000 + rng.randint(0, 999))
        t += rng.randint(8 * M, 12 * M)
    # inventory-sync: a daemon with one token at a time, renewed 5-10 minutes before it expires.
    irng = random.Random(f"{SEED}-inventory-sync")
    inv: list[tuple[int, int, str]] = []
    t = DAY0 - irng.randint(5 * M, 50 * M)
    while t < DAY0 + 24 * H:
        tok, claims = minter.access(
            irng, "inventory-sync", t, aud=INVENTORY_APP, roles=["Inventory.Read.All"], client_auth=1
        )
        until = claims["exp"] - irng.randint(300, 600)
        inv.append((t, until, tok))
        t = until
    return Shared(good, bad, toks, inv)


def token_at(schedule: list[tuple[int, int, str]], t_ms: int) -> str | None:
    t = t_ms // 1000
    for iat, until, tok in schedule:
        if iat <= t <= until:
            return tok
    return None


# --------------------------------------------------------------------------- orders (nginx)


def orders_log(minter: Minter, shared: Shared) -> LogFile:
    rng = random.Random(f"{SEED}-orders")
    log = LogFile()
    keys = minter.keys

    def api(
        t: int,
        ip: str,
        ua: str,
        auth: str | None,
        cause: str | None,
        method: str = "GET",
        target: str | None = None,
        scheme: str = "Bearer",
    ) -> None:
        target = target or rng.choice(
            [
                f"/v1/orders/{rng.randint(1000, 9999)}",
                "/v1/orders?status=open&page=1",
                f"/v1/orders?customer={rng.randint(100, 999)}",
                f"/v1/orders/{rng.randint(1000, 9999)}/lines",
            ]
        )
        status = 200 if cause == "ok" else 401
        size = rng.randint(300, 4000) if status == 200 else 0
        header = f"{scheme} {auth}" if auth else None
        log.add(
            t,
            nginx_line(t, ip, method, target, status, size, ua, header),
            cause,
            "authorization_header" if auth else None,
        )

    # Background: health probes, anonymous pages, scanners.
    for t in poisson(rng, 0, 24 * H, 50):
        log.add(t, nginx_line(t, "10.244.0.1", "GET", "/healthz", 200, 2, "kube-probe/1.29"))
    for t in poisson(rng, 0, 24 * H, 12):
        path = rng.choice(["/", "/favicon.ico", "/robots.txt", "/static/css/main.8c1f.css"])
        log.add(
            t, nginx_line(t, f"203.0.113.{rng.randint(2, 250)}", "GET", path, 200, 1200, rng.choice(BROWSERS))
        )
    for t in poisson(rng, 0, 24 * H, 2):
        path = rng.choice(["/wp-login.php", "/.env", "/actuator/health", "/.git/config"])
        log.add(
            t,
            nginx_line(
                t, f"198.51.100.{rng.randint(2, 250)}", "GET", path, 404, 153, "Mozilla/5.0 zgrab/0.x"
            ),
        )
    for t in poisson(rng, 0, 24 * H, 3):  # anonymous API calls: 401 without any token
        log.add(
            t, nginx_line(t, f"203.0.113.{rng.randint(2, 250)}", "GET", "/v1/orders", 401, 0, "curl/8.5.0")
        )

    # orders-web: users sign in (id_token form post), then call the API with access tokens (header),
    # and hold an SSE hub connection with ?access_token= in the query string.
    user_windows = [
        (7.5, 10.0),
        (8.0, 9.5),
        (9.25, 11.75),
        (10.5, 12.5),
        (12.75, 15.5),
        (13.0, 14.0),
        (15.25, 17.5),
        (16.0, 18.75),
        (19.0, 20.5),
        (21.0, 22.25),
    ]
    for n, (start, end) in enumerate(user_windows):
        urng = random.Random(f"{SEED}-orders-web-{n}")
        user = T.fake_user(urng)
        ip, ua = f"203.0.113.{urng.randint(2, 250)}", urng.choice(BROWSERS)
        t0 = DAY0 * 1000 + ms(at(start))
        for i, path in enumerate(["/", "/static/js/main.3f2a1c.js", "/static/css/main.8c1f.css", "/signin"]):
            log.add(
                t0 + i * 180,
                nginx_line(
                    t0 + i * 180,
                    ip,
                    "GET",
                    path,
                    302 if path == "/signin" else 200,
                    0 if path == "/signin" else 5400,
                    ua,
                ),
            )
        ts = t0 + 4000 + urng.randint(0, 4000)
        idt, _ = minter.id_token(urng, "orders-web", ts // 1000 - 2, user)
        body = (
            f"code=0.A{T.b64url(urng.randbytes(30))}&id_token={idt}&state=CfDJ8{T.b64url(urng.randbytes(40))}"
            f"&session_state={T.fake_guid(urng)}"
        )
        log.add(
            ts,
            nginx_line(
                ts,
                ip,
                "POST",
                "/signin-oidc",
                200,
                0,
                ua,
                body=body,
                referer="https://login.microsoftonline.com/",
            ),
            "ok",
            "form",
        )
        session = minter.session(urng, "orders-web", scp="Orders.Read Orders.Write", user=user)
        seen: set[str] = set()
        for t in poisson(urng, at(start) + 15, at(end), 14):
            tok = session.at(t)
            if first_use(seen, tok):
                hub = f"/v1/orders/hub?id={T.b64url(urng.randbytes(16))}&access_token={tok}"
                log.add(t - 50, nginx_line(t - 50, ip, "GET", hub, 200, 0, ua), "ok", "query")
            api(t, ip, ua, tok, "ok", rng.choice(["GET", "GET", "GET", "POST"]))

    # orders-web, a user on a broken front-end build that sends the ID token as the bearer token.
    urng = random.Random(f"{SEED}-orders-web-buggy")
    user = T.fake_user(urng)
    ip, ua = "203.0.113.77", BROWSERS[0]
    t0 = DAY0 * 1000 + ms(at(14.0))
    idt, _ = minter.id_token(urng, "orders-web", t0 // 1000 - 2, user)
    log.add(
        t0,
        nginx_line(
            t0,
            ip,
            "POST",
            "/signin-oidc",
            200,
            0,
            ua,
            body=f"id_token={idt}&state=CfDJ8"
            f"{T.b64url(urng.randbytes(40))}&session_state={T.fake_guid(urng)}",
        ),
        "ok",
        "form",
    )
    for t in spread(urng, at(14.0) + 30, at(14.75), 8):
        api(t, ip, ua, idt, "wrong_token_type")

    # orders-admin: a hand-written OIDC sign-in that never sends a nonce.
    for n, hour in enumerate([9.1, 11.3, 17.2, 17.25]):
        urng = random.Random(f"{SEED}-orders-admin-{n}")
        t = DAY0 * 1000 + ms(at(hour))
        idt, _ = minter.id_token(urng, "orders-admin", t // 1000 - 3, T.fake_user(urng), nonce=False)
        log.add(
            t,
            nginx_line(
                t,
                f"203.0.113.{urng.randint(2, 250)}",
                "POST",
                "/signin-oidc",
                401,
                0,
                BROWSERS[2],
                body=f"id_token={idt}&state={T.b64url(urng.randbytes(16))}",
            ),
            "missing_nonce",
            "form",
        )

    # orders-cli: two users; the CLI writes the scheme in lower case.
    for n, (start, end) in enumerate([(6.0, 9.0), (13.5, 18.0)]):
        urng = random.Random(f"{SEED}-orders-cli-{n}")
        user = T.fake_user(urng)
        session = minter.session(urng, "orders-cli", scp="Orders.Read", user=user)
        ip = f"203.0.113.{urng.randint(2, 250)}"
        for t in poisson(urng, at(start), at(end), 10):
            api(t, ip, "orders-cli/1.2.0 python-httpx/0.27.2", session.at(t), "ok", scheme="bearer")

    # billing-job: app-only token (obtained with a certificate assertion, see egress log), batches
    # every 15 minutes while it has a token; after the certificate renewal it cannot get one.
    brng = random.Random(f"{SEED}-billing-calls")
    for q in range(24 * 4):
        base = DAY0 * 1000 + q * 15 * M * 1000 + brng.randint(0, 30_000)
        for k in range(3):
            t = base + k * brng.randint(200, 900)
            btok = token_at(shared.billing_tokens, t)
            if btok:
                target = f"/v1/orders/{brng.randint(1000, 9999)}/invoice"
                api(t, "10.20.3.7", "billing-job/3.4.1 python-requests/2.32.3", btok, "ok", "POST", target)

    # report-exporter: tokens that carry `=` padding in the header and payload segments; valid.
    urng = random.Random(f"{SEED}-report-exporter")
    iat = DAY0 + 7 * H - 200
    claims = T.access_token_claims(
        TENANT,
        ORDERS_APP,
        CLIENTS["report-exporter"],
        iat=iat,
        exp=iat + 4200,
        roles=["Orders.Read.All"],
        client_auth=1,
        seed=urng,
    )
    padded = T.sign_padded(claims, keys.signing)
    while "=" not in padded.split(".")[1]:
        claims["xms_pad"] = claims.get("xms_pad", "") + "x"
        padded = T.sign_padded(claims, keys.signing)
    for t in poisson(urng, at(7.0), at(7.5), 10):
        api(t, "10.20.4.2", "report-exporter/0.9", padded, "ok", target="/v1/orders/export?format=csv")
    t = DAY0 * 1000 + ms(at(7.6))
    log.add(
        t,
        nginx_line(
            t,
            "10.20.4.2",
            "GET",
            f"/v1/orders/export?access_token={padded}&format=csv",
            200,
            88000,
            "report-exporter/0.9",
        ),
        "ok",
        "query",
    )

    # --- one client per failure cause -------------------------------------------------------------
    def burst(
        client: str,
        start: float,
        end: float,
        n: int,
        ip: str,
        ua: str,
        tok_at: Callable[[int], str],
        cause: str,
    ) -> None:
        crng = random.Random(f"{SEED}-{client}-{cause}-{start}")
        for t in spread(crng, at(start), at(end), n):
            api(t, ip, ua, tok_at(t), cause)

    def fresh(client: str, start: float, **kw: Any) -> str:
        crng = random.Random(f"{SEED}-{client}-token")
        return minter.access(crng, client, DAY0 + int(at(start)) - 120, **kw)[0]

    # malformed: a payload segment that is not base64url (length 1 more than a multiple of 4).
    tok = fresh("label-printer", 3.2, roles=["Orders.Read.All"], client_auth=1)
    h, p, s = tok.split(".")
    p += "Q" * ((1 - len(p)) % 4)
    burst(
        "label-printer",
        3.2,
        3.8,
        5,
        "10.20.7.9",
        "label-printer/2.0 (Zebra)",
        lambda t: f"{h}.{p}.{s}",
        "malformed",
    )

    # missing_claims: an access token without exp.
    tok = fresh("batch-importer", 6.0, roles=["Orders.ReadWrite.All"], client_auth=1, omit=("exp",))
    burst("batch-importer", 6.0, 6.6, 6, "10.20.5.5", "batch-importer/1.0", lambda t: tok, "missing_claims")

    # audience_mismatch: a Microsoft Graph token (nonce in the header, v1 issuer).
    crng = random.Random(f"{SEED}-graph")
    graph_iat = DAY0 + 10 * H - 300
    claims = T.access_token_claims(
        TENANT,
        T.GRAPH_APP_ID,
        CLIENTS["reporting-dashboard"],
        "1.0",
        iat=graph_iat,
        exp=graph_iat + 4500,
        scp="User.Read Mail.Read",
        seed=crng,
    )
    graph = T.sign_with_header_nonce(
        claims, keys.signing, T.b64url(crng.randbytes(32)), {"x5t": x5t_of(keys.signing)}
    )
    burst(
        "reporting-dashboard",
        10.0,
        10.6,
        6,
        "203.0.113.40",
        BROWSERS[1],
        lambda t: graph,
        "audience_mismatch",
    )
    # audience_mismatch: inventory-sync sends its inventory token to orders.
    burst(
        "inventory-sync",
        15.0,
        15.4,
        5,
        "10.20.2.4",
        "inventory-sync/5.2",
        lambda t: token_at(shared.inventory_sync, t) or "",
        "audience_mismatch",
    )

    # issuer_mismatch: a v1 token (sts.windows.net) at a v2-only API; a token from another tenant.
    tok = fresh("legacy-portal", 8.0, aud="api://orders", version="1.0", scp="Orders.Read")
    burst(
        "legacy-portal",
        8.0,
        9.0,
        8,
        "10.20.9.1",
        "LegacyPortal/4.7 (.NET Framework 4.8)",
        lambda t: tok,
        "issuer_mismatch",
    )
    tok_other = fresh(
        "partner-integration", 13.0, tenant=OTHER_TENANT, roles=["Orders.Read.All"], client_auth=2
    )
    burst(
        "partner-integration",
        13.0,
        14.0,
        6,
        "192.0.2.15",
        "partner-sync/1.1",
        lambda t: tok_other,
        "issuer_mismatch",
    )

    # unknown_kid: signed with the retired key.
    tok_old = fresh("mobile-app", 16.0, scp="Orders.Read", key=keys.old)
    burst(
        "mobile-app",
        16.0,
        16.7,
        6,
        "203.0.113.91",
        "ContosoOrders/3.2 (iPhone; iOS 18.1)",
        lambda t: tok_old,
        "unknown_kid",
    )

    # bad_signature: a valid token with its signature altered; a token whose roles were edited.
    tok = T.tamper_signature(fresh("shipping-bot", 11.0, roles=["Orders.Read.All"], client_auth=1), seed=1)
    burst("shipping-bot", 11.0, 11.5, 5, "10.20.8.8", "shipping-bot/0.3", lambda t: tok, "bad_signature")
    stolen, claims = minter.access(
        random.Random(f"{SEED}-tamper"), "orders-cli", DAY0 + 19 * H - 300, scp="Orders.Read"
    )
    tampered = T.replace_claims(
        stolen, {**claims, "roles": ["Orders.Admin"], "scp": "Orders.Read Orders.Write"}
    )
    attacker, aua = "198.51.100.66", "python-requests/2.32.3"
    burst("attacker", 19.0, 19.3, 4, attacker, aua, lambda t: tampered, "bad_signature")

    # unsupported_alg: alg none and HS256 (signed with the issuer's public key as the HMAC secret).
    crng = random.Random(f"{SEED}-algs")
    claims = T.access_token_claims(
        TENANT,
        ORDERS_APP,
        CLIENTS["orders-cli"],
        iat=DAY0 + 19 * H,
        exp=DAY0 + 20 * H,
        scp="Orders.Read Orders.Write",
        seed=crng,
    )
    none_tok = T.unsigned(claims)
    hs_tok = T.alg_confusion_hs256(claims, keys.signing)
    burst("attacker", 19.35, 19.6, 4, attacker, aua, lambda t: none_tok, "unsupported_alg")
    burst("attacker", 19.65, 19.9, 4, attacker, aua, lambda t: hs_tok, "unsupported_alg")

    # Junk: a redacted header, a 200 KB request line, a long run of eyJ (no token in either).
    t = DAY0 * 1000 + ms(at(12.5))
    log.add(t, nginx_line(t, "10.20.3.9", "GET", "/v1/orders/7", 401, 0, "curl/8.5.0", "Bearer REDACTED"))
    t = DAY0 * 1000 + ms(at(4.2))
    log.add(t, nginx_line(t, "198.51.100.23", "GET", "/v1/orders?q=" + "A" * 200_000, 414, 0, "fuzzer/0.1"))
    t = DAY0 * 1000 + ms(at(20.8))
    log.add(
        t, nginx_line(t, "198.51.100.23", "GET", "/v1/orders?cursor=" + "eyJ" * 16_000, 400, 0, "fuzzer/0.1")
    )
    return log


# --------------------------------------------------------------------------- egress (nginx)


def egress_log(minter: Minter, shared: Shared) -> LogFile:
    rng = random.Random(f"{SEED}-egress")
    log = LogFile()
    keys = minter.keys
    token_path = f"/{TENANT}/oauth2/v2.0/token"
    ua = "billing-job/3.4.1 (MSAL.Python/1.31.0)"
    for t in poisson(rng, 0, 24 * H, 6):
        path = rng.choice(
            [f"/{TENANT}/v2.0/.well-known/openid-configuration", f"/{TENANT}/discovery/v2.0/keys"]
        )
        log.add(
            t,
            nginx_line(
                t, "10.20.1.5", "GET", path, 200, 1800, "Microsoft.IdentityModel/8.2.1", host=LOGIN_HOST
            ),
        )

    def post(t: int, assertion: str, status: int, cause: str) -> None:
        body = (
            f"client_id={CLIENTS['billing-job']}&client_assertion_type="
            "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
            f"&client_assertion={assertion}&scope=api%3A%2F%2Forders%2F.default&grant_type=client_credentials"
        )
        log.add(
            t,
            nginx_line(
                t,
                "10.20.3.7",
                "POST",
                token_path,
                status,
                1650 if status == 200 else 520,
                ua,
                host=LOGIN_HOST,
                body=body,
            ),
            cause,
            "form",
        )

    for n, t in enumerate(shared.billing_good):
        a = T.client_assertion(
            CLIENTS["billing-job"],
            TENANT,
            keys.registered,
            keys.registered_cert,
            t // 1000,
            seed=random.Random(f"{SEED}-assert-{n}"),
        )
        post(t, a, 200, "ok")
    for n, t in enumerate(shared.billing_bad):
        a = T.client_assertion(
            CLIENTS["billing-job"],
            TENANT,
            keys.unregistered,
            keys.unregistered_cert,
            t // 1000,
            seed=random.Random(f"{SEED}-assert-bad-{n}"),
        )
        post(t, a, 401, "client_assertion_key_mismatch")

    # inventory-sync uses a client secret (no token in the body).
    for t in poisson(rng, 0, 24 * H, 2):
        body = (
            f"client_id={CLIENTS['inventory-sync']}&client_secret=%5BREDACTED%5D"
            "&scope=api%3A%2F%2Finventory%2F.default&grant_type=client_credentials"
        )
        log.add(
            t,
            nginx_line(
                t,
                "10.20.2.4",
                "POST",
                token_path,
                200,
                1600,
                "inventory-sync/5.2 (MSAL.NET/4.66.1)",
                host=LOGIN_HOST,
                body=body,
            ),
        )
    return log


# --------------------------------------------------------------------------- inventory (envoy)


def envoy_log(minter: Minter, shared: Shared) -> LogFile:
    rng = random.Random(f"{SEED}-envoy")
    log = LogFile()

    def req(
        t: int,
        xff: str,
        ua: str,
        tok: str | None,
        cause: str | None,
        path: str | None = None,
        method: str = "GET",
        limit: bool = False,
    ) -> None:
        # A cut line is a log artefact: the request itself went through (200).
        path = path or rng.choice(
            [
                f"/items/{rng.randint(10000, 99999)}",
                "/items?page=1",
                "/items?page=2",
                f"/stock/{rng.randint(1, 40)}",
                "/items?updatedSince=2026-11-25T00:00:00Z",
            ]
        )
        accepted = (cause == "ok" or limit) if tok else path in ("/healthz", "/ready")
        status = 200 if accepted else 401
        tx = rng.randint(200, 6000) if status == 200 else 0
        line = envoy_line(
            t,
            method,
            path,
            status,
            tx,
            ua,
            rid(rng),
            xff,
            f"Bearer {tok}" if tok else None,
            dur=rng.randint(2, 40),
        )
        if limit and len(line.encode()) > ENVOY_LINE_LIMIT:
            line = line.encode()[:ENVOY_LINE_LIMIT].decode("ascii")
        log.add(t, line, cause if tok else None, "authorization_header" if tok else None)

    for t in poisson(rng, 0, 24 * H, 40):
        req(t, "10.1.0.1", "kube-probe/1.29", None, None, "/healthz")
    for t in poisson(rng, 0, 24 * H, 4):
        req(t, "203.0.113.14", "curl/8.5.0", None, None, "/items")  # anonymous: 401, no token

    # inventory-sync: every 20 minutes, two pages (tokens shared with its mistaken calls to orders).
    for q in range(24 * 3):
        base = DAY0 * 1000 + q * 20 * M * 1000 + rng.randint(0, 60_000)
        for page in (1, 2):
            t = base + page * rng.randint(100, 700)
            req(
                t,
                "10.20.2.4",
                "inventory-sync/5.2",
                token_at(shared.inventory_sync, t),
                "ok",
                f"/items?page={page}",
            )

    # the orders API calling inventory with its own app-only token.
    orng = random.Random(f"{SEED}-orders-svc")
    osvc = minter.session(orng, ORDERS_APP, aud=INVENTORY_APP, roles=["Inventory.Read.All"], client_auth=2)
    for t in poisson(orng, at(6.5), at(21.0), 9):
        req(t, "10.20.0.11", "orders-api/2.8 (HttpClient)", osvc.at(t), "ok")

    # warehouse scanners (user tokens, refreshed properly).
    for n, (start, end) in enumerate([(6.0, 14.0), (6.1, 13.9), (14.0, 21.9)]):
        srng = random.Random(f"{SEED}-scanner-{n}")
        user = T.fake_user(srng, "warehouse.contoso.com")
        s = minter.session(
            srng, "warehouse-scanner", aud=INVENTORY_APP, scp="Inventory.Read Inventory.Write", user=user
        )
        for t in poisson(srng, at(start), at(end), 5):
            req(
                t,
                f"10.30.1.{20 + n}",
                "WarehouseScanner/7.4 (Android 14)",
                s.at(t),
                "ok",
                method=srng.choice(["GET", "GET", "PUT"]),
            )

    # scanner-07: never refreshes. Fine for an hour, then used again hours after it expired.
    srng = random.Random(f"{SEED}-scanner-07")
    iat = DAY0 + 5 * H + 38 * M
    tok, claims = minter.access(
        srng,
        "warehouse-scanner",
        iat,
        aud=INVENTORY_APP,
        lifetime=3900,
        scp="Inventory.Read Inventory.Write",
        user=T.fake_user(srng, "warehouse.contoso.com"),
    )
    exp = claims["exp"]
    for t in poisson(srng, iat + 60 - DAY0, exp - 600 - DAY0, 12):
        req(t, "10.30.1.7", "WarehouseScanner/7.1 (Android 11)", tok, "ok")
    for t in spread(srng, exp + 2 * H - DAY0, at(11.0), 12):
        req(t, "10.30.1.7", "WarehouseScanner/7.1 (Android 11)", tok, "expired")

    # kiosk-app: tokens whose nbf/iat are 20 minutes after the request (clock skew).
    krng = random.Random(f"{SEED}-kiosk")
    t0 = DAY0 + int(at(12.5))
    tok, _ = minter.access(
        krng, "kiosk-app", t0 + 20 * M, aud=INVENTORY_APP, roles=["Inventory.Read.All"], client_auth=1
    )
    for i in range(4):
        req(
            (t0 + i * 55) * 1000 + krng.randint(0, 999), "10.40.0.3", "ContosoKiosk/1.0", tok, "not_yet_valid"
        )

    # analytics-pipeline: an encrypted token (JWE).
    jwe = T.jwe_like(random.Random(f"{SEED}-jwe"), {"kid": "analytics-enc-2026", "cty": "JWT"})
    for t in spread(random.Random(f"{SEED}-analytics"), at(2.0), at(2.4), 5):
        req(t, "10.20.6.6", "analytics-pipeline/0.12 (Spark 3.5)", jwe, "encrypted")

    # warehouse-manager: a user in 40 groups, the token does not fit the 2048-byte line limit.
    wrng = random.Random(f"{SEED}-warehouse-manager")
    user = T.fake_user(wrng, "warehouse.contoso.com")
    groups = [T.fake_guid(wrng) for _ in range(40)]
    tok, _ = minter.access(
        wrng,
        "warehouse-manager",
        DAY0 + int(at(9.5)) - 90,
        aud=INVENTORY_APP,
        scp="Inventory.Read Inventory.Write",
        user=user,
        extra={"groups": groups},
    )
    for t in spread(wrng, at(9.5), at(10.0), 5):
        req(t, "203.0.113.120", BROWSERS[0], tok, "malformed", limit=True)

    # Junk: invalid UTF-8 in a user agent.
    t = DAY0 * 1000 + ms(at(3.3))
    line = envoy_line(t, "GET", "/items", 401, 0, "UA-\udcff\udcfe-", rid(rng), "198.51.100.9")
    log.add(t, line.encode("utf-8", "surrogateescape"))
    return log


# --------------------------------------------------------------------------- inventory (app JSON)

IDX = {
    "expired": (
        "Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException",
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '{exp}', "
        "Current time (UTC): '{now}'.",
    ),
    "audience_mismatch": (
        "Microsoft.IdentityModel.Tokens.SecurityTokenInvalidAudienceException",
        "IDX10214: Audience validation failed. Audiences: '[PII of type 'System.String' is hidden. "
        "For more details, see https://aka.ms/IdentityModel/PII.]'. Did not match: "
        "validationParameters.ValidAudience: '[PII of type 'System.String' is hidden.]' or "
        "validationParameters.ValidAudiences: '[PII of type 'System.String' is hidden.]'.",
    ),
    "issuer_mismatch": (
        "Microsoft.IdentityModel.Tokens.SecurityTokenInvalidIssuerException",
        "IDX10205: Issuer validation failed. Issuer: '[PII of type 'System.String' is hidden.]'. "
        "Did not match: validationParameters.ValidIssuer: '[PII of type 'System.String' is hidden.]' "
        "or validationParameters.ValidIssuers: '[PII of type 'System.String' is hidden.]'.",
    ),
    "bad_signature": (
        "Microsoft.IdentityModel.Tokens.SecurityTokenInvalidSignatureException",
        "IDX10511: Signature validation failed. Keys tried: '[PII of type 'System.String' is hidden.]'. "
        "Number of keys in TokenValidationParameters: '0'. Number of keys in Configuration: '2'. "
        "Matched key was in 'Configuration'. kid: '{kid}'.",
    ),
    "unknown_kid": (
        "Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException",
        "IDX10503: Signature validation failed. The token's kid is: '{kid}', but did not match any keys "
        "in TokenValidationParameters or Configuration. Keys tried: '[PII of type 'System.String' is "
        "hidden.]'. Number of keys in TokenValidationParameters: '0'. Number of keys in Configuration: '2'.",
    ),
}


def dotnet_time(epoch: int) -> str:
    d = datetime.fromtimestamp(epoch, UTC)
    hour = d.hour % 12 or 12
    return f"{d.month}/{d.day}/{d.year} {hour}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}"


def app_log(minter: Minter) -> LogFile:
    rng = random.Random(f"{SEED}-app")
    log = LogFile()
    keys = minter.keys

    def base(t: int, mt: str) -> dict[str, Any]:
        return {"@t": iso_ms(t), "@mt": mt}

    def request(
        t: int,
        ip: str,
        ua: str,
        tok: str | None,
        cause: str | None,
        path: str | None = None,
        method: str = "GET",
        header_value: str | None = None,
        detail: dict[str, str] | None = None,
    ) -> None:
        path = path or rng.choice(
            ["/items", f"/items/{rng.randint(10000, 99999)}", "/stock", "/reservations"]
        )
        status = (
            200 if (cause == "ok" or (tok is None and header_value is None and path == "/healthz")) else 401
        )
        req_id = f"0HN8{T.b64url(rng.randbytes(6)).upper()}:00000001"
        if tok and cause and cause != "ok":
            exc, text = IDX[cause]
            d: dict[str, Any] = {"@t": iso_ms(t - 2), "@mt": "Failed to validate the token."}
            d["@x"] = (
                f"{exc}: {text.format(**(detail or {}))}\n   at Microsoft.IdentityModel.JsonWebTokens."
                "JsonWebTokenHandler.ValidateTokenAsync(...)\n   at Microsoft.AspNetCore.Authentication."
                "JwtBearer.JwtBearerHandler.HandleAuthenticateAsync()"
            )
            d.update(
                {
                    "SourceContext": "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler",
                    "RequestId": req_id,
                    "RequestPath": path,
                }
            )
            log.add(t - 2, jsonl(d))
        d = base(t, "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms")
        if status >= 400:
            d["@l"] = "Warning"
        headers: dict[str, str] = {}
        if tok or header_value:
            headers["Authorization"] = header_value or f"Bearer {tok}"
        headers["User-Agent"] = ua
        d.update(
            {
                "RequestHost": INVENTORY_HOST,
                "RequestMethod": method,
                "RequestPath": path,
                "QueryString": "",
                "StatusCode": status,
                "Elapsed": round(rng.uniform(0.4, 60.0), 4),
                "ClientIp": ip,
                "RequestId": req_id,
                "Headers": headers,
            }
        )
        log.add(t, jsonl(d), cause if tok else None, "authorization_header" if tok else None)
        if status == 200 and path != "/healthz":
            db = base(
                t - 1,
                "Executed DbCommand ({elapsed}ms) [Parameters=[...], CommandType='Text', "
                "CommandTimeout='30']",
            )
            db.update(
                {
                    "elapsed": rng.randint(1, 30),
                    "SourceContext": "Microsoft.EntityFrameworkCore.Database.Command",
                    "RequestId": req_id,
                }
            )
            log.add(t - 1, jsonl(db))

    t = DAY0 * 1000 + 1200
    startup = [
        ("Now listening on: {address}", {"address": "http://[::]:8080"}),
        ("Application started. Press Ctrl+C to shut down.", {}),
        ("Hosting environment: {EnvName}", {"EnvName": "Production"}),
        ("Content root path: {ContentRoot}", {"ContentRoot": "/app"}),
    ]
    for n, (mt, props) in enumerate(startup):
        d = base(t + n * 7, mt)
        d.update({**props, "SourceContext": "Microsoft.Hosting.Lifetime"})
        log.add(t + n * 7, jsonl(d))
    for t in poisson(rng, 0, 24 * H, 30):
        request(t, "10.1.0.1", "kube-probe/1.29", None, None, "/healthz")
    for t in poisson(rng, 0, 24 * H, 2):
        request(t, "10.20.9.30", "curl/8.5.0", None, None, "/items")  # anonymous 401

    # replenishment-worker: app-only, every 20 minutes; on each new token the app logs it (json_field).
    wrng = random.Random(f"{SEED}-replenishment")
    worker = minter.session(
        wrng, "replenishment-worker", aud=INVENTORY_APP, roles=["Inventory.ReadWrite.All"], client_auth=1
    )
    seen: set[str] = set()
    text_left = 2
    for q in range(24 * 3):
        t = DAY0 * 1000 + q * 20 * M * 1000 + wrng.randint(0, 90_000)
        tok = worker.at(t)
        if first_use(seen, tok):
            d = base(t - 5, "Token validated for client {ClientId}")
            d.update(
                {
                    "ClientId": CLIENTS["replenishment-worker"],
                    "Token": tok,
                    "SourceContext": "Inventory.Api.Auth.TokenEvents",
                    "RequestHost": INVENTORY_HOST,
                    "RequestPath": "/stock",
                }
            )
            log.add(t - 5, jsonl(d), "ok", "json_field")
            if text_left and q > 10:
                text_left -= 1
                d = base(t - 4, f"Forwarding reservation sync; upstream credential {tok} (debug)")
                d.update(
                    {
                        "@l": "Debug",
                        "SourceContext": "Inventory.Api.Sync",
                        "RequestHost": INVENTORY_HOST,
                        "RequestPath": "/stock",
                    }
                )
                log.add(t - 4, jsonl(d), "ok", "text")
        for k in range(2):
            request(
                t + k * 400,
                "10.20.11.2",
                "replenishment-worker/1.4",
                tok,
                "ok",
                method="POST" if k else "GET",
                path="/reservations" if k else "/stock",
            )

    # back-office users through the SPA (orders-web also calls inventory).
    for n, (start, end) in enumerate([(8.0, 12.0), (13.0, 17.5)]):
        urng = random.Random(f"{SEED}-backoffice-{n}")
        user = T.fake_user(urng)
        s = minter.session(urng, "orders-web", aud=INVENTORY_APP, scp="Inventory.Read", user=user)
        ip, ua = f"203.0.113.{urng.randint(2, 250)}", urng.choice(BROWSERS)
        for t in poisson(urng, at(start), at(end), 10):
            request(t, ip, ua, s.at(t), "ok")

    # expired: scanner-12 goes idle and comes back hours after its token expired.
    srng = random.Random(f"{SEED}-scanner-12")
    iat = DAY0 + 12 * H + 10 * M
    tok, claims = minter.access(
        srng,
        "warehouse-scanner",
        iat,
        aud=INVENTORY_APP,
        lifetime=4200,
        scp="Inventory.Read",
        user=T.fake_user(srng, "warehouse.contoso.com"),
    )
    exp = claims["exp"]
    for t in poisson(srng, iat + 90 - DAY0, exp - 700 - DAY0, 8):
        request(t, "10.30.1.12", "WarehouseScanner/7.1 (Android 11)", tok, "ok")
    for t in spread(srng, at(15.0), at(16.0), 7):
        request(
            t,
            "10.30.1.12",
            "WarehouseScanner/7.1 (Android 11)",
            tok,
            "expired",
            detail={"exp": dotnet_time(exp), "now": dotnet_time(t // 1000)},
        )

    # audience_mismatch: the SPA sends its orders token to inventory.
    urng = random.Random(f"{SEED}-spa-wrong-aud")
    tok, _ = minter.access(
        urng, "orders-web", DAY0 + int(at(10.0)) - 100, scp="Orders.Read", user=T.fake_user(urng)
    )
    for t in spread(urng, at(10.0), at(10.5), 5):
        request(t, "203.0.113.61", BROWSERS[1], tok, "audience_mismatch")

    # issuer_mismatch: a v1 token (aud in App ID URI form, accepted) at a v2-only API.
    urng = random.Random(f"{SEED}-legacy-inventory")
    tok, _ = minter.access(
        urng,
        "legacy-portal",
        DAY0 + int(at(8.4)) - 60,
        aud="api://inventory",
        version="1.0",
        scp="Inventory.Read",
    )
    for t in spread(urng, at(8.4), at(8.9), 4):
        request(t, "10.20.9.1", "LegacyPortal/4.7 (.NET Framework 4.8)", tok, "issuer_mismatch")

    # bad_signature and unknown_kid.
    urng = random.Random(f"{SEED}-shipping-inventory")
    tok, _ = minter.access(
        urng,
        "shipping-bot",
        DAY0 + int(at(11.1)) - 60,
        aud=INVENTORY_APP,
        roles=["Inventory.Read.All"],
        client_auth=1,
    )
    tok = T.tamper_signature(tok, seed=2)
    for t in spread(urng, at(11.1), at(11.5), 4):
        request(t, "10.20.8.8", "shipping-bot/0.3", tok, "bad_signature", detail={"kid": keys.signing.kid})
    urng = random.Random(f"{SEED}-mobile-inventory")
    tok, _ = minter.access(
        urng, "mobile-app", DAY0 + int(at(16.2)) - 60, aud=INVENTORY_APP, scp="Inventory.Read", key=keys.old
    )
    for t in spread(urng, at(16.2), at(16.6), 4):
        request(
            t,
            "203.0.113.91",
            "ContosoOrders/3.2 (iPhone; iOS 18.1)",
            tok,
            "unknown_kid",
            detail={"kid": keys.old.kid},
        )
    return log


# --------------------------------------------------------------------------- config and writing


def config_toml(keys: Keys) -> str:
    lines = [
        "# analyzer config for the generated sample logs (scripts/make_sample_logs.py).",
        "# The keys behind jwks.json are DEMO-ONLY throwaway keys (see demo-keys/README.md).",
        "leeway_seconds = 300",
        "offline = true",
        "",
        "[[issuer]]",
        'jwks_file = "jwks.json"',
        "",
        "[[api]]",
        'name = "orders"',
        f'hosts = ["{ORDERS_HOST}"]',
        'path_prefix = "/v1/"   # /signin-oidc on the same host is the web app, not the API',
        f'audiences = ["api://orders", "{ORDERS_APP}"]',
        f'issuers = ["{ISS_V2}"]',
        "",
        "[[api]]",
        'name = "inventory"',
        f'hosts = ["{INVENTORY_HOST}"]',
        f'audiences = ["api://inventory", "{INVENTORY_APP}"]',
        f'issuers = ["{ISS_V2}"]',
        "",
        "[[client]]",
        f'client_id = "{CLIENTS["billing-job"]}"',
        'name = "billing-job"',
        f'certificate_thumbprints = ["{keys.registered_cert.sha1_hex}"]   # billing-job-2026.crt',
    ]
    for name, cid in CLIENTS.items():
        if name != "billing-job":
            lines += ["", "[[client]]", f'client_id = "{cid}"', f'name = "{name}"']
    lines += ["", "[[client]]", f'client_id = "{ORDERS_APP}"', 'name = "orders-api"']
    return "\n".join(lines) + "\n"


def render(lines: list[Line]) -> bytes:
    return b"".join(ln.data + b"\n" for ln in lines)


def write_outputs(files: dict[str, list[Line]], keys: Keys) -> list[tuple[str, int, str, str]]:
    truth: list[tuple[str, int, str, str]] = []
    for rel, lines in files.items():
        path = OUT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = render(lines)
        if rel.endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
                gz.write(data)
            data = buf.getvalue()
        path.write_bytes(data)
        for n, ln in enumerate(lines, start=1):
            if ln.cause:
                truth.append((rel, n, ln.cause, ln.location or ""))
    (OUT / "jwks.json").write_text(
        json.dumps(T.jwks(keys.signing, keys.spare), indent=2) + "\n", encoding="utf-8"
    )
    (OUT / "analyzer.toml").write_text(config_toml(keys), encoding="utf-8")
    TRUTH.parent.mkdir(parents=True, exist_ok=True)
    with TRUTH.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["source", "line", "cause", "location"])
        w.writerows(sorted(truth))
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--new-keys", action="store_true", help="replace the DEMO-ONLY keys (changes every token)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    keys = load_keys(args.new_keys)
    minter = Minter(keys)
    shared = plan_shared(minter)

    orders = orders_log(minter, shared).sorted()
    noon = (DAY0 + 12 * H) * 1000
    files = {
        "nginx/orders-access.log.1.gz": [ln for ln in orders if ln.t < noon],
        "nginx/orders-access.log": [ln for ln in orders if ln.t >= noon],
        "nginx/egress-access.log": egress_log(minter, shared).sorted(),
        "envoy/gateway.log": envoy_log(minter, shared).sorted(),
        "app/inventory-api.jsonl": app_log(minter).sorted(),
    }
    for ln in files["envoy/gateway.log"]:
        if len(ln.data) > ENVOY_LINE_LIMIT:
            raise SystemExit("an Envoy line is longer than the 2048-byte line limit")
    truth = write_outputs(files, keys)

    by_cause = Counter(c for _, _, c, _ in truth)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(
        f"wrote {OUT.relative_to(ROOT)}/ ({total / 1e6:.2f} MB) and {TRUTH.relative_to(ROOT)} "
        f"({len(truth)} token occurrences) in {time.perf_counter() - started:.2f} s"
    )
    for cause, n in sorted(by_cause.items(), key=lambda kv: -kv[1]):
        print(f"  {cause:32} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
