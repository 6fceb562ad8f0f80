"""Names instead of ids, times and values as words, and machine paths taken out of the report's text."""

from __future__ import annotations

import pandas as pd
import pytest

from analyzer.report.html import esc
from analyzer.report.page import ident
from analyzer.report.text import (
    GRAPH,
    TOKEN_ENDPOINT,
    Names,
    PathScrubber,
    duration,
    none_reason,
    offset,
    plain,
    when,
)

ORDERS_ID = "6e7c1b0a-0000-0000-0000-000000000001"
WEB = "6e7c1b0a-0000-0000-0000-000000000010"
NAMES = Names({WEB: "orders-web"},
              [{"name": "orders", "hosts": ["orders.contoso.com"], "audiences": ["api://orders", ORDERS_ID]}])


@pytest.mark.parametrize(("aud", "name"), [
    ("00000003-0000-0000-c000-000000000000", GRAPH),
    ("https://graph.microsoft.com", GRAPH),
    ("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token", TOKEN_ENDPOINT),
    ("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token", TOKEN_ENDPOINT),
    ("api://orders", "orders"),
    (ORDERS_ID, "orders"),
    (WEB, "orders-web (its own ID tokens)"),
    ("api://unknown", "api://unknown"),
    (f"api://orders,{ORDERS_ID}", "orders, orders"),
    (None, "(no audience)"),
])
def test_audience_names(aud: str | None, name: str) -> None:
    assert NAMES.audience(aud) == name


def test_the_api_a_request_was_for() -> None:
    """The configured API, else what the audience or host says; the token endpoint by name."""
    assert NAMES.target("orders", "orders.contoso.com", "00000003-0000-0000-c000-000000000000") == "orders"
    assert NAMES.target(None, None, "api://orders") == "orders"
    assert NAMES.target(None, "login.microsoftonline.com", None) == TOKEN_ENDPOINT
    assert NAMES.target(None, "x.example", "00000003-0000-0000-c000-000000000000") == "x.example"
    assert NAMES.target(None, None, "https://graph.microsoft.com") == GRAPH
    assert NAMES.target(None, None, None) == "(unknown API)"


def test_every_none_has_a_reason() -> None:
    assert NAMES.client(None) == "(no client id)" and "ID tokens" in none_reason("client_id")
    assert NAMES.client(float("nan")) == "(no client id)"
    for dim in ("client_id", "audience", "host", "api", "issuer", "tenant_id", "target"):
        assert len(none_reason(dim)) > 20


@pytest.mark.parametrize(("seconds", "text"), [
    (-242.4, "4 min 2 s behind"), (499.1, "8 min 19 s ahead"), (0.4, "in step"), (-7200, "2 h behind"),
    (90061, "1 day 1 h ahead"), ("junk", ""),
])
def test_offsets_in_words(seconds: object, text: str) -> None:
    assert offset(seconds) == text


def test_durations_times_and_values() -> None:
    assert duration(300) == "5 min" and duration(3 * 86400 + 7200) == "3 days 2 h"
    assert when("2026-11-26T08:46:06.431000+00:00") == "2026-11-26 08:46 UTC"
    assert when(pd.Timestamp("2026-11-26 08:46:06.431", tz="Europe/Paris")) == "2026-11-26 07:46 UTC"
    assert when(None) == "" and when(pd.NaT) == ""
    assert plain(True) == "yes" and plain(False) == "no"
    assert plain(["Orders.Admin", "x"]) == "Orders.Admin, x"
    assert plain({"a": True}) == "a: yes"
    assert plain(1234) == "1,234" and plain(None) == ""


def test_machine_paths_leave_the_text() -> None:
    run = {"inputs": ["/srv/logs/corpus", "rel/logs"], "options": {"config": "/etc/analyzer/analyzer.toml",
                                                                  "out": "/var/reports/out"},
           "keys": [{"source": "/etc/analyzer/keys/jwks.json"}]}
    scrub = PathScrubber(run)
    assert scrub("kid x is not in the key set file (/etc/analyzer/keys/jwks.json)") == \
        "kid x is not in the key set file (jwks.json)"
    assert scrub("/srv/logs/corpus/nginx/a.log") == "corpus/nginx/a.log"
    assert scrub("GET /v1/orders") == "GET /v1/orders"
    assert scrub("/srv/logsx/y") == "/srv/logsx/y"  # only whole directories
    assert scrub("https://example.com/srv/logs/corpus/x") == "https://example.com/srv/logs/corpus/x"
    assert scrub("file (/srv/logs/corpus/a.log)") == "file (corpus/a.log)"


def test_guids_are_shortened_but_kept_whole_for_copy() -> None:
    html = ident(f"{ORDERS_ID} <b>")
    assert html == '6e7c1b0a<span class="gm">-0000-0000-0000-00000000</span>0001 &lt;b&gt;'
    assert esc("a=(b)@c") == "a&#61;&#40;b)&#64;c"
