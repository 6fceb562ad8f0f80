"""A run never leaves the output directory half-changed, nor overwrites what is not its own: a missing
state store, a key file that is no key, Ctrl-C and SIGTERM at any point of the run (QA round 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_runs import analyzer, copy_samples, snapshot

from analyzer.outputs.state import STATE_FILE
from analyzer.tokens.privacy import KEY_ENV


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return copy_samples(tmp_path)


def rows(ev: pd.DataFrame) -> pd.DataFrame:
    """The events as comparable rows, in a fixed order."""
    cols = ["source", "line", "token_fp", "cause", "detail", "location", "host", "status"]
    return ev[cols].astype(str).sort_values(cols).reset_index(drop=True)

# The CLI in a child process, with `analyzer.run.<HOOK>` wrapped to run `ACTION` first (signals to itself).
_HOOKED = """\
import os, signal, sys
from analyzer.__main__ import choose_arrow_pool, main
choose_arrow_pool()
import analyzer.run
hook, action = sys.argv[1], sys.argv[2]
real = getattr(analyzer.run, hook)
def hooked(*args, **kwargs):
    for sig in action.split(","):
        os.kill(os.getpid(), getattr(signal, sig))
    return real(*args, **kwargs)
setattr(analyzer.run, hook, hooked)
sys.argv[1:3] = []
sys.argv[0] = "analyzer"
main()
"""


def hooked_scan(hook: str, action: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", _HOOKED, hook, action, "scan", *map(str, args), "--quiet", "--workers", "1"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def consistent(out: Path) -> int:
    """The events, summary.parquet and run.json agree on the dataset's rows; returns how many."""
    n = len(pd.read_parquet(out / "events", columns=["cause"]))
    assert int(pd.read_parquet(out / "summary.parquet")["occurrences"].sum()) == n
    assert json.loads((out / "run.json").read_text())["dataset"]["total_occurrences"] == n
    return n


