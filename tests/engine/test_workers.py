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


# The pool's feeder thread waits for room ahead of the consumer; a run that ends early must wake it,
# or the pool's terminate waits for it forever. The first task is slow, so the later ones are done
# and the feeder waits when the run ends. Run in a child process, so a hang fails the test.
_ENDS_EARLY = """
import sys, time
from pathlib import Path
sys.path[:0] = [{tests!r}]
from engine.test_workers import logs
from analyzer.config import Settings
from analyzer.engine import plan as P, workers as W
from analyzer.engine.plan import bundle, plan, schedule
from analyzer.tokens.keys import KeyRing
P.BUNDLE_BYTES = 1  # each file a task: more tasks than the pool is fed ahead
units = plan(logs(Path({tmp!r}), 12))
first, second = (task[0].file.path for task in bundle(schedule(units))[:2])
real = W.scan_task
def scan_task(task, ctx):
    if task[0].file.path == first:
        time.sleep(1)
    elif {how!r} == "fail" and task[0].file.path == second:
        raise RuntimeError("a task failed")
    return real(task, ctx)
W.scan_task = scan_task
if {how!r} == "interrupt":  # Ctrl-C, as a terminal sends it: to the whole process group
    import os, signal, threading
    threading.Timer(0.5, os.killpg, (os.getpgid(0), signal.SIGINT)).start()
outputs = W.run_units(units, Settings(workers=2), KeyRing(), 2)
try:
    next(outputs)
    if {how!r} == "close":
        outputs.close()
        print("closed")
    else:
        list(outputs)
except RuntimeError as e:
    print("raised:", e)
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.mark.parametrize(("how", "said"), [("fail", "raised: a task failed"), ("close", "closed"),
                                          ("interrupt", "interrupted")])
def test_a_run_that_ends_early_stops_its_workers(tmp_path: Path, how: str, said: str) -> None:
    """A task's error reaches the caller, a consumer that stops early gets control back, and Ctrl-C
    interrupts the parent alone (the workers leave it to the parent): no hang, no worker's traceback."""
    import os
    import signal
    import subprocess
    import sys

    script = _ENDS_EARLY.format(tests=str(Path(__file__).parents[1]), tmp=str(tmp_path), how=how)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=Path(__file__).parents[2], start_new_session=True)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # its workers too
        child.communicate()
        pytest.fail("the run hung")
    assert out.strip() == said, err[-2000:]
    assert err == ""
