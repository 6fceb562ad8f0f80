"""The diagnosis keys of run.json as the report shows them: human words, escaped, robust to odd shapes."""

from __future__ import annotations

import re

import pandas as pd

from analyzer.report import page as report
from analyzer.report.data import ReportData, build_cube
from analyzer.report.diagnosis import diagnosis, humane
from analyzer.report.text import Names

RUN = {
    "findings": [{"kind": "clock_skew", "count": 9, "detail": "<script>x</script>", "hosts": ["h<b>"]}],
    "clocks": [{"host": "h<b>", "offset_seconds": -242.4, "samples": 9, "ci_low_s": -250, "ci_high_s": -230,
                "confidence": "high"}],
    "clock_estimates": [{"client_ip": "10.0.0.1", "offset_seconds": 0.2, "samples": 30},
                        {"host": "x", "offset_seconds": None}],
    "expired_by_lateness": {"within_skew": 0, "minutes": 1, "hours": 0, "days": 0},
    "logged_errors": [{"logged_error": "IDX10223", "meaning": "token expired", "cause": "expired", "count": 3,
                       "agrees": True}],
    "inferred_expectations": [{"host": "login.microsoftonline.com", "path_prefix": "/", "support": 0,
                               "checks": "skipped", "rejected_unchecked": 55}],
}


def test_values_read_as_words() -> None:
    d = diagnosis(RUN, Names(), None)
    assert d is not None
    assert d["findings"][0]["title"] == "A clock is off"
    assert d["clocks"][0]["offset"] == "4 min 2 s behind"
    assert d["clocks"][0]["confidence"] == "high"
    assert d["clocks"][0]["range"] == "4 min 10 s behind to 3 min 50 s behind"
    assert [c["offset"] for c in d["estimates"]] == ["in step"]  # an estimate without an offset is left out
    assert d["lateness"][1] == ("minutes late", "1")
    assert d["logged"][0]["found"] == "Expired" and d["logged"][0]["agree"] == "yes"
    inferred = d["inferred"][0]
    assert inferred["host"].startswith("Entra token endpoint")
    assert "55 rejected token uses left unchecked" in inferred["expects"]
    assert "[[api]]" not in inferred["expects"] and "checks skipped" not in inferred["expects"]


def test_per_owner_reports_hold_no_diagnosis() -> None:
    assert diagnosis(RUN, Names(), object()) is None
    assert diagnosis({}, Names(), None) is None
    assert diagnosis({"findings": "junk", "clocks": [1, None], "logged_errors": [None]}, Names(), None) is None


def test_jargon_is_spelled_out() -> None:
    text = "the audience and issuer checks were skipped (no [[api]] entry to compare with)"
    assert humane(text) == "the audience and issuer checks were skipped (the config file does not describe this API)"


def test_rendered_diagnosis_is_escaped() -> None:
    ev = pd.DataFrame({"ts": pd.to_datetime(["2024-05-01T08:00:00Z"]), "token_fp": ["a"], "cause": ["expired"],
                       **{c: [None] for c in ("client_id", "audience", "host", "api", "issuer", "tenant_id")}})
    data = ReportData(run={"version": "x", **RUN}, cube=build_cube(ev), unique_tokens=1)
    html = report.render(data)
    assert "<script>x" not in html and "&lt;script&gt;x" in html and "h&lt;b&gt;" in html
    assert "4 min 2 s behind" in html and "-242" not in html
    assert not re.search(r"\bTrue\b|\bFalse\b|within_skew", html)
