"""Process plumbing: the Arrow memory pool every process of a run allocates from.

What the pool's settings save is a figure (benchmarks/README.md: the parent's peak at 7.4 GB, 238 -> 212 MB),
measured by the benchmark; an RSS bound here failed under the suite's load.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest

from analyzer.engine import processes


class _Pools:
    """pyarrow's pool calls, recorded; the default pool's backend as given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
        self.calls: list[tuple[str, object]] = []
        monkeypatch.setattr(pa, "default_memory_pool", lambda: SimpleNamespace(backend_name=backend))
        monkeypatch.setattr(pa, "set_memory_pool", lambda pool: self.calls.append(("set", pool)))
        monkeypatch.setattr(pa, "jemalloc_memory_pool", lambda: "jemalloc pool")
        monkeypatch.setattr(pa, "jemalloc_set_decay_ms", lambda ms: self.calls.append(("decay", ms)))


def test_with_jemalloc_freed_pages_go_back_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """jemalloc keeps freed pages for a while, and only returns them as the thread that freed them allocates
    again: the pages of the tables the tail's pass had read stayed in the parent's peak."""
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")  # chosen before pyarrow loaded
    pools = _Pools(monkeypatch, "jemalloc")
    processes.use_memory_pool()
    assert pools.calls == [("decay", 0)]


def test_without_a_choice_jemalloc_becomes_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pools = _Pools(monkeypatch, "jemalloc")
    processes.use_memory_pool()
    assert pools.calls == [("set", "jemalloc pool"), ("decay", 0)]


def test_another_pool_the_user_chose_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    pools = _Pools(monkeypatch, "system")
    processes.use_memory_pool()
    assert pools.calls == []


@pytest.mark.skipif(sys.platform != "linux", reason="jemalloc is the pool on Linux")
def test_the_real_jemalloc_pool_takes_the_setting() -> None:
    """The installed pyarrow has jemalloc and takes the decay (the calls above are its own names)."""
    code = ("from analyzer.engine.processes import use_memory_pool; import pyarrow as pa; use_memory_pool(); "
            "print(pa.default_memory_pool().backend_name)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          env={"ARROW_DEFAULT_MEMORY_POOL": "jemalloc", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["jemalloc"]
