"""The fuzz target in fuzz/fuzz_pipeline.py: a short atheris run, and the same target on random input."""

from __future__ import annotations

import importlib.util
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

FUZZ = ROOT / "fuzz" / "fuzz_pipeline.py"
SEEDS = sorted((ROOT / "fuzz" / "corpus").glob("*"))


def _target():
    spec = importlib.util.spec_from_file_location("fuzz_pipeline", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check_chunk


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_atheris_short_run(tmp_path: Path) -> None:
    # A CI budget: a few hundred coverage-guided runs from the seed lines (-runs=2000 and more by hand).
    r = subprocess.run([sys.executable, str(FUZZ), "-runs=400", "-seed=1", "-max_len=4096"],
                       capture_output=True, text=True, timeout=240, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-4000:]
    # libFuzzer may count one run more than asked (the last input it tried, when it was new).
    done = re.search(r"Done (\d+) runs", r.stderr)
    assert done is not None and int(done.group(1)) >= 400, r.stderr[-2000:]


@pytest.mark.slow
def test_target_on_random_and_mutated_input() -> None:
    check_chunk = _target()
    rng = random.Random(20240601)
    seeds = [p.read_bytes() for p in SEEDS]
    assert seeds, "fuzz/corpus holds the seed lines"
    for _ in range(2000):
        check_chunk(rng.randbytes(rng.randrange(0, 600)))
    for _ in range(250):  # seed lines with bytes flipped, cut, or spliced together
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 8)):
            op = rng.randrange(4)
            i = rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(i, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                del data[i:i + rng.randrange(1, 40)]
            elif op == 2:
                data[i:i] = rng.choice(seeds)[: rng.randrange(1, 200)]
            else:
                data[i:i] = rng.choice([b"=", b".", b"%3D", b"\x00", b"\n", b"\xff", b"eyJ", b"Bearer ", b'"'])
        check_chunk(bytes(data))
