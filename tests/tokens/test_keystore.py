"""The key store against a real identity provider on 127.0.0.1 (pytest-httpserver): discovery, HTTP
caching, history, kid-miss refresh, failures, offline mode, and never fetching URLs from tokens."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwts as T
import pandas as pd
import pytest
from local_server import LocalServer
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from analyzer import schema as S
from analyzer.config import IssuerSource, build_settings
from analyzer.errors import ConfigError
from analyzer.run import run
from analyzer.tokens.decode import analyze_token
from analyzer.tokens.keys import KeyRing
from analyzer.tokens.keystore import HISTORY_NAME, KeyStore, default_cache_dir, load_keyring

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
API = "6e7c1b0a-0000-0000-0000-000000000001"
TS = int(time.time())


class FakeIdP:
    """An Entra-like provider: v1/v2/common metadata and a JWKS with ETag and Cache-Control."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.keys: list[T.KeyPair] = []
        self.cache_control = "max-age=0, must-revalidate"
        self.status = 200
        self.garbage = False
        self.delay = 0.0
        self.jwks_uri_override: str | None = None
        server.expect_request(re.compile(r".*")).respond_with_handler(self.handle)

    def url(self, path: str) -> str:
        """A URL on this provider."""
        return self.server.url_for(path)

    def metadata_url(self, tenant: str = TENANT, version: str = "v2") -> str:
        """The discovery URL of a tenant (or `common`)."""
        return self.url(f"/{tenant}{'/v2.0' if version == 'v2' else ''}/.well-known/openid-configuration")

    @property
    def requests(self) -> list[Request]:
        """Every request the provider received."""
        return [r for r, _ in self.server.log]

    def paths(self) -> list[str]:
        """The paths requested, in order."""
        return [r.path for r in self.requests]

    def handle(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        if self.status != 200:
            return Response("provider failure", status=self.status)
        if self.garbage:
            return Response("<html>not json", status=200, content_type="application/json")
        m = re.match(r"^/([^/]+)(/v2\.0)?/\.well-known/openid-configuration$", request.path)
        if m:
            tenant, v2 = m.group(1), m.group(2)
            tid = "{tenantid}" if tenant in ("common", "organizations") else tenant
            issuer = T.issuer_v2(tid) if v2 else T.issuer_v1(tid)
            keys = self.jwks_uri_override or self.url(f"/{tenant}/discovery{'/v2.0' if v2 else ''}/keys")
            return Response(json.dumps({"issuer": issuer, "jwks_uri": keys,
                                        "id_token_signing_alg_values_supported": ["RS256"]}),
                            content_type="application/json")
        if request.path.endswith("/keys"):
            keys = [k.public_jwk() for k in self.keys]
            if request.args.get("appid"):
                keys = [{**k, "kid": f"app-{k['kid']}"} for k in keys]
            body = json.dumps({"keys": keys})
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Cache-Control": self.cache_control}
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers=headers)
            return Response(body, headers=headers, content_type="application/json")
        return Response("not found", status=404)


@pytest.fixture
def idp() -> Iterator[FakeIdP]:
    server = LocalServer(threaded=True)
    server.start()
    try:
        yield FakeIdP(server)
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture
def elsewhere() -> Iterator[HTTPServer]:
    """A second server whose URLs only ever appear inside tokens."""
    server = LocalServer()
    server.expect_request(re.compile(r".*")).respond_with_json({"keys": []})
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def k1() -> T.KeyPair:
    return T.make_rsa_key("k1")


@pytest.fixture
def k2() -> T.KeyPair:
    return T.make_rsa_key("k2")


def store(cache: Path, **kw: Any) -> KeyStore:
    """A key store with quick timeouts and no backoff, as tests want."""
    kw.setdefault("timeout", 2.0)
    kw.setdefault("retries", 1)
    kw.setdefault("backoff", 0)
    return KeyStore(cache, **kw)


def token(key: T.KeyPair, tenant: str = TENANT, **kw: Any) -> bytes:
    """A v2 access token for the API, signed with `key`."""
    claims = T.access_token_claims(tenant, API, "c-1", iat=TS - 60, exp=TS + 3600, roles=["read"])
    claims.update(kw.pop("claims", {}))
    return T.sign(claims, key, **kw).encode()


def verdict(ring: KeyRing, tok: bytes) -> tuple[str, str]:
    """(primary request-independent cause or ok, its detail)."""
    facts = analyze_token(tok, ring)
    return facts.failures[0] if facts.failures else (S.OK, "")


