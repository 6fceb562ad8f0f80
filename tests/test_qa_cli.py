"""A demanding user's mistakes on the command line and in the config: each is one line on stderr and exit 2.

Found by running `analyzer` on purpose-made bad input (helper "qa"); each case ended in a traceback, an
`internal error` (exit 70) or a silent wrong run before its fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jwts as T
import pytest
from cli_runs import one_line_usage_error

from analyzer.cli import main

TS = "[10/Oct/2024:13:55:36 +0000]"


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """`analyzer ARGS` through the real entry point (errors mapped to exit codes): (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["analyzer", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    code = exit_.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    key = T.make_rsa_key("qa-k1")
    tok = T.sign(T.access_token_claims("11111111-1111-1111-1111-111111111111", "api://orders",
                                       "22222222-2222-2222-2222-222222222222", seed=1), key)
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_text(f'10.0.0.1 - - {TS} "GET /orders HTTP/1.1" 401 5 "-" "curl/8" "Bearer {tok}"\n')
    return d


@pytest.mark.parametrize(("flags", "words"), [
    (["--until", "99999999d"], ["--until", "out of range"]),
    (["--since", "3000000000d"], ["--since", "out of range"]),
    (["--since", "9999-01-01"], ["out of range"]),
    (["--since", ""], ["--since", "is not a time"]),
    (["--since", "2024-10-10", "--until", "2024-10-01"], ["not before --until"]),
    (["--keep-days", "99999999999"], ["--keep-days", "at most"]),
    (["--leeway", "99999999999999999999"], ["--leeway", "at most"]),
    (["--max-decompressed", "0.1"], ["--max-decompressed", "less than one byte"]),
])
def test_out_of_range_options(flags: list[str], words: list[str], logs: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(tmp_path / "o"), "--offline", "--quiet",
                     *flags)
    one_line_usage_error(code, err, *words)


def test_out_that_is_a_file_or_cannot_be_created(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an `--out ''` that slipped through would write here
    a_file = tmp_path / "afile"
    a_file.write_text("keep me\n")
    for out, words in [(str(a_file), ["is not a directory"]), (str(a_file / "sub"), ["cannot create it in"]),
                       ("/proc/analyzer-qa/out", ["/proc/analyzer-qa"]), ("", ["--out is empty"])]:
        code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", out, "--offline", "--quiet")
        one_line_usage_error(code, err, *words)
    assert a_file.read_text() == "keep me\n"


def test_empty_out_writes_nothing_into_the_working_directory(logs: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _ = _cli(capsys, monkeypatch, "scan", str(logs), "--out", "", "--offline", "--quiet")
    assert code == 2 and list(work.iterdir()) == []


@pytest.mark.parametrize(("text", "words"), [
    ("jwks_file = 7\n", ["jwks_file must be a file path"]),
    ('[[api]]\nname = 5\nhosts = ["a"]\n', ["api[0].name must be a string"]),
    ('[[client]]\nclient_id = "x"\nname = ["n"]\n', ["client[0].name must be a string"]),
    ('[[client]]\nclient_id = ["x"]\n', ["client[0].client_id must be a string"]),
    ("leeway_seconds = 99999999999999999999\n", ["leeway_seconds", "10 years"]),
    ('max_decompressed = "0.5"\n', ["max_decompressed", "less than one byte"]),
])
def test_config_values_of_the_wrong_type_or_range(text: str, words: list[str], logs: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(tmp_path / "o"), "--offline", "--quiet",
                     "--config", str(cfg))
    one_line_usage_error(code, err, str(cfg), *words)


def test_a_directory_given_as_config_or_key_set(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for flag, words in [("--config", "is a directory, not a config file"),
                        ("--jwks", "is a directory, not a key set file")]:
        code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(tmp_path / "o"), "--offline",
                         "--quiet", flag, str(tmp_path))
        one_line_usage_error(code, err, words)


# Fails on qa's own base (88e5f47): main's pipeline.py (the data-safety helper's work, merged since) fixes it.
@pytest.mark.whole_run
def test_a_missing_path_is_named_and_the_dataset_is_left_as_it_was(logs: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    out = tmp_path / "o"
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(out), "--offline", "--quiet")
    assert code == 0, err
    before = len(pd.read_parquet(out / "events"))
    assert before == 1
    missing = tmp_path / "no-such-logs"
    # Another --leeway (a setting that changes classification) as a new user might pass by habit.
    code, err = _cli(capsys, monkeypatch, "scan", str(missing), "--out", str(out), "--offline", "--quiet",
                     "--leeway", "60")
    assert code != 0
    assert str(missing) in err
    assert len(pd.read_parquet(out / "events")) == before


def test_a_config_saved_by_notepad_with_a_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    from analyzer.config import load_config

    cfg = tmp_path / "analyzer.toml"
    cfg.write_bytes(b"\xef\xbb\xbfleeway_seconds = 60\r\noffline = true\r\n")
    fields = load_config(cfg)
    assert fields["leeway_seconds"] == 60 and fields["offline"] is True


@pytest.mark.whole_run
def test_a_damaged_state_database_is_one_line(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(out), "--offline", "--quiet")
    assert code == 0, err
    (out / "state.sqlite").write_bytes(b"garbage, not SQLite\n")
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(out), "--offline", "--quiet")
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    assert "state.sqlite is damaged" in err and len(err.strip().splitlines()) == 1
    assert (out / "state.sqlite").read_bytes() == b"garbage, not SQLite\n"  # left for the user to look at


@pytest.mark.whole_run
def test_report_on_a_run_json_that_is_not_an_object(logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(out), "--offline", "--quiet")
    assert code == 0, err
    (out / "run.json").write_text("[1, 2]\n")
    code, err = _cli(capsys, monkeypatch, "report", str(out))
    one_line_usage_error(code, err, "not a readable analyzer output directory")


@pytest.mark.whole_run
def test_an_output_directory_inside_a_scanned_directory_is_not_read_as_logs(
        logs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    out = logs / "reports"  # `analyzer scan . --out reports`, as a new user runs it
    for _ in range(2):
        code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(out), "--offline", "--quiet")
        assert code == 0, err
        run = json.loads((out / "run.json").read_text())
        assert not [f["path"] for f in run["files"]["detail"] if "reports" in f["path"]]
    assert run["dataset"]["occurrences"] == 1


def test_out_that_is_the_scanned_directory_is_refused(logs: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = _cli(capsys, monkeypatch, "scan", str(logs), "--out", str(logs), "--offline", "--quiet")
    one_line_usage_error(code, err, "is a directory being scanned")
    assert sorted(p.name for p in logs.iterdir()) == ["a.log"]
