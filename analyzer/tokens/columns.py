"""The facts of the tokens a process has classified, as columns: each token's row is made once.

A token recurs batch after batch (a client sends one token to every host for an hour), and reading
its facts out of its `TokenFacts` (seventeen attributes, its strings made categorical) cost
classification more than all its per-row work. `TokenColumns` keeps what classification needs of
each token as numpy columns (strings as codes into each column's distinct values), so a batch
finds its tokens' rows with one dictionary lookup per token and takes everything else by row.

Imports `frames`, `schema`, `tokens.decode` and `tokens.privacy`; nothing of classification.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from analyzer import schema as S
from analyzer.frames import NAT, encodable, from_codes, renumber, utc_times
from analyzer.tokens.decode import FactsMemo, TokenFacts
from analyzer.tokens.privacy import keyed_hash, load_key

BIT = {c: 1 << i for i, c in enumerate(S.CAUSES)}
STRING_FACTS = ("kind", "alg", "kid", "typ", "issuer", "audience", "client_id", "tenant_id", "version", "scopes",
                "roles", "subject_hash")
TIME_FACTS = ("exp", "nbf", "iat")
Judged = tuple[str, tuple[str, ...], "str | None", bool, "str | None"]  # what the audience and issuer checks see

# The facts a client's tokens share (they differ in little but their times and subject): read as one
# tuple per token in one C call, and coded once per distinct tuple (a
# "profile"), not once per token and column.
_SHARED = ("kind", "alg", "kid", "typ", "issuer", "audiences", "client_id", "tenant_id", "version", "scopes",
           "roles")
_SHARED_COLUMNS = tuple("audience" if c == "audiences" else c for c in _SHARED)  # the audiences coded as one
_shared = itemgetter(*_SHARED)
_KIND, _ISSUER, _AUDIENCES, _TENANT = (_SHARED.index(c) for c in ("kind", "issuer", "audiences", "tenant_id"))
_OWN = ("exp", "nbf", "iat", "has_nonce", "signature_checked", "failures", "subject")
_own = itemgetter(*_OWN)  # one C call per token, not one lookup per token and fact
_subject_hash = lru_cache(maxsize=1 << 14)(keyed_hash)  # a user's tokens recur: one HMAC per user


class TokenColumns:
    """Facts of tokens by row: string codes, epoch-µs times (NAT: none), failure bits, flags, judged key.

    A row stands for one `TokenFacts` object: a token decoded again (after a key refresh, or once
    the memo dropped it) gets a new row. Holds at most about LIMIT rows: past that it starts over, as the
    facts memo drops its oldest half, so memory stays bounded however many tokens a run sees.
    """

    LIMIT = FactsMemo.LIMIT  # a row per token the facts memo holds

    def __init__(self) -> None:
        self._key: bytes | None = None  # the hashing secret the subject hashes were made with
        self.clear()

    def clear(self) -> None:
        """Forget every row."""
        self._row: dict[str, int] = {}  # fingerprint -> its latest row
        # row -> the facts it was made of, weakly: the table does not keep facts the memo and caches let go.
        self._facts: list[weakref.ref[TokenFacts]] = []
        self._code: dict[str, dict[str | None, int]] = {c: {None: -1} for c in STRING_FACTS}  # value -> code
        self._text: dict[str, dict[str, int]] = {c: {} for c in STRING_FACTS}  # UTF-8-safe text -> code
        self.values: dict[str, list[str]] = {c: [] for c in STRING_FACTS}  # code -> text
        self._profile: dict[tuple[Any, ...], int] = {}  # the `_SHARED` facts of a token -> their number
        self._profiles: list[tuple[Any, ...]] = []
        self._profile_codes = np.empty((0, len(_SHARED)), np.int32)  # profile -> the codes of its facts
        self._judged: dict[Judged, int] = {}
        self.judged: list[Judged] = []  # judged number -> (kind, audiences, issuer, malformed, tenant)
        self.col: dict[str, np.ndarray] = {
            **{c: np.empty(0, np.int32) for c in STRING_FACTS},
            **{c: np.empty(0, np.int64) for c in TIME_FACTS},
            "bits": np.empty(0, np.int64),  # request-independent failures as cause bits
            "has_nonce": np.empty(0, bool),
            "signature_checked": np.empty(0, bool),
            "judged": np.empty(0, np.int64),  # number into `judged`
        }
        self._n = 0

    def rows(self, fps: Sequence[str], tokens: Mapping[str, TokenFacts],
             key: bytes = b"") -> tuple[list[TokenFacts], np.ndarray]:
        """(the facts, the row) of each token of `fps`, adding the ones without a row yet.

        `key` is the secret subjects are hashed with (none: the user's, `load_key`).
        """
        facts = [tokens[fp] for fp in fps]
        if key != self._key:
            self.clear()
            self._key = key
        have = self._facts
        rows = [self._row.get(fp, -1) for fp in fps]
        new = [i for i, (r, f) in enumerate(zip(rows, facts, strict=True)) if r < 0 or have[r]() is not f]
        if new and self._n + len(new) > self.LIMIT:
            self.clear()
            self._key = key
            rows, new = [-1] * len(fps), list(range(len(fps)))
        if new:
            first = self._n
            self._add([facts[i] for i in new])
            for row, i in enumerate(new, first):
                rows[i] = self._row[fps[i]] = row
        return facts, np.array(rows, dtype=np.int64)

    def _add(self, facts: list[TokenFacts]) -> None:
        """New rows for these facts, at the end."""
        k = len(facts)
        fields = list(map(vars, facts))  # a dict's items cost less than attributes (looked up in the class first)
        profiles = list(map(_shared, fields))
        got = dict(zip(_OWN, zip(*map(_own, fields), strict=True), strict=True))
        bits = np.array([_failure_bits(f) if f else 0 for f in got["failures"]], dtype=np.int64)
        number = self._profile
        fresh = [p for p in dict.fromkeys(profiles) if p not in number]
        if fresh:
            # Coded in the order the profiles first appear: each column's new values come in the order
            # they first appear, as when every token was coded.
            by_column = list(zip(*fresh, strict=True))
            codes = [self._codes(c, by_column[i], _joined if c == "audience" else None)
                     for i, c in enumerate(_SHARED_COLUMNS)]
            self._profile_codes = np.concatenate([self._profile_codes, np.column_stack(codes)])
            for p in fresh:
                number[p] = len(self._profiles)
                self._profiles.append(p)
        profile = np.fromiter(map(number.__getitem__, profiles), dtype=np.int64, count=k)
        shared = self._profile_codes[profile]
        subjects = got["subject"]
        if any(subjects):
            key = self._key or load_key()  # settings made without a run (inspect, tests) carry no key
            subject_hash = [_subject_hash(key, s) if s else None for s in subjects]
        else:
            subject_hash = [None] * k
        # What the audience and issuer checks judge of a token: its profile's, and whether it is malformed.
        pair, first = renumber(profile * 2 + ((bits & BIT[S.MALFORMED]) != 0))
        judged = self._judged
        numbers = []
        for key_pair in first.tolist():
            p = self._profiles[key_pair >> 1]
            seen = (p[_KIND], p[_AUDIENCES], p[_ISSUER], bool(key_pair & 1), p[_TENANT])
            if seen not in judged:
                judged[seen] = len(self.judged)
                self.judged.append(seen)
            numbers.append(judged[seen])
        new: dict[str, np.ndarray] = {
            **{c: shared[:, i] for i, c in enumerate(_SHARED_COLUMNS)},
            "subject_hash": self._codes("subject_hash", subject_hash),
            **{c: np.array([NAT if v is None else v for v in got[c]], dtype=np.int64) for c in TIME_FACTS},
            "bits": bits,
            "has_nonce": np.array(got["has_nonce"], dtype=bool),
            "signature_checked": np.array(got["signature_checked"], dtype=bool),
            "judged": np.array(numbers, dtype=np.int64)[pair],
        }
        n = self._n
        for name, values in new.items():
            col = self.col[name]
            if n + k > len(col):
                grown = np.empty(max(2 * len(col), n + k, 1024), dtype=col.dtype)
                grown[:n] = col[:n]
                self.col[name] = col = grown
            col[n:n + k] = values
        self._facts.extend(map(weakref.ref, facts))
        self._n = n + k

    def _codes(self, name: str, values: Sequence[Any], text: Callable[[Any], str | None] | None = None
               ) -> np.ndarray:
        """Codes of a column's values (-1: none), new ones added to its distinct texts: `text` of each
        (the value itself if none is given) made UTF-8-safe, once per distinct value."""
        code = self._code[name]
        fresh = [v for v in dict.fromkeys(values) if v not in code]
        if fresh:
            by_text, texts = self._text[name], self.values[name]
            for raw, shown in zip(fresh, _utf8_safe(fresh if text is None else [text(v) for v in fresh]),
                                  strict=True):
                if shown is None:
                    code[raw] = -1
                    continue
                number = code[raw] = by_text.setdefault(shown, len(texts))
                if number == len(texts):
                    texts.append(shown)
        return np.fromiter(map(code.__getitem__, values), dtype=np.int32, count=len(values))

    def code(self, name: str, value: str) -> int:
        """The code of a string fact's value (-2 if no row has it: a code no row has)."""
        return self._code[name].get(value, -2)

    def categorical(self, name: str, rows: np.ndarray, codes: np.ndarray) -> pd.Categorical:
        """A string fact per occurrence (`codes`: each occurrence's index into `rows`), as a categorical
        whose categories come in the order of the first token in `rows` that has them (in a batch's
        order of first appearance when `rows` is)."""
        local, distinct = renumber(self.col[name][rows])
        texts = self.values[name]
        return from_codes(local[codes], [texts[i] for i in distinct.tolist()])

    def times(self, name: str, rows: np.ndarray, codes: np.ndarray) -> pd.DatetimeIndex:
        """A time fact per occurrence, as UTC times."""
        return utc_times(self.col[name][rows][codes])


def _joined(audiences: tuple[str, ...]) -> str | None:
    """`TokenFacts.audience` of these audiences."""
    return ",".join(audiences) if audiences else None


def _utf8_safe(values: list[str | None]) -> list[str | None]:
    """The strings, each lone surrogate made U+FFFD (`frames.encodable`) if any has one: Parquet holds UTF-8."""
    try:
        "".join(v for v in values if v is not None).encode("utf-8")
    except UnicodeEncodeError:
        return encodable(values)
    return values


def _failure_bits(failures: tuple[tuple[str, str], ...]) -> int:
    """The cause bits of a token's request-independent failures."""
    return sum(BIT[c] for c, _ in failures) if failures else 0
