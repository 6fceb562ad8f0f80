#!/usr/bin/env python3
"""Generate a realistic log corpus of a chosen size for the throughput benchmark.

    python benchmarks/make_corpus.py --size 500MB --out /tmp/corpus [--seed 7] [--jobs 2]

Writes, under OUT:
  logs/          the corpus (scan this directory): 14 log formats, as `FILES` lists them
                 (nginx, Envoy, Serilog JSON, IIS W3C, AWS ALB, Apache vhost_combined, CRI-wrapped
                 ingress-nginx, HAProxy httplog in syslog, Traefik JSON, Caddy JSON, Azure App Gateway,
                 Azure Front Door, RFC 3164 syslog of nginx sign-in form posts, an app log of token
                 requests with client assertions); about 19% of the bytes gzip, 3% zstd, 2.5% bz2
  analyzer.toml, jwks.json   config for `analyzer scan logs --config analyzer.toml`
  corpus.json    manifest: bytes (on disk and uncompressed), lines and token occurrences per file,
                 unique tokens, intended cause of every occurrence (counts by cause)

Sizes are uncompressed bytes. Like real logs, most lines carry no token (health checks, static
files, framework chatter): a little under one line in two has one. Access tokens are reused as clients
reuse them: a pool of about 3 unique tokens per 100 occurrences, each used during its own hour by
one client. Their intended causes: mostly ok, some expired, audience_mismatch, unknown_kid,
bad_signature and malformed (truncated by the log). Two small files hold tokens used only
once each, the slowest input per byte: sign-in form posts (a fresh ID token each; some without a nonce,
some replayed hours later) and token requests (a fresh client assertion each; some signed with a
certificate that is not registered).

Fast: tokens are signed once (RSA-2048, ~0.4 ms each), lines are formatted from templates and
written in blocks of a few MB on `--jobs` processes; 750 MB takes one to two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import bz2
import gzip
import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TENANT = "11111111-2222-3333-4444-555555555555"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
GRAPH = "00000003-0000-0000-c000-000000000000"
T0 = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())  # the corpus timeline starts here
LEEWAY = 300
CONCURRENT_TOKENS = 150  # tokens in use at any moment (clients x hosts): sets the timeline span
BLOCK_LINES = 4096
GENERATOR_VERSION = 4  # bump when the corpus changes: run.py regenerates kept corpora of older versions

SIGNING_KID = "bench-2026-11"  # signs the valid tokens, published
SPARE_KID = "bench-2026-12"  # published, unused
OLD_KID = "bench-2026-10"  # retired: NOT published -> unknown_kid
BILLING_KID = "billing-job"  # signs billing-job's client assertions (its certificate's key), not a JWKS key

WEB_APP = "6e7c1b0a-0000-0000-0000-000000000010"  # the portal's web app: the audience of its ID tokens
BILLING = "6e7c1b0a-0000-0000-0000-000000000002"  # a daemon that requests tokens with client assertions
TOKEN_ENDPOINT = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
# SHA-1 thumbprints of billing-job's certificates: the registered one, and a renewed one never uploaded.
REGISTERED_CERT = hashlib.sha1(b"billing-job certificate 2026 (benchmark)").digest()
UNREGISTERED_CERT = hashlib.sha1(b"billing-job certificate 2027 (benchmark, not uploaded)").digest()


@dataclass(frozen=True)
class Api:
    name: str
    host: str
    app_id: str
    paths: tuple[str, ...]


APIS = {
    "orders": Api(
        "orders",
        "orders.contoso.com",
        "6e7c1b0a-0000-0000-0000-000000000001",
        ("/v1/orders", "/v1/orders/{n}", "/v1/orders/{n}/invoice", "/v1/customers/{n}", "/v1/cart"),
    ),
    "inventory": Api(
        "inventory",
        "inventory.contoso.com",
        "6e7c1b0a-0000-0000-0000-000000000003",
        ("/items", "/items/{n}", "/stock", "/reservations", "/warehouses/{n}/stock"),
    ),
    "portal": Api(
        "portal",
        "portal.contoso.com",
        "6e7c1b0a-0000-0000-0000-000000000004",
        ("/api/dashboard", "/api/reports/{n}", "/api/users/me", "/api/notifications"),
    ),
}
CLIENT_IDS = [f"6e7c1b0a-0000-0000-0000-0000000001{i:02x}" for i in range(24)]

# Intended primary cause of each unique token (weights), as seen in real gateway logs.
CAUSE_MIX: dict[str, float] = {
    "ok": 0.80,
    "expired": 0.07,
    "audience_mismatch": 0.04,
    "unknown_kid": 0.03,
    "bad_signature": 0.03,
    "malformed": 0.03,
}
# Tokens minted for one request (used once): the sign-ins' ID tokens and the token requests' assertions.
ID_TOKEN_MIX: dict[str, float] = {"ok": 0.92, "missing_nonce": 0.05, "expired": 0.03}
ASSERTION_MIX: dict[str, float] = {"ok": 0.85, "client_assertion_key_mismatch": 0.15}

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "billing-job/3.4.1 python-requests/2.32.3",
    "inventory-sync/5.2 (+https://contoso.com)",
    "okhttp/4.12.0",
    "Microsoft.AspNetCore.SignalR.Client/8.0.10",
    "curl/8.5.0",
    "kube-probe/1.30",
    "Go-http-client/2.0",
]
STATIC = ("/static/app.js", "/static/app.css", "/favicon.ico", "/static/logo.svg", "/", "/index.html")
HEALTH = ("/healthz", "/readyz", "/metrics")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.I)


def parse_size(text: str) -> int:
    """'500MB', '1GB', '2.5G', '300k', '12345' -> bytes (powers of 1000)."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 200MB, 1GB)")
    mult = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m[2].upper()]
    return int(float(m[1]) * mult)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


# --------------------------------------------------------------------------- token pool


@dataclass
class PoolToken:
    text: str  # as it appears in the log (a truncated one is cut)
    cause: str
    window: int  # epoch second its hour of use starts