# --------------------------------------------------------------------------- discovery


def test_v2_discovery_fetches_metadata_then_keys(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url())])
    (ks,) = ring.sets
    assert (ks.origin, ks.issuer, ks.kids) == ("network", T.issuer_v2(TENANT), ["k1"])
    assert (ks.stale, ks.error) == (False, None)
    assert ks.jwks_uri == idp.url(f"/{TENANT}/discovery/v2.0/keys")
    assert ks.fetched_at and ks.fetched_at.startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    assert idp.paths() == [f"/{TENANT}/v2.0/.well-known/openid-configuration",
                           f"/{TENANT}/discovery/v2.0/keys"]
    assert verdict(ring, token(k1)) == (S.OK, "")
    assert analyze_token(token(k1), ring).signature_checked


def test_v1_metadata_gives_the_v1_issuer_and_its_keys_verify_both_versions(idp: FakeIdP, k1: T.KeyPair,
                                                                            tmp_path: Path) -> None:
    """The tenant signs its v1 and v2 tokens with the same keys: v1 metadata verifies v2 tokens too.
    Whether an API takes v1 or v2 tokens is its [[api]] issuers list's business (test_check)."""
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url(version="v1"))])
    assert ring.sets[0].issuer == T.issuer_v1(TENANT)
    v2_token = token(k1)
    assert verdict(ring, v2_token) == (S.OK, "") and analyze_token(v2_token, ring).signature_checked
    assert verdict(ring, T.tamper_signature(v2_token.decode()).encode())[0] == S.BAD_SIGNATURE
    v1 = T.sign(T.access_token_claims(TENANT, API, "c-1", version="1.0", iat=TS - 60, exp=TS + 3600), k1)
    assert verdict(ring, v1.encode()) == (S.OK, "")


def test_appid_metadata_asks_for_app_specific_keys(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url() + "?appid=" + API)])
    assert ring.sets[0].kids == ["app-k1"]
    keys_request = idp.requests[-1]
    assert keys_request.path.endswith("/keys") and keys_request.args["appid"] == API


def test_multi_tenant_template_issuer_fills_in_the_tenant(idp: FakeIdP, k1: T.KeyPair,
                                                          tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url("common"))])
    assert ring.sets[0].issuer == "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert verdict(ring, token(k1, TENANT)) == (S.OK, "")
    assert verdict(ring, token(k1, OTHER_TENANT)) == (S.OK, "")
    # iss of one tenant, tid of another: the template filled with tid is not the iss.
    forged = token(k1, TENANT, claims={"tid": OTHER_TENANT})
    cause, detail = verdict(ring, forged)
    assert cause == S.ISSUER_MISMATCH and f"tid is {OTHER_TENANT}" in detail
    assert verdict(ring, token(k1, claims={"iss": "https://idp.example.org/"}))[0] == S.ISSUER_MISMATCH


def test_issuer_of_another_tenant_is_named(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url())])
    cause, detail = verdict(ring, token(k1, OTHER_TENANT))
    assert cause == S.ISSUER_MISMATCH and f"belongs to tenant {OTHER_TENANT}, another tenant" in detail
    cause, detail = verdict(ring, token(k1, claims={"iss": "https://sts.example.org/x"}))
    assert cause == S.ISSUER_MISMATCH and "is unknown" in detail


def test_jwks_url_directly(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(jwks_url=idp.url("/t/keys"))])
    assert ring.sets[0].kids == ["k1"] and ring.sets[0].issuer is None
    assert verdict(ring, token(k1)) == (S.OK, "")


# --------------------------------------------------------------------------- HTTP cache and history


def test_304_revalidation_keeps_the_set_and_counts_as_network(idp: FakeIdP, k1: T.KeyPair,
                                                              tmp_path: Path) -> None:
    idp.keys = [k1]
    src = IssuerSource(jwks_url=idp.url("/t/keys"))
    first = store(tmp_path).load([src]).sets[0]
    second = store(tmp_path).load([src]).sets[0]
    statuses = [resp.status_code for _, resp in idp.server.log]
    assert statuses == [200, 304]
    assert idp.requests[1].headers.get("If-None-Match")
    assert (second.origin, second.kids, second.stale) == ("network", first.kids, False)


