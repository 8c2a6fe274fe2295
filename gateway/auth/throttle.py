"""Slow down password guessing: per user name, in memory.

The first `free_failures` wrong passwords for a name cost nothing; each one after that
makes the name wait twice as long before the next attempt is even checked (1 s, 2 s,
4 s, ... up to `max_wait_s`). A right password clears the count. Counts live in this
process only (a restart forgets them), are keyed by the lower-cased name whether or not
that user exists (so the answer does not reveal which names do), and are forgotten
after a quiet `max_wait_s`. A guesser is held to a few hundred tries a day per name,
while the person who mistyped twice notices nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED = 10_000
"""Names tracked at once; beyond this the stalest entries are dropped (bounded memory)."""


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    def __init__(
        self,
        free_failures: int = 5,
        max_wait_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _wait_after(self, count: int) -> float:
        over = count - self.free_failures
        return 0.0 if over < 0 else min(2.0**over, self.max_wait_s)

    def retry_after(self, name: str) -> float:
        """Seconds to wait before `name` may try again; 0 when it may try now."""
        with self._lock:
            entry = self._failures.get(name.lower())
            if entry is None:
                return 0.0
            now = self._clock()
            if now - entry.last >= self.max_wait_s:
                del self._failures[name.lower()]
                return 0.0
            return max(0.0, entry.last + self._wait_after(entry.count) - now)

    def failed(self, name: str) -> None:
        with self._lock:
            key = name.lower()
            entry = self._failures.get(key)
            now = self._clock()
            if entry is None or now - entry.last >= self.max_wait_s:
                entry = _Failures(0, now)
            entry.count += 1
            entry.last = now
            self._failures[key] = entry
            if len(self._failures) > MAX_TRACKED:
                stalest = min(self._failures, key=lambda k: self._failures[k].last)
                del self._failures[stalest]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)
