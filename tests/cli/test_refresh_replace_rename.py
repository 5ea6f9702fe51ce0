"""Under the real CLI: refresh records drift and the next preview shows the way back; a rename with an alias
touches nothing; a new accelerator replaces the listener, deleting before creating."""

from __future__ import annotations

import json

import requests

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, describe, live_listeners, rename_out_of_band, writes
from tests.cli.support import Stack

PORTS = [{"from_port": 7100, "to_port": 7100}]


def created(name: str, accelerator: str, **extra: object) -> dict[str, object]:
    return {"name": name, "args": {"accelerator_id": accelerator, "protocol": "tcp", "port_ranges": PORTS,
                                   "name": "api"}, **extra}


def up_with_api(make_stack: StackFactory, accelerator: str) -> tuple[Stack, str]:
    """A stack whose `up` created listener "api" on ``accelerator``; the stack and the listener's id."""
    stack = make_stack({})
    stack.set_listeners([created("api", accelerator)])
    stack.up()
    return stack, stack.listeners()["api"]["id"]


def test_refresh_records_a_change_made_behind_the_stacks_back_and_the_next_preview_shows_the_way_back(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack, listener_id = up_with_api(make_stack, accelerator)
    emulator.calls.clear()
    rename_out_of_band(emulator, listener_id, "changed-in-console")

    refreshed = stack.refresh()
    assert "api" in refreshed.stdout and "updated" in refreshed.stdout, refreshed
    assert stack.listeners()["api"]["outputs"]["name"] == "changed-in-console"
    assert writes(emulator) == ["UpdateListener"]  # only the console's own write

    preview = json.loads(stack.preview("--json").stdout)
    step = next(step for step in preview["steps"] if step["urn"].endswith("::api"))
    assert step["op"] == "update"
    assert step["oldState"]["outputs"]["name"] == "changed-in-console"
    assert step["newState"]["inputs"]["name"] == "api"  # the way back: the program's value
    stack.up()
    assert describe(emulator, listener_id).name == "api"


def test_a_rename_with_an_alias_touches_nothing(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack, listener_id = up_with_api(make_stack, accelerator)
    emulator.calls.clear()
    stack.set_listeners([created("api-v2", accelerator, aliases=["api"])])
    stack.up()
    assert [record.action for record in emulator.calls] == []  # no read, no write
    assert {name: item["id"] for name, item in stack.listeners().items()} == {"api-v2": listener_id}


def test_a_new_accelerator_replaces_deleting_first_and_leaves_exactly_one_listener(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    other = f"{accelerator}-b"
    requests.post(f"{emulator.url}/_emulator/accelerators", json={"accelerator_id": other},
                  timeout=10).raise_for_status()
    stack, old_id = up_with_api(make_stack, accelerator)
    stack.set_listeners([created("api", other)])
    preview = json.loads(stack.preview("--json").stdout)
    ops = [step["op"] for step in preview["steps"] if step["urn"].endswith("::api")]
    assert ops == ["replace"]

    emulator.calls.clear()
    stack.up()
    # Delete before create (then the create's follow-up update with the name).
    assert writes(emulator) == ["DeleteListener", "CreateListener", "UpdateListener"]
    assert live_listeners(emulator, accelerator) == []
    new = live_listeners(emulator, other)
    assert len(new) == 1 and new[0].listener_id != old_id
    assert stack.listeners()["api"]["id"] == new[0].listener_id
