"""unverified_ok over an events dataset: only `ok` rows without a signature check, in the window, by reason."""

from __future__ import annotations

from pathlib import Path

import jwts as T
import pyarrow as pa
import pyarrow.parquet as pq

from analyzer import schema as S
from analyzer.diagnose.unverified import count, needs_keys, summary_line
from analyzer.tokens.keys import ASSERTION_REASON, GRAPH_REASON, KeyRing, KeySet

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
DAY = 86_400_000_000


def _write(path: Path, rows: list[tuple[str, bool, str | None, str, int]], dictionary: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cause, checked, iss, fp, ts = (list(c) for c in zip(*rows, strict=True))

    def col(values: list[str | None]) -> pa.Array:
        arr = pa.array(values, pa.string())
        return arr.dictionary_encode() if dictionary else arr

    pq.write_table(pa.table({
        "cause": col(cause), "signature_checked": pa.array(checked), "issuer": col(iss),
        "tenant_id": col([OTHER if i and OTHER in i else TENANT for i in iss]),
        "token_kind": col([S.KIND_ACCESS] * len(rows)), "audience": col(["api://orders"] * len(rows)),
        "token_fp": col(fp), "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
    }), path)


def test_counts_only_unchecked_oks_in_the_window(tmp_path: Path) -> None:
    events = tmp_path / "events"
    other = T.issuer_v2(OTHER)
    _write(events / "date=2026-11-01" / "a.parquet", [
        (S.OK, False, other, "f1", 1 * DAY), (S.OK, False, other, "f1", 1 * DAY + 5),
        (S.OK, True, T.issuer_v2(TENANT), "f2", 1 * DAY), (S.EXPIRED, False, other, "f3", 1 * DAY),
        (S.OK, False, None, "f4", 1 * DAY)], dictionary=True)
    _write(events / "date=2026-11-05" / "b.parquet", [(S.OK, False, other, "f5", 5 * DAY)], dictionary=False)
    ring = KeyRing([KeySet("https://idp/meta", "network", [{"kty": "RSA", "kid": "k"}], issuer=T.issuer_v2(TENANT))])
    got = count(events, ring)
    assert (got["count"], got["unique_tokens"]) == (4, 3)
    assert got["issuers"][0] == {"issuer": other, "count": 3,
                                 "reason": f"no key set for issuer {other}: add an [[issuer]] with its metadata_url"}
    assert got["issuers"][1]["issuer"] == "(none)" and got["issuers"][1]["count"] == 1
    assert count(events, ring, since_us=2 * DAY)["count"] == 1
    assert count(events, ring, until_us=2 * DAY)["count"] == 3
    line = summary_line(got)
    assert line is not None and line.startswith("4 ok token occurrences (3 unique) passed without a signature check")
    assert summary_line(count(tmp_path / "nothing", ring)) is None
    assert needs_keys(got)
    assert not needs_keys({"count": 2, "issuers": [{"issuer": "c", "count": 1, "reason": ASSERTION_REASON},
                                                  {"issuer": "g", "count": 1, "reason": GRAPH_REASON}]})
