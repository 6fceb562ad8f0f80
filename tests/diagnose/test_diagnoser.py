"""Diagnosis: the server's own errors, clocks, refresh habits; run through the real pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jwts as T
import pandas as pd
import pytest
from host_logs import nginx, token

from analyzer import schema as S
from analyzer._core import LOGGED_CODES as CORE_CODES
from analyzer._core import logged_error
from analyzer.diagnose.codes import LOGGED_CODES
from analyzer.diagnose.diagnoser import Diagnoser

T0 = 1_795_000_000
ERR = (
    '{"@t":"2026-11-26T08:25:22.060Z","@mt":"Failed to validate the token.","@x":"'
    "Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException: "
    "IDX10503: Signature validation failed. Number of keys in TokenValidationParameters: '0'. "
    "Number of keys in Configuration: '%s'.\","
    '"RequestId":"%s"}'
)


def app(t: int, status: int, tok: str, rid: str) -> str:
    """A Serilog request line of an ASP.NET Core API, as in the sample app log."""
    when = datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps(
        {
            "@t": when,
            "@mt": "HTTP {RequestMethod} {RequestPath} responded {StatusCode}",
            "RequestHost": "inv.contoso.com",
            "RequestMethod": "GET",
            "RequestPath": "/items/1",
            "StatusCode": status,
            "ClientIp": "10.1.1.1",
            "RequestId": rid,
            "Headers": {"Authorization": f"Bearer {tok}"},
        }
    )


@pytest.mark.parametrize(
    ("lines", "status", "want"),
    [
        ([b"x IDX10214: Audience validation failed Bearer eyJx"], 401, "IDX10214"),
        ([ERR.encode() % (b"0", b"r-1"), b'{"RequestId":"r-1","h":"Bearer eyJx"}'], 401, "IDX10503 keys=0"),
        ([ERR.encode() % (b"2", b"r-1"), b'{"RequestId":"r-1","h":"Bearer eyJx"}'], 401, "IDX10503"),
        (
            [ERR.encode() % (b"2", b"r-0"), b'{"RequestId":"r-1","h":"Bearer eyJx"}'],
            401,
            None,
        ),  # another request
        (
            [b"AADSTS700027: Client assertion failed", b"POST /token client_assertion=eyJx"],
            401,
            "AADSTS700027",
        ),
        (
            [b"AADSTS700027: Client assertion failed", b"POST /token client_assertion=eyJx"],
            200,
            None,
        ),  # accepted
        ([b"IDX10223 Bearer eyJa", b"Bearer eyJx"], 401, None),  # the error belongs to the other token's line
    ],
)
def test_logged_error_comes_from_the_line_or_its_request(
    lines: list[bytes], status: int, want: str | None
) -> None:
    chunk = b"\n".join(lines) + b"\n"
    start = chunk.rindex(lines[-1])
    assert logged_error(chunk, start, start + len(lines[-1]), status) == want


def test_the_core_knows_the_codes_the_diagnosis_explains() -> None:
    """The scan prefers a known code on a line; the known codes are the ones diagnose.codes explains."""
    assert sorted(CORE_CODES) == sorted(LOGGED_CODES)


def test_every_code_in_the_domain_notes_is_mapped() -> None:
    for code in (
        "IDX10214",
        "IDX10223",
        "IDX10503",
        "IDX10501",
        "IDX10516",
        "IDX10511",
        "IDX10205",
        "IDX14100",
        "AADSTS50027",
        "AADSTS700027",
        "AADSTS700024",
        "AADSTS500011",
        "AADSTS50146",
    ):
        causes, _ = LOGGED_CODES[code]
        assert all(c in S.CAUSES or c.startswith("server_") for c in causes)


@pytest.mark.whole_run
def test_server_errors_are_extracted_mapped_and_compared(tmp_path: Path, scan_dir) -> None:
    key = T.make_rsa_key("k1")
    (tmp_path / "jwks.json").write_text(json.dumps(T.jwks(key)))
    good = token(key, "api://inv", "c-1", T0 - 60)
    expired = token(key, "api://inv", "c-2", T0 - 7200)
    lines = [
        app(T0, 200, good, "r-0"),
        ERR % ("0", "r-1"),
        app(T0 + 1, 401, good, "r-1"),  # the server could not fetch its keys
        ERR % ("2", "r-2"),
        app(T0 + 2, 401, good, "r-2"),  # it has keys, but not this kid: stale cache
        '{"@x":"SecurityTokenExpiredException: IDX10223: Lifetime validation failed.","RequestId":"r-3"}',
        app(T0 + 3, 401, expired, "r-3"),
    ]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.jsonl").write_text("\n".join(lines) + "\n")
    code, out, result = scan_dir(str(tmp_path / "logs"), "--jwks", str(tmp_path / "jwks.json"), "--offline")
    assert code == 0, result.output
    ev = pd.read_parquet(out / "events").set_index("line")
    assert ev["logged_error"].astype("object").where(ev["logged_error"].notna(), None).to_dict() == {
        1: None,
        3: "IDX10503",
        5: "IDX10503",
        7: "IDX10223",
    }
    assert "could not fetch" in ev.loc[3, "detail"]

    run = json.loads((out / "run.json").read_text())
    matrix = {(m["logged_error"], m["cause"]): m for m in run["logged_errors"]}
    assert matrix[("IDX10223", S.EXPIRED)]["agrees"] is True
    kid_rows = sorted(
        (m["server_cause"], m["cause"], m["count"], m["agrees"])
        for m in run["logged_errors"]
        if m["logged_error"] == "IDX10503"
    )
    assert kid_rows == [("server_metadata", S.OK, 1, False), (S.UNKNOWN_KID, S.OK, 1, False)]
    kinds = {f["kind"]: f for f in run["findings"]}
    assert kinds["server_cannot_fetch_metadata"]["count"] == 1
    assert "network" in kinds["server_cannot_fetch_metadata"]["detail"]
    assert kinds["server_stale_keys"]["count"] == 1


@pytest.mark.whole_run
def test_skewed_hosts_and_clients_that_never_refresh_are_named(tmp_path: Path, scan_dir) -> None:
    key = T.make_rsa_key("k1")
    lines = []
    skew = {"a.contoso.com": 0, "b.contoso.com": 0, "c.contoso.com": 0, "slow.contoso.com": -900}
    n = 0
    for host, off in skew.items():
        for i in range(12):
            t = T0 + n * 100
            n += 1
            tok = token(key, "api://x", f"client-{i % 3}", t - 20 - (i % 5) * 10, seed=n)
            lines.append(nginx(t + off, host, "/v1/x", 200, tok))
            lines.append(nginx(t + 600 + off, host, "/v1/x", 200, tok))  # used again: not a fresh sample
    stale = token(key, "api://x", "lazy-client", T0 - 1000, seed=999)
    for h in (3, 5, 8, 30):  # hours after exp (iat + 3600)
        lines.append(nginx(T0 - 1000 + 3600 + h * 3600, "a.contoso.com", "/v1/x", 401, stale, ip="10.9.9.9"))
    (tmp_path / "x.log").write_text("".join(lines))
    code, out, result = scan_dir(str(tmp_path / "x.log"), "--offline")
    assert code == 0, result.output
    run = json.loads((out / "run.json").read_text())

    named = {c.get("host") or c.get("client_ip"): c for c in run["clocks"]}
    assert set(named) == {"slow.contoso.com"}, run["clock_estimates"]
    assert abs(named["slow.contoso.com"]["offset_seconds"] - (-900)) <= 30
    assert named["slow.contoso.com"]["samples"] == 12
    assert named["slow.contoso.com"]["ci_low_s"] <= named["slow.contoso.com"]["offset_seconds"]
    assert named["slow.contoso.com"]["offset_seconds"] <= named["slow.contoso.com"]["ci_high_s"]
    assert named["slow.contoso.com"]["confidence"] in ("high", "medium", "low")
    assert any(f["kind"] == "clock_skew" and "slow.contoso.com" in f["detail"] for f in run["findings"])

    clients = {c["client_id"]: c for c in run["clients"]}
    assert clients["lazy-client"]["behaviour"] == "not_refreshing"
    assert clients["lazy-client"]["expired_by_lateness"] == {
        "within_skew": 0,
        "minutes": 0,
        "hours": 3,
        "days": 1,
    }
    assert clients["lazy-client"]["failure_rate"] == 1.0
    assert clients["lazy-client"]["top_causes"] == [{"cause": S.EXPIRED, "count": 4}]
    assert all(c["behaviour"] != "not_refreshing" for cid, c in clients.items() if cid != "lazy-client")
    assert run["expired_by_lateness"]["hours"] == 3 and run["expired_by_lateness"]["days"] == 1


def test_prepare_holds_back_rejections_at_hosts_without_config_and_bares_the_logged_code() -> None:
    ev = pd.DataFrame({
        "api": pd.Categorical(["orders", None, None, None]),
        "host": pd.Categorical(["orders.example", "x.example", "x.example", None]),
        "status": pd.array([401, 403, 200, 401], dtype="Int32"),
        "logged_error": pd.Series(["IDX10503 keys=0", None, "IDX10223", None], dtype="str"),
        "detail": pd.Series(["", "", "expired", ""], dtype="str"),
    })
    now, written, held = Diagnoser.prepare(ev)
    assert held.index.tolist() == [1]
    assert now.index.tolist() == written.index.tolist() == [0, 2, 3]
    assert now["logged_error"].tolist()[:2] == ["IDX10503 keys=0", "IDX10223"]  # counted with the qualifier
    assert "0 keys in its configuration" in now["detail"][0]
    assert written["logged_error"].tolist()[:2] == ["IDX10503", "IDX10223"]  # written bare

    plain = ev.assign(logged_error=pd.Series([None, None, "IDX10223", None], dtype="str"))
    now, written, held = Diagnoser.prepare(plain)
    pd.testing.assert_frame_equal(written, plain.iloc[[0, 2, 3]])
    pd.testing.assert_frame_equal(now, written)
