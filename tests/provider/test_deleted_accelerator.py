"""A listener whose accelerator was deleted is gone: refresh drops it, destroy is done (through the real host).

Which answer DescribeListener then gives is not public: ``NotExist.Listener``, or ``UnknownError`` (which the
provider confirms with ListListeners on the accelerator, answering ``NotExist.Accelerator``). Each test runs
under both readings (the emulator's ``deleted_accelerator_unknown_error`` mode).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, TRANSITION, writes
from tests.support.provider_host import Engine

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                       "name": "ours"}
API: dict[str, Any] = {"accelerator_id": "ga-1", "protocol": "tcp", "name": "api",
                       "port_ranges": [{"from_port": 8080, "to_port": 8080}],
                       "resource_key": "ga-listener-demo/dev/api"}


@pytest.fixture(params=[False, True], ids=["not-exist-listener", "unknown-error"])
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    seeds = ["ga-1:lsr-web:tcp:80-80", "ga-1:lsr-a:tcp:81-81", "ga-1:lsr-b:tcp:82-82"]
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=seeds,
                            transition_seconds=TRANSITION,
                            deleted_accelerator_unknown_error=request.param)
    with server:
        yield server


def delete_accelerator(emulator: EmulatorServer, accelerator_id: str) -> list[str]:
    """The admin call, over HTTP."""
    request = urllib.request.Request(f"{emulator.url}/_emulator/accelerators", method="DELETE",
                                     data=json.dumps({"accelerator_id": accelerator_id}).encode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        listeners: list[str] = json.loads(answer.read())["listeners"]
    return listeners


def test_refresh_and_destroy_treat_a_listener_whose_accelerator_was_deleted_as_gone(emulator: EmulatorServer) -> None:
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
    resources = {"restored": {**WEB, "on_delete": "restore"}, "refreshed": {**WEB, "listener_id": "lsr-a",
                 "port_ranges": [{"from_port": 81, "to_port": 81}]}, "deleted": {**WEB, "listener_id": "lsr-b",
                 "port_ranges": [{"from_port": 82, "to_port": 82}], "on_delete": "delete"}, "created": API}
    engine.deploy(resources)
    gone = delete_accelerator(emulator, "ga-1")
    assert sorted(gone) == sorted(state.id for state in engine.state.values())
    emulator.calls.clear()

    assert engine.refresh("refreshed") is None and "refreshed" not in engine.state
    for name in ("restored", "deleted", "created"):
        engine.destroy(name)
    assert engine.state == {}
    assert writes(emulator) == [] and writes(emulator, "DeleteListener") == []
