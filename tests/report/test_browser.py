"""The report in a real headless Chromium: no errors, no requests, hostile values inert, and a layout that fits.

Measured on three reports: the small corpus of report_corpus.py, the bundled sample logs, and a larger
generated corpus (many clients, APIs and causes, long hostile values). At 390 px (a phone) and at
1400 px the page never scrolls sideways; at 1400 px no table is wider than its box; the desktop page is
at most 9,000 px tall; the first 900 px name the client and the API failing most by their config
names; the visible text holds no Python repr, no True/False and no microsecond timestamps.
Screenshots of every report at both widths are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import report_corpus as C
from chromium import CHROMIUM, Chromium, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
WIDTHS = (390, 1400)
MAX_HEIGHT = 9000
pytestmark = [
    pytest.mark.browser,
    pytest.mark.whole_run,  # every test here runs a whole scan
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium is not installed"),
]
# What a person must never read in the report: Python reprs, booleans, timestamps with microseconds.
REPR = re.compile(r"\bTrue\b|\bFalse\b|\bNone\b|\['|\{'|'\]|\d\d:\d\d:\d\d\.\d{3,}|\bnan\b|\bNaT\b")


@pytest.fixture(scope="module")
def browser() -> Iterator[Page]:
    """A headless Chromium with one tab, closed after the module."""
    pytest.importorskip("websocket")
    with Chromium() as page:
        yield page


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory scanned twice from the small report corpus."""
    return C.scan(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, out: Path) -> dict[str, tuple[Path, Path]]:
    """(output directory, config) of the three reports: the corpus, the sample logs and the large corpus."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    sample = tmp_path_factory.mktemp("sample") / "out"
    res = CliRunner().invoke(app, ["scan", str(ROOT / "sample_logs"), "--out", str(sample), "--quiet"])
    assert res.exit_code == 0, res.output
    large_root = tmp_path_factory.mktemp("large")
    return {
        "corpus": (out, out.parent / "analyzer.toml"),
        "sample": (sample, ROOT / "sample_logs" / "analyzer.toml"),
        "large": (C.scan_large(large_root), large_root / "analyzer.toml"),
    }


@pytest.fixture(scope="module")
def loaded(browser: Page, out: Path) -> list[dict[str, Any]]:
    """The events seen while the corpus report loaded."""
    browser.open((out / "report.html").as_uri())
    time.sleep(0.3)
    browser.js("1")
    return list(browser.events)


def _errors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]


def test_no_errors_and_no_requests(loaded: list[dict[str, Any]]) -> None:
    """Nothing is logged as an error (CSP violations included) and nothing but the file is requested."""
    assert _errors(loaded) == []
    urls = [e["params"]["request"]["url"] for e in loaded if e.get("method") == "Network.requestWillBeSent"]
    assert all(u.startswith("file://") for u in urls), urls
    assert len(urls) == 1
    assert not any(e.get("method") == "Page.javascriptDialogOpening" for e in loaded)


def test_hostile_values_render_as_text(browser: Page, loaded: list[dict[str, Any]]) -> None:
    """The client id <img src=x onerror=alert(1)> shows as text; no element is created from it."""
    assert browser.js("document.querySelectorAll('main img').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == 1
    assert browser.js(f"document.body.innerText.includes({json.dumps(C.HOSTILE)})")
    browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.js(f"document.body.innerText.includes({json.dumps(C.HOSTILE_AUD)})")
    assert browser.js("[...document.querySelectorAll('a')].every(a => !a.href.startsWith('javascript'))")


def test_tables_sort_and_filter(browser: Page, loaded: list[dict[str, Any]]) -> None:
    """Clicking a header sorts the rows; typing in the box hides non-matching rows."""
    col = "[...document.querySelectorAll('#t-client_id thead th')].findIndex(th => th.textContent === 'total')"
    values = (f"[...document.querySelectorAll('#t-client_id tbody tr')].map(r => "
              f"parseInt(r.cells[{col}].textContent.replace(/,/g, '')))")
    browser.js(f"document.querySelectorAll('#t-client_id thead th')[{col}].click()")
    desc = browser.js(values)
    assert desc == sorted(desc, reverse=True) and len(desc) == 4
    browser.js(f"document.querySelectorAll('#t-client_id thead th')[{col}].click()")
    asc = browser.js(values)
    assert asc == sorted(asc)
    browser.js("document.querySelectorAll('#t-client_id thead th')[0].click()")
    assert browser.js("document.querySelector('#t-client_id thead th').getAttribute('aria-sort')") == "ascending"


def test_show_all_and_filter_reach_hidden_rows(browser: Page, reports: dict[str, tuple[Path, Path]]) -> None:
    """A long table shows its first rows; "show all" and the filter reach the others."""
    browser.open((reports["large"][0] / "report.html").as_uri())
    visible = "[...document.querySelectorAll('#t-client_id tbody tr')].filter(r => !r.hidden).length"
    total = browser.js("document.querySelectorAll('#t-client_id tbody tr').length")
    assert total > 20 and browser.js(visible) == 10
    browser.js("document.querySelector('button[data-more=\"t-client_id\"]').click()")
    assert browser.js(visible) == total
    browser.js("document.querySelector('button[data-more=\"t-client_id\"]').click()")
    assert browser.js(visible) == 10
    last = browser.js("[...document.querySelectorAll('#t-client_id tbody tr')].pop().cells[0].textContent")
    browser.js(f"""(() => {{ const i = document.querySelector('input[data-filter="t-client_id"]');
        i.value = {json.dumps(last.strip()[:30])}; i.dispatchEvent(new Event('input')); }})()""")
    assert 1 <= browser.js(visible) < 10
    # A link to a cause opens its folded section.
    browser.js("document.querySelector('a[href^=\"#cause-\"]').click()")
    assert browser.js("[...document.querySelectorAll('details.cause')].some(d => d.open)")


def _top_names(out: Path, config: Path) -> tuple[str, str]:
    """The client and the API with the most failing occurrences, by their config names (from the Parquet)."""
    ev = pd.read_parquet(out / "events", columns=["client_id", "api", "cause"])
    failing = ev[ev["cause"] != "ok"]
    cid = str(failing["client_id"].dropna().astype(str).value_counts().idxmax())
    api = str(failing["api"].dropna().astype(str).value_counts().idxmax())
    conf = tomllib.loads(config.read_text())
    names = {c["client_id"]: c.get("name") for c in conf.get("client", [])}
    return names.get(cid) or cid, api


@pytest.mark.parametrize("which", ["sample", "large", "corpus"])
def test_layout_fits_and_reads(browser: Page, reports: dict[str, tuple[Path, Path]], which: str) -> None:
    """No sideways scrolling at 390 and 1400 px, tables in their boxes, a short page, names on the first screen."""
    out, config = reports[which]
    browser.open((out / "report.html").as_uri())
    assert _errors(browser.events) == []
    client, api = _top_names(out, config)
    for opened in (False, True):
        if opened:  # everything folded away must fit too
            browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
        for width in WIDTHS:
            m = browser.measure(width)
            assert m["scrollWidth"] <= width, (which, width, opened, m["wide"])
            if width == 1400:
                wide = [t for t in m["tables"] if t["width"] > t["box"] + 1]
                assert not wide, (which, opened, wide)
                assert not REPR.findall(m["text"]), (which, REPR.findall(m["text"])[:5])
                if not opened:
                    assert m["height"] <= MAX_HEIGHT, (which, m["height"])
                    assert client in m["firstScreen"] and api in m["firstScreen"], (which, client, api)


def test_no_machine_paths_in_the_html(reports: dict[str, tuple[Path, Path]]) -> None:
    """The page names inputs relative to what was scanned, never by an absolute path of this machine."""
    for out, config in reports.values():
        html = (out / "report.html").read_text(encoding="utf-8")
        for path in {str(out), str(out.parent), str(ROOT), str(config.parent), str(Path.home())}:
            assert path not in html.replace("&#64;", "@"), path
        assert re.search(r"jwks\.json", html)  # the key file is still named


def test_screenshots(browser: Page, reports: dict[str, tuple[Path, Path]]) -> None:
    """Screenshots of the first report at both widths are kept in test-artifacts/ for a person to look at
    (the layout tests above check every report at both widths)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for which, (out, _) in list(reports.items())[:1]:
        browser.open((out / "report.html").as_uri())
        for width in WIDTHS:
            path = ARTIFACTS / f"report-{which}-{width}.png"
            browser.screenshot(path, width)
            assert path.stat().st_size > 10_000


