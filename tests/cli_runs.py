"""What several CLI test modules share: a copy of sample_logs, `analyzer ARGS` run in-process through the
real entry point, a snapshot of an output directory, and the check of a one-line usage error."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from analyzer import cli


def copy_samples(tmp_path: Path) -> Path:
    """A copy of sample_logs (its analyzer.toml and jwks.json inside, found by config discovery)."""
    target = tmp_path / "logs"
    shutil.copytree(ROOT / "sample_logs", target, ignore=shutil.ignore_patterns("demo-keys"))
    return target


def analyzer(*args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`analyzer ARGS` in-process through the real entry point (errors become exit codes there)."""
    argv = sys.argv
    words = [str(a) for a in args]
    if words[0] == "scan" and "--workers" not in words:
        words += ["--workers", "1"]  # no worker processes forked from the test process
    sys.argv = ["analyzer", *words]
    try:
        cli.main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = argv
    got = capsys.readouterr()
    return code, got.out, got.err


def snapshot(out: Path) -> dict[str, tuple[str, int, int]]:
    """Every file and directory under `out`: content hash, size, mtime in ns."""
    seen: dict[str, tuple[str, int, int]] = {}
    for p in sorted([out, *out.rglob("*")]):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        seen[str(p.relative_to(out))] = (digest, st.st_size, st.st_mtime_ns)
    return seen


def one_line_usage_error(code: int, err: str, *words: str) -> None:
    """Exit 2 with one `analyzer: ...` line holding each of `words`, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.count("\n") == 1 and err.startswith("analyzer: "), err
    for w in words:
        assert w in err, (w, err)
