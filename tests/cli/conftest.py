"""Fixtures of the real-CLI suite: the pinned CLI (a failure, never a skip, when it cannot be had), one emulator
and one file backend for the whole suite, a fresh accelerator and a stack of its own for each case."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ga_emulator.server import EmulatorServer
from ga_emulator.sts import StsOptions
from scripts import pulumi_cli
from tests.cli.support import DEMO_ID, DEMO_SECRET, PROGRAM, Cli, Stack, wait_for
from tests.support.peers import official_client

ROLE = "acs:ram::1234567890123456:role/ga-deployer"
SECRET_PAIR = ("cli-suite-key", "cli-suite-secret-Wq4-do-not-leak")  # set with `pulumi config set --secret`
TRANSITION = 0.3  # seconds in init/updating/deleting: short, so the suite stays within its budget
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pulumi_path() -> Path:
    """The pinned CLI, found, installed or built (minutes on a cold machine); the suite fails without it."""
    try:
        return pulumi_cli.find_or_provide("the real-CLI tests", exact=True)
    except pulumi_cli.StepFailed as error:
        pytest.fail(f"the real-CLI suite (tests/cli) needs the Pulumi CLI v{pulumi_cli.pinned_version()}:\n{error}",
                    pytrace=False)


@pytest.fixture(scope="session")
def cli_emulator() -> Iterator[EmulatorServer]:
    """One emulator for the suite, with STS for the credential case; each case takes its own accelerator."""
    with EmulatorServer(credentials=[(DEMO_ID, DEMO_SECRET, None), (*SECRET_PAIR, None)], accelerators=["ga-cli-spare"],
                        transition_seconds=TRANSITION, sts=StsOptions(roles=[ROLE])) as server:
        yield server


@pytest.fixture(scope="session")
def cli(pulumi_path: Path, cli_emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(pulumi_path, tmp_path_factory.mktemp("cli"), cli_emulator.url)


@pytest.fixture
def emulator(cli_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The suite's emulator with its call record cleared; any mode a case changes is put back after it."""
    modes = requests.get(f"{cli_emulator.url}/_emulator/modes", timeout=10).json()
    cli_emulator.calls.clear()
    yield cli_emulator
    requests.post(f"{cli_emulator.url}/_emulator/modes", json=modes, timeout=10).raise_for_status()


@pytest.fixture
def accelerator(emulator: EmulatorServer, request: pytest.FixtureRequest) -> str:
    """A new, empty accelerator for this case."""
    accelerator_id = f"ga-{re.sub(r'[^a-z0-9]', '', request.node.name.lower())[:24]}-{next(_numbers)}"
    answer = requests.post(f"{emulator.url}/_emulator/accelerators", json={"accelerator_id": accelerator_id},
                           timeout=10)
    answer.raise_for_status()
    return accelerator_id


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(cli: Cli, request: pytest.FixtureRequest) -> StackFactory:
    """``make_stack(config, source=PROGRAM, suffix="")``: a stack of its own for this case."""

    def make(config: dict[str, Any], source: Path = PROGRAM, suffix: str = "", **kwargs: Any) -> Stack:
        name = f"{re.sub(r'[^a-z0-9]', '', request.node.name.lower())[:40]}{suffix}{next(_numbers)}"
        return cli.stack(name, config, source, **kwargs)

    return make


def live_listeners(emulator: EmulatorServer, accelerator_id: str) -> list[Any]:
    """The accelerator's listeners as the official SDK lists them (an independent client of the emulator)."""
    from alibabacloud_ga20191120 import models

    client = official_client(emulator, key_id=DEMO_ID, secret=DEMO_SECRET)
    request = models.ListListenersRequest(region_id="cn-hangzhou", accelerator_id=accelerator_id, page_size=50)
    return list(client.list_listeners(request).body.listeners or [])


def writes(emulator: EmulatorServer, action: str | None = None) -> list[str]:
    """The write calls the emulator answered since the case began (or only those of ``action``)."""
    names = {"CreateListener", "UpdateListener", "DeleteListener"} if action is None else {action}
    return [record.action for record in emulator.calls if record.action in names]


def official(emulator: EmulatorServer) -> Any:
    return official_client(emulator, key_id=DEMO_ID, secret=DEMO_SECRET)


def describe(emulator: EmulatorServer, listener_id: str) -> Any:
    """The listener as the official SDK reads it."""
    from alibabacloud_ga20191120 import models

    return official(emulator).describe_listener(
        models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id=listener_id)).body


def wait_active(emulator: EmulatorServer, listener_id: str) -> Any:
    """Poll (official SDK) until the listener is active; its description."""
    found: list[Any] = []

    def active() -> bool:
        found[:] = [describe(emulator, listener_id)]
        return bool(found[0].state == "active")

    wait_for(active, 30, f"{listener_id} to be active")
    return found[0]


def seed_listener(emulator: EmulatorServer, accelerator_id: str, port: int, name: str = "seeded") -> str:
    """A tcp listener made behind any stack's back (official SDK), active; its id."""
    from alibabacloud_ga20191120 import models

    request = models.CreateListenerRequest(
        region_id="cn-hangzhou", accelerator_id=accelerator_id, protocol="tcp", name=name,
        port_ranges=[models.CreateListenerRequestPortRanges(from_port=port, to_port=port)])
    listener_id = str(official(emulator).create_listener(request).body.listener_id)
    wait_active(emulator, listener_id)
    return listener_id


def rename_out_of_band(emulator: EmulatorServer, listener_id: str, name: str) -> None:
    """A change made in the console, as it were: UpdateListener through the official SDK, waited out."""
    from alibabacloud_ga20191120 import models

    official(emulator).update_listener(models.UpdateListenerRequest(region_id="cn-hangzhou", listener_id=listener_id,
                                                                    name=name))
    wait_for(lambda: describe(emulator, listener_id).name == name and
             describe(emulator, listener_id).state == "active", 30, f"{listener_id} renamed")
