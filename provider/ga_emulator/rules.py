"""The value rules of ``ga-api.md``, each with its real error code, checked on a listener's merged
configuration.

Order: the protocol (ProtocalIllegal.Listener), then each port range (PortRangeIllegal.Listener for ports
outside 1..65535 or FromPort > ToPort, SystemPort.Listener for 65500..65535, PortRangeIllegal.UDP for udp ports
250, 4789 and 4790), PortRanges.MustOne (http/https with more than one port), PortRangeIllegal.Listener for
overlapping ranges, PortConflict.Listener, QuotaExceeded.ListenerPort, then the InvalidParameter rules.
Name and Description are checked only when the request sets them (a listener created without a name keeps its
empty name through later updates); every other rule looks at the merged configuration, so a protocol change
that makes a kept value illegal is refused too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable

from ga_emulator.errors import (
    INVALID_PARAMETER,
    PORT_CONFLICT,
    PORT_QUOTA_EXCEEDED,
    PORT_RANGE_ILLEGAL,
    PORT_RANGES_MUST_ONE,
    PROTOCOL_ILLEGAL,
    SYSTEM_PORT,
    UDP_PORT_ILLEGAL,
    EmulatorError,
)
from ga_emulator.model import (
    HTTP_PROTOCOLS,
    IDLE_TIMEOUT,
    PROTOCOLS,
    REQUEST_TIMEOUT,
    ListenerConfig,
    PortRange,
)
from ga_emulator.modes import DEFAULT_PORT_QUOTA

__all__ = [
    "CLIENT_AFFINITIES",
    "HTTP_VERSIONS",
    "MAX_LISTENER_PORT",
    "PORT_QUOTA",
    "SECURITY_POLICIES",
    "UDP_RESERVED_PORTS",
    "validate_config",
    "validate_paging",
]

MAX_LISTENER_PORT = 65499  # 65500-65535 are reserved by the service (SystemPort.Listener)
MAX_PORT = 65535
MAX_BACKEND_PORT = MAX_PORT
PORT_QUOTA = DEFAULT_PORT_QUOTA  # default ports per listener
UDP_RESERVED_PORTS = (250, 4789, 4790)
CLIENT_AFFINITIES = ("NONE", "SOURCE_IP")
HTTP_VERSIONS = ("http1.1", "http2", "http3")
SECURITY_POLICIES = (
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
)
LISTENER_TYPES = ("Standard", "CustomRouting")
# Union of the seed (2..128, letter or Chinese first, then letters, digits, _ -) and the newer docs
# (1..128, also "."): never refuse what some version of the service accepts.
_NAME = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff._-]{0,127}")
MAX_DESCRIPTION = 200


def _text(item: PortRange) -> str:
    return f"{item.from_port}-{item.to_port}"


def _invalid(name: str, rule: str) -> EmulatorError:
    return INVALID_PARAMETER.error(f"{name}: {rule}")


def _check_protocol(config: ListenerConfig) -> None:
    if config.protocol not in PROTOCOLS:
        raise PROTOCOL_ILLEGAL.error(
            f"Protocol: must be one of {', '.join(PROTOCOLS)} (any case), got {config.protocol[:40]!r}."
        )


def _check_range(config: ListenerConfig, where: str, item: PortRange) -> None:
    if not (1 <= item.from_port <= MAX_PORT and 1 <= item.to_port <= MAX_PORT):
        raise PORT_RANGE_ILLEGAL.error(f"{where}: ports must be within 1..{MAX_LISTENER_PORT}.")
    if item.from_port > item.to_port:
        raise PORT_RANGE_ILLEGAL.error(f"{where}: FromPort must not be greater than ToPort.")
    if item.to_port > MAX_LISTENER_PORT:
        raise SYSTEM_PORT.error(f"{where}: {_text(item)} (listener ports are 1..{MAX_LISTENER_PORT}).")
    reserved = [port for port in UDP_RESERVED_PORTS if item.from_port <= port <= item.to_port]
    if config.protocol == "udp" and reserved:
        raise UDP_PORT_ILLEGAL.error(f"{where}: {_text(item)} holds port {reserved[0]}.")


def _check_port_ranges(config: ListenerConfig) -> None:
    ranges = config.port_ranges
    if not ranges:
        raise PORT_RANGE_ILLEGAL.error("PortRanges: at least one range is required.")
    for position, item in enumerate(ranges, start=1):
        _check_range(config, f"PortRanges.{position}", item)
    if config.protocol in HTTP_PROTOCOLS and (len(ranges) != 1 or ranges[0].from_port != ranges[0].to_port):
        raise PORT_RANGES_MUST_ONE.error(
            f"PortRanges: a {config.protocol} listener takes exactly one port (one range with FromPort == ToPort)."
        )
    ordered = sorted(ranges)
    for first, second in itertools.pairwise(ordered):
        if first.overlaps(second):
            raise PORT_RANGE_ILLEGAL.error(
                f"PortRanges: ranges {_text(first)} and {_text(second)} of the listener overlap."
            )


def _check_conflicts(config: ListenerConfig, others: Iterable[tuple[str, tuple[PortRange, ...]]]) -> None:
    for listener_id, ranges in others:
        for mine in config.port_ranges:
            for theirs in ranges:
                if mine.overlaps(theirs):
                    raise PORT_CONFLICT.error(
                        f"PortRanges: {_text(mine)} overlaps {_text(theirs)} of listener {listener_id} "
                        "on the same accelerator."
                    )


def _check_quota(config: ListenerConfig, port_quota: int) -> None:
    total = sum(item.size for item in config.port_ranges)
    if total > port_quota:
        raise PORT_QUOTA_EXCEEDED.error(f"PortRanges: {total} ports requested, the quota is {port_quota} per listener.")


def _check_name(config: ListenerConfig) -> None:
    if not _NAME.fullmatch(config.name):
        raise _invalid(
            "Name",
            "1 to 128 characters, starting with a letter or a Chinese character, then letters, digits, "
            "Chinese characters, '.', '_' or '-'",
        )


def _check_description(config: ListenerConfig) -> None:
    if len(config.description) > MAX_DESCRIPTION:
        raise _invalid("Description", f"at most {MAX_DESCRIPTION} characters, got {len(config.description)}")
    if config.description.startswith(("http://", "https://")):
        raise _invalid("Description", "must not start with http:// or https://")


def _check_protocol_fields(config: ListenerConfig) -> None:
    protocol = config.protocol
    if protocol != "https":
        for name, value in (
            ("Certificates", config.certificates),
            ("HttpVersion", config.http_version),
            ("SecurityPolicyId", config.security_policy_id),
        ):
            if value:
                raise _invalid(name, f"only HTTPS listeners take it (protocol is {protocol})")
    if protocol not in HTTP_PROTOCOLS:
        for name, present in (
            ("BackendPorts", bool(config.backend_ports)),
            ("XForwardedForConfig", bool(config.forwarded_for)),
            ("RequestTimeout", config.request_timeout is not None),
        ):
            if present:
                raise _invalid(name, f"only HTTP and HTTPS listeners take it (protocol is {protocol})")


def _check_values(config: ListenerConfig) -> None:
    if config.client_affinity not in CLIENT_AFFINITIES:
        raise _invalid("ClientAffinity", f"must be NONE or SOURCE_IP, got {config.client_affinity[:40]!r}")
    if config.type not in LISTENER_TYPES:
        raise _invalid("Type", f"must be Standard or CustomRouting, got {config.type[:40]!r}")
    if config.http_version is not None and config.http_version not in HTTP_VERSIONS:
        raise _invalid("HttpVersion", f"must be one of {', '.join(HTTP_VERSIONS)}")
    if config.security_policy_id is not None and config.security_policy_id not in SECURITY_POLICIES:
        raise _invalid("SecurityPolicyId", f"must be one of {', '.join(SECURITY_POLICIES)}")
    if any(not certificate for certificate in config.certificates):
        raise _invalid("Certificates", "every certificate needs an Id")
    for position, item in enumerate(config.backend_ports, start=1):
        if not 1 <= item.from_port <= MAX_BACKEND_PORT or item.from_port != item.to_port:
            raise _invalid(f"BackendPorts.{position}", f"FromPort == ToPort within 1..{MAX_BACKEND_PORT}")


def _check_timeouts(config: ListenerConfig) -> None:
    low, high, _ = IDLE_TIMEOUT[config.protocol]
    if not low <= config.idle_timeout <= high:
        raise _invalid(
            "IdleTimeout", f"{low}..{high} seconds for {config.protocol} listeners, got {config.idle_timeout}"
        )
    if config.request_timeout is not None:
        low, high, _ = REQUEST_TIMEOUT
        if not low <= config.request_timeout <= high:
            raise _invalid("RequestTimeout", f"{low}..{high} seconds, got {config.request_timeout}")


def validate_config(
    config: ListenerConfig,
    given: Collection[str],
    others: Iterable[tuple[str, tuple[PortRange, ...]]],
    *,
    port_quota: int = PORT_QUOTA,
) -> None:
    """Raise the first broken rule. ``given``: attributes the request set; ``others``: (id, ranges) of the
    accelerator's other listeners; ``port_quota``: ports per listener."""
    _check_protocol(config)
    _check_port_ranges(config)
    _check_conflicts(config, others)
    _check_quota(config, port_quota)
    optional: list[tuple[str, Callable[[ListenerConfig], None]]] = [
        ("name", _check_name),
        ("description", _check_description),
    ]
    for attribute, check in optional:
        if attribute in given:
            check(config)
    _check_protocol_fields(config)
    _check_values(config)
    _check_timeouts(config)


def validate_paging(page_number: int, page_size: int) -> None:
    """ListListeners paging: PageNumber >= 1, PageSize 1..50."""
    if page_number < 1:
        raise _invalid("PageNumber", f"must be at least 1, got {page_number}")
    if not 1 <= page_size <= 50:
        raise _invalid("PageSize", f"must be within 1..50, got {page_size}")
