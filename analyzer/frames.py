"""Column types of the occurrence and event frames: Arrow-backed strings and categoricals.

Every stage that builds a frame (the scan's batches, classification, `inspect`) makes its string
columns here, so they share one dtype. Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Sequence

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
        array = pa.array(_encodable(values), pa.string())
    return pd.arrays.ArrowStringArray(array, dtype=STR)


def _encodable(values: Sequence[str | None] | np.ndarray | pa.Array) -> list[str | None]:
    """Strings that UTF-8 can hold: each lone surrogate becomes U+FFFD (the rest is unchanged)."""
    return [v.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if isinstance(v, str) else v
            for v in values]


def categorical(values: Sequence[str | None] | np.ndarray) -> pd.Categorical:
    """Strings as a categorical, dictionary-encoded by Arrow as it reads them: categories in the order
    they first appear."""
    try:
        encoded = pa.array(values, pa.dictionary(pa.int32(), pa.string()))
    except UnicodeEncodeError:  # as in `strings`
        encoded = pa.array(_encodable(values), pa.dictionary(pa.int32(), pa.string()))
    return pd.Categorical.from_codes(encoded.indices.fill_null(-1).to_numpy(), validate=False,
                                     categories=strings(encoded.dictionary))
