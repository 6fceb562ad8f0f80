"""A deterministic multi-format corpus with ground truth for every token occurrence.

    from realistic_corpus import build
    corpus = build(out_dir, metadata_url=idp_url)      # or build(out_dir) for an offline config
    corpus.logs          # the directory to scan
    corpus.config        # analyzer.toml (metadata_url of the tenant's v2 metadata, or jwks_file)
    corpus.truth         # one Occurrence per token occurrence: file, line, cause, ts, host, ...
    corpus.keys          # the key pairs whose public halves the IdP must publish

One day (2026-11-26 UTC) of traffic to one API (`orders.contoso.com`), logged by every kind of
front the tool reads (31 layouts, `FORMATS`): nginx (combined, `$host` and `rt=` appended, an
X-Forwarded-For list first, `$host` first, a logged form_post body, the error log), ingress-nginx
(also CRI-wrapped), Apache `vhost_combined`, Envoy (default, `ACCESS `-prefixed, Docker-wrapped with
Go's escapes, START_TIME with a local offset), Istio (text and JSON), HAProxy (syslog; the host
captured, or logged after the request), IIS (with and without `#Fields:`, also with X-Forwarded-For;
CRLF), AWS ALB (IPv6 clients, WebSockets whose `time` is minutes after `request_creation_time`),
Classic ELB, Traefik (JSON and CLF), Caddy (tokens also in cookies), Azure Application Gateway
(escaped slashes) and Front Door, Serilog compact JSON (with a BOM), nginx wrapped in RFC 3164 and
RFC 5424 syslog, and an app's log of its outgoing calls (token requests with client assertions,
calls to the API and to Graph). Times without a zone are the servers' local time (`TIMEZONE`, set
in the config). Some files are gzip (one of two members) or bz2, as rotated logs are.

Each request's token is chosen from a failure mix that covers every cause code: v1 and v2 tokens
of the tenant (both verified by the tenant's v2 key set), expired and not-yet-valid ones, a rotated
kid, an altered signature, another tenant's, another API's and Graph's tokens, ID tokens as bearer
tokens and sign-ins without a nonce, unsigned, encrypted, truncated and claim-less tokens, tokens
200 s and 400 s past their exp or before their nbf (the leeway is 300 s), hybrid-flow form posts
with two tokens on a line, and client assertions signed with a registered and with an
unregistered certificate.

The truth records what the line itself can say: `ts` is when the request arrived where the format
logs that or logs a duration to take off (`request_creation_time`, `rt=`, `time-taken`, a WebSocket
closed minutes later), and when the entry was written where it logs neither (nginx's plain
`$time_local`, `end_only`); `host`, `client_ip`, `status` are None where the format does not
carry them. `truth.csv` beside the logs holds the same rows. Keys are the DEMO-ONLY throwaway keys of
`sample_logs/demo-keys/` (made fresh when missing), so the same seed gives the same bytes.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jwts as T

ROOT = Path(__file__).resolve().parent.parent
DEMO_KEYS = ROOT / "sample_logs" / "demo-keys"

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
HOST = "orders.contoso.com"
LOGIN = "login.microsoftonline.com"
ORDERS_APP = "6e7c1b0a-0000-0000-0000-000000000001"
INVENTORY_APP = "6e7c1b0a-0000-0000-0000-000000000003"
WEB_APP = "6e7c1b0a-0000-0000-0000-000000000010"
BILLING = "6e7c1b0a-0000-0000-0000-000000000002"
CLIENTS = [f"6e7c1b0a-0000-0000-0000-0000000001{i:02x}" for i in range(8)]
DAY0 = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp())
H = 3600
LEEWAY = 300
TIMEZONE = "Europe/Berlin"  # the servers' local zone: times written without a zone are in it (UTC+1 in November)
LOCAL = ZoneInfo(TIMEZONE)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UAS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
       "Mozilla/5.0 (compatible; \\x22quoted\\x22 [bot]; +https://example.com)",
       "okhttp/4.12.0", "python-requests/2.32.3", "Go-http-client/2.0", "curl/8.5.0")
PATHS = ("/v1/orders", "/v1/orders/{n}", "/v1/orders/{n}/lines", "/v1/customers/{n}", "/v1/cart")


# --------------------------------------------------------------------------- keys and tokens


@dataclass(frozen=True)
class Keys:
    signing: T.KeyPair  # published; signs the tenant's tokens (v1 and v2)
    spare: T.KeyPair  # published, unused
    old: T.KeyPair  # rotated out: not published -> unknown_kid
    registered: T.KeyPair  # billing-job's registered certificate
    unregistered: T.KeyPair  # its renewed certificate, never uploaded
    registered_cert: T.SelfSignedCert
    unregistered_cert: T.SelfSignedCert

    @property
    def published(self) -> list[T.KeyPair]:
        return [self.signing, self.spare]


def load_keys() -> Keys:
    loaded = {}
    for kid in ("demo-2026-11", "demo-2026-12", "old-2026-10", "billing-job-2026", "billing-job-2027"):
        path = DEMO_KEYS / f"DEMO-ONLY-{kid}.pem"
        if path.exists():
            loaded[kid] = T.load_key(path, kid)
        else:  # pragma: no cover - the sample keys are committed
            loaded[kid] = T.make_rsa_key(kid)

    def with_cert(kid: str) -> T.KeyPair:
        cert = T.make_self_signed_cert(loaded[kid], f"{kid} DEMO ONLY", datetime(2026, 9, 1, tzinfo=UTC))
        return loaded[kid].with_cert(cert.cert)

    reg = T.make_self_signed_cert(loaded["billing-job-2026"], "billing-job", datetime(2026, 1, 5, tzinfo=UTC), 365)
    unreg = T.make_self_signed_cert(loaded["billing-job-2027"], "billing-job", datetime(2026, 11, 20, tzinfo=UTC),
                                    365)
    return Keys(with_cert("demo-2026-11"), with_cert("demo-2026-12"), with_cert("old-2026-10"),
                loaded["billing-job-2026"], loaded["billing-job-2027"], reg, unreg)


@dataclass(frozen=True)
class Variant:
    """One kind of token: its true cause, where it is sent, and how it is minted for an hour."""

    name: str
    cause: str
    weight: float
    param: str = "access_token"  # the query parameter when not in a header
    header: bool | None = None  # True: only in an Authorization header; False: never; None: either
    assertion: bool = False  # a client assertion in a token request body (app logs only)
    graph_call: bool = False  # a Graph token on a call to Graph (app logs only)
    per_request: bool = False  # minted for this request: its times are relative to the request's
    hybrid: bool = False  # an OIDC hybrid-flow form post: an ID token and an access token on one line


VARIANTS: tuple[Variant, ...] = (
    Variant("ok_v2", "ok", 50),
    Variant("ok_v1", "ok", 20),
    Variant("signin_ok", "ok", 3, param="id_token", header=False),
    Variant("expired_v2", "expired", 4),
    Variant("expired_v1", "expired", 2),
    Variant("not_yet_valid", "not_yet_valid", 1),
    Variant("other_api", "audience_mismatch", 2),
    Variant("graph", "audience_mismatch", 1.5),
    Variant("other_tenant", "issuer_mismatch", 1.5),
    Variant("rotated_v2", "unknown_kid", 1.5),
    Variant("rotated_v1", "unknown_kid", 1),
    Variant("altered_v2", "bad_signature", 1.5),
    Variant("altered_v1", "bad_signature", 1),
    Variant("truncated", "malformed", 1),
    Variant("encrypted", "encrypted", 0.7),
    Variant("alg_none", "unsupported_alg", 0.7),
    Variant("no_exp", "missing_claims", 0.7),
    Variant("id_as_bearer", "wrong_token_type", 1, header=True),
    Variant("signin_no_nonce", "missing_nonce", 0.7, param="id_token", header=False),
    Variant("assertion_ok", "ok", 3, assertion=True),
    Variant("assertion_unregistered", "client_assertion_key_mismatch", 3, assertion=True),
    Variant("graph_call", "ok", 2, header=True, graph_call=True),
    # Near the edges of the leeway (300 s): the request time decides, so it must be read right.
    Variant("exp_within_leeway", "ok", 1.5, per_request=True),
    Variant("exp_past_leeway", "expired", 1.5, per_request=True),
    Variant("nbf_within_leeway", "ok", 1, per_request=True),
    Variant("nbf_past_leeway", "not_yet_valid", 1, per_request=True),
    Variant("signin_v1", "ok", 1, param="id_token", header=False),
    Variant("hybrid_form_post", "ok", 0, param="id_token", header=False, hybrid=True),  # nginx-form-post only
)


class Minter:
    """Tokens per (variant, client, hour): reused within the hour as clients reuse them."""

    def __init__(self, keys: Keys, seed: int) -> None:
        self.keys = keys
        self.seed = seed
        self.cache: dict[tuple[str, int, int], str] = {}

    def token(self, v: Variant, client: int, t: float, judged: float | None = None) -> str:
        """The token `client` sends at `t`; `judged` is the time the line says the request was made."""
        if v.per_request:
            j = int(judged if judged is not None else t)
            return self._mint(v, client, j, random.Random(f"{self.seed}-{v.name}-{t}"))
        hour = int(t - DAY0) // H
        if v.assertion:  # a new assertion for every token request, made just before it
            return self._mint(v, client, int(t) - 2, random.Random(f"{self.seed}-{v.name}-{t}"))
        key = (v.name, client, hour)
        if key not in self.cache:
            self.cache[key] = self._mint(v, client, DAY0 + hour * H, random.Random(f"{self.seed}-{key}"))
        return self.cache[key]

    def _mint(self, v: Variant, client: int, h: int, rng: random.Random) -> str:
        k = self.keys
        cid = CLIENTS[client]
        valid = {"iat": h - 300, "exp": h + H + 300}  # valid all through the hour [h, h + 1 h)

        def access(version: str = "2.0", key: T.KeyPair | None = None, tenant: str = TENANT,
                   aud: str | None = None, **kw: Any) -> str:
            aud = aud or (ORDERS_APP if version == "2.0" else "api://orders")
            times = {"iat": kw.pop("iat", valid["iat"]), "exp": kw.pop("exp", valid["exp"])}
            claims = T.access_token_claims(tenant, aud, cid, version, scp="Orders.Read", seed=rng, **times, **kw)
            key = key or k.signing
            headers = {"x5t": T.cert_x5t(key.cert)} if version == "1.0" and key.cert else None
            return T.sign(claims, key, "RS256", headers)

        def id_token(nonce: bool) -> str:
            claims = T.id_token_claims(TENANT, WEB_APP, nonce=T.b64url(rng.randbytes(24)) if nonce else None,
                                       seed=rng, **valid)
            return T.sign(claims, k.signing, "RS256")

        n = v.name
        if n == "exp_within_leeway":  # here h is the request's time
            return access(iat=h - 3800, exp=h - 200)
        if n == "exp_past_leeway":
            return access(iat=h - 4000, exp=h - 400)
        if n == "nbf_within_leeway":
            return access(iat=h + 200, nbf=h + 200, exp=h + 3800)
        if n == "nbf_past_leeway":
            return access(iat=h + 400, nbf=h + 400, exp=h + 4000)
        if n == "ok_v2":
            return access()
        if n == "ok_v1":
            return access("1.0")
        if n in ("signin_ok", "hybrid_form_post"):
            return id_token(True)
        if n == "signin_v1":
            claims = T.id_token_claims(TENANT, WEB_APP, nonce=T.b64url(rng.randbytes(24)), version="1.0",
                                       seed=rng, **valid)
            return T.sign(claims, k.signing, "RS256", {"x5t": T.cert_x5t(k.signing.cert)})  # type: ignore[arg-type]
        if n == "signin_no_nonce":
            return id_token(False)
        if n == "id_as_bearer":
            return id_token(True)
        if n in ("expired_v2", "expired_v1"):
            return access("2.0" if n.endswith("v2") else "1.0", iat=h - 2 * H - 1200, exp=h - H - 1200)
        if n == "not_yet_valid":
            return access(iat=h + H + 1200, exp=h + 3 * H, nbf=h + H + 1200)
        if n == "other_api":
            return access(aud=INVENTORY_APP)
        if n in ("graph", "graph_call"):
            claims = T.access_token_claims(TENANT, T.GRAPH_APP_ID, cid, "1.0", scp="User.Read", seed=rng, **valid)
            return T.sign(claims, k.signing, "RS256", {"nonce": T.b64url(rng.randbytes(32)),
                                                       "x5t": T.cert_x5t(k.signing.cert)})  # type: ignore[arg-type]
        if n == "other_tenant":
            return access(tenant=OTHER_TENANT, key=k.old)
        if n in ("rotated_v2", "rotated_v1"):
            return access("2.0" if n.endswith("v2") else "1.0", key=k.old)
        if n in ("altered_v2", "altered_v1"):
            return T.tamper_signature(access("2.0" if n.endswith("v2") else "1.0"), rng)
        if n == "truncated":  # a payload segment that is not base64url (its length is 1 mod 4)
            hd, p, s = access().split(".")
            return f"{hd}.{p + 'Q' * ((1 - len(p)) % 4)}.{s}"
        if n == "encrypted":
            return T.jwe_like(rng, {"kid": "orders-enc-2026", "cty": "JWT"}, 600)
        if n == "alg_none":
            return T.unsigned(T.access_token_claims(TENANT, ORDERS_APP, cid, seed=rng, scp="Orders.Read", **valid))
        if n == "no_exp":
            return access(omit=("exp",))
        if n == "assertion_ok":
            return T.client_assertion(BILLING, TENANT, k.registered, k.registered_cert, h, seed=rng)
        if n == "assertion_unregistered":
            return T.client_assertion(BILLING, TENANT, k.unregistered, k.unregistered_cert, h,
                                      seed=rng)
        raise ValueError(n)


# --------------------------------------------------------------------------- requests and formats


@dataclass
class Req:
    t: float  # when the request arrived (epoch seconds)
    dur: float  # seconds until the response was logged
    method: str
    host: str
    path: str
    query: str  # without '?', may be ''
    status: int
    ip: str
    ua: str
    auth: str | None  # the Authorization header value, or None
    token: str | None
    form: str | None = None  # a form body (token requests)
    also: list[tuple[str, str, str]] = field(default_factory=list)  # (param, variant, cause) of more tokens

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    @property
    def end(self) -> float:
        return self.t + self.dur


def clf(t: float, off_h: int = 0) -> str:
    d = datetime.fromtimestamp(int(t) + off_h * H, UTC)
    sign = "+" if off_h >= 0 else "-"
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S} {sign}{abs(off_h):02d}00"


def local(t: float) -> datetime:
    """A time as a server in TIMEZONE writes it when its log format carries no zone."""
    return datetime.fromtimestamp(t, LOCAL)


def iso(t: float, digits: int = 3) -> str:
    d = datetime.fromtimestamp(t, UTC)
    frac = f"{t % 1:.{digits}f}"[1:] if digits else ""
    return f"{d:%Y-%m-%dT%H:%M:%S}{frac}Z"


def q(s: str | None) -> str:
    return s if s else "-"


@dataclass(frozen=True)
class Fmt:
    """A log format: how a request becomes a line, and which truth fields the line carries."""

    name: str
    write: Callable[[Req, random.Random], str]
    header: bool  # can carry an Authorization header
    host: bool = True
    ip: bool = True
    status: bool = True
    ext: str = ".log"
    long_requests: bool = False  # logs the end of WebSockets / long polls (the tool must take dur off)
    end_only: bool = False  # logs only when the response finished, and no duration: ts is that time
    noise: Callable[[float, random.Random], str] | None = None
    prologue: str = ""
    fname: str = ""  # the file's name, where it is not access<ext>
    layout: str = ""  # "crlf" (Windows line ends), "bom" (UTF-8 BOM first), "members" (two gzip members),
    # "no-final-newline"


def _nginx(r: Req, off: int = 0) -> str:
    size = 512 if r.status < 400 else 0
    return (f'{r.ip} - - [{clf(r.end, off)}] "{r.method} {r.target} HTTP/1.1" {r.status} {size} '
            f'"-" "{r.ua}"')


def nginx_combined(r: Req, rng: random.Random) -> str:
    return _nginx(r, -8) + f' "{q(r.auth)}"'


def nginx_vhost(r: Req, rng: random.Random) -> str:
    return _nginx(r) + f' "{r.host}" "{q(r.auth)}" rt={r.dur:.3f}'


def nginx_xff(r: Req, rng: random.Random) -> str:
    line = _nginx(r)
    return f"{r.ip}, 10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)}" + line[len(r.ip):]


def nginx_host_first(r: Req, rng: random.Random) -> str:
    return f"{r.host} {_nginx(r, 1)}"


def ingress(r: Req, rng: random.Random) -> str:
    return (f'{r.ip} - - [{clf(r.end)}] "{r.method} {r.target} HTTP/1.1" {r.status} 615 "-" "{r.ua}" '
            f"{rng.randint(80, 1500)} {r.dur:.3f} [default-orders-80] [] 10.244.0.12:8080 615 {r.dur:.3f} "
            f"{r.status} {rng.getrandbits(64):016x}" + (f' "{r.auth}"' if r.auth else ""))


def cri_ingress(r: Req, rng: random.Random) -> str:
    return f"{iso(r.end + 0.0004, 6)[:-1]}123Z stdout F {ingress(r, rng)}"


def apache(r: Req, rng: random.Random) -> str:
    return (f'{r.host}:443 {r.ip} - - [{clf(r.t, 2)}] "{r.method} {r.target} HTTP/1.1" {r.status} 2326 '
            f'"-" "{r.ua}" "{q(r.auth)}"')


def _envoy(r: Req, rng: random.Random) -> str:
    return (f'[{iso(r.t)}] "{r.method} {r.target} HTTP/1.1" {r.status} - 0 {rng.randint(0, 4000)} '
            f'{int(r.dur * 1000)} {int(r.dur * 1000)} "{r.ip},10.0.0.1" "{r.ua}" "{T.fake_guid(rng)}" '
            f'"{r.host}" "10.0.2.1:80" "{q(r.auth)}"')


def envoy(r: Req, rng: random.Random) -> str:
    return _envoy(r, rng)


def envoy_access(r: Req, rng: random.Random) -> str:
    return "ACCESS " + _envoy(r, rng)


def envoy_docker(r: Req, rng: random.Random) -> str:
    # Docker's json-file driver is Go: it escapes <, > and & as \u003c, \u003e, \u0026.
    line = json.dumps({"log": _envoy(r, rng) + "\n", "stream": "stdout", "time": iso(r.end + 1.5, 6)})
    return line.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def envoy_offset(r: Req, rng: random.Random) -> str:
    """Envoy with START_TIME in local time with its offset (`%START_TIME(%Y-%m-%dT%H:%M:%S.%3f%z)%`)."""
    d = local(r.t)
    stamp = f"{d:%Y-%m-%dT%H:%M:%S}.{int(r.t % 1 * 1000):03d}{d:%z}"
    return "[" + stamp + _envoy(r, rng)[len(iso(r.t)) + 1:]


def syslog5424_nginx(r: Req, rng: random.Random) -> str:
    return f"<190>1 {iso(r.end, 6)} web02 nginx - - - {_nginx(r)}"


def istio_json(r: Req, rng: random.Random) -> str:
    return json.dumps({
        "authority": r.host, "bytes_received": 0, "bytes_sent": 5183,
        "downstream_local_address": "10.44.1.27:9080",
        "downstream_remote_address": f"[{r.ip}]:{rng.randint(1024, 65000)}" if ":" in r.ip
        else f"{r.ip}:{rng.randint(1024, 65000)}",
        "duration": int(r.dur * 1000), "method": r.method, "path": r.target, "protocol": "HTTP/1.1",
        "request_id": T.fake_guid(rng), "response_code": r.status, "response_flags": "-",
        "start_time": iso(r.t), "upstream_cluster": "inbound|9080||", "user_agent": r.ua,
        "x_forwarded_for": None, "authorization": r.auth,
    })


def _haproxy_accept(t: float) -> str:
    d = local(int(t))
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d:%H:%M:%S}.{int(t % 1 * 1000):03d}"


def haproxy(r: Req, rng: random.Random) -> str:
    d = local(int(r.end))
    cap = f"{{{r.host}|{r.auth}}}" if r.auth else f"{{{r.host}|}}"
    return (f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} lb1 haproxy[14389]: {r.ip}:{rng.randint(1024, 65000)} "
            f"[{_haproxy_accept(r.t)}] http-in~ api/srv1 0/0/1/12/{int(r.dur * 1000)} {r.status} 2750 - - ---- "
            f'1/1/1/1/0 0/0 {cap} {{}} "{r.method} {r.target} HTTP/1.1"')


IIS_FIELDS = ("#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(User-Agent) "
              "cs-host cs(Authorization) sc-status sc-substatus sc-win32-status time-taken")


def _w3c_time(t: float) -> str:
    d = datetime.fromtimestamp(int(t), UTC)
    return f"{d:%Y-%m-%d %H:%M:%S}"


def iis(r: Req, rng: random.Random) -> str:
    auth = r.auth.replace(" ", "+") if r.auth else "-"
    return (f"{_w3c_time(r.end)} W3SVC1 10.0.0.4 {r.method} {r.path} {q(r.query)} 443 {r.ip} "
            f"{r.ua.replace(' ', '+')} {r.host} {auth} {r.status} 0 0 {int(r.dur * 1000)}")


def iis_nofields(r: Req, rng: random.Random) -> str:
    return (f"{_w3c_time(r.end)} 10.0.0.4 {r.method} {r.path} {q(r.query)} 443 - {r.ip} "
            f"{r.ua.replace(' ', '+')} - {r.status} 0 0 {int(r.dur * 1000)}")


def alb(r: Req, rng: random.Random) -> str:
    port = rng.randint(1024, 65000)
    scheme = "wss" if r.dur > 30 else "https"
    return (f'{"h2" if scheme == "https" else "wss"} {iso(r.end, 6)} app/orders-alb/50dc6c495c0c9188 {r.ip}:{port} '
            f"10.0.0.66:9000 0.000 {r.dur:.3f} 0.000 {r.status} {r.status} 140 257 "
            f'"{r.method} {scheme}://{r.host}:443{r.target} HTTP/1.1" "{r.ua}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/orders/73e2d6bc24d8a067 "
            f'"Root=1-{int(r.t):08x}-{rng.getrandbits(96):024x}" "{r.host}" "-" 1 {iso(r.t, 6)} "forward" "-" "-" '
            f'"10.0.0.66:9000" "{r.status}" "-" "-" TID_{rng.getrandbits(32):08x}')


def traefik_json(r: Req, rng: random.Random) -> str:
    return json.dumps({
        "ClientAddr": f"{r.ip}:51234", "ClientHost": r.ip, "DownstreamStatus": r.status,
        "Duration": int(r.dur * 1e9), "RequestHost": r.host, "RequestMethod": r.method, "RequestPath": r.target,
        "RequestProtocol": "HTTP/1.1", "RouterName": "orders@docker", "StartUTC": iso(r.t, 6)[:-1] + "123Z",
        "request_Authorization": r.auth, "level": "info", "msg": "", "time": iso(r.end, 0)})


def traefik_clf(r: Req, rng: random.Random) -> str:
    return (f'{r.ip} - - [{clf(r.t)}] "{r.method} {r.target} HTTP/1.1" {r.status} 42 "-" "{r.ua}" '
            f'{rng.randint(1, 999)} "orders@docker" "http://10.0.0.3:80" {int(r.dur * 1000)}ms')


def caddy(r: Req, rng: random.Random) -> str:
    headers: dict[str, Any] = {"User-Agent": [r.ua]}
    if r.auth and r.auth.startswith("Bearer ") and rng.random() < 0.3:
        headers["Cookie"] = [f"ai_user=x{rng.randint(1, 9999)}; access_token={r.auth[7:]}; theme=dark"]
    elif r.auth:
        headers["Authorization"] = [r.auth]
    return json.dumps({
        "level": "info", "ts": round(r.end, 4), "logger": "http.log.access.log0", "msg": "handled request",
        "request": {"remote_ip": r.ip, "remote_port": "41342", "client_ip": r.ip, "proto": "HTTP/2.0",
                    "method": r.method, "host": r.host, "uri": r.target, "headers": headers},
        "duration": round(r.dur, 6), "size": 120, "status": r.status})


def appgw(r: Req, rng: random.Random) -> str:
    return _json_escaped_slashes({
        "timeStamp": iso(r.t, 0)[:-1] + "+00:00", "operationName": "ApplicationGatewayAccess",
        "category": "ApplicationGatewayAccessLog",
        "properties": {"instanceId": "appgw_1", "clientIP": r.ip, "clientPort": rng.randint(1024, 65000),
                       "httpMethod": r.method, "originalRequestUriWithArgs": r.target, "requestUri": r.path,
                       "requestQuery": r.query, "userAgent": r.ua, "httpStatus": r.status, "httpVersion": "HTTP/1.1",
                       "timeTaken": round(r.dur, 3), "originalHost": r.host, "host": "orders-backend.internal"}})


def _json_escaped_slashes(obj: dict[str, Any]) -> str:
    """JSON as Azure writes it: every '/' escaped as '\\/'."""
    return json.dumps(obj).replace("/", "\\/")


def frontdoor(r: Req, rng: random.Random) -> str:
    return json.dumps({
        "time": iso(r.end, 7), "category": "FrontDoorAccessLog",
        "operationName": "Microsoft.Cdn/Profiles/AccessLog/Write",
        "properties": {"httpMethod": r.method, "requestUri": f"https://{r.host}:443{r.target}", "hostName": r.host,
                       "userAgent": r.ua, "clientIp": r.ip, "clientPort": str(rng.randint(1024, 65000)),
                       "timeTaken": f"{r.dur:.3f}", "httpStatusCode": str(r.status), "pop": "AMS"}})


def serilog(r: Req, rng: random.Random) -> str:
    return json.dumps({
        "@t": iso(r.t, 7), "@mt": "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms",
        "RequestMethod": r.method, "RequestPath": r.path, "QueryString": "?" + r.query if r.query else "",
        "StatusCode": r.status, "Elapsed": r.dur * 1000,
        "SourceContext": "Serilog.AspNetCore.RequestLoggingMiddleware", "RequestHost": r.host,
        "Headers": {"Authorization": r.auth} if r.auth else {}})


def syslog_nginx(r: Req, rng: random.Random) -> str:
    d = local(int(r.end))
    return f"<190>{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} web01 nginx: {_nginx(r)}"


def nginx_error(r: Req, rng: random.Random) -> str:
    d = local(int(r.end))
    return (f"{d:%Y/%m/%d %H:%M:%S} [error] 1234#0: *{rng.randint(1, 99999)} upstream timed out (110: Connection "
            f"timed out) while reading response header from upstream, client: {r.ip}, server: {r.host}, "
            f'request: "{r.method} {r.target} HTTP/1.1", upstream: "http://10.0.0.9:80{r.path}", host: "{r.host}"')


def app_calls(r: Req, rng: random.Random) -> str:
    d = local(r.t)
    if r.auth:
        return (f"{iso(r.t)} INFO [svc:1877] http: {r.method} https://{r.host}{r.target} -> {r.status} "
                f"({int(r.dur * 1000)} ms) headers={{'Authorization': '{r.auth}'}}")
    if r.form is not None:
        return (f"{iso(r.t)} INFO [svc:1877] http: {r.method} https://{r.host}{r.path} -> {r.status} "
                f"({int(r.dur * 1000)} ms) body={r.form}")
    return (f"{d:%Y-%m-%d %H:%M:%S},{int(r.t % 1 * 1000):03d} DEBUG urllib3.connectionpool https://{r.host}:443 "
            f'"{r.method} {r.target} HTTP/1.1" {r.status} 87')


def nginx_form_post(r: Req, rng: random.Random) -> str:
    return _nginx(r) + f' "{q(r.auth)}" "{q(r.form)}"'


def istio_text(r: Req, rng: random.Random) -> str:
    return (f'[{iso(r.t)}] "{r.method} {r.target} HTTP/1.1" {r.status} - via_upstream - "-" 0 5183 '
            f'{int(r.dur * 1000)} {int(r.dur * 1000)} "-" "{r.ua}" "{T.fake_guid(rng)}" "{r.host}" '
            f'"10.44.1.27:9080" inbound|9080|| 127.0.0.6:45658 10.44.1.27:9080 '
            + (f"[{r.ip}]" if ":" in r.ip else r.ip) + f":{rng.randint(1024, 65000)} "
            "outbound_.9080_._.orders.default.svc.cluster.local default")


def iis_nofields_xff(r: Req, rng: random.Random) -> str:
    return iis_nofields(r, rng) + f" {r.ip}"


def haproxy_host_after(r: Req, rng: random.Random) -> str:
    d = local(int(r.end))
    return (f"<134>{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} lb1 haproxy[14389]: {r.ip}:{rng.randint(1024, 65000)} "
            f"[{_haproxy_accept(r.t)}] http-in~ api/srv1 0/0/1/12/{int(r.dur * 1000)} {r.status} 2750 - - ---- "
            f'1/1/1/1/0 0/0 "{r.method} {r.target} HTTP/1.1" {r.host}')


def elb_classic(r: Req, rng: random.Random) -> str:
    return (f"{iso(r.t, 6)} orders-elb {r.ip}:{rng.randint(1024, 65000)} 10.0.0.1:80 0.000073 {r.dur:.6f} 0.00002 "
            f'{r.status} {r.status} 0 29 "{r.method} https://{r.host}:443{r.target} HTTP/1.1" "{r.ua}" '
            "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2")


FORMATS: tuple[Fmt, ...] = (
    Fmt("nginx-combined", nginx_combined, True, host=False, ext=".log.gz", end_only=True, layout="members",
        fname="access.log-20261127.gz"),
    Fmt("nginx-vhost", nginx_vhost, True),
    Fmt("nginx-xff", nginx_xff, False, host=False, end_only=True, fname="access.log.1"),
    Fmt("nginx-host-first", nginx_host_first, False, end_only=True),
    Fmt("nginx-error", nginx_error, False, status=False, end_only=True),
    Fmt("ingress-nginx", ingress, True, host=False, long_requests=True),
    Fmt("cri-ingress-nginx", cri_ingress, True, host=False, long_requests=True),
    Fmt("apache-vhost", apache, True, ext=".log.bz2"),
    Fmt("envoy", envoy, True, layout="no-final-newline"),
    Fmt("envoy-access", envoy_access, True),
    Fmt("envoy-docker", envoy_docker, True),
    Fmt("envoy-local-offset", envoy_offset, True),
    Fmt("syslog5424-nginx", syslog5424_nginx, False, host=False, end_only=True),
    Fmt("istio-json", istio_json, True, ext=".jsonl"),
    Fmt("haproxy", haproxy, True),
    Fmt("iis", iis, True, prologue="#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
        "#Date: 2026-11-26 00:00:00\n" + IIS_FIELDS + "\n", layout="crlf", fname="u_ex261126.log"),
    Fmt("iis-no-fields", iis_nofields, False, host=False, ext=".log.bz2", layout="crlf"),
    Fmt("aws-alb", alb, False, ext=".log.gz", long_requests=True,
        fname="123456789012_elasticloadbalancing_us-east-2_app.orders-alb.50dc6c495c0c9188_20261126T2355Z_"
              "10.0.0.1_2et2e1mx.log.gz"),
    Fmt("traefik-json", traefik_json, True, ext=".jsonl"),
    Fmt("traefik-clf", traefik_clf, False, host=False),
    Fmt("caddy", caddy, True, ext=".jsonl"),
    Fmt("azure-appgw", appgw, False, ext=".jsonl"),
    Fmt("azure-frontdoor", frontdoor, False, ext=".jsonl"),
    Fmt("serilog", serilog, True, ip=False, ext=".jsonl", layout="bom"),
    Fmt("syslog-nginx", syslog_nginx, False, host=False, end_only=True, fname="messages"),
    Fmt("app-calls", app_calls, False, ip=False, ext=".log.bz2"),
    Fmt("nginx-form-post", nginx_form_post, True, host=False, end_only=True),
    Fmt("istio-text", istio_text, False),
    Fmt("iis-no-fields-xff", iis_nofields_xff, False, host=False),
    Fmt("haproxy-host-after", haproxy_host_after, False),
    Fmt("elb-classic", elb_classic, False, ext=".log.gz"),
)


# --------------------------------------------------------------------------- corpus


@dataclass
class Occurrence:
    file: str  # relative to the logs directory
    line: int
    cause: str
    variant: str
    fmt: str
    ts: float  # epoch seconds: when the request arrived
    host: str | None
    path: str
    status: int | None
    client_ip: str | None
    param: str | None = None  # set where the line holds more than one token: the parameter that holds this one


@dataclass
class Corpus:
    root: Path
    logs: Path
    config: Path
    jwks: Path
    keys: Keys
    truth: list[Occurrence] = field(default_factory=list)


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}"
    return f"{rng.choice(('203.0.113', '198.51.100', '192.0.2'))}.{rng.randint(2, 250)}"


def _request(v: Variant, f: Fmt, minter: Minter, rng: random.Random, t: float) -> tuple[Req, str]:
    client = rng.randrange(len(CLIENTS))
    ip = _ip(rng)
    dur = rng.choice((0.004, 0.012, 0.031, 0.120, 0.450))
    if f.long_requests and rng.random() < 0.2:
        dur = float(rng.randint(60, 900)) + 0.25  # a WebSocket or long poll, logged when it closed
    elif rng.random() < 0.03:
        dur = float(rng.randint(1, 20)) + 0.5  # a slow request
    token = minter.token(v, client, t, t + dur if f.end_only else t)
    if v.assertion:
        form = (f"client_id={BILLING}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
                f"%3Ajwt-bearer&client_assertion={token}&scope=api%3A%2F%2Forders%2F.default&grant_type=client_credentials")
        status = 200 if v.cause == "ok" else 401
        return Req(t, dur, "POST", LOGIN, f"/{TENANT}/oauth2/v2.0/token", "", status, ip, "billing-job/2.1", None,
                   token, form), "form"
    path = rng.choice(PATHS).replace("{n}", str(rng.randint(1000, 9999)))
    if v.graph_call:
        return Req(t, dur, "GET", "graph.microsoft.com", "/v1.0/me", "", 200, ip, "msgraph-sdk-dotnet/5.61",
                   f"Bearer {token}", token), "header"
    if v.param == "id_token":
        path = "/signin-oidc"
        if f.name == "nginx-form-post":  # response_mode=form_post: the ID token is in the logged body
            extra, also = "", []
            if v.hybrid:  # response_type=code id_token token: an access token beside the ID token
                extra = f"&access_token={minter.token(VARIANTS[0], client, t)}&token_type=Bearer&expires_in=3599"
                also = [("access_token", VARIANTS[0].name, VARIANTS[0].cause)]
            form = (f"code=0.A{T.b64url(rng.randbytes(30))}&id_token={token}{extra}"
                    f"&state=CfDJ8{T.b64url(rng.randbytes(30))}")
            return Req(t, dur, "POST", HOST, path, "", 302, ip, rng.choice(UAS), None, token, form, also), "form"
    status = 200 if v.cause == "ok" else rng.choice((401, 401, 403))
    use_header = f.header and v.header is not False and (v.header is True or rng.random() < 0.7)
    if use_header:
        scheme = rng.choice(("Bearer",) * 8 + ("bearer", "BEARER"))
        return Req(t, dur, rng.choice(("GET", "GET", "POST")), HOST, path, rng.choice(("", "page=2", "expand=lines")),
                   status, ip, rng.choice(UAS), f"{scheme} {token}", token), "header"
    query = f"{v.param}={token}" + rng.choice(("", "&state=x1"))
    return Req(t, dur, "GET", HOST, path, query, status, ip, rng.choice(UAS), None, token), "query"


def _truth(v: Variant, f: Fmt, r: Req) -> Occurrence:
    """What the line says about its request (file and line are filled in when it is placed)."""
    return Occurrence("", 0, v.cause, v.name, f.name, r.end if f.end_only else r.t, r.host if f.host else None,
                      r.path, r.status if f.status else None, r.ip if f.ip else None)


def _variants_for(f: Fmt) -> list[Variant]:
    if f.name == "nginx-form-post":
        hybrid = [replace(v, weight=15) for v in VARIANTS if v.hybrid]
        return [v for v in VARIANTS if not (v.assertion or v.graph_call or v.hybrid)] + hybrid
    if f.name == "app-calls":
        return [v for v in VARIANTS if v.header is not True or v.graph_call]
    return [v for v in VARIANTS if not v.assertion and not v.graph_call and (f.header or v.header is not True)]


def _layout(lines: list[str], f: Fmt) -> bytes:
    """The file's bytes: line ends, BOM and compression as the format's writer leaves them."""
    end = "\r\n" if f.layout == "crlf" else "\n"
    text = end.join(lines) + ("" if f.layout == "no-final-newline" else end)
    data = ("\ufeff" if f.layout == "bom" else "") .encode() + text.encode()
    if f.layout == "members":  # `cat old.gz new.gz`: one file of two gzip members
        half = len(lines) // 2
        first = ("\n".join(lines[:half]) + "\n").encode()
        return _compress(first, f.ext) + _compress(data[len(first):], f.ext)
    return _compress(data, f.ext)


def _compress(data: bytes, ext: str) -> bytes:
    if ext.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
            gz.write(data)
        return buf.getvalue()
    if ext.endswith(".bz2"):
        return bz2.compress(data, 9)
    return data


def build(out: Path, *, seed: int = 7, per_format: int = 120, metadata_url: str | None = None,
          offline: bool = False) -> Corpus:
    """Write the corpus under `out` (logs/, analyzer.toml, jwks.json, truth.csv) and return it."""
    keys = load_keys()
    minter = Minter(keys, seed)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(out, logs, out / "analyzer.toml", out / "jwks.json", keys)
    for f in FORMATS:
        rng = random.Random(f"{seed}-{f.name}")
        variants = _variants_for(f)
        weights = [v.weight * (15 if v.assertion else 8 if v.graph_call else 1) for v in variants]
        rows: list[tuple[float, str, list[Occurrence]]] = []
        times = sorted(DAY0 + rng.uniform(60, 24 * H - 1200) for _ in range(per_format))
        for t in times:
            t = round(t, 3)
            v = rng.choices(variants, weights)[0]
            req, _ = _request(v, f, minter, rng, t)
            line = f.write(req, rng)
            occs = [_truth(v, f, req)]
            if req.also:
                occs[0].param = v.param
                for param, name, cause in req.also:
                    occs.append(replace(occs[0], param=param, variant=name, cause=cause))
            rows.append((req.end, line, occs))
            if rng.random() < 0.3 and not req.also:  # the same client again a little later, same token
                t2 = round(t + rng.uniform(1, 30), 3)
                req2, _ = _request(v, f, minter, random.Random(f"{seed}-{t}"), t2)
                req2.token = req.token
                req2 = _with_token(req2, req.token or "")
                rows.append((req2.end, f.write(req2, rng), [_truth(v, f, req2)]))
        for _ in range(per_format):  # lines without tokens: health checks, anonymous calls
            t = DAY0 + rng.uniform(0, 24 * H)
            noise = Req(t, 0.002, "GET", HOST, rng.choice(("/healthz", "/v1/orders", "/favicon.ico")), "",
                        rng.choice((200, 401, 404)), _ip(rng), "kube-probe/1.30", None, None)
            if f.name == "app-calls":
                noise.form = "grant_type=refresh_token&client_id=x"
            rows.append((noise.end, f.write(noise, rng), []))
        rows.sort(key=lambda r: r[0])
        rel = f"{f.name}/{f.fname or 'access' + f.ext}"
        text_lines = [ln for ln in f.prologue.splitlines()]
        base = len(text_lines)
        for i, (_, line, occs) in enumerate(rows, start=1):
            text_lines.append(line)
            for occ in occs:
                occ.file, occ.line = rel, base + i
                corpus.truth.append(occ)
        path = logs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_layout(text_lines, f))
    corpus.jwks.write_text(json.dumps(T.jwks(*keys.published), indent=2) + "\n", encoding="utf-8")
    write_config(corpus, metadata_url=metadata_url, offline=offline)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["file", "line", "param", "cause", "variant", "format", "ts", "host", "path", "status",
                    "client_ip"])
        for o in corpus.truth:
            w.writerow([o.file, o.line, o.param or "", o.cause, o.variant, o.fmt, iso(o.ts), o.host or "", o.path,
                        o.status or "", o.client_ip or ""])
    return corpus


def join_events(corpus: Corpus, events: Any) -> Any:
    """The truth as a DataFrame, left-joined with the scan's events (a pandas DataFrame of `events/`).

    A line is matched by (file, line); where the truth names a `param` (lines with several tokens),
    by (file, line, param). `_merge` is "both" where an event was found. Of several events for
    one occurrence (a token logged twice on one line), the first is taken.
    """
    import pandas as pd

    ev = events.copy()
    ev["file"] = [Path(s).relative_to(corpus.logs).as_posix() for s in ev["source"].astype(str)]
    ev["param"] = ev["param"].astype(object)
    truth = pd.DataFrame([o.__dict__ for o in corpus.truth])
    single, multi = truth[truth["param"].isna()].drop(columns=["param"]), truth[truth["param"].notna()]
    a = single.merge(ev.drop_duplicates(["file", "line"]), on=["file", "line"], how="left",
                     suffixes=("_t", ""), indicator=True)
    b = multi.merge(ev.drop_duplicates(["file", "line", "param"]), on=["file", "line", "param"], how="left",
                    suffixes=("_t", ""), indicator=True)
    return pd.concat([a, b], ignore_index=True)


def _decompressed(path: Path) -> str:
    """A corpus file's text (gzip and bz2 opened)."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.name.endswith(".bz2"):
        data = bz2.decompress(data)
    return data.decode("utf-8", errors="replace")


