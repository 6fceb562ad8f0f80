"""Tokens that passed as `ok` without a signature check: how many, of which issuers, and why.

Counted over the events dataset (the same window as the summary and the report), so that the
number a user reads in run.json, in the `--json` summary and on the report's first screen is the
number of `ok` rows in the data whose `signature_checked` is false.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer import schema as S
from analyzer.scan.inputs import shown
from analyzer.tokens.keys import ASSERTION_REASON, GRAPH_REASON, KeyRing, unverified_reason

_COLUMNS = ["cause", "signature_checked", "issuer", "tenant_id", "token_kind", "audience", "token_fp", "ts"]
NO_ISSUER = "(none)"


def _ok_unchecked(table: Any) -> Any:
    """The mask of rows whose cause is `ok` and whose signature was not checked."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cause = table.column("cause").combine_chunks()
    if pa.types.is_dictionary(cause.type):
        # Compared by dictionary code: no string per row.
        where = cause.dictionary.to_pylist()
        ok = pc.equal(cause.indices, where.index(S.OK)) if S.OK in where else pa.nulls(len(cause), pa.bool_())
    else:
        ok = pc.equal(cause, S.OK)
    unchecked = pc.invert(pc.fill_null(table.column("signature_checked"), False))
    return pc.fill_null(pc.and_(ok, unchecked), False)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_KEYS = ("issuer", "tenant_id", "token_kind", "audience")


def _codes(batch: Any, name: str) -> tuple[Any, list[Any]]:
    """A column as (dictionary codes, the values they stand for): rows are grouped by code, no string per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.int32()), []
    col = batch.column(name).combine_chunks()
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col.cast(pa.string()))
    return col.indices, col.dictionary.to_pylist()


class Unverified:
    """run.json's `unverified_ok`, folded table by table (a `TableFold`: in a run it rides along the
    summary's pass over the dataset).

    Rows are grouped by Arrow (a run without keys has every `ok` row here); the reason is made once
    per distinct (issuer, tenant, kind, audience), when the count is asked for.
    """

    columns = _COLUMNS
    coded = ()

    def __init__(self) -> None:
        self._groups: dict[tuple[str | None, str | None, str, bool], int] = {}
        self._fps: set[str] = set()

    def add(self, table: Any, codes: Any = None) -> None:
        """Fold in one table of events (of the window): its `ok` rows whose signature was not checked.

        (`codes`, a pass's `KeyCodes`, are not needed: these few rows are grouped by their own.)
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if not {"cause", "signature_checked"} <= set(table.column_names):
            return  # written before signatures were checked: nothing to count
        keep = _ok_unchecked(table)
        if not pc.any(keep).as_py():
            return
        batch = table.filter(keep)
        coded = [_codes(batch, k) for k in _KEYS]
        grouped = pa.table({k: codes for k, (codes, _) in zip(_KEYS, coded, strict=True)})
        for row in grouped.group_by(list(_KEYS)).aggregate([([], "count_all")]).to_pylist():
            iss, tid, kind, aud = (None if row[k] is None else values[row[k]]
                                   for k, (_, values) in zip(_KEYS, coded, strict=True))
            aud = _text(aud)
            graph = bool(aud) and any(a in S.GRAPH_AUDIENCES for a in (aud or "").split(","))
            group = (_text(iss), _text(tid), str(kind or S.KIND_UNKNOWN), graph)
            self._groups[group] = self._groups.get(group, 0) + int(row["count_all"])
        codes, values = _codes(batch, "token_fp")
        self._fps.update(values[i] for i in pc.unique(codes).to_pylist() if i is not None and values[i])

    def result(self, ring: KeyRing) -> dict[str, Any]:
        """{count, unique_tokens, issuers: [{issuer, count, reason}]}, largest first."""
        entries: dict[tuple[str, str], int] = {}
        for (iss, tid, kind, graph), n in self._groups.items():
            reason = unverified_reason(ring, iss, tid, kind, graph)
            entry = (iss or NO_ISSUER, reason)
            entries[entry] = entries.get(entry, 0) + n
        issuers = [{"issuer": iss, "count": n, "reason": reason}
                   for (iss, reason), n in sorted(entries.items(), key=lambda kv: (-kv[1], kv[0]))]
        return {"count": sum(self._groups.values()), "unique_tokens": len(self._fps), "issuers": issuers}


def count(events_dir: Path, ring: KeyRing, since_us: int | None = None, until_us: int | None = None) -> dict[str, Any]:
    """run.json's `unverified_ok` of an events dataset (or a time window), in a pass of its own."""
    from analyzer.outputs.aggregate import iter_event_tables

    fold = Unverified()
    for _, table in iter_event_tables(events_dir, fold.columns, since_us, until_us):
        fold.add(table)
    return fold.result(ring)


def summary_line(unverified: dict[str, Any]) -> str | None:
    """One line for stderr at the end of a scan, or None when every `ok` had its signature checked."""
    n = unverified.get("count", 0)
    if not n:
        return None
    entries = unverified.get("issuers", [])
    line = (f"{n:,} ok token occurrence{'s' if n != 1 else ''} ({unverified.get('unique_tokens', 0):,} unique) "
            "passed without a signature check")
    if entries:
        top = entries[0]
        line += f": {top['count']:,} from {_inert(top['issuer'])} ({_inert(top['reason'], 400)})"
        if len(entries) > 1:
            line += f", and {len(entries) - 1} more (run.json: unverified_ok)"
    return line


def needs_keys(unverified: dict[str, Any]) -> bool:
    """Whether giving the analyzer more keys would check any of these: client assertions and Graph
    tokens cannot be checked with any key a user has, so they are a note, not a warning."""
    return any(not isinstance(e, dict) or e.get("reason") not in (ASSERTION_REASON, GRAPH_REASON)
               for e in unverified.get("issuers") or [])


def _inert(text: Any, limit: int = 120) -> str:
    """A value from a token (its `iss`) as one inert line on a terminal: control characters escaped, bounded."""
    value = shown(str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"