def test_fresh_cache_is_served_without_asking(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    idp.cache_control = "max-age=3600"
    src = IssuerSource(jwks_url=idp.url("/t/keys"))
    first = store(tmp_path).load([src]).sets[0]
    second = store(tmp_path).load([src]).sets[0]
    assert len(idp.requests) == 1
    assert (second.origin, second.kids, second.fetched_at) == ("cache", ["k1"], first.fetched_at)


def test_rotation_between_runs_is_told_apart_from_never_seen(idp: FakeIdP, k1: T.KeyPair, k2: T.KeyPair,
                                                             tmp_path: Path) -> None:
    src = IssuerSource(metadata_url=idp.metadata_url())
    idp.keys = [k1]
    store(tmp_path).load([src])
    idp.keys = [k2]  # the provider rotates between runs
    ring = store(tmp_path).load([src])
    assert ring.sets[0].kids == ["k2"] and ring.sets[0].origin == "network"
    assert verdict(ring, token(k2)) == (S.OK, "")
    cause, detail = verdict(ring, token(k1))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert cause == S.UNKNOWN_KID
    assert f"kid k1 was in the key set fetched on {today} but is not in the current one" in detail
    assert "rotated" in detail and "stale" in detail
    cause, detail = verdict(ring, token(T.make_rsa_key("k9")))
    assert cause == S.UNKNOWN_KID and "never seen in any key set fetched for this issuer" in detail

    history = json.loads((tmp_path / HISTORY_NAME).read_text())
    entry = history["sources"][src.metadata_url]
    assert set(entry["kids"]) == {"k1", "k2"}
    assert [s["kids"] for s in entry["sets"]] == [["k1"], ["k2"]]
    assert entry["last_good"]["keys"][0]["kid"] == "k2" and "d" not in entry["last_good"]["keys"][0]


def test_kid_miss_refreshes_once_per_cooldown(idp: FakeIdP, k1: T.KeyPair, k2: T.KeyPair,
                                              tmp_path: Path) -> None:
    idp.keys = [k1]
    idp.cache_control = "max-age=3600"
    src = IssuerSource(jwks_url=idp.url("/t/keys"))
    store(tmp_path).load([src])
    now = [1000.0]
    ks = store(tmp_path, clock=lambda: now[0], cooldown=300)
    ring = ks.load([src])  # from the fresh HTTP cache: nobody was asked
    assert ring.sets[0].origin == "cache" and len(idp.requests) == 1
    idp.keys = [k1, k2]  # a new key appears before our cache expires
    assert verdict(ring, token(k2)) == (S.OK, "")
    assert len(idp.requests) == 2 and ring.sets[0].kids == ["k1", "k2"]
    # Another miss within the cooldown: no request.
    assert verdict(ring, token(T.make_rsa_key("k8")))[0] == S.UNKNOWN_KID
    assert len(idp.requests) == 2
    now[0] += 301
    assert verdict(ring, token(T.make_rsa_key("k9")))[0] == S.UNKNOWN_KID
    assert len(idp.requests) == 3


def test_a_fresh_network_fetch_starts_the_cooldown(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(jwks_url=idp.url("/t/keys"))])
    assert verdict(ring, token(T.make_rsa_key("k7")))[0] == S.UNKNOWN_KID
    assert len(idp.requests) == 1


@pytest.mark.parametrize("status", [503, 404, 302])
def test_an_error_answer_starts_the_cooldown_too(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path, status: int) -> None:
    """A provider that answers 503 is asked once per cooldown, not once per unknown kid."""
    idp.keys = [k1]
    src = IssuerSource(metadata_url=idp.metadata_url())
    store(tmp_path).load([src])
    idp.status = status
    before = len(idp.requests)
    ring = store(tmp_path, retries=0, cooldown=300).load([src])
    assert ring.sets[0].stale and len(idp.requests) - before == 1
    for n in range(5):
        assert verdict(ring, token(T.make_rsa_key(f"rotated-{n}")))[0] == S.UNKNOWN_KID
    assert verdict(ring, token(k1)) == (S.OK, "")
    assert len(idp.requests) - before == 1


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("failure", ["status_500", "timeout", "garbage", "down"])
def test_failing_provider_serves_the_last_good_set_and_says_so(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path,
                                                               failure: str) -> None:
    idp.keys = [k1]
    src = IssuerSource(metadata_url=idp.metadata_url())
    first = store(tmp_path).load([src]).sets[0]
    kw: dict[str, Any] = {}
    if failure == "status_500":
        idp.status = 500
    elif failure == "timeout":
        idp.delay = 1.0
        kw = {"timeout": 0.2, "retries": 0}
    elif failure == "garbage":
        idp.garbage = True
    else:
        idp.server.stop()
    before = len(idp.requests)
    ring = store(tmp_path, **kw).load([src])
    (ks,) = ring.sets
    assert (ks.origin, ks.stale, ks.kids, ks.fetched_at) == ("cache", True, ["k1"], first.fetched_at)
    assert ks.error and ks.error.startswith("served from cache: ") and src.metadata_url in ks.error
    expected = {"status_500": "HTTP 500", "timeout": "no answer within 0.2 s", "garbage": "not a JSON object",
                "down": "provider unreachable"}[failure]
    assert expected in ks.error
    assert ring.describe()[0]["stale"] is True
    assert verdict(ring, token(k1)) == (S.OK, "")
    if failure == "status_500":
        assert len(idp.requests) - before == 2  # one try plus one bounded retry
    if failure == "timeout":
        idp.delay = 0  # let the server finish its sleeping handler before teardown
        time.sleep(1.0)


