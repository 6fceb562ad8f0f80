"""The CLI, in-process (CliRunner) and as a real subprocess: help, exit codes, outputs, inspect."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jwts as T
import pandas as pd
import pytest
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


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    return [[]] + [[name] for name in group.commands]  # type: ignore[attr-defined]


# What a Python type looks like in help; a user types a PATH, a FILE, SECONDS, N, a RATE or a TIME.
PYTHON_TYPES = re.compile(r"<(bool|int|float|str|path|list|datetime)\b|list\[|\b(int|float) range|x>=|<=x")


@pytest.mark.parametrize("cmd", _commands(), ids=lambda c: " ".join(c) or "analyzer")
def test_help_shows_what_a_user_types_and_every_option_has_help(cmd: list[str]) -> None:
    """Help names values as a user types them (PATH, SECONDS, N, RATE, TIME, DIR), flags take none, and
    every option (the help option too) says what it does."""
    result = CliRunner().invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "--help" in text
    assert not PYTHON_TYPES.search(text), PYTHON_TYPES.search(text)
    import typer.main

    group = typer.main.get_command(app)
    command = group.commands[cmd[0]] if cmd else group  # type: ignore[attr-defined]
    for p in command.params:
        assert getattr(p, "help", None), f"{command.name} {p.name} has no help"
    flat = " ".join(text.replace("│", " ").split())
    expected = {
        "": ["--version Print the version", "--help Show this message"],
        "scan": ["PATH Log files", "--out -o DIR", "--config -c FILE", "--jwks FILE", "--leeway SECONDS",
                 "--workers -w N", "--fail-above RATE", "--since TIME", "--until TIME", "--keep-days DAYS",
                 "--cache-dir DIR", "--rescan Forget", "--offline --online Never", "--quiet -q No progress"],
        "report": ["DIR An output directory", "--since TIME", "--split-by client|audience"],
        "inspect": ["TOKEN The token", "--at TIME", "--json Print the result"],
    }
    for shown in expected["".join(cmd)]:
        assert shown in flat, shown


@pytest.mark.whole_run
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


CHECKER = SHARED / "tools" / "check_outputs.py"


@pytest.mark.whole_run
@pytest.mark.skipif(not CHECKER.exists(), reason="the shared contract checker (../shared) is not beside this clone")
def test_scan_outputs_pass_the_contract_checker(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    checker = subprocess.run([sys.executable, str(CHECKER), str(out), str(corpus)], capture_output=True, text=True)
    assert checker.returncode == 0, checker.stdout


@pytest.mark.whole_run
def test_fail_above_exit_code(corpus: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "o"), "--quiet", "--fail-above", "0.01"])
    assert r.exit_code == 1
    r = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "o"), "--quiet", "--fail-above", "0.5"])
    assert r.exit_code == 0


@pytest.mark.whole_run
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


@pytest.mark.whole_run
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


@pytest.mark.whole_run
def test_bad_config_file_subprocess(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("leeway_seconds = [")
    r = _cli("scan", str(tmp_path), "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "invalid TOML" in r.stderr


@pytest.mark.whole_run
def test_subprocess_scan_and_json(corpus: Path, tmp_path: Path) -> None:
    r = _cli("scan", str(corpus), "--out", str(tmp_path / "o"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tokens"]["unique"] == 2
    assert "\r" not in r.stderr  # stderr is not a terminal here: no progress bar


@pytest.mark.whole_run
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


@pytest.mark.whole_run
def test_report_rebuilds(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    CliRunner().invoke(app, ["scan", str(corpus), "--out", str(out), "--quiet"])
    (out / "report.html").unlink()
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert "expired" in (out / "report.html").read_text()


@pytest.mark.whole_run
def test_the_entry_point_collects_young_objects_less_often() -> None:
    """`main` raises the collector's first threshold (the scan's allocations hold no cycles)."""
    from analyzer.cli import GC_THRESHOLDS

    code = ("import gc, sys\nfrom analyzer import cli\nsys.argv = ['analyzer', '--help']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\nprint(gc.get_threshold(), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert GC_THRESHOLDS[0] > 700  # Python's default
    assert run.stderr.strip().splitlines()[-1] == str(GC_THRESHOLDS)


@pytest.mark.whole_run
def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(corpus: Path, tmp_path: Path) -> None:
    """A name the operating system gives as bytes that are not UTF-8 no longer ends the run: the file is
    read, every output shows its name escaped, and the other files' events are kept."""
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = (corpus / "access.log").read_bytes().splitlines(keepends=True)
    (logs / "access.log").write_bytes(b"".join(lines[:-1]))
    with open(os.path.join(os.fsencode(logs), b"bad-name-\xff\xfe.log"), "wb") as fh:
        fh.write(lines[-1])  # the expired token: the report's example for that cause
    out = tmp_path / "out"
    r = _cli("scan", str(logs), "--jwks", str(corpus / "jwks.json"), "--config", str(corpus / "analyzer.toml"),
             "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    shown = str(logs / "bad-name-\\xff\\xfe.log")
    ev = pd.read_parquet(out / "events")
    assert ev.groupby("source", observed=True).size().to_dict() == {str(logs / "access.log"): 20, shown: 1}
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert shown in [d["path"] for d in run_json["files"]["detail"]]
    assert json.loads(r.stdout)["tokens"]["by_cause"]["expired"] == 1
    assert "bad-name-\\xff\\xfe.log" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.whole_run
def test_key_material_in_a_directory_is_skipped_and_counted(tmp_path: Path) -> None:
    """`analyzer scan sample_logs` no longer reads the demo keys, certificates and README as logs."""
    root = Path(__file__).resolve().parent.parent / "sample_logs"
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scan", str(root), "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    files = json.loads((out / "run.json").read_text())["files"]
    assert files["count"] == 5 and files["by_format"].get("generic", 0) == 0
    skipped = files["skipped_not_logs"]
    assert skipped["count"] == 8 and skipped["by_reason"] == {"pem": 5, "certificate": 2, "markdown": 1}
    assert {Path(p["path"]).parent.name for p in skipped["paths"]} == {"demo-keys"}
    assert "in 5 files (8 skipped as not logs: 5 pem, 2 certificate, 1 markdown)" in r.stderr
    named = CliRunner().invoke(app, ["scan", str(root / "demo-keys" / "README.md"), "--out", str(tmp_path / "o2"),
                                     "--offline", "--json"])
    assert named.exit_code == 0, named.output
    assert json.loads(named.stdout)["files"]["count"] == 1  # named on the command line: read


@pytest.mark.whole_run
@pytest.mark.parametrize(("table", "typo", "words"), [
    ("[[api]]\nname = 'orders'\nhosts = ['h']\n", "audiance = ['api://orders']",
     "api[0]: unknown key 'audiance' (did you mean 'audiences'?)"),
    ("[[client]]\nclient_id = 'c'\n", "nmae = 'billing'", "client[0]: unknown key 'nmae' (did you mean 'name'?)"),
])
def test_a_typo_in_a_table_is_one_line_and_exit_2(tmp_path: Path, table: str, typo: str, words: str) -> None:
    cfg = tmp_path / "analyzer.toml"
    cfg.write_text(f"{table}{typo}\n")
    (tmp_path / "a.log").write_text("x\n")
    r = _cli("scan", str(tmp_path / "a.log"), "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and words in r.stderr and str(cfg) in r.stderr


@pytest.mark.whole_run
def test_version() -> None:
    from analyzer import __version__

    r = _cli("--version")
    assert r.returncode == 0 and r.stdout == f"analyzer {__version__}\n" and not r.stderr
    assert CliRunner().invoke(app, ["--version"]).stdout == f"analyzer {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


@pytest.mark.whole_run
def test_bare_analyzer_prints_help_and_no_empty_error() -> None:
    r = _cli()
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout and "scan" in r.stdout
    assert r.stderr == ""


@pytest.mark.whole_run
def test_progress_display_on_a_terminal_only(corpus: Path, tmp_path: Path) -> None:
    """On a terminal the Rich display shows bytes, rate, ETA and files done; --quiet turns it off."""
    import pty

    def on_a_terminal(*extra: str) -> str:
        master, slave = pty.openpty()
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "160"}
        proc = subprocess.Popen([sys.executable, "-m", "analyzer", "scan", str(corpus), "--out",
                                 str(tmp_path / "o"), "--rescan", *extra],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        seen = b""
        while True:
            try:
                piece = os.read(master, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not piece:
                break
            seen += piece
        os.close(master)
        assert proc.wait(timeout=120) == 0
        return seen.decode("utf-8", "replace")

    shown = on_a_terminal()
    assert "1/1 files" in shown and "ETA" in shown and re.search(r"[\d.]+/[\d.]+ kB", shown), shown
    assert "token occurrences" in shown
    quiet = on_a_terminal("--quiet")
    assert "files" not in quiet and "ETA" not in quiet


def test_the_contract_travels_with_the_repo() -> None:
    """The README's links resolve inside the repository (a clone has no ../shared), and docs/contract.md
    names every column, cause code and command option that exists."""
    import typer.main

    from analyzer import schema as S

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)", readme)
    assert "docs/contract.md" in links
    for link in links:
        if "://" not in link:
            target = (root / link).resolve()
            assert target.exists() and root in target.parents, link
    contract = (root / "docs" / "contract.md").read_text()
    for name in (*S.EVENT_COLUMNS, *S.CAUSES):
        assert f"`{name}`" in contract, name
    for command in typer.main.get_command(app).commands.values():  # type: ignore[attr-defined]
        for p in command.params:
            for opt in p.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in contract, f"{command.name} {opt}"


@pytest.mark.whole_run
def test_paths_that_are_not_utf8_in_options_are_one_line_errors(corpus: Path, tmp_path: Path) -> None:
    """Parquet cannot be written under a path that is not UTF-8: a one-line refusal, not a traceback;
    other messages show such a path escaped."""
    odd = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"out-\xff"))
    r = _cli("scan", str(corpus), "--out", odd)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "out-\\xff" in r.stderr and "UTF-8" in r.stderr
    r = _cli("scan", str(corpus), "--out", str(tmp_path / "o"), "--config", odd + ".toml")
    assert r.returncode == 2 and "out-\\xff.toml: config file not found" in r.stderr


