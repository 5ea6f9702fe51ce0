"""The ground of ga-listener's one exception tree: its root and the failures on our side.

::

    GaListenerError                     root of everything we raise
    ├── ClientSideError                 we failed before or without a usable service answer
    │   ├── ConfigurationError          bad endpoint or setting value (names the setting)
    │   ├── CredentialsNotFoundError    no credentials anywhere (lists every place it looked)
    │   ├── CredentialsRefreshError     a temporary-credential source failed (names the source and why)
    │   ├── TransportError              connection refused/reset/timeout (names the endpoint)
    │   ├── ResponseError               non-JSON, empty, HTML or truncated answer (names the HTTP status)
    │   └── DeadlineExceededError       retry deadline passed; the last error is its __cause__
    └── ApiError                        the service answered with an error code (:mod:`ga_listener.api.errors`)

No message built here ever contains a secret or token: callers pass only what a server said (scrubbed) and what
we sent in the clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ClientSideError",
    "ConfigurationError",
    "CredentialsNotFoundError",
    "CredentialsRefreshError",
    "DeadlineExceededError",
    "GaListenerError",
    "ResponseError",
    "TransportError",
]

class GaListenerError(Exception):
    """Root of every exception ga-listener raises."""

    #: Seconds the server asked us to wait before retrying (``Retry-After``), when it said so.
    retry_after: float | None = None
    #: The answer carried ``x-acs-retry-after``: the official SDK treats any such answer as throttling.
    throttled: bool = False


# --- client side -------------------------------------------------------------------------------------------


class ClientSideError(GaListenerError):
    """We failed before, or without, a usable answer from the service."""


class ConfigurationError(ClientSideError):
    """A setting has a value we cannot use; ``setting`` names it."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class CredentialsNotFoundError(ClientSideError):
    """No credentials were found; ``searched`` lists every place looked at (names only, never values)."""

    def __init__(self, searched: Sequence[str]) -> None:
        self.searched = tuple(searched)
        places = "; ".join(self.searched)
        super().__init__(
            f"No Alibaba Cloud credentials found. Looked in: {places}. Set alicloud:accessKey and "
            "alicloud:secretKey (secret) in the stack config, or ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment, or another source of the README's "
            "configuration table (a role, the ECS instance role, OIDC, a credentials URI or a profile of "
            "~/.aliyun/config.json named by alicloud:profile)."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.searched,), self.__dict__)


class CredentialsRefreshError(ClientSideError):
    """Temporary credentials could not be obtained or refreshed; ``source`` names the source (never a secret)."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),), self.__dict__)


class TransportError(ClientSideError):
    """The connection failed (refused, reset, dropped, timed out); ``endpoint`` names where we went."""

    def __init__(
        self, message: str, *, endpoint: str = "", action: str | None = None, retryable: bool = True
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.action = action
        self.retryable = retryable


class ResponseError(ClientSideError):
    """The service answered something that is not a usable JSON document (names the HTTP status)."""

    def __init__(
        self, message: str, *, http_status: int | None = None, action: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.action = action
        self.request_id = request_id


class DeadlineExceededError(ClientSideError):
    """The overall deadline passed before a call succeeded; the last failure is ``__cause__``."""

    def __init__(self, message: str, *, action: str | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.action = action
        self.attempts = attempts
