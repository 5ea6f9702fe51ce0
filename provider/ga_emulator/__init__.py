"""ga-emulator: a local Alibaba Cloud Global Accelerator API (listeners) for offline previews, demos and CI.

Run it with ``python -m ga_emulator`` (or ``ga-emulator``), or in-process::

    from ga_emulator import EmulatorServer

    with EmulatorServer(transition_seconds=0.1) as emulator:
        ...  # point a client at emulator.url with the demo key pair ga-demo-key-id / ga-demo-key-secret

Only the standard library and :mod:`ga_listener.transport.signing` (pure functions) are used.
"""

from __future__ import annotations

from ga_emulator.api import CallRecord
from ga_emulator.auth import DEMO_CREDENTIAL, Credential
from ga_emulator.model import ListenerSeed, PortRange
from ga_emulator.server import EmulatorServer

__all__ = ["DEMO_CREDENTIAL", "CallRecord", "Credential", "EmulatorServer", "ListenerSeed", "PortRange"]
