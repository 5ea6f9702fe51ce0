"""Every error the emulator answers, declared once: code, HTTP status and the service's wording.

The backend, the parameter rules and the signature checks raise :class:`EmulatorError`; only the HTTP layer
renders it (``{"RequestId", "HostId", "Code", "Message", "Recommend"}`` with the status). Codes and statuses
follow ``ga-api.md`` and Alibaba's public error pages; where the emulator needs a code the real API never
documents (a request too large to read, an unsupported content type) the code says so in plain words.

Where no public source gives a code or its wording, the choice is the emulator's and says so here:
``Exist.ForwardingRule`` and ``StateError.Listener`` (codes are public, their messages are not);
``InvalidOperation.ResourceManagedByCloudProduct`` (the code Alibaba documents for writes to service-managed
ECS security groups: no public source names GA's); ``ServiceBusy`` (the ``retry_after`` fault: a neutral code,
so that only its ``x-acs-retry-after`` header says "throttled").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCELERATOR_STATE_ERROR",
    "DECLARED",
    "EXIST_ENDPOINT_GROUP",
    "EXIST_FORWARDING_RULE",
    "IDEMPOTENCE_MISMATCH",
    "INCOMPLETE_SIGNATURE",
    "INTERNAL_ERROR",
    "INVALID_ACCESS_KEY_ID",
    "INVALID_ACTION",
    "INVALID_PARAMETER",
    "INVALID_TIMESTAMP_EXPIRED",
    "INVALID_TIMESTAMP_FORMAT",
    "INVALID_VERSION",
    "LISTENER_NOT_ACTIVE",
    "LISTENER_QUOTA_EXCEEDED",
    "LISTENER_STATE_ERROR",
    "MALFORMED_REQUEST",
    "NOT_EXIST_ACCELERATOR",
    "NOT_EXIST_BANDWIDTH_PACKAGE",
    "NOT_EXIST_LISTENER",
    "PORT_CONFLICT",
    "PORT_QUOTA_EXCEEDED",
    "PORT_RANGES_MUST_ONE",
    "PORT_RANGE_ILLEGAL",
    "PROTOCOL_ILLEGAL",
    "REJECTED_THROTTLING",
    "REQUEST_TOO_LARGE",
    "SECURITY_TOKEN_MALFORMED",
    "SECURITY_TOKEN_MISMATCH",
    "SERVICE_BUSY",
    "SERVICE_MANAGED",
    "SERVICE_UNAVAILABLE",
    "SIGNATURE_MISMATCH",
    "SIGNATURE_NONCE_USED",
    "SYSTEM_PORT",
    "THROTTLING_USER",
    "THROTTLING_USER_429",
    "UDP_PORT_ILLEGAL",
    "UNKNOWN_ERROR",
    "UNSUPPORTED_MEDIA_TYPE",
    "EmulatorError",
    "ErrorSpec",
    "missing_parameter",
]


class EmulatorError(Exception):
    """An answer the service gives instead of a result: ``code``, ``message`` and ``http_status``."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


@dataclass(frozen=True)
class ErrorSpec:
    """One declared error: ``spec.error("detail")`` builds the exception with the detail appended."""

    code: str
    http_status: int
    message: str

    def error(self, detail: str | None = None) -> EmulatorError:
        """The exception to raise; ``detail`` names the parameter and the rule it broke."""
        message = f"{self.message} {detail}" if detail else self.message
        return EmulatorError(self.code, message, self.http_status)


def missing_parameter(name: str, detail: str | None = None) -> EmulatorError:
    """``Missing<Name>``, HTTP 400, "<Name> is mandatory for this action." (the gateway's convention, e.g.
    ``MissingListenerId``). A missing field of a list item keeps its flattened name: ``MissingPortRanges.1.ToPort``
    (the emulator's choice: no public answer shows a nested one)."""
    message = f"{name} is mandatory for this action."
    return EmulatorError(f"Missing{name}", f"{message} {detail}" if detail else message, 400)


# --- request shape ------------------------------------------------------------------------------------------
INVALID_PARAMETER = ErrorSpec("InvalidParameter", 400, "The specified parameter is not valid.")
INVALID_ACTION = ErrorSpec(
    "InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method."
)
INVALID_VERSION = ErrorSpec("InvalidVersion", 400, "Specified parameter Version is not valid.")
MALFORMED_REQUEST = ErrorSpec("MalformedRequest", 400, "The request could not be parsed.")
REQUEST_TOO_LARGE = ErrorSpec("RequestTooLarge", 413, "The request is larger than the emulator accepts.")
UNSUPPORTED_MEDIA_TYPE = ErrorSpec(
    "UnsupportedMediaType", 415, "RPC request bodies must be application/x-www-form-urlencoded."
)
IDEMPOTENCE_MISMATCH = ErrorSpec(
    "IdempotenceParamNotMatch",
    400,
    "Request uses a client token in a previous request but is not identical to that request.",
)

