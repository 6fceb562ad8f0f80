"""Hostile claims and log fields in the report: inert text in a real headless Chromium.

Every payload would set `data-pwned` on <body> if it ran. The report is loaded as written, and
once more with its Content-Security-Policy removed, so that escaping is proven on its own and
not only by the CSP that backs it up.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import jwts as T
import pytest
from typer.testing import CliRunner

from analyzer.cli import app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.whole_run,  # every test here runs a whole scan
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium is not installed"),
]
TENANT = "11111111-1111-1111-1111-111111111111"
KEY = T.make_rsa_key("hostile-report-k1")
PWN = "document.body.setAttribute('data-pwned','{}')"
BIDI = "\u202e\u2066\u200f"
PAYLOADS = {
    "appid": f'<img src=x onerror="{PWN.format(1)}">',
    "aud": f"javascript:{PWN.format(2)}",
    "iss": f"</script><script>{PWN.format(3)}</script>",
    "scp": f"read\x07\x1b[31m{BIDI}gnp.exe <svg onload=\"{PWN.format(4)}\">",
    "kid": f"\"><iframe src=\"javascript:{PWN.format(5)}\"></iframe>",
}


def _line(tok: str, i: int) -> str:
    path = f"/orders/<svg/onload={PWN.format(10 + i)}>"
    ua = f"<script>{PWN.format(20 + i)}</script>{BIDI}\x01"
    host = f"<b>x{i}</b>.contoso.com"
    return (f'10.0.0.{i} - - [10/Oct/2024:13:55:3{i} +0000] "GET {path} HTTP/1.1" 401 5 "javascript:alert(1)" '
            f'"{ua}" "Bearer {tok}" host="{host}"\n')


def _dump_dom(page: Path, profile: Path) -> str:
    r = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "<body" in r.stdout
    return r.stdout


def _assert_inert(dom: str, where: str) -> None:
    body = re.search(r"<body[^>]*>", dom)
    assert body and "data-pwned" not in body.group(0), where
    # No element came out of a payload: the payloads' tags exist only as escaped text.
    for tag in (r"<img[^>]*onerror", r"<svg[^>]*onload", r"<iframe", r"<b>x\d"):
        assert not re.search(tag, dom, re.I), (where, tag)
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*javascript:""", dom, re.I), where
    # Bidi overrides and control characters are shown as code points, not applied.
    assert not any(c in dom for c in BIDI + "\x07\x1b\x01"), where


def test_hostile_values_are_inert_text_in_chromium(tmp_path: Path) -> None:
    lines = []
    for i, (claim, payload) in enumerate(PAYLOADS.items()):
        claims = T.access_token_claims(TENANT, "api://orders", "22222222-2222-2222-2222-222222222222",
                                       version="1.0", scp="read", seed=i)
        headers = {}
        if claim == "kid":
            headers["kid"] = payload
        else:
            claims[claim] = payload
        lines.append(_line(T.sign(claims, KEY, headers=headers), i))
    logs = tmp_path / "access.log"
    logs.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scan", str(logs), "--out", str(out), "--quiet", "--offline", "--workers", "1"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["report", str(out), "--split-by", "client"])
    assert r.exit_code == 0, r.output
    pages = [out / "report.html", *sorted((out / "reports-by-client").glob("*.html"))]
    assert len(pages) >= 3
    html = pages[0].read_text(encoding="utf-8")
    assert "onerror" in html, "the hostile values are in the report (as text)"
    for page in pages[:3]:
        text = page.read_text(encoding="utf-8")
        _assert_inert(_dump_dom(page, tmp_path / "profile"), page.name)
        no_csp = page.with_name("nocsp-" + page.name)
        no_csp.write_text(re.sub(r"<meta[^>]*Content-Security-Policy[^>]*>", "", text, flags=re.I),
                          encoding="utf-8")
        _assert_inert(_dump_dom(no_csp, tmp_path / "profile"), no_csp.name)
