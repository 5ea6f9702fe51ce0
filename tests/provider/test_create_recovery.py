"""Creates that meet a crash, a slow or fast service, or a listener the resource made before (through the real host,
against the emulator): never a second listener, never a listener left unrecorded, never a listener someone else
manages taken over as created.

A create's ClientToken only ever tells the provider which listener the resource's create made; whether it is
fresh, an interrupted create's or one made long ago is read from the service's answers, never from timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ga_emulator.api import CallRecord
from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, live, writes
from tests.reliability.support import in_thread, wait_for
from tests.support.provider_host import Engine, ProviderError

API: dict[str, Any] = {"accelerator_id": "ga-1", "protocol": "tcp", "name": "api",
                       "port_ranges": [{"from_port": 8080, "to_port": 8080}]}
SEED = "ga-1:lsr-web:tcp:80-80"  # a listener of somebody else's, on the same accelerator


def server(**modes: Any) -> EmulatorServer:
    options: dict[str, Any] = {"transition_seconds": 0.3, **modes}
    return EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=[SEED], **options)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with server(transition_seconds=1.0) as started:
        yield started


def ours(emulator: EmulatorServer) -> list[str]:
    """The listeners on the accelerator other than the seeded one (the emulator's own state: no request)."""
    return [item["ListenerId"] for item in emulator.backend.snapshot()["Listeners"]
            if item["ListenerId"] != "lsr-web"]


def accepted_creates(records: list[CallRecord]) -> list[CallRecord]:
    return [r for r in records if r.action == "CreateListener" and r.http_status == 200 and not r.replayed]


def killed_after_the_create(engine: Engine, emulator: EmulatorServer, inputs: dict[str, Any]) -> str:
    """``up`` whose host is SIGKILLed once the service accepted its CreateListener; the listener it made."""
    host = engine.host()
    try:
        running = in_thread(lambda: engine.up("api", inputs, host=host))
        wait_for(lambda: accepted_creates(emulator.calls.snapshot()), "the accepted create", during=running)
        host.process.kill()
        with pytest.raises(ProviderError):
            running.result(timeout=30)
    finally:
        host.close()
    assert "api" not in engine.state
    [made] = ours(emulator)
    return made


@pytest.mark.parametrize("edit", [{"port_ranges": [{"from_port": 8081, "to_port": 8082}]}, {"name": "renamed"}],
                         ids=["ports", "name"])
def test_edited_inputs_after_a_killed_create_take_over_its_listener(emulator: EmulatorServer,
                                                                   edit: dict[str, Any]) -> None:
    """Finding 5: the edits are applied to the listener the killed create made; nothing is left behind."""
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
    first = killed_after_the_create(engine, emulator, API)
    engine.up("api", {**API, **edit})
    assert engine.state["api"].id == first and ours(emulator) == [first]
    assert len(accepted_creates(emulator.calls.snapshot())) == 1
    body = live(emulator, first)
    assert (body.name, [(int(r.from_port), int(r.to_port)) for r in body.port_ranges]) == (
        edit.get("name", "api"), [(int(r["from_port"]), int(r["to_port"])) for r in edit.get(
            "port_ranges", API["port_ranges"])])
    engine.destroy("api")
    assert ours(emulator) == []


def test_a_replay_of_a_retained_listener_another_stack_manages_is_not_taken_as_created(
        emulator: EmulatorServer) -> None:
    """Finding 3: created and retained by this stack, then adopted and changed by another: refused, by its id."""
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
    engine.up("api", {**API, "on_delete": "retain"})
    retained = engine.state["api"].id
    engine.destroy("api")
    other = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
    other.up("theirs", {"listener_id": retained, "protocol": "tcp", "port_ranges": API["port_ranges"],
                        "name": "theirs"})
    with pytest.raises(ProviderError) as raised:
        engine.up("api", API)  # the same resource and configuration again, on_delete "delete" by default
    assert retained in raised.value.last_line and "listener_id" in raised.value.last_line
    assert live(emulator, retained).name == "theirs" and "api" not in engine.state
    assert writes(emulator, "DeleteListener") == []


def test_a_fast_first_create_whose_follow_up_is_refused_is_deleted_again() -> None:
    """Finding 8: active at the first poll is still a fresh create: on a refused follow-up it is not left behind."""
    with server(transition_seconds=0.0) as emulator:
        engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
        emulator.faults.enqueue("error", code="Forbidden.RAM", action="UpdateListener")
        with pytest.raises(ProviderError) as raised:
            engine.up("api", {**API, "proxy_protocol": True})
        assert "Forbidden.RAM" in raised.value.last_line and "earlier run" not in raised.value.last_line
        assert ours(emulator) == [] and "api" not in engine.state


def test_a_slow_first_create_under_a_short_wait_timeout_is_never_made_twice() -> None:
    """Finding 9: a listener invisible longer than the wait is not taken for a deleted one."""
    with server(create_lag=3.5) as emulator:
        engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET, wait_timeout=3)
        engine.up("api", API)
        [made] = ours(emulator)
        assert engine.state["api"].id == made and len(accepted_creates(emulator.calls.snapshot())) == 1
