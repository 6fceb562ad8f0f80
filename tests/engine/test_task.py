"""engine.task.scan_task: one task's units scanned, classified and folded in this process (no whole run).

Real nginx logs on tmp_path with tokens from the test factory; the key ring is empty, so signatures
are not checked and the causes come from the claims and the line's time.
"""

from __future__ import annotations

import gzip
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import jwts as T
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analyzer import schema as S
from analyzer.config import Settings
from analyzer.engine import plan as P
from analyzer.engine import task as K
from analyzer.engine.plan import WorkUnit, bundle, plan
from analyzer.engine.task import UnitOutput, WorkerContext, scan_task
from analyzer.outputs.write import write_parts
from analyzer.scan import chunks as CH
from analyzer.scan.inputs import InputFile
from analyzer.tokens.decode import fingerprint
from analyzer.tokens.keys import KeyRing

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
KEY = T.make_rsa_key("task-k1")
TS = "[10/Oct/2024:13:55:36 +0000]"
AT = int(datetime(2024, 10, 10, 13, 55, 36, tzinfo=UTC).timestamp())  # the lines' time


def token(seed: int, age: int) -> str:
    """A signed user access token issued `age` seconds before the lines' time (valid for an hour)."""
    return T.sign(T.access_token_claims(TENANT, "api://orders", CLIENT, scp="read", seed=seed, iat=AT - age), KEY)


OK = [token(i, 600) for i in range(5)]
EXPIRED = [token(100 + i, 7200) for i in range(2)]
MALFORMED = [T.truncate(token(200, 600), 60), "eyJhbGciOiJSUzI1NiJ9.eyJ4Ijo.xx"]


def nginx_line(tok: str, status: int = 200, host: str | None = None) -> str:
    """An nginx combined line with a bearer token; with `host`, the Apache vhost form that names it."""
    vhost = f"{host}:443 " if host else ""
    return f'{vhost}10.0.0.1 - - {TS} "GET /orders HTTP/1.1" {status} 5 "-" "curl/8" "Bearer {tok}"\n'


def entry(path: Path) -> InputFile:
    st = os.stat(path)
    return InputFile(str(path), st.st_size, st.st_mtime, st.st_dev, st.st_ino)


def write_log(path: Path, lines: list[str]) -> InputFile:
    path.write_text("".join(lines))
    return entry(path)


def mixed_lines() -> list[str]:
    """Ten token occurrences (6 ok, one token twice; 2 expired; 2 malformed) and a line without a token."""
    toks = [*OK, *EXPIRED, *MALFORMED]
    no_token = f'10.0.0.9 - - {TS} "GET / HTTP/1.1" 200 1 "-" "curl/8" "-"\n'
    return [*(nginx_line(t) for t in toks[:5]), no_token, *(nginx_line(t) for t in toks[5:]), nginx_line(OK[0], 401)]


def ctx(sink: tuple[Path, str] | None = None) -> WorkerContext:
    return WorkerContext(Settings(offline=True), KeyRing(), sink)


def events(out: UnitOutput) -> pd.DataFrame:
    return pd.concat(out.events, ignore_index=True) if out.events else pd.DataFrame()


