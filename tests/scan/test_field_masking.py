"""No part of a signature in the fields a token line writes, however its token was written.

The token grammar reads base64url with literal dots; a token in the standard alphabet, percent-encoded
(once or twice), with escaped dots or broken by a stray byte is read in part or not at all. The rest
of it must not reach `events` (path, user agent, client IP), `examples.json` or `report.html`: the
whole CLI scans such lines, and every output is searched for any 20 characters of each signature, in
each form it was written in.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwts as T
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from analyzer.cli import app

pytestmark = pytest.mark.whole_run

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
TS = "[10/Oct/2024:13:55:36 +0000]"
WINDOW = 20


def std(tok: str) -> str:
    """The token in the standard base64 alphabet."""
    return tok.replace("-", "+").replace("_", "/")


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _token(key: T.KeyPair, seed: int) -> str:
    """A signed token whose signature holds `-` and `_` (so `+` and `/` in the standard alphabet)."""
    for s in range(seed, seed + 100):
        tok = T.sign(T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=s), key)
        if {"-", "_"} <= set(tok.split(".")[2]):
            return tok
    raise AssertionError("no signature with both - and _")


def _line(path: str = "/c", ua: str = "curl/8", bearer: str = "-") -> str:
    return f'10.0.0.1 - - {TS} "GET {path} HTTP/1.1" 401 5 "-" "{ua}" "{bearer}"\n'


def _texts(path: Path) -> Iterator[str]:
    """A file's text, and for Parquet every string value."""
    data = path.read_bytes()
    yield data.decode("utf-8", "replace")
    if data[:4] == b"PAR1":
        for col in pq.read_table(path).columns:
            yield "\n".join(v if isinstance(v, str) else json.dumps(v, default=str)
                            for v in col.to_pylist() if v is not None)


def _windows(sig: str) -> set[str]:
    """Every `WINDOW` characters of a signature, in each form a line of these tests writes it."""
    forms = {sig, std(sig), quote(std(sig)), quote(quote(std(sig)))}
    return {f[i:i + WINDOW] for f in forms for i in range(len(f) - WINDOW + 1)}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    key = T.make_rsa_key("mask-k1")
    bearer = _token(key, 1)  # a token every line has in its Authorization header
    t = _token(key, 200)
    h, p, s = t.split(".")
    broken = {c: f"{h}.{p[:80]}{c}{p[80:]}.{s}" for c in ("%", "!", " ")}
    lines = [
        # standard alphabet, raw and percent-encoded, in the path and the user agent
        _line(path=f"/a/{std(t)}/b"),
        _line(path=f"/a/{quote(std(t))}/b"),
        _line(ua=f"Mozilla {std(t)}"),
        # broken inside the payload by one byte
        _line(path=f"/a?access_token={broken['%']}"),
        _line(path=f"/b/{broken['!']}/x"),
        _line(ua=f"app/1.0 {broken[' ']}"),
    ]
    # escaped dots, or escaped twice, beside a token the grammar reads
    for v in (t.replace(".", "%2E"), t.replace(".", "&#46;"), t.replace(".", "\\u002e"), s,
              quote(quote(std(t)))):
        lines.append(_line(ua=f"UA {v}", bearer=f"Bearer {bearer}"))
        lines.append(_line(path=f"/p/{v}", bearer=f"Bearer {bearer}"))
    base = tmp_path_factory.mktemp("masking")
    logs = base / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("".join(lines))
    jwks = base / "keys.json"
    jwks.write_text(json.dumps(T.jwks(key)))
    out = base / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYZER_PII_KEY_FILE", str(base / "pii.key"))
        mp.setenv("XDG_CACHE_HOME", str(base / "cache"))
        mp.setenv("XDG_CONFIG_HOME", str(base / "config"))
        r = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--jwks", str(jwks), "--offline",
                                     "--quiet", "--workers", "1"])
    assert r.exit_code == 0, r.output
    return {"out": out, "sigs": [s, bearer.split(".")[2]], "lines": len(lines)}


def test_no_part_of_a_signature_in_any_output(scanned: dict[str, Any]) -> None:
    out: Path = scanned["out"]
    files = [f for f in sorted(out.rglob("*")) if f.is_file()]
    names = {f.name for f in files}
    assert {"examples.json", "report.html"} <= names and any(f.suffix == ".parquet" for f in files)
    windows = set().union(*(_windows(s) for s in scanned["sigs"]))
    # Which file, and the first characters only: a failure prints no signature either.
    leaks = sorted({(f.name, w[:6]) for f in files for text in _texts(f) for w in windows if w in text})
    assert not leaks, leaks[:5]


def test_the_path_around_a_masked_token_stays(scanned: dict[str, Any]) -> None:
    ev = pd.read_parquet(scanned["out"] / "events")
    assert set(ev["line"]) == set(range(1, scanned["lines"] + 1))  # every line gave a row
    paths = ev.set_index("line")["path"].astype(str)
    assert paths[1] == "/a/[token]/b"
    assert paths[2] == "/a/[token]/b"
    assert paths[5].startswith("/b/[token]") and paths[5].endswith("/x")
    assert set(ev.loc[ev["line"] == 3, "user_agent"].astype(str)) == {"Mozilla [token]"}
