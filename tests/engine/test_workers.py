"""engine.workers.run_units: the tasks run here or on forked workers, with the collector quiet meanwhile."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from analyzer.config import Settings
from analyzer.engine import plan as P
from analyzer.engine.plan import plan
from analyzer.engine.processes import GC_YOUNG
from analyzer.engine.workers import run_units
from analyzer.scan.inputs import InputFile
from analyzer.tokens.keys import KeyRing


def logs(tmp_path: Path, n: int) -> list[InputFile]:
    files = []
    for i in range(n):
        path = tmp_path / f"access-{i}.log"
        path.write_text("".join(f'10.0.0.{i} - - [10/Oct/2024:13:55:36 +0000] "GET /x HTTP/1.1" 200 5\n'
                                for _ in range(3)))
        st = path.stat()
        files.append(InputFile(str(path), st.st_size, st.st_mtime, st.st_dev, st.st_ino))
    return files


@pytest.mark.parametrize("workers", [1, 2])
def test_the_collector_is_quiet_while_units_run_and_as_before_afterwards(tmp_path: Path, workers: int,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "BUNDLE_BYTES", 1)  # each file a task of its own: two workers get a pool
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    files = logs(tmp_path, 3)
    units = plan(files)
    seen = []
    for out in run_units(units, Settings(workers=workers), KeyRing(), workers):
        seen.append((out.unit.file.path, out.result.stats.lines))
        assert gc.get_threshold()[0] == GC_YOUNG
        assert gc.get_freeze_count() > frozen  # what was alive when the scan began is out of the collector's sight
    assert sorted(seen) == [(f.path, 3) for f in files]
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_an_abandoned_run_gives_the_collector_back(tmp_path: Path) -> None:
    before = gc.get_threshold()
    outputs = run_units(plan(logs(tmp_path, 2)), Settings(workers=1), KeyRing(), 1)
    next(outputs)
    outputs.close()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
