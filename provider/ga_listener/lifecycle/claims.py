"""Which resource holds which listener in this provider process.

The engine runs one deployment in one provider process, and some of its steps touch one listener twice: a rename
without an alias creates (adopts) under the new name and deletes under the old one at the end; a replacement made
create-before-delete does the same under one name. The delete must then leave alone a listener that another
resource took over in this process: restoring it would undo the new owner's configuration, deleting it would pull
the listener out from under it. Each resource is known by its claim id (the random ``adoption_id`` of its
outputs). The table is module-level, like the accelerator locks: one host can hold two provider instances.

It also remembers the listeners this process deleted, so that a create whose ClientToken replays one of them
knows at once that it must create afresh.
"""

from __future__ import annotations

import threading

__all__ = ["claim", "claimed_by_another", "deleted_here", "forget", "mark_deleted"]

_LOCK = threading.Lock()
_CLAIMS: dict[str, str] = {}  # listener id -> claim id of the resource that adopted or created it here
_DELETED: set[str] = set()


def claim(listener_id: str, claim_id: str) -> None:
    """Record that the resource ``claim_id`` adopted or created ``listener_id`` in this process."""
    with _LOCK:
        _CLAIMS[listener_id] = claim_id
        _DELETED.discard(listener_id)


def claimed_by_another(listener_id: str, claim_id: str) -> bool:
    """True when, in this process, a resource other than ``claim_id`` adopted or created ``listener_id``."""
    with _LOCK:
        holder = _CLAIMS.get(listener_id)
    return holder is not None and holder != claim_id


def forget(listener_id: str, claim_id: str) -> None:
    """The resource ``claim_id`` let go of ``listener_id`` (a no-op if another resource holds it)."""
    with _LOCK:
        if _CLAIMS.get(listener_id) == claim_id:
            del _CLAIMS[listener_id]


def mark_deleted(listener_id: str) -> None:
    """This process deleted ``listener_id``."""
    with _LOCK:
        _DELETED.add(listener_id)
        _CLAIMS.pop(listener_id, None)


def deleted_here(listener_id: str) -> bool:
    """True when this process deleted ``listener_id``."""
    with _LOCK:
        return listener_id in _DELETED
