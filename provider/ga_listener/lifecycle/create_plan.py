"""The pure half of creating a listener: what CreateListener carries, its ClientTokens, and how a listener that
nothing but this resource's create has touched looks.

A create carries only the listener's identity: protocol, port ranges and (https) its default certificate. Its
ClientToken derives from the resource key and the accelerator alone, so whatever the inputs, a create of the same
resource finds the listener an earlier create of it made: the service answers the same token and identity with
that listener (a replay), and the same token with another identity with ``IdempotenceParamNotMatch``, after which
the listener is found by sending the token with each listener's own identity. Everything else the resource wants
is applied by one UpdateListener after the create, so a re-run after a crash may change any input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ga_listener.config.plan import MANAGED_FIELDS, api_params, canonical, changed_fields

__all__ = [
    "IDENTITY_FIELDS",
    "create_token",
    "identity_params",
    "next_create_token",
    "touched_since_created",
]

#: What CreateListener carries (for https only with ``certificates``): the rest waits for the follow-up write.
IDENTITY_FIELDS = ("protocol", "port_ranges", "certificates")
#: What a new listener has for everything a create does not carry, by protocol (the service's documented
#: defaults; either spelling of "nothing" counts, since an answer may leave an empty value out).
_UNSET: tuple[Any, ...] = (None, "", [], {}, False, "NONE")
_DEFAULTS: dict[str, dict[str, tuple[Any, ...]]] = {
    "tcp": {"idle_timeout": (900,)},
    "udp": {"idle_timeout": (20,)},
    "http": {"idle_timeout": (15,), "request_timeout": (60,)},
    "https": {"idle_timeout": (15,), "request_timeout": (60,), "http_version": ("http2",),
              "security_policy_id": ("tls_cipher_policy_1_0",)},
}


def identity_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateListener parameters for ``values`` (canonical properties, from inputs or a live listener)."""
    fields = [name for name in IDENTITY_FIELDS if name != "certificates" or values.get("protocol") == "https"]
    return api_params(values, fields)


def _digest(material: Any) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]


def create_token(resource_key: str, accelerator_id: str) -> str:
    """The first ClientToken a resource's create sends on an accelerator (the same for every create of it)."""
    return "gal-c-" + _digest(["create", resource_key, accelerator_id])


def next_create_token(token: str) -> str:
    """The token after ``token``, once the listener ``token`` made is known to be gone or not this create's:
    a chain, so a create made with it after a crash is found again the same way."""
    return "gal-c-" + _digest(["next", token])


def _untouched(name: str, value: Any, protocol: str) -> bool:
    if name == "forwarded_for_config":
        return not any((value or {}).values())
    return value in _UNSET or value in _DEFAULTS.get(protocol, {}).get(name, ())


def touched_since_created(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """The properties of a listener answered by this resource's create that show neither what a create leaves
    (nothing set beyond the identity) nor what the resource wants: a listener that shows some was changed by
    someone since this resource created it (it was retained, or dropped from the stack, and may be managed
    elsewhere now), so it must not be taken over as created."""
    protocol = str(live.get("protocol") or "")
    return [name for name in MANAGED_FIELDS if name not in IDENTITY_FIELDS
            and not _untouched(name, canonical(name, live.get(name)), protocol)
            and not (name in wanted and not changed_fields({name: wanted[name]}, live))]
