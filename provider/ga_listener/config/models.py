"""The desired listener configuration: pydantic models carrying every rule of the GA API.

Rules follow the current API (``ga-api.md``) where it and the seed page differ. Field rules live on the types
below; rules that tie fields together (adopt or create, protocol-dependent fields, overlapping ranges, reserved
UDP ports, an optional port limit) live in :func:`cross_field_violations`, which both the model and
``validate_inputs`` use, so each rule is written once. No port quota is invented here: the service's varies by
protocol and routing type, and ``QuotaExceeded.ListenerPort`` decides unless a stack sets a limit.

:func:`ga_listener.config.validation.validate_inputs` is what ``check`` runs on these models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "Certificate",
    "ForwardedForConfig",
    "ListenerConfig",
    "PortRange",
    "Violation",
    "cross_field_violations",
    "value_kind",
]

PORT_MIN, PORT_MAX = 1, 65499
UDP_RESERVED_PORTS = (250, 4789, 4790)  # PortRangeIllegal.UDP
HTTP_PROTOCOLS = frozenset({"http", "https"})
IDLE_TIMEOUT_RANGES = {"tcp": (10, 900), "udp": (10, 20), "http": (1, 60), "https": (1, 60)}
REQUEST_TIMEOUT_RANGE = (1, 180)
NAME_PATTERN = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff_.\-]{0,127}")
ID_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")


# --- scalar types -------------------------------------------------------------------------------------------


def _whole_number(value: Any) -> Any:
    # The provider host turns every number into a float (80 -> 80.0), so integral floats are whole numbers;
    # bools are ints to Python but never ports, and text ("80") is a program mistake worth naming.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise PydanticCustomError("whole_number", "must be a whole number, got {value}", {"value": value})
    raise PydanticCustomError("whole_number", "must be a whole number, got {kind}", {"kind": value_kind(value)})


def value_kind(value: Any) -> str:
    """How a wrong value is named in a message: never the text itself, which could be a secret."""
    if isinstance(value, bool):
        return "a boolean"
    return {str: "text", list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _within(low: int, high: int, note: str = "") -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError(
                "out_of_range", "must be between {low} and {high}{note}, got {value}",
                {"low": low, "high": high, "note": note, "value": value},
            )
        return value

    return AfterValidator(check)


def _one_of(*choices: str, fold: Callable[[str], str] = str.lower) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # let the str type report it
        folded = fold(value.strip())
        if folded not in choices:
            raise PydanticCustomError("one_of", "must be one of {choices}", {"choices": ", ".join(choices)})
        return folded

    return check


def _matches(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise PydanticCustomError("pattern", rule)
        return value

    return AfterValidator(check)


def _description_rule(value: str) -> str:
    if value.startswith(("http://", "https://")):
        raise PydanticCustomError("description", "must not start with http:// or https://")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Port = Annotated[WholeNumber, _within(PORT_MIN, PORT_MAX, " (65500-65535 are reserved)")]
BackendPortNumber = Annotated[WholeNumber, _within(1, 65535)]  # ports of backend servers: no reserved range
Flag = Annotated[bool, Strict()]
PROTOCOLS = ("tcp", "udp", "http", "https")
CLIENT_AFFINITIES = ("NONE", "SOURCE_IP")
HTTP_VERSIONS = ("http1.1", "http2", "http3")
SECURITY_POLICIES = (
    "tls_cipher_policy_1_0", "tls_cipher_policy_1_1", "tls_cipher_policy_1_2", "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
)
# Enumerations are plain strings checked (and case-folded) against one tuple each.
Protocol = Annotated[str, BeforeValidator(_one_of(*PROTOCOLS))]
ClientAffinity = Annotated[str, BeforeValidator(_one_of(*CLIENT_AFFINITIES, fold=str.upper))]
HttpVersion = Annotated[str, BeforeValidator(_one_of(*HTTP_VERSIONS))]
SecurityPolicyId = Annotated[str, BeforeValidator(_one_of(*SECURITY_POLICIES))]
Name = Annotated[
    str,
    _matches(NAME_PATTERN, "must be 1 to 128 characters, start with a letter or a Chinese character and "
                           "contain only letters, digits, Chinese characters, '_', '-' and '.'"),
]
Description = Annotated[str, Field(max_length=200), AfterValidator(_description_rule)]
ResourceId = Annotated[str, _matches(ID_PATTERN, "must be 1 to 128 printable ASCII characters without spaces")]
RegionId = Annotated[str, BeforeValidator(_one_of("cn-hangzhou"))]  # GA is a global service
IdleTimeout = Annotated[WholeNumber, _within(1, 900)]  # the protocol narrows it: see cross_field_violations
OnDelete = Annotated[str, BeforeValidator(_one_of("retain", "restore", "delete"))]
ResourceKey = Annotated[str, Field(max_length=1024)]
RequestTimeout = Annotated[WholeNumber, _within(*REQUEST_TIMEOUT_RANGE)]


# --- nested models ------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortRange(_Model):
    """An inclusive range of listener ports, ``from_port <= to_port``."""

    from_port: Port
    to_port: Port

    @field_validator("to_port")
    @classmethod
    def _not_below_from(cls, to_port: int, info: ValidationInfo) -> int:
        from_port = info.data.get("from_port")
        if from_port is not None and to_port < from_port:
            raise PydanticCustomError(
                "port_order", "must not be below from_port ({from_port}), got {to_port}",
                {"from_port": from_port, "to_port": to_port},
            )
        return to_port

    @property
    def size(self) -> int:
        """How many ports the range covers."""
        return self.to_port - self.from_port + 1


class BackendPort(_Model):
    """A backend server port: the API takes one port per range (``from_port == to_port``), 1..65535."""

    from_port: BackendPortNumber
    to_port: BackendPortNumber

    @field_validator("to_port")
    @classmethod
    def _single_port(cls, to_port: int, info: ValidationInfo) -> int:
        from_port = info.data.get("from_port")
        if from_port is not None and to_port != from_port:
            raise PydanticCustomError(
                "single_port", "must equal from_port ({from_port}): a backend port range holds one port",
                {"from_port": from_port},
            )
        return to_port


class Certificate(_Model):
    """An SSL certificate attached to an HTTPS listener."""

    id: ResourceId


class ForwardedForConfig(_Model):
    """``X-Forwarded-*`` headers of an HTTP/HTTPS listener; an unset flag is left as the listener has it."""

    forwarded_for_ga_id_enabled: Flag | None = None
    forwarded_for_ga_ap_enabled: Flag | None = None
    forwarded_for_proto_enabled: Flag | None = None
    forwarded_for_port_enabled: Flag | None = None
    real_ip_enabled: Flag | None = None


def _non_empty(items: tuple[Any, ...]) -> tuple[Any, ...]:
    if not items:
        raise PydanticCustomError("non_empty", "must not be empty (omit the property to leave it unmanaged)")
    return items


PortRanges = Annotated[tuple[PortRange, ...], AfterValidator(_non_empty)]
BackendPorts = Annotated[tuple[BackendPort, ...], AfterValidator(_non_empty)]
Certificates = Annotated[tuple[Certificate, ...], AfterValidator(_non_empty)]


# --- the whole configuration --------------------------------------------------------------------------------


class ListenerConfig(_Model):
    """What the user wants a listener to look like. ``None`` means unmanaged: left as the listener has it.

    Exactly one of ``listener_id`` (adopt that existing listener) and ``accelerator_id`` (create a listener on
    that accelerator). ``on_delete`` left unset is ``retain`` for an adopted listener, ``delete`` for a created one.
    ``resource_key`` (project/stack/name, passed by :class:`ga_listener.Listener`) seeds the idempotency token of
    a create and tells a replacement's delete from a removed resource's (:mod:`ga_listener.lifecycle.program`); Diff
    never compares it.
    """

    listener_id: ResourceId | None = None
    accelerator_id: ResourceId | None = None
    protocol: Protocol
    port_ranges: PortRanges
    name: Name | None = None
    description: Description | None = None
    client_affinity: ClientAffinity | None = None
    proxy_protocol: Flag | None = None
    certificates: Certificates | None = None
    backend_ports: BackendPorts | None = None
    idle_timeout: IdleTimeout | None = None
    request_timeout: RequestTimeout | None = None
    http_version: HttpVersion | None = None
    security_policy_id: SecurityPolicyId | None = None
    forwarded_for_config: ForwardedForConfig | None = None
    region_id: RegionId = "cn-hangzhou"
    on_delete: OnDelete | None = None
    resource_key: ResourceKey | None = None

    @property
    def creates(self) -> bool:
        """True when the resource creates its listener (``accelerator_id``) rather than adopting one."""
        return self.accelerator_id is not None

    @property
    def deletion(self) -> str:
        """What ``pulumi destroy`` does: ``on_delete``, or the default of the mode."""
        return self.on_delete or ("delete" if self.creates else "retain")

    @model_validator(mode="after")
    def _cross_field_rules(self) -> ListenerConfig:
        violations = cross_field_violations({k: getattr(self, k) for k in self.model_fields_set})
        if violations:
            raise ValueError("; ".join(f"{v.path}: {v.reason}" for v in violations))
        return self


#: Inputs that say how the resource behaves rather than what the listener looks like.
CONTROL_FIELDS = frozenset({"listener_id", "accelerator_id", "region_id", "on_delete", "resource_key"})
#: Listener properties a user may manage (everything the API lets UpdateListener change).
MANAGED_FIELDS = tuple(name for name in ListenerConfig.model_fields if name not in CONTROL_FIELDS)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the property path (``port_ranges[1].to_port``) and what is wrong with it."""

    path: str
    reason: str



