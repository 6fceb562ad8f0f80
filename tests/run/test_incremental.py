"""Nightly runs: idempotent reruns, appended and rotated files, crashes, locks, retention, Dask."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from analyzer import schema as S
from analyzer.config import build_settings
from analyzer.errors import AnalyzerError
from analyzer.outputs.state import Lock
from analyzer.run import run

pytestmark = pytest.mark.whole_run  # every test here runs a whole scan

SAMPLES = ROOT / "sample_logs"
NGINX = (SAMPLES / "nginx" / "orders-access.log").read_bytes().splitlines(keepends=True)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A log directory with one growing nginx log, plus config and keys beside it."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log").write_bytes(b"".join(NGINX[:600]))
    shutil.copy(SAMPLES / "analyzer.toml", tmp_path)
    shutil.copy(SAMPLES / "jwks.json", tmp_path)
    return tmp_path


def scan(site: Path, **flags) -> dict:
    settings = build_settings(site / "analyzer.toml", [], out_dir=site / "out", workers=flags.pop("workers", 1),
                              **flags)
    return run(settings, [str(site / "logs")]).summary


def events(site: Path) -> pd.DataFrame:
    return pd.read_parquet(site / "out" / "events")


def token_lines(data: list[bytes]) -> int:
    from analyzer.scan.extract import TOKEN_RE

    return sum(len(TOKEN_RE.findall(line)) for line in data if b"REDACTED" not in line)


def test_same_input_twice_reads_nothing_new(site: Path) -> None:
    first = scan(site)
    before = events(site)
    second = scan(site)
    assert first["tokens"]["occurrences"] > 0
    assert second["files"]["bytes"] == 0 and second["tokens"]["occurrences"] == 0
    assert second["files"]["unchanged"] == 1
    after = events(site)
    assert len(after) == len(before)
    summary = pd.read_parquet(site / "out" / "summary.parquet")
    assert summary["occurrences"].sum() == len(after)
    assert second["dataset"]["occurrences"] == len(after)
    # The diagnosis of the run that read the data still stands for it.
    assert second["clients"] == first["clients"] and second["diagnosis_from_run"] == first["run_id"]


def test_appended_and_rotated_lines_appear_exactly_once(site: Path) -> None:
    log = site / "logs" / "access.log"
    scan(site)
    with open(log, "ab") as f:  # the night goes on
        f.writelines(NGINX[600:700])
    third = scan(site)
    assert third["files"]["bytes"] == len(b"".join(NGINX[600:700]))
    log.rename(site / "logs" / "access.log.1")  # logrotate
    log.write_bytes(b"".join(NGINX[700:800]))
    with open(site / "logs" / "access.log.1", "ab") as f:  # a late write to the rotated file
        f.writelines(NGINX[800:810])
    scan(site)
    rotated = site / "logs" / "access.log.1"  # then compressed, as delaycompress does
    with gzip.open(site / "logs" / "access.log.2.gz", "wb") as gz:
        gz.write(rotated.read_bytes())
    rotated.unlink()
    last = scan(site)
    assert last["files"]["bytes"] == 0, "the compressed rotation holds nothing new"
    ev = events(site)
    assert not ev.duplicated(["source", "line", "token_fp"]).any()
    assert len(ev) == token_lines(NGINX[:810])
    # Line numbers keep counting in the rotated file.
    rot = ev[ev["source"].astype(str).str.endswith("access.log.1")]
    assert rot["line"].min() > 700


def test_crash_between_events_and_state_loses_and_doubles_nothing(site: Path, crash_before_commit: list[str]) -> None:
    cmd = [*crash_before_commit, "scan", str(site / "logs"), "--config", str(site / "analyzer.toml"),
           "--out", str(site / "out"), "--quiet", "--workers", "1"]
    crashed = subprocess.run(cmd, capture_output=True, timeout=120)
    assert crashed.returncode == 9
    assert any((site / "out" / "events").rglob("*.parquet")), "the crash left part files behind"
    again = scan(site)
    assert again["dataset"]["orphans_removed"] > 0
    ev = events(site)
    assert len(ev) == token_lines(NGINX[:600])
    assert not ev.duplicated(["source", "line", "token_fp"]).any()


def test_killed_run_then_rerun(site: Path) -> None:
    big = site / "logs" / "big.log"
    big.write_bytes(b"".join(NGINX) * 20)
    cmd = [sys.executable, "-m", "analyzer", "scan", str(site / "logs"), "--config", str(site / "analyzer.toml"),
           "--out", str(site / "out"), "--quiet", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:  # kill it once it has written some events
        if any((site / "out").glob(".staging-*/events/*/*.parquet")):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    scan(site, workers=2)
    ev = events(site)
    assert not ev.duplicated(["source", "line", "token_fp"]).any()
    assert len(ev) == token_lines(NGINX[:600]) + 20 * token_lines(NGINX)


def test_changed_settings_rebuild_the_dataset(site: Path) -> None:
    scan(site)
    n = len(events(site))
    redo = scan(site, leeway_seconds=10)
    assert redo["dataset"]["rescanned"] == "the settings changed (leeway_seconds 300 -> 10)"
    assert len(events(site)) == n
    forced = scan(site, leeway_seconds=10, rescan=True)
    assert forced["dataset"]["rescanned"] == "--rescan" and len(events(site)) == n


def test_a_second_writer_is_refused(site: Path) -> None:
    (site / "out").mkdir()
    lock = Lock(site / "out")
    try:
        with pytest.raises(AnalyzerError, match="another analyzer run"):
            scan(site)
    finally:
        lock.release()
    assert scan(site)["tokens"]["occurrences"] > 0


def test_retention_and_window(site: Path) -> None:
    scan(site)
    part = next((site / "out" / "events").iterdir())
    old = site / "out" / "events" / "date=2020-01-01"
    shutil.copytree(part, old)
    summary = scan(site, keep_days=30)
    assert summary["dataset"]["partitions_dropped"] == ["2020-01-01"]
    assert not old.exists()
    windowed = scan(site, since_us=int(time.time() * 1e6))
    assert windowed["dataset"]["occurrences"] == 0


def test_cron_friendly_cli(site: Path) -> None:
    cmd = [sys.executable, "-m", "analyzer", "scan", str(site / "logs"), "--config", str(site / "analyzer.toml"),
           "--out", str(site / "out"), "--json", "--fail-above", "0.0001"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1  # failures above the threshold: alert
    assert len(r.stdout.strip().splitlines()) == 1 and json.loads(r.stdout)["exit_code"] == 1
    assert "\r" not in r.stderr and "\x1b[" not in r.stderr


def test_dask_local_cluster_gives_the_same_summary(site: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    scan(site)
    local = pd.read_parquet(site / "out" / "summary.parquet")
    settings = build_settings(site / "analyzer.toml", [], out_dir=tmp_path / "dask", workers=2, engine="dask")
    run(settings, [str(site / "logs")])
    remote = pd.read_parquet(tmp_path / "dask" / "summary.parquet")
    key = list(S.SUMMARY_KEYS)
    pd.testing.assert_frame_equal(local.astype(str).sort_values(key, ignore_index=True),
                                  remote.astype(str).sort_values(key, ignore_index=True))


def test_a_file_cut_at_the_decompression_limit_is_read_on_when_the_limit_is_lifted(site: Path) -> None:
    (site / "logs" / "access.log").unlink()
    data = b"".join(NGINX[:600])
    with gzip.open(site / "logs" / "big.log.gz", "wb") as gz:
        gz.write(data)
    first = scan(site, max_decompressed=100_000)
    assert any("limit" in e for e in first["files"]["errors"])
    second = scan(site)
    assert second["files"]["bytes"] == len(data) - first["files"]["bytes"]
    ev = events(site)
    assert len(ev) == token_lines(NGINX[:600]) and not ev.duplicated(["source", "line", "token_fp"]).any()


def test_a_rotated_archive_resumed_in_ranges_keeps_its_line_numbers(site: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Read half of a log; it is rotated and compressed; the next run resumes inside the archive and
    reads the rest in ranges of its content (on two workers). Every line once, numbered as in the file."""
    import analyzer.engine.plan as E

    log = site / "logs" / "access.log"
    data = b"".join(NGINX)
    log.write_bytes(b"".join(NGINX[:500]))
    first = scan(site)
    with gzip.open(site / "logs" / "access.log.1.gz", "wb") as gz:
        gz.write(data)
    log.unlink()
    monkeypatch.setattr(E, "COMPRESSED_RANGE_BYTES", len(data) // 5)
    second = scan(site, workers=2)
    assert second["files"]["bytes"] == len(data) - first["files"]["bytes"]
    ev = events(site)
    assert len(ev) == token_lines(NGINX) and not ev.duplicated(["source", "line", "token_fp"]).any()
    # Each token on the line where the file has it.
    lines = {n + 1: line for n, line in enumerate(NGINX)}
    fps = {}
    from analyzer.scan.extract import TOKEN_RE
    from analyzer.tokens.decode import fingerprint

    for n, line in lines.items():
        for tok in TOKEN_RE.findall(line):
            fps.setdefault(fingerprint(tok), set()).add(n)
    assert all(int(line) in fps[str(fp)] for line, fp in zip(ev["line"], ev["token_fp"], strict=True))
