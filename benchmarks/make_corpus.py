#!/usr/bin/env python3
"""Generate a realistic log corpus of a chosen size for the throughput benchmark.

    python benchmarks/make_corpus.py --size 500MB --out /tmp/corpus [--seed 7]

Writes, under OUT:
  logs/                               the corpus (scan this directory)
    nginx/orders-access.log           nginx `combined` + "$http_authorization"          (plain)
    nginx/orders-access.log.1.gz      the same, rotated: the first part of the timeline (gzip)
    envoy/gateway.log                 Envoy default format + "%REQ(AUTHORIZATION)%"      (plain)
    app/inventory-api.jsonl           ASP.NET Core / Serilog compact JSON, Headers.Authorization (plain)
    app/inventory-api.1.jsonl.zst     the same, rotated                                 (zstd)
    iis/u_ex<date>.log                IIS W3C with #Fields, token in cs(Authorization) or the query
    alb/orders-alb_partNNNN.log.gz    AWS ALB access logs, SignalR-style ?access_token=  (gzip)
  analyzer.toml, jwks.json            config for `analyzer scan logs --config analyzer.toml`
  corpus.json                         manifest: bytes (on disk and uncompressed), lines and token
                                      occurrences per file, unique tokens, intended cause mix

Sizes are uncompressed bytes; about 20% of them are gzip, 5% zstd. Like real logs, most lines
carry no token (health checks, static files, framework chatter): about one line in three has one.
Tokens are reused as clients reuse them: a pool of about 3 unique tokens per 100 occurrences, each
used during its own hour by one client. The unique tokens' intended causes: mostly ok, some
expired, audience_mismatch, unknown_kid, bad_signature and malformed (truncated by the log).

Fast: tokens are signed once (RSA-2048, ~0.4 ms each), lines are formatted from templates and
written in blocks of a few MB; 1 GB takes well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import gzip
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
GENERATOR_VERSION = 3  # bump when the corpus changes: run.py regenerates kept corpora of older versions

SIGNING_KID = "bench-2026-11"  # signs the valid tokens, published
SPARE_KID = "bench-2026-12"  # published, unused
OLD_KID = "bench-2026-10"  # retired: NOT published -> unknown_kid


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
            for kid in (SIGNING_KID, SPARE_KID, OLD_KID)
        }
        self._pad = padding.PKCS1v15()
        self._hash = hashes.SHA256()

    def sign(self, claims: dict[str, Any], kid: str) -> str:
        head = b64json({"alg": "RS256", "kid": kid, "typ": "JWT"})
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
    _sec: int = -1
    _fmt: str = ""

    def ts(self, t: float, fmt: Callable[[datetime], str]) -> str:
        s = int(t)
        if s != self._sec:
            self._sec = s
            self._fmt = fmt(datetime.fromtimestamp(s, UTC))
        return self._fmt

    def token(self, t: float) -> PoolToken | None:
        if self.rng.random() >= self.token_ratio:
            return None
        tok = self.pool.pick(self.rng, t)
        self.tokens += 1
        self.causes[tok.cause] += 1
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


def _nginx_time(d: datetime) -> str:
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S} +0000"


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


def _iso_time(d: datetime) -> str:
    return f"{d:%Y-%m-%dT%H:%M:%S}"


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


def _iis_time(d: datetime) -> str:
    return f"{d:%Y-%m-%d %H:%M:%S}"


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


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileSpec:
    rel: str
    fmt: str
    api: str
    share: float  # of the total uncompressed bytes
    t0: float  # slice of the timeline (fractions)
    t1: float
    token_ratio: float


LINE_FUNCS: dict[str, Callable[[Gen, float], str]] = {
    "nginx": line_nginx,
    "envoy": line_envoy,
    "json": line_json,
    "iis": line_iis,
    "alb": line_alb,
}
# Average line lengths with and without a token differ a lot; token ratios are per line.
FILES = (
    FileSpec("nginx/orders-access.log.1.gz", "nginx", "orders", 0.07, 0.0, 0.25, 0.40),
    FileSpec("nginx/orders-access.log", "nginx", "orders", 0.23, 0.25, 1.0, 0.40),
    FileSpec("envoy/gateway.log", "envoy", "inventory", 0.20, 0.0, 1.0, 0.40),
    FileSpec("app/inventory-api.1.jsonl.zst", "json", "inventory", 0.05, 0.0, 0.25, 0.30),
    FileSpec("app/inventory-api.jsonl", "json", "inventory", 0.15, 0.25, 1.0, 0.30),
    FileSpec("iis/u_ex261120.log", "iis", "portal", 0.17, 0.0, 1.0, 0.33),
    FileSpec("alb/orders-alb.log.gz", "alb", "orders", 0.13, 0.0, 1.0, 0.25),  # split into parts
)
ALB_PART_BYTES = 32 * 10**6


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
            n = max(1, min(cap, int((target - written) / avg) + 1))
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
            avg = len(block) / n
    return {
        "path": path.as_posix(),
        "format": spec.fmt,
        "bytes": written,
        "disk_bytes": path.stat().st_size,
        "lines": lines,
        "tokens": g.tokens,
        "causes": dict(g.causes),
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
    for api in APIS.values():
        lines += ["", "[[api]]", f'name = "{api.name}"', f'hosts = ["{api.host}"]']
        if api.name == "orders":
            lines.append('sources = ["nginx/orders-access.log*"]')
        lines += [f'audiences = ["api://{api.name}", "{api.app_id}"]', f'issuers = ["{ISSUER}"]']
    for i, cid in enumerate(CLIENT_IDS):
        lines += ["", "[[client]]", f'client_id = "{cid}"', f'name = "client-{i:02d}"']
    (out / "analyzer.toml").write_text("\n".join(lines) + "\n")


def plan_files(size: int) -> list[tuple[FileSpec, str, int, float, float]]:
    """(spec, relative path, target bytes, t0 fraction, t1 fraction) for every file."""
    plan = []
    for spec in FILES:
        target = max(1, int(size * spec.share))
        if spec.fmt == "alb":
            parts = max(2, math.ceil(target / ALB_PART_BYTES))
            for k in range(parts):
                a = spec.t0 + (spec.t1 - spec.t0) * k / parts
                b = spec.t0 + (spec.t1 - spec.t0) * (k + 1) / parts
                plan.append((spec, f"alb/orders-alb_part{k + 1:04d}.log.gz", target // parts, a, b))
        else:
            plan.append((spec, spec.rel, target, spec.t0, spec.t1))
    return plan


def estimate_unique(size: int) -> dict[str, int]:
    """Unique tokens per API: ~3 per 100 expected occurrences (from typical line lengths)."""
    per_api: dict[str, float] = dict.fromkeys(APIS, 0.0)
    for spec in FILES:
        # bytes per line ~ ratio*1500 + (1-ratio)*220: token lines are long
        avg = spec.token_ratio * 1550 + (1 - spec.token_ratio) * 230
        per_api[spec.api] += size * spec.share / avg * spec.token_ratio
    return {name: max(20, int(occ * 0.03)) for name, occ in per_api.items()}


def make_corpus(
    out: Path, size: int, seed: int = 7, quiet: bool = False, jobs: int | None = None
) -> dict[str, Any]:
    """Generate the corpus under `out` (logs/, analyzer.toml, jwks.json, corpus.json); the manifest."""
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    unique = estimate_unique(size)
    total_unique = sum(unique.values())
    # The span is chosen so that about CONCURRENT_TOKENS tokens are in use at any time.
    span = max(3 * 3600, int(total_unique * 3600 / CONCURRENT_TOKENS))
    logs = out / "logs"
    out.mkdir(parents=True, exist_ok=True)
    _STATE.clear()
    _STATE.update(signer=Signer(), span=span, seed=seed, logs=logs)
    with _executor(jobs) as ex:
        _STATE["pools"] = pools = build_pools(ex, seed, unique, span)
    t_pool = time.perf_counter() - started
    write_config(out, _STATE["signer"])
    plan = plan_files(size)
    plan.sort(key=lambda job: -job[2])  # biggest first: the workers finish together
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
    for f in files:
        causes.update(f["causes"])
    pool_causes = Counter(tok.cause for p in pools.values() for tok in p.tokens)
    manifest = {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "size": size,
        "bytes": sum(f["bytes"] for f in files),
        "disk_bytes": sum(f["disk_bytes"] for f in files),
        "compressed_bytes": sum(f["bytes"] for f in files if f["path"].endswith((".gz", ".zst"))),
        "lines": sum(f["lines"] for f in files),
        "tokens": sum(f["tokens"] for f in files),
        "unique_tokens": total_unique,
        "unique_by_cause": dict(pool_causes),
        "occurrences_by_cause": dict(causes),
        "timeline": [
            datetime.fromtimestamp(T0, UTC).isoformat(),
            datetime.fromtimestamp(T0 + span, UTC).isoformat(),
        ],
        "files": files,
        "seconds": {"pool": round(t_pool, 2), "total": round(time.perf_counter() - started, 2)},
    }
    (out / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


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
