"""Column types of the occurrence and event frames: Arrow-backed strings and categoricals.

Every stage that builds a frame (the scan's batches, classification, `inspect`) makes its string
columns here, so they share one dtype. Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default string dtype


def strings(values: Sequence[str | None] | np.ndarray | pa.Array) -> pd.arrays.ArrowStringArray:
    """Strings as pandas' default string column, converted by Arrow in one call.

    pandas would first infer the type of every value of a list or object array.
    """
    try:
        array = pa.array(values, pa.string())
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape (`"\\ud800"`) in a hostile claim
        array = pa.array(encodable(values), pa.string())
    return pd.arrays.ArrowStringArray(array, dtype=STR)


def encodable(values: Sequence[str | None] | np.ndarray | pa.Array) -> list[str | None]:
    """Strings that UTF-8 can hold: each lone surrogate becomes U+FFFD (the rest is unchanged)."""
    return [v.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if isinstance(v, str) else v
            for v in values]


def categorical(values: Sequence[str | None] | np.ndarray) -> pd.Categorical:
    """Strings as a categorical, dictionary-encoded by Arrow as it reads them: categories in the order
    they first appear."""
    return from_codes(*encoded(values))


def encoded(values: Sequence[str | None] | np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Strings as (code per value, -1 where missing; the distinct strings in the order they first appear)."""
    try:
        array = pa.array(values, pa.dictionary(pa.int32(), pa.string()))
    except UnicodeEncodeError:  # as in `strings`
        array = pa.array(encodable(values), pa.dictionary(pa.int32(), pa.string()))
    return array.indices.fill_null(-1).to_numpy(zero_copy_only=False), array.dictionary


_UNCHECKED = getattr(pd.CategoricalDtype, "_from_fastpath", None)


def from_codes(codes: np.ndarray, values: pa.Array | Sequence[str]) -> pd.Categorical:
    """A categorical of codes (-1: missing) into distinct strings (an Arrow dictionary's, say).

    The values are distinct by construction, so pandas is not asked to check it: its check hashes
    every category again, which cost a batch more than the dictionary encoding itself. That way in
    is pandas' own (`_from_fastpath`, pandas 2.2 to 3.1); a pandas without it gets the checked one.
    """
    categories = strings(values)
    dtype = (_UNCHECKED(categories, False) if _UNCHECKED is not None
             else pd.CategoricalDtype(categories))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


NAT = np.iinfo(np.int64).min  # a missing time, as int64 epoch microseconds (numpy's NaT)


def utc_times(micros: np.ndarray) -> pd.DatetimeIndex:
    """Epoch microseconds (NAT: missing) as UTC times, without a conversion per value."""
    return pd.DatetimeIndex(micros.view("datetime64[us]")).tz_localize("UTC")


def coded(col: pd.Series) -> tuple[np.ndarray, Any]:
    """A column as (int64 code per row, -1 where missing; its distinct values, an Index or array):
    a categorical's own codes and categories, else factorized. What grouping by a column needs,
    without hashing a categorical's values again."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.array.codes.astype(np.int64), col.array.categories
    codes, values = pd.factorize(col)
    return codes.astype(np.int64), values