def _with_token(r: Req, token: str) -> Req:
    if r.form is not None:
        r.form = r.form.replace(r.token or "", token)
    if r.auth:
        r.auth = f"{r.auth.split(' ', 1)[0]} {token}"
    if r.query and r.token:
        r.query = r.query.replace(r.token, token)
    r.token = token
    return r


def write_config(corpus: Corpus, *, metadata_url: str | None = None, offline: bool = False,
                 cache_dir: str = "cache") -> Path:
    """analyzer.toml: the tenant's v2 metadata (or the jwks.json file), the API and billing-job's certificate."""
    source = f'metadata_url = "{metadata_url}"' if metadata_url else 'jwks_file = "jwks.json"'
    lines = [
        f"leeway_seconds = {LEEWAY}",
        f'timezone = "{TIMEZONE}"',
        f"offline = {'true' if offline else 'false'}",
        f'cache_dir = "{cache_dir}"',
        "",
        "[[issuer]]",
        source,
        "",
        "[[api]]",
        'name = "orders"',
        f'hosts = ["{HOST}"]',
        'sources = ["*"]   # lines without a host were all sent to orders',
        f'audiences = ["api://orders", "{ORDERS_APP}"]',
        f'issuers = ["{T.issuer_v2(TENANT)}", "{T.issuer_v1(TENANT)}"]',
        "",
        "[[client]]",
        f'client_id = "{BILLING}"',
        'name = "billing-job"',
        f'certificate_thumbprints = ["{corpus.keys.registered_cert.sha1_hex}"]',
        "",
        "[[client]]",
        f'client_id = "{WEB_APP}"',
        'name = "orders-web"',
    ]
    for i, cid in enumerate(CLIENTS):
        lines += ["", "[[client]]", f'client_id = "{cid}"', f'name = "client-{i}"']
    corpus.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus.config


if __name__ == "__main__":  # python tests/realistic_corpus.py OUT [PER_FORMAT]
    c = build(Path(sys.argv[1]), per_format=int(sys.argv[2]) if len(sys.argv) > 2 else 120)
    print(f"{len(c.truth)} occurrences in {len(FORMATS)} formats under {c.logs}")
