"""tokens.columns: token facts as columns, a row per facts object, reused across batches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analyzer import schema as S
from analyzer.frames import NAT
from analyzer.tokens.columns import TokenColumns
from analyzer.tokens.decode import TokenFacts

KEY = b"k" * 32


def facts(fp: str, **over: object) -> TokenFacts:
    base: dict[str, object] = dict(kind=S.KIND_ACCESS, issuer="https://iss/v2.0", audiences=("api://a",),
                                   client_id="c-1", exp=2_000_000, iat=1_000_000, subject="user-1")
    base.update(over)
    return TokenFacts(fp, **base)  # type: ignore[arg-type]


def test_rows_are_made_once_per_facts_object() -> None:
    table = TokenColumns()
    a, b = facts("a"), facts("b", client_id="c-2", exp=None)
    got, rows = table.rows(["a", "b"], {"a": a, "b": b}, KEY)
    assert got == [a, b] and rows.tolist() == [0, 1]
    _, rows = table.rows(["b", "a"], {"a": a, "b": b}, KEY)
    assert rows.tolist() == [1, 0]  # no new rows
    assert table.col["exp"][:2].tolist() == [2_000_000, NAT]
    # Facts decoded again (another object, other facts): a new row, whatever the fingerprint.
    again = dataclasses.replace(b, signature_checked=True)
    _, rows = table.rows(["b"], {"b": again}, KEY)
    assert rows.tolist() == [2] and table.col["signature_checked"][2]


def test_categorical_categories_in_order_of_first_appearance() -> None:
    table = TokenColumns()
    table.rows(["x"], {"x": facts("x", client_id="c-9")}, KEY)  # an earlier batch's token
    tokens = {"a": facts("a", client_id="c-2"), "b": facts("b", client_id=None), "c": facts("c")}
    _, rows = table.rows(["a", "b", "c"], tokens, KEY)
    cat = table.categorical("client_id", rows, np.array([2, 0, 1, 0, 2]))
    assert list(cat.categories) == ["c-2", "c-1"]  # in token order; c-9 is not in this batch: not a category
    assert cat.astype(object).tolist() == ["c-1", "c-2", np.nan, "c-2", "c-1"]
    assert table.times("exp", rows, np.array([0])).tolist() == [pd.Timestamp(2, unit="s", tz="UTC")]


def test_tokens_that_share_their_facts_share_codes_and_judged_keys() -> None:
    """Tokens of one client differ in times and subject: their strings are coded once per distinct
    set; what the audience and issuer checks judge also tells a malformed token apart."""
    table = TokenColumns()
    bad = ((S.MALFORMED, "exp is not a number"),)
    tokens = {"a": facts("a"), "b": facts("b", exp=3_000_000, subject="user-2"), "c": facts("c", failures=bad),
              "d": facts("d", audiences=("api://b", "api://c"), tenant_id="t")}
    _, rows = table.rows(["a", "b", "c", "d"], tokens, KEY)
    for name in ("kind", "issuer", "client_id", "audience"):
        a, b, c, d = table.col[name][rows].tolist()
        assert a == b == c and (d != a) == (name == "audience"), name
    assert table.values["audience"] == ["api://a", "api://b,api://c"]
    assert table.col["exp"][rows].tolist() == [2_000_000, 3_000_000, 2_000_000, 2_000_000]
    judged = [table.judged[j] for j in table.col["judged"][rows].tolist()]
    assert judged == [(S.KIND_ACCESS, ("api://a",), "https://iss/v2.0", False, None)] * 2 + [
        (S.KIND_ACCESS, ("api://a",), "https://iss/v2.0", True, None),
        (S.KIND_ACCESS, ("api://b", "api://c"), "https://iss/v2.0", False, "t")]
    assert len(table.judged) == 3


def test_subjects_are_hashed_and_strings_made_utf8_safe() -> None:
    table = TokenColumns()
    tokens = {"a": facts("a", scopes="read \ud800"), "b": facts("b", scopes="read \udc00", subject=None)}
    _, rows = table.rows(["a", "b"], tokens, KEY)
    scopes = table.categorical("scopes", rows, np.array([0, 1]))
    assert list(scopes.categories) == ["read \ufffd"]  # both lone surrogates read as U+FFFD: one category
    hashes = table.categorical("subject_hash", rows, np.array([0, 1])).astype(object).tolist()
    assert hashes[0].startswith("h:") and hashes[0] != "user-1" and pd.isna(hashes[1])


def test_a_full_table_starts_over() -> None:
    table = TokenColumns()
    table.LIMIT = 3
    table.rows(["a", "b"], {"a": facts("a"), "b": facts("b")}, KEY)
    _, rows = table.rows(["c", "d"], {"c": facts("c"), "d": facts("d")}, KEY)
    assert rows.tolist() == [0, 1]


def test_another_key_starts_over() -> None:
    table = TokenColumns()
    a = facts("a")
    first = table.categorical("subject_hash", table.rows(["a"], {"a": a}, KEY)[1], np.array([0]))
    other = table.categorical("subject_hash", table.rows(["a"], {"a": a}, b"o" * 32)[1], np.array([0]))
    assert list(first.categories) != list(other.categories)


@pytest.mark.parametrize("kind", [S.KIND_ID, S.KIND_ACCESS])
def test_code_of_a_value(kind: str) -> None:
    table = TokenColumns()
    _, rows = table.rows(["a"], {"a": facts("a", kind=kind)}, KEY)
    assert (table.col["kind"][rows] == table.code("kind", S.KIND_ID)).tolist() == [kind == S.KIND_ID]


def test_the_table_does_not_keep_facts_alive() -> None:
    import gc
    import weakref

    table = TokenColumns()
    a = facts("a")
    table.rows(["a"], {"a": a}, KEY)
    gone = weakref.ref(a)
    del a
    gc.collect()
    assert gone() is None
    _, rows = table.rows(["a"], {"a": facts("a")}, KEY)  # decoded again: a new row
    assert rows.tolist() == [1]
