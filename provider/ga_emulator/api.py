"""The RPC layer between HTTP and the backend (moto's ``responses.py``): authenticate, pick the action, parse
its parameters, call the backend, render the JSON body the official SDK's response models read, record the
call.

Rendering lives here and only here: the backend returns dataclasses, errors are
:class:`~ga_emulator.errors.EmulatorError`; this module turns both into ``(status, body)``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, overload

from ga_emulator.auth import Authenticator
from ga_emulator.backend import Backend, ListenerView
from ga_emulator.errors import (
    INTERNAL_ERROR,
    INVALID_ACTION,
    INVALID_PARAMETER,
    INVALID_VERSION,
    LISTENER_STATE_ERROR,
    REJECTED_THROTTLING,
    SERVICE_BUSY,
    SERVICE_UNAVAILABLE,
    THROTTLING_USER,
    THROTTLING_USER_429,
    UNKNOWN_ERROR,
    EmulatorError,
    ErrorSpec,
    missing_parameter,
)
from ga_emulator.faults import Fault
from ga_emulator.model import PROTOCOLS, PortRange
from ga_emulator.params import parse_params
from ga_emulator.rules import validate_paging
from ga_emulator.wire import WireRequest

__all__ = [
    "API_VERSION",
    "COMMON_PARAMS",
    "FAULT_ANSWERS",
    "HOST_ID",
    "Answer",
    "Api",
    "CallLog",
    "CallRecord",
    "claimed_action",
    "error_body",
    "render_listener",
]

logger = logging.getLogger("ga_emulator")

API_VERSION = "2019-11-20"
HOST_ID = "ga.cn-hangzhou.aliyuncs.com"
# Signature and protocol plumbing: never part of what a call "changes", so left out of CallRecord.params.
COMMON_PARAMS = frozenset(
    {
        "Action",
        "Signature",
        "AccessKeyId",
        "SignatureNonce",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "SecurityToken",
        "Format",
        "Version",
    }
)

#: Parameters that carry a secret (STS's AssumeRoleWithOIDC): never recorded in clear.
SECRET_PARAMS = frozenset({"OIDCToken"})


@dataclass(frozen=True)
class CallRecord:
    """One API call as the emulator answered it.

    ``params`` are the wire parameters minus :data:`COMMON_PARAMS`; ``code`` is None on success;
    ``http_status`` is 0 when the connection was dropped unanswered; ``fault`` names an injected fault;
    ``replayed`` marks a ClientToken replay (nothing changed); ``signature_version`` is ``v1``/``v3`` and
    ``access_key_id`` the signer once the signature was verified.
    """

    action: str
    params: dict[str, str]
    request_id: str
    http_status: int
    code: str | None
    fault: str | None = None
    replayed: bool = False
    signature_version: str | None = None
    access_key_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as the ``/_emulator/calls`` admin endpoint lists it."""
        return asdict(self)


class CallLog:
    """A thread-safe, append-only (until cleared) list of :class:`CallRecord`."""

    def __init__(self) -> None:
        self._items: list[CallRecord] = []
        self._lock = threading.Lock()

    def append(self, record: CallRecord) -> None:
        """Add one record."""
        with self._lock:
            self._items.append(record)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[CallRecord]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._items)

    def of(self, action: str) -> list[CallRecord]:
        """The records of one action."""
        return [record for record in self.snapshot() if record.action == action]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> CallRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[CallRecord]: ...
    def __getitem__(self, index: int | slice) -> CallRecord | list[CallRecord]:
        return self.snapshot()[index]


@dataclass(frozen=True)
class Answer:
    """What to send back: status, JSON body, extra headers, and the call's record."""

    status: int
    body: dict[str, Any]
    record: CallRecord
    headers: dict[str, str] = field(default_factory=dict)


def new_request_id() -> str:
    """A RequestId shaped like the service's (upper-case UUID)."""
    return str(uuid.uuid4()).upper()


def error_body(error: EmulatorError, request_id: str, *, host_id: str = HOST_ID,
               product: str = "Ga") -> dict[str, Any]:
    """The service's error body (GA's, or another product's such as STS)."""
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product={product}&requestId={request_id}",
    }


# What a service-managed listener answers in ServiceManagedInfos: the user may neither update nor delete it.
MANAGED_ACTIONS = ("Update", "Delete")


