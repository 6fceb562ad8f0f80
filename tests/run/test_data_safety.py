"""Nothing is lost by a mistake: missing inputs are refused before the output directory is touched,
subsets add to the dataset, changed settings rebuild from every recorded input, reruns say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from cli_runs import analyzer, copy_samples, snapshot
from conftest import ROOT

from analyzer import schema as S
from analyzer.outputs.state import STATE_FILE

SAMPLES = ROOT / "sample_logs"
ORDERS = Path("nginx") / "orders-access.log"
GATEWAY = Path("envoy") / "gateway.log"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return copy_samples(tmp_path)


def events(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "events")


def cause_totals(out: Path) -> dict[str, int]:
    summary = pd.read_parquet(out / "summary.parquet")
    return {str(k): int(v) for k, v in summary.groupby("cause", observed=True)["occurrences"].sum().items() if v}


def run_json(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


def rows(ev: pd.DataFrame) -> pd.DataFrame:
    """The events as comparable rows, in a fixed order."""
    cols = ["source", "line", "token_fp", "cause", "detail", "location", "host", "status"]
    frame = ev[cols].astype(str)
    return frame.sort_values(cols).reset_index(drop=True)


# ------------------------------------------------------------------------------------ missing inputs


@pytest.mark.whole_run
@pytest.mark.parametrize("bad", [["/nonexistent/logs"], ["{logs}/*.nope"], ["{logs}/nginx", "/nonexistent/a",
                                                                             "/nonexistent/b.log"]])
def test_a_missing_input_is_refused_by_name_and_the_output_is_left_as_it_was(
        logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: list[str]) -> None:
    out = tmp_path / "out"
    assert analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)[0] == 0
    before = snapshot(out)
    args = [b.format(logs=logs) for b in bad]
    code, stdout, stderr = analyzer("scan", *args, "--out", out, "--json", capsys=capsys)
    assert code == 2
    assert stdout == ""
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    for missing in args:
        if not Path(missing).exists():
            assert missing in stderr
    assert str(logs / "nginx") + "," not in stderr  # the existing one is not named as missing
    assert snapshot(out) == before


def test_a_missing_input_into_a_new_directory_creates_nothing(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = analyzer("scan", tmp_path / "nope", "--out", tmp_path / "out", capsys=capsys)
    assert code == 2 and "nope" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.whole_run
def test_a_missing_input_as_a_subprocess(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "analyzer", "scan", str(logs), "--out", str(out), "--quiet", "--workers", "1"]
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    before = snapshot(out)
    r = subprocess.run([sys.executable, "-m", "analyzer", "scan", "/nonexistent/logs", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr == (f"analyzer: input not found: /nonexistent/logs; nothing was read and {out} was left as "
                        "it was\n")
    assert snapshot(out) == before


# ------------------------------------------------------------------------------------ subsets


@pytest.mark.whole_run
def test_a_subfolder_then_one_file_add_to_the_dataset(logs: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    whole, totals = events(out), cause_totals(out)
    assert len(whole) == 1399
    # No --config: the one found inside `logs` is not inside `logs/nginx`; the dataset's is used.
    for subset in (logs / "nginx", logs / ORDERS):
        code, _, stderr = analyzer("scan", subset, "--out", out, capsys=capsys)
        assert code == 0, stderr
        assert "rebuilt" not in stderr
        assert "nothing new since" in stderr and "the dataset holds 1,399 occurrences" in stderr
        assert len(events(out)) == 1399 and cause_totals(out) == totals
        assert rows(events(out)).equals(rows(whole))
        assert run_json(out)["dataset"]["total_occurrences"] == 1399


@pytest.mark.whole_run
def test_a_subset_with_the_same_config_adds_to_the_dataset(logs: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out, config = tmp_path / "out", logs / "analyzer.toml"
    analyzer("scan", logs, "--out", out, "--config", config, "--quiet", capsys=capsys)
    totals = cause_totals(out)
    for subset in (logs / "nginx", logs / ORDERS):
        assert analyzer("scan", subset, "--out", out, "--config", config, "--quiet", capsys=capsys)[0] == 0
        assert len(events(out)) == 1399 and cause_totals(out) == totals


@pytest.mark.whole_run
def test_the_halves_scanned_apart_give_the_events_of_the_whole(logs: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = logs / "analyzer.toml"
    analyzer("scan", logs, "--out", tmp_path / "whole", "--config", config, "--quiet", capsys=capsys)
    halves = tmp_path / "halves"
    analyzer("scan", logs / "nginx", "--out", halves, "--config", config, "--quiet", capsys=capsys)
    analyzer("scan", logs / "envoy", logs / "app", "--out", halves, "--config", config, "--quiet", capsys=capsys)
    assert rows(events(halves)).equals(rows(events(tmp_path / "whole")))
    assert cause_totals(halves) == cause_totals(tmp_path / "whole")


# ------------------------------------------------------------------------------------ changed settings


@pytest.mark.whole_run
def test_changed_settings_rebuild_from_every_recorded_input(logs: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    n = run_json(out)["files"]["count"]
    assert n == 5
    code, _, stderr = analyzer("scan", logs / "nginx", "--out", out, "--leeway", "0", capsys=capsys)
    assert code == 0
    assert ("analyzer: the settings changed (leeway_seconds 300 -> 0): the dataset was rebuilt from the 5 inputs "
            "it was built from and the paths given\n") in stderr
    rebuild = run_json(out)["dataset"]["rebuild"]
    assert rebuild["reason"] == "the settings changed (leeway_seconds 300 -> 0)"
    assert rebuild["inputs_recorded"] == n and rebuild["files_read"] == n and rebuild["vanished"] == []
    # The same events as a scan of everything with the new settings from scratch.
    analyzer("scan", logs, "--out", tmp_path / "fresh", "--leeway", "0", "--quiet", capsys=capsys)
    assert rows(events(out)).equals(rows(events(tmp_path / "fresh")))
    assert cause_totals(out) == cause_totals(tmp_path / "fresh")
    # and the rebuilt dataset reruns as nothing new
    code, _, stderr = analyzer("scan", logs, "--out", out, "--leeway", "0", capsys=capsys)
    assert "nothing new since" in stderr and len(events(out)) == 1399


@pytest.mark.whole_run
def test_a_recorded_input_that_vanished_is_reported_and_its_events_are_kept(
        logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    before = events(out)
    gateway = before[before["source"].astype(str) == str(logs / GATEWAY)]
    assert len(gateway) > 0
    (logs / GATEWAY).unlink()
    code, out_json, stderr = analyzer("scan", logs / "nginx", "--out", out, "--leeway", "0", "--json",
                                      capsys=capsys)
    assert code == 0
    rebuild = json.loads(out_json)["dataset"]["rebuild"]
    assert rebuild["vanished"] == [str(logs / GATEWAY)] and rebuild["kept_occurrences"] == len(gateway)
    assert f"1 of them are gone ({logs / GATEWAY})" in stderr
    after = events(out)
    assert len(after) == len(before)
    assert rows(after[after["source"].astype(str) == str(logs / GATEWAY)]).equals(rows(gateway))
    # A second rebuild still has nothing to read them from, and still keeps them.
    analyzer("scan", logs, "--out", out, "--leeway", "30", "--quiet", capsys=capsys)
    assert len(events(out)) == len(before)
    assert run_json(out)["dataset"]["rebuild"]["vanished"] == [str(logs / GATEWAY)]


@pytest.mark.whole_run
def test_a_crash_during_a_rebuild_leaves_the_dataset_as_it_was(logs: Path, tmp_path: Path,
                                                              crash_before_commit: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    before = rows(events(out))
    crashed = subprocess.run([*crash_before_commit, "scan", str(logs), "--out", str(out), "--leeway",
                              "0", "--quiet", "--workers", "1"], capture_output=True, timeout=120)
    assert crashed.returncode == 9
    code, _, stderr = analyzer("scan", logs, "--out", out, capsys=capsys)
    assert code == 0 and "nothing new since" in stderr and "the dataset holds 1,399 occurrences" in stderr
    assert rows(events(out)).equals(before)


@pytest.mark.whole_run
def test_rescan_rebuilds_from_the_paths_given_only(logs: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out, config = tmp_path / "out", logs / "analyzer.toml"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    code, _, stderr = analyzer("scan", logs / "nginx", "--out", out, "--config", config, "--rescan", capsys=capsys)
    assert code == 0 and "--rescan: the dataset was rebuilt from the paths given only" in stderr
    sources = set(events(out)["source"].astype(str))
    assert sources and all(s.startswith(str(logs / "nginx")) for s in sources)
    assert run_json(out)["dataset"]["rescanned"] == "--rescan"


# ------------------------------------------------------------------------------------ reruns


@pytest.mark.whole_run
def test_a_rerun_with_nothing_new_says_so(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, _, stderr = analyzer("scan", logs, "--out", out, capsys=capsys)
    assert code == 0 and "1,399 token occurrences" in stderr
    first = run_json(out)
    code, stdout, stderr = analyzer("scan", logs, "--out", out, capsys=capsys)
    assert code == 0
    code, stdout, _ = analyzer("scan", logs, "--out", out, "--json", capsys=capsys)
    ds = json.loads(stdout)["dataset"]
    assert ds["nothing_new"] is True and ds["total_occurrences"] == 1399 and ds["rebuild"] is None
    # since the first run, the last that read something (its commit, a moment before it finished)
    when = {k: datetime.fromisoformat(v) for k, v in (("since", ds["nothing_new_since"]),
                                                      ("started", first["started_at"]),
                                                      ("finished", first["finished_at"]))}
    assert when["started"] <= when["since"] <= when["finished"]
    since = ds["nothing_new_since"][:16].replace("T", " ")
    assert stderr.startswith(f"nothing new since {since} UTC; the dataset holds 1,399 occurrences.")
    assert "0 token occurrences" not in stderr
    # The trend compares the dataset with the dataset: a rerun that read nothing is not a night without failures.
    history = run_json(out)["history"]
    assert [h["occurrences"] for h in history] == [1399, 1399]
    assert history[-1]["failure_rate"] == first["dataset"]["failure_rate"] > 0


@pytest.mark.whole_run
def test_an_older_state_is_upgraded_in_place(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    db = sqlite3.connect(out / STATE_FILE)
    db.execute("ALTER TABLE files DROP COLUMN abs_path")  # as written before absolute paths were kept
    db.execute("DROP TABLE reads")
    db.commit()
    db.close()
    code, _, stderr = analyzer("scan", logs, "--out", out, capsys=capsys)
    assert code == 0 and "nothing new since" in stderr
    assert len(events(out)) == 1399 and S.OK in cause_totals(out)


@pytest.mark.whole_run
def test_a_rebuild_after_logrotate_keeps_the_deleted_nights_and_reads_the_live_log_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nginx = (SAMPLES / ORDERS).read_bytes().splitlines(keepends=True)
    logs, out, config = tmp_path / "logs", tmp_path / "out", SAMPLES / "analyzer.toml"
    logs.mkdir()
    live = logs / "access.log"
    live.write_bytes(b"".join(nginx[:600]))
    analyzer("scan", logs, "--out", out, "--config", config, "--quiet", capsys=capsys)
    first_night = len(events(out))
    live.rename(logs / "access.log.1")  # logrotate: the same name holds the next night's lines
    live.write_bytes(b"".join(nginx[600:800]))
    analyzer("scan", logs, "--out", out, "--config", config, "--quiet", capsys=capsys)
    both = events(out)
    second_night = len(both) - first_night
    assert second_night > 0
    (logs / "access.log.1").unlink()  # and a week later the first night is deleted
    for leeway in ("0", "30"):  # two rebuilds: the second carries over what the first carried over
        code, stdout, _ = analyzer("scan", logs, "--out", out, "--config", config, "--leeway", leeway, "--json",
                                   capsys=capsys)
        assert code == 0
        rebuild = json.loads(stdout)["dataset"]["rebuild"]
        assert rebuild["vanished"] == [str(logs / "access.log.1")]
        assert rebuild["kept_occurrences"] == first_night and rebuild["files_read"] == 1
        after = events(out)
        assert len(after) == len(both)
        assert rows(after).drop(columns=["cause", "detail"]).equals(rows(both).drop(columns=["cause", "detail"]))


@pytest.mark.whole_run
def test_a_rebuild_from_another_directory_finds_inputs_recorded_by_relative_paths(
        logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    analyzer("scan", "logs", "--out", "out", "--quiet", capsys=capsys)
    assert set(events(tmp_path / "out")["source"].astype(str)) >= {"logs/nginx/orders-access.log"}
    (tmp_path / "cron").mkdir()
    monkeypatch.chdir(tmp_path / "cron")  # cron starts elsewhere
    code, stdout, _ = analyzer("scan", logs / "nginx", "--out", tmp_path / "out", "--config", logs / "analyzer.toml",
                               "--leeway", "0", "--json", capsys=capsys)
    assert code == 0
    rebuild = json.loads(stdout)["dataset"]["rebuild"]
    assert rebuild["files_read"] == rebuild["inputs_recorded"] == 5 and rebuild["vanished"] == []
    assert len(events(tmp_path / "out")) == 1399


def test_the_state_records_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    from analyzer.outputs.state import Progressed, State
    from analyzer.scan.inputs import expand_inputs

    name = os.fsdecode(os.fsencode(str(tmp_path / "bad-name-")) + b"\xff\xfe.log")
    Path(name).write_bytes((SAMPLES / ORDERS).read_bytes())
    files = expand_inputs([str(tmp_path)]).files
    state = State(tmp_path)
    try:
        resume = state.resume_all(files)[0]
        state.commit("r1", [Progressed(files[0], resume, files[0].size, 600)], files[0].size, 0, 0.0, {})
        assert [(r.path, r.abs_path, r.locate()) for r in state.recorded()] == [(name, name, name)]
        assert [(r.source, r.first, r.last) for r in state.reads(frozenset({state.recorded()[0].record_id}))] == [
            (name, 1, 600)]
        assert state.resume_all(files)[0].nothing_new  # and it is recognised again
    finally:
        state.close()


def test_missing_inputs_are_named_on_one_line_whatever_their_bytes(tmp_path: Path) -> None:
    from analyzer.run import missing_inputs

    (tmp_path / "a.log").write_text("x\n")
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff\xfe.log")
    given = [str(tmp_path), str(tmp_path / "a.log"), str(tmp_path / "*.log"), "-", odd, "x\ny.log",
             str(tmp_path / "*.gz"), str(tmp_path / "a.log" / "under-a-file"), "nul\0.log"]
    assert missing_inputs(given) == [f"{tmp_path}/\\xff\\xfe.log", "x\\x0ay.log", f"{tmp_path}/*.gz (no file matches)",
                                     f"{tmp_path}/a.log/under-a-file", "nul\\x00.log"]