def _overlaps(field: str, ranges: tuple[PortRange, ...]) -> list[Violation]:
    """Each range that overlaps one before it in port order (sorted once: huge inputs stay cheap)."""
    found = []
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i].from_port, i))
    reach = order[0] if order else -1  # the range reaching furthest so far
    for j in order[1:]:
        first, second = ranges[reach], ranges[j]
        if second.from_port <= first.to_port:
            found.append(Violation(
                f"{field}[{j}]",
                f"{second.from_port}-{second.to_port} overlaps {field}[{reach}] ({first.from_port}-{first.to_port})",
            ))
        if second.to_port > first.to_port:
            reach = j
    return found


def _protocol_violations(protocol: str, values: Mapping[str, Any]) -> list[Violation]:
    found = []
    present = {name for name, value in values.items() if value is not None}
    ranges = values.get("port_ranges") or ()
    if protocol in HTTP_PROTOCOLS:
        if ranges and (len(ranges) != 1 or ranges[0].from_port != ranges[0].to_port):
            found.append(Violation("port_ranges", f"{protocol} listeners take exactly one port "
                                                  "(one range with from_port == to_port)"))
    else:
        if protocol == "udp":
            found += [Violation(f"port_ranges[{index}]", f"{item.from_port}-{item.to_port} holds UDP port {port}, "
                                                         "which the service reserves (250, 4789 and 4790)")
                      for index, item in enumerate(ranges)
                      for port in UDP_RESERVED_PORTS if item.from_port <= port <= item.to_port]
        found += [Violation(name, f"applies only to http and https listeners, not {protocol}")
                  for name in ("backend_ports", "forwarded_for_config", "request_timeout") if name in present]
    if protocol != "https":
        found += [Violation(name, f"applies only to https listeners, not {protocol}")
                  for name in ("certificates", "http_version", "security_policy_id") if name in present]
    elif len(values.get("certificates") or ()) > 1:
        found.append(Violation("certificates", "an https listener has one default certificate; attach others "
                                               "with AssociateAdditionalCertificatesWithListener"))
    elif values.get("accelerator_id") is not None and "certificates" not in present:
        found.append(Violation("certificates", "is required to create an https listener (its default certificate)"))
    idle = values.get("idle_timeout")
    low, high = IDLE_TIMEOUT_RANGES[protocol]
    if idle is not None and not low <= idle <= high:
        found.append(Violation("idle_timeout", f"must be between {low} and {high} for {protocol} listeners, "
                                               f"got {idle}"))
    return found


