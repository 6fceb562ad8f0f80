"""A headless Chromium driven over the DevTools protocol, for the report's browser tests.

`Chromium()` starts a browser with one tab; `Page.measure(width)` returns what the layout checks
need at one viewport width (sideways scrolling, tables wider than their box, page height, the text
of the first screen, the visible text).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Everything the layout checks read, in one evaluation. Tables are measured against the element that
# holds them (their scrolling box, or the column they sit in).
MEASURE = r"""(() => {
  const de = document.documentElement;
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const tables = [...document.querySelectorAll('table')].filter(visible).map(t => {
    const box = t.parentElement;
    return {id: t.id || t.className || '', width: t.scrollWidth, box: box.clientWidth,
            boxScroll: box.scrollWidth};
  });
  const wide = [...document.querySelectorAll('body *')].filter(visible)
    .filter(el => el.getBoundingClientRect().right > de.clientWidth + 1
                  && getComputedStyle(el).position !== 'fixed')
    .filter(el => !el.closest('.scroll'))
    .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right));
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || !n.parentElement || !visible(n.parentElement)) continue;
    const r = document.createRange(); r.selectNodeContents(n);
    const rects = [...r.getClientRects()];
    if (rects.length && rects[0].top + window.scrollY < 900 && rects[0].width > 0) texts.push(n.textContent);
  }
  return {scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, height: de.scrollHeight,
          tables: tables, wide: wide, firstScreen: texts.join(' '), text: document.body.innerText};
})()"""


class Page:
    """One Chromium tab driven over the DevTools protocol; every event is kept."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
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

    def viewport(self, width: int, height: int = 900) -> None:
        """Emulate a screen of this size (a phone below 600 px)."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 600)
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def measure(self, width: int) -> dict[str, Any]:
        """The layout at this viewport width, scrolled to the top (see MEASURE)."""
        self.viewport(width)
        self.js("window.scrollTo(0, 0)")
        return dict(self.js(MEASURE))

    def screenshot(self, path: Path, width: int = 1200) -> None:
        """A full-page PNG at this viewport width."""
        self.viewport(width)
        height = self.js("document.documentElement.scrollHeight")
        self.viewport(width, int(height))
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.viewport(width)


class Chromium:
    """A headless Chromium with one tab (a context manager); `page` drives it."""

    def __init__(self, profile: Path | None = None) -> None:
        # Chromium may still be writing its profile while it exits: leftovers must not fail a test.
        self._tmp = None if profile else tempfile.TemporaryDirectory(prefix="chromium-profile-",
                                                                     ignore_cleanup_errors=True)
        self.profile = profile or Path(self._tmp.name)  # type: ignore[union-attr]
        self.proc: subprocess.Popen[str] | None = None
        self.page: Page

    def __enter__(self) -> Page:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        port = None
        deadline = time.time() + 30
        assert self.proc.stderr is not None
        while port is None and time.time() < deadline:
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", self.proc.stderr.readline())
            if m:
                port = int(m.group(1))
        assert port, "Chromium did not start"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        self.page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page.call(f"{domain}.enable")
        return self.page

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None) -> None:
        try:
            self.page.ws.close()
        except Exception:
            pass
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()
