"""The ``--state`` file: the backend's world as JSON, saved atomically (temp file in the same folder, fsync,
``os.replace``), so a killed emulator never leaves a half-written file and loses nothing it answered as done.

Listeners are saved with their phase and the epoch second their transition ends, so a listener caught
mid-transition by a restart finishes it on time. Successful ClientTokens are saved too: a client retrying a
write across an emulator restart still gets the original answer.

Format 2 adds what the world learnt since Format 1: per accelerator whether it has a basic bandwidth package;
per listener the end of its create lag (``VisibleAt``), the snapshot reads answer during a visibility lag
(``Stale``), its endpoint groups and forwarding rules, and the service managing it (``ServiceId``); and the ids
of deleted listeners (``VanishedListenerIds``), and of listeners whose accelerator was deleted
(``OrphanedListenerIds``, optional). A Format 1 file still loads (the new fields take their defaults) and is
written back as Format 2.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ga_emulator.model import ENDPOINT_GROUP, FORWARDING_RULE, ListenerConfig, ListenerRecord, PortRange, StaleView

__all__ = ["FORMAT", "READABLE_FORMATS", "StateError", "TokenEntry", "World", "read_state", "save_atomic"]

FORMAT = 2
READABLE_FORMATS = (1, 2)
_DEPENDENT_KEYS = {ENDPOINT_GROUP: "EndpointGroups", FORWARDING_RULE: "ForwardingRules"}


class StateError(ValueError):
    """The state file cannot be read as an emulator state (names the file and the problem)."""


@dataclass
class TokenEntry:
    """A successful write's ClientToken: what to compare a retry against and what to answer it."""

    fingerprint: str
    request_id: str
    result: dict[str, str]
    at: float


@dataclass
class World:
    """Accelerators (id -> state) and those without a basic bandwidth package, listeners (id -> record),
    ClientTokens ((action, token) -> entry), the ids of deleted listeners and of listeners whose accelerator was
    deleted."""

    accelerators: dict[str, str] = field(default_factory=dict)
    listeners: dict[str, ListenerRecord] = field(default_factory=dict)
    tokens: dict[tuple[str, str], TokenEntry] = field(default_factory=dict)
    without_bandwidth_package: set[str] = field(default_factory=set)
    vanished: set[str] = field(default_factory=set)
    orphaned: set[str] = field(default_factory=set)

    def to_json(self, now: float) -> dict[str, Any]:
        """The JSON document (each listener's derived ``State`` at ``now`` included for readers)."""
        return {
            "Format": FORMAT,
            "Accelerators": [
                {
                    "AcceleratorId": key,
                    "State": value,
                    "BasicBandwidthPackage": key not in self.without_bandwidth_package,
                }
                for key, value in sorted(self.accelerators.items())
            ],
            "Listeners": [_listener_to_json(record, now) for record in self.listeners.values()],
            "ClientTokens": [
                {"Action": action, "ClientToken": token, **_token_to_json(entry)}
                for (action, token), entry in self.tokens.items()
            ],
            "VanishedListenerIds": sorted(self.vanished),
            "OrphanedListenerIds": sorted(self.orphaned),
        }

    @classmethod
    def from_json(cls, doc: Any) -> World:
        """Parse a document written by :meth:`to_json` (any of :data:`READABLE_FORMATS`); raises StateError."""
        try:
            if doc.get("Format") not in READABLE_FORMATS:
                raise StateError(f"unsupported state format {doc.get('Format')!r} (expected one of "
                                 f"{', '.join(map(str, READABLE_FORMATS))})")
            world = cls({str(item["AcceleratorId"]): str(item["State"]) for item in doc["Accelerators"]})
            world.without_bandwidth_package = {
                str(item["AcceleratorId"]) for item in doc["Accelerators"]
                if not item.get("BasicBandwidthPackage", True)
            }  # fmt: skip
            world.vanished = {str(item) for item in doc.get("VanishedListenerIds", [])}
            world.orphaned = {str(item) for item in doc.get("OrphanedListenerIds", [])}
            for item in doc["Listeners"]:
                record = _listener_from_json(item)
                world.listeners[record.listener_id] = record
            for item in doc["ClientTokens"]:
                world.tokens[(item["Action"], item["ClientToken"])] = TokenEntry(
                    item["Fingerprint"], item["RequestId"], dict(item["Result"]), float(item["At"])
                )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError(f"malformed state document: {type(exc).__name__}: {exc}") from exc
        return world


