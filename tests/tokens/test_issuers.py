"""The one issuer module: shapes, the {tenantid} template, and which issuers a tenant's keys sign."""

from __future__ import annotations

import jwts as T
import pytest

from analyzer import schema as S
from analyzer.config import ApiExpectation
from analyzer.tokens import issuers
from analyzer.tokens.check import BIT, pair_verdict

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
V2_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"
V1_TEMPLATE = "https://sts.windows.net/{tenantid}/"


@pytest.mark.parametrize(("issuer", "siblings"), [
    (T.issuer_v2(TENANT), (T.issuer_v2(TENANT), T.issuer_v1(TENANT))),
    (T.issuer_v1(TENANT), (T.issuer_v1(TENANT), T.issuer_v2(TENANT))),
    (V2_TEMPLATE, (V2_TEMPLATE, V1_TEMPLATE)),
    (V1_TEMPLATE, (V1_TEMPLATE, V2_TEMPLATE)),
    (f"https://login.partner.microsoftonline.cn/{TENANT}/v2.0",
     (f"https://login.partner.microsoftonline.cn/{TENANT}/v2.0", f"https://sts.chinacloudapi.cn/{TENANT}/")),
    ("https://accounts.google.com", ("https://accounts.google.com",)),
    ("https://contoso.b2clogin.com/tfp/contoso.onmicrosoft.com/b2c_1_signin/v2.0/",
     ("https://contoso.b2clogin.com/tfp/contoso.onmicrosoft.com/b2c_1_signin/v2.0/",)),
])
def test_a_tenants_keys_sign_its_v1_and_v2_tokens(issuer: str, siblings: tuple[str, ...]) -> None:
    assert issuers.same_keys(issuer) == siblings


def test_matching_ignores_a_trailing_slash_and_case_and_fills_the_template() -> None:
    assert issuers.matches(T.issuer_v1(TENANT).upper(), T.issuer_v1(TENANT).rstrip("/"))
    assert issuers.matches(V2_TEMPLATE, T.issuer_v2(TENANT.upper()), TENANT)
    assert not issuers.matches(V2_TEMPLATE, T.issuer_v2(TENANT), OTHER)
    assert not issuers.accepts([V2_TEMPLATE], None)


def test_an_api_may_accept_the_multi_tenant_template() -> None:
    """Only keys.py handled `{tenantid}`; an [[api]] issuers list with it rejected every token."""
    api = ApiExpectation("orders", hosts=("h",), issuers=(V2_TEMPLATE,))
    bits, _, _ = pair_verdict(api, S.KIND_ACCESS, ("api://orders",), T.issuer_v2(TENANT), False, tid=TENANT)
    assert bits == 0
    bits, _, detail = pair_verdict(api, S.KIND_ACCESS, ("api://orders",), T.issuer_v2(TENANT), False, tid=OTHER)
    assert bits == BIT[S.ISSUER_MISMATCH] and f"tid is {OTHER}" in detail
    bits, _, detail = pair_verdict(api, S.KIND_ACCESS, ("api://orders",), T.issuer_v1(TENANT), False, tid=TENANT)
    assert bits == BIT[S.ISSUER_MISMATCH] and "v1 endpoint of the right tenant" in detail
