"""engine.plan: units of work (whole files, byte ranges, ranges of compressed content), their order and tasks.

Real files on tmp_path; the lines before each range are checked against newlines counted here.
"""

from __future__ import annotations

import bz2
import gzip
import os
import random
from pathlib import Path

import pytest
import zstandard

from analyzer.engine import plan as P
from analyzer.engine.plan import WorkUnit, bundle, plan, schedule, unit_bytes
from analyzer.scan.inputs import InputFile


def entry(path: Path) -> InputFile:
    """The InputFile the input expansion makes of a file on disk."""
    st = os.stat(path)
    return InputFile(str(path), st.st_size, st.st_mtime, st.st_dev, st.st_ino)


def log_bytes(n: int, seed: int = 1, long_every: int = 0) -> bytes:
    """n lines of varied length (every `long_every`-th one a few KB long), each ending in a newline."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        width = 3000 + rng.randrange(2000) if long_every and i % long_every == long_every - 1 else rng.randrange(120)
        lines.append(f"{i:06d} " + "".join(rng.choice("abcdefgh ") for _ in range(width)) + "\n")
    return "".join(lines).encode()


def lines_before(data: bytes, start: int) -> int:
    """The lines of `data` before the first line that starts at or after `start` (counted here)."""
    if start == 0:
        return 0
    p = data.find(b"\n", start - 1)
    return data.count(b"\n", 0, p + 1)


def write(tmp_path: Path, name: str, data: bytes) -> InputFile:
    path = tmp_path / name
    path.write_bytes(data)
    return entry(path)


def unit(size: int, cost: int | None = None, index: int = 0, start: int = 0, end: int | None = None) -> WorkUnit:
    """A unit of a file of `size` bytes that is not on disk (schedule and bundle read only sizes)."""
    return WorkUnit(InputFile(f"f{index}.log", size, 0.0), index, index, 0, start, end, 0, cost)


# --------------------------------------------------------------------------- plan: plain files


def test_small_files_are_one_whole_unit_each_in_input_order(tmp_path: Path) -> None:
    files = [write(tmp_path, "b.log", log_bytes(30, 1)), write(tmp_path, "a.log", log_bytes(10, 2))]
    units = plan(files, range_bytes=1 << 20)
    assert units == [WorkUnit(files[0], 0, 0, 0, 0, None, 0, files[0].size),
                     WorkUnit(files[1], 1, 1, 0, 0, None, 0, files[1].size)]


def test_large_plain_file_is_split_into_contiguous_ranges_of_range_bytes(tmp_path: Path) -> None:
    f = write(tmp_path, "big.log", log_bytes(400))
    units = plan([f], range_bytes=4000)
    assert [u.start for u in units] == list(range(0, f.size, 4000))
    assert [u.end for u in units] == [*range(4000, f.size, 4000), None]
    assert [u.part for u in units] == list(range(len(units))) and [u.index for u in units] == list(range(len(units)))
    assert {u.file_no for u in units} == {0} and all(u.count_from is None for u in units)
    assert sum(u.cost or 0 for u in units) == f.size


def test_a_file_of_exactly_range_bytes_is_not_split(tmp_path: Path) -> None:
    f = write(tmp_path, "edge.log", log_bytes(200))
    assert len(plan([f], range_bytes=f.size)) == 1
    assert len(plan([f], range_bytes=f.size - 1)) == 2


def test_line_base_of_each_range_is_the_lines_before_it(tmp_path: Path) -> None:
    # Long lines span whole ranges, so some ranges start no line at all.
    data = log_bytes(600, seed=7, long_every=37)
    f = write(tmp_path, "big.log", data)
    units = plan([f], range_bytes=1500)
    assert len(units) > 20
    assert [u.line_base for u in units] == [lines_before(data, u.start) for u in units]


def test_a_range_that_starts_right_after_a_newline_starts_with_that_line(tmp_path: Path) -> None:
    data = b"".join(b"%099d\n" % i for i in range(0, 100))  # lines of exactly 100 bytes: newlines at 999, 1999, ...
    f = write(tmp_path, "even.log", data)
    units = plan([f], range_bytes=1000)
    assert [u.line_base for u in units] == [10 * k for k in range(10)]


def test_resume_at_and_base_at_start_a_split_file_after_what_was_read(tmp_path: Path) -> None:
    data = log_bytes(500, seed=3)
    f = write(tmp_path, "grown.log", data)
    first = data.index(b"\n", 5000) + 1  # an earlier run read up to a line boundary
    units = plan([f], range_bytes=3000, resume_at={0: first}, base_at={0: 1000})
    assert [u.start for u in units] == list(range(first, f.size, 3000))
    assert units[0].line_base == 1000
    # Lines before each range: the earlier run's, plus those read since `first`.
    assert [u.line_base for u in units] == [1000 + lines_before(data[first:], u.start - first) for u in units]


def test_resume_at_of_a_small_file_starts_its_unit_there(tmp_path: Path) -> None:
    data = log_bytes(40)
    f = write(tmp_path, "small.log", data)
    first = data.index(b"\n", 100) + 1
    (u,) = plan([f], resume_at={0: first}, base_at={0: 12})
    assert (u.start, u.end, u.line_base, u.cost) == (first, None, 12, f.size - first)


def test_resume_at_applies_to_its_file_only(tmp_path: Path) -> None:
    a = write(tmp_path, "a.log", log_bytes(40, 1))
    b = write(tmp_path, "b.log", log_bytes(40, 2))
    ua, ub = plan([a, b], resume_at={1: 50}, base_at={1: 3})
    assert (ua.start, ua.line_base) == (0, 0)
    assert (ub.start, ub.line_base, ub.file_no) == (50, 3, 1)


def test_counting_on_two_workers_gives_the_same_units(tmp_path: Path) -> None:
    files = [write(tmp_path, "a.log", log_bytes(300, 4, long_every=23)), write(tmp_path, "b.log", log_bytes(5, 5)),
             write(tmp_path, "c.log", log_bytes(300, 6))]
    one = plan(files, range_bytes=2500, workers=1)
    assert len(one) > 10
    assert plan(files, range_bytes=2500, workers=2) == one
    assert schedule(plan(files, range_bytes=2500, workers=2)) == schedule(one)


def test_stdin_is_one_unit_and_never_split(tmp_path: Path) -> None:
    stdin = InputFile("-", 0, 1.0)
    assert plan([stdin], range_bytes=1) == [WorkUnit(stdin, 0, 0, 0, 0, None, 0, 0)]


def test_an_unreadable_file_is_one_whole_unit_left_to_the_scan(tmp_path: Path) -> None:
    f = write(tmp_path, "gone.log", log_bytes(200))
    (tmp_path / "gone.log").unlink()  # vanished after the listing
    d = InputFile(str(tmp_path), 50_000, 0.0)  # a directory cannot be read as a file
    units = plan([f, d], range_bytes=1000)
    assert [(u.file, u.start, u.end, u.part) for u in units] == [(f, 0, None, 0), (d, 0, None, 0)]


def test_segments_count_newlines_and_a_file_that_cannot_be_read_is_none(tmp_path: Path) -> None:
    """The core counts each segment's newlines (across its 1 MiB reads), on threads or not: the same counts."""
    (tmp_path / "x").write_bytes(b"a\nb\nc\n")
    big = tmp_path / "big"
    big.write_bytes(b"line\n" * 600_000)  # 3 MB: several reads of the core's buffer
    segments = [(str(tmp_path / "x"), 1, 4), (str(tmp_path / "missing"), 0, 10), (str(big), 7, 2_999_995),
                (str(big), 0, 10_000_000), (str(tmp_path / "x"), 4, 4)]
    expected = [2, None, big.read_bytes()[7:2_999_995].count(b"\n"), 600_000, 0]
    assert P._count_segments(segments, workers=1) == expected
    assert P._count_segments(segments, workers=2) == expected