@dataclass
class Pool:
    """The unique tokens of one API host, ordered by the start of their hour of use."""

    tokens: list[PoolToken]
    span: int  # seconds of timeline

    def pick(self, rng: random.Random, t: float) -> PoolToken:
        """A token in use at time t (its window holds t)."""
        n = len(self.tokens)
        hi = int((t - T0) * n / self.span)
        lo = math.ceil((t - T0 - 3600) * n / self.span)  # its window started at most an hour ago
        hi = min(max(hi, 0), n - 1)
        lo = min(max(lo, 0), hi)
        return self.tokens[rng.randint(lo, hi)]


class Signer:
    """RS256 signing with one key per kid (the keys are made fresh for every corpus)."""

    def __init__(self) -> None:
        self.keys = {
            kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for kid in (SIGNING_KID, SPARE_KID, OLD_KID, BILLING_KID)
        }
        self._pad = padding.PKCS1v15()
        self._hash = hashes.SHA256()

    def sign(self, claims: dict[str, Any], kid: str, header: dict[str, Any] | None = None) -> str:
        head = b64json(header or {"alg": "RS256", "kid": kid, "typ": "JWT"})
        signing_input = f"{head}.{b64json(claims)}"
        sig = self.keys[kid].sign(signing_input.encode("ascii"), self._pad, self._hash)
        return f"{signing_input}.{b64url(sig)}"

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in (SIGNING_KID, SPARE_KID):
            nums = self.keys[kid].public_key().public_numbers()
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "alg": "RS256",
                    "n": _int_b64(nums.n),
                    "e": _int_b64(nums.e),
                }
            )
        return {"keys": keys}


_GIVEN = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"]
_FAMILY = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman"]


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def make_token(signer: Signer, rng: random.Random, api: Api, cause: str, window: int) -> str:
    """One Entra-v2-like access token for `api`, built so its primary cause is `cause` in its window."""
    iat = window - rng.randrange(0, 240)  # valid a little beyond its hour of use (+ leeway)
    if cause == "expired":  # a client that does not refresh: used hours after exp
        iat -= 3 * 3600 + rng.randrange(0, 3600)
    exp = iat + 3600 + rng.randrange(0, 1800)
    delegated = rng.random() < 0.6
    aud = api.app_id if rng.random() < 0.7 else f"api://{api.name}"
    if cause == "audience_mismatch":
        aud = rng.choice(
            [
                GRAPH,
                "https://graph.microsoft.com",
                "api://other-app",
                APIS["portal" if api.name != "portal" else "orders"].app_id,
            ]
        )
    claims: dict[str, Any] = {
        "aud": aud,
        "iss": ISSUER,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "aio": b64url(rng.randbytes(48)),
        "azp": rng.choice(CLIENT_IDS),
        "azpacr": str(rng.randrange(3)),
    }
    oid = _guid(rng)
    if delegated:
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        claims["name"] = f"{given} {family}"
        claims["oid"] = oid
        claims["preferred_username"] = f"{given.lower()}.{family.lower()}@contoso.com"
        claims["rh"] = "0.A" + b64url(rng.randbytes(36))
        claims["scp"] = rng.choice(["user_impersonation", "Orders.Read Orders.Write", "Items.Read"])
        claims["sub"] = b64url(rng.randbytes(32))
    else:
        claims["oid"] = oid
        claims["rh"] = "0.A" + b64url(rng.randbytes(36))
        claims["roles"] = rng.choice(
            [["Orders.ReadWrite.All"], ["Items.Read.All", "Stock.Write"], ["Reader"]]
        )
        claims["sub"] = oid
    claims.update({"tid": TENANT, "uti": b64url(rng.randbytes(16)), "ver": "2.0"})
    token = signer.sign(claims, OLD_KID if cause == "unknown_kid" else SIGNING_KID)
    if cause == "bad_signature":
        h, p, s = token.split(".")
        i = len(s) // 2 + rng.randrange(-len(s) // 4, len(s) // 4)
        token = f"{h}.{p}.{s[:i]}{'A' if s[i] != 'A' else 'B'}{s[i + 1 :]}"
    elif cause == "malformed":  # the log cut the line inside the payload
        dot = token.index(".")
        token = token[: rng.randrange(dot + 40, token.rindex("."))]
    return token


def make_id_token(signer: Signer, rng: random.Random, cause: str, t: float) -> str:
    """The ID token of one sign-in to the portal, posted to /signin-oidc at `t` (response_mode=form_post)."""
    iat = int(t) - rng.randrange(1, 5)
    if cause == "expired":  # a form post replayed hours after the sign-in
        iat -= 3 * 3600 + rng.randrange(0, 3600)
    given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
    claims: dict[str, Any] = {"aud": WEB_APP, "iss": ISSUER, "iat": iat, "nbf": iat, "exp": iat + 3600,
                              "aio": b64url(rng.randbytes(48)), "name": f"{given} {family}"}
    if cause != "missing_nonce":
        claims["nonce"] = b64url(rng.randbytes(24))
    claims.update({"oid": _guid(rng), "preferred_username": f"{given.lower()}.{family.lower()}@contoso.com",
                   "rh": "0.A" + b64url(rng.randbytes(36)), "sid": _guid(rng), "sub": b64url(rng.randbytes(32)),
                   "tid": TENANT, "uti": b64url(rng.randbytes(16)), "ver": "2.0"})
    return signer.sign(claims, SIGNING_KID)


def make_assertion(signer: Signer, rng: random.Random, cause: str, t: float) -> str:
    """billing-job's client assertion for one token request at `t`, its certificate named by `x5t`."""
    iat = int(t) - rng.randrange(0, 3)
    cert = UNREGISTERED_CERT if cause == "client_assertion_key_mismatch" else REGISTERED_CERT
    header = {"alg": "RS256", "typ": "JWT", "x5t": b64url(cert)}
    claims = {"aud": TOKEN_ENDPOINT, "exp": iat + 600, "iss": BILLING, "jti": _guid(rng), "nbf": iat,
              "sub": BILLING, "iat": iat}
    return signer.sign(claims, BILLING_KID, header)


# Shared with forked worker processes (set before the pool is made, inherited, never pickled).
_STATE: dict[str, Any] = {}
_POOL_CHUNK = 500