def _ranges(ranges: tuple[PortRange, ...]) -> list[dict[str, int]]:
    return [{"FromPort": item.from_port, "ToPort": item.to_port} for item in ranges]


def _managed(view: ListenerView) -> dict[str, Any]:
    infos = [{"Action": action, "ChildType": "Listener", "IsManaged": True} for action in MANAGED_ACTIONS]
    return {
        "ServiceId": view.service_id or "",
        "ServiceManaged": view.service_id is not None,
        "ServiceManagedInfos": infos if view.service_id is not None else [],
    }


def render_listener(view: ListenerView, *, listed: bool = False) -> dict[str, Any]:
    """A listener as DescribeListener answers it, or (``listed``) as a ListListeners item does.

    As the service (and the official SDK's models) have it: ``Protocol`` upper case, ``BackendPorts`` ports as
    strings, ``CreateTime`` (epoch ms) a string in DescribeListener and an integer in ListListeners, and the
    ACL fields (``AclType``, ``RelatedAcls``) only in DescribeListener.
    """
    config = view.config
    body: dict[str, Any] = {
        "ListenerId": view.listener_id,
        "AcceleratorId": view.accelerator_id,
        "Name": config.name,
        "Description": config.description,
        "State": view.state,
        "Protocol": config.protocol.upper(),
        "PortRanges": _ranges(config.port_ranges),
        "BackendPorts": [{"FromPort": str(r.from_port), "ToPort": str(r.to_port)} for r in config.backend_ports],
        "Certificates": [{"Id": certificate, "Type": "Server"} for certificate in config.certificates],
        "ClientAffinity": config.client_affinity,
        "ProxyProtocol": config.proxy_protocol,
        "IdleTimeout": config.idle_timeout,
        "XForwardedForConfig": config.forwarded_for_map,
        "Type": config.type,
        "CreateTime": view.create_time_ms if listed else str(view.create_time_ms),
        **_managed(view),
    }
    if not listed:
        body.update(AclType="", RelatedAcls=[])
    for name, value in (
        ("RequestTimeout", config.request_timeout),
        ("HttpVersion", config.http_version),
        ("SecurityPolicyId", config.security_policy_id),
    ):
        if value is not None:
            body[name] = value
    return body


# Fault kind -> what the client sees instead of an answer (``error`` faults carry their own code).
FAULT_ANSWERS: dict[str, tuple[ErrorSpec, dict[str, str]]] = {
    "throttle": (THROTTLING_USER, {}),
    "throttle429": (THROTTLING_USER_429, {"Retry-After": "1", "x-acs-retry-after": "1000"}),
    "unavailable": (SERVICE_UNAVAILABLE, {}),
    "rejected_throttling": (REJECTED_THROTTLING, {}),
    "retry_after": (SERVICE_BUSY, {"x-acs-retry-after": "200"}),  # milliseconds, as the official SDK reads it
    "state_error_listener": (LISTENER_STATE_ERROR, {}),
    "unknown_error": (UNKNOWN_ERROR, {}),
}

Handler = Callable[[Backend, Mapping[str, Any], str], tuple[dict[str, Any], bool]]


def _create(backend: Backend, values: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], bool]:
    result = backend.create_listener(values, request_id)
    return {"RequestId": result.request_id, **result.result}, result.replayed


def _update(backend: Backend, values: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], bool]:
    result = backend.update_listener(values, request_id)
    return {"RequestId": result.request_id}, result.replayed


def _delete(backend: Backend, values: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], bool]:
    result = backend.delete_listener(values, request_id)
    return {"RequestId": result.request_id}, result.replayed


def _describe(backend: Backend, values: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], bool]:
    view = backend.describe_listener(str(values["ListenerId"]))
    return {"RequestId": request_id, **render_listener(view)}, False


def _list(backend: Backend, values: Mapping[str, Any], request_id: str) -> tuple[dict[str, Any], bool]:
    page_number, page_size = int(values.get("PageNumber", 1)), int(values.get("PageSize", 10))
    validate_paging(page_number, page_size)
    protocol = values.get("Protocol") or None
    if protocol is not None and protocol not in PROTOCOLS:
        raise INVALID_PARAMETER.error(f"Protocol: must be one of {', '.join(PROTOCOLS)}")
    views = backend.list_listeners(str(values["AcceleratorId"]), protocol)
    start = (page_number - 1) * page_size
    return {
        "RequestId": request_id,
        "TotalCount": len(views),
        "PageNumber": page_number,
        "PageSize": page_size,
        "Listeners": [render_listener(view, listed=True) for view in views[start : start + page_size]],
    }, False


