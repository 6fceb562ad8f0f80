"""Planning: the inputs as units of work (whole files, byte ranges, ranges of compressed content), in tasks.

A unit is a whole file, a byte range of a large plain file, or a range of the content of a large
gzip/zstd file (ranges start and end at line boundaries); each knows the lines before it. Small
files are bundled into one task. Units and tasks depend only on the inputs, never on the number of
workers, so the output does not either.

Imports the scan layer's inputs and readers and the core's newline count; nothing of the run's later stages.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from analyzer._core import count_file_newlines
from analyzer.scan.inputs import InputFile
from analyzer.scan.readers import compression, content_size, is_utf16

RANGE_BYTES = 64 << 20
BUNDLE_BYTES = 16 << 20  # files smaller than this are scanned together, up to this many bytes a task


@dataclass(frozen=True)
class WorkUnit:
    """A whole file, or the lines of a plain file that start in [start, end)."""

    file: InputFile
    index: int
    file_no: int = 0
    part: int = 0
    start: int = 0
    end: int | None = None
    line_base: int = 0  # lines of the file before this unit's first line (or before `count_from`)
    cost: int | None = None  # about the bytes it yields (a compressed file's decompressed size)
    # A range of a compressed file: where this run's reading of it begins. Its worker decompresses
    # from there to `start` and counts the lines on the way (they are not known beforehand).
    count_from: int | None = None


def _is_plain(f: InputFile) -> bool:
    """A readable, uncompressed file of 8-bit text (only those are split into byte ranges; UTF-16 text is
    read whole)."""
    try:
        return compression(f.path) is None and not is_utf16(f)
    except OSError:
        return False


def plan(files: list[InputFile], range_bytes: int | None = None,
         resume_at: dict[int, int] | None = None, base_at: dict[int, int] | None = None,
         workers: int = 1, max_decompressed: int | None = None) -> list[WorkUnit]:
    """Units in input order; plain files above `range_bytes` are split into byte ranges, and large
    gzip or zstd files into ranges of their content (`_compressed_ranges`).

    `resume_at` maps a file's position in `files` to the content offset where reading starts
    (after what an earlier run read), `base_at` to the lines before it. Each unit knows the number
    of lines before it, so that workers write right line numbers; the newlines before each range
    are counted on `workers` processes. The split does not depend on the number of workers, so
    neither does the output.
    """
    range_bytes = range_bytes or RANGE_BYTES
    resume_at = resume_at or {}
    base_at = base_at or {}
    splits: dict[int, list[int]] = {}  # file_no -> range starts
    for file_no, f in enumerate(files):
        first = resume_at.get(file_no, 0)
        if f.path != "-" and f.size - first > range_bytes and _is_plain(f):
            splits[file_no] = list(range(first, f.size, range_bytes))
    # Range k of a file starts after the first newline at or after bounds[k] - 1: the lines before it
    # are the newlines in [bounds[0], bounds[k] - 1), plus that one. Counted segment by segment.
    segments = [(files[file_no].path, bounds[0] if k == 1 else bounds[k - 1] - 1, bounds[k] - 1)
                for file_no, bounds in splits.items() for k in range(1, len(bounds))]
    counts = iter(_count_segments(segments, workers))
    units: list[WorkUnit] = []
    for file_no, f in enumerate(files):
        base = base_at.get(file_no, 0)
        bounds = splits.get(file_no)
        if bounds is None:
            first = resume_at.get(file_no, 0)
            cost = f.size if f.path == "-" else content_size(f.path, f.size)
            ranges = _compressed_ranges(f, first, cost, max_decompressed)
            if ranges is None:
                units.append(WorkUnit(f, len(units), file_no, 0, first, None, base, max(0, cost - first)))
            for part, (start, end) in enumerate(ranges or ()):
                units.append(WorkUnit(f, len(units), file_no, part, start, end, base, (end or cost) - start,
                                      count_from=first))
            continue
        bases: list[int] = [base]
        count: int | None = base
        for _ in bounds[1:]:
            n = next(counts)
            if n is None or count is None:  # unreadable: the scan of the range reports the error
                count = None
                bases.append(base)
            else:
                count += n
                bases.append(count + 1)
        for part, start in enumerate(bounds):
            end = bounds[part + 1] if part + 1 < len(bounds) else None
            units.append(WorkUnit(f, len(units), file_no, part, start, end, bases[part], (end or f.size) - start))
    return units


COMPRESSED_RANGE_BYTES = RANGE_BYTES  # content bytes per range of a large gzip or zstd file
MAX_COMPRESSED_RANGES = 8
_SPLIT_KINDS = ("gzip", "zstd")  # decompressing a range's prefix again costs ~5% of scanning it


def _compressed_ranges(f: InputFile, first: int, content: int,
                       max_decompressed: int | None) -> list[tuple[int, int | None]] | None:
    """Ranges of the content of a large gzip or zstd file, or None to read it whole.

    A compressed stream cannot be entered mid-way: each range's worker decompresses the content
    before it again and drops it (gzip and zstd decompress at ~1 GB/s, the whole scan of a byte runs at
    ~120 MB/s a core), so one big archive keeps every core busy. Ranges are as large as a plain file's
    (`RANGE_BYTES`): a worker's memory peaks with the size of its unit, so units of one size keep it
    flat whatever the input (128 MB ranges of a 370 MB archive peaked ~25 MB higher); the prefixes of
    a file's n ranges cost (n - 1) / 2 times its decompression again. At most 8 ranges, only for a
    believable estimate (at most 100x the compressed size, within the decompression limit), and the
    last range reads to the end whatever the estimate said.
    """
    todo = content - first
    if (f.path == "-" or todo <= COMPRESSED_RANGE_BYTES or content > 100 * max(f.size, 1)
            or (max_decompressed is not None and content > max_decompressed)):
        return None
    try:
        if compression(f.path) not in _SPLIT_KINDS or is_utf16(f):
            return None
    except OSError:  # the scan reports it
        return None
    n = min(MAX_COMPRESSED_RANGES, -(-todo // COMPRESSED_RANGE_BYTES))
    step = -(-todo // n)
    starts = [first + k * step for k in range(n)]
    return [(start, starts[k + 1] if k + 1 < n else None) for k, start in enumerate(starts)]


def _count_segments(segments: list[tuple[str, int, int]], workers: int) -> list[int | None]:
    """The newlines of each segment (path, start, end) of big plain files; None where one cannot be read.

    The core reads and counts each segment through one reused buffer with the GIL released, on up to
    `workers` threads. A forked pool had added two processes of ~90 MB each to the run's peak memory
    for a pass of a tenth of a second.
    """
    if workers <= 1 or len(segments) <= 1:
        return [count_file_newlines(*seg) for seg in segments]
    with ThreadPoolExecutor(min(workers, len(segments))) as pool:
        return list(pool.map(lambda seg: count_file_newlines(*seg), segments))


def schedule(units: list[WorkUnit]) -> list[WorkUnit]:
    """The order units run (and their outputs are consumed) in: the most work first.

    Work is what a unit yields (a compressed file weighs its decompressed size, `content_size`),
    times how much slower its compression is to read (`SLOWER`). With the longest jobs started
    first, no core is left alone with a big file at the end (longest-processing-time-first
    scheduling). The order depends only on the units, never on the number of workers, so the
    output does not either.
    """
    slower: dict[str, float] = {}
    return sorted(units, key=lambda u: unit_work(u, slower), reverse=True)  # stable: equal work keeps input order


# How many times longer a byte of content takes to scan when it comes out of this compression: bz2
# decompresses at ~25 MB/s and xz at ~90, where the whole scan of a plain byte runs at ~120 MB/s a
# core; gzip and zstd (~1 GB/s) cost little. A bz2 archive weighed by its content alone was
# scheduled last, and one core scanned it alone at the end.
SLOWER = {"bz2": 6.0, "xz": 2.0}


def unit_bytes(u: WorkUnit) -> int:
    """About the bytes a unit yields (its planned cost; a unit made without a plan: its bytes on disk)."""
    return ((u.file.size if u.end is None else u.end) - u.start) if u.cost is None else u.cost


def unit_work(u: WorkUnit, cache: dict[str, float] | None = None) -> float:
    """A unit's planned work: its bytes (`unit_bytes`), weighed by its compression (`SLOWER`)."""
    cache = {} if cache is None else cache
    path = u.file.path
    if path not in cache:
        try:
            kind = None if path == "-" else compression(path)
        except OSError:  # the scan reports it
            kind = None
        cache[path] = SLOWER.get(kind or "", 1.0)
    return unit_bytes(u) * cache[path]


def bundle(units: list[WorkUnit], size: int | None = None) -> list[list[WorkUnit]]:
    """Tasks: each unit of `size` bytes of work (`unit_work`) or more alone, smaller ones together (in
    order) up to `size`.

    Thousands of small rotated files would otherwise each pay a worker round trip and a classified,
    written batch of their own: per-file costs that took 20 ms a file. Tasks depend only on the
    units, never on the number of workers, so the output does not either.
    """
    size = BUNDLE_BYTES if size is None else size
    tasks: list[list[WorkUnit]] = []
    current: list[WorkUnit] = []
    held = 0.0
    slower: dict[str, float] = {}
    for u in units:
        n = unit_work(u, slower)
        if n >= size:
            tasks.append([u])
            continue
        if current and held + n > size:
            tasks.append(current)
            current, held = [], 0.0
        current.append(u)
        held += n
    if current:
        tasks.append(current)
    return tasks