def test_garbage_is_not_cached(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    idp.cache_control = "max-age=3600"
    idp.garbage = True
    src = IssuerSource(jwks_url=idp.url("/t/keys"))
    ks = store(tmp_path).load([src]).sets[0]
    assert (ks.origin, ks.jwks) == ("none", [])
    assert ks.error and "not a JSON object" in ks.error and src.jwks_url in ks.error
    idp.garbage = False
    ks = store(tmp_path).load([src]).sets[0]
    assert (ks.origin, ks.kids) == ("network", ["k1"])


def test_unreachable_without_cache_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/t/v2.0/.well-known/openid-configuration"
    ring = store(tmp_path, retries=0).load([IssuerSource(metadata_url=url)])
    ks = ring.sets[0]
    assert (ks.origin, ks.jwks) == ("none", [])
    assert ks.error == f"no keys: provider unreachable: ConnectionError (GET {url})"
    # No keys at all: signatures are not checked, and nothing is blamed on the token.
    facts = analyze_token(token(T.make_rsa_key("k1")), ring)
    assert not facts.signature_checked and not facts.failures


def test_redirects_are_not_followed(idp: FakeIdP, elsewhere: HTTPServer, tmp_path: Path) -> None:
    idp.server.clear_all_handlers()
    idp.server.expect_request("/keys").respond_with_response(
        Response(status=302, headers={"Location": elsewhere.url_for("/keys")}))
    ks = store(tmp_path).load([IssuerSource(jwks_url=idp.url("/keys"))]).sets[0]
    assert ks.error and "redirected" in ks.error
    assert elsewhere.log == []


def test_jwks_uri_must_be_https_unless_loopback(idp: FakeIdP, elsewhere: HTTPServer, tmp_path: Path) -> None:
    idp.jwks_uri_override = "http://keys.example.org/keys"
    ks = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url())]).sets[0]
    assert ks.error and "plain http" in ks.error and ks.jwks == []


# --------------------------------------------------------------------------- offline


