"""Which resources of the current program, and which listeners they name, this provider process has seen.

The engine checks every resource the program registers before it deletes the resources the program no longer
has, in the same provider process (``pkg/resource/deploy``: the deletes are generated once the program has
registered everything). So when a delete comes, the provider knows the program:

* a delete whose own resource was checked in this process is a replacement's (its resource is still in the
  program): it releases the listener as ``on_delete`` says;
* any other delete is a removed resource's, or a ``pulumi destroy``'s (no program runs: nothing was checked):
  it must leave alone a listener that a resource of the program names, whether the program names it by
  ``listener_id`` (seen in Check) or holds it in its state (seen in Diff). The in-process claims
  (:mod:`ga_listener.lifecycle.claims`) cannot cover this: in a later process they are empty.

Resources are known by their resource key (project/stack/name, passed by the ``Listener`` class) and, through
Diff, by the claim id of their state (states written before the key was passed for adoptions have none). A Diff
counts only for a resource checked in this process: ``up --refresh`` diffs every resource in the state, removed
ones included, before the program runs. Module-level, like the accelerator locks: one host can hold two provider
instances.
"""

from __future__ import annotations

import threading

__all__ = ["checked", "diffed", "in_program", "named_by_program"]

_LOCK = threading.Lock()
_CHECKED: set[str] = set()  # resource keys the program registered
_CLAIMS: set[str] = set()  # claim ids of the states of resources the program registered
_NAMES: dict[str, set[str]] = {}  # listener id -> keys of the program's resources that name or hold it


def checked(resource_key: str | None, listener_id: str | None) -> None:
    """Check saw the resource ``resource_key`` in the program, naming ``listener_id`` (if it adopts one)."""
    if not resource_key:
        return
    with _LOCK:
        _CHECKED.add(resource_key)
        if listener_id:
            _NAMES.setdefault(listener_id, set()).add(resource_key)


def diffed(resource_key: str | None, claim_id: str | None, listener_id: str, *, keeps: bool) -> None:
    """Diff compared the state (claim ``claim_id``, listener ``listener_id``) of the resource ``resource_key``
    with the program; ``keeps``: the resource stays on that listener (no replacement)."""
    with _LOCK:
        if not resource_key or resource_key not in _CHECKED:
            return  # a refresh's Diff, not the program's
        if claim_id:
            _CLAIMS.add(claim_id)
        if keeps and listener_id:
            _NAMES.setdefault(listener_id, set()).add(resource_key)


def in_program(resource_key: str | None, claim_id: str | None) -> bool:
    """True when the resource of this state is in the current program (its delete is a replacement's)."""
    with _LOCK:
        return bool(resource_key and resource_key in _CHECKED) or bool(claim_id and claim_id in _CLAIMS)


def named_by_program(listener_id: str) -> list[str]:
    """The resources of the current program that name or hold ``listener_id`` (their resource keys)."""
    with _LOCK:
        return sorted(_NAMES.get(listener_id, ()))