def _make_tokens(job: tuple[str, int, int, int, int, int]) -> list[PoolToken]:
    """Tokens lo..hi-1 of one API's pool; each from its own seeded random source (order-independent)."""
    name, lo, hi, n, span, seed = job
    signer: Signer = _STATE["signer"]
    causes, weights = list(CAUSE_MIX), list(CAUSE_MIX.values())
    toks = []
    for j in range(lo, hi):
        rng = random.Random(f"{seed}:{name}:{j}")
        window = T0 + int(j * span / n)
        cause = rng.choices(causes, weights)[0]
        toks.append(PoolToken(make_token(signer, rng, APIS[name], cause, window), cause, window))
    return toks


def build_pools(ex: Executor, seed: int, unique: dict[str, int], span: int) -> dict[str, Pool]:
    jobs = [
        (name, lo, min(n, lo + _POOL_CHUNK), n, span, seed)
        for name, n in unique.items()
        for lo in range(0, n, _POOL_CHUNK)
    ]
    pools: dict[str, Pool] = {name: Pool([], span) for name in unique}
    for job, toks in zip(jobs, ex.map(_make_tokens, jobs), strict=True):
        pools[job[0]].tokens.extend(toks)
    return pools


def _write_job(job: tuple[FileSpec, str, int, float, float]) -> dict[str, Any]:
    spec, rel, target, a, b = job
    span, seed, logs = _STATE["span"], _STATE["seed"], _STATE["logs"]
    info = write_file(
        logs / rel,
        spec,
        target,
        T0 + a * span,
        T0 + b * span,
        _STATE["pools"][spec.api],
        random.Random(f"{seed}:{rel}"),
    )
    info["path"] = rel
    return info


def _executor(jobs: int) -> Executor:
    if jobs > 1 and "fork" in mp.get_all_start_methods():
        return ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork"))
    return ThreadPoolExecutor(1)  # one thread: same results, no parallelism


# --------------------------------------------------------------------------- line templates


@dataclass
class Gen:
    """Per-file line generator state: random source, counters, a cache of formatted seconds."""

    rng: random.Random
    pool: Pool
    api: Api
    token_ratio: float
    tokens: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    fresh: Counter[str] = field(default_factory=Counter)  # causes of the tokens minted for one request
    _stamps: dict[Callable[[datetime], str], tuple[int, str]] = field(default_factory=dict)

    def ts(self, t: float, fmt: Callable[[datetime], str]) -> str:
        """`t` (its second) in the form `fmt` writes; formatted once per second and form."""
        s = int(t)
        cached = self._stamps.get(fmt)
        if cached is None or cached[0] != s:
            cached = self._stamps[fmt] = (s, fmt(datetime.fromtimestamp(s, UTC)))
        return cached[1]

    def token(self, t: float) -> PoolToken | None:
        """The token of this line (of the pool, in use at t), or None for a line without one."""
        if self.rng.random() >= self.token_ratio:
            return None
        tok = self.pool.pick(self.rng, t)
        self.again(tok)
        return tok

    def again(self, tok: PoolToken) -> None:
        """One more occurrence of `tok` on the line (a format that logs the query twice)."""
        self.tokens += 1
        self.causes[tok.cause] += 1

    def minted(self, t: float, mix: dict[str, float], mint: Callable[..., str]) -> PoolToken | None:
        """A token minted for this request only (`mint(signer, rng, cause, t)`), or None."""
        if self.rng.random() >= self.token_ratio:
            return None
        cause = self.rng.choices(list(mix), list(mix.values()))[0]
        signer: Signer | None = _STATE.get("signer")
        text = mint(signer, self.rng, cause, t) if signer is not None else "eyJ" + "x" * 1100  # (a dry run)
        self.fresh[cause] += 1
        tok = PoolToken(text, cause, int(t))
        self.again(tok)
        return tok

    def path(self) -> str:
        return self.rng.choice(self.api.paths).replace("{n}", str(self.rng.randrange(1, 99999)))

    def ip(self) -> str:
        r = self.rng.getrandbits(24)
        return f"10.{r >> 16}.{(r >> 8) & 255}.{r & 255}"

    def status(self, tok: PoolToken | None) -> int:
        if tok is not None and tok.cause != "ok":
            return 401
        return self.rng.choice((200, 200, 200, 200, 201, 204, 304, 404))

    def anon_path(self) -> str:
        return self.rng.choice(HEALTH) if self.rng.random() < 0.5 else self.rng.choice(STATIC)

    def request(self, tok: PoolToken | None, query_share: float = 0.0) -> tuple[str, str, str | None]:
        """(method, target, Authorization value or None): the token in the header, or in the query
        (`?access_token=`, as SignalR and WebSocket clients send it) for `query_share` of the lines."""
        rng = self.rng
        if tok is None:
            return "GET", self.anon_path(), None
        method = "GET" if rng.random() < 0.7 else "POST"
        if rng.random() < query_share:
            return "GET", f"{self.path()}?access_token={tok.text}", None
        return method, self.path(), "Bearer " + tok.text


def _nginx_time(d: datetime) -> str:
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S} +0000"


def _syslog_time(d: datetime) -> str:  # RFC 3164: `Nov  5 07:01:02`, no year, no zone (UTC here)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S}"


def _iso_time(d: datetime) -> str:
    return f"{d:%Y-%m-%dT%H:%M:%S}"


def _iis_time(d: datetime) -> str:
    return f"{d:%Y-%m-%d %H:%M:%S}"


def line_nginx(g: Gen, t: float) -> str:
    tok = g.token(t)
    rng = g.rng
    if tok is None:
        path, auth, ua = g.anon_path(), "-", rng.choice(USER_AGENTS)
    else:
        path, auth, ua = g.path(), "Bearer " + tok.text, rng.choice(USER_AGENTS[:7])
    method = "GET" if tok is None or rng.random() < 0.7 else "POST"
    return (
        f'{g.ip()} - - [{g.ts(t, _nginx_time)}] "{method} {path} HTTP/1.1" {g.status(tok)} '
        f'{rng.randrange(0, 9000)} "-" "{ua}" "{auth}"\n'
    )


def line_envoy(g: Gen, t: float) -> str:
    tok = g.token(t)
    rng = g.rng
    path = g.anon_path() if tok is None else g.path()
    auth = "-" if tok is None else "Bearer " + tok.text
    ms = int((t % 1) * 1000)
    dur = rng.randrange(1, 300)
    return (
        f'[{g.ts(t, _iso_time)}.{ms:03d}Z] "{"GET" if rng.random() < 0.8 else "POST"} {path} HTTP/1.1" '
        f"{g.status(tok)} - {rng.randrange(0, 2000)} {rng.randrange(0, 9000)} {dur} {dur - 1} "
        f'"{g.ip()}" "{rng.choice(USER_AGENTS)}" "{_guid(rng)}" "{g.api.host}" "10.1.2.3:8080" "{auth}"\n'
    )