def _no_connect(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("offline test: connect() called")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_offline_uses_the_cache_and_opens_no_socket(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    idp.keys = [k1]
    src = IssuerSource(metadata_url=idp.metadata_url())
    first = store(tmp_path).load([src]).sets[0]
    attempts = _no_connect(monkeypatch)
    ring = store(tmp_path, offline=True).load([src, IssuerSource(jwks_url="https://never.example.org/keys")])
    cached, never = ring.sets
    assert (cached.origin, cached.kids, cached.issuer, cached.stale) == ("cache", ["k1"], first.issuer, False)
    assert never.origin == "none" and never.error and "offline" in never.error
    assert ring.refresher is None
    assert verdict(ring, token(T.make_rsa_key("k5")))[0] == S.UNKNOWN_KID
    assert attempts == []


# --------------------------------------------------------------------------- config and defaults


def test_default_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "analyzer"


def test_config_refuses_plain_http_providers(tmp_path: Path) -> None:
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text('[[issuer]]\nmetadata_url = "http://idp.example.org/.well-known/openid-configuration"\n')
    with pytest.raises(ConfigError, match="plain http"):
        build_settings(cfg, [])
    cfg.write_text('[[issuer]]\nmetadata_url = "http://idp.example.org/m"\nallow_http = true\n'
                   'algorithms = ["RS256"]\ncache_dir = "c"\n')
    with pytest.raises(ConfigError, match="unknown key 'cache_dir'"):
        build_settings(cfg, [])
    cfg.write_text('cache_dir = "c"\n[[issuer]]\nmetadata_url = "http://idp.example.org/m"\n'
                   'allow_http = true\n')
    s = build_settings(cfg, [])
    assert s.issuers[0].allow_http and s.cache_dir == (tmp_path / "c").resolve()
    cfg.write_text('[[issuer]]\njwks_url = "https://idp.example.org/k"\nalgorithms = ["HS256"]\n')
    with pytest.raises(ConfigError, match="not an asymmetric"):
        build_settings(cfg, [])


# --------------------------------------------------------------------------- end to end


def _write_case(d: Path, idp: FakeIdP, elsewhere: HTTPServer, k1: T.KeyPair) -> tuple[Path, Path]:
    rogue = T.make_rsa_key("rogue")
    cfg = d / "analyzer.toml"
    cfg.write_text(f'[[issuer]]\nmetadata_url = "{idp.metadata_url()}"\n\n[[api]]\nname = "orders"\n'
                   f'hosts = ["orders.contoso.com"]\naudiences = ["{API}"]\n')
    evil = elsewhere.url_for("/")
    lines = {
        "ok": token(k1),
        "bad_signature": T.tamper_signature(token(k1).decode()).encode(),
        "graph": T.sign_with_header_nonce(
            T.access_token_claims(TENANT, API, "c-1", iat=TS - 60, exp=TS + 3600, roles=["r"]), k1, "n0nce"
        ).encode(),
        "unknown_kid": token(rogue, headers={"jku": evil + "jwks", "x5u": evil + "cert"}),
        "issuer_mismatch": token(rogue, claims={"iss": evil}, headers={"jku": evil + "keys"}),
    }
    log = d / "access.log"
    with log.open("w") as f:
        for name, tok in lines.items():
            t = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(TS))
            f.write(f'10.0.0.1 - - [{t}] "GET /v1/{name} HTTP/1.1" 401 12 "-" "cli/1" '
                    f'"Bearer {tok.decode()}" "orders.contoso.com"\n')
    return cfg, log


def _causes(out: Path) -> dict[str, str]:
    ev = pd.read_parquet(out / "events")
    return {str(p).rsplit("/", 1)[-1]: str(c) for p, c in zip(ev["path"], ev["cause"], strict=True)}


@pytest.mark.whole_run
def test_scan_twice_second_time_with_the_provider_down(idp: FakeIdP, elsewhere: HTTPServer, k1: T.KeyPair,
                                                       tmp_path: Path) -> None:
    idp.keys = [k1]
    cfg, log = _write_case(tmp_path, idp, elsewhere, k1)
    cache = tmp_path / "cache"
    s1 = build_settings(cfg, [str(log)], out_dir=tmp_path / "out1", cache_dir=cache)
    run1 = run(s1, [str(log)]).summary
    expected = {"ok": S.OK, "bad_signature": S.BAD_SIGNATURE, "graph": S.BAD_SIGNATURE,
                "unknown_kid": S.UNKNOWN_KID, "issuer_mismatch": S.ISSUER_MISMATCH}
    assert _causes(tmp_path / "out1") == expected
    (k,) = run1["keys"]
    assert (k["origin"], k["kids"], k["issuer"], k["stale"], k["error"]) == (
        "network", ["k1"], T.issuer_v2(TENANT), False, None)
    saved = json.loads((tmp_path / "out1" / "run.json").read_text())
    assert saved["keys"] == run1["keys"] and saved["options"]["cache_dir"] == str(cache)
    ev = pd.read_parquet(tmp_path / "out1" / "events")
    details = dict(zip(ev["path"].astype(str), ev["detail"].astype(str), strict=True))
    assert "Microsoft Graph" in details["/v1/graph"]
    assert "never seen" in details["/v1/unknown_kid"]

    idp.server.stop()
    s2 = build_settings(cfg, [str(log)], out_dir=tmp_path / "out2", cache_dir=cache)
    run2 = run(s2, [str(log)]).summary
    assert _causes(tmp_path / "out2") == expected
    (k,) = run2["keys"]
    assert (k["origin"], k["kids"], k["stale"]) == ("cache", ["k1"], True)
    assert k["error"].startswith("served from cache: provider unreachable")
    assert idp.metadata_url() in k["error"]
    assert elsewhere.log == []  # URLs from tokens (iss, jku, x5u) were never requested


@pytest.mark.whole_run
def test_scan_offline_cli_opens_no_socket(idp: FakeIdP, elsewhere: HTTPServer, k1: T.KeyPair, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, scan_dir: Any) -> None:
    idp.keys = [k1]
    cfg, log = _write_case(tmp_path, idp, elsewhere, k1)
    cache = tmp_path / "cache"
    code, out, result = scan_dir(str(log), "--config", str(cfg), "--cache-dir", str(cache),
                                 out=tmp_path / "o1")
    assert code == 0, result.output
    attempts = _no_connect(monkeypatch)
    code, out, result = scan_dir(str(log), "--config", str(cfg), "--cache-dir", str(cache), "--offline",
                                 out=tmp_path / "o2")
    assert code == 0, result.output
    assert attempts == []
    assert _causes(tmp_path / "o1") == _causes(tmp_path / "o2")
    keys = json.loads((out / "run.json").read_text())["keys"]
    assert keys[0]["origin"] == "cache" and keys[0]["kids"] == ["k1"]
    assert elsewhere.log == []


def test_load_keyring_reads_settings(idp: FakeIdP, k1: T.KeyPair, tmp_path: Path) -> None:
    idp.keys = [k1]
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text(f'[[issuer]]\njwks_url = "{idp.url("/t/keys")}"\nissuer = "{T.issuer_v2(TENANT)}"\n'
                   f'[[api]]\nname = "a"\nhosts = ["h"]\nissuers = ["{T.issuer_v1(TENANT)}"]\n')
    ring = load_keyring(build_settings(cfg, [], cache_dir=tmp_path / "c"))
    assert ring.sets[0].issuer == T.issuer_v2(TENANT)
    assert ring.accepted_issuers == (T.issuer_v1(TENANT),)
    assert (tmp_path / "c" / HISTORY_NAME).is_file()


KEYS_PATH = f"/{TENANT}/discovery/v2.0/keys"


@pytest.mark.whole_run
@pytest.mark.parametrize("workers", [1, 2])
def test_a_rotation_during_the_cache_lifetime_is_caught_on_every_worker(idp: FakeIdP, k1: T.KeyPair,
                                                                         k2: T.KeyPair, tmp_path: Path,
                                                                         workers: int) -> None:
    """Keys come from a fresh HTTP cache; the provider has since added k2. Tokens signed with k2 sit in
    several files (one unit each, so two workers both meet the new kid): the parent refreshes once and
    every worker judges them with the new set, as a single process does."""
    idp.keys = [k1]
    idp.cache_control = "max-age=3600"
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text(f'[[issuer]]\nmetadata_url = "{idp.metadata_url()}"\n\n'
                   f'[[api]]\nname = "orders"\nhosts = ["orders.contoso.com"]\naudiences = ["{API}"]\n')
    cache = tmp_path / "cache"
    load_keyring(build_settings(cfg, [], cache_dir=cache))  # yesterday's run: k1 only, cached for an hour
    asked = idp.paths().count(KEYS_PATH)
    idp.keys = [k1, k2]  # the provider publishes k2 and starts signing with it
    logs = tmp_path / "logs"
    logs.mkdir()
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(TS))
    for n in range(4):
        rows = [(f"old{n}", token(k1)), (f"new{n}", token(k2, claims={"uti": f"u{n}"})),
                (f"rogue{n}", token(T.make_rsa_key("k9")))]
        (logs / f"access-{n}.log").write_text("".join(
            f'10.0.0.1 - - [{stamp}] "GET /v1/{name} HTTP/1.1" 200 12 "-" "cli/1" "Bearer {tok.decode()}" '
            f'"orders.contoso.com"\n' for name, tok in rows))
    settings = build_settings(cfg, [str(logs)], out_dir=tmp_path / "out", cache_dir=cache, workers=workers)
    summary = run(settings, [str(logs)]).summary
    causes = _causes(tmp_path / "out")
    assert {p: c for p, c in causes.items() if not p.startswith("rogue")} == {
        **{f"old{n}": S.OK for n in range(4)}, **{f"new{n}": S.OK for n in range(4)}}
    assert all(causes[f"rogue{n}"] == S.UNKNOWN_KID for n in range(4))
    # The key set was asked for once in the whole run, whatever the number of workers.
    assert idp.paths().count(KEYS_PATH) - asked == 1
    assert summary["keys"][0]["kids"] == ["k1", "k2"]


