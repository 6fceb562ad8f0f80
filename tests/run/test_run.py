"""End to end on the bundled sample logs: every cause found where the generator put it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SHARED

from analyzer import schema as S
from analyzer.config import build_settings
from analyzer.diagnose import unverified
from analyzer.run import run
from analyzer.tokens.keystore import load_keyring

SAMPLES = ROOT / "sample_logs"
TRUTH = ROOT / "tests" / "data" / "sample_truth.csv"


def _scan(out: Path, workers: int) -> dict:
    settings = build_settings(None, [str(SAMPLES)], out_dir=out, workers=workers)
    return run(settings, [str(SAMPLES)]).summary


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    import analyzer.engine.plan as E

    out = tmp_path_factory.mktemp("sample") / "out"
    with pytest.MonkeyPatch.context() as mp:
        # The sample files are small enough to make one task: smaller tasks put both workers to use.
        mp.setattr(E, "BUNDLE_BYTES", 256 << 10)
        return out, _scan(out, workers=2)


@pytest.mark.whole_run
def test_sample_run_shows_every_cause(sample_run) -> None:
    _, summary = sample_run
    assert all(summary["tokens"]["by_cause"][c] > 0 for c in S.CAUSES), summary["tokens"]["by_cause"]
    assert summary["exit_code"] == 0


@pytest.mark.whole_run
def test_sample_causes_match_the_truth(sample_run) -> None:
    out, _ = sample_run
    ev = pd.read_parquet(out / "events")
    truth = pd.read_csv(TRUTH)
    ev["rel"] = [str(Path(s).relative_to(SAMPLES)) for s in ev["source"].astype(str)]
    got = ev[["rel", "line", "cause", "location"]].astype({"cause": str, "location": str})
    merged = truth.merge(got, left_on=["source", "line"], right_on=["rel", "line"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    wrong = merged[(merged["cause_x"] != merged["cause_y"]) | (merged["location_x"] != merged["location_y"])]
    assert wrong.empty, wrong.head(10).to_string()


CHECKER = SHARED / "tools" / "check_outputs.py"


@pytest.mark.whole_run
@pytest.mark.skipif(not CHECKER.exists(), reason="the shared contract checker (../shared) is not beside this clone")
def test_sample_outputs_pass_the_contract_checker(sample_run) -> None:
    out, _ = sample_run
    r = subprocess.run([sys.executable, str(CHECKER), str(out), str(SAMPLES)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert "FAIL" not in r.stdout


@pytest.mark.whole_run
def test_output_is_the_same_for_any_worker_count(sample_run, tmp_path: Path) -> None:
    out2, _ = sample_run
    out1 = tmp_path / "w1"
    _scan(out1, workers=1)
    cols = [c for c in S.EVENT_COLUMNS if c != "causes"]

    def events(d: Path) -> pd.DataFrame:
        ev = pd.read_parquet(d / "events")[cols].astype(str)
        return ev.sort_values(["source", "line", "token_fp"], ignore_index=True)

    pd.testing.assert_frame_equal(events(out1), events(out2))
    s1 = pd.read_parquet(out1 / "summary.parquet").astype(str).sort_values(list(S.SUMMARY_KEYS), ignore_index=True)
    s2 = pd.read_parquet(out2 / "summary.parquet").astype(str).sort_values(list(S.SUMMARY_KEYS), ignore_index=True)
    pd.testing.assert_frame_equal(s1, s2)
    # The examples too, header and claims included: which process decoded a token first must not matter.
    assert (out1 / "examples.json").read_text() == (out2 / "examples.json").read_text()


@pytest.mark.whole_run
def test_large_plain_file_split_in_ranges_keeps_line_numbers(tmp_path: Path, monkeypatch) -> None:
    """A file cut into byte ranges gives the same events (and line numbers) as one read whole."""
    from analyzer.engine import plan as engine

    src = SAMPLES / "nginx" / "orders-access.log"
    big = tmp_path / "logs" / "big.log"
    big.parent.mkdir()
    big.write_bytes(src.read_bytes() * 3)
    (tmp_path / "logs" / "analyzer.toml").write_bytes((SAMPLES / "analyzer.toml").read_bytes())
    (tmp_path / "logs" / "jwks.json").write_bytes((SAMPLES / "jwks.json").read_bytes())
    whole = tmp_path / "whole"
    run(build_settings(None, [str(big.parent)], out_dir=whole, workers=1), [str(big.parent)])
    monkeypatch.setattr(engine, "RANGE_BYTES", 100_000)
    one = engine.InputFile(str(big), big.stat().st_size, 0.0)
    assert len(engine.plan([one])) > 5
    # Line bases counted on two processes are the ones counted here.
    assert [u.line_base for u in engine.plan([one], workers=2)] == [u.line_base for u in engine.plan([one])]
    split = tmp_path / "split"
    run(build_settings(None, [str(big.parent)], out_dir=split, workers=2), [str(big.parent)])
    a = pd.read_parquet(whole / "events")[["line", "token_fp", "cause"]].astype(str)
    b = pd.read_parquet(split / "events")[["line", "token_fp", "cause"]].astype(str)
    key = ["line", "token_fp"]
    pd.testing.assert_frame_equal(a.sort_values(key, ignore_index=True), b.sort_values(key, ignore_index=True))
    lines = big.read_bytes().split(b"\n")
    for line_no in b["line"].astype(int).sample(20, random_state=1):
        assert b"eyJ" in lines[line_no - 1]


@pytest.mark.whole_run
def test_a_token_in_the_path_or_user_agent_is_not_written_out(tmp_path: Path) -> None:
    """`path` and `user_agent` come from the line: a token standing in them is replaced, not copied."""
    import jwts as T

    key = T.make_rsa_key("k1")
    tok = T.sign(T.access_token_claims("t", "api://x", "c", iat=1_795_000_000, exp=1_795_003_600), key)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(
        f'10.0.0.1 - - [18/Nov/2026:11:06:40 +0000] "GET /callback/{tok}/done HTTP/1.1" 302 0 "-" "ua {tok}"\n')
    out = tmp_path / "out"
    run(build_settings(None, [str(logs)], out_dir=out, workers=1), [str(logs)])
    ev = pd.read_parquet(out / "events")
    assert len(ev) == 2
    assert set(ev["path"].astype(str)) == {"/callback/[token]/done"}
    assert set(ev["user_agent"].astype(str)) == {"ua [token]"}
    sig = tok.rsplit(".", 1)[1].encode()
    assert not any(sig in p.read_bytes() for p in out.rglob("*") if p.is_file())


@pytest.mark.whole_run
def test_the_report_carries_the_diagnosis(sample_run, tmp_path: Path) -> None:
    """Clocks, refresh habits and the server-vs-analyzer agreement reach the report, per owner too."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    out, summary = sample_run
    html = (out / "report.html").read_text()
    assert 'id="diagnosis"' in html
    assert "does not refresh" in html and "warehouse-scanner" in html
    assert "IDX10223" in html
    late = next(c for c in summary["clients"] if c["behaviour"] == "not_refreshing")
    r = CliRunner().invoke(app, ["report", str(out), "--split-by", "client", "--out", str(tmp_path / "by")])
    assert r.exit_code == 0, r.output
    pages = {p.read_text(): p for p in (tmp_path / "by").glob("*.html") if p.name != "index.html"}
    mine = [t for t in pages if late["client_id"] in t and "does not refresh" in t]
    assert mine, "the late client's own report names its habit"
    others = [t for t in pages if late["client_id"] not in t]
    assert others and all("warehouse-scanner" not in t for t in others)


