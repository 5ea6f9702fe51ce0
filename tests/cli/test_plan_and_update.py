"""Under the real CLI: what preview shows and sends, a create, a one-field update, and an up with nothing to do."""

from __future__ import annotations

import json
import re

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, live_listeners, writes

PORTS = [{"from_port": 7000, "to_port": 7001}]


def listener(accelerator: str, **args: object) -> dict[str, object]:
    return {"name": "web", "args": {"accelerator_id": accelerator, "protocol": "tcp", "port_ranges": PORTS,
                                    "name": "web", **args}}


def test_a_preview_of_bad_input_fails_naming_the_property_and_the_rule_and_sends_nothing(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack = make_stack({})
    stack.set_listeners([listener(accelerator, port_ranges=[{"from_port": 80, "to_port": 70000}])])
    emulator.calls.clear()
    run = stack.preview(check=False)
    assert run.returncode != 0, run
    assert "port_ranges" in run.output and "65499" in run.output, run  # the property and the rule
    assert "<nil>" not in run.output, run
    assert "Traceback" not in run.output, run
    assert list(emulator.calls) == []  # nothing was sent: not even a read


def test_up_creates_the_listener_and_it_is_the_accelerators_only_one(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack = make_stack({})
    stack.set_listeners([listener(accelerator)])
    stack.up()
    recorded = stack.listeners()["web"]
    live = live_listeners(emulator, accelerator)
    assert [item.listener_id for item in live] == [recorded["id"]]
    assert live[0].state == "active" and live[0].name == "web"
    assert recorded["outputs"]["accelerator_id"] == accelerator
    # One create carrying the identity (protocol, ports), then one update with the rest (the name).
    assert writes(emulator) == ["CreateListener", "UpdateListener"]


def test_a_one_field_change_previews_as_that_property_and_ups_with_one_write_then_nothing(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    stack = make_stack({})
    stack.set_listeners([listener(accelerator)])
    stack.up()
    stack.set_listeners([listener(accelerator, name="web-renamed")])
    emulator.calls.clear()
    preview = stack.preview("--json")
    steps = [step for step in json.loads(preview.stdout)["steps"] if step["urn"].endswith("::web")]
    assert [step["op"] for step in steps] == ["update"]
    assert steps[0].get("diffReasons") in (None, ["name"]) and _changed_inputs(steps[0]) == {"name"}
    assert writes(emulator) == []  # a preview writes nothing

    stack.up()
    assert writes(emulator) == ["UpdateListener"]
    update = next(record for record in emulator.calls if record.action == "UpdateListener")
    assert update.params.get("Name") == "web-renamed"
    assert [item.name for item in live_listeners(emulator, accelerator)] == ["web-renamed"]

    emulator.calls.clear()
    again = stack.up()
    assert writes(emulator) == []
    assert re.search(r"\b1 unchanged\b|\b2 unchanged\b", again.stdout), again


def _changed_inputs(step: dict[str, object]) -> set[str]:
    """The top-level inputs whose old and new values differ in a preview step of ``--json``."""
    old = (step.get("oldState") or {}).get("inputs", {})  # type: ignore[union-attr]
    new = (step.get("newState") or {}).get("inputs", {})  # type: ignore[union-attr]
    return {key for key in {*old, *new} - {"__provider"} if old.get(key) != new.get(key)}