# --------------------------------------------------------------------------- verdicts: online = offline = stale


def _matrix_log(d: Path, k1: T.KeyPair) -> Path:
    """v1 and v2 tokens of TENANT: good, altered signature, unknown kid, another tenant's issuer."""
    rogue = T.make_rsa_key("rogue")
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(TS))
    lines = []
    for ver in ("1.0", "2.0"):
        def claims(tenant: str = TENANT, ver: str = ver) -> dict[str, Any]:
            return T.access_token_claims(tenant, API, "c-1", version=ver, iat=TS - 60, exp=TS + 3600, roles=["r"])

        good = T.sign(claims(), k1)
        rows = {"good": good, "altered": T.tamper_signature(good), "unknown_kid": T.sign(claims(), rogue),
                "other_tenant": T.sign(claims(OTHER_TENANT), k1)}
        lines += [f'10.0.0.1 - - [{stamp}] "GET /{ver}/{name} HTTP/1.1" 200 12 "-" "cli/1" "Bearer {tok}" '
                  f'"orders.contoso.com"\n' for name, tok in rows.items()]
    log = d / "access.log"
    log.write_text("".join(lines))
    return log


MATRIX = {f"/{v}/{name}": cause for v in ("1.0", "2.0") for name, cause in (
    ("good", S.OK), ("altered", S.BAD_SIGNATURE), ("unknown_kid", S.UNKNOWN_KID),
    ("other_tenant", S.ISSUER_MISMATCH))}