def test_split_report_in_browser(browser: Page, out: Path, tmp_path: Path) -> None:
    """The index links to each client's report, which loads without errors and fits a phone."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    res = CliRunner().invoke(app, ["report", str(out), "--split-by", "client", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    browser.open((tmp_path / "s" / "index.html").as_uri())
    assert browser.measure(390)["scrollWidth"] <= 390
    links = browser.js("[...document.querySelectorAll('a[href$=\".html\"]')].map(a => a.href)")
    assert len(links) == 4
    for link in links:
        browser.open(link)
        assert _errors(browser.events) == []
        assert browser.js("document.querySelector('h1').textContent").startswith("Bearer token failures for client")
        assert browser.measure(390)["scrollWidth"] <= 390


def test_unverified_tokens_on_the_first_screen(browser: Page, out: Path, tmp_path: Path) -> None:
    """Tokens that passed without a signature check are named in the first 900 px, at both widths."""
    import shutil

    from typer.testing import CliRunner

    from analyzer.cli import app

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    run = json.loads((copy / "run.json").read_text())
    run["unverified_ok"] = {"count": 77, "unique_tokens": 5, "issuers": [
        {"issuer": "https://sts.windows.net/abc/", "count": 77, "reason": "no signing keys for this issuer"}]}
    (copy / "run.json").write_text(json.dumps(run))
    assert CliRunner().invoke(app, ["report", str(copy)]).exit_code == 0
    browser.open((copy / "report.html").as_uri())
    for width in WIDTHS:
        first = browser.measure(width)["firstScreen"]
        assert "77 token uses" in first and "signature was not checked" in first, width
        if width == 1400:
            assert "https://sts.windows.net/abc/" in first and "no signing keys for this issuer" in first
