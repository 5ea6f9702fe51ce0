"""Retry policy of :class:`ga_listener.api.client.GaClient`: small named checks over error code and HTTP status.

Nothing here looks at message text. Throttling, server errors and dropped connections are retried a bounded
number of times; the transient states of a listener or accelerator only when the caller asks (the waiter owns
state waits), until the call's deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ga_listener.api.errors import TRANSIENT_STATE_CODES
from ga_listener.transport.errors import ConfigurationError, GaListenerError, TransportError

__all__ = [
    "DEFAULT_CHECKS",
    "Check",
    "RetryPolicy",
    "is_connection_error",
    "is_server_error",
    "is_throttled",
    "is_transient_state",
]

_SERVER_CODES = frozenset({"ServiceUnavailable", "InternalError", "UnknownError"})


def is_throttled(error: GaListenerError) -> bool:
    """Any code containing ``Throttling`` (``Rejected.Throttling`` too), HTTP 429, or an answer carrying
    ``x-acs-retry-after`` (the official SDK treats any such answer as throttling)."""
    return ("Throttling" in getattr(error, "code", "") or getattr(error, "http_status", 0) == 429
            or error.throttled)


def is_server_error(error: GaListenerError) -> bool:
    """ServiceUnavailable / InternalError / UnknownError, or any HTTP 5xx (JSON or not)."""
    return getattr(error, "code", "") in _SERVER_CODES or (getattr(error, "http_status", None) or 0) >= 500


def is_connection_error(error: GaListenerError) -> bool:
    """Refused, reset or dropped connections and timeouts (not certificate failures)."""
    return isinstance(error, TransportError) and error.retryable


def is_transient_state(error: GaListenerError) -> bool:
    """NotActive.Listener / StateError.Listener / StateError.Accelerator: retried only when the caller asks."""
    return getattr(error, "code", "") in TRANSIENT_STATE_CODES


Check = Callable[[GaListenerError], bool]
DEFAULT_CHECKS: tuple[Check, ...] = (is_throttled, is_server_error, is_connection_error)


class RetryPolicy:
    """When and how long to wait before another attempt.

    After failed attempt ``n`` (1-based) wait ``random() * min(max_delay, base_delay * 2 ** (n - 1))`` (full
    jitter), but at least the server's ``Retry-After``. ``max_attempts`` bounds throttling, 5xx and connection
    retries; transient-state retries end only at the deadline. ``total_timeout``: a call's default budget (s).
    """

    __slots__ = ("base_delay", "checks", "code_attempts", "max_attempts", "max_delay", "total_timeout")

    def __init__(
        self, *, max_attempts: int = 5, base_delay: float = 0.25, max_delay: float = 8.0,
        total_timeout: float = 60.0, checks: tuple[Check, ...] = DEFAULT_CHECKS,
        code_attempts: Mapping[str, int] | None = None,
    ) -> None:
        if max_attempts < 1 or base_delay < 0 or max_delay < 0 or total_timeout <= 0:
            raise ConfigurationError("retry needs max_attempts >= 1, delays >= 0 and total_timeout > 0",
                                     setting="retry")
        self.max_attempts, self.base_delay, self.max_delay = max_attempts, base_delay, max_delay
        self.total_timeout, self.checks = total_timeout, checks
        self.code_attempts = dict(code_attempts or {})

    def capped(self, code: str, attempts: int) -> RetryPolicy:
        """This policy, but giving up on error ``code`` after ``attempts`` attempts."""
        return RetryPolicy(max_attempts=self.max_attempts, base_delay=self.base_delay, max_delay=self.max_delay,
                           total_timeout=self.total_timeout, checks=self.checks,
                           code_attempts={**self.code_attempts, code: attempts})

    def reason(self, error: GaListenerError, attempt: int, *, transient_states: bool) -> str | None:
        """The name of the check that makes ``error`` worth another attempt, or ``None``."""
        if transient_states and is_transient_state(error):
            return is_transient_state.__name__
        if attempt >= min(self.max_attempts, self.code_attempts.get(getattr(error, "code", ""), self.max_attempts)):
            return None
        return next((check.__name__ for check in self.checks if check(error)), None)

    def delay(self, attempt: int, rand: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt``, for ``rand`` uniform in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))  # no float overflow
        return max(rand * ceiling, retry_after or 0.0)