def _verdicts(out: Path) -> dict[str, tuple[str, bool]]:
    ev = pd.read_parquet(out / "events")
    return {str(p): (str(c), bool(s)) for p, c, s in zip(ev["path"], ev["cause"], ev["signature_checked"],
                                                           strict=True)}


@pytest.mark.whole_run
@pytest.mark.parametrize("api_issuers", [False, True], ids=["no-api-issuers", "api-accepts-v1-and-v2"])
def test_v1_and_v2_tokens_get_the_same_verdicts_online_offline_and_with_the_provider_down(
        idp: FakeIdP, k1: T.KeyPair, tmp_path: Path, api_issuers: bool) -> None:
    """Only the tenant's v2 metadata is configured. Before, its v1 tokens were never verified: altered
    signatures and unknown kids came out `ok` with signature_checked=false online, and were caught
    offline with the same keys in a jwks_file."""
    idp.keys = [k1]
    log = _matrix_log(tmp_path, k1)
    api = (f'\n[[api]]\nname = "orders"\nhosts = ["orders.contoso.com"]\naudiences = ["{API}"]\n'
           + (f'issuers = ["{T.issuer_v1(TENANT)}", "{T.issuer_v2(TENANT)}"]\n' if api_issuers else ""))
    online = tmp_path / "online.toml"
    online.write_text(f'[[issuer]]\nmetadata_url = "{idp.metadata_url()}"\n' + api)
    (tmp_path / "keys.json").write_text(json.dumps(T.jwks(k1)))
    offline = tmp_path / "offline.toml"
    # The file's keys stand for the issuer the metadata names; with an [[api]] issuers list they need not.
    offline.write_text('offline = true\n[[issuer]]\njwks_file = "keys.json"\n'
                       + ("" if api_issuers else f'issuer = "{T.issuer_v2(TENANT)}"\n') + api)
    cache = tmp_path / "cache"

    def scan(cfg: Path, name: str) -> dict[str, Any]:
        settings = build_settings(cfg, [str(log)], out_dir=tmp_path / name, cache_dir=cache, workers=1,
                                  http_retries=0, http_timeout=2.0)
        return run(settings, [str(log)]).summary

    runs = {"online": scan(online, "online"), "offline": scan(offline, "offline")}
    idp.status = 500
    runs["stale"] = scan(online, "stale")
    assert runs["stale"]["keys"][0]["stale"] is True
    for name in runs:
        got = _verdicts(tmp_path / name)
        assert {p: c for p, (c, _) in got.items()} == MATRIX, name
        assert got["/1.0/good"] == got["/2.0/good"] == (S.OK, True), name


@pytest.mark.parametrize(("tenant", "version"), [(TENANT, "v2"), (TENANT, "v1"), ("common", "v2"),
                                                 ("organizations", "v2"), ("common", "v1")])
def test_every_kind_of_metadata_verifies_both_token_versions_of_a_tenant(idp: FakeIdP, k1: T.KeyPair,
                                                                         tmp_path: Path, tenant: str,
                                                                         version: str) -> None:
    idp.keys = [k1]
    ring = store(tmp_path).load([IssuerSource(metadata_url=idp.metadata_url(tenant, version))])
    rogue = T.make_rsa_key("rogue")
    for ver in ("1.0", "2.0"):
        claims = T.access_token_claims(TENANT, API, "c-1", version=ver, iat=TS - 60, exp=TS + 3600, roles=["r"])
        good = T.sign(claims, k1)
        facts = analyze_token(good.encode(), ring)
        assert (facts.failures, facts.signature_checked) == ((), True), ver
        assert verdict(ring, T.tamper_signature(good).encode())[0] == S.BAD_SIGNATURE, ver
        assert verdict(ring, T.sign(claims, rogue).encode())[0] == S.UNKNOWN_KID, ver


