"""Seeding and test hooks of the backend: what the CLI flags and the ``/_emulator/...`` admin endpoints change
in the world (accelerators and their bandwidth packages, seeded listeners, endpoint groups, forwarding rules,
service-managed flags). None of it is reachable through the GA API itself.

:class:`WorldHooks` is a mixin of :class:`~ga_emulator.backend.Backend`: it works on the backend's world under
the backend's lock and saves the state file like any write. Unknown listeners raise ValueError (the CLI exits 2,
an admin endpoint answers 400).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ga_emulator.errors import EmulatorError
from ga_emulator.model import ACTIVE, DEPENDENT_KINDS, ListenerRecord, ListenerSeed, PortRange, default_config
from ga_emulator.modes import Modes
from ga_emulator.rules import validate_config
from ga_emulator.store import World

__all__ = ["AcceleratorView", "WorldHooks"]


@dataclass(frozen=True)
class AcceleratorView:
    """An accelerator as the admin endpoints show it."""

    accelerator_id: str
    state: str
    basic_bandwidth_package: bool


class WorldHooks:
    """Seeding and test hooks over the backend's world (thread-safe: every method takes the backend's lock)."""

    _lock: threading.Lock
    _world: World
    _clock: Callable[[], float]
    _modes: Modes

    def _save(self, now: float) -> None:
        raise NotImplementedError

    def _other_ranges(
        self, accelerator_id: str, exclude: str | None, now: float
    ) -> list[tuple[str, tuple[PortRange, ...]]]:
        raise NotImplementedError

    def _existing(self, listener_id: str, now: float) -> ListenerRecord | None:
        raise NotImplementedError

    def add_accelerator(self, accelerator_id: str, state: str = ACTIVE) -> None:
        """Add an accelerator unless it exists (an existing one keeps its listeners and state)."""
        with self._lock:
            if accelerator_id not in self._world.accelerators:
                self._world.accelerators[accelerator_id] = state
                self._save(self._clock())

    def set_accelerator_state(self, accelerator_id: str, state: str) -> None:
        """Set an accelerator's state (any but ``active`` makes writes answer StateError.Accelerator)."""
        self.configure_accelerator(accelerator_id, state=state)

    def configure_accelerator(
        self, accelerator_id: str, *, state: str | None = None, basic_bandwidth_package: bool | None = None
    ) -> AcceleratorView:
        """Create the accelerator if missing (active, with a package), then set what is given.

        Without a basic bandwidth package CreateListener answers NotExist.BasicBandwidthPackage.
        """
        if not accelerator_id or (state is not None and not state):
            raise ValueError("an accelerator needs an id, and a state is never empty")
        with self._lock:
            world = self._world
            world.accelerators.setdefault(accelerator_id, ACTIVE)
            if state is not None:
                world.accelerators[accelerator_id] = state
            if basic_bandwidth_package is not None:
                (world.without_bandwidth_package.discard if basic_bandwidth_package
                 else world.without_bandwidth_package.add)(accelerator_id)  # fmt: skip
            self._save(self._clock())
            return self._accelerator_view(accelerator_id)

    def delete_accelerator(self, accelerator_id: str) -> list[str]:
        """Delete an accelerator and, with it, its listeners (at once, whatever their state); returns their ids.
        ValueError for an unknown accelerator. What DescribeListener then answers for them is the
        ``deleted_accelerator_unknown_error`` mode's reading."""
        with self._lock:
            world = self._world
            if accelerator_id not in world.accelerators:
                raise ValueError(f"no accelerator {accelerator_id[:80]!r}")
            gone = [key for key, record in world.listeners.items() if record.accelerator_id == accelerator_id]
            for key in gone:
                del world.listeners[key]
            world.orphaned.update(gone)
            del world.accelerators[accelerator_id]
            world.without_bandwidth_package.discard(accelerator_id)
            self._save(self._clock())
            return gone

    def accelerators(self) -> list[AcceleratorView]:
        """Every accelerator, by id."""
        with self._lock:
            return [self._accelerator_view(key) for key in sorted(self._world.accelerators)]

    def seed_listener(self, seed: ListenerSeed) -> None:
        """Create an active listener unless its id exists; raises ValueError if the seed breaks a rule."""
        with self._lock:
            now = self._clock()
            if seed.listener_id in self._world.listeners:
                return
            self._world.accelerators.setdefault(seed.accelerator_id, ACTIVE)
            config = default_config(seed.protocol).replace(port_ranges=seed.port_ranges)
            try:
                validate_config(config, (), self._other_ranges(seed.accelerator_id, None, now),
                                port_quota=self._modes.port_quota)  # fmt: skip
            except EmulatorError as exc:
                raise ValueError(f"listener seed {seed.listener_id}: {exc.code}: {exc.message}") from exc
            self._world.listeners[seed.listener_id] = ListenerRecord(
                seed.listener_id, seed.accelerator_id, config, int(now * 1000)
            )
            self._world.vanished.discard(seed.listener_id)
            self._world.orphaned.discard(seed.listener_id)
            self._save(now)

    def attach(self, listener_id: str, kind: str, count: int = 1, *, at_least: bool = False) -> int:
        """Hang ``count`` more endpoint groups or forwarding rules (``kind``) off a listener, or with
        ``at_least`` make sure it has that many; returns how many it has. ValueError for an unknown listener."""
        if kind not in DEPENDENT_KINDS or count < 0:
            raise ValueError(f"cannot attach {count} {kind}")
        with self._lock:
            record = self._known(listener_id)
            current = record.dependents.get(kind, 0)
            record.dependents[kind] = max(current, count) if at_least else current + count
            self._save(self._clock())
            return record.dependents[kind]

    def detach(self, listener_id: str, kind: str, count: int | None = None) -> int:
        """Remove ``count`` (default: all) endpoint groups or forwarding rules from a listener; returns how many
        are left. ValueError for an unknown listener."""
        if kind not in DEPENDENT_KINDS or (count is not None and count < 0):
            raise ValueError(f"cannot detach {count} {kind}")
        with self._lock:
            record = self._known(listener_id)
            left = 0 if count is None else max(0, record.dependents.get(kind, 0) - count)
            record.dependents[kind] = left
            self._save(self._clock())
            return left

    def dependents(self, kind: str) -> dict[str, int]:
        """Listener id -> how many endpoint groups or forwarding rules (``kind``) it has (none left out)."""
        with self._lock:
            return {key: record.dependents[kind] for key, record in self._world.listeners.items()
                    if record.dependents.get(kind)}  # fmt: skip

    def set_service_managed(self, listener_id: str, service_id: str | None) -> None:
        """Make a cloud service (``service_id``, e.g. ``ALB``) manage the listener, or the user (None): a managed
        listener refuses UpdateListener and DeleteListener. ValueError for an unknown listener."""
        if service_id is not None and not service_id:
            raise ValueError("a service id is never empty")
        with self._lock:
            self._known(listener_id).service_id = service_id
            self._save(self._clock())

    def service_managed(self) -> dict[str, str]:
        """Listener id -> the service managing it."""
        with self._lock:
            return {key: record.service_id for key, record in self._world.listeners.items() if record.service_id}

    def _accelerator_view(self, accelerator_id: str) -> AcceleratorView:
        world = self._world
        return AcceleratorView(
            accelerator_id, world.accelerators[accelerator_id], accelerator_id not in world.without_bandwidth_package
        )

    def _known(self, listener_id: str) -> ListenerRecord:
        record = self._existing(listener_id, self._clock())
        if record is None:
            raise ValueError(f"no listener {listener_id[:80]!r} (unknown or deleted)")
        return record
