"""The ``/_emulator/...`` admin endpoints: unsigned, never faulted, never recorded; JSON in, JSON out.

* ``GET /_emulator/calls`` - the recorded calls; ``DELETE /_emulator/calls`` - clear them;
* ``POST /_emulator/faults`` with ``{"kind": "...", "count": N, "delay": S, "action": "CreateListener",
  "code": "...", "status": 400, "message": "..."}`` (all but ``kind`` optional; ``delay`` for ``slow``,
  ``code``/``status``/``message`` for ``error``) - queue faults; ``GET /_emulator/faults`` - how many are
  queued, the rate, the seed and the kinds of the random draw;
* ``GET /_emulator/state`` - the world: accelerators, listeners (with their current State), ClientTokens;
* ``GET /_emulator/modes``, ``POST /_emulator/modes`` with any subset of ``{"port_quota": 30,
  "listener_quota": 50, "create_lag": 0.0, "visibility_lag": 0.0, "reset_omitted": false,
  "vanished_unknown_error": false, "deleted_accelerator_unknown_error": false, "fault_rate": 0.0,
  "fault_kinds": ["throttle", ...]}`` - answer all modes;
* ``GET /_emulator/accelerators``, ``POST /_emulator/accelerators`` with ``{"accelerator_id": "ga-x",
  "state": "active", "basic_bandwidth_package": true}`` (creates a missing accelerator; state and package
  optional) - answer ``{"accelerator_id", "state", "basic_bandwidth_package"}`` (GET: a list of them);
  ``DELETE /_emulator/accelerators`` with ``{"accelerator_id": "ga-x"}`` deletes it and its listeners - answers
  ``{"accelerator_id", "listeners": [ids deleted with it]}``;
* ``GET /_emulator/endpoint-groups`` (``{listener_id: count}``), ``POST`` with ``{"listener_id": "lsr-x",
  "count": 1}`` attaches, ``DELETE`` with ``{"listener_id": "lsr-x", "count": N}`` detaches (all without
  ``count``); both answer ``{"listener_id", "count"}`` (how many are left); same for
  ``/_emulator/forwarding-rules``;
* ``GET /_emulator/service-managed`` (``{listener_id: service_id}``), ``POST`` with ``{"listener_id": "lsr-x",
  "managed": true, "service_id": "ALB"}`` (``service_id`` optional) - answers ``{"listener_id", "managed",
  "service_id"}``.

Input that cannot be applied answers HTTP 400 ``InvalidParameter``; an unknown route 404
``InvalidAction.NotFound``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ga_emulator.errors import INVALID_ACTION, INVALID_PARAMETER
from ga_emulator.faults import check_rate, parse_kinds
from ga_emulator.model import ENDPOINT_GROUP, FORWARDING_RULE

if TYPE_CHECKING:
    from ga_emulator.server import EmulatorServer

__all__ = ["DEFAULT_SERVICE_ID", "handle_admin"]

DEFAULT_SERVICE_ID = "ALB"
_DEPENDENT_PATHS = {"/_emulator/endpoint-groups": ENDPOINT_GROUP, "/_emulator/forwarding-rules": FORWARDING_RULE}
_FAULT_MODES = ("fault_rate", "fault_kinds")

Route = Callable[["EmulatorServer", dict[str, Any]], Any]


def _object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"the body is not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object")
    return doc


def _take(doc: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = doc.get(name, default)
    if value is not default and ((isinstance(value, bool) and kind is not bool) or not isinstance(value, kind)):
        raise ValueError(f"{name} must be {getattr(kind, '__name__', 'a number')}, got {value!r}")
    return value


def _only(doc: dict[str, Any], *names: str) -> None:
    unknown = sorted(set(doc) - set(names))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; expected some of {', '.join(names)}")


def _enqueue(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    _only(doc, "kind", "count", "delay", "action", "code", "status", "message")
    delay = _take(doc, "delay", (int, float))
    emulator.faults.enqueue(
        str(doc.get("kind")), _take(doc, "count", int, 1), None if delay is None else float(delay),
        action=_take(doc, "action", str), code=_take(doc, "code", str), status=_take(doc, "status", int),
        message=_take(doc, "message", str),
    )  # fmt: skip
    return {"Pending": emulator.faults.pending}


def _faults(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    faults = emulator.faults
    return {"Pending": faults.pending, "Rate": faults.rate, "Seed": faults.seed, "Kinds": list(faults.kinds)}


def _modes(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    faults = emulator.faults
    backend_changes = {key: value for key, value in doc.items() if key not in _FAULT_MODES}
    # Everything is validated before anything changes: the fault settings here, the modes by set_modes (atomic).
    rate = _take(doc, "fault_rate", (int, float))
    rate = None if rate is None else check_rate(rate, "fault_rate")
    kinds = parse_kinds(_take(doc, "fault_kinds", (list, str))) if "fault_kinds" in doc else None
    modes = emulator.backend.set_modes(backend_changes)
    if rate is not None:
        faults.rate = rate
    if kinds is not None:
        faults.kinds = kinds
    return {**modes.to_json(), "fault_rate": faults.rate, "fault_kinds": list(faults.kinds)}


def _accelerator(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    _only(doc, "accelerator_id", "state", "basic_bandwidth_package")
    view = emulator.backend.configure_accelerator(
        _take(doc, "accelerator_id", str, ""), state=_take(doc, "state", str),
        basic_bandwidth_package=_take(doc, "basic_bandwidth_package", bool),
    )  # fmt: skip
    return asdict(view)


def _delete_accelerator(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    _only(doc, "accelerator_id")
    accelerator_id = _take(doc, "accelerator_id", str, "")
    return {"accelerator_id": accelerator_id, "listeners": emulator.backend.delete_accelerator(accelerator_id)}


def _accelerators(emulator: EmulatorServer, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [asdict(view) for view in emulator.backend.accelerators()]


def _service_managed(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
    _only(doc, "listener_id", "managed", "service_id")
    listener_id = _take(doc, "listener_id", str, "")
    managed = _take(doc, "managed", bool, True)
    service_id = _take(doc, "service_id", str, DEFAULT_SERVICE_ID) if managed else None
    emulator.backend.set_service_managed(listener_id, service_id)
    return {"listener_id": listener_id, "managed": managed, "service_id": service_id}


def _dependents(kind: str) -> Route:
    return lambda emulator, doc: emulator.backend.dependents(kind)


def _dependent_route(kind: str, attach: bool) -> Route:
    def route(emulator: EmulatorServer, doc: dict[str, Any]) -> dict[str, Any]:
        _only(doc, "listener_id", "count")
        listener_id = _take(doc, "listener_id", str, "")
        if attach:
            count = emulator.backend.attach(listener_id, kind, _take(doc, "count", int, 1))
        else:
            count = emulator.backend.detach(listener_id, kind, _take(doc, "count", int))
        return {"listener_id": listener_id, "count": count}

    return route


def _routes() -> dict[tuple[str, str], Route]:
    routes: dict[tuple[str, str], Route] = {
        ("POST", "/_emulator/faults"): _enqueue,
        ("GET", "/_emulator/faults"): _faults,
        ("GET", "/_emulator/state"): lambda emulator, doc: emulator.backend.snapshot(),
        ("GET", "/_emulator/modes"): _modes,
        ("POST", "/_emulator/modes"): _modes,
        ("GET", "/_emulator/accelerators"): _accelerators,
        ("POST", "/_emulator/accelerators"): _accelerator,
        ("DELETE", "/_emulator/accelerators"): _delete_accelerator,
        ("GET", "/_emulator/service-managed"): lambda emulator, doc: emulator.backend.service_managed(),
        ("POST", "/_emulator/service-managed"): _service_managed,
    }
    for path, kind in _DEPENDENT_PATHS.items():
        routes[("GET", path)] = _dependents(kind)
        routes[("POST", path)] = _dependent_route(kind, attach=True)
        routes[("DELETE", path)] = _dependent_route(kind, attach=False)
    return routes


_ROUTES = _routes()


def handle_admin(emulator: EmulatorServer, method: str, path: str, body: bytes) -> Any:
    """The JSON answer of one admin request; raises EmulatorError (400 for bad input, 404 for no route)."""
    path = path.rstrip("/")
    if (method, path) == ("GET", "/_emulator/calls"):
        return [record.to_json() for record in emulator.calls]
    if (method, path) == ("DELETE", "/_emulator/calls"):
        cleared = len(emulator.calls)
        emulator.calls.clear()
        return {"Cleared": cleared}
    route = _ROUTES.get((method, path))
    if route is None:
        raise INVALID_ACTION.error(f"No admin endpoint {method} {path[:80]}.")
    try:
        return route(emulator, _object(body) if method != "GET" else {})
    except ValueError as exc:
        example = ' Send e.g. {"kind": "throttle", "count": 1}.' if path == "/_emulator/faults" else ""
        raise INVALID_PARAMETER.error(f"{path}: {exc}.{example}") from exc
