"""Fault injection: a deterministic queue first, then a seeded random draw per API request.

Kinds (what the client sees):

* ``throttle`` - HTTP 400 ``Throttling.User``;
* ``throttle429`` - HTTP 429 ``Throttling.User`` with ``Retry-After: 1`` (seconds; also ``x-acs-retry-after:
  1000`` in milliseconds, the header the official SDK reads);
* ``unavailable`` - HTTP 503 ``ServiceUnavailable``;
* ``drop`` - the connection closes before the request is processed, with no answer;
* ``drop_after`` - the request is processed (a write is applied), then the connection closes with no answer;
* ``slow`` - the answer comes after a delay (at most 2 s from the random draw; 2 s, or the delay given, when
  queued).

The random draw uses ``random.Random(seed)``, one draw per API request in arrival order, so a given seed and a
given sequence of requests always meet the same faults. Admin endpoints never reach this module.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["KINDS", "MAX_SLOW_SECONDS", "Fault", "Faults"]

KINDS = ("throttle", "throttle429", "unavailable", "drop", "drop_after", "slow")
MAX_SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class Fault:
    """One injected fault; ``delay`` is the wait in seconds for ``slow``."""

    kind: str
    delay: float = 0.0


class Faults:
    """Decides, per API request, whether and how it fails (thread-safe)."""

    def __init__(self, rate: float = 0.0, seed: int = 0, *, max_delay: float = MAX_SLOW_SECONDS) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {rate}")
        self.rate = rate
        self.seed = seed
        self.max_delay = max_delay
        """The longest random ``slow`` delay (seconds); queued ``slow`` faults wait this long by default."""
        self._random = random.Random(seed)
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()

    def enqueue(self, kind: str, count: int = 1, delay: float | None = None) -> None:
        """Make the next ``count`` API requests fail with ``kind`` (before any random draw)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if delay is not None and not 0.0 <= delay <= 60.0:
            raise ValueError(f"delay must be within 0..60 seconds, got {delay}")
        fault = Fault(kind, (self.max_delay if delay is None else delay) if kind == "slow" else 0.0)
        with self._lock:
            self._queue.extend([fault] * count)

    def clear(self) -> None:
        """Forget queued faults (the random draw continues where it was)."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        """How many queued faults are left."""
        with self._lock:
            return len(self._queue)

    def next(self) -> Fault | None:
        """The fault for the next API request, or None."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.rate <= 0.0 or self._random.random() >= self.rate:
                return None
            kind = self._random.choice(KINDS)
            delay = self._random.uniform(0.0, self.max_delay) if kind == "slow" else 0.0
            return Fault(kind, delay)
