"""From desired configuration and recorded state to a diff, the minimal UpdateListener and the outputs.

Everything here is pure: plain values in, plain values out. Listener properties travel in one canonical form
(snake_case keys, ints as ints, port ranges and certificates sorted, so order never makes a diff), whether they
come from the user's inputs, the API's answer or the outputs stored in Pulumi state (where numbers are floats).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from ga_listener.config.models import IDLE_TIMEOUT_RANGES, MANAGED_FIELDS, ListenerConfig

__all__ = [
    "MANAGED_FIELDS",
    "Bookkeeping",
    "api_params",
    "build_outputs",
    "canonical",
    "changed_fields",
    "client_token",
    "desired_values",
    "live_from_api",
    "not_visible",
    "refreshed_inputs",
    "write_values",
]

# snake_case property -> API parameter / response field
API_NAMES = {
    "protocol": "Protocol",
    "port_ranges": "PortRanges",
    "name": "Name",
    "description": "Description",
    "client_affinity": "ClientAffinity",
    "proxy_protocol": "ProxyProtocol",
    "certificates": "Certificates",
    "backend_ports": "BackendPorts",
    "idle_timeout": "IdleTimeout",
    "request_timeout": "RequestTimeout",
    "http_version": "HttpVersion",
    "security_policy_id": "SecurityPolicyId",
    "forwarded_for_config": "XForwardedForConfig",
}
FORWARDED_FOR_NAMES = {
    "forwarded_for_ga_id_enabled": "XForwardedForGaIdEnabled",
    "forwarded_for_ga_ap_enabled": "XForwardedForGaApEnabled",
    "forwarded_for_proto_enabled": "XForwardedForProtoEnabled",
    "forwarded_for_port_enabled": "XForwardedForPortEnabled",
    "real_ip_enabled": "XRealIpEnabled",
}
RANGE_FIELDS = frozenset({"port_ranges", "backend_ports"})
INT_FIELDS = frozenset({"idle_timeout", "request_timeout"})
#: The idle timeout a listener gets when it switches to a protocol whose range its old value is outside of.
DEFAULT_IDLE_TIMEOUT = {"tcp": 900, "udp": 20, "http": 15, "https": 15}


# --- canonical values ---------------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    # Tolerant on purpose: a malformed answer from the API must become a visible diff, not a traceback.
    try:
        return int(float(value)) if isinstance(value, (int, float, str)) else None
    except (ValueError, OverflowError):
        return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None if value is None else bool(value)


def _pick(item: Mapping[str, Any], snake: str, api: str) -> Any:
    return item.get(snake, item.get(api))


def _ranges(value: Any) -> list[dict[str, int | None]] | None:
    if value is None:
        return None
    pairs = {(_int(_pick(r, "from_port", "FromPort")), _int(_pick(r, "to_port", "ToPort")))
             for r in value if isinstance(r, Mapping)}
    return [{"from_port": f, "to_port": t} for f, t in sorted(pairs, key=lambda p: (p[0] or 0, p[1] or 0))]


def _forwarded_for(value: Any) -> dict[str, bool] | None:
    if not isinstance(value, Mapping):
        return None
    flags = {snake: _bool(_pick(value, snake, api)) for snake, api in FORWARDED_FOR_NAMES.items()}
    return {k: v for k, v in flags.items() if v is not None}


def canonical(field: str, value: Any) -> Any:
    """The comparable form of one property, from inputs, outputs or the API (either key spelling)."""
    if value is None:
        return None
    if field in RANGE_FIELDS:
        return _ranges(value)
    if field == "certificates":
        return [{"id": i} for i in sorted({str(_pick(c, "id", "Id")) for c in value if isinstance(c, Mapping)})]
    if field == "forwarded_for_config":
        return _forwarded_for(value)
    if field in INT_FIELDS:
        return _int(value)
    if field == "proxy_protocol":
        return _bool(value)
    if field == "client_affinity":
        return str(value).upper() or "NONE"
    if field in ("protocol", "http_version", "security_policy_id"):
        return str(value).lower() or None
    if field == "name":
        # The API has no way to set an empty name, so "" is "no name": nothing a restore could put back.
        return str(value) or None
    return str(value)


def desired_values(config: ListenerConfig) -> dict[str, Any]:
    """The managed properties of ``config`` (those the user set) in canonical form."""
    dumped = config.model_dump(exclude_none=True)
    return {field: canonical(field, dumped[field]) for field in MANAGED_FIELDS if field in dumped}


def live_from_api(body: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeListener answer in canonical form, with the read-only facts the outputs carry."""
    live = {field: canonical(field, body.get(api)) for field, api in API_NAMES.items()}
    if live["client_affinity"] is None:
        live["client_affinity"] = "NONE"  # the API omits it when there is no affinity
    live.update(
        listener_id=str(body.get("ListenerId", "")),
        accelerator_id=str(body.get("AcceleratorId", "")),
        state=str(body.get("State", "")).lower(),
        listener_type=body.get("Type"),
        create_time=body.get("CreateTime"),
    )
    return live


