"""The emulated service's state and behaviour, with no HTTP: accelerators, listeners, ClientTokens, rules.

Every write runs under one lock, in the contract's order: the listener/accelerator exists -> ClientToken
replay (same action, token and parameters: the original answer, nothing changes; other parameters:
IdempotenceParamNotMatch) -> the listener is active (NotActive.Listener) -> no other listener of the
accelerator is changing and the accelerator is active (StateError.Accelerator) -> the rules on the merged
configuration -> apply, remember the token, save the state file. So exactly one change per accelerator runs at
a time, as on the real service, however many threads call. The clock is injected; states are derived from it
on every access.
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
    IDEMPOTENCE_MISMATCH,
    LISTENER_NOT_ACTIVE,
    NOT_EXIST_ACCELERATOR,
    NOT_EXIST_LISTENER,
    EmulatorError,
)
from ga_emulator.model import (
    ACTIVE,
    DELETING,
    GONE,
    INIT,
    UPDATING,
    ListenerConfig,
    ListenerRecord,
    ListenerSeed,
    PortRange,
    default_config,
    switch_protocol,
)
from ga_emulator.params import config_changes, fingerprint
from ga_emulator.rules import validate_config
from ga_emulator.store import TokenEntry, World, read_state, save_atomic

__all__ = ["TOKEN_TTL_SECONDS", "Backend", "ListenerView", "WriteResult"]

TOKEN_TTL_SECONDS = 24 * 3600.0
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class WriteResult:
    """What a write answers: its RequestId (the original one on a replay) and result fields."""

    request_id: str
    result: Mapping[str, str]
    replayed: bool = False


@dataclass(frozen=True)
class ListenerView:
    """A listener as read at one instant (a copy: safe to render outside the lock)."""

    listener_id: str
    accelerator_id: str
    config: ListenerConfig
    create_time_ms: int
    state: str


def _random_listener_id() -> str:
    return "lsr-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class Backend:
    """State and rules of the emulated Global Accelerator API (thread-safe)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        transition_seconds: float = 1.0,
        state_path: Path | None = None,
        id_factory: Callable[[], str] = _random_listener_id,
    ) -> None:
        self._clock = clock
        self._transition = transition_seconds
        self._state_path = state_path
        self._new_id = id_factory
        self._lock = threading.Lock()
        self._world = World()
        self.loaded_from_state = False
        """True when the world came from an existing ``state_path`` file."""
        if state_path is not None:
            loaded = read_state(state_path)
            if loaded is not None:
                self._world = loaded
                self.loaded_from_state = True

    # --- seeding ------------------------------------------------------------------------------------------

    def add_accelerator(self, accelerator_id: str, state: str = ACTIVE) -> None:
        """Add an accelerator unless it exists (an existing one keeps its listeners and state)."""
        with self._lock:
            if accelerator_id not in self._world.accelerators:
                self._world.accelerators[accelerator_id] = state
                self._save(self._clock())

    def set_accelerator_state(self, accelerator_id: str, state: str) -> None:
        """Set an accelerator's state (any but ``active`` makes writes answer StateError.Accelerator)."""
        with self._lock:
            self._world.accelerators[accelerator_id] = state
            self._save(self._clock())

    def seed_listener(self, seed: ListenerSeed) -> None:
        """Create an active listener unless its id exists; raises ValueError if the seed breaks a rule."""
        with self._lock:
            now = self._clock()
            if seed.listener_id in self._world.listeners:
                return
            self._world.accelerators.setdefault(seed.accelerator_id, ACTIVE)
            config = default_config(seed.protocol).replace(port_ranges=seed.port_ranges)
            try:
                validate_config(config, (), self._other_ranges(seed.accelerator_id, None, now))
            except EmulatorError as exc:
                raise ValueError(f"listener seed {seed.listener_id}: {exc.code}: {exc.message}") from exc
            self._world.listeners[seed.listener_id] = ListenerRecord(
                seed.listener_id, seed.accelerator_id, config, int(now * 1000)
            )
            self._save(now)

    # --- reads --------------------------------------------------------------------------------------------

    def describe_listener(self, listener_id: str) -> ListenerView:
        """The listener now; NotExist.Listener when unknown or gone."""
        with self._lock:
            now = self._clock()
            return self._view(self._require_listener(listener_id, now), now)

    def list_listeners(self, accelerator_id: str, protocol: str | None = None) -> list[ListenerView]:
        """The accelerator's listeners in creation order, optionally of one protocol; NotExist.Accelerator."""
        with self._lock:
            now = self._clock()
            self._require_accelerator(accelerator_id)
            views = [self._view(record, now) for record in self._live(accelerator_id, now)]
        return [view for view in views if protocol is None or view.config.protocol == protocol]

    def snapshot(self) -> dict[str, Any]:
        """The whole world as the state file stores it, with each listener's current State."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            return self._world.to_json(now)

    # --- writes -------------------------------------------------------------------------------------------

    def create_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """CreateListener: a new listener in ``init``; its ListenerId is in the result."""
        with self._lock:
            now = self._begin()
            accelerator_id = str(values["AcceleratorId"])
            self._require_accelerator(accelerator_id)
            replay = self._replay("CreateListener", values)
            if replay is not None:
                return replay
            self._require_idle_accelerator(accelerator_id, None, now)
            changes = config_changes(values)
            config = default_config(changes.get("protocol", "tcp")).replace(**changes)
            validate_config(config, changes, self._other_ranges(accelerator_id, None, now))
            listener_id = self._new_id()
            self._world.listeners[listener_id] = ListenerRecord(
                listener_id, accelerator_id, config, int(now * 1000), INIT, now + self._transition
            )
            return self._commit("CreateListener", values, request_id, {"ListenerId": listener_id}, now)

    def update_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """UpdateListener: the merged configuration, listener ``updating``."""
        with self._lock:
            now = self._begin()
            record = self._require_listener(str(values["ListenerId"]), now)
            replay = self._replay("UpdateListener", values)
            if replay is not None:
                return replay
            self._require_active(record, now)
            self._require_idle_accelerator(record.accelerator_id, record.listener_id, now)
            changes = config_changes(values)
            merged = self._merge(record.config, changes)
            validate_config(merged, changes, self._other_ranges(record.accelerator_id, record.listener_id, now))
            record.config = merged
            record.phase, record.transition_ends_at = UPDATING, now + self._transition
            return self._commit("UpdateListener", values, request_id, {}, now)

    def delete_listener(self, values: Mapping[str, Any], request_id: str) -> WriteResult:
        """DeleteListener: the listener ``deleting``, then gone."""
        with self._lock:
            now = self._begin()
            record = self._require_listener(str(values["ListenerId"]), now)
            self._require_accelerator(str(values["AcceleratorId"]))  # a required parameter (see params.py)
            if values["AcceleratorId"] != record.accelerator_id:
                raise NOT_EXIST_LISTENER.error(
                    f"ListenerId {record.listener_id} is not a listener of {values['AcceleratorId']}."
                )
            replay = self._replay("DeleteListener", values)
            if replay is not None:
                return replay
            self._require_active(record, now)
            self._require_idle_accelerator(record.accelerator_id, record.listener_id, now)
            record.phase, record.transition_ends_at = DELETING, now + self._transition
            return self._commit("DeleteListener", values, request_id, {}, now)

    # --- helpers (call with the lock held) ------------------------------------------------------------------

    def _begin(self) -> float:
        now = self._clock()
        self._purge(now)
        return now

    def _purge(self, now: float) -> None:
        gone = [key for key, record in self._world.listeners.items() if record.state(now) == GONE]
        for key in gone:
            del self._world.listeners[key]
        expired = [key for key, entry in self._world.tokens.items() if now - entry.at > TOKEN_TTL_SECONDS]
        for token_key in expired:
            del self._world.tokens[token_key]

    def _live(self, accelerator_id: str, now: float) -> Iterator[ListenerRecord]:
        for record in self._world.listeners.values():
            if record.accelerator_id == accelerator_id and record.state(now) != GONE:
                yield record

    def _view(self, record: ListenerRecord, now: float) -> ListenerView:
        return ListenerView(
            record.listener_id, record.accelerator_id, record.config, record.create_time_ms, record.state(now)
        )

    def _require_accelerator(self, accelerator_id: str) -> None:
        if accelerator_id not in self._world.accelerators:
            raise NOT_EXIST_ACCELERATOR.error(f"AcceleratorId {accelerator_id[:80]!r} is unknown.")

    def _require_listener(self, listener_id: str, now: float) -> ListenerRecord:
        record = self._world.listeners.get(listener_id)
        if record is None or record.state(now) == GONE:
            raise NOT_EXIST_LISTENER.error(f"ListenerId {listener_id[:80]!r} is unknown.")
        return record

    def _require_active(self, record: ListenerRecord, now: float) -> None:
        state = record.state(now)
        if state != ACTIVE:
            raise LISTENER_NOT_ACTIVE.error(f"Listener {record.listener_id} is {state}.")

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

    @staticmethod
    def _merge(config: ListenerConfig, changes: dict[str, Any]) -> ListenerConfig:
        protocol = changes.get("protocol", config.protocol)
        base = switch_protocol(config, protocol) if protocol != config.protocol else config
        if "forwarded_for" in changes:  # a partial X-Forwarded-For object changes only the switches it names
            changes["forwarded_for"] = tuple(
                sorted({**dict(base.forwarded_for), **dict(changes["forwarded_for"])}.items())
            )
        return base.replace(**changes)

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
