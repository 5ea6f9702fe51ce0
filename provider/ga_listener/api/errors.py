"""The service's error codes as exceptions: :class:`ApiError` and one subclass per kind of answer.

::

    ApiError                        the service answered with an error code
    ├── ListenerNotFoundError       NotExist.Listener
    ├── ListenerNotActiveError      NotActive.Listener, StateError.Listener (transient state)
    ├── AcceleratorNotFoundError    NotExist.Accelerator
    ├── AcceleratorStateError       StateError.Accelerator (transient state)
    ├── PortRangeIllegalError       PortRangeIllegal.*, SystemPort.Listener, PortRanges.MustOne
    ├── PortConflictError           PortConflict.Listener
    ├── PortQuotaExceededError      QuotaExceeded.ListenerPort
    ├── ListenerQuotaExceededError  QuotaExceeded.Listener
    ├── ListenerInUseError          Exist.EndpointGroup, Exist.ForwardingRule (delete refused)
    ├── ThrottledError              any code containing Throttling
    ├── ServerError                 ServiceUnavailable, InternalError, UnknownError, any HTTP 5xx
    ├── AuthenticationError         InvalidAccessKeyId.*, SignatureDoesNotMatch, InvalidSecurityToken.*, Forbidden*
    ├── ClockSkewError              InvalidTimeStamp.Expired
    ├── NonceReusedError            SignatureNonceUsed
    └── InvalidParameterError       InvalidParameter*, Missing*, ProtocalIllegal.Listener, IdempotenceParamNotMatch

``api_error_from`` picks the class for a code. Every ``ApiError`` says what the user should do next (``advice``),
and ``str()`` of it is one line. ``ApiError`` is a :class:`~ga_listener.transport.errors.GaListenerError`.
"""

from __future__ import annotations

from typing import Any

from ga_listener.transport.errors import GaListenerError

__all__ = [
    "TRANSIENT_STATE_CODES",
    "AcceleratorNotFoundError",
    "AcceleratorStateError",
    "ApiError",
    "AuthenticationError",
    "ClockSkewError",
    "InvalidParameterError",
    "ListenerInUseError",
    "ListenerNotActiveError",
    "ListenerNotFoundError",
    "ListenerQuotaExceededError",
    "NonceReusedError",
    "PortConflictError",
    "PortQuotaExceededError",
    "PortRangeIllegalError",
    "ServerError",
    "ThrottledError",
    "api_error_from",
]

TRANSIENT_STATE_CODES = frozenset({"NotActive.Listener", "StateError.Accelerator", "StateError.Listener"})


