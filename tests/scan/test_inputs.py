"""Expanding the inputs: the walk's order, and trees deeper than Python's recursion limit (found by QA: D11)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from analyzer.scan.inputs import expand_inputs


def test_the_walk_goes_depth_first_in_name_order(tmp_path: Path) -> None:
    """A subdirectory's files come before its later siblings, each directory's entries by name."""
    for rel in ("b.log", "a/z.log", "a/b/c.log", "a/a.log", "c/d.log", "a0.log"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x\n")
    got = [Path(f.path).relative_to(tmp_path).as_posix() for f in expand_inputs([str(tmp_path)]).files]
    assert got == ["a/a.log", "a/b/c.log", "a/z.log", "a0.log", "b.log", "c/d.log"]


def test_a_tree_deeper_than_the_recursion_limit_is_walked(tmp_path: Path) -> None:
    """200 directories deeper than the recursion limit (the path still under PATH_MAX): both files found,
    no RecursionError (which ended the run with exit 70 and no output)."""
    depth = sys.getrecursionlimit() + 200
    (tmp_path / "top.log").write_text("x\n")
    dirs = [str(tmp_path)]
    for _ in range(depth):
        dirs.append(os.path.join(dirs[-1], "a"))
        os.mkdir(dirs[-1])
    bottom = os.path.join(dirs[-1], "bottom.log")
    Path(bottom).write_text("x\n")
    try:
        found = expand_inputs([str(tmp_path)])
        assert [f.path for f in found.files] == [bottom, str(tmp_path / "top.log")] and not found.errors
    finally:  # bottom up, without recursion: shutil.rmtree recurses as deep as the tree
        os.remove(bottom)
        for d in reversed(dirs[1:]):
            os.rmdir(d)
