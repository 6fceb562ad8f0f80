"""frames: the column helpers agree with the pandas operations they replace, categorical or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyzer.frames import among, categorical, first_of_each, missing, numbers, renumber, strings

VALUES = ["ok", None, "expired", "ok", None, "malformed"]


@pytest.mark.parametrize("make", [lambda v: pd.Series(categorical(v)), lambda v: pd.Series(strings(v)),
                                  lambda v: pd.Series(v, dtype=object)])
def test_missing_and_among_read_as_pandas_does(make) -> None:
    col = make(VALUES)
    assert missing(col).tolist() == col.isna().tolist()
    assert among(col, ("ok", "malformed")).tolist() == col.isin(["ok", "malformed"]).fillna(False).tolist()
    assert among(col, ()).tolist() == [False] * len(VALUES)


@pytest.mark.parametrize("col", [pd.Series(pd.array([200, None, 401], dtype="Int32")),
                                 pd.Series([200.0, np.nan, 401.0]), pd.Series(["200", None, "x"], dtype=object),
                                 pd.Series([True, False, True])])
def test_numbers_reads_what_to_numeric_coerces(col: pd.Series) -> None:
    want = pd.to_numeric(col, errors="coerce").to_numpy("float64", na_value=np.nan)
    np.testing.assert_array_equal(numbers(col), want)


def test_first_of_each_is_the_first_row_of_each_code() -> None:
    codes = np.array([3, -1, 0, 3, 5, 0, -1, 5, 1])
    want = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy() & (codes >= 0))
    assert first_of_each(codes).tolist() == want.tolist() == [0, 2, 4, 8]
    assert first_of_each(np.array([-1, -1])).tolist() == []
    assert first_of_each(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("codes", [[7, -1, 3, 7, -1, 0, 3], [-1, -1], [], [2, 2, 0]])
def test_renumber_is_factorize_keeping_missing(codes: list[int]) -> None:
    codes_ = np.array(codes, dtype=np.int32)
    number, old = renumber(codes_)
    valid = codes_ >= 0
    want, uniques = pd.factorize(codes_[valid])
    assert number[valid].tolist() == want.tolist() and old.tolist() == uniques.tolist()
    assert (number[~valid] == -1).all()
