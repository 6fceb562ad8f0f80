"""Issuer matching (templates, tenant filled in), mismatch details, kid history, and the refresh hook."""

from __future__ import annotations

import os
import time

import jwts as T
import pytest

from analyzer import schema as S
from analyzer.config import check_url, is_loopback
from analyzer.tokens.decode import analyze_token
from analyzer.tokens.issuers import matches as issuer_matches
from analyzer.tokens.issuers import mismatch_detail as issuer_mismatch_detail
from analyzer.tokens.issuers import shape as issuer_shape
from analyzer.tokens.keys import KeyRing, KeySet, check_issuer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"


def test_issuer_matches_with_the_tenant_filled_in() -> None:
    assert issuer_matches(T.issuer_v2(TENANT), T.issuer_v2(TENANT) + "/")
    assert issuer_matches(TEMPLATE, T.issuer_v2(TENANT), TENANT)
    assert not issuer_matches(TEMPLATE, T.issuer_v2(TENANT), OTHER)
    assert issuer_matches(TEMPLATE, T.issuer_v2(OTHER))  # no tid: any tenant
    assert not issuer_matches(TEMPLATE, T.issuer_v1(TENANT), TENANT)


@pytest.mark.parametrize(("iss", "shape"), [
    (T.issuer_v1(TENANT), ("v1", TENANT)),
    (T.issuer_v2(TENANT), ("v2", TENANT)),
    (TEMPLATE, ("v2", "{tenantid}")),
    ("http://127.0.0.1:8080/" + TENANT + "/v2.0", ("v2", TENANT)),
    ("https://accounts.google.com", ("other", None)),
])
def test_issuer_shape(iss: str, shape: tuple[str, str | None]) -> None:
    assert issuer_shape(iss) == shape


def test_mismatch_details_tell_the_cases_apart() -> None:
    v1_for_v2 = issuer_mismatch_detail(T.issuer_v1(TENANT), [T.issuer_v2(TENANT)])
    assert "v1 endpoint of the right tenant" in v1_for_v2 and "expects the v2 issuer" in v1_for_v2
    assert "v1 endpoint" in issuer_mismatch_detail(T.issuer_v1(TENANT), [TEMPLATE], tid=TENANT)
    other = issuer_mismatch_detail(T.issuer_v2(OTHER), [T.issuer_v2(TENANT)])
    assert f"belongs to tenant {OTHER}, another tenant" in other
    assert "unknown" in issuer_mismatch_detail("https://idp.example.org", [T.issuer_v2(TENANT)])
    assert "tid is" in issuer_mismatch_detail(T.issuer_v2(OTHER), [TEMPLATE], tid=TENANT)


def test_check_issuer_only_when_an_issuer_is_known() -> None:
    bare = KeyRing([KeySet("f.json", "file", [])])
    assert check_issuer(bare, "https://anything.example.org", None) is None
    ring = KeyRing([KeySet("m", "network", [], issuer=T.issuer_v2(TENANT))],
                   accepted_issuers=(T.issuer_v1(TENANT),))
    assert check_issuer(ring, T.issuer_v1(TENANT), TENANT) is None  # an [[api]] accepts it
    assert check_issuer(ring, T.issuer_v2(OTHER), OTHER)


def test_unknown_kid_detail_uses_the_history() -> None:
    old, new = T.make_rsa_key("old"), T.make_rsa_key("new")
    src = "https://idp/keys"
    ring = KeyRing([KeySet(src, "network", T.jwks(new)["keys"], fetched_at="2026-12-01T08:00:00+00:00")],
                   history={src: {"old": "2026-11-20T10:00:00+00:00", "new": "2026-12-01T08:00:00+00:00"}})
    now = int(time.time())
    claims = T.access_token_claims(TENANT, "api://x", "c", iat=now, exp=now + 60)
    f = analyze_token(T.sign(claims, old).encode(), ring)
    assert f.failures[0][0] == S.UNKNOWN_KID
    assert f.failures[0][1] == ("kid old was in the key set fetched on 2026-11-20 but is not in the current "
                                "one (https://idp/keys, fetched 2026-12-01): the key rotated and the API's "
                                "cache is stale")
    ring.sets[0].stale = True
    f = analyze_token(T.sign(claims, T.make_rsa_key("brand-new")).encode(), ring)
    assert "never seen" in f.failures[0][1] and "served from the cache" in f.failures[0][1]