# --- diff and the minimal update ----------------------------------------------------------------------------


def _differs(field: str, wanted: Any, current: Any, protocol: str | None) -> bool:
    current = canonical(field, current)
    if wanted is None:  # a recorded "no value" (outputs of a listener that had none)
        return current is not None
    if field == "forwarded_for_config":
        # Only the flags the user set are managed; the others stay as the listener has them.
        current = current or {}
        return any(current.get(flag) != value for flag, value in wanted.items())
    if field == "client_affinity" and protocol == "udp":
        return False  # the service may not keep SOURCE_IP on udp (Terraform ignores this diff too)
    return bool(wanted != current)


def changed_fields(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Managed properties whose wanted (canonical) value differs from ``current`` (outputs or live).

    On a udp listener ``client_affinity`` NONE and SOURCE_IP count as equal: the service may not keep SOURCE_IP.
    """
    protocol = wanted.get("protocol") or canonical("protocol", current.get("protocol"))
    return [field for field, value in wanted.items() if _differs(field, value, current.get(field), protocol)]


def write_values(
    changed: Mapping[str, Any], desired: Mapping[str, Any], live: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """What one UpdateListener carries to apply ``changed`` to the ``live`` listener (read just before), and
    warnings for the user.

    Safe whether or not the service resets an omitted value to its default: every write carries
    ``proxy_protocol`` (the managed value, else the live one; on http/https too, where the API accepts it as
    well and a reset would switch off client-IP preservation unseen), and a write carrying
    ``forwarded_for_config`` carries all five flags (the unmanaged ones as the listener has them). A protocol
    switch whose unmanaged idle timeout falls outside the new protocol's range sends that protocol's default.
    Nothing else is added.
    """
    values = dict(changed)
    warnings = []
    protocol = values.get("protocol") or canonical("protocol", live.get("protocol"))
    keep = desired.get("proxy_protocol", canonical("proxy_protocol", live.get("proxy_protocol")))
    if keep is not None:
        values["proxy_protocol"] = keep
    if "forwarded_for_config" in values:
        values["forwarded_for_config"] = {**(canonical("forwarded_for_config", live.get("forwarded_for_config"))
                                             or {}), **values["forwarded_for_config"]}
    idle = canonical("idle_timeout", live.get("idle_timeout"))
    if "protocol" in changed and "idle_timeout" not in desired and protocol in IDLE_TIMEOUT_RANGES and idle:
        low, high = IDLE_TIMEOUT_RANGES[protocol]
        if not low <= idle <= high:
            values["idle_timeout"] = DEFAULT_IDLE_TIMEOUT[protocol]
            warnings.append(f"idle_timeout {idle} is outside {low}..{high} for {protocol}: the switch sets "
                            f"{protocol}'s default, {DEFAULT_IDLE_TIMEOUT[protocol]} (manage idle_timeout to choose)")
    return values, warnings


def not_visible(sent: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The properties of a write (``sent``, canonical) that the listener does not show yet. Every flag sent in
    ``forwarded_for_config`` counts, as do the values a write added (``proxy_protocol``, defaults)."""
    return changed_fields(sent, live)


def api_params(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Nested UpdateListener parameters for ``fields`` (ranges and certificates whole, as the API wants)."""
    params: dict[str, Any] = {}
    for field in fields:
        value = canonical(field, values.get(field))
        if value is None:
            continue
        if field in RANGE_FIELDS:
            value = [{"FromPort": r["from_port"], "ToPort": r["to_port"]} for r in value]
        elif field == "certificates":
            value = [{"Id": c["id"]} for c in value]
        elif field == "forwarded_for_config":
            value = {FORWARDED_FOR_NAMES[flag]: on for flag, on in value.items()}
        params[API_NAMES[field]] = value
    return params


def client_token(listener_id: str, purpose: str, book: Bookkeeping, params: Mapping[str, Any]) -> str:
    """An idempotency token for one logical change.

    The same change from the same recorded state (a retried or resumed operation) gets the same token. The
    revision counter makes A->B, B->A, A->B three changes with three tokens, and the adoption id (random, drawn
    at each adoption) keeps a later adoption of the same listener from ever replaying an earlier one's writes.
    """
    material = [listener_id, purpose, book.adoption_id, book.revision, params]
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return "gal-" + digest[:40]


# --- outputs and refreshed inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bookkeeping:
    """What later operations need besides the live listener; it travels in the outputs, because the engine
    hands ``read`` and ``delete`` only the outputs."""

    managed: tuple[str, ...] = ()
    on_delete: str = "retain"
    adopted: Mapping[str, Any] = dataclass_field(default_factory=dict)  # the listener as found at adoption
    touched: tuple[str, ...] = ()  # every property this resource ever wrote: what restore puts back
    revision: int = 0  # one more per applied change
    adoption_id: str = ""  # random, drawn when the resource adopted or created the listener: its claim id
    origin: str = "adopted"  # "created" when this resource created the listener
    identity: str = "listener_id"  # the input that names the listener: listener_id, or accelerator_id (created)
    resource_key: str | None = None

    @classmethod
    def adopting(cls, managed: Iterable[str], on_delete: str, adopted: Mapping[str, Any],
                 resource_key: str | None = None) -> Bookkeeping:
        """The bookkeeping of a fresh adoption, with a new random adoption id."""
        snapshot = {name: adopted.get(name) for name in MANAGED_FIELDS}
        return cls(tuple(sorted(managed)), on_delete, snapshot, adoption_id=secrets.token_hex(8),
                   resource_key=resource_key)

    @classmethod
    def creating(cls, managed: Iterable[str], on_delete: str, resource_key: str | None) -> Bookkeeping:
        """The bookkeeping of a listener this resource created: nothing to restore, a new random claim id."""
        return cls(tuple(sorted(managed)), on_delete, adoption_id=secrets.token_hex(8), origin="created",
                   identity="accelerator_id", resource_key=resource_key)

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Bookkeeping:
        """Read it back from stored outputs (numbers arrive as floats; states written by the adopt-only version
        lack the newer keys and read as adopted by id)."""
        return cls(
            managed=tuple(outputs.get("managed_fields") or ()),
            on_delete=str(outputs.get("on_delete") or "retain"),
            adopted=dict(outputs.get("adopted") or {}),
            touched=tuple(outputs.get("touched_fields") or ()),
            revision=int(outputs.get("revision") or 0),
            adoption_id=str(outputs.get("adoption_id") or ""),
            origin=str(outputs.get("origin") or "adopted"),
            identity=str(outputs.get("identity") or "listener_id"),
            resource_key=outputs.get("resource_key") or None,
        )

    @property
    def created(self) -> bool:
        """True when this resource created the listener."""
        return self.origin == "created"

    def applied(self, fields: Iterable[str]) -> Bookkeeping:
        """After one more applied change to ``fields``."""
        return replace(self, revision=self.revision + 1, touched=tuple(sorted({*self.touched, *fields})))

    def to_outputs(self) -> dict[str, Any]:
        return {
            "managed_fields": sorted(self.managed),
            "on_delete": self.on_delete,
            "adopted": dict(self.adopted),
            "touched_fields": sorted(self.touched),
            "revision": self.revision,
            "adoption_id": self.adoption_id,
            "origin": self.origin,
            "identity": self.identity,
            "resource_key": self.resource_key,
            "region_id": "cn-hangzhou",
        }


#: Keys in the outputs that describe the resource rather than the listener.
BOOKKEEPING = frozenset(Bookkeeping().to_outputs())


def build_outputs(live: Mapping[str, Any], book: Bookkeeping) -> dict[str, Any]:
    """Outputs: the live listener plus the bookkeeping."""
    return {**{k: v for k, v in live.items() if k not in BOOKKEEPING}, **book.to_outputs()}


def refreshed_inputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as the live listener now has them, for the managed properties (what refresh reports as drift),
    naming the listener the way the program does (by listener_id, or by accelerator_id when created)."""
    book = Bookkeeping.from_outputs(outputs)
    inputs = {name: outputs.get(name) for name in book.managed}
    identity = "accelerator_id" if book.identity == "accelerator_id" else "listener_id"
    inputs.update({identity: outputs.get(identity), "on_delete": book.on_delete, "region_id": "cn-hangzhou"})
    if book.resource_key:
        inputs["resource_key"] = book.resource_key
    return inputs
