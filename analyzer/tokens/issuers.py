"""Issuers: the one place that knows their shapes, the `{tenantid}` template, and which of them share keys.

Used by the key ring (which key set verifies a token, which issuers the providers stand for) and by
the per-API checks (which issuers an API accepts), so that both judge an `iss` the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

TENANT_TEMPLATE = "{tenantid}"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Entra's v1 issuer host for each cloud's v2 issuer host. A tenant signs its v1 tokens
# (`https://sts.windows.net/{tid}/`) and its v2 tokens (`https://login.microsoftonline.com/{tid}/v2.0`)
# with the same keys, and its v1 and v2 metadata publish the same key set.
_V1_HOST = {"login.microsoftonline.com": "sts.windows.net",
            "login.partner.microsoftonline.cn": "sts.chinacloudapi.cn"}
_V2_HOST = {v: k for k, v in _V1_HOST.items()}


def _norm(value: str) -> str:
    """An issuer as compared: without a trailing slash, case-insensitive (hosts and GUIDs are)."""
    return value.rstrip("/").lower()


def matches(pattern: str, iss: str, tid: str | None = None) -> bool:
    """Whether `iss` is the issuer `pattern`; `{tenantid}` is filled with `tid` (any tenant when None)."""
    pat, got = _norm(pattern), _norm(iss)
    if TENANT_TEMPLATE not in pat:
        return pat == got
    if tid:
        return pat.replace(TENANT_TEMPLATE, tid.lower()) == got
    head, _, tail = pat.partition(TENANT_TEMPLATE)
    return got.startswith(head) and got.endswith(tail) and len(got) > len(head) + len(tail)


def accepts(accepted: Iterable[str], iss: str | None, tid: str | None = None) -> bool:
    """Whether `iss` is one of the `accepted` issuers (templates filled with `tid`)."""
    return bool(iss) and any(matches(a, iss or "", tid) for a in accepted)


@lru_cache(maxsize=1024)
def shape(iss: str) -> tuple[str, str | None]:
    """("v1" | "v2" | "other", tenant) of an issuer, Entra-style: `…/{tid}/v2.0` is v2, `…/{tid}/` v1."""
    try:
        parts = urlsplit(iss)
    except ValueError:
        return "other", None
    segments = [p for p in parts.path.split("/") if p]
    if len(segments) >= 2 and segments[-1] == "v2.0":
        return "v2", segments[-2]
    if parts.hostname in _V2_HOST and len(segments) == 1:
        return "v1", segments[0]
    if len(segments) == 1 and (_GUID.match(segments[0]) or segments[0] == TENANT_TEMPLATE):
        return "v1", segments[0]
    return "other", None


@lru_cache(maxsize=256)
def same_keys(issuer: str) -> tuple[str, ...]:
    """The issuers whose tokens a key set published for `issuer` signs: itself and, for an Entra
    tenant (or the multi-tenant template), the same tenant's other token version."""
    try:
        host = urlsplit(issuer).hostname or ""
    except ValueError:
        return (issuer,)
    kind, tenant = shape(issuer)
    if tenant is None or not (_GUID.match(tenant) or tenant == TENANT_TEMPLATE):
        return (issuer,)
    if kind == "v2" and host in _V1_HOST:
        return issuer, f"https://{_V1_HOST[host]}/{tenant}/"
    if kind == "v1" and host in _V2_HOST:
        return issuer, f"https://{_V2_HOST[host]}/{tenant}/v2.0"
    return (issuer,)


def mismatch_detail(iss: str | None, accepted: Iterable[str], source: str = "configured",
                    tid: str | None = None) -> str:
    """Why `iss` is not accepted: v1 vs v2 endpoint, another tenant, or an unknown issuer."""
    accepted = tuple(accepted)
    shown = ", ".join(accepted)
    if not iss:
        return f"the token has no issuer; accepted ({source}): {shown}"
    kind, tenant = shape(iss)
    shapes = [shape(a) for a in accepted]
    tenant_l = (tenant or "").lower()

    def same_tenant(t: str | None) -> bool:
        return (t or "").lower() == tenant_l or (t == TENANT_TEMPLATE and (tid is None or tid.lower() == tenant_l))

    if kind in ("v1", "v2") and any(same_tenant(t) and k != kind for k, t in shapes if k in ("v1", "v2")):
        want = "v2" if kind == "v1" else "v1"
        return (f"issuer {iss} is the {kind} endpoint of the right tenant, but the API expects the {want} "
                f"issuer ({shown}): set accessTokenAcceptedVersion on the API's app registration, "
                "or accept both")
    if kind in ("v1", "v2") and tid and tenant_l != tid.lower() and any(t == TENANT_TEMPLATE for _, t in shapes):
        return (f"issuer {iss} names tenant {tenant}, but the token's tid is {tid}: the multi-tenant issuer "
                f"template ({shown}) filled with the token's tenant does not give its iss")
    if kind in ("v1", "v2") and any(t and t.lower() != tenant_l and t != TENANT_TEMPLATE for _, t in shapes):
        return f"issuer {iss} belongs to tenant {tenant}, another tenant than the API accepts ({shown})"
    return f"issuer {iss} is unknown to this API; accepted ({source}): {shown}"
