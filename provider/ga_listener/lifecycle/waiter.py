"""Poll a listener until an operation is done, without the fixed 30 s of other tools.

Polls after a short first gap, then at gaps of at most ~15% of the time already waited (jittered, capped): a
change that takes T seconds to show is seen by about 1.15 T, whatever T is, and a long wait costs few calls.
*Done* is the caller's judgement of each answer: active and showing what was written (the service is eventually
consistent, so an ``active`` answer just after a write may still show the old values), visible after a create,
or gone after a delete. Clock, sleep and randomness are injected so tests run without sleeping.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ga_listener.api.retry import DEFAULT_CHECKS, is_transient_state
from ga_listener.transport.errors import ClientSideError, DeadlineExceededError, GaListenerError

__all__ = ["Answer", "PollSchedule", "WaitStats", "WaitTimeoutError", "wait_until"]

#: One poll's answer: the DescribeListener body, or ``None`` when the listener does not exist (now).
Answer = Mapping[str, Any] | None


class WaitTimeoutError(ClientSideError):
    """The operation was not done before ``ga-listener:waitTimeout``; the message says what was seen last."""


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
    """What a wait cost: how many polls and how long."""

    polls: int = 0
    seconds: float = 0.0


def wait_until(
    poll: Callable[[float], Answer],
    *,
    done: Callable[[Answer], bool],
    status: Callable[[Answer], str],
    what: str,
    timeout: float,
    schedule: PollSchedule = PollSchedule(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    random: Callable[[], float] = _random.random,
    stats: WaitStats | None = None,
) -> Answer:
    """Call ``poll(deadline)`` on the schedule until ``done(answer)``; return that answer.

    ``done`` may raise to end the wait at once (a listener that vanished mid-update). A poll that fails the way
    a retry would cure (throttled, server error, lost connection, a busy state, even after the client's own
    retries) is just a poll without an answer: the wait goes on until its deadline. After ``timeout`` seconds it raises
    :class:`WaitTimeoutError`: ``"<what>: not done after <timeout> s: <status(last answer)>"``.
    """
    stats = stats if stats is not None else WaitStats()
    start = clock()
    deadline = start + timeout  # also bounds each poll: ``clock`` must be the client's clock (monotonic)
    seen, last_error = "nothing yet", ""
    while True:
        waited = clock() - start
        remaining = timeout - waited
        if remaining <= 0:
            raise WaitTimeoutError(
                f"{what}: not done after waiting {timeout:g} s: {seen}{last_error}; raise ga-listener:waitTimeout "
                "or check the listener in the console"
            )
        sleep(min(schedule.gap(waited, random()), remaining))
        stats.polls += 1
        try:
            answer = poll(deadline)
        except GaListenerError as error:
            if not _worth_polling_again(error):
                raise
            if not (isinstance(error, DeadlineExceededError) and error.attempts == 0):  # not even started
                last_error = f" (the last poll failed: {error})"
            continue
        finally:
            stats.seconds = clock() - start
        seen, last_error = status(answer), ""
        if done(answer):
            return answer


def _worth_polling_again(error: GaListenerError) -> bool:
    checks = (*DEFAULT_CHECKS, is_transient_state)  # a listener answering "busy" is just not done yet
    return isinstance(error, DeadlineExceededError) or any(check(error) for check in checks)
