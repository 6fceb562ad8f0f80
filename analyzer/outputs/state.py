"""Incremental runs: what input content was read and how far, so a rerun reads only what is new.

SQLite, in the output directory: one file, transactional (a crash leaves the last committed
state), queryable with any SQLite client, and in the standard library. Files are recognised by
content, not by name: the hash of their first bytes (decompressed), so `access.log` renamed to
`access.log.1` and then compressed to `access.log.2.gz` is still the same content, read once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from analyzer.errors import AnalyzerError
from analyzer.scan.inputs import InputFile, shown
from analyzer.scan.readers import read_head

STATE_FILE = "state.sqlite"
LOCK_FILE = ".analyzer.lock"
HEAD_BYTES = 4096
# The plain-file bytes just before where a run stopped reading, hashed: a file at the same inode with the
# same head but other bytes there was truncated and written anew (logrotate's copytruncate, an app that
# writes the same start-up banner each time), and is read from its start, not from the old offset.
TAIL_BYTES = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    device INTEGER, inode INTEGER, size INTEGER, mtime REAL,
    compressed INTEGER NOT NULL,
    head_len INTEGER NOT NULL, head_hash TEXT NOT NULL,
    bytes_done INTEGER NOT NULL, lines_done INTEGER NOT NULL,
    run_id TEXT, updated_at REAL
);
CREATE INDEX IF NOT EXISTS files_head ON files (head_len, head_hash);
CREATE INDEX IF NOT EXISTS files_inode ON files (device, inode);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at REAL, finished_at REAL,
    new_bytes INTEGER, occurrences INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS reads (
    file_id INTEGER NOT NULL, source TEXT NOT NULL, line_from INTEGER NOT NULL, line_to INTEGER NOT NULL,
    run_id TEXT, kept INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reads_file ON reads (file_id);
"""
# Columns added after the first release: a state written by an older version gains them on open.
_ADDED_COLUMNS = (("files", "abs_path", "TEXT"), ("files", "tail_hash", "TEXT"))


class DamagedStateError(AnalyzerError):
    """The output directory's state store is not a readable SQLite database."""

    def __init__(self, path: Path, cause: Exception) -> None:
        super().__init__(str(cause))
        self.path = path
        self.cause = cause

    def __str__(self) -> str:
        return (f"{shown(str(self.path))} is damaged ({self.cause}); nothing was changed. Move it aside to "
                "start the incremental state anew (the next run then reads every input again and rebuilds "
                "the dataset from the paths given)")


class LockedError(AnalyzerError):
    """Another run is writing the same output directory."""


class StateMissingError(AnalyzerError):
    """The output directory holds events but no state store (deleted, or not restored with a backup).

    Without it every part file would look like a run that never committed, and be removed: refused
    before anything is touched, as only --rescan and --keep-days take events out of the dataset.
    """

    def __init__(self, out_dir: Path) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir

    def __str__(self) -> str:
        return (f"{shown(str(self.out_dir))} holds a dataset but its {STATE_FILE} is missing: restore it, "
                "or pass --rescan to rebuild the dataset from the paths given")


@dataclass(frozen=True)
class Resume:
    """Where to pick up one input file."""

    record_id: int | None
    skip_bytes: int = 0  # content bytes already read (decompressed, line-aligned)
    line_base: int = 0
    nothing_new: bool = False
    compressed: bool = False
    head_len: int = 0
    head_hash: str = ""


@dataclass(frozen=True)
class Progressed:
    """How far a file was read in this run, to be committed with the run."""

    file: InputFile
    resume: Resume
    bytes_done: int
    lines_done: int
    complete: bool = True  # False: cut short (damage, or the decompression limit); look again next time
    lines_from: int = 0  # the first line number this run read (its events carry lines_from..lines_done)


