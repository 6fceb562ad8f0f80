"""Input/expected pairs: one log per format (tests/formats/*.log) beside the events it must give.

The logs are templates: `{TOKEN_OK}` and friends are replaced at test time with tokens signed by
keys made for this run, so no token is committed. The whole directory is scanned once through the
real CLI; each pair then checks its own file's events: line, token, time, host, method, path,
status, client IP and location.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwts as tk
import pandas as pd
import pytest
import zstandard

import analyzer._core as _core
from analyzer import schema as S
from analyzer.scan import formats
from analyzer.scan.formats import FileContext
from analyzer.tokens.decode import fingerprint

HERE = Path(__file__).resolve().parents[1] / "formats"
SAMPLES = sorted(HERE.glob("*.log"))
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
API = "6e7c1b0a-0000-0000-0000-000000000001"
CLIENT = "6e7c1b0a-0000-0000-0000-000000000002"
IAT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
# Files are compressed at test time, one per codec, to run the archive readers in the same pass.
COMPRESS = {"aws_alb.log": "gz", "syslog_rfc5424.log": "bz2", "caddy_json.log": "xz",
            "envoy_default.log": "zst"}
MTIME = datetime(2026, 11, 28, tzinfo=UTC).timestamp()


def make_tokens() -> dict[str, str]:
    """One token per placeholder, signed with a key made now."""
    key = tk.make_rsa_key("test-key-1")
    ok = tk.sign(tk.access_token_claims(TENANT, API, CLIENT, iat=IAT, scp="orders.read", seed=1), key)
    head, payload, _ = ok.split(".")
    return {
        "TOKEN_OK": ok,
        "TOKEN_ID": tk.sign(tk.id_token_claims(TENANT, CLIENT, iat=IAT, nonce="n-1", seed=2), key),
        # Microsoft's v1 ID-token sample keeps `=` padding; a filler claim makes the payload need it.
        "TOKEN_PADDED": tk.sign_padded(
            tk.access_token_claims(TENANT, API, CLIENT, iat=IAT, roles=["x"], seed=3, extra={"f": "ab"}),
            key),
        "TOKEN_NONE": tk.unsigned(tk.access_token_claims(TENANT, API, CLIENT, iat=IAT, scp="a", seed=4)),
        "TOKEN_JWE": tk.jwe_like(seed=5),
        "TOKEN_TRUNC": f"{head}.{payload[:40]}",
        "TOKEN_ASSERTION": tk.sign(tk.client_assertion_claims(CLIENT, TENANT, iat=IAT, seed=6), key, "RS256"),
    }


def render(template: str, toks: dict[str, str]) -> str:
    """The template with every `{NAME}` placeholder replaced by its token."""
    for name, value in toks.items():
        template = template.replace("{" + name + "}", value)
    return template


def write_sample(src: Path, target_dir: Path, toks: dict[str, str]) -> Path:
    """Write one rendered sample (compressed if the table says so), with a fixed mtime."""
    data = render(src.read_text(encoding="utf-8"), toks).encode()
    codec = COMPRESS.get(src.name)
    target = target_dir / (src.name + (f".{codec}" if codec else ""))
    if codec == "gz":
        data = gzip.compress(data)
    elif codec == "bz2":
        data = bz2.compress(data)
    elif codec == "xz":
        data = lzma.compress(data)
    elif codec == "zst":
        data = zstandard.ZstdCompressor().compress(data)
    target.write_bytes(data)
    os.utime(target, (MTIME, MTIME))
    return target


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every sample scanned in one CLI run: the events, run.json, and the tokens used."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    toks = make_tokens()
    logs = tmp_path_factory.mktemp("logs")
    home = tmp_path_factory.mktemp("home")
    paths = {src.name: str(write_sample(src, logs, toks)) for src in SAMPLES}
    out = tmp_path_factory.mktemp("out") / "report"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYZER_PII_KEY_FILE", str(home / "pii.key"))
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.chdir(home)
        result = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--offline", "--quiet",
                                          "--workers", "1"])
    assert result.exit_code == 0, result.output
    events = pd.read_parquet(out / "events")
    run = json.loads((out / "run.json").read_text())
    return {"events": events, "run": run, "paths": paths, "tokens": toks}


def _expected(src: Path) -> list[dict[str, str]]:
    with open(src.with_suffix(".expected.csv"), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _cell(v: Any) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        return "" if pd.isna(v) else v.floor("s").strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(v)


def test_every_sample_has_expectations() -> None:
    assert len(SAMPLES) >= 15
    for src in SAMPLES:
        assert src.with_suffix(".expected.csv").exists(), src.name


@pytest.mark.whole_run
@pytest.mark.parametrize("src", SAMPLES, ids=[s.stem for s in SAMPLES])
def test_sample_gives_expected_events(src: Path, scanned: dict[str, Any]) -> None:
    ev = scanned["events"]
    mine = ev[ev["source"].astype(str) == scanned["paths"][src.name]].sort_values(["line"], kind="stable")
    fps = {fingerprint(v.encode()): k for k, v in scanned["tokens"].items()}
    got = [
        {"line": str(r["line"]), "token": fps.get(str(r["token_fp"]), "?"), "ts": _cell(r["ts"]),
         "host": _cell(r["host"]), "method": _cell(r["method"]), "path": _cell(r["path"]),
         "status": _cell(r["status"]), "client_ip": _cell(r["client_ip"]), "location": _cell(r["location"])}
        for r in mine.to_dict("records")
    ]
    want = _expected(src)
    key = lambda d: (int(d["line"]), d["token"], d["location"])  # noqa: E731
    assert sorted(got, key=key) == sorted(want, key=key)


@pytest.mark.whole_run
def test_run_counts_masked_values_and_files(scanned: dict[str, Any]) -> None:
    run = scanned["run"]
    # `Bearer REDACTED` (nginx), `"request_Authorization":"REDACTED"` (Traefik), `["REDACTED"]` (Caddy).
    assert run["tokens"]["masked"] == 3
    assert run["files"]["count"] == len(SAMPLES)
    assert not run["files"]["errors"]


@pytest.mark.whole_run
def test_formats_detected(scanned: dict[str, Any]) -> None:
    ev = scanned["events"]
    by_source = {Path(str(s)).name.split(".log")[0]: str(f)
                 for s, f in zip(ev["source"], ev["format"], strict=True)}
    assert by_source["nginx_combined"] == S.FMT_NGINX
    assert by_source["apache_vhost_combined"] == S.FMT_APACHE
    assert by_source["ingress_nginx"] == S.FMT_INGRESS_NGINX
    assert by_source["envoy_default"] == S.FMT_ENVOY
    assert by_source["iis_w3c"] == S.FMT_IIS
    assert by_source["haproxy_httplog"] == S.FMT_HAPROXY
    assert by_source["traefik_json"] == S.FMT_TRAEFIK
    assert by_source["caddy_json"] == S.FMT_CADDY
    assert by_source["aws_alb"] == S.FMT_ALB
    assert by_source["azure_appgw"] == S.FMT_APPGW
    assert by_source["azure_frontdoor"] == S.FMT_FRONTDOOR
    assert by_source["serilog_compact"] == S.FMT_JSON
    assert by_source["nginx_error"] == S.FMT_NGINX_ERROR
    assert by_source["iis_without_fields"] == S.FMT_IIS
    assert by_source["haproxy_custom"] == S.FMT_HAPROXY


@pytest.mark.whole_run
def test_line_without_time_is_judged_at_mtime(scanned: dict[str, Any]) -> None:
    ev = scanned["events"]
    row = ev[(ev["source"].astype(str) == scanned["paths"]["generic_mixed.log"]) & (ev["line"] == 5)].iloc[0]
    assert pd.isna(row["ts"])
    assert "modification time" in str(row["detail"]) or "mtime" in str(row["detail"])


@pytest.mark.whole_run
def test_truncated_token_is_malformed(scanned: dict[str, Any]) -> None:
    ev = scanned["events"]
    fp = fingerprint(scanned["tokens"]["TOKEN_TRUNC"].encode())
    rows = ev[ev["token_fp"].astype(str) == fp]
    assert len(rows) == 2
    assert set(rows["cause"].astype(str)) == {S.MALFORMED}
    assert all("truncated" in str(d) for d in rows["detail"])


@pytest.mark.whole_run
def test_jwe_and_alg_none(scanned: dict[str, Any]) -> None:
    ev = scanned["events"]
    causes = {str(fp): str(c) for fp, c in zip(ev["token_fp"], ev["cause"], strict=True)}
    assert causes[fingerprint(scanned["tokens"]["TOKEN_JWE"].encode())] == S.ENCRYPTED
    assert causes[fingerprint(scanned["tokens"]["TOKEN_NONE"].encode())] == S.UNSUPPORTED_ALG


# --- detection and per-line fallback, without the pipeline ------------------------------------------
def test_iis_line_of_no_known_layout_leaves_unsure_fields_empty() -> None:
    """Without `#Fields:`, a line that fits no known layout gives only what IIS's field order makes sure."""
    line = (b"2026-11-26 00:01:02 W3SVC1 WEB01 10.0.0.4 GET /api/x a=1 443 - 203.0.113.9 HTTP/1.1 "
            b"Mozilla/5.0 - 200 0 0 15")
    name, f = formats.parse_line(line, S.FMT_IIS, FileContext(year=2026))
    assert name == S.FMT_IIS
    assert (f.method, f.path, f.status, f.client_ip, f.host, f.user_agent) == (
        "GET", "/api/x", 200, "203.0.113.9", None, None)


