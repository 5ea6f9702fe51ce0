"""Fixtures for the emulator's tests: ``emulator`` (a started EmulatorServer: demo key pair plus an STS
credential, accelerator ga-demo with tcp listener lsr-demo on port 80, 0.1 s transitions) and ``official``
(Alibaba's official SDK client for it, parametrised over both signature versions). ``RawClient`` in support.py
signs with ga_listener.transport.signing with every knob exposed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, official_client

TRANSITION = 0.1
@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A started emulator: the default world (ga-demo holding lsr-demo, tcp 80) and 0.1 s transitions."""
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=TRANSITION) as server:
        yield server


@pytest.fixture(params=["v3", "v1"])
def signature_version(request: pytest.FixtureRequest) -> str:
    """Both signature versions the official SDK can send."""
    return str(request.param)


@pytest.fixture
def official(emulator: EmulatorServer, signature_version: str) -> Client:
    """The official SDK client for ``emulator``, signing with ``signature_version``."""
    return official_client(emulator, signature_version)