@pytest.mark.whole_run
def test_examples_of_held_back_rows_have_their_header_and_claims(sample_run) -> None:
    """Client assertions and ID tokens (judged at the end, at hosts without config) get decoded examples too."""
    import json

    out, _ = sample_run
    examples = json.loads((out / "examples.json").read_text())
    for cause in (S.CLIENT_ASSERTION_KEY_MISMATCH, S.MISSING_NONCE, S.WRONG_TOKEN_TYPE):
        assert examples[cause] and all(e["header"] and e["claims"] for e in examples[cause]), cause
    assert all("x5t" in e["header"] for e in examples[S.CLIENT_ASSERTION_KEY_MISMATCH])
    roles = [e["claims"]["roles"] for exs in examples.values() for e in exs if "roles" in e["claims"]]
    assert roles and all(isinstance(r, list) for r in roles)  # a list, not "['Orders.Admin']"


def test_units_run_largest_first_whatever_the_worker_count() -> None:
    """LPT order by the bytes a unit yields; equal costs keep the input order; ranges count their own size."""
    from analyzer.engine.plan import WorkUnit, schedule
    from analyzer.scan.inputs import InputFile

    small, big = InputFile("a.log", 10, 0.0), InputFile("b.log", 100, 0.0)
    gz = InputFile("c.log.gz", 30, 0.0)  # 30 compressed bytes that decompress to 300
    also_small = InputFile("d.log", 10, 0.0)
    ranged = InputFile("e.log", 1000, 0.0)
    units = [WorkUnit(small, 0), WorkUnit(big, 1), WorkUnit(gz, 2, cost=300), WorkUnit(also_small, 3),
             WorkUnit(ranged, 4, start=0, end=50), WorkUnit(ranged, 5, start=50)]
    assert [u.index for u in schedule(units)] == [5, 2, 1, 4, 0, 3]


