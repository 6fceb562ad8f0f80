"""Kid-miss refreshes for forked workers, answered by the parent (the only process that fetches keys).

Imports `tokens.keys` only.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import threading
import time
from typing import Any, cast

from analyzer.tokens.keys import KeyRing

REFRESH_WAIT = 60.0  # seconds a worker waits for the parent's answer to a kid miss


class KeyBroker:
    """Kid-miss refreshes for forked workers, done by the parent: the only process that fetches keys.

    A worker that meets a kid its key sets lack asks the parent over its own pipe. The parent asks
    the key store (which fetches at most once per issuer per cooldown) and answers with its current
    set, which the worker puts in place of its own. Every process so ends up judging with the same
    keys as a single process would, and the provider sees no more requests than from one.
    """

    def __init__(self, ring: KeyRing, workers: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._ring = ring
        pairs = [ctx.Pipe() for _ in range(workers)]
        self._parent_ends = [a for a, _ in pairs]
        self._child_ends = [b for _, b in pairs]
        self._next = ctx.Value("i", 0)  # the next free pipe; a replacement worker finds none left
        self._wake, self._waker = ctx.Pipe(duplex=False)  # `close` wakes the thread at once
        self._thread = threading.Thread(target=self._serve, name="key-broker", daemon=True)
        self._thread.start()

    def attach(self, ring: KeyRing) -> None:
        """In a worker: route the ring's kid-miss refreshes to the parent (if a pipe is free)."""
        with self._next.get_lock():
            slot = self._next.value
            self._next.value += 1
        if slot >= len(self._child_ends):
            ring.refresher = None
            return
        conn = self._child_ends[slot]
        asked = itertools.count(1)

        def ask_parent(ring: KeyRing, index: int) -> bool:
            # Each question is numbered: an answer that came after its question was given up on
            # (a fetch slower than REFRESH_WAIT) is dropped, not taken for the next one's.
            number = next(asked)
            deadline = time.monotonic() + REFRESH_WAIT
            try:
                conn.send((number, index))
                while True:
                    if not conn.poll(max(0.0, deadline - time.monotonic())):
                        return False
                    got, answer = conn.recv()
                    if got == number:
                        break
            except (OSError, EOFError, TypeError, ValueError):
                return False
            if answer is None:
                return False
            new, kids = answer
            old = ring.sets[index]
            ring.history[new.source] = kids
            if new.jwks == old.jwks:
                return False
            ring.replace(index, new)
            return set(new.kids) != set(old.kids)

        ring.refresher = ask_parent
        ring.owner_pid = os.getpid()

    def _serve(self) -> None:
        from multiprocessing.connection import Connection, wait

        ends = list(self._parent_ends)
        while True:
            for ready in wait([*ends, self._wake]):
                if ready is self._wake:
                    return
                conn = cast(Connection, ready)
                try:
                    number, index = conn.recv()
                    conn.send((number, self._answer(index)))
                except (OSError, EOFError):
                    ends.remove(conn)

    def _answer(self, index: Any) -> tuple[Any, dict[str, str]] | None:
        ring = self._ring
        if not isinstance(index, int) or not 0 <= index < len(ring.sets) or ring.refresher is None:
            return None
        with contextlib.suppress(Exception):  # e.g. the key history cannot be written: keep the keys we have
            ring.refresher(ring, index)
        current = ring.sets[index]
        return current, dict(ring.history.get(current.source, {}))

    def close(self) -> None:
        """Stop answering (after the pool is done)."""
        self._waker.send(None)
        self._thread.join()
        for conn in (*self._parent_ends, *self._child_ends, self._wake, self._waker):
            conn.close()
