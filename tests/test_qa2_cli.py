"""The second QA round's command-line defects (helper "qa2"), each checked through the real CLI.

Tokens in error messages, scheduler addresses, `report --out`, `--at` dates, impossible UTC offsets, pipes as
--config/--jwks, a silent exit 3, a wrapped token on stdin, a recorded config that is gone. Each test failed
on the code before its fix.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwts as T
import pytest
from cli_runs import one_line_usage_error
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.config import parse_when
from analyzer.errors import ConfigError

TS = "[10/Oct/2024:13:55:36 +0000]"
KEY = T.make_rsa_key("qa2-k1")
TOKEN = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders",
                                     "22222222-2222-2222-2222-222222222222", seed=2), KEY)
SIGNATURE = TOKEN.rsplit(".", 1)[1]


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./analyzer.toml is picked up by accident


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(f'10.0.0.1 - - {TS} "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {TOKEN}"\n')
    return d


@pytest.fixture
def config(tmp_path: Path) -> Path:
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "keys.json").write_text(json.dumps(T.jwks(KEY)))
    cfg = d / "analyzer.toml"
    cfg.write_text('jwks_file = "keys.json"\n\n[[api]]\nname = "orders"\nhosts = ["orders.contoso.com"]\n'
                   'audiences = ["api://orders"]\n')
    return cfg


def _cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """`analyzer ARGS` in this process (Typer's CliRunner): (exit code, stdout, stderr)."""
    r = CliRunner().invoke(app, list(args), input=stdin)
    return r.exit_code, r.stdout, r.stderr


def _subprocess(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, env=env,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr


def _no_signature(text: str) -> None:
    windows = {SIGNATURE[i:i + 20] for i in range(len(SIGNATURE) - 19)}
    shown = [w for w in windows if w in text]
    assert not shown, f"a piece of the signature was shown: {text[:300]}"


# --- 1: no token or signature in any message ------------------------------------------------------------

def _token_cases(logs: Path, config: Path, out: Path) -> list[list[str]]:
    log = str(logs / "a.log")
    return [
        ["inspect", "Bearer", TOKEN],  # `inspect Bearer $T` unquoted: Click's "unexpected extra argument"
        ["inspect", TOKEN, "--at", TOKEN],
        ["inspect", TOKEN, "--at", SIGNATURE],
        ["inspect", TOKEN, "--config", str(config), "--api", TOKEN],
        ["inspect", TOKEN, "--config", TOKEN],
        ["scan", TOKEN, "--out", str(out)],
        ["scan", TOKEN[:200], "--out", str(out)],
        ["scan", log, "--out", str(out), "--jwks", TOKEN],
        ["scan", log, "--out", str(out), "--config", TOKEN],
        ["scan", log, "--out", str(out), "--since", f"{TOKEN[:40]}.{SIGNATURE}"],
    ]


def test_a_token_typed_where_it_does_not_belong_is_never_shown(logs: Path, config: Path, tmp_path: Path) -> None:
    for args in _token_cases(logs, config, tmp_path / "out"):
        code, out, err = _cli(*args)
        one_line_usage_error(code, err)
        _no_signature(out + err)
    assert not (tmp_path / "out").exists()


@pytest.mark.whole_run
def test_a_token_in_an_error_is_not_shown_by_the_program_either(logs: Path, config: Path, tmp_path: Path) -> None:
    for args in _token_cases(logs, config, tmp_path / "out")[:6]:
        code, out, err = _subprocess(*args)
        one_line_usage_error(code, err)
        _no_signature(out + err)


def test_the_marker_keeps_the_fingerprint_and_spares_paths_and_digests() -> None:
    from analyzer.errors import redact_secrets
    from analyzer.tokens.decode import fingerprint

    text = redact_secrets(f"input not found: {TOKEN}; and {SIGNATURE} alone")
    _no_signature(text)
    assert f"fp {fingerprint(TOKEN.encode())}" in text and f"{len(TOKEN)} chars" in text
    kept = ("/var/log/orders-access-log-production-cluster-east-2026-11-26.log " + "ab12" * 16 +
            " 6e7c1b0a-0000-0000-0000-000000000001 heyJoe: tokens start with eyJ")
    assert redact_secrets(kept) == kept


# --- 9: --scheduler -----------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["not a url", "foo://x:1", "tcp://host-without-port", "tcp://h:99999"])
def test_a_scheduler_address_that_is_none_is_a_usage_error(address: str, logs: Path, tmp_path: Path) -> None:
    code, _, err = _cli("scan", str(logs), "--out", str(tmp_path / "o"), "--engine", "dask", "--scheduler", address)
    one_line_usage_error(code, err, "--scheduler", "tcp://HOST:PORT")
    assert not (tmp_path / "o").exists()


def test_a_scheduler_nobody_answers_at_is_said_at_once(logs: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on any more
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    code, _, err = _cli("scan", str(logs), "--out", str(tmp_path / "o"), "--engine", "dask",
                        "--scheduler", f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 10
    one_line_usage_error(code, err, f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused")
    assert not (tmp_path / "o").exists()


# --- 14: report --out ------------------------------------------------------------------------------------

@pytest.fixture
def scanned(logs: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    code, _, err = _cli("scan", str(logs), "--out", str(out), "--quiet", "--offline")
    assert code == 0, err
    return out


def test_report_out_that_cannot_be_written_is_refused_before_anything_is_written(scanned: Path,
                                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, _, err = _cli("report", str(scanned), "--out", str(folder))
    one_line_usage_error(code, err, f"--out {folder} is a directory")
    assert list(tmp_path.glob(".*.tmp")) == [] and list(folder.iterdir()) == []

    code, _, err = _cli("report", str(scanned), "--out", str(tmp_path / "no-such-dir" / "r.html"))
    one_line_usage_error(code, err, "--out", "no directory")
    assert ".tmp" not in err

    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "x")
    code, _, err = _cli("report", str(scanned), "--split-by", "client", "--out", str(tmp_path / "dangling"))
    one_line_usage_error(code, err, "--out", "symbolic link to nothing")
    assert "File exists" not in err


# --- 16, 17: --at, offsets, help ----------------------------------------------------------------------------

def test_inspect_at_a_date_is_its_midnight_utc() -> None:
    code, out, err = _cli("inspect", TOKEN, "--at", "2026-11-26")
    assert code == 0, err
    assert "checks (at 2026-11-26T00:00:00+00:00" in out


def test_inspect_help_shows_the_api_table_name() -> None:
    code, out, _ = _cli("inspect", "--help")
    assert code == 0
    assert "config's [[api]] called" in " ".join(out.replace("│", " ").split())


@pytest.mark.parametrize("value", ["2026-11-26T00:00:00+99:00", "2026-11-26T00:00:00+9900", "2026-11-26T00:00:00-24:00",
                                   "26/Nov/2026:00:00:00 +9900", "2026-11-26T00:00:00+00:60", "2026-11-26 00:00+99"])
def test_an_impossible_utc_offset_is_refused(value: str, logs: Path, scanned: Path, tmp_path: Path) -> None:
    code, _, err = _cli("scan", str(logs), "--out", str(tmp_path / "o"), "--since", value)
    one_line_usage_error(code, err, "--since", "offset")
    code, _, err = _cli("inspect", TOKEN, "--at", value)
    one_line_usage_error(code, err, "--at", "offset")
    code, _, err = _cli("report", str(scanned), "--until", value, "--out", str(tmp_path / "r.html"))
    one_line_usage_error(code, err, "--until", "offset")
    assert not (tmp_path / "r.html").exists()


def test_possible_offsets_keep_their_meaning() -> None:
    midnight = 1_795_651_200_000_000  # 2026-11-26T00:00:00Z
    assert parse_when("2026-11-26T00:00:00+14:00", 0) == midnight - 14 * 3_600_000_000
    assert parse_when("2026-11-26T00:00:00-05:30", 0) == midnight + 5.5 * 3_600_000_000
    assert parse_when("2026-11-26T00:00:00-05", 0) == midnight + 5 * 3_600_000_000  # hours only: not read as UTC
    assert parse_when("26/Nov/2026:00:00:00 +0100", 0) == midnight - 3_600_000_000
    assert parse_when("2026-11-26", 0) == midnight
    with pytest.raises(ConfigError, match="out of range"):
        parse_when("2026-11-26T00:00:00+24:00", 0)


# --- 18: a pipe as --config or --jwks ----------------------------------------------------------------------

@pytest.fixture
def pipe() -> Iterator[Callable[[str], str]]:
    """/dev/fd/N of a pipe that holds a text, as `<(...)` gives it (the write end closed, as after `cat`)."""
    opened: list[int] = []

    def make(text: str) -> str:
        r, w = os.pipe()
        os.write(w, text.encode())
        os.close(w)
        opened.append(r)
        return f"/dev/fd/{r}"

    yield make
    for fd in opened:
        os.close(fd)


def test_a_pipe_is_read_as_the_config_or_the_key_set(pipe: Callable[[str], str], config: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _cli("inspect", TOKEN, "--jwks", pipe(json.dumps(T.jwks(KEY))), "--json")
    assert code == 0, err
    assert json.loads(out)["signature_checked"] is True

    logs = tmp_path / "other"
    logs.mkdir()
    stranger = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders", "c", seed=4),
                      T.make_rsa_key("not-in-the-set"))
    (logs / "a.log").write_text(f'10.0.0.1 - - {TS} "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {stranger}"\n')
    monkeypatch.chdir(config.parent)  # a pipe's relative paths (jwks_file) are the working directory's
    path = pipe(config.read_text())
    code, _, err = _cli("scan", str(logs), "--out", str(tmp_path / "o"), "--quiet", "--offline", "--config", path)
    assert code == 0, err
    run = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run["options"]["config"] == path
    assert run["tokens"]["by_cause"]["unknown_kid"] == 1  # the config's key set was read


def test_a_socket_as_the_config_is_not_a_regular_file(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        code, _, err = _cli("scan", str(logs), "--out", str(tmp_path / "o"), "--config", str(path))
    one_line_usage_error(code, err, "s.sock: is not a regular file, not a config file")


# --- 19: exit 3 says why ----------------------------------------------------------------------------------

def test_exit_3_says_why(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    code, _, err = _cli("scan", str(tmp_path / "pipe.log"), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("analyzer: nothing could be read: ") and "pipe.log" in err, err

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _cli("scan", str(empty), "--out", str(tmp_path / "o2"))
    assert code == 0  # not an error (README): there is just nothing new
    assert err.startswith("nothing new; the dataset holds 0 occurrences") and "nothing could be read" not in err, err


# --- 22: a token wrapped over lines on stdin ----------------------------------------------------------------

def test_a_token_wrapped_over_lines_on_stdin_is_joined() -> None:
    whole = _cli("inspect", TOKEN, "--json")
    wrapped = _cli("inspect", "-", "--json", stdin=f"Bearer {TOKEN[:76]}\n{TOKEN[76:200]}\r\n{TOKEN[200:]}\n")
    assert whole[0] == wrapped[0] == 0, wrapped[2]
    one, other = json.loads(whole[1]), json.loads(wrapped[1])
    assert other["token_fp"] == one["token_fp"] and other["cause"] == one["cause"] != "malformed"
    second = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders", "c", seed=3), KEY)
    code, out, _ = _cli("inspect", "-", "--json", stdin=f"{TOKEN}\n{second}\n")  # two tokens: the first
    assert code == 0 and json.loads(out)["token_fp"] == one["token_fp"]


# --- 6: the recorded config is gone -------------------------------------------------------------------------

def test_a_recorded_config_that_is_gone_is_refused_before_the_output_is_touched(logs: Path, config: Path,
                                                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = _cli("scan", str(logs), "--out", str(out), "--config", str(config), "--quiet", "--offline")
    assert code == 0, err
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    config.rename(config.with_suffix(".bak"))
    code, _, err = _cli("scan", str(logs), "--out", str(out), "--offline")
    one_line_usage_error(code, err, f"was built with the config {config}, which is gone", "--config", "--rescan")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    code, _, err = _cli("scan", str(logs), "--out", str(out), "--offline", "--quiet", "--rescan")
    assert code == 0, err