def _streamed_zstd(body: bytes) -> bytes:
    """zstd as a pipe writes it: no content size in the frame header."""
    import zstandard

    cobj = zstandard.ZstdCompressor().compressobj()
    return cobj.compress(body) + cobj.flush()


@pytest.mark.parametrize("codec", ["gzip", "zstd-sized", "zstd-streamed", "xz", "bz2", "plain"])
def test_plan_weighs_a_compressed_file_by_its_decompressed_size(tmp_path: Path, codec: str) -> None:
    """The planner reads the size a file records (gzip trailer, zstd frame header), else samples its
    ratio; an archive that decompresses to many times its size runs before a larger plain file."""
    import bz2
    import gzip
    import lzma
    import random

    import zstandard

    from analyzer.engine.plan import plan, schedule
    from analyzer.scan.inputs import expand_inputs
    from analyzer.scan.readers import UNKNOWN_RATIO, content_size

    rng = random.Random(7)
    words = [f"GET /api/orders/{i} HTTP/1.1 200".encode() for i in range(50)]
    body = b"\n".join(rng.choice(words) + b" %d" % rng.randrange(10**6) for _ in range(60_000)) + b"\n"
    pack = {"gzip": gzip.compress, "zstd-sized": zstandard.ZstdCompressor().compress,
            "zstd-streamed": _streamed_zstd, "xz": lzma.compress, "bz2": bz2.compress, "plain": bytes}[codec]
    data = pack(body)
    archive = tmp_path / "a.log.1"  # named like a plain file: the magic bytes tell
    archive.write_bytes(data)
    estimate = content_size(str(archive), len(data))
    if codec in ("gzip", "zstd-sized", "plain"):
        assert estimate == len(body)  # recorded
    elif codec == "bz2":
        assert estimate == len(data) * UNKNOWN_RATIO  # no output before a whole block: a typical ratio
    else:
        assert codec == "xz" or zstandard.frame_content_size(data[:18]) == -1
        assert 0.5 * len(body) < estimate < 2 * len(body)  # sampled
    bigger = len(data) * (5 if codec != "plain" else 2)  # on disk; less than the archive yields, unless plain
    (tmp_path / "b.log").write_bytes(b"x" * bigger)
    order = [Path(u.file.path).name for u in schedule(plan(expand_inputs([str(tmp_path)]).files))]
    assert order == (["b.log", "a.log.1"] if codec == "plain" else ["a.log.1", "b.log"])


@pytest.mark.whole_run
def test_progress_counts_bytes_of_log_a_compressed_file_by_its_decompressed_size(tmp_path: Path) -> None:
    """The meter's total is what will be read (not bytes on disk), it only grows, and it ends full."""
    import gzip

    logs = tmp_path / "logs"
    logs.mkdir()
    line = b'10.0.0.1 - - [20/Nov/2026:05:01:07 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl/8"\n'
    plain, packed = line * 3000, line * 9000
    (logs / "access.log").write_bytes(plain)
    (logs / "access.log.1.gz").write_bytes(gzip.compress(packed))
    seen: list[tuple[int, int, int, int]] = []
    settings = build_settings(None, [str(logs)], out_dir=tmp_path / "out", workers=2)
    run(settings, [str(logs)], progress=lambda *counts: seen.append(counts))
    assert seen and {total for _, total, _, _ in seen} == {len(plain) + len(packed)}
    dones = [done for done, _, _, _ in seen]
    assert dones == sorted(dones) and dones[-1] == len(plain) + len(packed)
    files = [(done, total) for _, _, done, total in seen]
    assert files[-1] == (2, 2) and [d for d, _ in files] == sorted(d for d, _ in files)


