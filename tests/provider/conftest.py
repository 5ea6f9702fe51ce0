"""Fixtures for driving the real provider host against the real emulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, SEEDS, TRANSITION
from tests.support.provider_host import Engine


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        port=0, credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1", "ga-2"], listeners=SEEDS,
        transition_seconds=TRANSITION,
    )
    with server:
        yield server


@pytest.fixture
def engine(emulator: EmulatorServer) -> Engine:
    return Engine.for_endpoint(emulator.url, KEY_ID, SECRET)