def test_process_wide_choices_are_made_before_the_libraries_load_and_a_user_choice_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`analyzer` (the entry point) picks jemalloc for Arrow and one OpenBLAS thread, unless set already."""
    from analyzer.__main__ import choose_arrow_pool, one_blas_thread

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    choose_arrow_pool()
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "system"


@pytest.mark.whole_run
def test_ctrl_c_is_one_line_and_exit_130_and_keeps_the_previous_output(corpus: Path, tmp_path: Path) -> None:
    """Ctrl-C while a scan waits on its input: `analyzer: interrupted`, exit 130, no traceback (of the
    parent or of a helper process), and the output of the run before still in place."""
    import signal
    import time

    out = tmp_path / "out"
    assert _cli("scan", str(corpus), "--out", str(out), "--quiet").returncode == 0
    before = (out / "run.json").read_bytes()
    (out / ".analyzer.lock").unlink()  # made again when the next run starts
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "scan", "-", str(corpus), "--out", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / ".analyzer.lock").exists():
            assert time.monotonic() < deadline, "the scan never started"
            time.sleep(0.05)
        time.sleep(0.5)  # into the run, reading stdin, which stays open
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert err == "analyzer: interrupted\n"
    assert (out / "run.json").read_bytes() == before


_LEAVING = """
import atexit, sys, threading, time
from analyzer.__main__ import leave

