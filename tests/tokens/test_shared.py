"""tokens.shared: signature verdicts a run's forked workers share."""

from __future__ import annotations

import multiprocessing
import os

import jwts as T
import pytest

from analyzer.tokens.decode import analyze_token
from analyzer.tokens.keys import VALID, KeyRing, KeySet
from analyzer.tokens.shared import SharedVerdicts, sets_digest, verdict_key

pytestmark = pytest.mark.skipif(os.name != "posix", reason="forked workers only")


def _claims() -> dict:
    return T.access_token_claims("t-1", "api://orders", "c-1", iat=1_795_000_000, exp=1_795_003_600)


def _write(table: SharedVerdicts, key: int) -> None:
    table.add(key)


def test_a_forked_child_writes_what_the_parent_reads() -> None:
    table = SharedVerdicts()
    key = verdict_key("00ff00ff00ff00ff", 12345)
    assert not table.valid(key)
    child = multiprocessing.get_context("fork").Process(target=_write, args=(table, key))
    child.start()
    child.join()
    assert table.valid(key)
    assert not table.valid(verdict_key("00ff00ff00ff00ff", 54321))  # other keys: a miss


def test_a_valid_signature_is_shared_only_with_the_same_keys() -> None:
    key, other = T.make_rsa_key("k1"), T.make_rsa_key("k1")
    token = T.sign(_claims(), key).encode()
    table = SharedVerdicts()
    first = KeyRing([KeySet(source="s", origin="file", jwks=[key.public_jwk()])], shared=table)
    facts = analyze_token(token, first)
    assert facts.signature_checked and facts.failures == ()
    # Another process's ring: same keys, its own (empty) memo.
    second = KeyRing([KeySet(source="s", origin="file", jwks=[key.public_jwk()])], shared=table)
    assert second.digest() == first.digest() == sets_digest(first.sets)
    assert second.verdict(facts.fp) is VALID
    assert analyze_token(token, second) == facts
    # After a refresh brought other keys under the same kid, the token is verified again, and fails.
    second.replace(0, KeySet(source="s", origin="file", jwks=[other.public_jwk()]))
    assert second.verdict(facts.fp) is None
    assert [c for c, _ in analyze_token(token, second).failures] == ["bad_signature"]
