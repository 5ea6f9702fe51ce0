"""Which listener a resource's inputs name, and when a change of that replaces the resource (pure decisions that
``diff`` and ``check`` make; no Pulumi here: the caller says which values are not known yet)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ga_listener.config.models import ListenerConfig
from ga_listener.config.plan import Bookkeeping

__all__ = ["Replacement", "replacement", "switches_to_https_without_certificate"]


@dataclass(frozen=True)
class Replacement:
    """A replace: the input that causes it, and whether the old listener is released before the new one."""

    because_of: str
    delete_first: bool


def replacement(inputs: Mapping[str, Any], olds: Mapping[str, Any],
                is_unknown: Callable[[Any], bool]) -> Replacement | None:
    """The replace a change of identity makes, or ``None``.

    Adopting another listener, or switching between adopting and creating, replaces (delete first). Naming the
    listener this resource created by its ``listener_id``, or by its accelerator again, does not: the same
    listener stays, only bookkeeping changes.
    """
    listener_id, accelerator_id = inputs.get("listener_id"), inputs.get("accelerator_id")
    book = Bookkeeping.from_outputs(olds)
    old_listener, old_accelerator = olds.get("listener_id"), olds.get("accelerator_id")
    if listener_id is not None:
        if is_unknown(listener_id) or listener_id != old_listener:
            return Replacement("listener_id", delete_first=True)
        return None
    if accelerator_id is None:
        return None  # check refused these inputs; nothing to decide here
    if is_unknown(accelerator_id) or accelerator_id != old_accelerator:
        # Two accelerators never share ports: the replacement can come first (no downtime), unless not known yet.
        return Replacement("accelerator_id", delete_first=is_unknown(accelerator_id))
    if not book.created:  # from adopting a listener to creating one on its accelerator: release it first
        return Replacement("accelerator_id", delete_first=True)
    return None


def switches_to_https_without_certificate(olds: Mapping[str, Any], config: ListenerConfig) -> bool:
    """True when the old inputs say the listener was not https and the new ones switch it without a certificate
    (an adoption's first check has no old inputs: the live protocol is checked before its write instead)."""
    old_protocol = olds.get("protocol")
    return (config.protocol == "https" and not config.certificates and isinstance(old_protocol, str)
            and old_protocol.lower() != "https")
