"""Fault injection: a deterministic queue first, then a seeded random draw per API request.

Kinds (what the client sees):

* ``throttle`` - HTTP 400 ``Throttling.User``;
* ``throttle429`` - HTTP 429 ``Throttling.User`` with ``Retry-After: 1`` (seconds; also ``x-acs-retry-after:
  1000`` in milliseconds, the header the official SDK reads);
* ``unavailable`` - HTTP 503 ``ServiceUnavailable``;
* ``drop`` - the connection closes before the request is processed, with no answer;
* ``drop_after`` - the request is processed (a write is applied), then the connection closes with no answer;
* ``slow`` - the answer comes after a delay (at most 2 s from the random draw; 2 s, or the delay given, when
  queued);
* ``rejected_throttling`` - HTTP 400 ``Rejected.Throttling``;
* ``retry_after`` - HTTP 400 ``ServiceBusy`` with ``x-acs-retry-after: 200`` (milliseconds): a code that says
  nothing of throttling, so only the header (which the official SDK turns into a ThrottlingException) does;
* ``state_error_listener`` - HTTP 400 ``StateError.Listener``;
* ``unknown_error`` - HTTP 500 ``UnknownError``;
* ``error`` (queued only) - any ``code``, ``status`` and ``message`` the test gives (a declared code alone
  answers with its declared status and message).

Every kind but ``drop_after`` and ``slow`` answers instead of processing: nothing changes. A queued fault may
name an ``action``: then only a request of that action consumes it (the others pass it by).

The random draw uses ``random.Random(seed)``, one draw per API request in arrival order, so a given seed and a
given sequence of requests always meet the same faults. It draws from ``kinds``: by default the six kinds of
the first emulator (:data:`CLASSIC_KINDS`), so an existing seed meets exactly the faults it met before; pass
``kinds`` (CLI ``--fault-kinds``) to draw the newer ones too. Admin endpoints never reach this module.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ga_emulator.errors import DECLARED
from ga_emulator.params import ACTIONS

__all__ = [
    "ANSWERING_KINDS",
    "CLASSIC_KINDS",
    "DRAWABLE_KINDS",
    "KINDS",
    "MAX_SLOW_SECONDS",
    "Fault",
    "Faults",
    "parse_kinds",
]

CLASSIC_KINDS = ("throttle", "throttle429", "unavailable", "drop", "drop_after", "slow")
DRAWABLE_KINDS = (*CLASSIC_KINDS, "rejected_throttling", "retry_after", "state_error_listener", "unknown_error")
KINDS = (*DRAWABLE_KINDS, "error")
# Kinds whose answer replaces processing (rendered by ga_emulator.api).
ANSWERING_KINDS = frozenset(KINDS) - {"drop", "drop_after", "slow"}
MAX_SLOW_SECONDS = 2.0
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
_INJECTED = "An error injected by the emulator."


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``delay`` (seconds) for ``slow``; ``action`` limits a queued fault to one action;
    ``code``, ``status`` and ``message`` are what an ``error`` fault answers."""

    kind: str
    delay: float = 0.0
    action: str | None = None
    code: str | None = None
    status: int = 400
    message: str | None = None


def parse_kinds(kinds: Iterable[str] | str) -> tuple[str, ...]:
    """The random draw's kinds from names (or a comma-separated text; ``all`` means every drawable kind);
    ValueError names an unknown kind."""
    names = [part.strip() for part in kinds.split(",")] if isinstance(kinds, str) else [str(k) for k in kinds]
    if names == ["all"]:
        return DRAWABLE_KINDS
    unknown = [name for name in names if name not in DRAWABLE_KINDS]
    if unknown or not names:
        raise ValueError(f"unknown fault kind {unknown[0] if unknown else ''!r} for the random draw; expected "
                         f"'all' or some of {', '.join(DRAWABLE_KINDS)}")
    return tuple(dict.fromkeys(names))


def _error_fault(code: str | None, status: int | None, message: str | None, action: str | None) -> Fault:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValueError("an error fault needs a code: a letter, then up to 63 letters, digits, '.', '_' or '-'")
    declared = DECLARED.get(code)
    status = status if status is not None else (declared.http_status if declared else 400)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"status must be an HTTP error status (400..599), got {status!r}")
    if message is None:
        message = declared.message if declared else _INJECTED
    if not isinstance(message, str) or len(message) > 500:
        raise ValueError("message must be text of at most 500 characters")
    return Fault("error", action=action, code=code, status=status, message=message)


def check_rate(rate: Any, name: str = "fault rate") -> float:
    """A fault rate: a number within 0..1; ValueError naming ``name`` otherwise."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be within 0..1, got {rate!r}")
    return float(rate)


class Faults:
    """Decides, per API request, whether and how it fails (thread-safe)."""

    def __init__(
        self,
        rate: float = 0.0,
        seed: int = 0,
        *,
        max_delay: float = MAX_SLOW_SECONDS,
        kinds: Iterable[str] = CLASSIC_KINDS,
    ) -> None:
        self._rate = check_rate(rate)
        self.seed = seed
        self.max_delay = max_delay
        """The longest random ``slow`` delay (seconds); queued ``slow`` faults wait this long by default."""
        self._kinds = parse_kinds(kinds)
        self._random = random.Random(seed)
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        """The share of API requests the random draw fails."""
        with self._lock:
            return self._rate

    @rate.setter
    def rate(self, rate: float) -> None:
        checked = check_rate(rate)
        with self._lock:
            self._rate = checked

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds the random draw picks from."""
        with self._lock:
            return self._kinds

    @kinds.setter
    def kinds(self, kinds: Iterable[str]) -> None:
        parsed = parse_kinds(kinds)
        with self._lock:
            self._kinds = parsed

    def enqueue(
        self,
        kind: str,
        count: int = 1,
        delay: float | None = None,
        *,
        action: str | None = None,
        code: str | None = None,
        status: int | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``count`` API requests (of ``action`` only, if given) fail with ``kind`` (before any
        random draw). ``code``, ``status`` and ``message`` are for ``error`` faults."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if delay is not None and not 0.0 <= delay <= 60.0:
            raise ValueError(f"delay must be within 0..60 seconds, got {delay}")
        if action is not None and action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        if kind == "error":
            fault = _error_fault(code, status, message, action)
        elif code is not None or status is not None or message is not None:
            raise ValueError("code, status and message belong to error faults only")
        else:
            fault = Fault(kind, (self.max_delay if delay is None else delay) if kind == "slow" else 0.0, action)
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

    def next(self, action: str = "") -> Fault | None:
        """The fault for the next API request (of ``action``, as the request claims it), or None."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.action is None or fault.action == action:
                    del self._queue[index]
                    return fault
            if self._rate <= 0.0 or self._random.random() >= self._rate:
                return None
            kind = self._random.choice(self._kinds)
            delay = self._random.uniform(0.0, self.max_delay) if kind == "slow" else 0.0
            return Fault(kind, delay)