def _one_line(text: str | None) -> str:
    """Server-supplied text with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(text.split()) if text else ""


# --- API errors --------------------------------------------------------------------------------------------


class ApiError(GaListenerError):
    """The service answered with an error code.

    Attributes: ``code``, ``message``, ``request_id``, ``http_status``, ``retryable`` (the class default
    unless given), ``advice`` (what the user should do), ``action`` (the API action that failed) and
    ``recommend`` (the service's diagnosis URL, when it gave one).
    """

    retryable_by_default = False
    default_advice = "See the GA API error code reference; the request was not retried."

    def __init__(  # noqa: PLR0917 - the contract's positional order
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
        advice: str | None = None,
        action: str | None = None,
        *,
        recommend: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.retryable = self.retryable_by_default if retryable is None else retryable
        self.advice = advice or self.default_advice
        self.action = action
        self.recommend = recommend
        super().__init__(str(self))

    def __str__(self) -> str:
        status = self.http_status if self.http_status is not None else "?"
        return (
            f"{_one_line(self.action) or 'Request'} failed: {_one_line(self.code)}: "
            f"{_one_line(self.message) or '(no message)'} "
            f"(request id {_one_line(self.request_id) or 'unknown'}, HTTP {status}). {self.advice}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.code, self.message, self.request_id, self.http_status, self.retryable, self.advice,
                self.action)
        return (type(self), args, self.__dict__)


class ListenerNotFoundError(ApiError):
    """NotExist.Listener."""

    default_advice = "Check the listener id; the listener may have been deleted (run `pulumi refresh`)."


class ListenerNotActiveError(ApiError):
    """NotActive.Listener: the listener is still applying an earlier change."""

    retryable_by_default = True
    default_advice = (
        "The listener is still applying an earlier change; wait until it is active "
        "(ga-listener retries this automatically while it waits)."
    )


class AcceleratorNotFoundError(ApiError):
    """NotExist.Accelerator."""

    default_advice = "Check the accelerator id; the accelerator may have been deleted."


class AcceleratorStateError(ApiError):
    """StateError.Accelerator: another listener of the accelerator is changing, or it is not active."""

    retryable_by_default = True
    default_advice = (
        "Another listener of this accelerator is changing or the accelerator is not active; wait and retry "
        "(ga-listener retries this automatically while it waits)."
    )


class PortRangeIllegalError(ApiError):
    """PortRangeIllegal.Listener."""

    default_advice = (
        "Use ports 1..65499 with from_port <= to_port; an HTTP/HTTPS listener takes exactly one port."
    )


class PortConflictError(ApiError):
    """PortConflict.Listener."""

    default_advice = "Choose ports that no other listener of the same accelerator uses."


class PortQuotaExceededError(ApiError):
    """QuotaExceeded.ListenerPort."""

    default_advice = ("Use fewer ports (the quota depends on the protocol and routing type) or ask for a quota "
                      "increase; ga-listener:maxListenerPorts can check a limit at preview.")


class ListenerQuotaExceededError(ApiError):
    """QuotaExceeded.Listener: the accelerator holds as many listeners as it may."""

    default_advice = ("The accelerator has as many listeners as its quota allows (50 by default): delete one, use "
                      "another accelerator, or ask for a higher quota.")


class ListenerInUseError(ApiError):
    """Exist.EndpointGroup / Exist.ForwardingRule: a listener with endpoint groups or rules cannot be deleted."""

    default_advice = ("Delete the listener's endpoint groups and forwarding rules first (they are not managed "
                      "by ga-listener), then run the destroy again.")


class ThrottledError(ApiError):
    """Throttling, Throttling.User, Throttling.Api, ..."""

    retryable_by_default = True
    default_advice = "Too many requests; retried with backoff. If it persists, run fewer operations at once."


class ServerError(ApiError):
    """A server-side failure (ServiceUnavailable, InternalError, UnknownError or any HTTP 5xx)."""

    retryable_by_default = True
    default_advice = "The service failed on its side; retried with backoff. If it persists, try again later."


class AuthenticationError(ApiError):
    """The credentials or permissions were refused."""

    default_advice = "Check the access key id, the access key secret and the RAM permissions of the key."


class ClockSkewError(ApiError):
    """InvalidTimeStamp.Expired."""

    default_advice = (
        "This machine's clock is off by more than 15 minutes; sync it with NTP and run again."
    )


class NonceReusedError(ApiError):
    """SignatureNonceUsed."""

    default_advice = (
        "A request nonce was seen before; run again (every attempt gets a new nonce) and check that nothing "
        "replays requests."
    )


class InvalidParameterError(ApiError):
    """The request was malformed: InvalidParameter*, MissingParameter*, IdempotenceParamNotMatch."""

    default_advice = "A parameter was rejected; fix the value named in the message."


# code -> (class, advice for that code or None for the class default)
_BY_CODE: dict[str, tuple[type[ApiError], str | None]] = {
    "NotExist.Listener": (ListenerNotFoundError, None),
    "NotActive.Listener": (ListenerNotActiveError, None),
    "StateError.Listener": (ListenerNotActiveError, None),
    "NotExist.Accelerator": (AcceleratorNotFoundError, None),
    "StateError.Accelerator": (AcceleratorStateError, None),
    "PortRangeIllegal.Listener": (PortRangeIllegalError, None),
    "PortRangeIllegal.UDP": (
        PortRangeIllegalError, "UDP ports 250, 4789 and 4790 are reserved by the service; choose other ports.",
    ),
    "SystemPort.Listener": (PortRangeIllegalError, "Ports 65500-65535 are reserved by the service."),
    "PortRanges.MustOne": (PortRangeIllegalError, "An HTTP/HTTPS listener takes exactly one port."),
    "PortConflict.Listener": (PortConflictError, None),
    "QuotaExceeded.ListenerPort": (PortQuotaExceededError, None),
    "QuotaExceeded.Listener": (ListenerQuotaExceededError, None),
    "Exist.EndpointGroup": (ListenerInUseError, None),
    "Exist.ForwardingRule": (ListenerInUseError, None),
    "NotExist.BasicBandwidthPackage": (
        ApiError, "The accelerator needs a basic bandwidth package (subscription accelerators): attach one in the "
                  "GA console, then run again.",
    ),
    "ProtocalIllegal.Listener": (
        InvalidParameterError, "The protocol was refused; use tcp, udp, http or https (please report this bug).",
    ),
    "ServiceUnavailable": (ServerError, None),
    "InternalError": (ServerError, None),
    "UnknownError": (ServerError, None),
    "InvalidAccessKeyId.NotFound": (
        AuthenticationError,
        "The access key id is unknown; check alicloud:accessKey / ALIBABA_CLOUD_ACCESS_KEY_ID.",
    ),
    "InvalidAccessKeyId.Inactive": (
        AuthenticationError, "The access key is disabled; enable it or use another key in the RAM console.",
    ),
    "SignatureDoesNotMatch": (
        AuthenticationError,
        "Check the access key secret (alicloud:secretKey / ALIBABA_CLOUD_ACCESS_KEY_SECRET) and the clock.",
    ),
    "IncompleteSignature": (
        AuthenticationError, "Check the access key secret and the machine clock.",
    ),
    "InvalidSecurityToken.Expired": (
        AuthenticationError, "The STS security token has expired; get a fresh token and run again.",
    ),
    "InvalidSecurityToken.Malformed": (
        AuthenticationError, "The STS security token is malformed; copy the whole token again.",
    ),
    "InvalidSecurityToken.MismatchWithAccessKey": (
        AuthenticationError, "The STS token belongs to another access key; use the key pair issued with it.",
    ),
    "InvalidTimeStamp.Expired": (ClockSkewError, None),
    "SignatureNonceUsed": (NonceReusedError, None),
    "IdempotenceParamNotMatch": (
        InvalidParameterError,
        "This ClientToken was used before with different parameters; use a new token for a new change.",
    ),
}

# prefix -> (class, advice); checked in order after the exact table
_BY_PREFIX: tuple[tuple[str, type[ApiError], str | None], ...] = (
    ("Forbidden", AuthenticationError,
     "The key may not perform this action; grant it GA permissions (e.g. AliyunGAFullAccess) in RAM."),
    ("InvalidAccessKeyId", AuthenticationError, None),
    ("InvalidSecurityToken", AuthenticationError, "Check the STS security token; get a fresh one."),
    ("InvalidParameter", InvalidParameterError, None),
    ("Missing", InvalidParameterError, "A required parameter was missing; please report this bug."),
)


def _classify(code: str, http_status: int | None) -> tuple[type[ApiError], str | None]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if "Throttling" in code:  # Throttling, Throttling.User, Rejected.Throttling, ...
        return ThrottledError, None
    for prefix, cls, advice in _BY_PREFIX:
        if code.startswith(prefix):
            return cls, advice
    if http_status is not None and http_status >= 500:
        return ServerError, None
    return ApiError, None


def api_error_from(
    code: str,
    message: str,
    request_id: str | None = None,
    http_status: int | None = None,
    action: str | None = None,
    *,
    recommend: str | None = None,
) -> ApiError:
    """Build the ``ApiError`` subclass for ``code``.

    Unknown codes give a generic ``ApiError``, except that any HTTP 5xx is a retryable ``ServerError``.
    """
    cls, advice = _classify(code, http_status)
    return cls(code, message, request_id, http_status, None, advice, action, recommend=recommend)
