"""The CLI, in-process (CliRunner) and as a real subprocess: help, exit codes, outputs, inspect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tokens as T
from conftest import SHARED
from typer.testing import CliRunner

from analyzer.cli import app

TENANT = "11111111-2222-3333-4444-555555555555"
TS = 1_795_000_000  # 2026-11-18T11:06:40Z


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small nginx log, a key set and a config."""
    d = tmp_path_factory.mktemp("corpus")
    key = T.make_rsa_key("k1")
    (d / "jwks.json").write_text(json.dumps(T.jwks(key)))
    (d / "analyzer.toml").write_text(f"""
jwks_file = "jwks.json"
[[api]]
name = "orders"
hosts = ["orders.contoso.com"]
audiences = ["api://orders"]
issuers = ["{T.issuer_v2(TENANT)}"]
""")
    def tok(**over):
        c = T.access_token_claims(TENANT, "api://orders", "c-1", iat=TS - 60, exp=TS + 3600, scp="read")
        c.update(over)
        return T.sign(c, key)
    good, expired = tok(), tok(exp=TS - 7200, iat=TS - 9000, nbf=TS - 9000)
    line = ('10.0.0.{i} - - [18/Nov/2026:11:06:40 +0000] "GET /v1/orders?id={i} HTTP/1.1" {st} 12 "-" "cli/1" '
            '"Bearer {t}" "orders.contoso.com"\n')
    with open(d / "access.log", "w") as f:
        for i in range(20):
            f.write(line.format(i=i, st=200, t=good))
            f.write('10.0.0.9 - - [18/Nov/2026:11:06:41 +0000] "GET /health HTTP/1.1" 200 2 "-" "probe" "-" "-"\n')
        f.write(line.format(i=99, st=401, t=expired))
    return d


def test_every_command_and_option_has_help() -> None:
    runner = CliRunner()
    for cmd in ("scan", "report", "inspect"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0
        text = result.output
        assert "--" in text
    import typer.main

    for command in typer.main.get_command(app).commands.values():  # type: ignore[attr-defined]
        for p in command.params:
            assert getattr(p, "help", None), f"{command.name} {p.name} has no help"


def test_scan_writes_the_contract_outputs(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tokens"]["occurrences"] == 21
    assert summary["tokens"]["by_cause"] == {**{c: 0 for c in summary["tokens"]["by_cause"]}, "ok": 20, "expired": 1}
    ev = pd.read_parquet(out / "events")
    assert len(ev) == 21 and set(ev["cause"]) == {"ok", "expired"}
    assert ev.loc[ev["cause"] == "expired", "line"].tolist() == [41]
    assert ev["host"].eq("orders.contoso.com").all()
    assert ev["path"].eq("/v1/orders").all()
    checker = subprocess.run([sys.executable, str(SHARED / "tools" / "check_outputs.py"), str(out), str(corpus)],
                             capture_output=True, text=True)
    assert checker.returncode == 0, checker.stdout


def test_fail_above_exit_code(corpus: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "o"), "--quiet", "--fail-above", "0.01"])
    assert r.exit_code == 1
    r = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "o"), "--quiet", "--fail-above", "0.5"])
    assert r.exit_code == 0


def test_nothing_readable_exits_3(tmp_path: Path) -> None:
    # A path that does not exist is a usage error (exit 2, tests/test_data_safety.py); one that exists
    # but cannot be read as a log is "nothing could be read".
    os.mkfifo(tmp_path / "pipe.log")
    r = CliRunner().invoke(app, ["scan", str(tmp_path / "pipe.log"), "--out", str(tmp_path / "o"), "--quiet"])
    assert r.exit_code == 3


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, input=stdin,
                          env=env, timeout=120)


@pytest.mark.parametrize("args", [
    ["scan", "x.log", "--leeway", "-5"],
    ["scan", "x.log", "--format", "klingon"],
    ["scan", "x.log", "--config", "/nonexistent/analyzer.toml"],
    ["scan", "x.log", "--no-such-option"],
    ["inspect", "abc", "--at", "yesterday-ish"],
])
def test_bad_options_give_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    r = _cli(*args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip(), "an error message is expected"


def test_bad_config_file_subprocess(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("leeway_seconds = [")
    r = _cli("scan", str(tmp_path), "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "invalid TOML" in r.stderr


def test_subprocess_scan_and_json(corpus: Path, tmp_path: Path) -> None:
    r = _cli("scan", str(corpus), "--out", str(tmp_path / "o"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tokens"]["unique"] == 2
    assert "\r" not in r.stderr  # stderr is not a terminal here: no progress bar


def test_inspect_shows_claims_and_checks_not_signature(corpus: Path) -> None:
    key = T.make_rsa_key("k9")
    tok = T.sign(T.access_token_claims(TENANT, "api://orders", "c-1", iat=TS - 60, exp=TS + 3600, scp="read"), key)
    r = _cli("inspect", "-", "--at", "2026-11-18T11:10:00Z", stdin=f"Bearer {tok}\n")
    assert r.returncode == 0, r.stderr
    assert "2026-11-18" in r.stdout and "exp" in r.stdout
    assert "expired" in r.stdout and "ok" in r.stdout
    assert tok.rsplit(".", 1)[1] not in r.stdout
    late = _cli("inspect", tok, "--at", "2026-11-19T10:00:00Z", "--json")
    data = json.loads(late.stdout)
    assert data["cause"] == "expired"
    assert tok.rsplit(".", 1)[1] not in late.stdout


def test_report_rebuilds(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    CliRunner().invoke(app, ["scan", str(corpus), "--out", str(out), "--quiet"])
    (out / "report.html").unlink()
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert "expired" in (out / "report.html").read_text()


def test_the_entry_point_collects_young_objects_less_often() -> None:
    """`main` raises the collector's first threshold (the scan's allocations hold no cycles)."""
    from analyzer.cli import GC_THRESHOLDS

    code = ("import gc, sys\nfrom analyzer import cli\nsys.argv = ['analyzer', '--help']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\nprint(gc.get_threshold(), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert GC_THRESHOLDS[0] > 700  # Python's default
    assert run.stderr.strip().splitlines()[-1] == str(GC_THRESHOLDS)