def token_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, token fingerprint) of each bearer token, counted here."""
    return [(n, fingerprint(line.rsplit("Bearer ", 1)[1].rstrip('"\n').encode()))
            for n, line in enumerate(lines, 1) if "Bearer " in line]


# --------------------------------------------------------------------------- without a sink


def test_one_file_counts_its_occurrences_by_cause(tmp_path: Path) -> None:
    f = write_log(tmp_path / "a.log", mixed_lines())
    (out,) = scan_task(plan([f]), ctx())
    assert out.counts.cause_counts() == {S.OK: 6, S.EXPIRED: 2, S.MALFORMED: 2}
    assert out.counts.rows == 10 == out.result.tokens


def test_tokens_holds_each_distinct_token_once_with_its_kind(tmp_path: Path) -> None:
    f = write_log(tmp_path / "a.log", mixed_lines())
    (out,) = scan_task(plan([f]), ctx())
    want = {fingerprint(t.encode()): S.KIND_ACCESS for t in OK + EXPIRED}
    want |= {fingerprint(t.encode()): "unknown" for t in MALFORMED}
    assert out.tokens == want


def test_file_result_counts_the_lines_and_bytes_read(tmp_path: Path) -> None:
    lines = mixed_lines()
    f = write_log(tmp_path / "a.log", lines)
    (out,) = scan_task(plan([f]), ctx())
    assert (out.result.path, out.result.format) == (f.name, S.FMT_NGINX)
    assert (out.result.stats.lines, out.result.stats.bytes_read) == (len(lines), f.size)
    assert out.result.stats.errors == []


def test_events_are_the_occurrences_with_their_file_line_numbers(tmp_path: Path) -> None:
    lines = mixed_lines()
    f = write_log(tmp_path / "a.log", lines)
    (out,) = scan_task(plan([f]), ctx())
    ev = events(out)
    assert list(zip(ev["line"], ev["token_fp"], strict=True)) == token_lines(lines)
    assert set(ev["source"]) == {f.name}
    assert ev["cause"].value_counts().to_dict() == out.counts.cause_counts()
    assert out.held == [] and out.held_file is None


def test_examples_are_the_first_tokens_of_each_cause_at_most_examples_per_cause(tmp_path: Path) -> None:
    f = write_log(tmp_path / "a.log", mixed_lines())
    (out,) = scan_task(plan([f]), ctx())
    shown = {c: [e["token_fp"] for e in exs] for c, exs in out.counts.examples.items()}
    fps = [fingerprint(t.encode()) for t in OK]
    assert S.EXAMPLES_PER_CAUSE == 3 and shown[S.OK] == fps[:3]  # five ok tokens, the first three kept
    assert len(shown[S.EXPIRED]) == len(shown[S.MALFORMED]) == 2
    # The full facts of those candidates travel with the output, and no others.
    assert set(out.examples) == {fp for exs in shown.values() for fp in exs}
    assert all(out.examples[fp].fp == fp for fp in out.examples)


def test_a_task_offers_the_same_examples_whatever_its_process_scanned_before(tmp_path: Path) -> None:
    a = write_log(tmp_path / "a.log", [nginx_line(t) for t in OK[:3]])
    b = write_log(tmp_path / "b.log", [nginx_line(t) for t in [*EXPIRED, *OK]])
    shared = ctx()
    scan_task(plan([a]), shared)  # the process decoded OK[:3] for an earlier task
    (after,) = scan_task(plan([b]), shared)
    (alone,) = scan_task(plan([b]), ctx())
    assert after.counts.examples == alone.counts.examples
    assert set(after.examples) == set(alone.examples) == {fingerprint(t.encode()) for t in [*EXPIRED, *OK[:3]]}


def test_two_small_files_in_one_task_share_their_batches_but_count_apart(tmp_path: Path) -> None:
    la = [nginx_line(t) for t in OK[:3]]
    lb = ["no token here\n", *(nginx_line(t) for t in EXPIRED), nginx_line(OK[0])]
    a, b = write_log(tmp_path / "a.log", la), write_log(tmp_path / "b.log", lb)
    units = plan([a, b])
    assert bundle(units) == [units]
    first, last = scan_task(units, ctx())
    assert [(o.result.path, o.result.stats.lines, o.result.stats.bytes_read, o.result.tokens) for o in (first, last)] \
        == [(a.name, 3, a.size, 3), (b.name, 4, b.size, 3)]
    # What the rows add up to rides on the task's last output.
    assert first.counts.rows == 0 and first.events == [] and first.tokens == {}
    assert last.counts.cause_counts() == {S.OK: 4, S.EXPIRED: 2}
    ev = events(last)
    assert list(zip(ev["source"], ev["line"], strict=True)) == [(a.name, 1), (a.name, 2), (a.name, 3),
                                                                (b.name, 2), (b.name, 3), (b.name, 4)]


def test_rejected_rows_at_a_host_without_config_are_held_back_not_counted(tmp_path: Path) -> None:
    lines = [nginx_line(OK[0], 200, "orders.example"), nginx_line(EXPIRED[0], 401, "orders.example"),
             nginx_line(OK[1], 200, "orders.example")]
    f = write_log(tmp_path / "v.log", lines)
    (out,) = scan_task(plan([f]), ctx())
    held = pd.concat(out.held)
    assert held["line"].tolist() == [2] and held["cause"].tolist() == [S.EXPIRED]
    assert events(out)["line"].tolist() == [1, 3]
    assert out.counts.cause_counts() == {S.OK: 2}
    assert out.tokens == {fingerprint(t.encode()): S.KIND_ACCESS for t in (OK[0], EXPIRED[0], OK[1])}


# --------------------------------------------------------------------------- ranges and resumed files


def many_lines(n: int, seed: int = 3) -> list[str]:
    """n lines: tokens on most (the same few again and again), some without, of varied length."""
    rng = random.Random(seed)
    pool = [*OK, *EXPIRED]
    return [nginx_line(rng.choice(pool)) if rng.random() < 0.8 else "x" * rng.randrange(400) + "\n"
            for _ in range(n)]


def scan_units(units: list[WorkUnit]) -> list[tuple[int, str]]:
    """(line, token fingerprint) of every row, each unit scanned as a task of its own."""
    rows = []
    for u in units:
        for out in scan_task([u], ctx()):
            ev = events(out)
            rows += list(zip(ev["line"], ev["token_fp"], strict=True)) if not ev.empty else []
    return rows


def test_byte_ranges_of_a_plain_file_give_its_rows_with_their_line_numbers(tmp_path: Path) -> None:
    lines = many_lines(60)
    f = write_log(tmp_path / "big.log", lines)
    units = plan([f], range_bytes=9000)
    assert len(units) >= 5
    assert scan_units(units) == token_lines(lines)


def test_content_ranges_of_a_gzip_file_give_its_rows_with_their_line_numbers(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "COMPRESSED_RANGE_BYTES", 9000)
    lines = many_lines(60, seed=4)
    (tmp_path / "big.log.gz").write_bytes(gzip.compress("".join(lines).encode()))
    units = plan([entry(tmp_path / "big.log.gz")])
    assert len(units) >= 5 and all(u.count_from == 0 for u in units)
    assert scan_units(units) == token_lines(lines)


def test_a_resumed_file_gives_only_the_rows_after_what_was_read(tmp_path: Path) -> None:
    lines = many_lines(60, seed=5)
    f = write_log(tmp_path / "grown.log", lines)
    read = 33  # an earlier run read the first 33 lines
    offset = len("".join(lines[:read]).encode())
    units = plan([f], range_bytes=9000, resume_at={0: offset}, base_at={0: read})
    assert scan_units(units) == [r for r in token_lines(lines) if r[0] > read]


def rows_of(batches: list[pd.DataFrame]) -> list[dict[str, object]]:
    """The batches' rows as plain values (each batch's categoricals have categories of their own)."""
    return [r for b in batches for r in pa.Table.from_pandas(b, preserve_index=False).to_pylist()]


def test_a_batch_ends_once_it_decoded_batch_tokens_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of tokens each used once (client assertions, sign-in posts) make batches of BATCH_TOKENS new
    tokens, not of BATCH_ROWS rows: every stage holds the facts of a batch's tokens while it lives. The
    rows are the same whatever the batches."""
    lines = [nginx_line(token(300 + i, 600)) for i in range(12)]  # 12 tokens, each once
    files = [write_log(tmp_path / f"{n}.log", lines[3 * n:3 * n + 3]) for n in range(4)]
    task = plan(files)  # small files: one task, their rows joined into batches
    whole = scan_task(task, ctx())[-1].events
    monkeypatch.setattr(CH, "BATCH_TOKENS", 5)
    split = scan_task(task, ctx())[-1].events
    assert [len(b) for b in whole] == [12]
    assert [len(b) for b in split] == [6, 6]  # a file's 3 tokens at a time: due at 6 >= 5
    assert rows_of(split) == rows_of(whole)