HANDLERS: dict[str, Handler] = {
    "CreateListener": _create,
    "UpdateListener": _update,
    "DeleteListener": _delete,
    "DescribeListener": _describe,
    "ListListeners": _list,
}


def business_params(request: WireRequest) -> dict[str, str]:
    """The parameters a call record keeps: no signature plumbing, and secrets a request may carry masked."""
    return {key: "***" if key in SECRET_PARAMS else value for key, value in request.params.items()
            if key not in COMMON_PARAMS}


def claimed_action(request: WireRequest) -> str:
    """The action a request names (before its signature is checked): what action-bound faults match."""
    return request.headers.get("x-acs-action") or request.params.get("Action", "")


def _check_protocol_params(version: str | None, params: Mapping[str, str]) -> None:
    if not version:
        raise missing_parameter("Version")
    if version != API_VERSION:
        raise INVALID_VERSION.error(f"Got {version[:40]!r}; Global Accelerator is {API_VERSION}.")
    response_format = params.get("Format")
    if response_format is not None and response_format.lower() != "json":
        raise INVALID_PARAMETER.error("Format: the emulator answers JSON only.")


class Api:
    """Turns decoded requests into answers, recording every call in ``calls``."""

    def __init__(self, backend: Backend, authenticator: Authenticator, calls: CallLog) -> None:
        self.backend = backend
        self._auth = authenticator
        self.calls = calls

    def handle(self, request: WireRequest, fault: Fault | None = None) -> Answer:
        """Authenticate, dispatch and render one API request (never raises)."""
        request_id, signature_version, replayed, key_id = new_request_id(), None, False, None
        params = business_params(request)
        action = claimed_action(request)
        try:
            identity = self._auth.verify(request)
            signature_version, action = identity.signature_version, identity.action or ""
            key_id = identity.access_key_id
            if not action:
                raise missing_parameter("Action")
            handler = HANDLERS.get(action)
            if handler is None:
                raise INVALID_ACTION.error(f"Action {action[:60]!r} is not one the emulator implements.")
            _check_protocol_params(identity.version, request.params)
            body, replayed = handler(self.backend, parse_params(action, params), request_id)
            status = 200
        except EmulatorError as error:
            status, body = error.http_status, error_body(error, request_id)
        except Exception:
            logger.exception("internal error in %s (request id %s)", action[:60], request_id)
            status, body = 500, error_body(INTERNAL_ERROR.error(), request_id)
        record = CallRecord(
            action, params, str(body["RequestId"]), status, body.get("Code"),
            fault.kind if fault else None, replayed, signature_version, key_id,
        )  # fmt: skip
        self.calls.append(record)
        return Answer(status, body, record)

    def fault_answer(self, request: WireRequest, fault: Fault) -> Answer:
        """The answer of an injected fault answered instead of processing (recorded like any call)."""
        request_id = new_request_id()
        headers: dict[str, str] = {}
        if fault.kind == "error":
            error = EmulatorError(str(fault.code), str(fault.message), fault.status)
        else:
            spec, headers = FAULT_ANSWERS[fault.kind]
            error = spec.error()
        params = business_params(request)
        record = CallRecord(claimed_action(request), params, request_id, error.http_status, error.code, fault.kind)
        self.calls.append(record)
        return Answer(error.http_status, error_body(error, request_id), record, headers)

    def record_drop(self, request: WireRequest, fault: Fault) -> CallRecord:
        """Record a call whose connection is dropped before processing (``http_status`` 0)."""
        params = business_params(request)
        record = CallRecord(claimed_action(request), params, "", 0, None, fault.kind)
        self.calls.append(record)
        return record

    def answer_error(self, error: EmulatorError) -> Answer:
        """Answer (and record) a request refused before it could be decoded."""
        request_id = new_request_id()
        record = CallRecord("", {}, request_id, error.http_status, error.code)
        self.calls.append(record)
        return Answer(error.http_status, error_body(error, request_id), record)
