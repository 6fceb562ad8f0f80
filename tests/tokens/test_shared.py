"""tokens.shared: signature verdicts a run's forked workers share."""

from __future__ import annotations

import multiprocessing
import os

import jwts as T
import pytest
from jwt.algorithms import RSAAlgorithm

from analyzer.tokens.decode import analyze_token
from analyzer.tokens.keys import VALID, KeyRing, KeySet
from analyzer.tokens.shared import BUCKETS, WAYS, SharedVerdicts, sets_digest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="forked workers only")


def _claims() -> dict:
    return T.access_token_claims("t-1", "api://orders", "c-1", iat=1_795_000_000, exp=1_795_003_600)


def _write(table: SharedVerdicts, fp: str, digest: int, code: int) -> None:
    table.add(fp, digest, code)


def _ring(key: T.KeyPair, table: SharedVerdicts) -> KeyRing:
    """Another process's ring: these keys, its own (empty) memo, the run's table."""
    return KeyRing([KeySet(source="s", origin="file", jwks=[key.public_jwk()])], shared=table)


def test_a_forked_child_writes_what_the_parent_reads() -> None:
    table = SharedVerdicts()
    assert table.get("00ff00ff00ff00ff", 12345) == 0
    child = multiprocessing.get_context("fork").Process(target=_write, args=(table, "00ff00ff00ff00ff", 12345, 2))
    child.start()
    child.join()
    assert table.get("00ff00ff00ff00ff", 12345) == 2
    assert table.get("00ff00ff00ff00ff", 54321) == 0  # other keys: a miss


def _same_bucket(n: int) -> list[str]:
    """Fingerprints of `n` tokens whose words share one bucket (with digest 0)."""
    return [f"{i * BUCKETS + 7:016x}" for i in range(1, n + 1)]


def test_a_full_bucket_keeps_its_first_words_and_the_last_writer() -> None:
    table = SharedVerdicts()
    fps = _same_bucket(WAYS + 2)
    for fp in fps:
        table.add(fp, 0, 1)
    assert [table.get(fp, 0) for fp in fps] == [1] * (WAYS - 1) + [0, 0, 1]
    table.add(fps[0], 0, 1)  # written already: no word changes
    assert table.get(fps[-1], 0) == 1
    assert table.get("0000000000000000", 0) == 0  # an empty word names no token


def test_words_of_other_key_sets_give_way() -> None:
    table = SharedVerdicts()
    fps = _same_bucket(WAYS)
    for fp in fps:
        table.add(fp, 0, 1)
    # After a refresh, another digest: a token whose key falls in the same bucket takes a word of the old keys.
    new = f"{int(_same_bucket(WAYS + 1)[-1], 16) ^ 1:016x}"
    table.add(new, 1, 2)
    assert table.get(new, 1) == 2
    assert table.get(fps[-1], 0) == 1  # the last word was not needed
    assert sum(table.get(fp, 0) for fp in fps[:-1]) == WAYS - 2  # one of the first words gave way


def test_a_valid_signature_is_shared_only_with_the_same_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    key, other = T.make_rsa_key("k1"), T.make_rsa_key("k1")
    token = T.sign(_claims(), key).encode()
    table = SharedVerdicts()
    first = _ring(key, table)
    facts = analyze_token(token, first)
    assert facts.signature_checked and facts.failures == ()
    second = _ring(key, table)
    assert second.digest() == first.digest() == sets_digest(first.sets)
    assert second.verdict(facts.fp) is VALID
    monkeypatch.setattr(RSAAlgorithm, "verify", _not_again)
    assert analyze_token(token, second) == facts
    # After a refresh brought other keys under the same kid, the token is verified again, and fails.
    monkeypatch.undo()
    second.replace(0, KeySet(source="s", origin="file", jwks=[other.public_jwk()]))
    assert second.verdict(facts.fp) is None
    assert [c for c, _ in analyze_token(token, second).failures] == ["bad_signature"]


def _not_again(*args: object) -> bool:
    raise AssertionError("a signature checked by another process was checked again")


def _other(headers: dict | None = None) -> str:
    """Claims signed by another key under the kid "k1" (with these headers)."""
    return T.sign(_claims(), T.make_rsa_key("k1"), headers=headers)


@pytest.mark.parametrize(("forge", "named"), [
    (lambda key: T.tamper_signature(T.sign(_claims(), key)), "key k1 was found"),
    (lambda key: _other(), "key k1 was found"),
    (lambda key: _other({"kid": None}), "key (no kid) was found"),  # every key is tried
    (lambda key: _other({"kid": None, "x5t": "abc"}), "key x5t abc was found"),
    (lambda key: T.sign_with_header_nonce(_claims(), key, "n0nce"), "Microsoft Graph token"),
])
def test_a_signature_that_does_not_verify_is_shared_with_its_detail(forge, named: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    key = T.make_rsa_key("k1")
    token = forge(key).encode()
    jwk = {**key.public_jwk(), "x5t": "abc"}

    def ring(table: SharedVerdicts | None) -> KeyRing:
        return KeyRing([KeySet(source="s", origin="file", jwks=[jwk])], shared=table)

    alone = analyze_token(token, ring(None))
    assert [c for c, _ in alone.failures] == ["bad_signature"] and named in alone.failures[0][1]
    table = SharedVerdicts()
    first = ring(table)
    analyze_token(token, first)
    assert table.get(alone.fp, first.digest()) == 2
    second = ring(table)
    monkeypatch.setattr(RSAAlgorithm, "verify", _not_again)
    got = second.verdict(alone.fp, alone.kid, alone.header.get("x5t"), "nonce" in alone.header)
    assert got is not None and (got.cause, got.detail) == alone.failures[0]
    assert analyze_token(token, second) == alone  # the same facts as verified, detail included


def test_verdicts_that_cost_no_check_are_not_written() -> None:
    key = T.make_rsa_key("k1")
    token = T.sign(_claims(), T.make_rsa_key("k2")).encode()  # a kid the keys lack
    table = SharedVerdicts()
    ring = _ring(key, table)
    facts = analyze_token(token, ring)
    assert [c for c, _ in facts.failures] == ["unknown_kid"]
    assert table.get(facts.fp, ring.digest()) == 0
