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

    pandas would first infer the type of every value of a list or object array. Made `large_string`,
    which pandas' string arrays hold: a `string` array would be converted once more.
    """
    try:
        array = pa.array(values, pa.large_string())
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape (`"\\ud800"`) in a hostile claim
        array = pa.array(encodable(values), pa.large_string())
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


def missing(col: pd.Series) -> np.ndarray:
    """Where a column has no value, as a bool array (a categorical's from its codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return np.asarray(col.array.codes < 0)
    return np.asarray(col.isna().to_numpy(bool))


def among(col: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Where a column's value is one of `values` (never where it has none), as a bool array; a
    categorical's tested once per category, not once per row."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.array([c in values for c in col.array.categories] + [False], dtype=bool)
        return hit[col.array.codes]  # code -1 picks the trailing False
    return np.asarray(col.isin(values).to_numpy(bool, na_value=False))


def numbers(col: pd.Series) -> np.ndarray:
    """A column as float64, NaN where it has no number (what `pd.to_numeric(errors="coerce")` reads)."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return np.asarray(col.to_numpy("float64", na_value=np.nan))
    return np.asarray(pd.to_numeric(col, errors="coerce").to_numpy("float64", na_value=np.nan))


def first_of_each(codes: np.ndarray) -> np.ndarray:
    """The first row of each distinct code (-1, none, is skipped), in row order: what
    `~duplicated() & (codes >= 0)` selects, without hashing."""
    valid = np.flatnonzero(codes >= 0)
    if not len(valid):
        return valid
    first = np.full(int(codes[valid].max()) + 1, len(codes), dtype=np.int64)
    np.minimum.at(first, codes[valid], valid)
    return np.sort(first[first < len(codes)])


def renumber(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1: none) numbered anew in order of first appearance: (each row's new code, -1 kept; the
    old code of each new one). What `pd.factorize` gives of them, by indexing instead of hashing."""
    old = codes[first_of_each(codes)]
    new = np.full(int(old.max()) + 2 if len(old) else 1, -1, dtype=np.int64)
    new[old + 1] = np.arange(len(old))
    return new[codes + 1], old
