"""Shared fixtures: isolated config and cache dirs, and a helper to run a scan in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from analyzer.__main__ import choose_arrow_pool

# Tests run the analyzer in this process too: give it the Arrow memory pool the program picks, before
# anything imports pyarrow. (A child's ru_maxrss starts at this process's peak: see test_hostile.)
choose_arrow_pool()

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory):
    """Never touch the real user's config or cache directory (session-wide, so that module-scoped
    fixtures are covered too, and keyed hashes agree across tests)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYZER_PII_KEY_FILE", str(home / "pii-hash.key"))
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        yield


_CRASH_BEFORE_COMMIT = """\
import os, sys
from analyzer.__main__ import choose_arrow_pool, main
choose_arrow_pool()
import analyzer.run
analyzer.run.between_commit_steps = lambda: os._exit(9)
sys.argv[0] = "analyzer"
main()
"""


@pytest.fixture
def crash_before_commit() -> list[str]:
    """The command that runs `analyzer` (append its arguments) in a child process that dies, exit code 9,
    between the two commit steps of a scan: after the events are published, before the state says so."""
    return [sys.executable, "-c", _CRASH_BEFORE_COMMIT]


@pytest.fixture
def scan_dir(tmp_path: Path):
    """Run `analyzer scan` in-process (Typer's CliRunner) and return (exit code, output dir, result)."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    def _scan(*args: str, out: Path | None = None):
        target = out or tmp_path / "out"
        result = CliRunner().invoke(app, ["scan", *args, "--out", str(target), "--quiet"])
        return result.exit_code, target, result

    return _scan


@pytest.fixture(autouse=True)
def _strict_report_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """In tests, a name a report template uses but the view lacks fails instead of printing nothing."""
    from analyzer.report import page as report

    monkeypatch.setattr(report, "STRICT", True)