@dataclass(frozen=True)
class Recorded:
    """An input an earlier run read: where it was, and how far."""

    record_id: int
    path: str  # as the user gave it (relative to the directory the run started in, maybe)
    abs_path: str | None  # None in a state written before absolute paths were recorded
    bytes_done: int
    lines_done: int

    def locate(self) -> str | None:
        """The path to read this input at now: as given when that is still the same file, else absolute."""
        given, absolute = Path(self.path), Path(self.abs_path) if self.abs_path else None
        if absolute is None:
            return self.path if given.exists() else None
        if not absolute.exists():
            return None
        try:
            if given.exists() and given.samefile(absolute):
                return self.path
        except OSError:
            pass
        return str(absolute)


@dataclass(frozen=True)
class Read:
    """Events one run wrote for one recorded input: `source` lines first..last, in that run's part files.

    `kept`: carried over by a rebuild, in the run's part files tagged `k<record id>_` (a rebuild
    may also read the same name again: logrotate reuses `access.log` for new content every night).
    A `run_id` of None (lines read by an older version) matches any run's part files.
    """

    record_id: int
    source: str
    first: int
    last: int
    run_id: str | None
    kept: bool = False


@dataclass(frozen=True)
class Rebuild:
    """A run that replaces the dataset: why, and the recorded inputs whose content is gone."""

    reason: str
    keep: frozenset[int] = frozenset()  # records of vanished inputs: their events are kept as they were
    kept_reads: tuple[Read, ...] = ()  # where those events were, before this run carried them over


_HELD: list[IO[str]] = []  # lock files held by this process, for forked workers to let go of


def release_inherited_locks() -> None:
    """In a forked worker: close the parent's lock files, so that the lock dies with the parent."""
    for fh in _HELD:
        try:
            fh.close()
        except OSError:
            pass
    _HELD.clear()


