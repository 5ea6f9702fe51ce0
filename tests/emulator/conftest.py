"""Fixtures for the emulator's tests: a started emulator with short transitions and clients pointed at it.

Generally useful (the lead may lift them): ``emulator`` (a started EmulatorServer: demo key pair plus an STS
credential, accelerator ga-demo with tcp listener lsr-demo on port 80, 0.1 s transitions), ``official``
(Alibaba's official SDK client for it, parametrised over both signature versions) and ``raw`` (a client
signing with ga_listener.signing, every knob exposed).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, RawClient, official_client

TRANSITION = 0.1
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The official SDK reads proxy variables on every call: loopback traffic must never leave the machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


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


@pytest.fixture
def raw(emulator: EmulatorServer) -> RawClient:
    """A raw signed client (demo key pair) for ``emulator``."""
    return RawClient(emulator)
