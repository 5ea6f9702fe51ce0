"""The waiter, with an injected clock: it returns soon after the listener is done and gives up on time."""

from __future__ import annotations

from typing import Any

import pytest

from ga_listener.api.errors import ListenerNotFoundError
from ga_listener.lifecycle.waiter import Answer, WaitStats, WaitTimeoutError, wait_until
from ga_listener.transport.errors import GaListenerError, TransportError


class FakeListener:
    """A listener that becomes active at ``ready_at`` on a fake clock; sleeping advances the clock."""

    def __init__(self, ready_at: float) -> None:
        self.now = 0.0
        self.ready_at = ready_at
        self.polls: list[float] = []
        self.sleeps: list[float] = []
        self.deadlines: list[float | None] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def describe_listener(self, listener_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        self.deadlines.append(deadline)
        self.polls.append(self.now)
        return {"ListenerId": listener_id, "State": "active" if self.now >= self.ready_at else "updating"}


def is_active(answer: Answer) -> bool:
    return answer is not None and answer["State"] == "active"


def wait_until_active(fake: FakeListener, listener_id: str, *, timeout: float, rand: float,
                      stats: WaitStats | None = None) -> Answer:
    """The wait a write makes, as the operations build it (polls of DescribeListener until active)."""
    return wait_until(lambda deadline: fake.describe_listener(listener_id, deadline=deadline), done=is_active,
                      status=lambda answer: "not found" if answer is None else f"'{answer['State']}'",
                      what=f"listener {listener_id} to be active", timeout=timeout, clock=fake.clock,
                      sleep=fake.sleep, random=lambda: rand, stats=stats)


@pytest.mark.parametrize("transition", [0.05, 1.0, 30.0, 300.0])
@pytest.mark.parametrize("rand", [0.0, 0.5, 0.999])
def test_returns_within_fifteen_percent_of_the_transition(transition: float, rand: float) -> None:
    fake = FakeListener(transition)
    body = wait_until_active(fake, "lsr-1", timeout=600, rand=rand)
    assert is_active(body)
    finished = fake.polls[-1]
    assert finished >= transition
    assert finished <= max(transition * 1.15, 0.2)
    # every gap after the first is at most 15% of the time waited, or the 0.15 s floor
    for before, gap in zip(fake.polls[:-1], fake.sleeps[1:], strict=True):
        assert gap <= max(0.15 * before, 0.15) + 1e-9


def test_first_poll_is_short() -> None:
    fake = FakeListener(0.0)
    wait_until_active(fake, "lsr-1", timeout=600, rand=0.0)
    assert fake.polls == [0.2]  # the README promises the first poll 0.2 s after the write


def test_long_waits_cost_few_polls() -> None:
    fake = FakeListener(60.0)
    stats = WaitStats()
    wait_until_active(fake, "lsr-1", timeout=600, rand=0.5, stats=stats)
    assert stats.polls == len(fake.polls) < 45


def test_gives_up_at_the_deadline_naming_the_last_state() -> None:
    fake = FakeListener(1e9)
    with pytest.raises(WaitTimeoutError, match="lsr-1 to be active: not done after waiting 5 s: 'updating'") as raised:
        wait_until_active(fake, "lsr-1", timeout=5, rand=0.3)
    assert "ga-listener:waitTimeout" in str(raised.value)
    assert fake.now == pytest.approx(5.0)  # the last poll is at the deadline, not past it
    assert set(fake.deadlines) == {5.0}  # and no poll, retries included, may run past it either


class FlakyListener(FakeListener):
    """Every poll but every ``good_every``-th fails the way a retry cures; one fails for good if asked."""

    def __init__(self, ready_at: float, good_every: int, fatal: GaListenerError | None = None) -> None:
        super().__init__(ready_at)
        self.good_every, self.fatal = good_every, fatal

    def describe_listener(self, listener_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        body = super().describe_listener(listener_id, deadline=deadline)
        if self.fatal is not None:
            raise self.fatal
        if len(self.polls) % self.good_every:
            raise TransportError("DescribeListener to http://x: connection failed", endpoint="http://x")
        return body


def test_polls_that_fail_transiently_do_not_end_the_wait() -> None:
    fake = FlakyListener(2.0, good_every=3)
    body = wait_until_active(fake, "lsr-1", timeout=600, rand=0.5)
    assert is_active(body) and fake.now >= 2.0


def test_the_timeout_names_the_last_failed_poll() -> None:
    fake = FlakyListener(1e9, good_every=10**9)
    with pytest.raises(WaitTimeoutError, match="the last poll failed: DescribeListener"):
        wait_until_active(fake, "lsr-1", timeout=3, rand=0.5)


def test_errors_no_retry_cures_end_the_wait_at_once() -> None:
    gone = ListenerNotFoundError("NotExist.Listener", "The listener does not exist.", "req-1", 400)
    fake = FlakyListener(1.0, good_every=1, fatal=gone)
    with pytest.raises(ListenerNotFoundError):
        wait_until_active(fake, "lsr-1", timeout=600, rand=0.5)
    assert len(fake.polls) == 1


def test_done_may_end_the_wait_at_once_and_none_means_not_found() -> None:
    fake = FakeListener(0.0)
    answers: list[Answer] = [None, None, {"State": "active"}]

    def done(answer: Answer) -> bool:
        if len(fake.polls) > 5:
            raise RuntimeError("given up by the caller")
        return answer is not None

    body = wait_until(lambda _deadline: fake.describe_listener("x") and answers.pop(0), done=done,
                      status=str, what="x", timeout=60, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5)
    assert body == {"State": "active"} and len(fake.polls) == 3
    with pytest.raises(RuntimeError, match="given up"):
        wait_until(lambda _deadline: fake.describe_listener("x") and None, done=done, status=str, what="x",
                   timeout=60, clock=fake.clock, sleep=fake.sleep, random=lambda: 0.5)
