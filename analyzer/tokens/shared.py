"""Signature verdicts shared by a run's forked worker processes.

Each worker decodes the tokens of its own files, and a token recurs across files (a client sends one
token to every host for an hour), so with several workers most unique tokens were verified once per
worker; RSA verification is most of the cost of decoding a unique token. The parent makes this table
before the pool forks; a worker that finds a signature valid writes it down, and the others skip it.

The table is lossy and lock-free: 64-bit keys in an anonymous shared mmap, one per slot, the last
writer winning. Only "signature valid" is written, and the key mixes the token's fingerprint with a
digest of the key sets it was verified with, so a worker holding other keys (after a refresh) misses.
A miss (never written, overwritten, other keys) just verifies: results do not depend on the table,
only the time does.
"""

from __future__ import annotations

import hashlib
import mmap
import pickle
from typing import Any

SLOTS = 1 << 17  # 1 MB shared: a few times a large run's unique tokens, so few are overwritten


class SharedVerdicts:
    """Fingerprints of tokens whose signature some process of this run found valid with given keys."""

    def __init__(self) -> None:
        # An anonymous mapping is MAP_SHARED: forked children see the same pages.
        self._map = mmap.mmap(-1, SLOTS * 8)
        self._slots = memoryview(self._map).cast("Q")

    def valid(self, key: int) -> bool:
        """Whether `key` (see `verdict_key`) was written: its signature verified with those keys."""
        return bool(self._slots[key % SLOTS] == key)

    def add(self, key: int) -> None:
        """Write `key` down, over whatever its slot held."""
        self._slots[key % SLOTS] = key


def sets_digest(sets: Any) -> int:
    """64 bits naming the content of a process's key sets: equal sets, equal digests (else a miss)."""
    return int.from_bytes(hashlib.blake2b(pickle.dumps(sets), digest_size=8).digest(), "little")


def verdict_key(fp: str, digest: int) -> int:
    """The table key of a token (its 16-hex fingerprint) verified with key sets of this digest (never 0,
    an empty slot)."""
    return (int(fp, 16) ^ digest) or 1