def _identity_violations(values: Mapping[str, Any]) -> list[Violation]:
    both = values.get("listener_id") is not None and values.get("accelerator_id") is not None
    if both:
        return [Violation("accelerator_id", "give either listener_id (adopt that existing listener) or "
                                            "accelerator_id (create a listener on it), not both")]
    if values.get("accelerator_id") is not None and values.get("on_delete") == "restore":
        return [Violation("on_delete", "a created listener has no earlier configuration to restore: use delete "
                                       "(the default) or retain")]
    return []


def cross_field_violations(values: Mapping[str, Any], *, max_ports: int | None = None) -> list[Violation]:
    """Rules between fields, over the fields whose values are known and valid (others are skipped).
    ``max_ports``: the port limit a stack sets (``ga-listener:maxListenerPorts``), if any."""
    found = _identity_violations(values)
    ranges = values.get("port_ranges")
    if ranges:
        found += _overlaps("port_ranges", ranges)
        total = sum(r.size for r in ranges)
        if max_ports is not None and total > max_ports:
            found.append(Violation("port_ranges", f"covers {total} ports; this stack allows at most {max_ports} "
                                                  "per listener (ga-listener:maxListenerPorts)"))
    protocol = values.get("protocol")
    if protocol is not None:
        found += _protocol_violations(protocol, values)
    backend = values.get("backend_ports")
    if backend:
        found += _overlaps("backend_ports", backend)
    certificates = values.get("certificates") or ()
    seen: dict[str, int] = {}
    for index, certificate in enumerate(certificates):
        if certificate.id in seen:
            found.append(Violation(f"certificates[{index}].id", f"repeats certificates[{seen[certificate.id]}]"))
        seen.setdefault(certificate.id, index)
    return found


# Field-by-field validators, built once: check validates each known property on its own so that one bad value
# never hides the others, then runs the cross-field rules over what was valid.
