"""Wire parameters to typed values: which parameters each action takes and requires, and their types.

Declared once here (moto repeats required-parameter checks per handler; this does not), after the official SDK
3.0.2 request models: a missing required parameter answers ``Missing<Name>``; a parameter an action does not
define is ignored (CreateListener has no ProxyProtocol or BackendPorts and its endpoint group configurations
are not emulated; DeleteListener has no RegionId). The result of
:func:`parse_params` is a dict keyed by the top-level wire name (``PortRanges``, ``IdleTimeout``...) holding
typed, normalised values: ints, bools, tuples of :class:`~ga_emulator.model.PortRange`, a lower-case protocol,
an upper-case client affinity. Value *rules* (ranges, protocol dependencies) live in :mod:`ga_emulator.rules`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ga_emulator.errors import INVALID_PARAMETER, EmulatorError, missing_parameter
from ga_emulator.model import XFF_KEYS, PortRange

__all__ = ["ACTIONS", "CONFIG_ATTRS", "config_changes", "fingerprint", "parse_params"]

MAX_LIST_ITEMS = 100
_INT = re.compile(r"[+-]?[0-9]{1,10}")
_INDEX = re.compile(r"[1-9][0-9]{0,2}")
_LISTENER_TYPES = {"standard": "Standard", "customrouting": "CustomRouting"}

# wire name -> attribute of ListenerConfig
CONFIG_ATTRS = {
    "Protocol": "protocol",
    "PortRanges": "port_ranges",
    "Name": "name",
    "Description": "description",
    "ClientAffinity": "client_affinity",
    "ProxyProtocol": "proxy_protocol",
    "Certificates": "certificates",
    "BackendPorts": "backend_ports",
    "IdleTimeout": "idle_timeout",
    "RequestTimeout": "request_timeout",
    "HttpVersion": "http_version",
    "SecurityPolicyId": "security_policy_id",
    "XForwardedForConfig": "forwarded_for",
    "Type": "type",
}
_WRITE = ("ClientToken", "RegionId")
_CONFIG = tuple(name for name in CONFIG_ATTRS if name != "Type")
_CREATE_CONFIG = tuple(name for name in _CONFIG if name not in ("ProxyProtocol", "BackendPorts"))

# action -> (accepted parameters, required parameters); anything else the request carries is ignored
ACTIONS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "CreateListener": (
        frozenset({"AcceleratorId", "Type", *_CREATE_CONFIG, *_WRITE}),
        ("AcceleratorId", "PortRanges", "RegionId"),
    ),
    "UpdateListener": (frozenset({"ListenerId", *_CONFIG, *_WRITE}), ("ListenerId",)),
    "DeleteListener": (frozenset({"ListenerId", "AcceleratorId", "ClientToken"}), ("ListenerId",)),
    "DescribeListener": (frozenset({"ListenerId", "RegionId"}), ("ListenerId", "RegionId")),
    "ListListeners": (
        frozenset({"AcceleratorId", "PageNumber", "PageSize", "Protocol", "RegionId"}),
        ("AcceleratorId", "RegionId"),
    ),
}


def _invalid(name: str, rule: str) -> EmulatorError:
    return INVALID_PARAMETER.error(f"{name}: {rule}")


def _scalar(name: str, sub: Mapping[str, str]) -> str:
    if set(sub) != {""}:
        raise _invalid(name, "must be a single value, not a list or object")
    return sub[""]


def _to_int(name: str, text: str) -> int:
    if not _INT.fullmatch(text.strip()):
        raise _invalid(name, f"must be an integer, got {text[:40]!r}")
    return int(text)


def _to_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise _invalid(name, f"must be true or false, got {text[:40]!r}")
    return lowered == "true"


def _items(name: str, sub: Mapping[str, str], fields: tuple[str, ...]) -> list[dict[str, str]]:
    """``{"1.FromPort": "80", ...}`` -> ``[{"FromPort": "80", ...}]``, items numbered 1..N without gaps."""
    if "" in sub:
        raise _invalid(name, f"must be given as {name}.N.{fields[0]}")
    items: dict[int, dict[str, str]] = {}
    for key, value in sub.items():
        index, _, field = key.partition(".")
        if not _INDEX.fullmatch(index) or int(index) > MAX_LIST_ITEMS:
            raise _invalid(f"{name}.{key}", f"list items are numbered 1..{MAX_LIST_ITEMS}")
        if field not in fields:
            raise _invalid(f"{name}.{key}", f"unknown field; expected one of {', '.join(fields)}")
        items.setdefault(int(index), {})[field] = value
    for position in range(1, len(items) + 1):
        if position not in items:
            raise _invalid(f"{name}.{position}", "list items must be numbered 1..N without gaps")
    return [items[position] for position in range(1, len(items) + 1)]


def _port_ranges(name: str, sub: Mapping[str, str]) -> tuple[PortRange, ...]:
    ranges = []
    for position, item in enumerate(_items(name, sub, ("FromPort", "ToPort")), start=1):
        for field in ("FromPort", "ToPort"):
            if field not in item:
                raise missing_parameter(f"{name}.{position}.{field}")
        ranges.append(
            PortRange(
                _to_int(f"{name}.{position}.FromPort", item["FromPort"]),
                _to_int(f"{name}.{position}.ToPort", item["ToPort"]),
            )
        )
    return tuple(ranges)


def _region(name: str, sub: Mapping[str, str]) -> str:
    region = _scalar(name, sub).strip()
    if region != "cn-hangzhou":
        raise _invalid(name, f"Global Accelerator is a global service: only cn-hangzhou, got {region[:40]!r}")
    return region


def _certificates(name: str, sub: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(item.get("Id", "") for item in _items(name, sub, ("Id",)))


def _forwarded_for(name: str, sub: Mapping[str, str]) -> tuple[tuple[str, bool], ...]:
    values = {}
    for key, text in sub.items():
        if key not in XFF_KEYS:
            raise _invalid(f"{name}.{key}", f"unknown field; expected one of {', '.join(XFF_KEYS)}")
        values[key] = _to_bool(f"{name}.{key}", text)
    return tuple(sorted(values.items()))


_PARSERS: dict[str, Callable[[str, Mapping[str, str]], Any]] = {
    "PortRanges": _port_ranges,
    "BackendPorts": _port_ranges,
    "Certificates": _certificates,
    "XForwardedForConfig": _forwarded_for,
    "IdleTimeout": lambda n, s: _to_int(n, _scalar(n, s)),
    "RequestTimeout": lambda n, s: _to_int(n, _scalar(n, s)),
    "PageNumber": lambda n, s: _to_int(n, _scalar(n, s)),
    "PageSize": lambda n, s: _to_int(n, _scalar(n, s)),
    "ProxyProtocol": lambda n, s: _to_bool(n, _scalar(n, s)),
    "Protocol": lambda n, s: _scalar(n, s).strip().lower(),
    "ClientAffinity": lambda n, s: _scalar(n, s).strip().upper() or "NONE",
    "HttpVersion": lambda n, s: _scalar(n, s).strip().lower(),
    "RegionId": _region,
    "Type": lambda n, s: _LISTENER_TYPES.get(_scalar(n, s).strip().lower(), _scalar(n, s)),
}


def _group(params: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Group by top-level name: ``PortRanges.1.FromPort=80`` -> ``{"PortRanges": {"1.FromPort": "80"}}``."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in params.items():
        top, _, rest = key.partition(".")
        groups.setdefault(top, {})[rest] = value
    return groups


def _check_client_token(values: dict[str, Any]) -> None:
    token = values.get("ClientToken")
    if token is None:
        return
    if token == "":
        del values["ClientToken"]
    elif len(token) > 64 or not token.isascii() or not token.isprintable():
        raise _invalid("ClientToken", "at most 64 printable ASCII characters")


def parse_params(action: str, params: Mapping[str, str]) -> dict[str, Any]:
    """Typed values of the parameters ``action`` accepts; ``Missing<Name>`` / InvalidParameter otherwise."""
    accepted, required = ACTIONS[action]
    groups = _group(params)
    for name in required:
        if name not in groups or groups[name] in ({}, {"": ""}):
            raise missing_parameter(name)
    values: dict[str, Any] = {}
    for name, sub in groups.items():
        if name not in accepted:
            continue
        parser = _PARSERS.get(name)
        values[name] = parser(name, sub) if parser else _scalar(name, sub)
    _check_client_token(values)
    return values


def config_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ListenerConfig attributes a request sets (wire names translated)."""
    return {CONFIG_ATTRS[name]: value for name, value in values.items() if name in CONFIG_ATTRS}


def fingerprint(values: Mapping[str, Any]) -> str:
    """A canonical text of a request's typed values without its ClientToken (idempotency comparison)."""

    def encode(value: Any) -> Any:
        if isinstance(value, PortRange):
            return [value.from_port, value.to_port]
        raise TypeError(type(value).__name__)

    relevant = {key: value for key, value in values.items() if key != "ClientToken"}
    return json.dumps(relevant, sort_keys=True, default=encode, ensure_ascii=False)