def test_refresher_is_not_used_by_another_process() -> None:
    key = T.make_rsa_key("k2")
    calls: list[int] = []

    def refresher(ring: KeyRing, i: int) -> bool:
        calls.append(i)
        ring.replace(i, KeySet("u", "network", T.jwks(key)["keys"]))
        return True

    now = int(time.time())
    tok = T.sign(T.access_token_claims(TENANT, "api://x", "c", iat=now, exp=now + 60), key).encode()
    ring = KeyRing([KeySet("u", "network", T.jwks(T.make_rsa_key("k1"))["keys"])], refresher=refresher)
    ring.owner_pid = os.getpid() + 1  # as in a forked worker
    assert analyze_token(tok, ring).failures[0][0] == S.UNKNOWN_KID and calls == []
    ring.owner_pid = os.getpid()
    assert analyze_token(tok, ring).failures == () and calls == [0]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://login.microsoftonline.com/x", True),
    ("http://127.0.0.1:8080/x", True),
    ("http://[::1]:8080/x", True),
    ("http://localhost/x", True),
    ("http://idp.example.org/x", False),
    ("file:///etc/passwd", False),
    ("ftp://idp.example.org/x", False),
])
def test_only_https_or_loopback(url: str, ok: bool) -> None:
    assert (check_url(url) is None) == ok
    assert check_url("http://idp.example.org/x", allow_http=True) is None
    assert is_loopback("127.1.2.3") and not is_loopback("10.0.0.1")


def test_a_worker_asks_the_parent_and_never_takes_a_late_answer_for_a_new_question(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The key broker: a worker's kid miss is answered with the parent's set after the parent's
    refresh; an answer that comes after the worker gave up waiting is dropped, not mistaken for the
    answer to its next question."""
    import pickle
    import threading

    import analyzer.engine.keybroker as E

    old, first, second = (T.jwks(T.make_rsa_key(k))["keys"] for k in ("k1", "k2", "k3"))
    calls: list[int] = []
    slow = threading.Event()

    def refresher(ring: KeyRing, i: int) -> bool:
        calls.append(i)
        if len(calls) == 1:
            slow.wait(5)  # the first fetch hangs past the worker's patience
            ring.replace(i, KeySet("u", "network", first))
        else:
            ring.replace(i, KeySet("u", "network", second))
        return True

    parent = KeyRing([KeySet("u", "network", old)], refresher=refresher)
    worker = pickle.loads(pickle.dumps(parent))  # as a worker has it: no refresher of its own
    monkeypatch.setattr(E, "REFRESH_WAIT", 0.3)
    broker = E.KeyBroker(parent, workers=1)
    try:
        broker.attach(worker)
        assert worker.refresher is not None
        assert worker.refresher(worker, 0) is False  # gave up waiting
        slow.set()
        time.sleep(0.2)  # the late answer (k2) is now in the pipe
        assert worker.refresher(worker, 0) is True
        assert worker.sets[0].kids == ["k3"] and calls == [0, 0]
    finally:
        slow.set()
        broker.close()


def test_why_a_signature_could_not_be_checked() -> None:
    from analyzer.tokens.keys import ASSERTION_REASON, GRAPH_REASON, unverified_reason

    assert unverified_reason(KeyRing(), T.issuer_v2(TENANT), TENANT, S.KIND_ACCESS, False).startswith(
        "no signing keys are configured")
    fetched = KeySet("https://idp/meta", "network", T.jwks(T.make_rsa_key("k"))["keys"], issuer=T.issuer_v2(TENANT))
    ring = KeyRing([fetched])
    assert unverified_reason(ring, T.issuer_v2(OTHER), OTHER, S.KIND_ACCESS, False) == (
        f"no key set for issuer {T.issuer_v2(OTHER)}: add an [[issuer]] with its metadata_url")
    assert unverified_reason(ring, T.issuer_v1(OTHER), OTHER, S.KIND_ACCESS, True) == GRAPH_REASON
    assert unverified_reason(ring, "c-2", None, S.KIND_ASSERTION, False) == ASSERTION_REASON
    down = KeyRing([KeySet("https://idp/meta", "none", [], issuer=T.issuer_v2(TENANT),
                           error="no keys: provider unreachable: HTTP 500 (GET https://idp/meta)")])
    why = unverified_reason(down, T.issuer_v1(TENANT), TENANT, S.KIND_ACCESS, False)
    assert why.startswith(f"no keys could be had for issuer {T.issuer_v1(TENANT)} (provider unreachable: HTTP 500")


def test_the_keys_to_try_are_found_again_when_a_set_changes() -> None:
    """Tokens of one issuer and kid share the keys to try (found once); a re-fetched set replaces them."""
    first, rotated = T.make_rsa_key("k"), T.make_rsa_key("k")  # the same kid, another key
    ring = KeyRing([KeySet("u", "network", T.jwks(first)["keys"])])
    now = int(time.time())
    claims = T.access_token_claims(TENANT, "api://x", "c", iat=now, exp=now + 60)
    assert analyze_token(T.sign(claims, first).encode(), ring).failures == ()
    assert analyze_token(T.sign(claims, rotated).encode(), ring).failures[0][0] == S.BAD_SIGNATURE
    ring.replace(0, KeySet("u", "network", T.jwks(rotated)["keys"]))
    assert analyze_token(T.sign({**claims, "nonce": "n"}, rotated).encode(), ring).failures == ()
    assert analyze_token(T.sign({**claims, "nonce": "m"}, first).encode(), ring).failures[0][0] == S.BAD_SIGNATURE