@pytest.mark.whole_run
def test_oks_whose_signature_was_not_checked_are_counted_and_explained(idp: FakeIdP, k1: T.KeyPair,
                                                                        tmp_path: Path) -> None:
    """run.json, --json and a stderr line say how many `ok`s had no signature check, of which issuer,
    and why: an accepted issuer without a key set, a Graph token, a client assertion."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    idp.keys = [k1]
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text(f'[[issuer]]\nmetadata_url = "{idp.metadata_url()}"\n\n[[api]]\nname = "orders"\n'
                   f'hosts = ["orders.contoso.com"]\naudiences = ["{API}"]\n'
                   f'issuers = ["{T.issuer_v1(TENANT)}", "{T.issuer_v2(TENANT)}", "{T.issuer_v1(OTHER_TENANT)}", '
                   f'"{T.issuer_v2(OTHER_TENANT)}"]\n')

    def claims(tenant: str, ver: str = "2.0", aud: str = API) -> dict[str, Any]:
        return T.access_token_claims(tenant, aud, "c-1", version=ver, iat=TS - 60, exp=TS + 3600, roles=["r"])

    other = T.sign(claims(OTHER_TENANT), k1)
    graph = T.sign_with_header_nonce(claims(OTHER_TENANT, "1.0", T.GRAPH_APP_ID), k1, "n0nce")
    assertion = T.sign(T.client_assertion_claims("c-2", TENANT, iat=TS - 60), k1)
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(TS))
    rows = [("orders.contoso.com", "/v1", T.sign(claims(TENANT, "1.0"), k1)),
            ("orders.contoso.com", "/v2", T.sign(claims(TENANT), k1)),
            ("orders.contoso.com", "/other", other), ("orders.contoso.com", "/other-again", other),
            ("graph-proxy.contoso.com", "/me", graph)]
    lines = [f'10.0.0.1 - - [{stamp}] "GET {path} HTTP/1.1" 200 12 "-" "cli/1" "Bearer {tok}" "{host}"\n'
             for host, path, tok in rows]
    lines.append(f'10.0.0.2 - - [{stamp}] "POST /{TENANT}/oauth2/v2.0/token?client_assertion={assertion} '
                 'HTTP/1.1" 200 12 "-" "msal" "-" "login.microsoftonline.com"\n')
    log = tmp_path / "access.log"
    log.write_text("".join(lines))
    args = ["scan", str(log), "--config", str(cfg), "--cache-dir", str(tmp_path / "cache"), "--workers", "1",
            "--out", str(tmp_path / "out"), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    ev = pd.read_parquet(tmp_path / "out" / "events")
    unchecked = ev[(ev["cause"] == S.OK) & ~ev["signature_checked"]]
    assert set(unchecked["path"].astype(str)) == {"/other", "/other-again", "/me", f"/{TENANT}/oauth2/v2.0/token"}
    got = summary["unverified_ok"]
    assert got == json.loads((tmp_path / "out" / "run.json").read_text())["unverified_ok"]
    assert (got["count"], got["unique_tokens"]) == (4, 3)
    assert [(e["issuer"], e["count"]) for e in got["issuers"]] == [
        (T.issuer_v2(OTHER_TENANT), 2), ("c-2", 1), (T.issuer_v1(OTHER_TENANT), 1)]  # most first, then by name
    reasons = [e["reason"] for e in got["issuers"]]
    assert reasons[0] == (f"no key set for issuer {T.issuer_v2(OTHER_TENANT)}: add an [[issuer]] with its "
                          "metadata_url")
    assert reasons[1].startswith("client assertion: signed with the client's own certificate")
    assert reasons[2].startswith("Microsoft Graph token: only Graph can verify it")
    warning = [line for line in result.stderr.splitlines() if "without a signature check" in line]
    assert len(warning) == 1 and warning[0].startswith("analyzer: warning: 4 ok token occurrences (3 unique)")
    quiet = CliRunner().invoke(app, [*args, "--quiet"])
    assert "without a signature check" not in quiet.stderr
