"""`analyzer report`: report.html written again from an output directory, or one report per owner and an index.

Imports the report's modules and `outputs.write`; nothing of the scan, engine or run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import ConfigError
from analyzer.outputs.write import DIR_MODE, write_text_file
from analyzer.report import page as report
from analyzer.report.data import SPLIT_DIMENSIONS, ReportData, report_file_name
from analyzer.report.text import Names


@dataclass(frozen=True)
class Written:
    """What `rebuild_report` wrote: the report (or the index) and, when split, each owner's report."""

    path: Path
    reports: list[tuple[str, Path, int, int]]  # (owner's name, file, occurrences, failing)


def rebuild_report(directory: Path, out_file: Path | None = None, split_by: str | None = None,
                   since_us: int | None = None, until_us: int | None = None) -> Written:
    """Write report.html again from an output directory; with `split_by`, one report per owner and an index."""
    if split_by is not None and split_by not in SPLIT_DIMENSIONS:
        raise ConfigError(f"--split-by must be one of: {', '.join(SPLIT_DIMENSIONS)}")
    try:
        data = ReportData.load(directory, since_us=since_us, until_us=until_us)
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"not a readable analyzer output directory ({type(e).__name__}: {e})",
                          str(directory)) from None
    if split_by is None:
        target = out_file or directory / "report.html"
        write_text_file(target, report.render(data))
        return Written(target, [])
    dim = SPLIT_DIMENSIONS[split_by]
    folder = out_file or directory / f"reports-by-{split_by}"
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    names = Names.of_run(data.run)
    entries, written = [], []
    for value, occ, fail in data.owners(dim):
        label = names.name(dim, value)
        name = report_file_name(dim, value, label if names.has_name(dim, value) else None)
        write_text_file(folder / name, report.render(data.only(dim, value)))
        entries.append((name, value, occ, fail))
        written.append((label, folder / name, occ, fail))
    write_text_file(folder / "index.html", report.render_index(entries, dim, data))
    _remove_stale(folder, dim, {path.name for _, path, _, _ in written})
    return Written(folder / "index.html", written)


def _remove_stale(folder: Path, dim: str, keep: set[str]) -> None:
    """Remove the per-owner reports an earlier split wrote here that this one did not (an owner gone from
    the window, or renamed): next to an index that no longer lists them they would pass for current.

    Only files named as `report_file_name` names them for this dimension are touched, and only after the
    new set and its index are in place.
    """
    prefix = report_file_name(dim, None).split("-", 1)[0]
    ours = re.compile(rf"{prefix}-[A-Za-z0-9_-]{{1,48}}-[0-9a-f]{{8}}\.html")
    for old in folder.iterdir():
        if old.name not in keep and ours.fullmatch(old.name) and old.is_file():
            old.unlink(missing_ok=True)
