"""A clock that moves only when told, and a free loopback port."""

from __future__ import annotations

import socket


class FakeClock:
    """A clock (``clock()``) and a ``sleep`` that never sleeps: it advances ``now`` and records the delay.

    Inject it as a monotonic clock, a wall clock (start it at an epoch second) or both: one time line.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def free_port() -> int:
    """A loopback port that was free a moment ago (nothing listens on it unless someone binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
