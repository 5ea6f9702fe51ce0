"""Wait for a listener to become ``active`` again after a write, without the fixed 30 s of other tools.

Polls DescribeListener after a short first gap, then at gaps of at most ~15% of the time already waited
(jittered, capped): an update that takes T seconds is seen active by about 1.15 T, whatever T is, and a long wait
costs few calls. Clock, sleep and randomness are injected so tests run without sleeping.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ga_listener.errors import ClientSideError, DeadlineExceededError, GaListenerError
from ga_listener.retry import DEFAULT_CHECKS

__all__ = ["PollSchedule", "WaitTimeoutError", "wait_until_active"]


class WaitTimeoutError(ClientSideError):
    """The listener did not become active before ``ga-listener:waitTimeout``."""


class Describer(Protocol):
    """What the waiter needs of a client."""

    def describe_listener(self, listener_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        """Return the DescribeListener answer, giving up (retries included) at ``deadline``."""
        ...


@dataclass(frozen=True)
class PollSchedule:
    """When to poll: ``first`` after the write, then ``ratio`` x time waited (at least ``minimum``, at most
    ``cap``), each gap scaled by a random factor in [1 - jitter, 1] so many waiters never poll in step."""

    first: float = 0.2
    ratio: float = 0.15
    minimum: float = 0.15
    cap: float = 10.0
    jitter: float = 0.2

    def gap(self, waited: float, rand: float) -> float:
        """Seconds to sleep before the next poll, having waited ``waited`` seconds; ``rand`` in [0, 1)."""
        base = self.first if waited <= 0 else min(self.cap, max(self.minimum, self.ratio * waited))
        return base * (1.0 - self.jitter * rand)


@dataclass
class WaitStats:
    """What a wait cost: how many DescribeListener polls and how long."""

    polls: int = 0
    seconds: float = 0.0


def wait_until_active(
    client: Describer,
    listener_id: str,
    *,
    timeout: float,
    schedule: PollSchedule = PollSchedule(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    random: Callable[[], float] = _random.random,
    stats: WaitStats | None = None,
) -> Mapping[str, Any]:
    """Poll until the listener's State is ``active``; return that DescribeListener answer.

    A poll that fails the way a retry would cure (throttled, server error, lost connection, even after the
    client's own retries) is just a poll without an answer: the wait goes on until its deadline. Raises
    :class:`WaitTimeoutError` naming the last state seen when ``timeout`` seconds pass, and lets other errors
    through (a listener that vanished raises ListenerNotFoundError).
    """
    stats = stats if stats is not None else WaitStats()
    start = clock()
    deadline = start + timeout  # also bounds each poll: ``clock`` must be the client's clock (monotonic)
    last_state, last_error = "unknown", ""
    while True:
        waited = clock() - start
        remaining = timeout - waited
        if remaining <= 0:
            raise WaitTimeoutError(
                f"listener {listener_id} is still '{last_state}' after waiting {timeout:g} s for it to become "
                f"active{last_error}; raise ga-listener:waitTimeout or check the listener in the console"
            )
        sleep(min(schedule.gap(waited, random()), remaining))
        stats.polls += 1
        try:
            body = client.describe_listener(listener_id, deadline=deadline)
        except GaListenerError as error:
            if not _worth_polling_again(error):
                raise
            if not (isinstance(error, DeadlineExceededError) and error.attempts == 0):  # not even started
                last_error = f" (the last poll failed: {error})"
            continue
        finally:
            stats.seconds = clock() - start
        last_state, last_error = str(body.get("State", "unknown")).lower(), ""
        if last_state == "active":
            return body


def _worth_polling_again(error: GaListenerError) -> bool:
    return isinstance(error, DeadlineExceededError) or any(check(error) for check in DEFAULT_CHECKS)
