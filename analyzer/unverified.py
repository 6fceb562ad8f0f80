"""Tokens that passed as `ok` without a signature check: how many, of which issuers, and why.

Counted over the events dataset (the same window as the summary and the report), so that the
number a user reads in run.json, in the `--json` summary and on the report's first screen is the
number of `ok` rows in the data whose `signature_checked` is false.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analyzer import schema as S
from analyzer.keys import KeyRing, unverified_reason

_COLUMNS = ["cause", "signature_checked", "issuer", "tenant_id", "token_kind", "audience", "token_fp", "ts"]
NO_ISSUER = "(none)"


def _batches(events_dir: Path, since_us: int | None, until_us: int | None) -> Iterator[Any]:
    """The events' `ok` rows whose signature was not checked, as Arrow record batches (file by file:
    flat memory, like the summary's reader)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not events_dir.is_dir():
        return
    for path in sorted(events_dir.glob("date=*/*.parquet")):
        pf = pq.ParquetFile(path, pre_buffer=False)
        have = [c for c in _COLUMNS if c in set(pf.schema_arrow.names)]
        if "cause" not in have or "signature_checked" not in have:
            continue
        for batch in pf.iter_batches(batch_size=1 << 16, columns=have, use_threads=False):
            keep = pc.and_(pc.equal(batch.column("cause").cast("string"), S.OK),
                           pc.invert(pc.fill_null(batch.column("signature_checked"), False)))
            if (since_us is not None or until_us is not None) and "ts" in have:
                ts = pc.cast(batch.column("ts"), "int64")
                keep = pc.and_(keep, pc.is_valid(ts))
                if since_us is not None:
                    keep = pc.and_(keep, pc.greater_equal(ts, since_us))
                if until_us is not None:
                    keep = pc.and_(keep, pc.less(ts, until_us))
            batch = batch.filter(keep)
            if batch.num_rows:
                yield batch


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_KEYS = ("issuer", "tenant_id", "token_kind", "audience")


def _plain(batch: Any, name: str) -> Any:
    """A column as plain strings (nulls where the dataset has no such column)."""
    import pyarrow as pa

    if name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    col = batch.column(name)
    return col.dictionary_decode() if pa.types.is_dictionary(col.type) else col.cast(pa.string())


def count(events_dir: Path, ring: KeyRing, since_us: int | None = None, until_us: int | None = None) -> dict[str, Any]:
    """run.json's `unverified_ok`: {count, unique_tokens, issuers: [{issuer, count, reason}]}, largest first.

    Rows are grouped by Arrow (a run without keys has every `ok` row here); the reason is made once
    per distinct (issuer, tenant, kind, audience).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    groups: dict[tuple[str | None, str | None, str, bool], int] = {}
    fps: set[str] = set()
    for batch in _batches(events_dir, since_us, until_us):
        table = pa.table({k: _plain(batch, k) for k in _KEYS})
        for row in table.group_by(list(_KEYS)).aggregate([([], "count_all")]).to_pylist():
            aud = _text(row["audience"])
            graph = bool(aud) and any(a in S.GRAPH_AUDIENCES for a in (aud or "").split(","))
            group = (_text(row["issuer"]), _text(row["tenant_id"]), str(row["token_kind"] or S.KIND_UNKNOWN), graph)
            groups[group] = groups.get(group, 0) + int(row["count_all"])
        if "token_fp" in batch.schema.names:
            fps.update(v for v in pc.unique(_plain(batch, "token_fp")).to_pylist() if v)
    entries: dict[tuple[str, str], int] = {}
    for (iss, tid, kind, graph), n in groups.items():
        reason = unverified_reason(ring, iss, tid, kind, graph)
        entry = (iss or NO_ISSUER, reason)
        entries[entry] = entries.get(entry, 0) + n
    issuers = [{"issuer": iss, "count": n, "reason": reason}
               for (iss, reason), n in sorted(entries.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"count": sum(groups.values()), "unique_tokens": len(fps), "issuers": issuers}


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
        line += f": {top['count']:,} from {top['issuer']} ({top['reason']})"
        if len(entries) > 1:
            line += f", and {len(entries) - 1} more (run.json: unverified_ok)"
    return line
