"""The inputs: expand paths (files, directories, globs, stdin) into the files to read.

A directory walk skips what is clearly not a log (PEM and DER key material, JWKS key sets, Markdown,
the analyzer's own config files) and counts it; a file named on the command line is read all the same.
`shown` is the one way a path appears in outputs.
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(path: str) -> str:
    """A path as outputs and messages show it: bytes that are not UTF-8 and control characters as \\xNN.

    The operating system's name for a file is bytes; Python carries bytes that are not UTF-8 as lone
    surrogates, which Parquet, JSON files and terminals refuse. Files are opened by the name the
    operating system gave; only what is written out is escaped.
    """
    if path.isprintable():
        return path
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file name can hold
        raw = path.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class InputFile:
    """One file to read: its path as the user gave it (joined with what the walk found)."""

    path: str  # as the operating system gave it: what the file is opened by
    size: int
    mtime: float
    device: int = 0
    inode: int = 0

    @property
    def name(self) -> str:
        """The path as outputs show it (`source`, run.json, messages): see `shown`."""
        return shown(self.path)


@dataclass
class Expansion:
    """The files that the input paths name, plus what could not be used."""

    files: list[InputFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Files a directory walk found that are clearly not logs (key material, key sets, Markdown, configs):
    # (path as shown, reason). Named on the command line, such a file is read all the same.
    not_logs: list[tuple[str, str]] = field(default_factory=list)


CONFIG_NAME = "analyzer.toml"  # the config file's name: found by `config.find_config`, never read here as a log
_MARKDOWN = (".md", ".markdown")
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_JWKS_MAX = 1 << 20  # a key set is a few KiB; a larger JSON file is read as a log


def not_a_log(path: str, name: str, size: int) -> str | None:
    """Why a file that a directory walk found is clearly not a log, or None (read it).

    `config`: an `analyzer.toml` (found in a scanned directory, it is a config whether or not it is the
    one in use); `pem`: it starts with a PEM block (a private or public key, a CSR); `certificate`: a PEM
    or DER certificate; `jwks`: the whole file is one JSON key set (or one key); `markdown`: a `.md` file.
    A log line that quotes a certificate does not make its file one: only what the file starts with
    counts. Unreadable files are left to the reader, which reports them.
    """
    if name == CONFIG_NAME:
        return "config"
    if name.lower().endswith(_MARKDOWN):
        return "markdown"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if head[:1] == b"0" and _is_der(head, size):
                return "certificate"
            lead = head.lstrip()
            m = _PEM.match(lead)
            if m:
                return "certificate" if b"CERTIFICATE" in m.group(1) else "pem"
            # Only a JSON document that names keys early is read whole (a JSON-lines log is not).
            if lead[:1] == b"{" and size <= _JWKS_MAX and (b'"keys"' in head or b'"kty"' in head):
                return "jwks" if _is_jwks(head + fh.read()) else None
    except OSError:
        return None
    return None


def _is_der(head: bytes, size: int) -> bool:
    """A DER SEQUENCE whose length is the whole file (a binary certificate or key)."""
    if len(head) < 4 or head[0] != 0x30:
        return False
    if head[1] == 0x82:
        return int.from_bytes(head[2:4], "big") + 4 == size
    if head[1] == 0x81:
        return head[2] + 3 == size
    return False


def _is_jwks(data: bytes) -> bool:
    try:
        doc = json.loads(data)
    except ValueError:  # JSON lines, or not JSON at all: a log
        return False
    if not isinstance(doc, dict):
        return False
    keys = doc.get("keys") if "keys" in doc else [doc]
    return isinstance(keys, list) and bool(keys) and all(isinstance(k, dict) and "kty" in k for k in keys)


def _file_entry(path: str, st: os.stat_result) -> InputFile:
    return InputFile(path=path, size=st.st_size, mtime=st.st_mtime, device=st.st_dev, inode=st.st_ino)


def _listing(path: str, out: Expansion) -> Iterator[os.DirEntry[str]] | None:
    """A directory's entries in name order (read whole: no descriptor stays open), or None (reported)."""
    try:
        return iter(sorted(os.scandir(path), key=lambda e: e.name))
    except OSError as e:
        out.errors.append(f"{shown(path)}: cannot list directory ({e.strerror or e}), skipped")
        return None


