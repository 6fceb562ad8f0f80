"""One dotted run is one occurrence, and its count of segments decides its verdict (the contract's
`malformed`: wrong segment count; 3 segments a JWS, 5 a JWE)."""

from __future__ import annotations

import json
from pathlib import Path

import jwts as T
import pandas as pd
import pytest
from typer.testing import CliRunner

from analyzer.cli import app

pytestmark = pytest.mark.whole_run


def test_segment_counts_decide_the_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = T.make_rsa_key("segs-k1")
    claims = T.access_token_claims("t", "api://orders", "c", iat=1_728_568_000, exp=1_728_571_600)
    tok = T.sign(claims, key)
    h, p, s = tok.split(".")
    cases = {
        "3": (tok, "ok"),
        "3_sentence": (tok + ".", "ok"),  # a dot that ends a sentence is no segment
        "4": (tok + ".AAAA", "malformed"),
        "4_sig_twice": (f"{tok}.{s}", "malformed"),
        "5_jwe": (T.jwe_like(seed=1), "encrypted"),
        "6": (f"{tok}.x.y.z", "malformed"),
        "10": (".".join([h, p, s] * 3 + [h]), "malformed"),
        "15": (".".join([h] * 15), "malformed"),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text("".join(
        f'10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /o/{name} HTTP/1.1" 200 5 "-" "curl" "Bearer {t}"\n'
        for name, (t, _) in cases.items()))
    jwks = tmp_path / "keys.json"
    jwks.write_text(json.dumps(T.jwks(key)))
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))
    monkeypatch.setenv("ANALYZER_PII_KEY_FILE", str(tmp_path / "pii.key"))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--jwks", str(jwks), "--offline", "--quiet",
                                 "--workers", "1"])
    assert r.exit_code == 0, r.output
    ev = pd.read_parquet(out / "events")
    runs = len(cases)  # a count, not the dict: a failure prints no token
    assert len(ev) == runs  # one occurrence per dotted run
    got = {str(path).rsplit("/", 1)[1]: (cause, bool(checked), str(detail))
           for path, cause, checked, detail in ev[["path", "cause", "signature_checked", "detail"]].itertuples(
               index=False)}
    for name, (t, cause) in cases.items():
        assert got[name][0] == cause, (name, got[name])
        if cause == "malformed":
            n = t.count(".") + 1
            assert got[name][2].startswith(f"{n} segments"), (name, got[name])
            assert not got[name][1]