class Lock:
    """An exclusive, non-blocking lock on an output directory (released when the process ends)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        # Like every output file: no world read bit, whatever the umask.
        fd = os.open(out_dir / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o640)
        self._fh: IO[str] | None = os.fdopen(fd, "w")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            self._fh = None
            raise LockedError(f"another analyzer run is writing {out_dir}; try again when it has finished") from None
        _HELD.append(self._fh)

    def release(self) -> None:
        """Let the next run in."""
        if self._fh is not None:
            if self._fh in _HELD:
                _HELD.remove(self._fh)
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tail_hash(path: str, done: int) -> str | None:
    """The hash of the TAIL_BYTES of a plain file before `done` (None: nothing read, or unreadable)."""
    if done <= 0 or path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, done - TAIL_BYTES))
            data = fh.read(min(done, TAIL_BYTES))
    except OSError:
        return None
    return _hash(data) if len(data) == min(done, TAIL_BYTES) else ""


def _same_tail(f: InputFile, compressed: bool, done: int, recorded: str | None) -> bool:
    """Whether a plain file still holds, before `done`, the bytes a run read there (recorded by an older
    version, or of a compressed file: not checked)."""
    return compressed or recorded is None or _tail_hash(f.path, done) == recorded


class State:
    """The state store of one output directory."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / STATE_FILE
        self.db = sqlite3.connect(self.path, isolation_level=None)
        try:
            # One transaction: a new store's tables and indexes cost one commit (4 syncs to disk), not 9.
            self.db.executescript(f"BEGIN;{_SCHEMA}COMMIT;")
            for table, column, kind in _ADDED_COLUMNS:
                if column not in {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.DatabaseError as e:
            self.db.close()
            # Never repaired or replaced silently: it says what the dataset holds, and was read from where.
            raise DamagedStateError(self.path, e) from None
        try:
            os.chmod(self.path, 0o640)
        except OSError:
            pass
        self._claimed: set[int] = set()

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def get(self, key: str) -> str | None:
        """A value of the meta table."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def recorded(self) -> list[Recorded]:
        """Every input an earlier run read (not stdin), in the order they were first recorded."""
        return [Recorded(rid, _from_db(path), None if absolute is None else _from_db(absolute), done, lines)
                for rid, path, absolute, done, lines in self.db.execute(
                    "SELECT id, path, abs_path, bytes_done, lines_done FROM files ORDER BY id")]

    def reads(self, record_ids: frozenset[int]) -> list[Read]:
        """Where the events read from these records are.

        Lines read before reads were kept (by an older version) count as the record's path's, in any run.
        """
        out: list[Read] = []
        for rid in sorted(record_ids):
            rows = [Read(rid, _from_db(s), int(a), int(b), r, bool(k)) for s, a, b, r, k in self.db.execute(
                "SELECT source, line_from, line_to, run_id, kept FROM reads WHERE file_id = ?", (rid,))]
            first = min((r.first for r in rows), default=None)
            if first is None or first > 1:
                row = self.db.execute("SELECT path, lines_done FROM files WHERE id = ?", (rid,)).fetchone()
                if row is not None:
                    rows.append(Read(rid, _from_db(row[0]), 1, first - 1 if first is not None else int(row[1]), None))
            out.extend(rows)
        return out

    def last_new_data(self) -> float | None:
        """When the last run that read new content finished (epoch seconds), or None."""
        row = self.db.execute("SELECT MAX(finished_at) FROM runs WHERE new_bytes > 0").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def committed_runs(self) -> set[str]:
        """Ids of runs whose events were committed."""
        return {r[0] for r in self.db.execute("SELECT run_id FROM runs")}

    def resume_all(self, files: list[InputFile]) -> list[Resume]:
        """Where to start reading each file: after what an earlier run read of the same content.

        A file still at its recorded device and inode claims its record first; only then are
        the remaining records matched by content (a renamed copy, or a compressed rotation).
        """
        self._claimed = set()
        heads: dict[int, tuple[bytes, bool]] = {}
        out: list[Resume | None] = [None] * len(files)
        for i, f in enumerate(files):
            if f.path == "-":
                out[i] = Resume(None)
                continue
            row = self.db.execute(
                "SELECT id, bytes_done, lines_done, compressed, size, mtime, head_len, head_hash, tail_hash FROM files "
                "WHERE device = ? AND inode = ? ORDER BY bytes_done DESC", (f.device, f.inode)).fetchone()
            if row is None or row[0] in self._claimed:
                continue
            rid, done, lines, compressed, size, mtime, head_len, head_hash, tail = row
            if size == f.size and mtime == f.mtime and (compressed or done >= f.size):
                # Unchanged since it was read to the end: no need to open it.
                self._claimed.add(rid)
                out[i] = Resume(rid, done, lines, True, bool(compressed), head_len, head_hash)
                continue
            head, is_compressed = heads[i] = read_head(f, HEAD_BYTES)
            if (len(head) >= head_len and _hash(head[:head_len]) == head_hash and f.size >= (0 if compressed else done)
                    and _same_tail(f, bool(compressed) or is_compressed, done, tail)):
                self._claimed.add(rid)
                out[i] = Resume(rid, done, lines, not is_compressed and f.size <= done, is_compressed, len(head),
                                _hash(head))
        for i, f in enumerate(files):
            if out[i] is not None:
                continue
            head, compressed = heads[i] if i in heads else read_head(f, HEAD_BYTES)
            found = Resume(None, 0, 0, False, compressed, len(head), _hash(head))
            for rid, done, lines, tail in self._same_content(f, head):
                if rid not in self._claimed and _same_tail(f, compressed, done, tail):
                    self._claimed.add(rid)
                    found = Resume(rid, done, lines, not compressed and f.size <= done, compressed, len(head),
                                   _hash(head))
                    break
            out[i] = found
        return [r if r is not None else Resume(None) for r in out]

    def _same_content(self, f: InputFile, head: bytes) -> list[tuple[int, int, int, str | None]]:
        """Records whose recorded head is a prefix of this head: same inode first, most read first; each
        (id, bytes done, lines done, the hash of the bytes before where it stopped)."""
        lens = {r[0] for r in self.db.execute("SELECT DISTINCT head_len FROM files WHERE head_len <= ?",
                                              (len(head),))}
        rows: list[tuple[int, int, int, str | None, bool]] = []
        for n in sorted(lens, reverse=True):
            for rid, done, lines, tail, dev, ino in self.db.execute(
                    "SELECT id, bytes_done, lines_done, tail_hash, device, inode FROM files WHERE head_len = ? AND "
                    "head_hash = ?", (n, _hash(head[:n]))):
                rows.append((rid, done, lines, tail, dev == f.device and ino == f.inode))
        rows.sort(key=lambda r: (not r[4], -r[1]))
        return [r[:4] for r in rows]

    def commit(self, run_id: str, progressed: list[Progressed], new_bytes: int, occurrences: int,
               started: float, meta: dict[str, str], rebuild: Rebuild | None = None,
               now: float | None = None) -> None:
        """Record how far each file was read, and the run, in one transaction.

        A rebuild forgets, in the same transaction, every earlier run and every record but those of
        vanished inputs (whose events this run kept): the dataset of the earlier runs is replaced
        only once the new one is in place, and a crash before this leaves it as it was. `now` (epoch
        seconds, the run's clock) is when the run finished; the wall clock when not given.
        """
        now = time.time() if now is None else now
        self.db.execute("BEGIN")
        if rebuild is not None:
            kept = sorted(rebuild.keep)
            marks = ",".join("?" * len(kept))
            self.db.execute(f"DELETE FROM files WHERE id NOT IN ({marks})", kept)
            # The kept events are this run's now, in part files of their own (`OutputDir.keep_events`).
            self.db.execute("DELETE FROM reads")
            self.db.executemany("INSERT INTO reads VALUES (?,?,?,?,?,1)", [
                (r.record_id, _to_db(r.source), r.first, r.last, run_id) for r in rebuild.kept_reads])
            self.db.execute("DELETE FROM runs")  # their part files are orphans now, removed next
        for key, value in meta.items():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        for p in progressed:
            r = p.resume
            # An mtime of -1 never matches: a file read only in part is looked at again next time.
            mtime = p.file.mtime if p.complete else -1.0
            f = p.file
            # Not needed where the head's hash covers every byte read (small files: most of an archive's).
            tail = None if r.compressed or p.bytes_done <= r.head_len else _tail_hash(f.path, p.bytes_done)
            values = (_to_db(f.path), _to_db(_absolute(f.path)), f.device, f.inode, f.size, mtime, int(r.compressed),
                      r.head_len, r.head_hash, tail, p.bytes_done, p.lines_done, run_id, now)
            if r.record_id is None:
                record_id = self.db.execute(
                    "INSERT INTO files (path, abs_path, device, inode, size, mtime, compressed, head_len, "
                    "head_hash, tail_hash, bytes_done, lines_done, run_id, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values).lastrowid
            else:
                record_id = r.record_id
                self.db.execute("UPDATE files SET path=?, abs_path=?, device=?, inode=?, size=?, mtime=?, "
                                "compressed=?, head_len=?, head_hash=?, tail_hash=?, bytes_done=?, lines_done=?, "
                                "run_id=?, updated_at=? WHERE id=?", (*values, record_id))
            if p.lines_done > p.lines_from:
                # Which events came from this content: a later rebuild keeps them if the file is gone.
                self.db.execute("INSERT INTO reads VALUES (?,?,?,?,?,0)",
                                (record_id, _to_db(p.file.path), p.lines_from + 1, p.lines_done, run_id))
        self.db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?)",
                        (run_id, started, now, new_bytes, occurrences))
        self.db.execute("COMMIT")


def _to_db(path: str) -> str | bytes:
    """A path for SQLite: text, or its bytes when the name is not UTF-8 (SQLite columns take either)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def _from_db(value: str | bytes) -> str:
    """A path from SQLite, as the operating system gives names (undecodable bytes as surrogates)."""
    return os.fsdecode(value) if isinstance(value, bytes) else str(value)


def _absolute(path: str) -> str:
    """A path made absolute against the current directory (symlinks kept: the name the user chose)."""
    return os.path.abspath(path)


def recorded_meta(out_dir: Path, key: str) -> str | None:
    """A meta value of an output directory's state, read without writing anything (None if absent)."""
    path = out_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])
