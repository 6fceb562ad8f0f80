"""No secrets at rest, no request where a token points, no write outside the output directory.

One scan over tokens of every kind (user, ID, app, assertion, unsigned, HMAC, JWE, tampered, cut)
is checked byte by byte: every output file, the key cache and what the CLI printed hold no whole
token, no signature segment and no personal claim in clear text.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwts as T
import pyarrow.parquet as pq
import pytest
from local_server import LocalServer
from typer.testing import CliRunner

from analyzer.cli import app

pytestmark = pytest.mark.whole_run  # every test here runs a whole scan

TENANT = "11111111-1111-1111-1111-111111111111"
API_APP = "33333333-3333-3333-3333-333333333333"
CLIENT = "22222222-2222-2222-2222-222222222222"
KEY = T.make_rsa_key("secret-k1")
USER = T.fake_user(seed=11)
PERSONAL = ("upn", "email", "name", "preferred_username", "unique_name", "given_name", "family_name")


def _tokens() -> dict[str, str]:
    at = T.access_token_claims(TENANT, "api://orders", CLIENT, version="1.0", scp="read", user=USER, seed=1)
    at2 = T.access_token_claims(TENANT, API_APP, CLIENT, scp="write", user=USER, seed=2)
    app_only = T.access_token_claims(TENANT, "api://orders", CLIENT, roles=["Orders.Read"], seed=3)
    idt = T.id_token_claims(TENANT, CLIENT, user=USER, seed=4)
    idt["email"] = USER.upn
    expired = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", user=USER, seed=5,
                                    iat=1_600_000_000, exp=1_600_003_600)
    good = T.sign(at, KEY)
    return {
        "good": good,
        "v2": T.sign(at2, KEY),
        "app": T.sign(app_only, KEY),
        "id": T.sign(idt, KEY),
        "expired": T.sign(expired, KEY),
        "tampered": T.tamper_signature(good, seed=1),
        "other_key": T.sign(at, T.make_rsa_key("secret-k1")),
        "hs256": T.alg_confusion_hs256(at, KEY),
        "none": T.unsigned(at),
        "jwe": T.jwe_like(seed=6),
        "cut": T.truncate(T.sign(at2, KEY, headers={"x": "y"}), 700),
        "assertion": T.client_assertion(CLIENT, TENANT, KEY, T.make_self_signed_cert(KEY)),
    }


def _lines(toks: dict[str, str]) -> str:
    out = []
    for i, (name, tok) in enumerate(sorted(toks.items())):
        ts = f"[10/Oct/2024:13:{i:02d}:36 +0000]"
        out.append(f'10.0.0.{i} - - {ts} "GET /orders?access_token={tok}&x=1 HTTP/1.1" 401 5 "-" '
                   f'"curl/8 <{name}>" "Bearer {tok}"\n')
    return "".join(out)


def _secrets(toks: dict[str, str]) -> set[bytes]:
    found: set[bytes] = set()
    for tok in toks.values():
        found.add(tok.encode())
        parts = tok.split(".")
        if len(parts) >= 3 and len(parts[2]) >= 16:
            found.add(parts[2].encode())
        if len(parts) == 5:
            found.update(p.encode() for p in parts[1:] if len(p) >= 16)
    return found


def _texts(path: Path) -> Iterator[bytes]:
    """A file's bytes, and for Parquet every string value decoded."""
    data = path.read_bytes()
    yield data
    if data[:4] == b"PAR1":
        table = pq.read_table(path)
        for col in table.columns:
            values = [v for v in col.to_pylist() if v is not None]
            yield "\n".join(json.dumps(v, default=str) if not isinstance(v, str) else v for v in values).encode()


def _all_files(*roots: Path) -> list[Path]:
    return [p for r in roots if r.exists() for p in sorted(r.rglob("*")) if p.is_file()]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("secrets")
    home = base / "home"
    env = {"XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config"),
           "ANALYZER_PII_KEY_FILE": str(home / "config" / "analyzer" / "pii-hash.key")}
    toks = _tokens()
    logs = base / "logs"
    logs.mkdir()
    (logs / "access.log").write_text(_lines(toks))
    (logs / "app.json").write_text("".join(json.dumps({"time": "2024-10-10T10:00:00Z", "msg": "call",
                                                        "headers": {"authorization": f"Bearer {t}"},
                                                        "token": t}) + "\n" for t in toks.values()))
    jwks = base / "keys.json"
    jwks.write_text(json.dumps(T.jwks(KEY)))
    # Keys also fetched over HTTP, so that the key store writes its cache under XDG_CACHE_HOME.

    server = LocalServer()
    server.expect_request("/keys").respond_with_json(T.jwks(T.make_rsa_key("served-k2")))
    server.start()
    cfg = base / "analyzer.toml"
    cfg.write_text(f'[[issuer]]\njwks_url = "{server.url_for("/keys")}"\nallow_http = true\n')
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        out = base / "out"
        r = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--jwks", str(jwks), "--config",
                                     str(cfg), "--json", "--workers", "1"])
        pii_out = base / "out-pii"
        r2 = CliRunner().invoke(app, ["scan", str(logs), "--out", str(pii_out), "--jwks", str(jwks), "--offline",
                                      "--include-pii", "--quiet", "--workers", "1"])
        rep = CliRunner().invoke(app, ["report", str(out), "--split-by", "client"])
    finally:
        server.clear()
        server.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert r.exit_code == 0, r.output
    assert r2.exit_code == 0, r2.output
    assert rep.exit_code == 0, rep.output
    assert _all_files(home / "cache" / "analyzer"), "the key store wrote its cache"
    return {"toks": toks, "out": out, "pii_out": pii_out, "home": home, "logs": logs,
            "printed": (r.output + rep.output).encode()}