def _ranges(items: Any) -> tuple[PortRange, ...]:
    return tuple(PortRange(int(low), int(high)) for low, high in items)


def _config_to_json(config: ListenerConfig) -> dict[str, Any]:
    return {
        "Protocol": config.protocol,
        "PortRanges": [[item.from_port, item.to_port] for item in config.port_ranges],
        "Name": config.name,
        "Description": config.description,
        "ClientAffinity": config.client_affinity,
        "ProxyProtocol": config.proxy_protocol,
        "Certificates": list(config.certificates),
        "BackendPorts": [[item.from_port, item.to_port] for item in config.backend_ports],
        "IdleTimeout": config.idle_timeout,
        "RequestTimeout": config.request_timeout,
        "HttpVersion": config.http_version,
        "SecurityPolicyId": config.security_policy_id,
        "XForwardedForConfig": dict(config.forwarded_for),
        "Type": config.type,
    }


def _config_from_json(doc: Any) -> ListenerConfig:
    return ListenerConfig(
        protocol=str(doc["Protocol"]),
        port_ranges=_ranges(doc["PortRanges"]),
        name=str(doc["Name"]),
        description=str(doc["Description"]),
        client_affinity=str(doc["ClientAffinity"]),
        proxy_protocol=bool(doc["ProxyProtocol"]),
        certificates=tuple(str(item) for item in doc["Certificates"]),
        backend_ports=_ranges(doc["BackendPorts"]),
        idle_timeout=int(doc["IdleTimeout"]),
        request_timeout=None if doc["RequestTimeout"] is None else int(doc["RequestTimeout"]),
        http_version=doc["HttpVersion"],
        security_policy_id=doc["SecurityPolicyId"],
        forwarded_for=tuple(sorted((str(k), bool(v)) for k, v in doc["XForwardedForConfig"].items())),
        type=str(doc["Type"]),
    )


def _listener_to_json(record: ListenerRecord, now: float) -> dict[str, Any]:
    stale = record.stale
    return {
        "ListenerId": record.listener_id,
        "AcceleratorId": record.accelerator_id,
        "State": record.state(now),
        "Phase": record.phase,
        "TransitionEndsAt": record.transition_ends_at,
        "CreateTime": record.create_time_ms,
        "Config": _config_to_json(record.config),
        "VisibleAt": record.visible_at,
        "Stale": None if stale is None else {"Config": _config_to_json(stale.config), "Until": stale.until},
        **{key: record.dependents.get(kind, 0) for kind, key in _DEPENDENT_KEYS.items()},
        "ServiceId": record.service_id,
    }


def _listener_from_json(doc: Any) -> ListenerRecord:
    stale = doc.get("Stale")
    service_id = doc.get("ServiceId")
    dependents = {kind: int(doc.get(key, 0)) for kind, key in _DEPENDENT_KEYS.items()}
    return ListenerRecord(
        listener_id=str(doc["ListenerId"]),
        accelerator_id=str(doc["AcceleratorId"]),
        config=_config_from_json(doc["Config"]),
        create_time_ms=int(doc["CreateTime"]),
        phase=str(doc["Phase"]),
        transition_ends_at=float(doc["TransitionEndsAt"]),
        visible_at=float(doc.get("VisibleAt", 0.0)),
        stale=None if stale is None else StaleView(_config_from_json(stale["Config"]), float(stale["Until"])),
        dependents={kind: count for kind, count in dependents.items() if count > 0},
        service_id=None if service_id is None else str(service_id),
    )


def _token_to_json(entry: TokenEntry) -> dict[str, Any]:
    return {
        "Fingerprint": entry.fingerprint,
        "RequestId": entry.request_id,
        "Result": entry.result,
        "At": entry.at,
    }


def read_state(path: Path) -> World | None:
    """The world saved in ``path``, or None when the file does not exist; raises StateError otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"state file {path} is not JSON: {exc}") from exc
    try:
        return World.from_json(doc)
    except StateError as exc:
        raise StateError(f"state file {path}: {exc}") from exc


def save_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to a temporary file next to ``path``, fsync it, then rename it over ``path``."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(doc, handle, indent=1, sort_keys=True, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