def test_a_dated_app_line_is_not_read_as_iis() -> None:
    line = b"2026-11-25 00:07:27 INFO [svc] http: POST https://h.example.com/t -> 200 (122 ms) body=x"
    name, f = formats.parse_line(line, S.FMT_IIS, FileContext(year=2026))
    assert name == S.FMT_GENERIC
    assert (f.method, f.host, f.path, f.status) == ("POST", "h.example.com", "/t", 200)


def test_forced_format_still_falls_back_per_line() -> None:
    ctx = FileContext(year=2026)
    line = b'[2026-11-26T20:17:00.310Z] "GET /a HTTP/1.1" 200 - 1 2 3 4 "-" "ua" "x" "h.example.com" "u"'
    name, fields = formats.parse_line(line, S.FMT_NGINX, ctx)
    assert name == S.FMT_ENVOY and fields.host == "h.example.com"


def test_serilog_request_logging_is_json_not_traefik() -> None:
    """Serilog's request logging has a `RequestHost` property, as Traefik's access log does."""
    serilog = (b'{"@t":"2026-11-20T05:01:06.000Z","@mt":"HTTP {RequestMethod} {RequestPath} responded '
               b'{StatusCode}","RequestHost":"inventory.contoso.com","RequestMethod":"GET","StatusCode":200}')
    traefik = b'{"RequestHost":"orders.contoso.com","DownstreamStatus":200,"RequestMethod":"GET"}'
    assert formats.detect([serilog] * 3) == S.FMT_JSON
    assert formats.detect([traefik] * 3) == S.FMT_TRAEFIK


