"""What a scan reads and records before it starts: configs in scanned directories, key sets checked before the
output directory is touched, the options run.json records, and SIGTERM while the CLI loads (QA round 2:
#7, #12, #20 and the start-up SIGTERM). Each test failed on the code before its fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwts as T
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.scan.inputs import expand_inputs

TS = "[10/Oct/2024:13:55:36 +0000]"
KEY = T.make_rsa_key("inputs2-k1")
TOKEN = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders",
                                     "22222222-2222-2222-2222-222222222222", seed=3), KEY)


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./analyzer.toml is picked up by accident


def _logs(d: Path, leeway: int | None = None) -> Path:
    """A scanned directory: one nginx log, its key set, and (with `leeway`) its own analyzer.toml."""
    d.mkdir(parents=True)
    (d / "a.log").write_text(f'10.0.0.1 - - {TS} "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {TOKEN}"\n')
    (d / "keys.json").write_text(json.dumps(T.jwks(KEY)))
    if leeway is not None:
        (d / "analyzer.toml").write_text(f'leeway_seconds = {leeway}\n\n[[issuer]]\njwks_file = "keys.json"\n')
    return d


def _scan(*args: str) -> tuple[int, dict, str]:
    r = CliRunner().invoke(app, ["scan", *args, "--json"])
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


def test_a_scanned_directorys_config_is_not_a_log_when_another_config_is_used(tmp_path: Path) -> None:
    logs = _logs(tmp_path / "logs", leeway=5)
    (tmp_path / "analyzer.toml").write_text("leeway_seconds = 60\n")  # ./analyzer.toml wins discovery
    code, run, err = _scan(str(logs), "--out", str(tmp_path / "o"))
    assert code == 0
    assert run["options"]["config"] == str(tmp_path / "analyzer.toml")
    assert f"{logs / 'analyzer.toml'} in a scanned directory differs and is not used" in err
    assert [f["path"] for f in run["files"]["detail"]] == [str(logs / "a.log")]
    skipped = run["files"]["skipped_not_logs"]
    assert skipped["by_reason"] == {"config": 1, "jwks": 1}
    assert {"path": str(logs / "analyzer.toml"), "reason": "config"} in skipped["paths"]


def test_a_nested_config_is_not_a_log(tmp_path: Path) -> None:
    top = _logs(tmp_path / "top")
    _logs(top / "sub", leeway=5)
    got = expand_inputs([str(top)])
    assert sorted(Path(f.path).name for f in got.files) == ["a.log", "a.log"]
    assert (str(top / "sub" / "analyzer.toml"), "config") in got.not_logs


def test_a_config_named_on_the_command_line_is_read() -> None:
    """As with every other file: what the user names is read whatever it holds."""
    Path("analyzer.toml").write_text("leeway_seconds = 5\n")
    assert [f.path for f in expand_inputs(["analyzer.toml"]).files] == ["analyzer.toml"]


def test_two_scanned_directories_with_two_configs_say_which_is_used(tmp_path: Path) -> None:
    d1, d2 = _logs(tmp_path / "d1", leeway=300), _logs(tmp_path / "d2", leeway=5)
    for first, second, leeway in ((d1, d2, 300), (d2, d1, 5)):
        out = tmp_path / f"o{leeway}"
        code, run, err = _scan(str(first), str(second), "--out", str(out))
        assert code == 0, err
        assert run["options"]["leeway_seconds"] == leeway
        assert run["files"]["skipped_not_logs"]["by_reason"]["config"] == 1  # the one in use is skipped silently
        lines = [ln for ln in err.splitlines() if "config" in ln]
        assert lines == [f"analyzer: using the config {first / 'analyzer.toml'}; {second / 'analyzer.toml'} in a "
                         "scanned directory differs and is not used (--config to choose)"]


def test_no_word_when_the_configs_agree_or_one_is_chosen(tmp_path: Path) -> None:
    d1, d2 = _logs(tmp_path / "d1", leeway=300), _logs(tmp_path / "d2", leeway=300)
    _, _, err = _scan(str(d1), str(d2), "--out", str(tmp_path / "o1"))
    assert "not used" not in err
    (d2 / "analyzer.toml").write_text("leeway_seconds = 5\n")
    _, run, err = _scan(str(d1), str(d2), "--out", str(tmp_path / "o2"), "--config", str(d2 / "analyzer.toml"))
    assert "not used" not in err and run["options"]["leeway_seconds"] == 5


@pytest.mark.parametrize("problem", ["missing", "not json"])
@pytest.mark.parametrize("where", ["config", "--jwks"])
def test_a_bad_key_set_is_refused_before_the_output_directory_is_touched(tmp_path: Path, problem: str,
                                                                         where: str) -> None:
    logs = _logs(tmp_path / "logs")
    keys = tmp_path / "k" / "bad.json"
    keys.parent.mkdir()
    if problem == "not json":
        keys.write_text("{bad")
    args = ["--jwks", str(keys)]
    if where == "config":
        cfg = tmp_path / "k" / "c.toml"
        cfg.write_text('[[issuer]]\njwks_file = "bad.json"\n')
        args = ["--config", str(cfg)]
    out = tmp_path / "o"
    code, _, err = _scan(str(logs / "a.log"), "--out", str(out), *args)
    assert code == 2 and "bad.json" in err, err
    assert not out.exists()
    # An output directory that holds a dataset is left exactly as it was: no lock, no staging area.
    assert _scan(str(logs / "a.log"), "--out", str(out))[0] == 0
    before = sorted(p.name for p in out.iterdir())
    assert _scan(str(logs / "a.log"), "--out", str(out), *args)[0] == 2
    assert sorted(p.name for p in out.iterdir()) == before


def test_run_json_records_every_option(tmp_path: Path) -> None:
    logs = _logs(tmp_path / "logs")
    code, run, err = _scan(str(logs / "a.log"), "--out", str(tmp_path / "o"), "--jwks", str(logs / "keys.json"),
                           "--max-decompressed", "1GB")
    assert code == 0, err
    opts = run["options"]
    assert opts["jwks"] == [str(logs / "keys.json")]
    assert opts["max_decompressed"] == 1_000_000_000
    assert opts["scheduler"] is None
    on_disk = json.loads((tmp_path / "o" / "run.json").read_text())
    assert on_disk["options"] == opts


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (Linux: the SigCgt mask in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((int(ln.split()[1], 16) for ln in status.splitlines() if ln.startswith("SigCgt:")), 0)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_while_the_cli_loads_says_so(tmp_path: Path) -> None:
    """Before the scan installs its own handling: exit 143 and one line, the output directory not created."""
    logs = _logs(tmp_path / "logs")
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    p = subprocess.Popen([sys.executable, "-m", "analyzer", "scan", str(logs), "--out", str(out), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not _catches_sigterm(p.pid) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # until the handler is in: the CLI's libraries (half a second) are still loading
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143, (p.returncode, err)
    assert err.startswith("analyzer: terminated (SIGTERM); ") and err.count("\n") == 1, err
    assert not out.exists()


def test_the_queries_guard_for_an_empty_dataset_works(tmp_path: Path) -> None:
    """docs/queries.md's check before querying events/ (QA #15): with no event yet it stops the script,
    where the query that names columns raises ArrowInvalid."""
    import pandas as pd
    import pyarrow as pa

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(f'10.0.0.1 - - {TS} "GET / HTTP/1.1" 200 5 "-" "curl/8"\n')
    out = tmp_path / "reports"
    assert _scan(str(logs), "--out", str(out))[0] == 0
    with pytest.raises(pa.ArrowInvalid):
        pd.read_parquet(out / "events", columns=["ts", "cause"], filters=[("cause", "=", "unknown_kid")])
    docs = (Path(__file__).resolve().parents[2] / "docs" / "queries.md").read_text()
    guard = docs.split("## Before querying `events/`", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    with pytest.raises(SystemExit, match="no token occurrences"):
        exec(guard, {})  # run from tmp_path, where reports/ is
