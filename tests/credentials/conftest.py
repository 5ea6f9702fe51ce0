"""Fixtures of the credential tests: an emulator whose STS, metadata service and credentials URI are on, and the
names every test shares (the root conftest scrubs the environment and HOME)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from ga_emulator.sts import StsOptions
from tests.client.scripted_server import ScriptedServer
from tests.support.provider_host import Engine

BASE_ID, BASE_SECRET = "base-key-id-0001", "base/Secret+Value=&do-not-leak"
ROLE = "acs:ram::1234567890123456:role/deployer"
OTHER_ROLE = "acs:ram::1234567890123456:role/auditor"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/github-actions"
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.oidc+token/value==&do-not-leak"
ECS_ROLE = "ecs-deployer"
GA_ACTIONS = frozenset({"DescribeListener", "UpdateListener", "ListListeners", "CreateListener", "DeleteListener"})
POLICY = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ga:*Listener*","Resource":"*"}]}'
WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                       "name": "changed"}
KEYS = {"alicloud:accessKey": BASE_ID, "alicloud:secretKey": BASE_SECRET}
ENV_KEYS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": BASE_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": BASE_SECRET}


def sts_options(**overrides: Any) -> StsOptions:
    """Every credential service on, accepting the names above."""
    options: dict[str, Any] = {"roles": (ROLE, OTHER_ROLE), "oidc_providers": (OIDC_PROVIDER,),
                               "oidc_tokens": (OIDC_TOKEN,), "ecs_role": ECS_ROLE, "credentials_uri": True}
    options.update(overrides)
    return StsOptions(**options)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        port=0, credentials=[(BASE_ID, BASE_SECRET, None)], accelerators=["ga-1"],
        listeners=["ga-1:lsr-web:tcp:80-80", "ga-1:lsr-api:tcp:9000-9000"], transition_seconds=0.3,
        sts=sts_options(),
    )
    with server:
        yield server


class ShiftedClock:
    """The emulator's wall clock, moved ahead by ``offset`` seconds: credentials expire without a test sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def shifted() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def short_lived(shifted: ShiftedClock) -> Iterator[EmulatorServer]:
    """An emulator on the ``shifted`` clock whose issued credentials live 60 s (move the clock to expire them;
    its 15-minute timestamp tolerance absorbs the shift)."""
    server = EmulatorServer(port=0, credentials=[(BASE_ID, BASE_SECRET, None)], accelerators=["ga-1"],
                            listeners=["ga-1:lsr-web:tcp:80-80"], sts=sts_options(duration=60), clock=shifted)
    with server:
        yield server


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A loopback server answering from a script (for answers the emulator never gives)."""
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "oidc-token"
    path.write_text(OIDC_TOKEN + "\n", encoding="utf-8")
    return path


def write_profiles(path: Path, profiles: list[dict[str, Any]], current: str = "default") -> Path:
    path.write_text(json.dumps({"current": current, "profiles": profiles}), encoding="utf-8")
    return path


def issued_origins(emulator: EmulatorServer) -> dict[str, str]:
    """Issued access key id -> who issued it (AssumeRole, AssumeRoleWithOIDC, ecs, uri)."""
    assert emulator.sts is not None
    return {item.credential.access_key_id: item.origin for item in emulator.sts.issuer.issued}


def ga_signers(emulator: EmulatorServer) -> list[str | None]:
    """The access key ids that signed GA calls, in order."""
    return [record.access_key_id for record in emulator.calls if record.action in GA_ACTIONS]


class CountingListener:
    """A loopback port that counts the connections made to it (a stand-in for 100.100.100.200 or STS)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        time.sleep(0.1)  # let a connection in flight be counted
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    counting = CountingListener()
    yield counting
    counting.close()


def engine_for(emulator: EmulatorServer, config: dict[str, str], env: dict[str, str] | None = None) -> Engine:
    """An engine whose stack points the provider at the emulator (GA calls) with ``config`` and ``env``."""
    return Engine(config={"ga-listener:endpoint": emulator.url, "ga-listener:waitTimeout": "30", **config},
                  env=env or {})


def calls_of(emulator: EmulatorServer, action: str) -> list[Any]:
    """The emulator's records of ``action``, in order."""
    return [record for record in emulator.calls if record.action == action]


def assert_signed_by(emulator: EmulatorServer, origin: str) -> list[str | None]:
    """The listener changed, and every GA call was signed by credentials ``origin`` issued."""
    assert emulator.backend.describe_listener("lsr-web").config.name == "changed"
    signers, issued = ga_signers(emulator), issued_origins(emulator)
    assert "UpdateListener" in [record.action for record in emulator.calls]
    assert signers and {issued.get(signer or "") for signer in signers} == {origin}, (signers, issued)
    return signers


def assumed_with(emulator: EmulatorServer) -> set[str | None]:
    """Who signed the AssumeRole calls."""
    return {record.access_key_id for record in calls_of(emulator, "AssumeRole")}


@pytest.fixture
def proxy() -> Iterator[ScriptedServer]:
    """A loopback HTTPS proxy that records where each tunnel was asked to go and refuses it: tells which public
    host a request was meant for without any name lookup or traffic leaving the machine."""
    with ScriptedServer() as scripted:
        yield scripted


def tunnels(proxy: ScriptedServer) -> list[str]:
    """The ``host:port`` of every tunnel the proxy was asked for, in order."""
    return [request.path for request in proxy.requests if request.method == "CONNECT"]
