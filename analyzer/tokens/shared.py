"""Signature verdicts shared by a run's forked worker processes.

Each worker decodes the tokens of its own files, and a token recurs across files (a client sends one
token to every host for an hour), so with several workers most unique tokens were verified once per
worker; RSA verification is most of the cost of decoding a unique token. The parent makes this table
before the pool forks; a worker that checks a signature writes down what it found, and the others
(and itself, once its own memo has forgotten the token) skip the check.

The table is lossy and lock-free: 64-bit words in an anonymous shared mmap, in buckets of WAYS. A word
holds a token's key (its bucket gives the key's low bits, the word the rest), a tag of the key sets it
was checked with, and a code for the verdict, all written in one store so that a reader never sees
half of two writers. The key mixes the token's fingerprint with a digest of the key sets, so a worker
holding other keys (after a refresh) misses. A miss (never written, not kept, other keys) just verifies:
results do not depend on the table, only the time does.

Which words a full bucket keeps: the processes scan file after file, and the files of a large input
each cover the same hours, so a token comes back after the scan has gone through most of the other
tokens. Replacing the oldest word (or any word) would then keep almost nothing that comes back; so
the first WAYS - 1 words of a bucket stay until the key sets change (tokens of earlier key sets give
way), and only the last one takes whatever comes, for the tokens the other worker is about to meet.
On the 7.4 GB benchmark (135k tokens with a signature to check, then 131k words) two workers so checked
1.14 signatures per such token, where one word per bucket, last writer winning, had them check 2.0.
"""

from __future__ import annotations

import hashlib
import mmap
import pickle
import struct
from typing import Any

WORDS = 1 << 18  # 2 MB shared: twice the tokens of a 7 GB input with a signature to check (1 MB kept
# about 85% of those that came back: 163k checks for 135k tokens in a replay of that run, 2 MB 136.5k)
WAYS = 8  # words per bucket
BUCKETS = WORDS // WAYS
_BUCKET_BITS = BUCKETS.bit_length() - 1
_CODE_BITS = 2  # verdict codes 1 and 2 (3 is spare); a word 0 is empty
_TAG_SHIFT = _CODE_BITS + 64 - _BUCKET_BITS  # the key sets' tag: the bits above the key's
_TAG_MASK = (1 << (64 - _TAG_SHIFT)) - 1
_BUCKET_MASK = BUCKETS - 1
_BUCKET = struct.Struct(f"{WAYS}Q").unpack_from  # a bucket's words, read at once


class SharedVerdicts:
    """Verdict codes of tokens whose signature some process of this run checked with given keys."""

    def __init__(self) -> None:
        # An anonymous mapping is MAP_SHARED: forked children see the same pages.
        self._map = mmap.mmap(-1, WORDS * 8)
        self._words = memoryview(self._map).cast("Q")

    def get(self, fp: str, digest: int) -> int:
        """The code written for the token with this fingerprint (16 hex digits) checked with key sets
        of this digest (`sets_digest`): 1 or 2, or 0. Asked once per token a process decodes: kept cheap."""
        word, start = _place(fp, digest)
        bucket = _BUCKET(self._map, start * 8)
        return 1 if (word | 1) in bucket else 2 if (word | 2) in bucket else 0

    def add(self, fp: str, digest: int, code: int) -> None:
        """Write `code` (1 or 2) for the token, in a free word of its bucket, else in its last one."""
        word, start = _place(fp, digest)
        word |= code
        bucket = _BUCKET(self._map, start * 8)
        if word in bucket:
            return
        # A free word: empty, or written with other key sets.
        tag = digest & _TAG_MASK
        way = next((i for i, w in enumerate(bucket[:-1]) if not w or w >> _TAG_SHIFT != tag), WAYS - 1)
        self._words[start + way] = word


def _place(fp: str, digest: int) -> tuple[int, int]:
    """A token's word without its code (the key sets' tag and the key's bits above its bucket's), and
    the index of its bucket's first word."""
    key = int(fp, 16) ^ digest
    word = (digest & _TAG_MASK) << _TAG_SHIFT | (key >> _BUCKET_BITS) << _CODE_BITS
    return word, (key & _BUCKET_MASK) * WAYS


def sets_digest(sets: Any) -> int:
    """64 bits naming the content of a process's key sets: equal sets, equal digests (else a miss)."""
    return int.from_bytes(hashlib.blake2b(pickle.dumps(sets), digest_size=8).digest(), "little")