def test_no_token_or_signature_in_any_output(scanned: dict[str, Any]) -> None:
    secrets = _secrets(scanned["toks"])
    files = _all_files(scanned["out"], scanned["pii_out"], scanned["home"])
    assert any(f.name == "report.html" for f in files) and any(f.suffix == ".parquet" for f in files)
    leaks = [(str(f), s[:20]) for f in files for text in _texts(f) for s in secrets if s in text]
    assert not leaks, leaks[:5]
    assert not [s for s in secrets if s in scanned["printed"]]


def test_personal_claims_only_as_keyed_hashes(scanned: dict[str, Any]) -> None:
    clear = [USER.upn.encode(), USER.name.encode(), USER.oid.encode()]
    for f in _all_files(scanned["out"]):
        for text in _texts(f):
            found = [c for c in clear if c in text]
            assert not found, (f, found)
    ev = pq.read_table(scanned["out"] / "events").to_pandas()
    hashes = set(ev["subject_hash"].dropna().astype(str))
    assert hashes and all(h.startswith("h:") for h in hashes)
    # One user, one hash: the user's tokens join on it (the app-only token has none).
    assert len(hashes) == 1
    examples = json.loads((scanned["out"] / "examples.json").read_text())
    shown = [ex["claims"] for exs in examples.values() for ex in exs if ex.get("claims")]
    assert shown
    for claims in shown:
        for name in (*PERSONAL, "oid", "sub"):
            if name in claims and claims.get("idtyp") != "app":
                assert str(claims[name]).startswith("h:"), (name, claims[name])


def test_include_pii_writes_clear_claims(scanned: dict[str, Any]) -> None:
    text = (scanned["pii_out"] / "examples.json").read_text()
    assert USER.upn in text


def test_outputs_are_not_world_readable(scanned: dict[str, Any]) -> None:
    for root in (scanned["out"], scanned["pii_out"]):
        for p in [root, *root.rglob("*")]:
            mode = p.stat().st_mode
            assert not mode & stat.S_IROTH, (p, oct(mode))
            assert not mode & stat.S_IWOTH, (p, oct(mode))
    key = scanned["home"] / "config" / "analyzer" / "pii-hash.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for p in _all_files(scanned["home"] / "cache" / "analyzer"):  # the key cache
        assert not p.stat().st_mode & stat.S_IROTH, p


# --- no request where a token points ----------------------------------------------------------------

class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it gets (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.mark.parametrize("offline", [False, True])
def test_no_request_goes_where_a_token_points(tmp_path: Path, offline: bool) -> None:
    listener = Listener()
    try:
        base = f"http://127.0.0.1:{listener.port}"
        at = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", user=USER, seed=8,
                                   issuer=f"{base}/{TENANT}/v2.0")
        toks = {
            "iss": T.sign(at, KEY),
            "jku": T.sign(at, KEY, headers={"jku": f"{base}/keys", "kid": "unknown-kid"}),
            "x5u": T.sign(at, KEY, headers={"x5u": f"{base}/cert.pem", "kid": f"{base}/kid"}),
            "kid": T.sign(at, KEY, headers={"kid": f"{base}/.well-known/openid-configuration"}),
            "https": T.sign({**at, "iss": f"https://127.0.0.1:{listener.port}/"}, KEY,
                            headers={"jku": f"https://127.0.0.1:{listener.port}/jwks"}),
            "none": T.unsigned(at, {"jku": f"{base}/none"}),
        }
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "access.log").write_text(_lines(toks))
        # A configured issuer that is not the listener: tokens still must not redirect its key fetch.
        jwks = tmp_path / "keys.json"
        jwks.write_text(json.dumps(T.jwks(KEY)))
        args = ["scan", str(logs), "--out", str(tmp_path / "out"), "--jwks", str(jwks), "--quiet", "--workers", "1"]
        r = CliRunner().invoke(app, [*args, "--offline" if offline else "--online"])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(app, ["inspect", toks["jku"], "--jwks", str(jwks)])
        assert r.exit_code == 0, r.output
    finally:
        listener.close()
    assert listener.connections == 0


# --- no path escape -------------------------------------------------------------------------------

def _tree(root: Path, skip: Path) -> set[Path]:
    return {p for p in root.rglob("*") if skip not in p.parents and p != skip}


def test_client_ids_and_sources_cannot_escape_the_output_dir(tmp_path: Path) -> None:
    evil_ids = ["../../evil", "/etc/passwd", "..", "a/../../b", "..\\..\\win", "\x00nul", "con", ".hidden",
                "x" * 300, "<script>alert(1)</script>"]
    toks = {f"c{i}": T.sign(T.access_token_claims(TENANT, "../../aud" if i % 2 else "api://x", cid, scp="read",
                                                  seed=i), KEY)
            for i, cid in enumerate(evil_ids)}
    work = tmp_path / "work"
    logs = work / "logs" / "sub"
    logs.mkdir(parents=True)
    (logs / "access.log").write_text(_lines(toks))
    out = work / "out"
    before = _tree(tmp_path, out)
    source = str(work / "logs" / "sub" / ".." / "sub" / "access.log")
    r = CliRunner().invoke(app, ["scan", source, "--out", str(out), "--quiet", "--workers", "1", "--offline"])
    assert r.exit_code == 0, r.output
    for split in ("client", "audience"):
        r = CliRunner().invoke(app, ["report", str(out), "--split-by", split])
        assert r.exit_code == 0, r.output
    assert _tree(tmp_path, out) == before
    reports = list(out.rglob("*.html"))
    assert len(reports) >= len(evil_ids)
    for p in reports:
        assert out in p.resolve().parents
        assert ".." not in p.name and "/" not in p.name and not p.name.startswith(".")
