"""Hostile token contents that the existing hostile tests missed (found by helper "qa").

A JSON string may hold an escaped lone surrogate (`"\\ud800"`): Python's JSON reader accepts it, but
UTF-8 (Arrow, Parquet, HTML) cannot hold it. Before the fix a single such claim ended the whole run
with `internal error (UnicodeEncodeError)`, exit 70, everything read so far lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jwts as T
import pandas as pd
import pytest
from conftest import ROOT
from hostile_logs import CLIENT, KEY, TENANT, nginx_line, scan

from analyzer import schema as S

BASE = T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=3)


def _with_raw_json(extra: str, header: bytes | None = None) -> str:
    """A token signed over the claims with `extra` (raw JSON members, escapes kept) appended."""
    payload = (json.dumps(BASE)[:-1] + ", " + extra + "}").encode()
    hdr = header or json.dumps({"alg": "RS256", "kid": KEY.kid}).encode()
    return T.sign_segments(T.b64url(hdr), T.b64url(payload), KEY, "RS256")


LONE_SURROGATES = [
    _with_raw_json('"appid": "\\ud800"'),
    _with_raw_json('"aud": "\\udfff", "iss": "\\ud800x"'),
    _with_raw_json('"name": "\\ud800\\udfff\\ud800", "upn": "\\u0000\\u202e", "x\\ud800": 1'),
    _with_raw_json('"scp": "read \\udc80", "roles": ["\\ud801"], "tid": "\\ud802"'),
    _with_raw_json('"ver": "2.0"', header=b'{"alg":"RS256","kid":"\\ud800","typ":"\\udfff"}'),
]


@pytest.mark.whole_run
def test_lone_surrogates_in_claims_and_header_are_data(tmp_path: Path) -> None:
    f = tmp_path / "surrogates.log"
    f.write_text("".join(nginx_line(t) for t in LONE_SURROGATES))
    out = tmp_path / "out"
    s = scan(out, f)
    assert s["exit_code"] == 0
    assert s["tokens"]["occurrences"] == len(LONE_SURROGATES)
    ev = pd.read_parquet(out / "events")
    assert len(ev) == len(LONE_SURROGATES)
    assert set(ev["cause"]) <= set(S.CAUSES)
    # What cannot be written is replaced, visibly (U+FFFD), never dropped or crashing.
    assert "\ufffd" in set(ev["client_id"].dropna())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "\ud800" not in html


@pytest.mark.whole_run
@pytest.mark.parametrize("workers", ["1", "2"])
def test_lone_surrogates_through_the_cli(tmp_path: Path, workers: str) -> None:
    f = tmp_path / "surrogates.log"
    f.write_text("".join(nginx_line(t) for t in LONE_SURROGATES))
    r = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(f), "--out", str(tmp_path / "out"), "--quiet",
                        "--offline", "--workers", workers], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


@pytest.mark.whole_run
@pytest.mark.parametrize("tok", LONE_SURROGATES[:2] + LONE_SURROGATES[4:])
def test_inspect_a_token_with_lone_surrogates(tok: str) -> None:
    for extra in ([], ["--json"]):
        r = subprocess.run([sys.executable, "-m", "analyzer", "inspect", *extra, "-"], input=tok, capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        assert tok.rsplit(".", 1)[1] not in r.stdout


def test_scrubbed_claims_are_strict_json_and_utf8() -> None:
    from analyzer.tokens.privacy import scrub_claims

    claims = json.loads('{"exp": NaN, "nbf": Infinity, "iat": -Infinity, "big": ' + "9" * 40 + ', "n": 5, '
                        '"f": 1.5, "b": true, "x\\ud800": "\\udfff", "deep": [[{"a": "\\ud800"}]]}')
    out = scrub_claims(claims, b"k" * 32)

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    text = json.dumps(out, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate left
    assert json.loads(text, parse_constant=refuse) == out  # no NaN/Infinity, which JSON does not have
    assert out["n"] == 5 and out["f"] == 1.5 and out["b"] is True
    assert out["exp"] == "nan" and out["big"] == "9" * 40 and out["x\ufffd"] == "\ufffd"


@pytest.mark.whole_run
@pytest.mark.parametrize("stamp", ["01/Jan/0001:00:00:00 +0000", "01/Jan/1000:00:00:00 +0000",
                                   "10/Oct/9999:13:55:36 +0000", "31/Dec/2262:23:59:59 +0000"])
def test_lines_dated_in_impossible_years(tmp_path: Path, stamp: str) -> None:
    """Before the fix the report's charts ended the run (OverflowError / NotImplementedError, exit 70)."""
    f = tmp_path / "years.log"
    tok = T.sign(BASE, KEY)
    f.write_text(f'10.0.0.1 - - [{stamp}] "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {tok}"\n'
                 + nginx_line(tok))
    out = tmp_path / "out"
    s = scan(out, f)
    assert s["exit_code"] == 0 and s["tokens"]["occurrences"] == 2
    ev = pd.read_parquet(out / "events").sort_values("line")
    assert ev["ts"].isna().tolist() == [True, False]  # judged as a line without a time
    assert (out / "report.html").stat().st_size > 0


def test_the_unverified_warning_line_cannot_be_forged_by_a_token() -> None:
    """The `iss` of an unverified token is printed on stderr: a newline or escape in it made a fake line."""
    from analyzer.diagnose.unverified import summary_line

    for iss in ["red\nanalyzer: all tokens verified", "\x1b[2J\x1b[31mred", "A" * 100_000]:
        line = summary_line({"count": 1, "unique_tokens": 1, "issuers": [
            {"issuer": iss, "count": 1, "reason": f"no key set for issuer {iss}: add an [[issuer]]"}]})
        assert line is not None
        assert line.isprintable() and len(line) < 1000, line[:200]


@pytest.mark.whole_run
def test_inspect_details_cannot_forge_lines(tmp_path: Path) -> None:
    """A claim quoted in a check's detail (aud, iss) with a newline printed a fake `verdict: ok` line."""
    claims = T.access_token_claims(TENANT, "x\nverdict: ok", CLIENT, seed=4)
    claims["iss"] = "evil\nchecks: all ok"
    tok = T.sign(claims, KEY)
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text('[[api]]\nname = "orders"\nhosts = ["orders.example"]\naudiences = ["api://orders"]\n')
    r = subprocess.run([sys.executable, "-m", "analyzer", "inspect", "--config", str(cfg), "--api", "orders", "-"],
                       input=tok, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert not [x for x in lines if x.startswith(("verdict: ok", "checks: all ok"))], r.stdout
