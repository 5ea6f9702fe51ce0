"""Stacks written by the adopt-only version (commit 4e4f3e3) keep working: refresh, update, destroy as adopted.

``data/adopt_only_state.json`` is what that version recorded for an adopted listener (written with its own code
and test engine, so its outputs lack every key added since). The listener is put back into the state it recorded,
then the current provider drives it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alibabacloud_ga20191120 import models

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import live, official_client, writes
from tests.support.provider_host import Engine, ResourceState

RECORDED: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "adopt_only_state.json").read_text())


def test_an_adopt_only_stack_refreshes_updates_and_destroys_as_adopted(engine: Engine,
                                                                      emulator: EmulatorServer) -> None:
    outputs, program = RECORDED["outputs"], RECORDED["program_inputs"]
    assert "origin" not in outputs and "identity" not in outputs  # really an older state
    listener_id = RECORDED["id"]
    official_client(emulator).update_listener(models.UpdateListenerRequest(  # the listener as that stack left it
        region_id="cn-hangzhou", listener_id=listener_id, name=outputs["name"], description=outputs["description"],
        client_affinity=outputs["client_affinity"]))
    while live(emulator, listener_id).state != "active":
        pass
    engine.state["web"] = ResourceState(listener_id, RECORDED["inputs"], outputs)
    engine.stored_config = dict(engine.config)  # what that stack's last up stored with its default provider
    emulator.calls.clear()

    refreshed = engine.refresh("web")
    assert refreshed is not None and engine.last_refresh_drift is False
    assert refreshed.outputs["origin"] == "adopted" and refreshed.outputs["adopted"] == outputs["adopted"]
    assert engine.preview("web", program)["op"] == "same"  # neither a replace nor a change

    engine.up("web", {**program, "name": "third"})
    [update] = writes(emulator)
    assert update.params["Name"] == "third" and live(emulator, listener_id).name == "third"

    engine.destroy("web")  # on_delete "restore", as recorded: put back what the listener had when adopted
    after = live(emulator, listener_id)
    assert (after.client_affinity, after.description, after.state) == ("NONE", "", "active")
    assert [c.action for c in emulator.calls if c.action == "DeleteListener"] == []
