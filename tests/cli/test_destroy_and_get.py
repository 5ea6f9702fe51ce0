"""Under the real CLI: destroy restores, retains or deletes as ``on_delete`` says; ``Listener.get`` of a missing
listener fails the update, naming the id."""

from __future__ import annotations

import pytest

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, describe, live_listeners, seed_listener, writes


def adopting(listener_id: str, on_delete: str | None) -> dict[str, object]:
    args = {"listener_id": listener_id, "protocol": "tcp", "port_ranges": [{"from_port": 7200, "to_port": 7200}],
            "name": "managed"}
    return {"name": "web", "args": {**args, **({"on_delete": on_delete} if on_delete else {})}}


@pytest.mark.parametrize(("on_delete", "name_after_destroy"), [("restore", "seeded"), ("retain", "managed"),
                                                                (None, "managed")])
def test_destroy_of_an_adopted_listener_restores_or_retains_it(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory, on_delete: str | None,
    name_after_destroy: str,
) -> None:
    listener_id = seed_listener(emulator, accelerator, 7200)
    stack = make_stack({})
    stack.set_listeners([adopting(listener_id, on_delete)])
    stack.up()
    assert describe(emulator, listener_id).name == "managed"
    stack.destroy()
    assert describe(emulator, listener_id).name == name_after_destroy
    assert [item.listener_id for item in live_listeners(emulator, accelerator)] == [listener_id]
    assert "DeleteListener" not in writes(emulator)


def test_destroy_of_a_created_listener_deletes_it(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack = make_stack({})
    stack.set_listeners([{"name": "web", "args": {"accelerator_id": accelerator, "protocol": "udp",
                                                  "port_ranges": [{"from_port": 5000, "to_port": 5010}]}}])
    stack.up()
    assert len(live_listeners(emulator, accelerator)) == 1
    stack.destroy()
    assert live_listeners(emulator, accelerator) == []
    assert stack.listeners() == {}


def test_get_of_a_missing_listener_fails_the_update_naming_the_id(
    emulator: EmulatorServer, make_stack: StackFactory
) -> None:
    stack = make_stack({})
    stack.set_listeners([{"name": "ghost", "get": "lsr-does-not-exist"}])
    run = stack.up(check=False)
    assert run.returncode != 0, run
    assert "lsr-does-not-exist" in run.output, run
    assert stack.listeners() == {}
    assert writes(emulator) == []