@pytest.fixture
def half(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An output directory of the nginx logs only; the whole of `logs` has more to read into it."""
    out = tmp_path / "out"
    assert analyzer("scan", logs / "nginx", "--config", logs / "analyzer.toml", "--out", out, "--quiet",
                    capsys=capsys)[0] == 0
    return out


# ------------------------------------------------------------------------------------ missing state store


@pytest.mark.whole_run
def test_a_missing_state_store_is_refused_and_the_dataset_kept(logs: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Before the fix, every part file counted as an uncommitted run's and was removed: 1,399 rows became
    the 297 of the one file scanned, exit 0, nothing said."""
    out = tmp_path / "out"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    (out / STATE_FILE).unlink()
    before = snapshot(out)
    code, stdout, stderr = analyzer("scan", logs / "nginx" / "orders-access.log", "--out", out, "--json",
                                    capsys=capsys)
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [f"analyzer: {out} holds a dataset but its state.sqlite is missing: restore it, "
                                   "or pass --rescan to rebuild the dataset from the paths given"]
    assert snapshot(out) == before
    # --rescan rebuilds, as asked.
    code, _, _ = analyzer("scan", logs / "nginx", "--out", out, "--config", logs / "analyzer.toml", "--rescan",
                          "--quiet", capsys=capsys)
    assert code == 0 and (out / STATE_FILE).is_file()
    assert {s.startswith(str(logs / "nginx")) for s in pd.read_parquet(out / "events")["source"].astype(str)} == {True}


# ------------------------------------------------------------------------------------ the PII key file


@pytest.mark.whole_run
@pytest.mark.parametrize("content", ["config", "0x" + "ab" * 16, "ab" * 15, "directory"])
def test_a_key_file_that_is_no_key_stops_the_run_and_is_kept(logs: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    """Before the fix, the file (the config, named by mistake) was overwritten with a new key, exit 0; and a
    directory made each run hash with a new random key."""
    key = tmp_path / "key"
    if content == "directory":
        key.mkdir()
    else:
        key.write_text((logs / "analyzer.toml").read_text() if content == "config" else content)
    before = sorted(os.listdir(key)) if key.is_dir() else key.read_text()
    monkeypatch.setenv(KEY_ENV, str(key))
    code, _, stderr = analyzer("scan", logs / "nginx", "--out", tmp_path / "out", capsys=capsys)
    assert code == 2
    assert len(stderr.splitlines()) == 1 and str(key) in stderr and KEY_ENV in stderr
    assert (sorted(os.listdir(key)) if key.is_dir() else key.read_text()) == before
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------ interrupts


@pytest.mark.whole_run
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupt_at_the_commit_lets_the_run_finish(logs: Path, half: Path, sig: str) -> None:
    """Before the fix, Ctrl-C between the commit's steps left the run's part files in events/ uncommitted
    (readers counted them twice over until the next run), and after them left summary, run.json and
    report of the run before: exit 130 either way."""
    done = hooked_scan("between_commit_steps", sig, logs, "--out", half)
    assert done.returncode == 0, done.stderr
    assert "finishing its outputs" in done.stderr
    n = consistent(half)
    again = hooked_scan("between_commit_steps", "SIGINT", logs, "--out", half)  # nothing new: nothing changes
    assert again.returncode == 0 and consistent(half) == n
    assert not [p for p in os.listdir(half) if p.startswith(".staging")]


@pytest.mark.whole_run
def test_a_second_interrupt_at_the_commit_takes_the_published_events_back(logs: Path, half: Path) -> None:
    """Stopped at once between the commit's steps: the part files already in events/ are removed."""
    before, totals = rows(pd.read_parquet(half / "events")), consistent(half)
    stopped = hooked_scan("between_commit_steps", "SIGINT,SIGINT", logs, "--out", half)
    assert stopped.returncode == 130 and stopped.stderr.splitlines()[-1] == "analyzer: interrupted"
    assert rows(pd.read_parquet(half / "events")).equals(before)
    assert consistent(half) == totals
    assert not [p for p in os.listdir(half) if p.startswith(".staging")]


@pytest.mark.whole_run
def test_sigterm_during_the_scan_stops_like_ctrl_c_with_exit_143(logs: Path, half: Path) -> None:
    """Before the fix, SIGTERM (cron's or systemd's timeout) killed the run outright: exit -15, no message,
    a .staging-* directory left in the output."""
    before = snapshot(half / "events")
    stopped = hooked_scan("_progress_made", "SIGTERM", logs, "--out", half)
    assert stopped.returncode == 143
    assert stopped.stderr.splitlines() == [f"analyzer: terminated (SIGTERM); {half} keeps its last complete run"]
    assert snapshot(half / "events") == before
    assert not [p for p in os.listdir(half) if p.startswith(".staging")]


@pytest.mark.whole_run
def test_an_error_between_the_commit_steps_takes_the_published_events_back(logs: Path, half: Path) -> None:
    """An error (a full disk, say) after the events are published and before the state
    records them: the run's part files leave events/ with it."""
    before = rows(pd.read_parquet(half / "events"))
    script = _HOOKED.replace("for sig in action.split(\",\"):\n        os.kill(os.getpid(), getattr(signal, sig))",
                             "raise OSError(28, 'No space left on device')")
    r = subprocess.run([sys.executable, "-c", script, "between_commit_steps", "-", "scan", str(logs), "--out",
                        str(half), "--quiet", "--workers", "1"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 2 and "No space left on device" in r.stderr
    assert rows(pd.read_parquet(half / "events")).equals(before)


# ------------------------------------------------------------------------------------ examples


def examples(out: Path) -> dict[str, list[dict]]:
    return json.loads((out / "examples.json").read_text())


@pytest.mark.whole_run
def test_a_rerun_keeps_the_examples_and_an_append_adds_to_them(logs: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Before the fix, a second run the same night wrote examples.json as {} and the report lost every
    "Example:"; a run that read one new line kept only that line's cause."""
    out, orders = tmp_path / "out", logs / "nginx" / "orders-access.log"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    first, report = examples(out), (out / "report.html").read_text()
    assert first and report.count('class="ex"') > 0
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    assert examples(out) == first
    assert (out / "report.html").read_text().count('class="ex"') == report.count('class="ex"')
    with orders.open("a") as fh:
        fh.write(orders.read_text().splitlines()[0] + "\n")
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    after = examples(out)
    assert set(after) == set(first)
    for cause, exs in after.items():
        fps = [e["token_fp"] for e in exs]
        assert len(fps) == len(set(fps)) <= 3
        assert fps[:len(first[cause])] == [e["token_fp"] for e in first[cause]]  # the previous ones first
    # A rebuild (other settings) describes the dataset by its own examples only.
    analyzer("scan", logs, "--out", out, "--leeway", "0", "--quiet", capsys=capsys)
    fresh = tmp_path / "fresh"
    analyzer("scan", logs, "--out", fresh, "--leeway", "0", "--quiet", capsys=capsys)
    assert set(examples(out)) == set(examples(fresh))


def test_merged_examples_keep_the_previous_first_no_token_twice_and_causes_with_rows(tmp_path: Path) -> None:
    from analyzer.run_summary import examples_of_dataset

    (tmp_path / "examples.json").write_text(json.dumps({
        "expired": [{"token_fp": "a"}, {"token_fp": "b"}],
        "bad_signature": [{"token_fp": "c"}],  # its rows dropped (--keep-days, or out of the window)
    }))
    fresh = {"expired": [{"token_fp": "b"}, {"token_fp": "d"}, {"token_fp": "e"}], "ok": [{"token_fp": "f"}]}
    got = examples_of_dataset(tmp_path, fresh, {"expired": 5, "bad_signature": 0, "ok": 1})
    assert got == {"expired": [{"token_fp": "a"}, {"token_fp": "b"}, {"token_fp": "d"}], "ok": [{"token_fp": "f"}]}
    (tmp_path / "examples.json").write_text("not json")
    assert examples_of_dataset(tmp_path, fresh, {"ok": 1}) == {"ok": [{"token_fp": "f"}]}


# ------------------------------------------------------------------------------------ split reports


@pytest.mark.whole_run
def test_a_new_split_removes_the_reports_of_the_previous_one(logs: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Before the fix, the previous split's per-client reports stayed next to an index that no longer
    listed them (someone could forward a stale report)."""
    out, folder = tmp_path / "out", tmp_path / "split"
    analyzer("scan", logs, "--out", out, "--quiet", capsys=capsys)
    assert analyzer("report", out, "--split-by", "client", "--out", folder, capsys=capsys)[0] == 0
    assert analyzer("report", out, "--split-by", "audience", "--out", folder, capsys=capsys)[0] == 0
    clients = sorted(p.name for p in folder.glob("client-*.html"))
    audiences = sorted(p.name for p in folder.glob("audience-*.html"))
    assert len(clients) > 3 and audiences
    foreign = ["notes.html", "client-mine.html", "client-x-zzzzzzzz.html", "client-x-0123abcd.txt"]
    for name in foreign:
        (folder / name).write_text("not ours")
    assert analyzer("report", out, "--split-by", "client", "--out", folder, "--since", "2030-01-01",
                    capsys=capsys)[0] == 0
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(["index.html", *foreign, *audiences])
    assert not [name for name in clients if name in (folder / "index.html").read_text()]
    assert analyzer("report", out, "--split-by", "client", "--out", folder, capsys=capsys)[0] == 0
    assert sorted(p.name for p in folder.glob("client-*-*.html") if p.name not in foreign) == clients
