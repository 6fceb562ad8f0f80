"""Hosts without an [[api]] entry: expectations inferred from what they accepted, applied to rejections."""

from __future__ import annotations

import json
from pathlib import Path

import jwts as T
import pandas as pd
import pytest
from host_logs import T0, TENANT, nginx, token

from analyzer import schema as S
from analyzer.diagnose.learn import path_key


def test_path_key_is_the_first_segment() -> None:
    assert path_key("/v1/orders/42") == "/v1"
    assert path_key("/") == path_key(None) == "/"
    assert path_key("/items") == "/items"


@pytest.mark.whole_run
def test_rejections_at_a_host_without_config_are_judged_against_what_it_accepted(
    tmp_path: Path, scan_dir
) -> None:
    key = T.make_rsa_key("k1")
    lines = []
    for i in range(20):  # the host accepts api://shop v2 tokens from many clients
        lines.append(
            nginx(
                T0 + i * 60,
                "shop.contoso.com",
                f"/v1/items/{i}",
                200,
                token(key, "api://shop", f"c-{i % 4}", T0 + i * 60 - 30, seed=i),
            )
        )
    graph = token(key, T.GRAPH_APP_ID, "c-graph", T0 + 2000, seed=100)
    v1 = T.sign(
        T.access_token_claims(
            TENANT, "api://shop", "c-v1", version="1.0", iat=T0 + 2000, exp=T0 + 5600, scp="read", seed=101
        ),
        key,
    )
    good_but_rejected = token(key, "api://shop", "c-0", T0 + 2000, seed=102)
    lines += [
        nginx(T0 + 2100, "shop.contoso.com", "/v1/items/9", 401, graph),
        nginx(T0 + 2110, "shop.contoso.com", "/v1/items/9", 401, v1),
        nginx(T0 + 2120, "shop.contoso.com", "/v1/items/9", 401, good_but_rejected),
        # a host that accepted nothing: its checks are skipped, and said so
        nginx(T0 + 2130, "lonely.contoso.com", "/x", 401, graph),
    ]
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("".join(lines))

    code, out, result = scan_dir(str(logs), "--offline")
    assert code == 0, result.output
    ev = pd.read_parquet(out / "events")
    ev["cause"] = ev["cause"].astype(str)
    rejected = ev[ev["status"] == 401].set_index("line")
    assert rejected.loc[21, "cause"] == S.AUDIENCE_MISMATCH
    assert "inferred" in rejected.loc[21, "detail"] and "Graph" in rejected.loc[21, "detail"]
    assert rejected.loc[22, "cause"] == S.ISSUER_MISMATCH
    assert "v1" in rejected.loc[22, "detail"] and "inferred" in rejected.loc[22, "detail"]
    assert rejected.loc[23, "cause"] == S.OK  # same audience and issuer as the accepted ones
    assert "inferred from 20 accepted tokens" in rejected.loc[23, "detail"]
    assert rejected.loc[24, "cause"] == S.OK
    assert "skipped" in rejected.loc[24, "detail"]
    assert (ev[ev["status"] == 200]["cause"] == S.OK).all()
    assert len(ev) == 24  # every occurrence written once

    run = json.loads((out / "run.json").read_text())
    shop = next(e for e in run["inferred_expectations"] if e["host"] == "shop.contoso.com")
    assert shop["checks"] == "inferred" and shop["support"] == 20
    assert shop["audiences"] == [{"value": "api://shop", "support": 20}]
    assert shop["versions"] == [{"value": "2.0", "support": 20}]
    assert shop["issuers"][0]["value"] == T.issuer_v2(TENANT)
    assert shop["tenants"] == [{"value": TENANT, "support": 20}]
    lonely = next(e for e in run["inferred_expectations"] if e["host"] == "lonely.contoso.com")
    assert lonely["checks"] == "skipped" and lonely["support"] == 0

    # The summary is built after the re-judging: it agrees with the events.
    summary = pd.read_parquet(out / "summary.parquet")
    by_cause = summary.groupby(summary["cause"].astype(str))["occurrences"].sum().to_dict()
    assert by_cause == ev["cause"].value_counts().to_dict()
    assert run["tokens"]["by_cause"][S.AUDIENCE_MISMATCH] == 1

    client = next(c for c in run["clients"] if c["client_id"] == "c-graph")
    asked = client["audience_mismatches"][0]
    assert asked["should_ask_for"] == "api://shop/.default" and asked["accepted_source"] == "inferred"
    assert any("Microsoft Graph" in s and "api://shop/.default" in s for s in client["next_steps"])
    v1_client = next(c for c in run["clients"] if c["client_id"] == "c-v1")
    assert v1_client["version_mismatches"][0]["expected"] == "2.0"
    assert any("accessTokenAcceptedVersion" in s for s in v1_client["next_steps"])


@pytest.mark.whole_run
def test_a_prefix_that_accepted_tokens_is_judged_on_its_own(tmp_path: Path, scan_dir) -> None:
    key = T.make_rsa_key("k1")
    lines = [
        nginx(T0 + i, "api.contoso.com", "/a/x", 200, token(key, "api://a", "c", T0 - 10, seed=i))
        for i in range(3)
    ]
    lines += [
        nginx(T0 + 10 + i, "api.contoso.com", "/b/x", 200, token(key, "api://b", "c", T0 - 10, seed=10 + i))
        for i in range(3)
    ]
    lines.append(nginx(T0 + 20, "api.contoso.com", "/a/y", 401, token(key, "api://b", "c", T0 - 10, seed=20)))
    lines.append(nginx(T0 + 21, "api.contoso.com", "/c/y", 401, token(key, "api://b", "c", T0 - 10, seed=21)))
    (tmp_path / "a.log").write_text("".join(lines))
    code, out, result = scan_dir(str(tmp_path / "a.log"), "--offline")
    assert code == 0, result.output
    ev = pd.read_parquet(out / "events").set_index("line")
    assert str(ev.loc[7, "cause"]) == S.AUDIENCE_MISMATCH  # /a accepts only api://a
    assert str(ev.loc[8, "cause"]) == S.OK  # /c learned nothing: the whole host accepts api://b