_JSON_CHATTER = (
    '"@mt":"Executing endpoint \'{EndpointName}\'",'
    '"EndpointName":"Inventory.Api.Controllers.ItemsController.Get (Inventory.Api)",'
    '"SourceContext":"Microsoft.AspNetCore.Routing.EndpointMiddleware"',
    '"@mt":"Request starting {Protocol} {Method} {Scheme}://{Host}{PathBase}{Path}{QueryString} - '
    '{ContentType} {ContentLength}","Protocol":"HTTP/1.1","Method":"GET","Scheme":"https",'
    '"Host":"inventory.contoso.com","PathBase":"","Path":"/items","QueryString":"","ContentType":null,'
    '"ContentLength":null,"SourceContext":"Microsoft.AspNetCore.Hosting.Diagnostics"',
    '"@mt":"Executed DbCommand ({elapsed}ms) [Parameters=[@__p_0=\'?\' (DbType = Int32)], '
    'CommandType=\'Text\', CommandTimeout=\'30\']","elapsed":"3",'
    '"SourceContext":"Microsoft.EntityFrameworkCore.Database.Command"',
    '"@mt":"Health check {HealthCheckName} completed after {ElapsedMilliseconds}ms with status '
    '{HealthStatus}","HealthCheckName":"db","ElapsedMilliseconds":1.2,"HealthStatus":"Healthy",'
    '"SourceContext":"Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService"',
)


def line_json(g: Gen, t: float) -> str:
    tok = g.token(t)
    rng = g.rng
    ms = int((t % 1) * 1000)
    head = f'{{"@t":"{g.ts(t, _iso_time)}.{ms:03d}Z",'
    if tok is None:
        return head + rng.choice(_JSON_CHATTER) + "}\n"
    return (
        head + '"@mt":"HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms",'
        f'"RequestHost":"{g.api.host}","RequestMethod":"GET","RequestPath":"{g.path()}","QueryString":"",'
        f'"StatusCode":{g.status(tok)},"Elapsed":{rng.random() * 90:.4f},"ClientIp":"{g.ip()}",'
        f'"RequestId":"0HN8{rng.getrandbits(32):08X}:00000001",'
        f'"Headers":{{"Authorization":"Bearer {tok.text}","User-Agent":"{rng.choice(USER_AGENTS[:7])}"}},'
        '"SourceContext":"Serilog.AspNetCore.RequestLoggingMiddleware"}\n'
    )


IIS_FIELDS = (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken cs(Authorization)"
)


def iis_header(t: float) -> str:
    d = datetime.fromtimestamp(int(t), UTC)
    return (
        f"#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
        f"#Date: {d:%Y-%m-%d %H:%M:%S}\n#Fields: {IIS_FIELDS}\n"
    )


def line_iis(g: Gen, t: float) -> str:
    tok = g.token(t)
    rng = g.rng
    query, auth = "-", "-"
    if tok is None:
        path = g.anon_path()
    else:
        path = g.path()
        if rng.random() < 0.3:
            query = f"access_token={tok.text}&v=2"
        else:
            auth = "Bearer+" + tok.text
    ua = rng.choice(USER_AGENTS).replace(" ", "+")
    return (
        f"{g.ts(t, _iis_time)} 10.0.0.4 GET {path} {query} 443 - {g.ip()} {ua} - {g.api.host} "
        f"{g.status(tok)} 0 0 {rng.randrange(1, 900)} {auth}\n"
    )


def line_alb(g: Gen, t: float) -> str:
    tok = g.token(t)
    rng = g.rng
    ms = int((t % 1) * 1000000)
    if tok is None:
        url = f"https://{g.api.host}:443{g.anon_path()}"
    else:
        url = (
            f"https://{g.api.host}:443/hubs/notifications?id={rng.getrandbits(48):x}&access_token={tok.text}"
        )
    st = g.status(tok)
    return (
        f"h2 {g.ts(t, _iso_time)}.{ms:06d}Z app/orders-alb/50dc6c495c0c9188 "
        f"{g.ip()}:{rng.randrange(1024, 65535)} "
        f"10.0.1.17:8080 0.000 0.{rng.randrange(1, 999):03d} 0.000 {st} {st} {rng.randrange(100, 900)} "
        f'{rng.randrange(100, 9000)} "GET {url} HTTP/2.0" "{rng.choice(USER_AGENTS[:7])}" '
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
        f'targetgroup/orders/73e2d6bc24d8a067 "Root=1-{int(t):08x}-{rng.getrandbits(96):024x}" '
        f'"{g.api.host}" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-'
        f'123456789012" 0 {g.ts(t, _iso_time)}.{ms:06d}Z "forward" "-" "-" "10.0.1.17:8080" "{st}" "-" "-" '
        f"TID_{rng.getrandbits(64):016x}\n"
    )


def line_apache(g: Gen, t: float) -> str:
    """Apache `vhost_combined` + `"%{Authorization}i"`: the virtual host and its port first."""
    tok = g.token(t)
    rng = g.rng
    method, target, auth = g.request(tok, 0.15)
    ua = rng.choice(USER_AGENTS if tok is None else USER_AGENTS[:7])
    referer = f'"https://{g.api.host}/"' if rng.random() < 0.4 else '"-"'
    return (
        f'{g.api.host}:443 {g.ip()} - - [{g.ts(t, _nginx_time)}] "{method} {target} HTTP/1.1" '
        f'{g.status(tok)} {rng.randrange(0, 30000)} {referer} "{ua}" "{auth or "-"}"\n'
    )


def _cri_time(d: datetime) -> str:
    return f"{d:%Y-%m-%dT%H:%M:%S}"


