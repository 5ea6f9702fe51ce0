"""The emulator's run-time switches: quotas, read lags and behaviours the real service may or may not have.

Modes are flags, not world: they are never saved in the ``--state`` file. Each is an ``EmulatorServer`` keyword,
a CLI flag of ``python -m ga_emulator`` and a key of the ``/_emulator/modes`` admin endpoint; the defaults keep
the first emulator's behaviour.

* ``port_quota`` (30): ports per listener (``QuotaExceeded.ListenerPort``);
* ``listener_quota`` (50): listeners per accelerator (``QuotaExceeded.Listener`` on CreateListener);
* ``create_lag`` (0 s): after a CreateListener, reads do not see the new listener for that long;
* ``visibility_lag`` (0 s): after an UpdateListener or DeleteListener, reads answer the listener as it was
  before the write (``active``, old configuration) for that long;
* ``reset_omitted`` (off): an UpdateListener without ProxyProtocol resets it to false, and one with an
  XForwardedForConfig resets the flags it leaves out to false;
* ``vanished_unknown_error`` (off): DescribeListener of a deleted listener answers HTTP 500 ``UnknownError``;
* ``deleted_accelerator_unknown_error`` (off): DescribeListener of a listener whose accelerator was deleted (the
  ``DELETE /_emulator/accelerators`` admin call) answers HTTP 500 ``UnknownError`` instead of ``NotExist.Listener``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_LISTENER_QUOTA", "DEFAULT_PORT_QUOTA", "Modes"]

DEFAULT_PORT_QUOTA = 30
DEFAULT_LISTENER_QUOTA = 50
_MAX_LAG = 3600.0


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return value


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if not 0.0 <= value <= _MAX_LAG:
        raise ValueError(f"{name} must be within 0..{_MAX_LAG:.0f} seconds, got {value!r}")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "port_quota": _count,
    "listener_quota": _count,
    "create_lag": _seconds,
    "visibility_lag": _seconds,
    "reset_omitted": _flag,
    "vanished_unknown_error": _flag,
    "deleted_accelerator_unknown_error": _flag,
}


@dataclass(frozen=True)
class Modes:
    """The switches (see the module docstring); built through :meth:`updated`, which validates."""

    port_quota: int = DEFAULT_PORT_QUOTA
    listener_quota: int = DEFAULT_LISTENER_QUOTA
    create_lag: float = 0.0
    visibility_lag: float = 0.0
    reset_omitted: bool = False
    vanished_unknown_error: bool = False
    deleted_accelerator_unknown_error: bool = False

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            check(name, getattr(self, name))

    def updated(self, changes: Mapping[str, Any]) -> Modes:
        """A copy with ``changes`` (any subset of the mode names) applied; ValueError names a bad key or value."""
        unknown = sorted(set(changes) - set(_CHECKS))
        if unknown:
            raise ValueError(f"unknown mode {unknown[0]!r}; expected some of {', '.join(_CHECKS)}")
        checked: dict[str, Any] = {name: _CHECKS[name](name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **checked)

    def to_json(self) -> dict[str, Any]:
        """The modes as ``/_emulator/modes`` answers them."""
        return dataclasses.asdict(self)
