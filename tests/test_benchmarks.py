"""Smoke test of the benchmark scripts (benchmarks/): a tiny corpus, every tool once.

The real benchmark is slow and not part of the suite; this only proves the scripts still work.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _bench(module: str) -> Any:
    """A script of benchmarks/ (a folder, not a package), imported with it on sys.path for a moment."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.whole_run
def test_make_corpus_and_run_tiny(tmp_path: Path) -> None:
    make_corpus = _bench("make_corpus").make_corpus
    corpus = tmp_path / "c"
    man = make_corpus(corpus, 2_000_000, seed=3, quiet=True)
    assert 1_800_000 < man["bytes"] < 2_600_000
    assert (corpus / "analyzer.toml").exists() and (corpus / "jwks.json").exists()
    names = {f["path"] for f in man["files"]}
    assert all(any(n.endswith(ext) for n in names) for ext in (".gz", ".zst", ".bz2"))
    formats = {f["format"] for f in man["files"]}
    assert len(formats) == 14 and {"nginx", "envoy", "json", "iis", "alb", "syslog", "app"} <= formats
    assert set(man["by_format"]) == formats and abs(sum(v["share"] for v in man["by_format"].values()) - 1) < 1e-3
    assert man["lines"] > 1.5 * man["tokens"] > 0  # most lines carry no token (App Gateway logs its twice)
    assert set(man["occurrences_by_cause"]) >= {"ok", "expired"}
    assert sum(man["occurrences_by_cause"].values()) == man["tokens"]
    assert sum(man["unique_by_cause"].values()) == man["unique_tokens"] < man["tokens"]
    if shutil.which("rg") is not None:  # every occurrence the manifest counts is one rg finds, bz2 included
        rg = subprocess.run(["rg", "--no-config", "-o", "-z", "-c", _bench("run").RG_PATTERN, str(corpus / "logs")],
                            capture_output=True, text=True, check=True)
        assert sum(int(line.rsplit(":", 1)[1]) for line in rg.stdout.splitlines()) == man["tokens"]

    naive = subprocess.run(
        [sys.executable, str(BENCH / "naive_baseline.py"), str(corpus / "logs"), "--jwks",
         str(corpus / "jwks.json"), "--config", str(corpus / "analyzer.toml")],
        capture_output=True, text=True, check=True, timeout=300,
    )
    stats = json.loads(naive.stdout)
    assert stats["tokens"] == man["tokens"] and stats["lines"] == man["lines"]

    out = tmp_path / "results.json"
    cmd = [sys.executable, str(BENCH / "run.py"), "--size", "2MB", "--corpus-root", str(tmp_path / "root"),
           "--workers", "1", "--naive-sample", "1MB", "--retry-wait", "1", "--json-out", str(out)]
    if shutil.which("rg") is None:
        cmd.append("--no-rg")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "analyzer scan --workers 1" in run.stdout
    report = json.loads(out.read_text())
    res = report["results"][0]
    assert res["analyzer_wall_s"] > 0 and res["analyzer_max_rss_mb"] > 0
    assert res["analyzer_peak_rss_mb"] >= res["analyzer_max_hwm_mb"] >= res["analyzer_max_rss_mb"]
    assert 0 <= res["analyzer_tree_pss_mb"] <= res["analyzer_tree_rss_mb"]  # shared pages counted once
    assert res["naive"]["sample_bytes"] < res["bytes"]  # sampled, and said so
    if shutil.which("rg") is not None:
        assert res["rg_matches"] == res["tokens"]
    assert not (tmp_path / "root" / "corpus-2000000-seed7").exists()  # removed without --keep

    # The floor: every level over the same corpus, the same occurrences and unique tokens as the scan counts.
    floor = tmp_path / "floor.json"
    run = subprocess.run([sys.executable, str(BENCH / "floor.py"), str(corpus), "--workers", "1", "--repeat", "1",
                          "--json-out", str(floor)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    levels = json.loads(floor.read_text())
    assert {"start", "read", "scan", "decode", "write"} <= set(levels)
    assert levels["start"]["bytes"] == 0 and levels["read"]["bytes"] == levels["write"]["bytes"] > 1_800_000
    assert levels["scan"]["occurrences"] == levels["write"]["occurrences"] == man["tokens"]
    assert levels["scan"]["decoded"] == 0 and 0 < levels["decode"]["decoded"] <= man["unique_tokens"]
    assert levels["decode"]["parquet_bytes"] == 0 < levels["write"]["parquet_bytes"]


@pytest.mark.slow
def test_measure_peak_rss_is_the_high_water_mark_of_the_whole_tree() -> None:
    """A forked child's 150 MB counts, and so does the parent's 120 MB peak, freed before the fork."""
    run = _bench("run")
    child = ("import os,time\nb=bytearray(120<<20);time.sleep(0.3);del b\n"
             "if os.fork()==0:\n b=bytearray(150<<20);time.sleep(0.6);os._exit(0)\nos.wait();time.sleep(0.2)")
    m = run.measure("tree", [sys.executable, "-c", child])
    assert m.rc == 0
    assert m.peak_rss_mb >= 150 + 120  # both processes' peaks, though they never held both at once
    assert m.max_hwm_mb >= 150 and m.max_rss_mb >= 150
    assert m.tree_rss_mb < m.peak_rss_mb  # the sampled sum at one moment is less

    timed = run.measure("tree", [sys.executable, "-c", child], sample=False)  # as the timing runs are made
    assert timed.rc == 0 and timed.wall >= 1.1
    assert timed.tree_pss_mb == 0  # nothing sampled: no /proc reads while it runs
    assert timed.max_rss_mb >= 150  # the rusage peak of the largest process is still there


def test_causes_by_file_names_the_files_whose_causes_differ(tmp_path: Path) -> None:
    """Events in parts with different dictionaries, a rotated piece counted for its file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    logs = tmp_path / "c" / "logs"
    part = tmp_path / "out" / "events" / "date=2026-11-20"
    part.mkdir(parents=True)
    rows = [[(f"{logs}/a.log", "ok"), (f"{logs}/a.log", "expired")], [(f"{logs}/b.log.00001", "ok")] * 2]
    for i, chunk in enumerate(rows):
        src, cause = zip(*chunk, strict=True)
        pq.write_table(pa.table({"source": pa.array(src).dictionary_encode(), "cause": pa.array(cause)
                                 .dictionary_encode()}), part / f"part-{i}.parquet")
    manifest = {"files": [{"path": "a.log", "causes": {"ok": 2}}, {"path": "b.log", "causes": {"ok": 2}}]}
    diff = _bench("run").causes_by_file(tmp_path / "out", tmp_path / "c", manifest)
    assert diff == {"a.log": {"expired": {"analyzer": 1, "corpus": 0}, "ok": {"analyzer": 1, "corpus": 2}}}


@pytest.mark.parametrize("text, expected", [("2MB", 2_000_000), ("1GB", 10**9), ("1.5G", 1_500_000_000)])
def test_parse_size(text: str, expected: int) -> None:
    assert _bench("make_corpus").parse_size(text) == expected


@pytest.mark.whole_run
def test_rotated_corpus_cuts_plain_logs_and_keeps_every_token(tmp_path: Path) -> None:
    """`--rotated-lines`: plain logs in pieces of N lines (W3C pieces headed by their `#Fields:`),
    compressed files whole, and the analyzer finds the same tokens and causes in it."""
    make_corpus, rotated = _bench("make_corpus").make_corpus, _bench("run").rotated
    corpus = tmp_path / "c"
    man = make_corpus(corpus, 1_000_000, seed=5, quiet=True)
    created: list[Path] = []
    rot = rotated(corpus, 40, created)
    assert created == [rot]
    pieces = sorted(p for p in (rot / "logs").rglob("*") if p.is_file())
    plain = [p for p in pieces if p.suffix not in (".gz", ".zst", ".bz2")]
    assert len(plain) > 20 and all(len(p.read_bytes().splitlines()) <= 41 for p in plain)
    iis = [p for p in plain if "iis" in p.parts]
    assert iis and all(p.read_bytes().startswith(b"#") for p in iis)
    assert rotated(corpus, 40, []) == rot  # reused
    out = tmp_path / "out"
    scan = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(rot / "logs"), "--config",
                           str(rot / "analyzer.toml"), "--out", str(out), "--json", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert scan.returncode == 0, scan.stderr[-2000:]
    got = {k: v for k, v in json.loads(scan.stdout)["tokens"]["by_cause"].items() if v}
    assert got == man["occurrences_by_cause"]


def test_format_bench_runs() -> None:
    """`format_bench.py` times every format sample (smoke test: one pass)."""
    run = subprocess.run([sys.executable, str(BENCH / "format_bench.py"), "--repeat", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {line.split()[0]: line.split() for line in run.stdout.splitlines()[1:]}
    assert rows["syslog_rfc3164"][1] == "syslog" and float(rows["syslog_rfc3164"][2]) > 0
    assert {"nginx_combined", "iis_w3c", "generic_mixed"} <= set(rows)
