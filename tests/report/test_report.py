"""The HTML report: self-contained, escaped, true to the Parquet, split per owner without leaks."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import report_corpus as C
from typer.testing import CliRunner

from analyzer import schema as S
from analyzer.cli import app
from analyzer.report import page as report
from analyzer.report.data import ReportData, build_cube, report_file_name
from analyzer.report.text import Names

CHECKER = Path(__file__).resolve().parents[3] / "shared" / "tools" / "check_outputs.py"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory scanned twice from the report corpus."""
    return C.scan(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def html(out: Path) -> str:
    """The report written by the scan."""
    return (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.whole_run
def test_policy_forbids_fetches_and_allows_only_our_script(html: str) -> None:
    """The CSP has default-src 'none' and the hash of the one inline script."""
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp.group(1)
    assert not re.search(
        r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\((?!#)|@import""", html, re.I
    )


@pytest.mark.whole_run
@pytest.mark.skipif(not CHECKER.exists(), reason="shared checker not present")
def test_shared_checker_passes(out: Path) -> None:
    """The shared contract checker accepts the output directory."""
    res = subprocess.run(
        [sys.executable, str(CHECKER), str(out), str(out.parent / "logs")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout


@pytest.mark.whole_run
def test_hostile_values_are_text(html: str) -> None:
    """Markup, javascript: URLs and bidi overrides from tokens never become live markup."""
    assert "<img" not in html
    assert "<script>alert" not in html
    assert "&lt;img src&#61;x onerror&#61;alert&#40;1)&gt;" in html
    assert "\u202e" not in html and "\x07" not in html
    assert "\\u202e" in html
    assert 'href="javascript' not in html.lower()


@pytest.mark.whole_run
def test_chart_labels_are_escaped(html: str) -> None:
    """A client id like <img ...> is text in the bar chart, and the timeline is inline SVG without a prolog."""
    assert '<span class="hb-l">&lt;img src&#61;x onerror&#61;alert&#40;1)&gt;</span>' in html
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) == 2  # the timeline for a desktop column and for a phone
    assert all("<?xml" not in svg and "DOCTYPE" not in svg for svg in svgs)


@pytest.mark.whole_run
def test_counts_match_the_parquet(out: Path, html: str) -> None:
    """Every cause count in the report is what summary.parquet says."""
    summary = pd.read_parquet(out / "summary.parquet")
    data = ReportData.load(out)
    by_cause = summary.groupby("cause", observed=True)["occurrences"].sum()
    assert data.by_cause().to_dict() == {k: v for k, v in by_cause.items() if v}
    for cause, n in by_cause.items():
        assert re.search(rf'id="cause-{cause}">\s*<summary>.*?<span class="muted">{n:,} ·', html) or cause == S.OK
    per_client = summary.groupby("client_id", observed=True)["occurrences"].sum().to_dict()
    assert {k: v for k, v, _ in data.owners("client_id")} == per_client


@pytest.mark.whole_run
def test_headline_and_trend(out: Path, html: str) -> None:
    """The period, the failure rate and the trend against the previous scan are at the top."""
    run = json.loads((out / "run.json").read_text())
    assert len(run["history"]) == 1
    assert f"{run['tokens']['failure_rate']:.1%}" in html
    assert "since the previous run" in html
    assert "2024-05-01 08:00" in html
    assert "billing-job" in html  # client names from the config


@pytest.mark.whole_run
def test_examples_show_claims_not_signatures_nor_people(html: str) -> None:
    """Examples hold the decoded header and claims; personal claims never appear in clear."""
    assert "&quot;alg&quot;: &quot;RS256&quot;" in html
    assert "contoso.com&quot;" not in html and "&#64;contoso.com" not in html  # upn / preferred_username
    assert not any(f"{g} " in html for g in ("Ada", "Grace", "Alan", "Edsger", "Barbara"))


def _file(out: Path, dim: str, value: str | None) -> str:
    """The file name of one owner's split report: named after its config name when it has one."""
    names = Names.of_run(json.loads((out / "run.json").read_text()))
    return report_file_name(dim, value, names.name(dim, value) if names.has_name(dim, value) else None)


def _split(out: Path, by: str, target: Path) -> Path:
    res = CliRunner().invoke(app, ["report", str(out), "--split-by", by, "--out", str(target)])
    assert res.exit_code == 0, res.output
    return target


@pytest.mark.whole_run
def test_split_by_client_holds_only_its_own_data(out: Path, tmp_path: Path) -> None:
    """Each client's report names no other client, no other client's host, and its own counts only."""
    folder = _split(out, "client", tmp_path / "by-client")
    index = (folder / "index.html").read_text()
    files = sorted(p for p in folder.iterdir() if p.name != "index.html")
    assert len(files) == 4
    assert all(f'href="{p.name}"' in index for p in files)
    own = {C.GOOD: C.SECRET_HOST, C.EXPIRING: C.EXPIRING_HOST}
    summary = pd.read_parquet(out / "summary.parquet")
    for cid, host in own.items():
        page = (folder / _file(out, "client_id", cid)).read_text()
        others = [c for c in (C.GOOD, C.EXPIRING) if c != cid]
        assert cid in page
        assert not any(o in page for o in others)
        assert host in page and not any(h in page for h in own.values() if h != host)
        assert "onerror" not in page and "\\u202e" not in page
        n = int(summary.loc[summary["client_id"] == cid, "occurrences"].sum())
        assert re.search(rf"Failing token uses</span><b>[\d,]+</b><small[^>]*>of {n:,}</small>", page)
        assert "<dt>Inputs</dt>" not in page and "Log formats" not in page


@pytest.mark.whole_run
def test_split_by_audience(out: Path, tmp_path: Path) -> None:
    """The api://orders report does not show the hostile audience, and the reverse."""
    folder = _split(out, "audience", tmp_path / "by-aud")
    orders = (folder / _file(out, "audience", "api://orders")).read_text()
    assert "onerror" not in orders and "alert" not in orders
    hostile = (folder / _file(out, "audience", C.HOSTILE_AUD)).read_text()
    assert not any(v in hostile for v in (C.GOOD, C.EXPIRING, C.SECRET_HOST, "billing-job"))


def test_split_file_names_cannot_escape() -> None:
    """Owner values become plain, distinct file names inside the target folder."""
    names = {report_file_name("client_id", v) for v in ("../../etc/x", "..", "/abs", "a/b", "a_b", "", None)}
    assert len(names) == 7
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name.endswith(".html")
        assert Path(name).name == name


@pytest.mark.whole_run
def test_unknown_split_is_a_usage_error(out: Path) -> None:
    """--split-by takes client or audience only."""
    res = CliRunner().invoke(app, ["report", str(out), "--split-by", "host"])
    assert res.exit_code == 2


@pytest.mark.whole_run
def test_rebuild_with_since(out: Path, tmp_path: Path) -> None:
    """--since limits the report to later requests."""
    target = tmp_path / "late.html"
    res = CliRunner().invoke(
        app, ["report", str(out), "--out", str(target), "--since", "2024-05-01T15:00:00Z"]
    )
    assert res.exit_code == 0, res.output
    page = target.read_text()
    assert "Requests from 2024-05-01 15:" in page


@pytest.mark.slow
def test_million_occurrences_stay_under_two_megabytes() -> None:
    """A million occurrences over many owners render to a report well under 2 MB."""
    rng = np.random.default_rng(7)
    n = 1_000_000
    causes = np.array([c for c in S.CAUSES])
    ev = pd.DataFrame(
        {
            "ts": pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 30 * 86400, n), "s"),
            "token_fp": pd.Categorical(rng.integers(0, 200_000, n).astype(str)),
            "cause": pd.Categorical(causes[rng.integers(0, len(causes), n)]),
            "client_id": pd.Categorical(np.char.add("client-", rng.integers(0, 3000, n).astype(str))),
            "audience": pd.Categorical(np.char.add("api://app-", rng.integers(0, 400, n).astype(str))),
            "host": pd.Categorical(np.char.add("h", rng.integers(0, 600, n).astype(str))),
            "api": pd.Categorical(np.char.add("api", rng.integers(0, 40, n).astype(str))),
            "issuer": pd.Categorical(np.char.add("https://sts/", rng.integers(0, 30, n).astype(str))),
            "tenant_id": pd.Categorical(np.char.add("t", rng.integers(0, 30, n).astype(str))),
        }
    )
    run = {"version": "x", "files": {"lines": n, "count": 1}, "tokens": {}, "keys": []}
    data = ReportData(run=run, cube=build_cube(ev), unique_tokens=int(ev["token_fp"].nunique()))
    page = report.render(data)
    assert len(page.encode()) < 2_000_000
    assert "Showing the 300 of 3,000 rows" in page


def _rebuilt(out: Path, tmp_path: Path, **changes: object) -> str:
    """The report of a copy of `out` whose run.json has these keys changed."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    run = json.loads((copy / "run.json").read_text())
    run.update(changes)
    (copy / "run.json").write_text(json.dumps(run))
    res = CliRunner().invoke(app, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    return (copy / "report.html").read_text()


@pytest.mark.whole_run
def test_unverified_ok_tokens_are_on_the_first_screen(out: Path, tmp_path: Path) -> None:
    """Tokens that came out valid with no signature check: how many, which issuers, why, before anything else."""
    html = _rebuilt(out, tmp_path, unverified_ok={
        "count": 1234, "unique_tokens": 56,
        "issuers": [{"issuer": "https://sts.windows.net/x/", "count": 1200, "reason": "no signing keys configured"},
                    {"issuer": "<b>evil</b>", "count": 34, "reason": "offline and no cached keys"}]})
    assert html.index('id="unverified"') < html.index('id="matrix"')
    section = html[html.index('id="unverified"'):html.index("</section>", html.index('id="unverified"'))]
    assert "1,234 token uses (56 distinct tokens)" in section and "signature was not checked" in section
    assert "https://sts.windows.net/x/: 1,200, no signing keys configured" in section
    assert "&lt;b&gt;evil&lt;/b&gt;" in section and "<b>evil" not in section
    assert 'id="unverified"' not in _rebuilt(out, tmp_path / "zero", unverified_ok={"count": 0, "issuers": []})
    assert "signing keys (an issuer entry" in section and 'class="warn info"' not in html


@pytest.mark.whole_run
def test_unverifiable_by_nature_asks_for_no_keys(out: Path, tmp_path: Path) -> None:
    """Client assertions and Graph tokens cannot be verified with any key the user could give: the box
    explains them without asking for keys, and is not styled as an alarm."""
    from analyzer.tokens.keys import ASSERTION_REASON, GRAPH_REASON

    html = _rebuilt(out, tmp_path, unverified_ok={"count": 20, "unique_tokens": 20, "issuers": [
        {"issuer": C.GOOD, "count": 14, "reason": ASSERTION_REASON},
        {"issuer": "https://sts.windows.net/t/", "count": 6, "reason": GRAPH_REASON}]})
    section = html[html.index('id="unverified"'):html.index("</section>", html.index('id="unverified"'))]
    assert 'class="warn info"' in html and "by their nature" in section
    assert "billing-job: 14" in section  # a client assertion's issuer is its client: by the config's name
    assert "signing keys (an issuer entry" not in section


@pytest.mark.whole_run
def test_clock_estimates_read_as_words(out: Path, tmp_path: Path) -> None:
    html = _rebuilt(out, tmp_path, clocks=[{"host": "api1", "offset_seconds": -242.0, "samples": 40,
                                             "ci_low_s": -250.0, "ci_high_s": -230.0, "confidence": "medium"}],
                    clock_estimates=[{"client_ip": "10.1.1.1", "offset_seconds": 3725.5, "samples": 12}])
    assert "4 min 2 s behind" in html and "medium" in html and "4 min 10 s behind to 3 min 50 s behind" in html
    # The raw number is not shown as text (charts' coordinates and scripts vary with the run's times, and a
    # GUID's "-242f" is no such number).
    text = re.sub(r"<(svg|script|style)\b.*?</\1>", "", html, flags=re.S)
    assert "1 h 2 min ahead" in html and re.search(r"-242(?![0-9A-Fa-f])", text) is None


@pytest.mark.whole_run
def test_what_changed_since_the_previous_run(out: Path, tmp_path: Path) -> None:
    """New failing clients, causes that rose and a key rotation before an unknown_kid rise are named."""
    run = json.loads((out / "run.json").read_text())
    prev = dict(run["history"][-1], by_cause={**run["tokens"]["by_cause"], S.EXPIRED: 0, S.UNKNOWN_KID: 0},
                failing_clients={}, kids=["k0"])
    tokens = dict(run["tokens"], occurrences=40, by_cause={**run["tokens"]["by_cause"], S.UNKNOWN_KID: 12})
    html = _rebuilt(out, tmp_path, history=[prev], tokens=tokens)
    box = html[html.index('aria-label="Changes"'):html.index("</section>", html.index('aria-label="Changes"'))]
    assert "Rose: Signing key not found: 0 → 12." in box
    assert "New failing clients:" in box and C.EXPIRING in box
    assert "Signing keys rotated: new key id k1; key id k0 gone, before the rise of signing key not found" in box
    first = _rebuilt(out, tmp_path / "first", history=[])
    assert "first run into this output directory" in first
    rerun = _rebuilt(out, tmp_path / "rerun", tokens=dict(run["tokens"], occurrences=0))
    assert "This run read no new token uses" in rerun and "Fell:" not in rerun


@pytest.mark.whole_run
def test_split_report_names_and_cli_lines(out: Path, tmp_path: Path) -> None:
    """Split reports are named after the config name (the id otherwise), and the command says what it wrote."""
    res = CliRunner().invoke(app, ["report", str(out), "--split-by", "client", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert any(n.startswith("client-billing-job-") for n in names)
    assert any(n.startswith("client-0b0b0b0b-expiring-client-") for n in names)
    assert "wrote 4 reports, one per client, and their index" in res.output
    assert "billing-job:" in res.output and "failing of" in res.output
    assert "\x07" not in res.output and "\u202e" not in res.output  # log text cannot drive the terminal


@pytest.mark.whole_run
def test_odd_shapes_in_run_json_do_not_break_the_report(out: Path, tmp_path: Path) -> None:
    """Keys other tools add, with unexpected types, render as best they can; nothing raises."""
    html = _rebuilt(out, tmp_path, unverified_ok={"count": "12", "unique_tokens": None,
                                                  "issuers": [{"issuer": None, "count": "x"}, "junk"]},
                    clocks=[{"host": "h", "offset_seconds": "-90", "samples": "many", "confidence": None}],
                    clock_estimates="junk", findings=[{"kind": None, "count": "?"}], history=["junk"],
                    logged_errors=[{"count": None}], inferred_expectations=[{"host": None, "support": "a"}])
    assert "12 token uses" in html and "1 min 30 s behind" in html


@pytest.mark.whole_run
def test_an_audience_report_holds_no_other_audience(out: Path, tmp_path: Path) -> None:
    """A client's run-wide diagnosis (other hosts, other audiences) stays out of an audience's report."""
    run = json.loads((out / "run.json").read_text())
    run["clients"] = [{"client_id": C.EXPIRING, "failures": 3, "behaviour": "normal",
                       "next_steps": ["Client x asks secret-elsewhere.example with a token for other-audience"],
                       "audience_mismatches": [], "version_mismatches": []}]
    data = ReportData.load(out, run).only("audience", "api://orders")
    assert "secret-elsewhere" not in report.render(data)
    assert "secret-elsewhere" in report.render(ReportData.load(out, run).only("client_id", C.EXPIRING))


@pytest.mark.parametrize(("days", "grain"), [(["2024-05-01"], "h"), (["2024-05-01", "2024-05-05"], "h"),
                                             (["2024-05-01", "2024-05-06"], "D"), ([], "h")])
def test_the_cube_is_folded_per_hour_or_per_day_by_the_span_of_the_dataset(tmp_path: Path, days: list[str],
                                                                             grain: str) -> None:
    """A dataset whose days span more than HOURLY_DAYS is folded per day: the cube grows with the days of a long
    archive, not its hours. Only the days within the window count."""
    from analyzer.report.data import _grain

    for d in days:
        (tmp_path / "events" / f"date={d}").mkdir(parents=True)
    (tmp_path / "events" / "date=None").mkdir(parents=True)  # left by another tool: ignored, not a crash
    assert _grain(tmp_path / "events", None, None) == grain
    if len(days) > 1:  # the window holds the last day only: hours again
        since = int(pd.Timestamp(days[-1], tz="UTC").timestamp() * 1_000_000)
        assert _grain(tmp_path / "events", since, None) == "h"
    ev = pd.DataFrame({"ts": pd.to_datetime(["2024-05-01 08:10", "2024-05-01 09:20", "2024-05-02 10:00"], utc=True),
                       "cause": pd.Categorical([S.EXPIRED] * 3), "token_fp": ["a", "b", "c"],
                       **{d: pd.Categorical(["x"] * 3) for d in ("client_id", "audience", "host", "api", "issuer",
                                                                 "tenant_id")}})
    per_hour, per_day = build_cube(ev), build_cube(ev, "D")
    assert len(per_hour) == 3 and len(per_day) == 2
    assert per_day["occurrences"].sum() == per_hour["occurrences"].sum() == 3
    assert per_day["first_seen"].min() == ev["ts"].min() and per_day["last_seen"].max() == ev["ts"].max()


def test_compile_template_leaves_render_nothing_to_compile(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After `compile_template` (a run calls it while its workers scan), rendering a report parses no
    template: the page's own, its base and its macros are all compiled already."""
    import jinja2

    report._env.cache_clear()
    report.compile_template()

    def parse(*_: object, **__: object) -> None:
        raise AssertionError("a template was compiled while rendering")

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
    try:
        html = report.render(ReportData.load(out, {}))
    finally:
        report._env.cache_clear()
    assert "<html" in html
