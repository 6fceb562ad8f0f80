"""outputs.state: the incremental state store (a real SQLite file on tmp_path) and the output directory's lock.

Each test commits what a run would (`Progressed` records) and opens the store again as the next run does.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import select
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.errors import AnalyzerError
from analyzer.outputs import state as st
from analyzer.outputs.state import (
    HEAD_BYTES,
    LOCK_FILE,
    STATE_FILE,
    DamagedStateError,
    Lock,
    LockedError,
    Progressed,
    Read,
    Rebuild,
    Recorded,
    Resume,
    State,
    recorded_meta,
    release_inherited_locks,
)
from analyzer.scan.inputs import InputFile


def entry(path: Path) -> InputFile:
    """The InputFile the input expansion makes of a file on disk (stat it again after each change)."""
    s = os.stat(path)
    return InputFile(str(path), s.st_size, s.st_mtime, s.st_dev, s.st_ino)


def log(first: int, n: int) -> bytes:
    """Lines `first`..`first + n - 1` of a log, ~60 bytes each (over HEAD_BYTES from ~70 lines)."""
    return b"".join(b"2024-10-10T13:55:%02d line %06d GET /orders 200 - some more text\n" % (i % 60, i)
                    for i in range(first, first + n))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_all(state: State, f: InputFile, lines: int, run_id: str = "r1", new_bytes: int | None = None,
             meta: dict[str, str] | None = None, content: int | None = None) -> Resume:
    """Resume `f`, then commit that it was read to its end (`lines` lines, `content` bytes in all): what a run does."""
    (r,) = state.resume_all([f])
    done = f.size if content is None else content
    state.commit(run_id, [Progressed(f, r, done, lines, lines_from=r.line_base)],
                 done - r.skip_bytes if new_bytes is None else new_bytes, lines - r.line_base, time.time(),
                 meta or {})
    return r


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    return d


# --------------------------------------------------------------------------- a new store, new files


def test_a_fresh_store_is_empty_and_not_world_readable(out: Path) -> None:
    s = State(out)
    assert (s.recorded(), s.committed_runs(), s.last_new_data(), s.get("fingerprint")) == ([], set(), None, None)
    assert s.reads(frozenset({1})) == []
    s.close()
    assert (out / STATE_FILE).stat().st_mode & 0o777 == 0o640


def test_new_files_start_at_zero_and_carry_the_hash_of_their_head(out: Path, logs: Path) -> None:
    plain, short = logs / "access.log", logs / "short.log"
    plain.write_bytes(log(0, 200))
    short.write_bytes(log(0, 3))
    (logs / "old.log.gz").write_bytes(gzip.compress(log(500, 200)))
    s = State(out)
    resumes = s.resume_all([entry(plain), entry(short), entry(logs / "old.log.gz"), InputFile("-", 0, 1.0)])
    assert resumes == [
        Resume(None, 0, 0, False, False, HEAD_BYTES, sha(log(0, 200)[:HEAD_BYTES])),
        Resume(None, 0, 0, False, False, len(log(0, 3)), sha(log(0, 3))),
        Resume(None, 0, 0, False, True, HEAD_BYTES, sha(log(500, 200)[:HEAD_BYTES])),  # the content's head
        Resume(None),  # stdin is never recorded
    ]


# --------------------------------------------------------------------------- resuming what an earlier run read


def test_a_file_that_grew_resumes_at_the_recorded_offset_and_line(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)
    s.close()
    with path.open("ab") as fh:
        fh.write(log(100, 20))
    s = State(out)
    (rec,) = s.recorded()
    (r,) = s.resume_all([entry(path)])
    assert (r.record_id, r.skip_bytes, r.line_base, r.nothing_new) == (rec.record_id, len(log(0, 100)), 100, False)


def test_an_unchanged_file_has_nothing_new_and_is_not_opened(out: Path, logs: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)

    def no_read(f: InputFile, n: int) -> tuple[bytes, bool]:
        raise AssertionError(f"{f.path} was opened")

    monkeypatch.setattr(st, "read_head", no_read)
    (r,) = State(out).resume_all([entry(path)])
    assert (r.skip_bytes, r.line_base, r.nothing_new) == (path.stat().st_size, 100, True)


def test_a_file_read_in_part_is_looked_at_again(out: Path, logs: Path) -> None:
    path = logs / "access.log.gz"  # a compressed file unchanged since it was read is otherwise not opened
    path.write_bytes(gzip.compress(log(0, 100)))
    f = entry(path)
    s = State(out)
    (r,) = s.resume_all([f])
    half = len(log(0, 50))  # cut short at the decompression limit, say
    s.commit("r1", [Progressed(f, r, half, 50, complete=False)], half, 50, time.time(), {})
    (again,) = State(out).resume_all([entry(path)])  # the same size and mtime as when it was read
    assert (again.record_id, again.skip_bytes, again.line_base, again.nothing_new) == (1, half, 50, False)


def test_a_compressed_file_read_whole_has_nothing_new(out: Path, logs: Path) -> None:
    path = logs / "access.log.gz"
    path.write_bytes(gzip.compress(log(0, 100)))
    s = State(out)
    read_all(s, entry(path), 100, content=len(log(0, 100)))
    (again,) = State(out).resume_all([entry(path)])
    assert (again.record_id, again.skip_bytes, again.nothing_new, again.compressed) == (1, len(log(0, 100)), True, True)


def test_a_replaced_file_starts_from_zero(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)
    path.write_bytes(log(7000, 150))  # truncated and written anew (copytruncate): the same inode, another head
    (r,) = State(out).resume_all([entry(path)])
    assert (r.record_id, r.skip_bytes, r.line_base, r.nothing_new) == (None, 0, 0, False)


def test_a_file_truncated_and_written_anew_with_the_same_head_starts_from_zero(out: Path, logs: Path) -> None:
    """logrotate's copytruncate, with an app that writes the same start-up banner (longer than the head
    the store hashes) each time: the copy holds what was read, the file at the inode is new content."""
    banner = b"# app v1.2 starting " + b"=" * 70 + b"\n"
    path = logs / "access.log"
    path.write_bytes(banner * 60 + log(0, 100))
    s = State(out)
    read_all(s, entry(path), 160)
    shutil.copy(path, logs / "access.log.1")
    with path.open("r+b") as fh:
        fh.truncate(0)
        fh.write(banner * 60 + log(5000, 300))  # more than before: it is longer than the offset read
    copy, new = State(out).resume_all([entry(logs / "access.log.1"), entry(path)])
    assert (new.record_id, new.skip_bytes, new.line_base, new.nothing_new) == (None, 0, 0, False)
    assert (copy.record_id, copy.skip_bytes, copy.nothing_new) == (1, len(banner * 60 + log(0, 100)), True)


def test_a_renamed_copy_is_recognised_by_its_content(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)
    shutil.copy(path, logs / "access.log.1")  # another inode
    path.unlink()
    with (logs / "access.log.1").open("ab") as fh:
        fh.write(log(100, 5))
    (r,) = State(out).resume_all([entry(logs / "access.log.1")])
    assert (r.record_id, r.skip_bytes, r.line_base, r.nothing_new) == (1, len(log(0, 100)), 100, False)


def test_a_compressed_rotation_resumes_after_what_was_read(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)
    (logs / "access.log.1.gz").write_bytes(gzip.compress(log(0, 130)))  # it got 30 more lines, then logrotate
    path.unlink()
    (r,) = State(out).resume_all([entry(logs / "access.log.1.gz")])
    assert (r.record_id, r.skip_bytes, r.line_base, r.nothing_new, r.compressed) == \
        (1, len(log(0, 100)), 100, False, True)


def test_the_file_at_the_recorded_inode_claims_its_record_before_a_copy(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 100))
    s = State(out)
    read_all(s, entry(path), 100)
    shutil.copy(path, logs / "copy.log")
    copy, same = State(out).resume_all([entry(logs / "copy.log"), entry(path)])  # the copy comes first
    assert (same.record_id, same.nothing_new) == (1, True)
    assert (copy.record_id, copy.skip_bytes) == (None, 0)  # one record is resumed by one file only


# --------------------------------------------------------------------------- what the store tells


def test_recorded_lists_each_input_with_where_it_was_and_how_far(out: Path, logs: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (logs / "a.log").write_bytes(log(0, 10))
    (logs / "b.log").write_bytes(log(50, 20))
    monkeypatch.chdir(logs)
    s = State(out)
    for name, lines in (("a.log", 10), ("b.log", 20)):
        read_all(s, entry(Path(name)), lines)
    assert s.recorded() == [Recorded(1, "a.log", str(logs / "a.log"), len(log(0, 10)), 10),
                            Recorded(2, "b.log", str(logs / "b.log"), len(log(50, 20)), 20)]
    a = s.recorded()[0]
    assert a.locate() == "a.log"
    monkeypatch.chdir(out)  # the next run starts elsewhere: the relative name no longer is that file
    assert a.locate() == str(logs / "a.log")
    (logs / "a.log").unlink()
    assert a.locate() is None


def test_a_name_that_is_not_utf8_is_recorded_as_the_os_gives_it(out: Path, logs: Path) -> None:
    path = Path(os.fsdecode(bytes(logs) + b"/acc\xffess.log"))
    path.write_bytes(log(0, 10))
    s = State(out)
    read_all(s, entry(path), 10)
    s.close()
    (rec,) = State(out).recorded()
    assert rec.path == str(path) and Path(rec.path).read_bytes() == log(0, 10)


def test_reads_say_which_lines_each_run_read(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 10))
    s = State(out)
    read_all(s, entry(path), 10, "r1")
    with path.open("ab") as fh:
        fh.write(log(10, 5))
    read_all(s, entry(path), 15, "r2")
    read_all(s, entry(path), 15, "r3")  # nothing new: no read
    assert s.reads(frozenset({1})) == [Read(1, str(path), 1, 10, "r1"), Read(1, str(path), 11, 15, "r2")]
    assert s.reads(frozenset({2})) == []


def test_lines_read_before_reads_were_kept_belong_to_any_run(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 10))
    s = State(out)
    read_all(s, entry(path), 10, "r1")
    s.db.execute("DELETE FROM reads")  # as an older version left it
    with path.open("ab") as fh:
        fh.write(log(10, 5))
    read_all(s, entry(path), 15, "r2")
    assert s.reads(frozenset({1})) == [Read(1, str(path), 11, 15, "r2"), Read(1, str(path), 1, 10, None)]


def test_committed_runs_and_when_new_data_was_last_read(out: Path, logs: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 10))
    s = State(out)
    before = time.time()
    read_all(s, entry(path), 10, "r1")
    first = s.last_new_data()
    assert first is not None and before <= first <= time.time()
    read_all(s, entry(path), 10, "r2", new_bytes=0)  # nothing new: the last new data stays r1's
    assert s.committed_runs() == {"r1", "r2"}
    assert State(out).last_new_data() == first


def test_meta_values_are_kept_and_read_back_without_writing(out: Path, logs: Path, tmp_path: Path) -> None:
    path = logs / "access.log"
    path.write_bytes(log(0, 10))
    s = State(out)
    read_all(s, entry(path), 10, "r1", meta={"fingerprint": "abc", "config_path": "/etc/a.toml"})
    read_all(s, entry(path), 10, "r2", meta={"fingerprint": "def"})
    assert (s.get("fingerprint"), s.get("config_path"), s.get("other")) == ("def", "/etc/a.toml", None)
    s.close()
    assert recorded_meta(out, "fingerprint") == "def" and recorded_meta(out, "other") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert recorded_meta(empty, "fingerprint") is None and list(empty.iterdir()) == []


def test_a_rebuild_forgets_every_run_and_record_but_the_kept(out: Path, logs: Path) -> None:
    (logs / "gone.log").write_bytes(log(0, 10))
    (logs / "here.log").write_bytes(log(50, 10))
    s = State(out)
    read_all(s, entry(logs / "gone.log"), 10, "r1")
    read_all(s, entry(logs / "here.log"), 10, "r1")
    kept = Read(1, str(logs / "gone.log"), 1, 10, "r1")
    s.commit("r2", [], 0, 0, time.time(), {}, Rebuild("config changed", frozenset({1}), (kept,)))
    assert [r.record_id for r in s.recorded()] == [1]
    assert s.committed_runs() == {"r2"}
    assert s.reads(frozenset({1, 2})) == [Read(1, str(logs / "gone.log"), 1, 10, "r2", kept=True)]


def test_a_damaged_store_is_an_error_and_left_as_it_was(out: Path) -> None:
    junk = b"not a database" * 100
    (out / STATE_FILE).write_bytes(junk)
    with pytest.raises(DamagedStateError) as e:
        State(out)
    assert isinstance(e.value, AnalyzerError) and "is damaged" in str(e.value)
    assert (out / STATE_FILE).read_bytes() == junk
    assert recorded_meta(out, "fingerprint") is None


def test_a_store_from_before_absolute_paths_gains_the_column(out: Path, logs: Path) -> None:
    (logs / "a.log").write_bytes(log(0, 10))
    old_schema = st._SCHEMA.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE")
    db = sqlite3.connect(out / STATE_FILE)
    db.executescript(old_schema)
    db.execute("INSERT INTO files (path, compressed, head_len, head_hash, bytes_done, lines_done) "
               "VALUES (?, 0, 0, '', 5, 1)", (str(logs / "a.log"),))
    db.commit()
    db.close()
    (rec,) = State(out).recorded()
    assert rec == Recorded(1, str(logs / "a.log"), None, 5, 1)
    assert rec.locate() == str(logs / "a.log")


# --------------------------------------------------------------------------- the lock


def test_a_second_lock_on_a_held_directory_fails_until_the_first_is_released(out: Path) -> None:
    first = Lock(out)
    with pytest.raises(LockedError) as e:
        Lock(out)
    assert isinstance(e.value, AnalyzerError) and "another analyzer run" in str(e.value)
    first.release()
    first.release()  # twice is harmless
    second = Lock(out)
    assert (out / LOCK_FILE).stat().st_mode & 0o777 == 0o640
    second.release()


def test_a_lock_makes_its_directory(tmp_path: Path) -> None:
    lock = Lock(tmp_path / "new" / "out")
    assert (tmp_path / "new" / "out" / LOCK_FILE).is_file()
    lock.release()


def _run_that_dies_holding_the_lock(out: Path, release: bool) -> bytes:
    """Fork a run that takes the lock and forks a worker, then dies without releasing; the worker lives on.

    The worker calls `release_inherited_locks` (as `processes.init_child` does) if `release`. Returns
    what the worker said once it was ready; it exits when the test has looked.
    """
    started_r, started_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the run
        code = 1
        try:
            Lock(out)
            if os.fork() == 0:  # its worker
                os.close(done_w)
                if release:
                    release_inherited_locks()
                os.write(started_w, b"ready")
                select.select([done_r], [], [], 10)  # until the test closes its end (or 10 s)
                os._exit(0)
            code = 0
        finally:
            os._exit(code)
    os.close(started_w)
    os.close(done_r)
    os.waitpid(pid, 0)
    _DONE.append(done_w)
    said = os.read(started_r, 5)
    os.close(started_r)
    return said


_DONE: list[int] = []  # the test's ends of the pipes that keep the workers alive


@pytest.fixture
def _let_workers_go() -> Iterator[None]:
    yield
    while _DONE:
        os.close(_DONE.pop())


@pytest.mark.usefixtures("_let_workers_go")
def test_a_forked_worker_that_lets_go_of_inherited_locks_does_not_keep_the_lock(out: Path) -> None:
    assert _run_that_dies_holding_the_lock(out, release=True) == b"ready"
    Lock(out).release()


@pytest.mark.usefixtures("_let_workers_go")
def test_a_forked_worker_that_keeps_inherited_locks_keeps_the_lock(out: Path) -> None:
    """Why workers call `release_inherited_locks`: else a run's lock outlives it as long as its workers."""
    assert _run_that_dies_holding_the_lock(out, release=False) == b"ready"
    with pytest.raises(LockedError):
        Lock(out)
