"""check.classify: request-dependent causes computed over columns."""

from __future__ import annotations

import jwts as T
import numpy as np
import pandas as pd
import pytest
from batches import batch_of, empty_columns

from analyzer import schema as S
from analyzer.config import ApiExpectation, Settings
from analyzer.scan.chunks import batch_frame
from analyzer.tokens.check import audience_detail, classify, humanize, issuer_detail
from analyzer.tokens.decode import TokenFacts, analyze_token
from analyzer.tokens.keys import KeyRing, KeySet

TENANT = "11111111-2222-3333-4444-555555555555"
NOW = 1_795_000_000
US = 1_000_000
ORDERS = ApiExpectation("orders", hosts=("orders.contoso.com",), audiences=("api://orders",),
                        issuers=(T.issuer_v2(TENANT),))


@pytest.fixture(scope="module")
def key() -> T.KeyPair:
    return T.make_rsa_key("k1")


def occurrences(key, rows: list[dict], ring: KeyRing | None = None) -> tuple[dict[str, list], dict[str, TokenFacts]]:
    """Occurrence columns (as python lists) of dicts with a 'token' and request fields, and the token facts."""
    ring = ring or KeyRing([KeySet("test", "file", [key.public_jwk()])])
    facts = {}
    cols: dict[str, list] = {c: [] for c in ("ts", "source", "line", "format", "location", "param", "host", "method",
                                             "path", "status", "client_ip", "user_agent", "token_fp", "mtime_us")}
    for i, r in enumerate(rows):
        f = analyze_token(r["token"].encode(), ring)
        facts[f.fp] = f
        cols["ts"].append(r.get("ts", NOW * US))
        cols["source"].append("x.log")
        cols["line"].append(i + 1)
        cols["format"].append("nginx")
        cols["location"].append(r.get("location", S.LOC_AUTHORIZATION))
        cols["param"].append(r.get("param", "authorization"))
        cols["host"].append(r.get("host", "orders.contoso.com"))
        cols["method"].append("GET")
        cols["path"].append("/v1/orders")
        cols["status"].append(401)
        cols["client_ip"].append("10.0.0.1")
        cols["user_agent"].append("ua")
        cols["token_fp"].append(f.fp)
        cols["mtime_us"].append(NOW * US)
    return cols, facts


def run_checks(key, rows: list[dict], settings: Settings | None = None) -> pd.DataFrame:
    """Classify occurrences given as dicts with a 'token' and request fields."""
    cols, facts = occurrences(key, rows)
    occ = pd.DataFrame(cols)
    occ["ts"] = pd.array(occ["ts"], dtype="Int64")
    return classify(occ, facts, settings or Settings(apis=(ORDERS,)))


def access(key, **over) -> str:
    c = T.access_token_claims(TENANT, "api://orders", "c-1", version="2.0", iat=NOW - 60, exp=NOW + 3600, scp="read")
    c.update(over)
    return T.sign({k: v for k, v in c.items() if v is not None}, key)


def test_ok_and_time_window(key) -> None:
    ev = run_checks(key, [
        {"token": access(key)},
        {"token": access(key, exp=NOW - 3 * 3600, iat=NOW - 4 * 3600, nbf=NOW - 4 * 3600)},
        {"token": access(key, exp=NOW - 200, iat=NOW - 3000, nbf=NOW - 3000)},  # within leeway
        {"token": access(key, nbf=NOW + 1200, iat=NOW + 1200, exp=NOW + 4800)},
    ])
    assert ev["cause"].tolist() == [S.OK, S.EXPIRED, S.OK, S.NOT_YET_VALID]
    assert "3 h 0 min" in ev["detail"][1]
    assert ev["seconds_past_exp"][1] == pytest.approx(3 * 3600)


def test_expiry_is_judged_at_request_time_not_now(key) -> None:
    old = NOW - 400 * 86400
    tok = access(key, iat=old - 60, nbf=old - 60, exp=old + 3600)
    assert run_checks(key, [{"token": tok, "ts": old * US}])["cause"][0] == S.OK


def test_missing_time_falls_back_to_mtime_and_says_so(key) -> None:
    ev = run_checks(key, [{"token": access(key), "ts": None}])
    assert ev["cause"][0] == S.OK
    assert "modification time" in ev["detail"][0]


def test_audience_and_issuer(key) -> None:
    graph = access(key, aud="00000003-0000-0000-c000-000000000000")
    v1 = access(key, iss=T.issuer_v1(TENANT))
    other_tenant = access(key, iss=T.issuer_v2("99999999-2222-3333-4444-555555555555"))
    ev = run_checks(key, [{"token": graph}, {"token": v1}, {"token": other_tenant},
                          {"token": access(key, aud="api://orders"), "host": "unknown.example.com"}])
    assert ev["cause"].tolist() == [S.AUDIENCE_MISMATCH, S.ISSUER_MISMATCH, S.ISSUER_MISMATCH, S.OK]
    assert "Microsoft Graph" in ev["detail"][0]
    assert "v1 endpoint" in ev["detail"][1]
    assert "another tenant" in ev["detail"][2]
    assert ev["api"].tolist()[:3] == ["orders"] * 3


def test_id_token_as_bearer_and_missing_nonce(key) -> None:
    idt = T.sign(T.id_token_claims(TENANT, "c-1", iat=NOW - 60, exp=NOW + 3600), key)
    ev = run_checks(key, [
        {"token": idt},
        {"token": idt, "location": S.LOC_FORM, "param": "id_token"},
    ])
    assert ev["cause"].tolist() == [S.WRONG_TOKEN_TYPE, S.MISSING_NONCE]