# --------------------------------------------------------------------------- plan: compressed files


def test_a_compressed_file_is_read_whole_and_weighs_its_content(tmp_path: Path) -> None:
    data = log_bytes(400)
    f = write(tmp_path, "a.log.gz", gzip.compress(data))
    (u,) = plan([f], range_bytes=100)  # never split into byte ranges, whatever its size
    assert (u.start, u.end, u.count_from, u.cost) == (0, None, None, len(data))


def test_a_large_gzip_file_is_split_into_ranges_of_its_content(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "COMPRESSED_RANGE_BYTES", 4000)
    data = log_bytes(400)
    f = write(tmp_path, "a.log.gz", gzip.compress(data))
    units = plan([f], resume_at={0: 1000}, base_at={0: 9})
    assert len(units) == min(P.MAX_COMPRESSED_RANGES, -(-(len(data) - 1000) // 4000))
    assert units[0].start == 1000 and units[-1].end is None
    assert [u.end for u in units[:-1]] == [u.start for u in units[1:]]
    # The lines before a range are counted by its worker from where this run's reading starts.
    assert all(u.count_from == 1000 and u.line_base == 9 for u in units)
    assert sum(u.cost or 0 for u in units) == len(data) - 1000


def test_a_large_bz2_file_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "COMPRESSED_RANGE_BYTES", 4000)
    f = write(tmp_path, "a.log.bz2", bz2.compress(log_bytes(400)))
    assert len(plan([f])) == 1


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
@pytest.mark.parametrize("first", [0, 12345])
def test_compressed_ranges_cover_the_content_from_first_in_at_most_max_ranges(tmp_path: Path, kind: str,
                                                                              first: int) -> None:
    raw = gzip.compress(b"x\n") if kind == "gzip" else zstandard.ZstdCompressor().compress(b"x\n")
    (tmp_path / "a").write_bytes(raw)
    f = InputFile(str(tmp_path / "a"), 40 * P.COMPRESSED_RANGE_BYTES, 0.0)  # sizes as if it were large
    for content, n in [(3 * P.COMPRESSED_RANGE_BYTES, 3), (100 * P.COMPRESSED_RANGE_BYTES, P.MAX_COMPRESSED_RANGES)]:
        ranges = P._compressed_ranges(f, first, content + first, None)
        assert ranges is not None and len(ranges) == n
        assert ranges[0][0] == first and ranges[-1][1] is None  # the last reads to the end, whatever the estimate
        assert [e for _, e in ranges[:-1]] == [s for s, _ in ranges[1:]]
        assert all(e is None or e > s for s, e in ranges)


def test_no_compressed_ranges_for_small_or_unbelievable_estimates(tmp_path: Path) -> None:
    (tmp_path / "a.gz").write_bytes(gzip.compress(b"x\n"))
    (tmp_path / "a.bz2").write_bytes(bz2.compress(b"x\n"))
    (tmp_path / "a.log").write_bytes(b"x\n")
    big = 4 * P.COMPRESSED_RANGE_BYTES
    gz = InputFile(str(tmp_path / "a.gz"), big // 10, 0.0)
    assert P._compressed_ranges(gz, 0, big, None) is not None  # the case the others differ from by one thing
    assert P._compressed_ranges(gz, 0, P.COMPRESSED_RANGE_BYTES, None) is None  # one range's worth
    assert P._compressed_ranges(gz, big - 100, big, None) is None  # little left after `first`
    assert P._compressed_ranges(InputFile(gz.path, big // 101, 0.0), 0, big, None) is None  # > 100x its size
    assert P._compressed_ranges(gz, 0, big, big - 1) is None  # beyond the decompression limit
    assert P._compressed_ranges(InputFile("-", big, 0.0), 0, big, None) is None
    assert P._compressed_ranges(InputFile(str(tmp_path / "a.bz2"), big // 10, 0.0), 0, big, None) is None
    assert P._compressed_ranges(InputFile(str(tmp_path / "a.log"), big // 10, 0.0), 0, big, None) is None
    assert P._compressed_ranges(InputFile(str(tmp_path / "missing"), big // 10, 0.0), 0, big, None) is None


# --------------------------------------------------------------------------- schedule, bundle, unit_bytes


def test_unit_bytes_is_the_planned_cost_or_the_bytes_on_disk() -> None:
    assert unit_bytes(unit(1000)) == 1000
    assert unit_bytes(unit(1000, start=300)) == 700
    assert unit_bytes(unit(1000, start=300, end=500)) == 200
    assert unit_bytes(unit(1000, cost=8000)) == 8000  # a compressed file: its content


def test_schedule_runs_the_largest_first_and_keeps_the_input_order_of_ties() -> None:
    units = [unit(10, index=0), unit(50, index=1), unit(10, index=2), unit(5, cost=90, index=3), unit(50, index=4)]
    assert [u.index for u in schedule(units)] == [3, 1, 4, 0, 2]
    assert [u.index for u in units] == [0, 1, 2, 3, 4]  # the plan itself is left as it was


def test_schedule_weighs_slow_compressions_so_a_bz2_archive_does_not_run_last(tmp_path: Path) -> None:
    import lzma

    data = log_bytes(300)
    files = [write(tmp_path, "plain.log", data * 4), write(tmp_path, "a.log.gz", gzip.compress(data * 2)),
             write(tmp_path, "b.log.bz2", bz2.compress(data)), write(tmp_path, "c.log.xz", lzma.compress(data))]
    units = plan(files)
    content = [unit_bytes(u) for u in units]  # the progress meter's bytes: content, not work
    assert content[:2] == [4 * len(data), 2 * len(data)] and content[0] > max(content[2:])
    weights = [1, 1, P.SLOWER["bz2"], P.SLOWER["xz"]]
    assert [P.unit_work(u) for u in units] == [c * w for c, w in zip(content, weights, strict=True)]
    # By content the bz2 archive would run third; by work it runs first.
    assert [u.file.name.rsplit("/", 1)[-1] for u in schedule(units)] == ["b.log.bz2", "c.log.xz", "plain.log",
                                                                         "a.log.gz"]
    # Bundled by work too: the archive, of less content than the bundle size, is a task of its own.
    assert [len(t) for t in bundle(schedule(units), size=int(P.unit_work(units[2])))] == [1, 3]


def test_bundle_of_scheduled_units_puts_large_ones_alone_and_small_ones_together() -> None:
    sizes = [20, 10, 9, 5, 4, 4, 3, 2, 1]  # as `schedule` orders them
    units = [unit(s, index=i) for i, s in enumerate(sizes)]
    tasks = bundle(units, size=10)
    assert [[u.index for u in t] for t in tasks] == [[0], [1], [2], [3, 4], [5, 6, 7, 8]]


def test_bundle_keeps_small_units_in_order_up_to_size() -> None:
    sizes = [5, 3, 20, 4, 4, 10, 1, 9, 2]
    units = [unit(s, index=i) for i, s in enumerate(sizes)]
    tasks = bundle(units, size=10)
    # A large unit is a task of its own at once; the small ones around it go on filling the open one.
    assert [[u.index for u in t] for t in tasks] == [[2], [0, 1], [5], [3, 4, 6], [7], [8]]
    assert [u.index for t in tasks for u in t if unit_bytes(u) < 10] == [0, 1, 3, 4, 6, 7, 8]
    assert all(len(t) == 1 or sum(unit_bytes(u) for u in t) <= 10 for t in tasks)


def test_bundle_of_nothing_is_no_task_and_default_size_is_bundle_bytes() -> None:
    assert bundle([]) == []
    small = [unit(P.BUNDLE_BYTES // 4, index=i) for i in range(6)]
    assert [len(t) for t in bundle(small)] == [4, 2]