def line_ingress(g: Gen, t: float) -> str:
    """ingress-nginx's default format (+ `"$http_authorization"` when there is one), as the container
    runtime (CRI) writes it to /var/log/containers: `<RFC 3339 nano> stdout F <line>`."""
    rng = g.rng
    ns = int((t % 1) * 1e9)
    head = f"{g.ts(t, _cri_time)}.{ns:09d}Z "
    if rng.random() < 0.02:  # the controller's own messages on stderr
        return (head + f"stderr F I{g.ts(t, _klog_time)}.{ns // 1000:06d}       7 event.go:285] "
                'Event(v1.ObjectReference{Kind:"Ingress", Namespace:"default", Name:"inventory"}): type: '
                "'Normal' reason: 'Sync' Scheduled for sync\n")
    tok = g.token(t)
    method, target, auth = g.request(tok, 0.3)
    rt = rng.randrange(1, 400) / 1000
    size, st = rng.randrange(0, 9000), g.status(tok)
    return (
        head + f'stdout F {g.ip()} - - [{g.ts(t, _nginx_time)}] "{method} {target} HTTP/1.1" {st} '
        f'{size} "-" "{rng.choice(USER_AGENTS)}" {rng.randrange(80, 1500)} {rt:.3f} [default-inventory-80] [] '
        f"10.244.0.12:8080 {size} {rt:.3f} {st} {rng.getrandbits(128):032x}" + (f' "{auth}"' if auth else "") + "\n"
    )


def _klog_time(d: datetime) -> str:
    return f"{d:%m%d %H:%M:%S}"


def _haproxy_accept(d: datetime) -> str:
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S}"


def line_haproxy(g: Gen, t: float) -> str:
    """HAProxy `option httplog` through syslog (RFC 3164), the Host and Authorization headers captured."""
    tok = g.token(t)
    rng = g.rng
    method, target, auth = g.request(tok)
    tt = rng.randrange(1, 400)
    return (
        f"{g.ts(t, _syslog_time)} lb1 haproxy[14389]: {g.ip()}:{rng.randrange(1024, 65535)} "
        f"[{g.ts(t, _haproxy_accept)}.{int((t % 1) * 1000):03d}] http-in~ api/srv{rng.randrange(1, 5)} "
        f"0/0/1/{tt - 1}/{tt} {g.status(tok)} {rng.randrange(100, 9000)} - - ---- 12/12/3/1/0 0/0 "
        f'{{{g.api.host}|{auth or ""}}} {{}} "{method} {target} HTTP/1.1"\n'
    )


def _rfc3339(d: datetime) -> str:
    return f"{d:%Y-%m-%dT%H:%M:%S}"


def line_traefik(g: Gen, t: float) -> str:
    """Traefik's JSON access log with `accessLog.fields.headers` keeping Authorization and User-Agent."""
    tok = g.token(t)
    rng = g.rng
    method, target, auth = g.request(tok, 0.1)
    ip, port, st = g.ip(), rng.randrange(1024, 65535), g.status(tok)
    dur = rng.randrange(200_000, 300_000_000)
    ns = int((t % 1) * 1e9)
    stamp = g.ts(t, _rfc3339)
    size = rng.randrange(0, 9000)
    return (
        f'{{"ClientAddr":"{ip}:{port}","ClientHost":"{ip}","ClientPort":"{port}","ClientUsername":"-",'
        f'"DownstreamContentSize":{size},"DownstreamStatus":{st},"Duration":{dur},"OriginContentSize":{size},'
        f'"OriginDuration":{dur - 150_000},"OriginStatus":{st},"Overhead":150000,"RequestAddr":"{g.api.host}",'
        f'"RequestContentSize":0,"RequestCount":{rng.randrange(1, 10**6)},"RequestHost":"{g.api.host}",'
        f'"RequestMethod":"{method}","RequestPath":"{target}","RequestPort":"-","RequestProtocol":"HTTP/1.1",'
        '"RequestScheme":"https","RetryAttempts":0,"RouterName":"inventory@docker",'
        f'"ServiceName":"inventory@docker","StartLocal":"{stamp}.{ns:09d}Z","StartUTC":"{stamp}.{ns:09d}Z",'
        '"entryPointName":"websecure","level":"info","msg":"",'
        + (f'"request_Authorization":"{auth}",' if auth else "")
        + f'"request_User-Agent":"{rng.choice(USER_AGENTS)}","time":"{stamp}Z"}}\n'
    )


def line_caddy(g: Gen, t: float) -> str:
    """Caddy's JSON access log (headers logged; some clients send the token in a cookie)."""
    tok = g.token(t)
    rng = g.rng
    method, target, auth = g.request(tok, 0.1)
    ip = g.ip()
    headers = f'"User-Agent":["{rng.choice(USER_AGENTS)}"],"Accept":["*/*"]'
    if auth and rng.random() < 0.2:
        headers += f',"Cookie":["ai_user=x{rng.randrange(1, 9999)}; access_token={auth[7:]}; theme=dark"]'
    elif auth:
        headers += f',"Authorization":["{auth}"]'
    dur = rng.randrange(100, 400_000) / 1e6
    return (
        f'{{"level":"info","ts":{t + dur:.7f},"logger":"http.log.access.log0","msg":"handled request",'
        f'"request":{{"remote_ip":"{ip}","remote_port":"{rng.randrange(1024, 65535)}","client_ip":"{ip}",'
        f'"proto":"HTTP/2.0","method":"{method}","host":"{g.api.host}","uri":"{target}","headers":{{{headers}}},'
        f'"tls":{{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"{g.api.host}"}}}},'
        f'"bytes_read":0,"user_id":"","duration":{dur:.9f},"size":{rng.randrange(0, 30000)},'
        f'"status":{g.status(tok)},"resp_headers":{{"Server":["Caddy"],'
        '"Content-Type":["application/json; charset=utf-8"]}}\n'
    )


def _azure_time(d: datetime) -> str:
    return f"{d:%Y-%m-%dT%H:%M:%S}"


