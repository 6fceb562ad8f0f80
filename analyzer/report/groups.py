"""The report cube's questions answered on the categoricals' codes, in the order pandas' groupby gives.

A report asks its cube the same few questions many times (per dimension, per cause); a pandas
groupby costs a few milliseconds each however small the frame. Here the groups are found once on the
categories' integer codes (missing values a group of their own, after the others, as pandas has them)
and folded with `numpy.ufunc.reduceat`: the same values, in the same order, as the groupby they replace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyzer import schema as S
from analyzer.frames import NAT
from analyzer.report.data import DIMENSIONS

_FLAT_KEYS = [*DIMENSIONS, "cause"]


def without_period(cube: pd.DataFrame) -> pd.DataFrame:
    """The cube summed over its periods: one row per (dimensions, cause), with its occurrences and first
    and last time.

    Everything but the timeline asks per dimension or cause, and a cube of hours holds each of those
    groups many times: the questions are asked of a frame many times smaller. The groups are found
    on the categoricals' codes (`_categorical_groups`), in the order pandas' groupby gives them.
    """
    if cube.empty:
        return cube.drop(columns="period")
    order, starts = _categorical_groups(cube, _FLAT_KEYS)
    first_of = order[starts]
    out = {col: pd.Categorical.from_codes(cube[col].cat.codes.to_numpy()[first_of], dtype=cube[col].dtype)
           for col in _FLAT_KEYS}
    out["occurrences"] = np.add.reduceat(cube["occurrences"].to_numpy()[order], starts)
    out["first_seen"] = _reduce_times(cube["first_seen"], order, starts, np.minimum)
    out["last_seen"] = _reduce_times(cube["last_seen"], order, starts, np.maximum)
    return pd.DataFrame(out)


def group_sums(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    """What `rows.groupby(keys, observed=True, dropna=False)["occurrences"].sum()` gives, values and order,
    indexed by the groups' values (a tuple of them for several keys; NaN where missing), without a groupby."""
    order, starts = _categorical_groups(rows, keys)
    first_of = order[starts]
    # Each key's categories as objects, NaN after them for code -1: the values pandas' index holds.
    values = [np.append(np.asarray(rows[k].cat.categories, dtype=object), np.nan)[
        rows[k].cat.codes.to_numpy()[first_of]] for k in keys]
    index = pd.Index(list(zip(*values, strict=True)) if len(keys) > 1 else values[0], dtype=object,
                     tupleize_cols=False)
    return pd.Series(np.add.reduceat(rows["occurrences"].to_numpy()[order], starts), index=index, name="occurrences")


def _categorical_groups(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The frame's rows grouped by categorical columns (a missing value a group of its own), as
    `_groups` gives them: the groups in the order of pandas' groupby (by codes, missing last)."""
    key, bound = np.zeros(len(frame), dtype=np.int64), 1
    for col in columns:
        codes = frame[col].cat.codes.to_numpy().astype(np.int64)
        n = len(frame[col].cat.categories)
        if bound * (n + 1) >= 1 << 62:  # renumber the keys so far, in order, before they could overflow
            _, key = np.unique(key, return_inverse=True)
            bound = int(key.max()) + 1
        key = key * (n + 1) + np.where(codes < 0, n, codes)  # missing last, as pandas' groupby has it
        bound *= n + 1
    _, order, starts = _groups(key)
    return order, starts


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct keys in order, the rows ordered by key (each group's rows in row order), and where
    each group starts among them: what `np.ufunc.reduceat` folds groups with."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(key) else np.empty(0, np.int64)
    return ordered[starts], order, starts


def _reduce_times(times: pd.Series, order: np.ndarray, starts: np.ndarray, reduce: np.ufunc) -> pd.Series:
    """The earliest (`np.minimum`) or latest time of each group of rows (`order` from `starts` on);
    missing times left out, as pandas' groupby does (missing when all are)."""
    skip = np.iinfo(np.int64).max if reduce is np.minimum else NAT
    values = times.array.asi8[order]  # a missing time reads as the smallest int64
    got = reduce.reduceat(np.where(values == NAT, skip, values), starts)
    got[got == skip] = NAT
    return pd.Series(got.view(f"M8[{times.dtype.unit}]")).dt.tz_localize(times.dt.tz)


def per_owner(cube: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Per value of a dimension (missing last, in the order pandas' groupby gives them): its occurrences
    (`total`), failing occurrences and last time; on the value's codes, not by a groupby per table."""
    col = cube[dim]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, values = col.cat.codes.to_numpy().astype(np.int64), col.cat.categories
    else:
        codes, values = pd.factorize(col, sort=True)
    present, order, starts = _groups(np.where(codes < 0, len(values), codes))
    occurrences = cube["occurrences"].to_numpy()[order]
    failing = np.where((cube["cause"] != S.OK).to_numpy()[order], occurrences, 0)
    return pd.DataFrame({"total": np.add.reduceat(occurrences, starts), "failing": np.add.reduceat(failing, starts),
                         "last": _reduce_times(cube["last_seen"], order, starts, np.maximum).array},
                        index=pd.Index([values[i] if i < len(values) else None for i in present], dtype=object))