# --------------------------------------------------------------------------- with a sink


def test_with_a_sink_rows_go_to_part_files_and_no_events_come_back(tmp_path: Path) -> None:
    lines = mixed_lines()
    f = write_log(tmp_path / "a.log", lines)
    stage = tmp_path / "stage"
    (out,) = scan_task(plan([f]), ctx((stage, "run1")))
    assert out.events == [] and out.held == [] and out.held_file is None
    parts = sorted((stage / "events").rglob("*.parquet"))
    assert [p.relative_to(stage).as_posix() for p in parts] == ["events/date=2024-10-10/part-run1-u000000.parquet"]
    ev = pd.read_parquet(parts[0])
    assert list(zip(ev["line"], ev["token_fp"], strict=True)) == token_lines(lines)
    assert out.counts.cause_counts() == {S.OK: 6, S.EXPIRED: 2, S.MALFORMED: 2}


def test_with_a_sink_a_task_of_several_batches_writes_one_part_file_per_date(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch is a row group of its date's file, not a file: the rows read back as a file per batch
    gave them, though each row group has dictionaries of its own."""
    monkeypatch.setattr(CH, "BATCH_ROWS", 9)  # small files' rows are joined into batches of 9 or more
    rng = random.Random(8)
    files = [write_log(tmp_path / f"{n}.log", [
        line.replace(TS, "[11/Oct/2024:01:02:03 +0000]") if rng.random() < 0.4 else line
        for line in many_lines(15, seed=n)]) for n in range(8)]
    task = plan(files)  # small files: one task
    stage = tmp_path / "stage"
    scan_task(task, ctx((stage, "run1")))
    parts = sorted((stage / "events").rglob("*"))
    assert [p.relative_to(stage).as_posix() for p in parts if p.is_file()] == [
        "events/date=2024-10-10/part-run1-u000000.parquet", "events/date=2024-10-11/part-run1-u000000.parquet"]
    # What a file per batch held (as before): the batches the task gives without a sink, written one by one.
    alone = scan_task(task, ctx())[-1]
    for n, batch in enumerate(alone.events):
        write_parts(tmp_path / "each", "run1", f"b{n:04d}", batch)
    for day in ("2024-10-10", "2024-10-11"):
        got = pq.ParquetFile(stage / "events" / f"date={day}" / "part-run1-u000000.parquet")
        each = sorted((tmp_path / "each" / "events" / f"date={day}").glob("*.parquet"))
        assert got.metadata.num_row_groups == len(each) > 2
        assert got.read().to_pylist() == [r for p in each for r in pq.read_table(p).to_pylist()]
        groups = [got.read_row_group(g, columns=["token_fp"]).column(0).chunk(0).dictionary
                  for g in range(got.metadata.num_row_groups)]
        assert len({tuple(d.to_pylist()) for d in groups}) > 1


def test_with_a_sink_a_failing_task_still_closes_its_part_files(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The batches written before the error are a complete file under its name (no hidden half left open)."""
    monkeypatch.setattr(CH, "BATCH_ROWS", 9)
    files = [write_log(tmp_path / f"{n}.log", many_lines(15, seed=n)) for n in range(8)]
    calls = []

    def classify_twice(*args: object) -> pd.DataFrame:
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("disk on fire")
        return classify(*args)  # type: ignore[arg-type]

    classify = K.classify
    monkeypatch.setattr(K, "classify", classify_twice)
    stage = tmp_path / "stage"
    with pytest.raises(RuntimeError, match="disk on fire"):
        scan_task(plan(files), ctx((stage, "run1")))
    (day,) = (stage / "events").iterdir()
    assert [p.name for p in day.iterdir()] == ["part-run1-u000000.parquet"]
    assert pq.ParquetFile(day / "part-run1-u000000.parquet").metadata.num_row_groups == 2


def test_with_a_sink_held_rows_go_to_a_pending_file(tmp_path: Path) -> None:
    lines = [nginx_line(OK[0], 200, "orders.example"), nginx_line(EXPIRED[0], 401, "orders.example")]
    f = write_log(tmp_path / "v.log", lines)
    stage = tmp_path / "stage"
    stage.mkdir()
    (out,) = scan_task(plan([f]), ctx((stage, "run1")))
    assert out.held == [] and out.held_file is not None and out.held_file.parent == stage
    assert pd.read_parquet(out.held_file)["line"].tolist() == [2]
    assert pd.read_parquet(stage / "events")["line"].tolist() == [1]