def line_appgw(g: Gen, t: float) -> str:
    """Azure Application Gateway access log (diagnostic JSON, every `/` escaped): the gateway logs no
    headers, so the tokens are those of the query; it holds them twice (`originalRequestUriWithArgs`
    and `requestQuery`)."""
    tok = g.token(t)
    rng = g.rng
    path = g.anon_path() if tok is None else g.path()
    query = "" if tok is None else f"access_token={tok.text}"
    if tok is not None:
        g.again(tok)
    with_args = path + ("?" + query if query else "")
    st = g.status(tok)
    return (
        f'{{"timeStamp":"{g.ts(t, _azure_time)}+00:00","resourceId":"\\/SUBSCRIPTIONS\\/0000\\/RESOURCEGROUPS\\/RG'
        '\\/PROVIDERS\\/MICROSOFT.NETWORK\\/APPLICATIONGATEWAYS\\/APPGW","listenerName":"https-listener",'
        '"ruleName":"orders-rule","backendPoolName":"orders-pool","backendSettingName":"orders-https",'
        '"operationName":"ApplicationGatewayAccess","category":"ApplicationGatewayAccessLog","properties":{'
        f'"instanceId":"appgw_{rng.randrange(0, 3)}","clientIP":"{g.ip()}","clientPort":{rng.randrange(1024, 65535)},'
        f'"httpMethod":"GET","originalRequestUriWithArgs":"{with_args.replace("/", chr(92) + "/")}",'
        f'"requestUri":"{path.replace("/", chr(92) + "/")}","requestQuery":"{query}",'
        f'"userAgent":"{rng.choice(USER_AGENTS).replace("/", chr(92) + "/")}","httpStatus":{st},'
        f'"httpVersion":"HTTP\\/1.1","receivedBytes":{rng.randrange(100, 2000)},"sentBytes":{rng.randrange(100, 9000)},'
        f'"timeTaken":{rng.randrange(1, 400) / 1000:.3f},"transactionId":"{rng.getrandbits(128):032x}",'
        f'"sslEnabled":"on","serverRouted":"10.0.3.4:443","serverStatus":"{st}","originalHost":"{g.api.host}",'
        f'"host":"{g.api.host}"}}}}\n'
    )


def line_frontdoor(g: Gen, t: float) -> str:
    """Azure Front Door access log (diagnostic JSON): no headers, so query tokens only."""
    tok = g.token(t)
    rng = g.rng
    target = g.anon_path() if tok is None else f"{g.path()}?access_token={tok.text}"
    ip = g.ip()
    return (
        f'{{"time":"{g.ts(t, _azure_time)}.{int((t % 1) * 1e7):07d}Z","resourceId":"/SUBSCRIPTIONS/0000/'
        'RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CDN/PROFILES/FD","category":"FrontDoorAccessLog",'
        '"operationName":"Microsoft.Cdn/Profiles/AccessLog/Write","properties":{'
        f'"trackingReference":"0{rng.getrandbits(60):015X}","httpMethod":"GET","httpVersion":"2.0.0.0",'
        f'"requestUri":"https://{g.api.host}:443{target}","hostName":"{g.api.host}",'
        f'"requestBytes":"{rng.randrange(100, 3000)}","responseBytes":"{rng.randrange(100, 9000)}",'
        f'"userAgent":"{rng.choice(USER_AGENTS)}","clientIp":"{ip}","clientPort":"{rng.randrange(1024, 65535)}",'
        f'"socketIp":"{ip}","timeTaken":"{rng.randrange(1, 400) / 1000:.3f}","requestProtocol":"HTTPS",'
        f'"securityProtocol":"TLS 1.3","httpStatusCode":"{g.status(tok)}","pop":"AMS",'
        '"cacheStatus":"CONFIG_NOCACHE","errorInfo":"NoError","endpoint":"contoso.azurefd.net",'
        '"isReceivedFromClient":true}}\n'
    )


_SYSLOG_CHATTER = (
    "sshd[2211]: Accepted publickey for deploy from 10.0.0.5 port 52311 ssh2: RSA SHA256:3Yc9Xx0b",
    "CRON[4410]: (root) CMD (/usr/lib/php/sessionclean)",
    "systemd[1]: Started Daily apt download activities.",
    "kernel: [812345.123456] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
)


def line_syslog_signin(g: Gen, t: float) -> str:
    """nginx through syslog (RFC 3164) on the portal's web servers, logging the body of sign-in form
    posts (`"$request_body"`): each /signin-oidc post carries a fresh ID token."""
    rng = g.rng
    head = f"<190>{g.ts(t, _syslog_time)} web0{rng.randrange(1, 4)} "
    if rng.random() < 0.08:
        return f"{head}{rng.choice(_SYSLOG_CHATTER)}\n"
    tok = g.minted(t, ID_TOKEN_MIX, make_id_token)
    ua = rng.choice(USER_AGENTS[:3])
    if tok is None:
        return (f'{head}nginx: {g.ip()} - - [{g.ts(t, _nginx_time)}] "GET {g.anon_path()} HTTP/1.1" 200 '
                f'{rng.randrange(100, 9000)} "-" "{ua}" "-" "-"\n')
    body = (f"code=0.A{b64url(rng.randbytes(120))}&id_token={tok.text}&state=CfDJ8{b64url(rng.randbytes(90))}"
            f"&session_state={_guid(rng)}")
    return (f'{head}nginx: {g.ip()} - - [{g.ts(t, _nginx_time)}] "POST /signin-oidc HTTP/1.1" 302 0 '
            f'"https://login.microsoftonline.com/" "{ua}" "-" "{body}"\n')