def test_several_failures_keep_priority_order(key) -> None:
    tok = access(key, aud="api://other", exp=NOW - 7200, iat=NOW - 9000, nbf=NOW - 9000)
    ev = run_checks(key, [{"token": tok}])
    assert ev["cause"][0] == S.AUDIENCE_MISMATCH
    assert list(ev["causes"][0]) == [S.AUDIENCE_MISMATCH, S.EXPIRED]


def test_sources_map_lines_without_host(key) -> None:
    api = ApiExpectation("orders", sources=("*.log",), audiences=("api://orders",))
    ev = run_checks(key, [{"token": access(key, aud="api://nope"), "host": None}], Settings(apis=(api,)))
    assert ev["cause"][0] == S.AUDIENCE_MISMATCH


def test_detail_texts() -> None:
    guid = "6e7c1b0a-0000-0000-0000-000000000001"
    assert "both forms" in audience_detail((guid,), (f"api://{guid}",))
    assert "unknown" in issuer_detail("https://evil.example/", ("https://login.microsoftonline.com/t/v2.0",))
    assert humanize(30) == "30 s" and humanize(600) == "10 min" and humanize(3 * 86400) == "3 days 0 h"


def test_the_same_whatever_the_columns_are_stored_as(key) -> None:
    """`batch_frame`'s categoricals and Arrow strings classify as plain Python objects do."""
    idt = T.sign(T.id_token_claims(TENANT, "c-1", iat=NOW - 60, exp=NOW + 3600), key)
    rows = [
        {"token": access(key)},
        {"token": access(key, exp=NOW - 3 * 3600, iat=NOW - 4 * 3600, nbf=NOW - 4 * 3600)},
        {"token": access(key, exp=NOW - 3 * 3600, iat=NOW - 4 * 3600, nbf=NOW - 4 * 3600), "ts": (NOW - 5) * US},
        {"token": access(key, nbf=NOW + 1200, iat=NOW + 1200, exp=NOW + 4800)},
        {"token": access(key, aud="00000003-0000-0000-c000-000000000000")},
        {"token": access(key, iss=T.issuer_v1(TENANT)), "ts": None},
        {"token": idt},
        {"token": idt, "location": S.LOC_FORM, "param": "id_token"},
        {"token": access(key), "host": None},
        {"token": access(key, aud="api://other"), "host": "unknown.example.com"},
        {"token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
    ]
    cols, facts = occurrences(key, rows)
    cols["logged_error"] = [None] * (len(rows) - 1) + ["IDX10223"]
    settings = Settings(apis=(ORDERS,))
    plain = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in cols.items()})
    plain["ts"] = pd.array(cols["ts"], dtype="Int64")
    want = classify(plain, facts, settings)
    mtime = cols.pop("mtime_us")[0]
    got = classify(batch_frame(batch_of(cols, facts, mtime)), facts, settings)
    assert isinstance(got["issuer"].dtype, pd.CategoricalDtype)

    def text(ev: pd.DataFrame) -> pd.DataFrame:
        return ev[list(S.EVENT_COLUMNS)].assign(causes=[list(c) for c in ev["causes"]]).astype(str)

    pd.testing.assert_frame_equal(text(got), text(want))
    assert want["cause"].tolist() == [S.OK, S.EXPIRED, S.EXPIRED, S.NOT_YET_VALID, S.AUDIENCE_MISMATCH,
                                      S.ISSUER_MISMATCH, S.WRONG_TOKEN_TYPE, S.MISSING_NONCE, S.OK, S.OK,
                                      S.UNSUPPORTED_ALG]
    assert want["detail"][5].endswith("modification time")


def test_an_empty_batch() -> None:
    ev = classify(batch_frame(batch_of(empty_columns(), {}, 0)), {}, Settings(apis=(ORDERS,)))
    assert ev.empty
    assert set(S.EVENT_COLUMNS) <= set(ev.columns)


def test_an_issuer_no_provider_knows_is_explained_at_any_host(key) -> None:
    """The token's own issuer failure (decode's) has a detail where no [[api]] judged the issuer."""
    ring = KeyRing([KeySet("test", "file", [key.public_jwk()], issuer=T.issuer_v2(TENANT))])
    evil = access(key, iss="https://evil.example/")
    rows = [{"token": evil}, {"token": evil, "host": "unknown.example.com"}, {"token": evil, "host": "shop.example"}]
    cols, facts = occurrences(key, rows, ring)
    occ = pd.DataFrame(cols).assign(ts=pd.array(cols["ts"], dtype="Int64"))
    shop = ApiExpectation("shop", hosts=("shop.example",), audiences=("api://orders",))  # no issuers configured
    ev = classify(occ, facts, Settings(apis=(ORDERS, shop)))
    assert ev["cause"].tolist() == [S.ISSUER_MISMATCH] * 3
    assert "accepted (configured)" in ev["detail"][0]  # the API's verdict
    assert all("identity providers' metadata" in d for d in ev["detail"][1:])  # the token's own


def test_small_unique_is_numpy_unique() -> None:
    import numpy as np

    from analyzer.tokens.check import _small_unique

    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 500):
        values = rng.integers(0, 40, size)
        want, inverse = np.unique(values, return_inverse=True)
        got, number = _small_unique(values)
        assert got.tolist() == want.tolist() and number.tolist() == inverse.reshape(-1).tolist()


def test_durations_are_rounded_to_what_humanize_shows() -> None:
    from analyzer.tokens.check import _shown

    seconds = np.concatenate([np.arange(-200_000.5, 200_000.5, 7.3), [119.9, 7199.99, 172_799.5, 9e9]])
    shown = _shown(seconds)
    assert [humanize(s) for s in shown.tolist()] == [humanize(s) for s in seconds.tolist()]
    assert len(np.unique(shown)) < len(np.unique(np.trunc(seconds))) // 10