def test_mixed_file_detects_majority() -> None:
    nginx = b'1.2.3.4 - - [26/Nov/2026:03:14:15 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"'
    assert formats.detect([nginx, nginx, b'{"a":1}', b"junk"]) == S.FMT_NGINX
    assert formats.detect([b"junk", b"more junk"]) == S.FMT_GENERIC
    assert formats.detect([b"#Software: Microsoft Internet Information Services 10.0"]) == S.FMT_IIS


@pytest.mark.parametrize("line", [
    b"", b"\x00\xff\xfe", b"{", b'{"a": [1, 2', b"[", b'"' * 500, b"#Fields:", b"<34>", b"<165>1 ",
    b'1.2.3.4 - - [99/Xyz/2026:99:99:99 +9999] "GET / HTTP/1.1" 200 1', b'{"ts": 1e400, "status": "abc"}',
    b'{"time": true, "host": ["a"], "status": 99999}', "ünïcödé – Bearer".encode(),
])
def test_junk_lines_never_crash(line: bytes) -> None:
    ctx = FileContext(year=2026)
    for fmt in (*S.FORMATS,):
        name, _ = formats.parse_line(line, fmt, ctx)
        assert name in S.FORMATS
    formats.detect([line])


_WRAPPERS = (b"2026-11-26T09:10:11.123456789Z stdout F ", b"<134>Nov 26 09:10:11 host1 proxy[12]: ",
             b"<165>1 2026-11-26T09:10:11.003Z host1 proxy - - - ")


def _token_lines(src: Path) -> list[bytes]:
    """The sample's lines that hold a token, with the tokens filled in (no W3C directives)."""
    toks = make_tokens()
    return [render(line, toks).encode() for line in src.read_text(encoding="utf-8").splitlines()
            if "{TOKEN_" in line and not line.startswith("#")]


_UNWRAPPED = [s for s in SAMPLES if not s.name.startswith(("syslog_", "cri_", "iis_w3c"))]


@pytest.mark.parametrize("src", _UNWRAPPED, ids=lambda s: s.stem)
def test_a_wrapped_line_reads_as_the_line_itself(src: Path) -> None:
    """A CRI or syslog prefix changes nothing the line itself says (only a missing time is filled)."""
    lines = _token_lines(src)
    fmt = formats.detect(lines)
    for line in lines:
        _, own = formats.parse_line(line, fmt, FileContext(year=2026))
        if own.ts is None or _core.unwrap(line) is not None:
            continue
        for prefix in _WRAPPERS:
            wrapped = [prefix + x for x in lines]
            _, got = formats.parse_line(prefix + line, formats.detect(wrapped), FileContext(year=2026))
            assert got[:7] == own[:7], (prefix, line[:80])


@pytest.mark.parametrize("src", [s for s in SAMPLES if s.name != "iis_w3c.log"], ids=lambda s: s.stem)
def test_a_line_reads_the_same_in_a_file_of_any_format(src: Path) -> None:
    """Mixed files: a line that is not in its file's format is read by the format it is in."""
    lines = _token_lines(src)
    fmt = formats.detect(lines)
    for line in lines:
        _, own = formats.parse_line(line, fmt, FileContext(year=2026))
        for other in S.FORMATS:
            _, got = formats.parse_line(line, other, FileContext(year=2026))
            assert got[:7] == own[:7], (other, line[:80])


def test_every_format_is_documented() -> None:
    """docs/formats.md says, for each format, which field gives ts, host, path, status and client_ip."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().split(" ")[0] for line in doc.splitlines() if line.startswith("| `")}
    assert {f"`{name}`" for name in S.FORMATS} <= rows
