"""Classify every occurrence: token facts joined with the request, checks as column operations.

Request-independent failures come from the token table (computed once per unique token).
What depends on the request (time window, the API called, how the token was presented) is
computed here over whole columns; audience and issuer are judged once per (API, token) pair.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analyzer import schema as S
from analyzer.config import ApiExpectation, Settings
from analyzer.frames import NAT, categorical, coded, from_codes, renumber, strings, utc_times
from analyzer.tokens import issuers
from analyzer.tokens.columns import BIT, TIME_FACTS, TokenColumns
from analyzer.tokens.decode import TokenFacts

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NO_TS_NOTE = "no time on the line: judged at the file's modification time"
DAY_US = 86_400_000_000
LAST_PLAUSIBLE_US = 7_258_118_400_000_000  # 2200-01-01: a later request time is a damaged line
Distinct = tuple[np.ndarray, list[Any]]  # (code of each row's value, -1 where missing; the distinct values)


def _distinct(col: pd.Series) -> Distinct:
    """A column as codes into its distinct values (a categorical's own)."""
    codes, uniques = coded(col)
    return codes, list(uniques)


def _test(distinct: Distinct, test: Callable[[Any], bool]) -> np.ndarray:
    """`test` of each row's value, run once per distinct value (False where the row has none)."""
    codes, values = distinct
    return np.array([test(v) for v in values] + [False], dtype=bool)[codes]  # -1 picks the trailing False


def _shown(seconds: np.ndarray) -> np.ndarray:
    """Durations rounded to what `humanize` shows of them (its text is the same for both), so that a
    text is made once per distinct text, not once per distinct second."""
    s = np.abs(np.trunc(seconds)).astype(np.int64)
    return np.select([s < 120, s < 7200, s < 172800],
                     [s, s - s % 60, s - s % 60], s - s % 3600)


def humanize(seconds: float) -> str:
    """A duration for people: `42 s`, `7 min`, `3 h 12 min`, `4 days 2 h`."""
    s = abs(int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} days {s % 86400 // 3600} h"


@lru_cache(maxsize=64)
def mask_causes(mask: int) -> tuple[str, list[str]]:
    """(primary cause, all causes) for a bit mask of failed checks."""
    causes = [c for c in S.FAILURE_CAUSES if mask & BIT[c]]
    return (causes[0] if causes else S.OK), causes


def issuer_detail(iss: str | None, accepted: tuple[str, ...], inferred: bool = False, tid: str | None = None) -> str:
    """Why `iss` is not accepted by an API (see analyzer.tokens.issuers.mismatch_detail)."""
    return issuers.mismatch_detail(iss, accepted, "inferred from accepted tokens" if inferred else "configured", tid)


def audience_detail(auds: tuple[str, ...], accepted: tuple[str, ...], inferred: bool = False) -> str:
    """Why `aud` is not accepted, naming Graph tokens and GUID vs App ID URI forms."""
    source = "inferred from accepted tokens" if inferred else "configured"
    shown = ", ".join(accepted)
    got = ", ".join(auds) or "(none)"
    if any(a in S.GRAPH_AUDIENCES for a in auds):
        return (f"a Microsoft Graph token (aud {got}) was sent to this API, which accepts {shown}: "
                "the client asked for the Graph scope instead of this API's scope")
    for a in auds:
        if _GUID.match(a) and any(x.lower().endswith(a.lower()) for x in accepted):
            return (f"aud {a} is the API's client-id GUID, but only the App ID URI form is accepted ({shown}): "
                    "accept both forms of the same app")
        if a.lower().startswith("api://") and any(_GUID.match(x) and a.lower().endswith(x.lower())
                                                  for x in accepted):
            return (f"aud {a} is the API's App ID URI, but only the client-id GUID form is accepted ({shown}): "
                    "accept both forms of the same app")
    if any(_GUID.match(a) for a in auds) and not any(_GUID.match(x) for x in accepted):
        return (f"aud {got} is a client-id GUID and the API accepts only App ID URIs ({shown}): if the GUID is "
                "this API's own app, accept both forms; otherwise the token is for another app")
    return f"aud {got} is not accepted by this API ({source}: {shown}): the token was requested for another resource"


def match_apis(occ: pd.DataFrame, apis: tuple[ApiExpectation, ...]) -> np.ndarray:
    """Index of the configured API each occurrence was sent to, or -1."""
    idx = np.full(len(occ), -1, dtype=np.int32)
    if not apis or occ.empty:
        return idx
    host, source = _distinct(occ["host"]), _distinct(occ["source"])  # few distinct values: tested once each
    # Nearly one path per row: tested by Arrow, and only when an API names a prefix.
    path = occ["path"].astype("string").fillna("/") if any(a.path_prefix != "/" for a in apis) else None
    for i, api in enumerate(apis):
        idx[(idx == -1) & _sent_to(api, host, source, path)] = i
    return idx


def _sent_to(api: ApiExpectation, host: Distinct, source: Distinct, path: pd.Series | None) -> np.ndarray:
    """Rows sent to `api`: by host (by source file where a line has no host), then by path prefix."""
    m = np.zeros(len(host[0]), dtype=bool)
    if api.hosts:
        m |= _test(host, lambda h: h.lower() in api.hosts)
    if api.sources:
        m |= _test(source, lambda s: any(fnmatch.fnmatch(s, g) or fnmatch.fnmatch(s, "*/" + g.lstrip("/"))
                                         for g in api.sources)) & (host[0] == -1)
    if path is not None and api.path_prefix != "/":
        m &= path.str.startswith(api.path_prefix).fillna(False).to_numpy(dtype=bool)
    return m


@lru_cache(maxsize=256)
def _normalized(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.rstrip("/").lower() for v in values)


def _accepts(accepted: tuple[str, ...], values: tuple[str, ...]) -> bool:
    norm = _normalized(accepted)
    return any(v.rstrip("/").lower() in norm for v in values)


@lru_cache(maxsize=1 << 14)  # tokens recur batch after batch
def pair_verdict(api: ApiExpectation, kind: str, audiences: tuple[str, ...], issuer: str | None,
                 malformed: bool, inferred: bool = False, tid: str | None = None) -> tuple[int, str, str]:
    """(cause bits, audience detail, issuer detail) of one token sent to one API.

    An accepted issuer may be the multi-tenant template (`…/{tenantid}/v2.0`): it is filled with the
    token's `tid`.
    """
    bits, ad, idt = 0, "", ""
    if kind in (S.KIND_ACCESS, S.KIND_UNKNOWN) and not malformed:
        if api.audiences and not _accepts(api.audiences, audiences):
            bits |= BIT[S.AUDIENCE_MISMATCH]
            ad = audience_detail(audiences, api.audiences, inferred)
        if api.issuers and not issuers.accepts(api.issuers, issuer, tid):
            bits |= BIT[S.ISSUER_MISMATCH]
            idt = issuer_detail(issuer, api.issuers, inferred, tid)
    return bits, ad, idt


WRONG_TYPE_DETAIL = ("an ID token was sent as a bearer access token: ID tokens prove a sign-in to the client and "
                     "are not meant for APIs")
MISSING_NONCE_DETAIL = "an ID token in a sign-in response carries no nonce claim: replay protection is off"


def expired_detail(seconds: float, leeway: int, moment: str = "the request") -> str:
    """`expired 3 h 2 min before the request (leeway 300 s)`."""
    return f"expired {humanize(seconds)} before {moment} (leeway {leeway} s)"


def early_detail(seconds: float, leeway: int, moment: str = "the request") -> str:
    """`not valid until 7 min after the request (leeway 300 s): a clock is off`."""
    return f"not valid until {humanize(seconds)} after {moment} (leeway {leeway} s): a clock is off"


def classify(occ: pd.DataFrame, tokens: Mapping[str, TokenFacts], settings: Settings,
             table: TokenColumns | None = None, *, moment: str = "the request") -> pd.DataFrame:
    """Add cause, causes, detail and the token's columns to a batch of occurrences.

    `moment` names the time the checks are judged at in `detail` (`analyzer inspect` has no request).

    Token facts come from `table` (the process's `TokenColumns`, which reads each token's facts
    once for all the batches it recurs in; a new one if none is given) and are spread over the rows
    with one `take` per column, so the per-row work is numpy's and Arrow's, not Python's. The token's
    strings become categoricals (no per-row strings at all), and so does `cause`, whose codes the
    run's counts, examples and observations group by. `detail` stays plain strings: `Diagnoser`
    rewrites it.
    """
    n = len(occ)
    token, categories = coded(occ["token_fp"])
    codes, present = renumber(token)  # the batch's tokens in order of first appearance
    fps_u = categories.take(present)
    table = TokenColumns() if table is None else table
    ufacts, rows_of = table.rows(fps_u.tolist(), tokens, settings.pii_key)  # tolist: Arrow's, not one at a time
    u = len(ufacts)
    col = {name: values[rows_of] for name, values in table.col.items()}  # each fact of the batch's tokens

    def per_row(values: np.ndarray) -> np.ndarray:
        return values[codes]

    # Request-independent failures, once per token.
    token_mask = col["bits"]
    mask = token_mask[codes]

    is_id = per_row(col["kind"] == table.code("kind", S.KIND_ID))
    param = _distinct(occ["param"])
    mask[is_id & _test(param, lambda p: p in S.BEARER_PARAMS)] |= BIT[S.WRONG_TOKEN_TYPE]
    has_nonce = per_row(col["has_nonce"])
    mask[is_id & _test(param, lambda p: p in S.SIGNIN_PARAMS) & ~has_nonce] |= BIT[S.MISSING_NONCE]

    # Time window, judged at the request time (or the file's mtime when the line has none).
    ts = occ["ts"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        impossible = (ts < 0) | (ts >= LAST_PLAUSIBLE_US)
    if impossible.any():
        # A line dated 0001 or 9999 is damaged, not a request: judged as a line without a time, and kept
        # out of the dataset's times (which hold nanoseconds from 1677 to 2262 only).
        occ = occ.assign(ts=occ["ts"].mask(impossible))
        ts = np.where(impossible, np.nan, ts)
    no_ts = np.isnan(ts)
    when = np.where(no_ts, occ["mtime_us"].to_numpy(dtype="float64"), ts)
    leeway = settings.leeway_seconds * 1e6
    exp = per_row(_float_times(col["exp"]))
    nbf = _float_times(col["nbf"])
    start = per_row(np.where(np.isnan(nbf), _float_times(col["iat"]), nbf))
    past = (when - exp) / 1e6
    with np.errstate(invalid="ignore"):
        expired = (when - exp) > leeway
        early = (start - when) > leeway
    mask[expired] |= BIT[S.EXPIRED]
    mask[early] |= BIT[S.NOT_YET_VALID]

    # Audience and issuer: once per (API, what of a token they judge), which few tokens differ in.
    api_idx = match_apis(occ, settings.apis)
    pair = (api_idx.astype(np.int64) + 1) * (u + 1) + codes  # each row's (API, token) pair as one number
    # What the checks judge of each token, (kind, audiences, issuer, malformed, tid), as the table
    # numbered it: few tokens differ in it.
    keys = table.judged
    judged_as = col["judged"]
    verdicts: dict[tuple[int, int], tuple[int, str, str]] = {}  # (API index + 1, judged number) -> verdict
    if settings.apis and n:
        pairs, _ = _small_unique((api_idx.astype(np.int64) + 1) * len(keys) + judged_as[codes])
        bits = np.zeros((len(settings.apis) + 1) * len(keys), dtype=np.int64)
        for key in pairs.tolist():
            i, j = divmod(key, len(keys))
            if i == 0:
                continue
            kind, auds, iss, malformed, tid = keys[j]
            verdicts[i, j] = pair_verdict(settings.apis[i - 1], kind, auds, iss, malformed, tid=tid)
            bits[key] = verdicts[i, j][0]
        mask |= bits[(api_idx.astype(np.int64) + 1) * len(keys) + judged_as[codes]]

    # Primary cause, once per distinct mask; its detail once per distinct text.
    masks, mask_code = _small_unique(mask)
    per_mask = [mask_causes(int(m)) for m in masks]

    def detail(p: str, rows: np.ndarray) -> tuple[np.ndarray | int, list[str]]:
        """The detail of these rows, whose primary cause is p: (each row's number in the list, the texts)."""
        if p == S.EXPIRED:
            return _per_key(_shown(past[rows]), lambda s: expired_detail(s, settings.leeway_seconds, moment))
        if p == S.NOT_YET_VALID:
            return _per_key(_shown((start[rows] - when[rows]) / 1e6),
                            lambda s: early_detail(s, settings.leeway_seconds, moment))
        if p == S.WRONG_TOKEN_TYPE:
            return 0, [WRONG_TYPE_DETAIL]
        if p == S.MISSING_NONCE:
            return 0, [MISSING_NONCE_DETAIL]

        def own(code: int) -> str:
            """The token's request-independent detail."""
            return next((d for q, d in ufacts[code].failures if q == p), "")

        if p in (S.AUDIENCE_MISMATCH, S.ISSUER_MISMATCH):

            def pair_detail(key: int) -> str:
                """The API's verdict, else the token's own (an issuer no configured provider knows)."""
                i, code = divmod(key, u + 1)
                _, ad, idt = verdicts.get((i, int(judged_as[code])), (0, "", ""))
                return (ad if p == S.AUDIENCE_MISMATCH else idt) or own(code)

            return _per_key(pair[rows], pair_detail)
        return _per_key(codes[rows], own)

    # Each distinct detail made once, as text; each row keeps the number of its own.
    texts = [""]
    detail_of = np.zeros(n, dtype=np.int64)
    # The rows of each primary cause, in row order: one stable sort by the primary's number.
    primaries = list(dict.fromkeys(p for p, _ in per_mask))
    primary = np.array([primaries.index(p) for p, _ in per_mask], dtype=np.int64)[mask_code]
    by_primary = np.argsort(primary, kind="stable")
    bounds = np.searchsorted(primary[by_primary], np.arange(len(primaries) + 1))
    for i, p in enumerate(primaries):
        if p != S.OK:
            rows = by_primary[bounds[i]:bounds[i + 1]]
            number, made = detail(p, rows)
            detail_of[rows] = len(texts) + number
            texts.extend(made)
    if no_ts.any():
        number, made = _per_key(detail_of[no_ts], lambda d: f"{texts[d]}; {NO_TS_NOTE}" if texts[d] else NO_TS_NOTE)
        detail_of[no_ts] = len(texts) + number
        texts.extend(made)

    names = [a.name for a in settings.apis] + [None]
    # One new frame (inserting column by column rebuilds the column index each time).
    out = {c: occ[c] for c in occ.columns if c != "mtime_us"}
    out |= {
        "ts": utc_times(occ["ts"].to_numpy("int64", na_value=NAT)),
        # The line's UTC day, as Arrow dates: no Python date object per row.
        "date": pd.arrays.ArrowExtensionArray(pa.array((when // DAY_US).astype(np.int32)).view(pa.date32())),
        **{name: table.categorical(name, rows_of, codes) for name in ("kind", *_TOKEN_STRINGS)},
        **{name: table.times(name, rows_of, codes) for name in TIME_FACTS},
        "cause": from_codes(primary, primaries),
        # Every failing check, as an Arrow list column: one list per distinct mask, taken per row.
        "causes": pd.arrays.ArrowExtensionArray(pa.array([cs for _, cs in per_mask], pa.list_(pa.string()))
                                                .take(mask_code)),
        "detail": strings(texts).take(detail_of),
        "signature_checked": per_row(col["signature_checked"]),
        "subject_hash": table.categorical("subject_hash", rows_of, codes),
        "seconds_past_exp": past,
        "api": categorical(names).take(api_idx),  # -1 (no API) picks the trailing None
    }
    out["token_kind"] = out.pop("kind")
    order = [*(c for c in occ.columns if c != "mtime_us"), *_OUT_COLUMNS]
    return pd.DataFrame({c: out[c] for c in dict.fromkeys(order)}, index=occ.index, copy=False)


_TOKEN_STRINGS = ("alg", "kid", "typ", "issuer", "audience", "client_id", "tenant_id", "version", "scopes", "roles")
_OUT_COLUMNS = ("ts", "date", "token_kind", *_TOKEN_STRINGS, "exp", "nbf", "iat", "cause", "causes", "detail",
                "signature_checked", "subject_hash", "seconds_past_exp", "api")


def _float_times(micros: np.ndarray) -> np.ndarray:
    """Epoch microseconds (NAT: missing) as float64, NaN where missing."""
    return np.where(micros == NAT, np.nan, micros.astype(np.float64))


def _small_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` of small non-negative integers (cause bits, pair
    numbers), by counting instead of sorting."""
    distinct = np.flatnonzero(np.bincount(values)) if len(values) else np.zeros(0, dtype=np.int64)
    number = np.zeros(int(distinct[-1]) + 1 if len(distinct) else 0, dtype=np.int64)
    number[distinct] = np.arange(len(distinct))
    return distinct, number[values]


def _per_key(keys: np.ndarray, text: Callable[[Any], str]) -> tuple[np.ndarray, list[str]]:
    """text(key) once per distinct key: (each row's number in the list, the texts)."""
    number, distinct = pd.factorize(keys)  # hashed, not sorted: the texts' order is of no matter
    return number, [text(k) for k in distinct.tolist()]


def recheck(ev: pd.DataFrame, expectations: list[ApiExpectation | None], notes: list[str]) -> pd.DataFrame:
    """Judge classified rows again, adding audience and issuer checks against per-row (inferred) expectations.

    `expectations[i]` is what row i's host is inferred to accept (None: nothing was learned, so the
    checks stay skipped) and `notes[i]` says so in `detail` when the primary cause does not change.
    Works on event columns alone, so it needs no token facts.
    """
    out = ev.copy()
    n = len(out)
    old = [list(c) if c is not None else [] for c in out["causes"].tolist()]
    mask = np.fromiter((sum(BIT[c] for c in cs if c in BIT) for cs in old), dtype=np.int64, count=n)
    auds = [tuple(a.split(",")) if isinstance(a, str) and a else () for a in out["audience"].astype("object")]
    iss = [i if isinstance(i, str) else None for i in out["issuer"].astype("object")]
    kinds = [str(k) for k in out["token_kind"].astype("object")]
    tids = ([t if isinstance(t, str) else None for t in out["tenant_id"].astype("object")]
            if "tenant_id" in out else [None] * n)
    cache: dict[tuple[int, str, tuple[str, ...], str | None, bool, str | None], tuple[int, str, str]] = {}
    verdicts: list[tuple[int, str, str]] = []
    for row in range(n):
        api = expectations[row]
        if api is None:
            verdicts.append((0, "", ""))
            continue
        key = (id(api), kinds[row], auds[row], iss[row], bool(mask[row] & BIT[S.MALFORMED]), tids[row])
        if key not in cache:
            cache[key] = pair_verdict(api, key[1], key[2], key[3], key[4], inferred=True, tid=key[5])
        verdicts.append(cache[key])
    mask |= np.fromiter((v[0] for v in verdicts), dtype=np.int64, count=n)
    details = out["detail"].astype("object").where(out["detail"].notna(), "").tolist()
    no_ts = out["ts"].isna().tolist()
    primary, causes = [], []
    for row in range(n):
        p, cs = mask_causes(int(mask[row]))
        primary.append(p)
        causes.append(cs)
        before = old[row][0] if old[row] else S.OK
        if p != before and p in (S.AUDIENCE_MISMATCH, S.ISSUER_MISMATCH):
            d = verdicts[row][1] if p == S.AUDIENCE_MISMATCH else verdicts[row][2]
            if "inferred" not in d and notes[row]:
                d = f"{d} ({notes[row]})"
            details[row] = f"{d}; {NO_TS_NOTE}" if no_ts[row] else d
        elif notes[row]:
            details[row] = f"{details[row]}; {notes[row]}" if details[row] else notes[row]
    out["cause"] = primary
    out["causes"] = causes
    out["detail"] = details
    return out