# --- authentication -----------------------------------------------------------------------------------------
SIGNATURE_MISMATCH = ErrorSpec("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation.")
INCOMPLETE_SIGNATURE = ErrorSpec(
    "IncompleteSignature", 400, "The request signature does not conform to Aliyun standards."
)
INVALID_ACCESS_KEY_ID = ErrorSpec("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.")
SECURITY_TOKEN_MALFORMED = ErrorSpec("InvalidSecurityToken.Malformed", 400, "Specified SecurityToken is malformed.")
SECURITY_TOKEN_MISMATCH = ErrorSpec(
    "InvalidSecurityToken.MismatchWithAccessKey", 400, "Specified SecurityToken mismatch with the AccessKey."
)
INVALID_TIMESTAMP_EXPIRED = ErrorSpec("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired.")
INVALID_TIMESTAMP_FORMAT = ErrorSpec(
    "InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted."
)
SIGNATURE_NONCE_USED = ErrorSpec("SignatureNonceUsed", 400, "Specified signature nonce was used already.")

# --- Global Accelerator: listeners ---------------------------------------------------------------------------
NOT_EXIST_LISTENER = ErrorSpec("NotExist.Listener", 400, "The listener does not exist.")
LISTENER_NOT_ACTIVE = ErrorSpec("NotActive.Listener", 400, "The state of the listener is not active.")
LISTENER_STATE_ERROR = ErrorSpec("StateError.Listener", 400, "The state of the listener is invalid.")
PROTOCOL_ILLEGAL = ErrorSpec("ProtocalIllegal.Listener", 400, "The specified listener protocol is invalid.")  # sic
PORT_RANGE_ILLEGAL = ErrorSpec("PortRangeIllegal.Listener", 400, "The specified listener port range is invalid.")
SYSTEM_PORT = ErrorSpec("SystemPort.Listener", 400, "Ports 65500-65535 are system reserved ports.")
UDP_PORT_ILLEGAL = ErrorSpec("PortRangeIllegal.UDP", 400, "UDP ports 250, 4789, and 4790 are system reserved ports.")
PORT_RANGES_MUST_ONE = ErrorSpec(
    "PortRanges.MustOne", 400, "The portRanges must be one for HTTPS and HTTP type listener."
)
PORT_CONFLICT = ErrorSpec("PortConflict.Listener", 400, "The listener port configuration is in conflict.")
PORT_QUOTA_EXCEEDED = ErrorSpec("QuotaExceeded.ListenerPort", 400, "The maximum number of listener ports is exceeded.")
LISTENER_QUOTA_EXCEEDED = ErrorSpec("QuotaExceeded.Listener", 400, "The maximum number of listeners is exceeded.")
EXIST_ENDPOINT_GROUP = ErrorSpec("Exist.EndpointGroup", 400, "The endpoint group already exists.")
EXIST_FORWARDING_RULE = ErrorSpec("Exist.ForwardingRule", 400, "The forwarding rule already exists.")
SERVICE_MANAGED = ErrorSpec(
    "InvalidOperation.ResourceManagedByCloudProduct",
    400,
    "The resource is managed by a cloud service and cannot be changed by the user.",
)

# --- Global Accelerator: accelerators -----------------------------------------------------------------------
NOT_EXIST_ACCELERATOR = ErrorSpec("NotExist.Accelerator", 400, "The accelerated instance does not exist.")
ACCELERATOR_STATE_ERROR = ErrorSpec("StateError.Accelerator", 400, "The state of the accelerated instance is invalid.")
NOT_EXIST_BANDWIDTH_PACKAGE = ErrorSpec(
    "NotExist.BasicBandwidthPackage", 400, "You must specify the basic bandwidth package."
)

# --- server side and injected faults ------------------------------------------------------------------------
THROTTLING_USER = ErrorSpec("Throttling.User", 400, "Request was denied due to user flow control.")
THROTTLING_USER_429 = ErrorSpec("Throttling.User", 429, THROTTLING_USER.message)
REJECTED_THROTTLING = ErrorSpec("Rejected.Throttling", 400, "The request was rejected due to flow control.")
SERVICE_BUSY = ErrorSpec("ServiceBusy", 400, "The service is busy: retry after the time x-acs-retry-after gives.")
SERVICE_UNAVAILABLE = ErrorSpec(
    "ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."
)
INTERNAL_ERROR = ErrorSpec("InternalError", 500, "The request processing has failed due to some unknown error.")
UNKNOWN_ERROR = ErrorSpec(
    "UnknownError", 500, "The request processing has failed due to some unknown error, exception or failure."
)

DECLARED: dict[str, ErrorSpec] = {}
"""Every declared error by code (the first declaration of a code wins): what a queued ``error`` fault naming
only a code answers."""
for _spec in list(globals().values()):
    if isinstance(_spec, ErrorSpec):
        DECLARED.setdefault(_spec.code, _spec)
del _spec