class Torn:
    def __del__(self):
        print("torn down")

kept = Torn()  # a module global: deleted (and so printed) only when the interpreter is torn down
atexit.register(print, "exit handler ran")
if {thread}:
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread done"))).start()
print("said", end="")  # buffered: no newline, and stdout is a pipe
leave({code!r})
"""


@pytest.mark.parametrize(("code", "thread", "status", "out", "err"), [
    (None, False, 0, "saidexit handler ran\n", ""),
    (3, False, 3, "saidexit handler ran\n", ""),
    ("bad thing", False, 1, "saidexit handler ran\n", "bad thing\n"),
    # A thread still running: Python's own exit, which waits for it (and tears down, printing).
    (0, True, 0, "saidthread done\nexit handler ran\ntorn down\n", ""),
])
def test_the_entry_point_leaves_without_tearing_down(code: str | int | None, thread: bool, status: int,
                                                     out: str, err: str) -> None:
    """`leave`: exit handlers run and buffered output is written, the status is `sys.exit`'s, and the
    interpreter is not torn down (no object's `__del__` runs) unless a thread is still running."""
    run = subprocess.run([sys.executable, "-c", _LEAVING.format(code=code, thread=thread)], capture_output=True,
                         text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert (run.returncode, run.stdout, run.stderr) == (status, out, err)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_workers_default_to_the_cores_this_process_may_use(corpus: Path, tmp_path: Path) -> None:
    """Under `taskset` (here: an affinity of one core), the default is one worker, not one per core of the machine."""
    one = min(os.sched_getaffinity(0))
    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(corpus / "access.log"), "--config",
                    str(corpus / "analyzer.toml"), "--out", str(tmp_path / "o"), "--quiet"],
                   check=True, cwd=tmp_path, preexec_fn=lambda: os.sched_setaffinity(0, {one}))
    assert json.loads((tmp_path / "o" / "run.json").read_text())["options"]["workers"] == 1