def line_app_assertions(g: Gen, t: float) -> str:
    """billing-job's application log: its HTTP client logs each token request's form body, whose
    client assertion is fresh every time, and its calls to the APIs (no tokens)."""
    rng = g.rng
    ms = int((t % 1) * 1000)
    tok = g.minted(t, ASSERTION_MIX, make_assertion)
    if tok is None:
        return (f'{g.ts(t, _iis_time)},{ms:03d} DEBUG urllib3.connectionpool https://{g.api.host}:443 '
                f'"GET {g.path()} HTTP/1.1" 200 {rng.randrange(50, 9000)}\n')
    status = 200 if tok.cause == "ok" else 401
    return (
        f"{g.ts(t, _iso_time)}.{ms:03d}Z INFO [svc:1877] http: POST {TOKEN_ENDPOINT} -> {status} "
        f"({rng.randrange(40, 400)} ms) body=client_id={BILLING}&client_assertion_type=urn%3Aietf%3Aparams"
        f"%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={tok.text}"
        f"&scope=api%3A%2F%2F{g.api.name}%2F.default&grant_type=client_credentials\n"
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileSpec:
    rel: str  # `{part}` where the file is split into parts of `part_bytes`
    fmt: str
    api: str
    share: float  # of the total uncompressed bytes
    t0: float  # slice of the timeline (fractions)
    t1: float
    token_ratio: float
    part_bytes: int = 0


LINE_FUNCS: dict[str, Callable[[Gen, float], str]] = {
    "nginx": line_nginx,
    "envoy": line_envoy,
    "json": line_json,
    "iis": line_iis,
    "alb": line_alb,
    "apache": line_apache,
    "ingress": line_ingress,
    "haproxy": line_haproxy,
    "traefik": line_traefik,
    "caddy": line_caddy,
    "appgw": line_appgw,
    "frontdoor": line_frontdoor,
    "syslog": line_syslog_signin,
    "app": line_app_assertions,
}
MINTED = frozenset({"syslog", "app"})  # formats whose tokens are minted per request, not from the pool
# Average line lengths with and without a token differ a lot; token ratios are per line.
FILES = (
    FileSpec("nginx/orders-access.log.1.gz", "nginx", "orders", 0.05, 0.0, 0.25, 0.50),
    FileSpec("nginx/orders-access.log", "nginx", "orders", 0.153, 0.25, 1.0, 0.50),
    FileSpec("envoy/gateway.log", "envoy", "inventory", 0.10, 0.0, 1.0, 0.50),
    FileSpec("app/inventory-api.1.jsonl.zst", "json", "inventory", 0.03, 0.0, 0.25, 0.40),
    FileSpec("app/inventory-api.jsonl", "json", "inventory", 0.09, 0.25, 1.0, 0.40),
    FileSpec("iis/u_ex261120.log", "iis", "portal", 0.09, 0.0, 1.0, 0.42),
    FileSpec("alb/orders-alb_part{part}.log.gz", "alb", "orders", 0.08, 0.0, 1.0, 0.33, 32 * 10**6),
    FileSpec("apache/portal-ssl_access.log.1.bz2", "apache", "portal", 0.02, 0.0, 0.3, 0.45),
    FileSpec("apache/portal-ssl_access.log", "apache", "portal", 0.04, 0.3, 1.0, 0.45),
    FileSpec("ingress/ingress-nginx-controller-7d9f8c6b5-x2k4p_ingress-nginx_controller-"
             "3f2a9c1e7b.log", "ingress", "inventory", 0.07, 0.0, 1.0, 0.45),
    FileSpec("haproxy/haproxy.log", "haproxy", "orders", 0.06, 0.0, 1.0, 0.45),
    FileSpec("traefik/access.log", "traefik", "inventory", 0.05, 0.0, 1.0, 0.45),
    FileSpec("caddy/portal-access-2026-11-20T00-00-00.000.log.gz", "caddy", "portal", 0.02, 0.0, 0.3, 0.45),
    FileSpec("caddy/portal-access.log", "caddy", "portal", 0.04, 0.3, 1.0, 0.45),
    FileSpec("azure/appgw/PT1H.json", "appgw", "orders", 0.05, 0.0, 1.0, 0.38),
    FileSpec("azure/frontdoor/PT1H.json.gz", "frontdoor", "portal", 0.04, 0.0, 1.0, 0.40),
    FileSpec("syslog/messages", "syslog", "portal", 0.012, 0.0, 1.0, 0.15),
    FileSpec("billing/billing-job.log.bz2", "app", "orders", 0.005, 0.0, 1.0, 0.60),
)


def _open_out(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        try:
            from isal import igzip  # fast gzip when available (an analyzer dependency)

            return igzip.open(path, "wb", compresslevel=1)
        except ImportError:  # pragma: no cover
            return gzip.open(path, "wb", compresslevel=1)
    if path.suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(path.open("wb"), closefd=True)
    if path.suffix == ".bz2":
        return bz2.open(path, "wb", compresslevel=9)  # bzip2's default, as logrotate leaves it
    return path.open("wb")


def write_file(
    path: Path, spec: FileSpec, target: int, t_start: float, t_end: float, pool: Pool, rng: random.Random
) -> dict[str, Any]:
    """Write about `target` uncompressed bytes of `spec.fmt` lines spanning [t_start, t_end)."""
    g = Gen(rng, pool, APIS[spec.api], spec.token_ratio)
    render = LINE_FUNCS[spec.fmt]
    written = lines = 0
    avg = 600.0  # bytes per line; refined after each block
    t = t_start
    with _open_out(path) as out:
        if spec.fmt == "iis":
            head = iis_header(t)
            out.write(head.encode())
            written += len(head)
            lines += 4
        while written < target:
            cap = BLOCK_LINES if lines > 64 else 64  # a small first block measures the line length
            left = (target - written) / avg  # lines still to write, as far as the average says
            n = cap if left > 2 * cap else max(1, int(left / 2) + 1)  # the last ones: halve, re-measure
            dt = (t_end - t_start) * avg / target
            parts = []
            for _ in range(n):
                parts.append(render(g, t))
                t += dt
            if spec.fmt == "iis" and rng.random() < 0.01:  # an app pool recycle writes the directives again
                parts.append(iis_header(t))
                lines += 4
            block = "".join(parts)
            out.write(block.encode("ascii"))
            written += len(block)
            lines += n
            avg = written / lines
    os.utime(path, (t_end, t_end))  # last written at its last line: year-less times (RFC 3164) take its year
    return {
        "path": path.as_posix(),
        "format": spec.fmt,
        "bytes": written,
        "disk_bytes": path.stat().st_size,
        "lines": lines,
        "tokens": g.tokens,
        "causes": dict(g.causes),
        "unique_minted": dict(g.fresh),
    }


def write_config(out: Path, signer: Signer) -> None:
    (out / "jwks.json").write_text(json.dumps(signer.jwks(), indent=2) + "\n")
    lines = [
        "# analyzer config for the benchmark corpus (benchmarks/make_corpus.py); throwaway keys.",
        f"leeway_seconds = {LEEWAY}",
        "offline = true",
        "",
        "[[issuer]]",
        'jwks_file = "jwks.json"',
    ]
    sources = {"orders": ["nginx/orders-access.log*"], "inventory": ["ingress/*"]}  # their lines name no host
    for api in APIS.values():
        lines += ["", "[[api]]", f'name = "{api.name}"', f'hosts = ["{api.host}"]']
        if api.name in sources:
            lines.append(f"sources = {json.dumps(sources[api.name])}")
        lines += [f'audiences = ["api://{api.name}", "{api.app_id}"]', f'issuers = ["{ISSUER}"]']
    lines += ["", "[[client]]", f'client_id = "{BILLING}"', 'name = "billing-job"',
              f'certificate_thumbprints = ["{REGISTERED_CERT.hex().upper()}"]',
              "", "[[client]]", f'client_id = "{WEB_APP}"', 'name = "portal-web"']
    for i, cid in enumerate(CLIENT_IDS):
        lines += ["", "[[client]]", f'client_id = "{cid}"', f'name = "client-{i:02d}"']
    (out / "analyzer.toml").write_text("\n".join(lines) + "\n")


def plan_files(size: int) -> list[tuple[FileSpec, str, int, float, float]]:
    """(spec, relative path, target bytes, t0 fraction, t1 fraction) for every file."""
    plan = []
    for spec in FILES:
        target = max(1, int(size * spec.share))
        if spec.part_bytes:
            parts = max(2, math.ceil(target / spec.part_bytes))
            for k in range(parts):
                a = spec.t0 + (spec.t1 - spec.t0) * k / parts
                b = spec.t0 + (spec.t1 - spec.t0) * (k + 1) / parts
                plan.append((spec, spec.rel.format(part=f"{k + 1:04d}"), target // parts, a, b))
        else:
            plan.append((spec, spec.rel, target, spec.t0, spec.t1))
    return plan


TYPICAL_TOKEN = "eyJ" + "x" * 1207  # as long as the pool's access tokens (1.21 KB on average)


def occurrences_per_byte(spec: FileSpec) -> float:
    """Token occurrences per uncompressed byte of a pool format's lines (a dry run of 400 lines)."""
    rng = random.Random(spec.fmt)
    pool = Pool([PoolToken(TYPICAL_TOKEN, "ok", T0)], 10**9)
    g = Gen(rng, pool, APIS[spec.api], spec.token_ratio)
    nbytes = sum(len(LINE_FUNCS[spec.fmt](g, T0 + i)) for i in range(400))
    return g.tokens / nbytes


def estimate_unique(size: int) -> dict[str, int]:
    """Unique pool tokens per API: ~3 per 100 expected occurrences."""
    per_api: dict[str, float] = dict.fromkeys(APIS, 0.0)
    for spec in FILES:
        if spec.fmt not in MINTED:
            per_api[spec.api] += size * spec.share * occurrences_per_byte(spec)
    return {name: max(20, int(occ * 0.03)) for name, occ in per_api.items()}


def make_corpus(
    out: Path, size: int, seed: int = 7, quiet: bool = False, jobs: int | None = None
) -> dict[str, Any]:
    """Generate the corpus under `out` (logs/, analyzer.toml, jwks.json, corpus.json); the manifest."""
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    unique = estimate_unique(size)
    pool_unique = sum(unique.values())
    # The span is chosen so that about CONCURRENT_TOKENS tokens are in use at any time.
    span = max(3 * 3600, int(pool_unique * 3600 / CONCURRENT_TOKENS))
    logs = out / "logs"
    out.mkdir(parents=True, exist_ok=True)
    _STATE.clear()
    _STATE.update(signer=Signer(), span=span, seed=seed, logs=logs)
    with _executor(jobs) as ex:
        _STATE["pools"] = pools = build_pools(ex, seed, unique, span)
    t_pool = time.perf_counter() - started
    write_config(out, _STATE["signer"])
    plan = plan_files(size)
    plan.sort(key=lambda job: -job[2] * (8 if job[0].fmt in MINTED else 1))  # biggest first (signing weighs)
    with _executor(jobs) as ex:  # a new pool: forked after the token pool exists
        files = list(ex.map(_write_job, plan))
    _STATE.clear()
    files.sort(key=lambda f: f["path"])
    if not quiet:
        for info in files:
            print(
                f"  {info['path']}: {info['bytes'] / 1e6:.1f} MB, {info['lines']} lines, "
                f"{info['tokens']} tokens",
                file=sys.stderr,
            )
    causes: Counter[str] = Counter()
    unique_causes = Counter(tok.cause for p in pools.values() for tok in p.tokens)
    by_format: dict[str, dict[str, int]] = {}
    for f in files:
        causes.update(f["causes"])
        unique_causes.update(f["unique_minted"])
        agg = by_format.setdefault(f["format"], {"files": 0, "bytes": 0, "lines": 0, "tokens": 0})
        for key in ("bytes", "lines", "tokens"):
            agg[key] += f[key]
        agg["files"] += 1
    nbytes = sum(f["bytes"] for f in files)
    manifest = {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "size": size,
        "bytes": nbytes,
        "disk_bytes": sum(f["disk_bytes"] for f in files),
        "compressed_bytes": sum(f["bytes"] for f in files if f["path"].endswith(COMPRESSED)),
        "lines": sum(f["lines"] for f in files),
        "tokens": sum(f["tokens"] for f in files),
        "unique_tokens": sum(unique_causes.values()),
        "unique_by_cause": dict(unique_causes),
        "occurrences_by_cause": dict(causes),
        "by_format": {k: {**v, "share": round(v["bytes"] / nbytes, 4)} for k, v in sorted(by_format.items())},
        "timeline": [
            datetime.fromtimestamp(T0, UTC).isoformat(),
            datetime.fromtimestamp(T0 + span, UTC).isoformat(),
        ],
        "files": files,
        "seconds": {"pool": round(t_pool, 2), "total": round(time.perf_counter() - started, 2)},
    }
    (out / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


COMPRESSED = (".gz", ".zst", ".bz2")




def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--size", type=parse_size, default=parse_size("200MB"), help="uncompressed bytes (200MB, 1GB)"
    )
    ap.add_argument("--out", type=Path, required=True, help="directory to write (logs/ and config inside)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=None, help="processes (default: one per core)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    m = make_corpus(args.out, args.size, args.seed, args.quiet, args.jobs)
    print(
        f"{args.out}: {m['bytes'] / 1e6:.1f} MB uncompressed ({m['disk_bytes'] / 1e6:.1f} MB on disk, "
        f"{m['compressed_bytes'] / m['bytes']:.0%} compressed), {m['lines']} lines, {m['tokens']} tokens, "
        f"{m['unique_tokens']} unique, in {m['seconds']['total']} s (pool {m['seconds']['pool']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
