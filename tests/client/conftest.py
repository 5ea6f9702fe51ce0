"""Fixtures of the client tests: a scripted loopback server and client factories (the root conftest scrubs
the environment)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ga_listener.api.client import GaClient, RetryPolicy
from tests.client.scripted_server import ScriptedServer
from tests.support.clock import FakeClock

KEY_ID = "test-key-id-0001"
SECRET = "S3cr3t/+=&*~ Ünïcødé-秘密-🔑"
TOKEN = "STS.T0k3n/+==sessi0n&x y~*"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


MakeClient = Callable[..., GaClient]


@pytest.fixture
def make_client(server: ScriptedServer, fake_clock: FakeClock) -> Iterator[MakeClient]:
    """Build clients on the scripted server with a fake clock/sleep, fixed jitter and a quick policy."""
    made: list[GaClient] = []

    def factory(**overrides: Any) -> GaClient:
        options: dict[str, Any] = {
            "access_key_id": KEY_ID,
            "access_key_secret": SECRET,
            "clock": fake_clock,
            "sleep": fake_clock.sleep,
            "random": lambda: 0.5,
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "retry": RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=1.0, total_timeout=30.0),
        }
        options.update(overrides)
        client = GaClient(options.pop("endpoint", server.url), **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()
