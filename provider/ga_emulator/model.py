"""The emulator's data: port ranges, a listener's configuration, listeners with their lazy state, seeds.

A listener's ``State`` is never stored as such. A write records the phase it started (``init``, ``updating``,
``configuring``, ``deleting``) and ``transition_ends_at`` (epoch seconds); :meth:`ListenerRecord.state` derives
the state from any clock reading, so no background thread is needed and a state file restored after a restart
finishes the transition exactly when it would have finished anyway. The eventual consistency of reads is
stored the same way: ``visible_at`` (a new listener is unknown to reads until then) and ``stale`` (what reads
answer until ``stale.until``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTIVE",
    "CONFIGURING",
    "DELETING",
    "DEPENDENT_KINDS",
    "ENDPOINT_GROUP",
    "FORWARDING_RULE",
    "GONE",
    "HTTP_LEVEL_ATTRS",
    "INIT",
    "PROTOCOLS",
    "UPDATING",
    "XFF_KEYS",
    "ListenerConfig",
    "ListenerRecord",
    "ListenerSeed",
    "PortRange",
    "StaleView",
    "default_config",
    "switch_protocol",
]

INIT, UPDATING, CONFIGURING, DELETING = "init", "updating", "configuring", "deleting"
ACTIVE, GONE = "active", "gone"
PROTOCOLS = ("tcp", "udp", "http", "https")
HTTP_PROTOCOLS = frozenset({"http", "https"})
# An update that sets only these (the HTTP/HTTPS-level settings) leaves the listener ``configuring``, any
# other update ``updating``.
HTTP_LEVEL_ATTRS = frozenset(
    {"certificates", "security_policy_id", "http_version", "forwarded_for", "request_timeout", "backend_ports"}
)
# What may hang off a listener and block its deletion (Exist.EndpointGroup, Exist.ForwardingRule).
ENDPOINT_GROUP, FORWARDING_RULE = "endpoint_group", "forwarding_rule"
DEPENDENT_KINDS = (ENDPOINT_GROUP, FORWARDING_RULE)
XFF_KEYS = (
    "XForwardedForGaIdEnabled",
    "XForwardedForGaApEnabled",
    "XForwardedForProtoEnabled",
    "XForwardedForPortEnabled",
    "XRealIpEnabled",
)
# protocol -> (min, max, default) of IdleTimeout
IDLE_TIMEOUT = {"tcp": (10, 900, 900), "udp": (10, 20, 20), "http": (1, 60, 15), "https": (1, 60, 15)}
REQUEST_TIMEOUT = (1, 180, 60)
DEFAULT_HTTP_VERSION = "http2"
DEFAULT_SECURITY_POLICY = "tls_cipher_policy_1_0"


@dataclass(frozen=True, order=True)
class PortRange:
    """An inclusive ``FromPort``..``ToPort`` range."""

    from_port: int
    to_port: int

    @property
    def size(self) -> int:
        """How many ports the range holds (what the port quota counts)."""
        return self.to_port - self.from_port + 1

    def overlaps(self, other: PortRange) -> bool:
        """Whether the two ranges share at least one port."""
        return self.from_port <= other.to_port and other.from_port <= self.to_port


@dataclass(frozen=True)
class ListenerConfig:
    """Everything UpdateListener can change, normalised (protocol lower-case, affinity upper-case)."""

    protocol: str = "tcp"
    port_ranges: tuple[PortRange, ...] = ()
    name: str = ""
    description: str = ""
    client_affinity: str = "NONE"
    proxy_protocol: bool = False
    certificates: tuple[str, ...] = ()
    backend_ports: tuple[PortRange, ...] = ()
    idle_timeout: int = 900
    request_timeout: int | None = None
    http_version: str | None = None
    security_policy_id: str | None = None
    forwarded_for: tuple[tuple[str, bool], ...] = ()
    type: str = "Standard"

    def replace(self, **changes: Any) -> ListenerConfig:
        """A copy with ``changes`` (attribute names) applied."""
        return dataclasses.replace(self, **changes)

    @property
    def forwarded_for_map(self) -> dict[str, bool]:
        """The five X-Forwarded-For switches, all present (false unless set)."""
        values = dict.fromkeys(XFF_KEYS, False)
        values.update(self.forwarded_for)
        return values


def default_config(protocol: str) -> ListenerConfig:
    """A new listener's configuration for ``protocol`` before the request's own values are applied."""
    return switch_protocol(ListenerConfig(protocol="tcp"), protocol)


def switch_protocol(config: ListenerConfig, protocol: str) -> ListenerConfig:
    """Change the protocol: clear what the new one does not allow, reset timeouts outside its range."""
    if protocol not in IDLE_TIMEOUT:  # an invalid value: leave the rest alone, the rules will refuse it
        return config.replace(protocol=protocol)
    low, high, default = IDLE_TIMEOUT[protocol]
    idle = config.idle_timeout if low <= config.idle_timeout <= high else default
    changes: dict[str, Any] = {"protocol": protocol, "idle_timeout": idle}
    if protocol in HTTP_PROTOCOLS:
        changes["request_timeout"] = config.request_timeout or REQUEST_TIMEOUT[2]
    else:
        changes.update(request_timeout=None, backend_ports=(), forwarded_for=())
    if protocol == "https":
        changes["http_version"] = config.http_version or DEFAULT_HTTP_VERSION
        changes["security_policy_id"] = config.security_policy_id or DEFAULT_SECURITY_POLICY
    else:
        changes.update(certificates=(), http_version=None, security_policy_id=None)
    return config.replace(**changes)


@dataclass(frozen=True)
class StaleView:
    """What reads answer for a listener until ``until`` (epoch seconds): ``config``, state ``active``."""

    config: ListenerConfig
    until: float


@dataclass
class ListenerRecord:
    """One listener as the backend keeps it (mutable; only touched under the backend's lock).

    ``visible_at``: reads answer NotExist.Listener before this instant (the create lag); ``stale``: reads answer
    that snapshot instead of the truth until it ends (the visibility lag); ``dependents``: how many endpoint
    groups and forwarding rules hang off the listener; ``service_id``: the cloud service managing it, if any.
    """

    listener_id: str
    accelerator_id: str
    config: ListenerConfig
    create_time_ms: int
    phase: str = ACTIVE
    transition_ends_at: float = 0.0
    visible_at: float = 0.0
    stale: StaleView | None = None
    dependents: dict[str, int] = field(default_factory=dict)
    service_id: str | None = None

    def state(self, now: float) -> str:
        """The phase until the transition ends, then ``active`` (or ``gone`` after ``deleting``)."""
        if self.phase == ACTIVE or now >= self.transition_ends_at:
            return GONE if self.phase == DELETING else ACTIVE
        return self.phase

    def stale_at(self, now: float) -> StaleView | None:
        """The snapshot reads answer at ``now``, if the visibility lag still runs."""
        return self.stale if self.stale is not None and now < self.stale.until else None


@dataclass(frozen=True)
class ListenerSeed:
    """An active listener to create at start: ``ACCELERATOR:LISTENER:PROTOCOL:FROM-TO``."""

    accelerator_id: str
    listener_id: str
    protocol: str = "tcp"
    port_ranges: tuple[PortRange, ...] = field(default=(PortRange(80, 80),))

    @classmethod
    def parse(cls, text: str) -> ListenerSeed:
        """Parse the CLI form, e.g. ``ga-demo:lsr-demo:tcp:80-80``; raises ValueError naming the problem."""
        parts = text.split(":")
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"listener seed {text!r} is not ACCELERATOR:LISTENER:PROTOCOL:FROM-TO")
        accelerator_id, listener_id, protocol, ports = parts
        low, sep, high = ports.partition("-")
        if not sep or not low.isdigit() or not high.isdigit():
            raise ValueError(f"listener seed {text!r}: ports must be FROM-TO, e.g. 80-80")
        return cls(accelerator_id, listener_id, protocol.lower(), (PortRange(int(low), int(high)),))