def _events(out: Path) -> pd.DataFrame:
    cols = [c for c in S.EVENT_COLUMNS if c != "causes"]
    return pd.read_parquet(out / "events")[cols].astype(str).sort_values(["source", "line", "token_fp"],
                                                                         ignore_index=True)


@pytest.mark.whole_run
def test_many_small_files_share_batches_and_keep_their_own_lines(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small rotated files are scanned in bundles: far fewer part files, and every row keeps its
    own file and line, the same as when each file is a task of its own, on any number of workers."""
    import analyzer.engine.plan as E

    logs = tmp_path / "logs"
    logs.mkdir()
    lines = (SAMPLES / "nginx" / "orders-access.log").read_bytes().splitlines(keepends=True)
    for i in range(0, 600, 20):  # 30 files
        (logs / f"access-{i:06d}.log").write_bytes(b"".join(lines[i:i + 20]))

    def scan(name: str, workers: int, bundle_bytes: int) -> tuple[pd.DataFrame, int]:
        monkeypatch.setattr(E, "BUNDLE_BYTES", bundle_bytes)
        out = tmp_path / name
        run(build_settings(None, [str(logs)], out_dir=out, workers=workers), [str(logs)])
        return _events(out), len(list((out / "events").rglob("*.parquet")))

    alone, alone_parts = scan("alone", 2, 1)  # every file a task of its own
    bundled, bundled_parts = scan("bundled", 2, 256 << 10)
    single, _ = scan("single", 1, 256 << 10)
    assert len(alone) > 120 and alone["source"].nunique() > 25
    pd.testing.assert_frame_equal(alone, bundled)
    pd.testing.assert_frame_equal(alone, single)
    assert bundled_parts * 4 <= alone_parts
    # Line numbers are each file's own: the first line of every file is line 1.
    first = bundled.assign(line=bundled["line"].astype(int)).groupby("source")["line"].min()
    assert (first <= 20).all() and (bundled["line"].astype(int) <= 20).all()


def _w3c_archive() -> bytes:
    """An IIS log whose field list changes a third of the way in, a token on most lines."""
    from analyzer.scan.extract import TOKEN_RE

    tokens = [t.decode() for t in TOKEN_RE.findall((SAMPLES / "nginx" / "orders-access.log").read_bytes())]
    head_a = ("#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method "
              "cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status "
              "sc-substatus sc-win32-status time-taken\n")
    head_b = "#Fields: date time cs-host s-ip cs-method cs-uri-stem cs-uri-query c-ip sc-status cs(User-Agent)\n"
    out = [head_a]
    for i in range(1000):
        out.append(f"2026-11-26 00:{i // 60 % 60:02d}:{i % 60:02d} 10.0.0.4 GET /api/a{i} "
                   f"access_token={tokens[i % len(tokens)]} 443 - 203.0.113.{i % 250} curl/8 - 200 0 0 15\n")
    out.append(head_b)
    for i in range(2000):
        out.append(f"2026-11-26 01:{i // 60 % 60:02d}:{i % 60:02d} orders.contoso.com 10.0.0.4 POST /api/b{i} "
                   f"access_token={tokens[(7 * i) % len(tokens)]} 198.51.100.{i % 250} 401 okhttp/4.12\n")
        if i % 5 == 0:
            out.append(f"2026-11-26 01:{i // 60 % 60:02d}:{i % 60:02d} orders.contoso.com 10.0.0.4 GET "
                       f"/health - 198.51.100.9 200 kube-probe\n")
    return "".join(out).encode()


@pytest.mark.whole_run
@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_a_large_archive_is_read_in_ranges_with_the_rows_of_a_whole_read(tmp_path: Path, codec: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """One big compressed file is cut into ranges of its content, each worker decompressing up to its
    own: rows, line numbers and the W3C field list in force are those of reading it whole."""
    import gzip

    import zstandard

    import analyzer.engine.plan as E
    from analyzer.scan.inputs import expand_inputs

    data = _w3c_archive()
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "u_ex261126.log.1").write_bytes(gzip.compress(data) if codec == "gzip"
                                              else zstandard.ZstdCompressor().compress(data))

    def scan(name: str, range_bytes: int, workers: int) -> pd.DataFrame:
        monkeypatch.setattr(E, "COMPRESSED_RANGE_BYTES", range_bytes)
        run(build_settings(None, [str(logs)], out_dir=tmp_path / name, workers=workers), [str(logs)])
        return _events(tmp_path / name)

    monkeypatch.setattr(E, "COMPRESSED_RANGE_BYTES", len(data) // 6)
    units = E.plan(expand_inputs([str(logs)]).files)
    assert len(units) == 7 and all(u.count_from == 0 for u in units)  # 6 and a bit: the last reads to the end
    whole = scan("whole", 1 << 40, 1)
    ranged = scan("ranged", len(data) // 6, 2)
    assert len(whole) == 3000 and whole["host"].eq("orders.contoso.com").sum() == 2000
    pd.testing.assert_frame_equal(whole, ranged)
    assert sorted(ranged["line"].astype(int)) == sorted(whole["line"].astype(int))




def _fixed_clock() -> float:
    return 1_795_000_000.0  # 2026-11-18T11:06:40Z; a module-level function, as Settings.clock must be (it pickles)


@pytest.mark.whole_run
def test_runs_at_a_fixed_clock_keep_each_others_events(tmp_path: Path) -> None:
    """Settings.clock fixes "now" (for tests), never a run's identity: two runs in one process at the same
    fixed time get their own run ids, so the second's part files do not overwrite the first's."""
    import dataclasses
    import sqlite3

    lines = (SAMPLES / "nginx" / "orders-access.log").read_bytes().splitlines(keepends=True)
    logs, out = tmp_path / "logs", tmp_path / "out"
    logs.mkdir()
    (logs / "a.log").write_bytes(b"".join(lines[:300]))
    first = run(dataclasses.replace(build_settings(None, [str(logs)], out_dir=out), clock=_fixed_clock),
                [str(logs)]).summary
    (logs / "b.log").write_bytes(b"".join(lines[300:600]))
    second = run(dataclasses.replace(build_settings(None, [str(logs)], out_dir=out), clock=_fixed_clock),
                 [str(logs)]).summary
    assert first["run_id"] != second["run_id"]
    assert first["tokens"]["occurrences"] > 0 and second["tokens"]["occurrences"] > 0
    assert second["dataset"]["total_occurrences"] == first["tokens"]["occurrences"] + second["tokens"]["occurrences"]
    assert len(_events(out)) == second["dataset"]["total_occurrences"]
    assert first["started_at"] == second["started_at"] == "2026-11-18T11:06:40+00:00"
    with sqlite3.connect(out / "state.sqlite") as db:
        assert {r[0] for r in db.execute("SELECT finished_at FROM runs")} == {_fixed_clock()}


@pytest.mark.whole_run
@pytest.mark.parametrize("windowed", [False, True])
def test_the_summary_pass_gives_the_report_and_the_count_what_their_own_passes_give(
        sample_run, windowed: bool) -> None:
    """A run reads the events once: the report's data and the unverified count ride along the summary's pass
    (and the dataset's rows come from its footers). Each gives what a pass of its own gives."""
    import pyarrow.parquet as pq

    from analyzer.outputs.aggregate import summary_days
    from analyzer.outputs.write import part_files
    from analyzer.report import data as D

    out, _ = sample_run
    since = until = None
    if windowed:  # the middle third of the events' times
        whole = pd.concat(list(summary_days(out / "events")))
        first, last = (int(pd.Timestamp(t).value // 1000)
                       for t in (whole["first_seen"].min(), whole["last_seen"].max()))
        since, until = first + (last - first) // 3, last - (last - first) // 3
    ring = load_keyring(build_settings(None, [str(SAMPLES)], out_dir=out))
    scan, unchecked = D.EventsScan(out, since, until), unverified.Unverified()
    footers: list[int] = []
    days = list(summary_days(out / "events", since, until, (scan, unchecked), footers))
    alone = list(summary_days(out / "events", since, until))
    assert len(days) == len(alone) and days
    for a, b in zip(days, alone, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert sum(footers) == sum(pq.read_metadata(part).num_rows for part in part_files(out / "events"))
    assert unchecked.result(ring) == unverified.count(out / "events", ring, since, until)
    a, b = D.ReportData.load(out, {}, scanned=scan.result(), since_us=since, until_us=until), \
        D.ReportData.load(out, {}, since_us=since, until_us=until)
    pd.testing.assert_frame_equal(a.cube, b.cube)
    assert a.samples is not None and b.samples is not None
    pd.testing.assert_frame_equal(a.samples, b.samples)
    assert (a.unique_tokens, a.grain, a.unique_by.keys()) == (b.unique_tokens, b.grain, b.unique_by.keys())
    assert len(a.cube) > 10