def _walk(top: str, skip: frozenset[Path], out: Expansion, top_key: tuple[int, int],
          walked: set[tuple[int, int]]) -> None:
    """Files under `top`, depth first in name order: a subdirectory's files before its later siblings.

    With a stack, not recursion: a tree nested a thousand deep (the path still under PATH_MAX) ran out
    of Python's recursion limit and ended the run.
    """
    first = _listing(top, out)
    if first is None:
        return
    # Each directory being listed, with the (device, inode) of it and of the directories above it.
    stack: list[tuple[Iterator[os.DirEntry[str]], frozenset[tuple[int, int]]]] = [(first, frozenset({top_key}))]
    while stack:
        entries, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as e:
            # A dangling link, a symlink loop (ELOOP), or a file that vanished since the listing.
            out.errors.append(f"{shown(entry.path)}: {e.strerror or e}, skipped")
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if skip and Path(entry.path).resolve() in skip:
                continue  # the run's own output directory
            if key in ancestors:
                out.errors.append(f"{shown(entry.path)}: symlink loop back to a parent directory, skipped")
                continue
            if key in walked:
                continue  # a second link to a directory already read: its files are in the list
            walked.add(key)
            below = _listing(entry.path, out)
            if below is not None:
                stack.append((below, ancestors | {key}))
        elif stat.S_ISREG(st.st_mode):
            if Path(entry.path).resolve() in skip:
                continue
            reason = not_a_log(entry.path, entry.name, st.st_size)
            if reason:
                out.not_logs.append((shown(entry.path), reason))
            else:
                out.files.append(_file_entry(entry.path, st))
        else:
            out.errors.append(f"{shown(entry.path)}: not a regular file (a pipe, socket or device), skipped")


def configs_not_used(paths: list[str], used: Path | None) -> list[str]:
    """The `analyzer.toml` files of scanned directories (where config discovery looks) that differ from the
    config in use, as shown: two scanned directories with two configs, or ./analyzer.toml beside a scanned
    directory's own. A copy with the same content is the same config."""
    try:
        used_bytes = used.read_bytes() if used is not None and used.is_file() else None
    except OSError:
        used_bytes = None
    others: list[str] = []
    seen: set[bytes] = set() if used_bytes is None else {used_bytes}
    for p in paths:
        candidate = Path(p) / CONFIG_NAME
        if p == "-" or not candidate.is_file():
            continue
        try:
            content = candidate.read_bytes()
        except OSError:
            continue
        if content not in seen:
            seen.add(content)
            others.append(shown(str(candidate)))
    return others


def expand_inputs(paths: list[str], skip: frozenset[Path] = frozenset()) -> Expansion:
    """Files named by the inputs: files, directories (recursively) and globs; `-` is stdin."""
    out = Expansion()
    seen_files: set[tuple[str, int, int]] = set()
    for raw in paths:
        if raw == "-":
            # Lines from stdin without a time are judged at the time of reading.
            out.files.append(InputFile(path="-", size=0, mtime=time.time()))
            continue
        matches = [raw]
        if glob.has_magic(raw) and not os.path.exists(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                out.errors.append(f"{shown(raw)}: no file matches")
                continue
        for m in matches:
            try:
                st = os.stat(m)
            except OSError as e:
                out.errors.append(f"{shown(m)}: {e.strerror or e}, skipped")
                continue
            if stat.S_ISDIR(st.st_mode):
                dkey = (st.st_dev, st.st_ino)
                _walk(m, skip, out, dkey, {dkey})
            elif not stat.S_ISREG(st.st_mode):
                # Opening a FIFO would block until a writer appears; `-` is the way to pipe logs in.
                out.errors.append(f"{shown(m)}: not a regular file (a pipe, socket or device), skipped; "
                                  "use - for stdin")
            elif Path(m).resolve() not in skip:
                out.files.append(_file_entry(m, st))
    unique = []
    for f in out.files:
        key = (f.path, f.device, f.inode) if f.path == "-" else ("", f.device, f.inode)
        if key not in seen_files:
            seen_files.add(key)
            unique.append(f)
    out.files = unique
    return out
