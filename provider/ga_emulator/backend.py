"""The emulated service's state and behaviour, with no HTTP: accelerators, listeners, ClientTokens, rules.

Every write runs under one lock, in this order: the listener/accelerator exists -> ClientToken replay (same
action, token and parameters: the original answer, nothing changes; other parameters: IdempotenceParamNotMatch)
-> the listener is not service-managed -> it is active (NotActive.Listener) -> no other listener of the
accelerator is changing and the accelerator is active (StateError.Accelerator) -> what the action itself needs
(a basic bandwidth package and the listener quota for a create, no endpoint groups or forwarding rules for a
delete) -> the rules on the merged configuration -> apply, remember the token, save the state file. So exactly
one change per accelerator runs at a time, as on the real service, however many threads call. The clock is
injected; states are derived from it on every access.

Reads are eventually consistent when the modes say so (:mod:`ga_emulator.modes`): a new listener stays unknown
to reads for ``create_lag`` seconds, and after an update or delete reads answer the listener as it was before
the write for ``visibility_lag`` seconds. Writes always see the truth.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ga_emulator.errors import (
    ACCELERATOR_STATE_ERROR,
    EXIST_ENDPOINT_GROUP,
    EXIST_FORWARDING_RULE,
    IDEMPOTENCE_MISMATCH,
    LISTENER_NOT_ACTIVE,
    LISTENER_QUOTA_EXCEEDED,
    NOT_EXIST_ACCELERATOR,
    NOT_EXIST_BANDWIDTH_PACKAGE,
    NOT_EXIST_LISTENER,
    SERVICE_MANAGED,
    UNKNOWN_ERROR,
    missing_parameter,
)
from ga_emulator.hooks import AcceleratorView, WorldHooks
from ga_emulator.model import (
    ACTIVE,
    CONFIGURING,
    DELETING,
    DEPENDENT_KINDS,
    ENDPOINT_GROUP,
    FORWARDING_RULE,
    GONE,
    HTTP_LEVEL_ATTRS,
    INIT,
    UPDATING,
    ListenerConfig,
    ListenerRecord,
    PortRange,
    StaleView,
    default_config,
    switch_protocol,
)
from ga_emulator.modes import Modes
from ga_emulator.params import config_changes, fingerprint
from ga_emulator.rules import validate_config
from ga_emulator.store import TokenEntry, World, read_state, save_atomic

__all__ = ["TOKEN_TTL_SECONDS", "AcceleratorView", "Backend", "ListenerView", "WriteResult"]

TOKEN_TTL_SECONDS = 24 * 3600.0
_ID_ALPHABET = string.ascii_lowercase + string.digits
_DEPENDENT_ERRORS = {ENDPOINT_GROUP: EXIST_ENDPOINT_GROUP, FORWARDING_RULE: EXIST_FORWARDING_RULE}


@dataclass(frozen=True)
class WriteResult:
    """What a write answers: its RequestId (the original one on a replay) and result fields."""

    request_id: str
    result: Mapping[str, str]
    replayed: bool = False


@dataclass(frozen=True)
class ListenerView:
    """A listener as a read answers it at one instant (a copy: safe to render outside the lock).

    ``service_id`` names the cloud service managing the listener (None: the user manages it).
    """

    listener_id: str
    accelerator_id: str
    config: ListenerConfig
    create_time_ms: int
    state: str
    service_id: str | None = None


def _random_listener_id() -> str:
    return "lsr-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class Backend(WorldHooks):
    """State and rules of the emulated Global Accelerator API (thread-safe); seeding and test hooks come from
    :class:`~ga_emulator.hooks.WorldHooks`."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        transition_seconds: float = 1.0,
        state_path: Path | None = None,
        id_factory: Callable[[], str] = _random_listener_id,
        modes: Modes | None = None,
    ) -> None:
        self._clock = clock
        self._transition = transition_seconds
        self._state_path = state_path
        self._new_id = id_factory
        self._modes = modes or Modes()
        self._lock = threading.Lock()
        self._world = World()
        self.loaded_from_state = False
        """True when the world came from an existing ``state_path`` file."""
        if state_path is not None:
            loaded = read_state(state_path)
            if loaded is not None:
                self._world = loaded
                self.loaded_from_state = True

    # --- modes --------------------------------------------------------------------------------------------

    @property
    def modes(self) -> Modes:
        """The current modes (an immutable copy)."""
        with self._lock:
            return self._modes

    def set_modes(self, changes: Mapping[str, Any]) -> Modes:
        """Apply any subset of the modes (validated: ValueError names a bad key or value); returns them all."""
        with self._lock:
            self._modes = self._modes.updated(changes)
            return self._modes

    # --- reads --------------------------------------------------------------------------------------------

    def describe_listener(self, listener_id: str) -> ListenerView:
        """The listener as reads see it now; NotExist.Listener when unknown to them (UnknownError for a deleted
        one in the ``vanished_unknown_error`` mode, and for one whose accelerator was deleted in the
        ``deleted_accelerator_unknown_error`` mode)."""
        with self._lock:
            now = self._clock()
            record = self._world.listeners.get(listener_id)
            view = None if record is None else self._read(record, now)
            if view is not None:
                return view
            if listener_id in self._world.orphaned:
                if self._modes.deleted_accelerator_unknown_error:
                    raise UNKNOWN_ERROR.error()
            elif self._modes.vanished_unknown_error and listener_id in self._world.vanished:
                raise UNKNOWN_ERROR.error()
            raise NOT_EXIST_LISTENER.error(f"ListenerId {listener_id[:80]!r} is unknown.")

    def list_listeners(self, accelerator_id: str, protocol: str | None = None) -> list[ListenerView]:
        """The accelerator's listeners reads see, in creation order, optionally of one protocol;
        NotExist.Accelerator."""
        with self._lock:
            now = self._clock()
            self._require_accelerator(accelerator_id)
            records = [record for record in self._world.listeners.values() if record.accelerator_id == accelerator_id]
            views = [view for view in (self._read(record, now) for record in records) if view is not None]
        return [view for view in views if protocol is None or view.config.protocol == protocol]

    def snapshot(self) -> dict[str, Any]:
        """The whole world as the state file stores it, with each listener's current (true) State."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            return self._world.to_json(now)

    # --- writes -------------------------------------------------------------------------------------------

    def create_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """CreateListener: a new listener in ``init``; its ListenerId is in the result."""
        with self._lock:
            now, modes = self._begin(), self._modes
            accelerator_id = str(values["AcceleratorId"])
            self._require_accelerator(accelerator_id)
            replay = self._replay("CreateListener", values)
            if replay is not None:
                return replay
            if accelerator_id in self._world.without_bandwidth_package:
                raise NOT_EXIST_BANDWIDTH_PACKAGE.error(f"Accelerator {accelerator_id} has none.")
            self._require_idle_accelerator(accelerator_id, None, now)
            count = sum(1 for _ in self._live(accelerator_id, now))
            if count >= modes.listener_quota:
                raise LISTENER_QUOTA_EXCEEDED.error(
                    f"Accelerator {accelerator_id} has {count} listeners; the quota is {modes.listener_quota}."
                )
            changes = config_changes(values)
            config = default_config(changes.get("protocol", "tcp")).replace(**changes)
            others = self._other_ranges(accelerator_id, None, now)
            validate_config(config, changes, others, port_quota=modes.port_quota)
            if config.protocol == "https" and not config.certificates:
                raise missing_parameter("Certificates", "An HTTPS listener needs a server certificate.")
            listener_id = self._new_id()
            self._world.listeners[listener_id] = ListenerRecord(
                listener_id, accelerator_id, config, int(now * 1000), INIT, now + self._transition,
                visible_at=now + modes.create_lag,
            )  # fmt: skip
            return self._commit("CreateListener", values, request_id, {"ListenerId": listener_id}, now)

    def update_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """UpdateListener: the merged configuration; the listener ``configuring`` when only HTTP/HTTPS-level
        settings were sent, else ``updating``."""
        with self._lock:
            now, modes = self._begin(), self._modes
            record = self._require_listener(str(values["ListenerId"]), now)
            replay = self._replay("UpdateListener", values)
            if replay is not None:
                return replay
            self._require_writable(record, now)
            changes = config_changes(values)
            merged = self._merge(record.config, changes, reset_omitted=modes.reset_omitted)
            others = self._other_ranges(record.accelerator_id, record.listener_id, now)
            validate_config(merged, changes, others, port_quota=modes.port_quota)
            self._hold_stale(record, now)
            record.config = merged
            record.phase = CONFIGURING if changes and set(changes) <= HTTP_LEVEL_ATTRS else UPDATING
            record.transition_ends_at = now + self._transition
            return self._commit("UpdateListener", values, request_id, {}, now)

    def delete_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """DeleteListener: the listener ``deleting``, then gone."""
        with self._lock:
            now = self._begin()
            record = self._require_listener(str(values["ListenerId"]), now)
            accelerator_id = values.get("AcceleratorId")  # optional; when given it must be the listener's
            if accelerator_id and accelerator_id != record.accelerator_id:
                raise NOT_EXIST_LISTENER.error(
                    f"ListenerId {record.listener_id} is not a listener of {str(accelerator_id)[:80]}."
                )
            replay = self._replay("DeleteListener", values)
            if replay is not None:
                return replay
            self._require_writable(record, now)
            for kind in DEPENDENT_KINDS:
                if record.dependents.get(kind):
                    raise _DEPENDENT_ERRORS[kind].error(
                        f"Listener {record.listener_id} has {record.dependents[kind]}: delete them first."
                    )
            self._hold_stale(record, now)
            record.phase, record.transition_ends_at = DELETING, now + self._transition
            self._world.vanished.add(record.listener_id)
            return self._commit("DeleteListener", values, request_id, {}, now)

    # --- helpers (call with the lock held) ------------------------------------------------------------------

    def _begin(self) -> float:
        now = self._clock()
        self._purge(now)
        return now

    def _purge(self, now: float) -> None:
        for key, record in list(self._world.listeners.items()):
            if record.stale_at(now) is None:
                record.stale = None
                if record.state(now) == GONE:
                    del self._world.listeners[key]
        expired = [key for key, entry in self._world.tokens.items() if now - entry.at > TOKEN_TTL_SECONDS]
        for token_key in expired:
            del self._world.tokens[token_key]

    def _live(self, accelerator_id: str, now: float) -> Iterator[ListenerRecord]:
        for record in self._world.listeners.values():
            if record.accelerator_id == accelerator_id and record.state(now) != GONE:
                yield record

    @staticmethod
    def _read(record: ListenerRecord, now: float) -> ListenerView | None:
        """What a read answers for ``record`` (None: NotExist): nothing during the create lag, the snapshot
        during a visibility lag, else the truth."""
        if now < record.visible_at:
            return None
        stale = record.stale_at(now)
        config, state = (stale.config, ACTIVE) if stale is not None else (record.config, record.state(now))
        if state == GONE:
            return None
        return ListenerView(
            record.listener_id, record.accelerator_id, config, record.create_time_ms, state, record.service_id
        )

    def _require_accelerator(self, accelerator_id: str) -> None:
        if accelerator_id not in self._world.accelerators:
            raise NOT_EXIST_ACCELERATOR.error(f"AcceleratorId {accelerator_id[:80]!r} is unknown.")

    def _existing(self, listener_id: str, now: float) -> ListenerRecord | None:
        """The listener, unless unknown or gone."""
        record = self._world.listeners.get(listener_id)
        return None if record is None or record.state(now) == GONE else record

    def _require_listener(self, listener_id: str, now: float) -> ListenerRecord:
        record = self._existing(listener_id, now)
        if record is None:
            raise NOT_EXIST_LISTENER.error(f"ListenerId {listener_id[:80]!r} is unknown.")
        return record

    def _require_writable(self, record: ListenerRecord, now: float) -> None:
        """Not service-managed, active, and its accelerator idle."""
        if record.service_id is not None:
            raise SERVICE_MANAGED.error(f"Listener {record.listener_id} is managed by {record.service_id[:40]}.")
        state = record.state(now)
        if state != ACTIVE:
            raise LISTENER_NOT_ACTIVE.error(f"Listener {record.listener_id} is {state}.")
        self._require_idle_accelerator(record.accelerator_id, record.listener_id, now)

    def _require_idle_accelerator(self, accelerator_id: str, exclude: str | None, now: float) -> None:
        state = self._world.accelerators[accelerator_id]
        if state != ACTIVE:
            raise ACCELERATOR_STATE_ERROR.error(f"Accelerator {accelerator_id} is {state}.")
        for record in self._live(accelerator_id, now):
            if record.listener_id != exclude and record.state(now) != ACTIVE:
                raise ACCELERATOR_STATE_ERROR.error(
                    f"Listener {record.listener_id} of accelerator {accelerator_id} is {record.state(now)}; "
                    "listener changes on one accelerator run one at a time."
                )

    def _other_ranges(
        self, accelerator_id: str, exclude: str | None, now: float
    ) -> list[tuple[str, tuple[PortRange, ...]]]:
        return [
            (record.listener_id, record.config.port_ranges)
            for record in self._live(accelerator_id, now)
            if record.listener_id != exclude
        ]

    def _hold_stale(self, record: ListenerRecord, now: float) -> None:
        """The visibility lag: reads keep answering the listener as it is before this write."""
        if self._modes.visibility_lag > 0:
            record.stale = StaleView(record.config, now + self._modes.visibility_lag)

    @staticmethod
    def _merge(config: ListenerConfig, changes: Mapping[str, Any], *, reset_omitted: bool) -> ListenerConfig:
        protocol = changes.get("protocol", config.protocol)
        base = switch_protocol(config, protocol) if protocol != config.protocol else config
        merged = dict(changes)
        if reset_omitted and "proxy_protocol" not in merged:
            merged["proxy_protocol"] = False
        if "forwarded_for" in merged:  # a partial object changes only the flags it names, or resets the others
            kept = {} if reset_omitted else dict(base.forwarded_for)
            merged["forwarded_for"] = tuple(sorted({**kept, **dict(merged["forwarded_for"])}.items()))
        return base.replace(**merged)

    def _replay(self, action: str, values: Mapping[str, Any]) -> WriteResult | None:
        token = values.get("ClientToken")
        entry = self._world.tokens.get((action, token)) if token else None
        if entry is None:
            return None
        if entry.fingerprint != fingerprint(values):
            raise IDEMPOTENCE_MISMATCH.error(f"ClientToken {str(token)[:64]!r} was used by another {action}.")
        return WriteResult(entry.request_id, dict(entry.result), replayed=True)

    def _commit(
        self, action: str, values: Mapping[str, Any], request_id: str, result: dict[str, str], now: float
    ) -> WriteResult:
        token = values.get("ClientToken")
        if token:
            self._world.tokens[(action, str(token))] = TokenEntry(fingerprint(values), request_id, result, now)
        self._save(now)
        return WriteResult(request_id, result)

    def _save(self, now: float) -> None:
        if self._state_path is not None:
            save_atomic(self._state_path, self._world.to_json(now))
