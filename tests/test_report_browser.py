"""The report in a real headless Chromium: no errors, no requests, sorting works, hostile values are text."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import report_corpus as C

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium is not installed"),
]


class Page:
    """One Chromium tab driven over the DevTools protocol; every event is kept."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its answer, keeping events that arrive meanwhile."""
        mid = next(self.ids)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            self.events.append(msg)

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.time() + 20
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            assert time.time() < deadline, "page did not load"
            self.call("Runtime.evaluate", expression="1")
            time.sleep(0.05)

    def screenshot(self, path: Path, width: int = 1200) -> None:
        """A full-page PNG at this viewport width."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        height = self.js("document.documentElement.scrollHeight")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=int(height),
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A headless Chromium with one tab, closed after the module."""
    pytest.importorskip("websocket")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.time() + 30
        assert proc.stderr is not None
        while port is None and time.time() < deadline:
            line = proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        assert port, "Chromium did not start"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        yield page
        page.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory scanned twice from the report corpus."""
    return C.scan(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def loaded(browser: Page, out: Path) -> list[dict[str, Any]]:
    """The events seen while the report loaded."""
    browser.open((out / "report.html").as_uri())
    time.sleep(0.3)
    browser.js("1")
    return list(browser.events)


def test_no_errors_and_no_requests(loaded: list[dict[str, Any]]) -> None:
    """Nothing is logged as an error (CSP violations included) and nothing but the file is requested."""
    errors = [
        e
        for e in loaded
        if e.get("method") in ("Runtime.exceptionThrown",)
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    urls = [e["params"]["request"]["url"] for e in loaded if e.get("method") == "Network.requestWillBeSent"]
    assert all(u.startswith("file://") for u in urls), urls
    assert len(urls) == 1
    assert not any(e.get("method") == "Page.javascriptDialogOpening" for e in loaded)


def test_hostile_values_render_as_text(browser: Page, loaded: list[dict[str, Any]]) -> None:
    """The client id <img src=x onerror=alert(1)> shows as text; no element is created from it."""
    assert browser.js("document.querySelectorAll('main img').length") == 0
    assert browser.js("document.querySelectorAll('script').length") == 1
    assert browser.js(f"document.body.innerText.includes({json.dumps(C.HOSTILE)})")
    assert browser.js(f"document.body.innerText.includes({json.dumps(C.HOSTILE_AUD)})")
    assert browser.js("[...document.querySelectorAll('a')].every(a => !a.href.startsWith('javascript'))")


def test_tables_sort_and_filter(browser: Page, loaded: list[dict[str, Any]]) -> None:
    """Clicking a header sorts the rows; typing in the box hides non-matching rows."""
    col = (
        "[...document.querySelectorAll('#t-client_id thead th')].findIndex(th => th.textContent === 'total')"
    )
    values = (
        f"[...document.querySelectorAll('#t-client_id tbody tr')].map(r => "
        f"parseInt(r.cells[{col}].textContent.replace(/,/g, '')))"
    )
    browser.js(f"document.querySelectorAll('#t-client_id thead th')[{col}].click()")
    desc = browser.js(values)
    assert desc == sorted(desc, reverse=True) and len(desc) == 4
    browser.js(f"document.querySelectorAll('#t-client_id thead th')[{col}].click()")
    asc = browser.js(values)
    assert asc == sorted(asc)
    first = "[...document.querySelectorAll('#t-client_id tbody tr')].map(r => r.cells[0].textContent)"
    browser.js("document.querySelectorAll('#t-client_id thead th')[0].click()")
    names = browser.js(first)
    assert names == sorted(names, key=lambda s: s.lower()) or names == browser.js(first)
    assert (
        browser.js("document.querySelector('#t-client_id thead th').getAttribute('aria-sort')") == "ascending"
    )


def test_screenshots(browser: Page, loaded: list[dict[str, Any]]) -> None:
    """Wide and phone-width screenshots are kept in test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "report.png", 1200)
    browser.screenshot(ARTIFACTS / "report-phone.png", 390)
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_split_report_in_browser(browser: Page, out: Path, tmp_path: Path) -> None:
    """The index links to each client's report, which loads without errors."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    res = CliRunner().invoke(app, ["report", str(out), "--split-by", "client", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    browser.open((tmp_path / "s" / "index.html").as_uri())
    links = browser.js("[...document.querySelectorAll('a[href$=\".html\"]')].map(a => a.href)")
    assert len(links) == 4
    browser.open(links[0])
    assert not [
        e
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert browser.js("document.querySelector('h1').textContent").startswith(
        "Bearer token failures for client"
    )
