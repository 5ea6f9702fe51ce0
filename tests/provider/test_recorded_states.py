"""Stacks written by earlier versions keep working.

Each ``data/*_states.json`` holds what one version stored for a created listener, a created listener changed
once, an adopted listener and an adopted listener changed once (written by ``data/record_states.py`` with that
version's own code): ids, stored inputs and outputs, each with its ``__provider`` pickle. ``main_059742e`` is the
version before issue 16's lifecycle fixes, ``main_2038ad5`` the last one before the package moved into
sub-packages (issue 17). The emulator is put back into the state those stacks left, then the current provider
refreshes, updates and destroys each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_ga20191120 import models

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, TRANSITION, live, official_client, writes
from tests.support.provider_host import Engine, ResourceState

RECORDINGS = sorted((Path(__file__).parent / "data").glob("*_states.json"))
RESOURCES: dict[str, dict[str, Any]] = {
    f"{path.name.removesuffix('_states.json')}:{name}": resource
    for path in RECORDINGS for name, resource in json.loads(path.read_text())["resources"].items()
}


def seed(resource: dict[str, Any]) -> str:
    ports = resource["outputs"]["adopted"].get("port_ranges") or resource["outputs"]["port_ranges"]
    low, high = int(ports[0]["from_port"]), int(ports[0]["to_port"])
    return f"ga-1:{resource['id']}:tcp:{low}-{high}"


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def put_back(emulator: EmulatorServer, listener_id: str, outputs: dict[str, Any]) -> None:
    """The listener as the recorded stack left it, written with the official SDK."""
    official_client(emulator).update_listener(models.UpdateListenerRequest(
        region_id="cn-hangzhou", listener_id=listener_id, name=outputs["name"], description=outputs["description"],
        client_affinity=outputs["client_affinity"], proxy_protocol=outputs["proxy_protocol"],
        idle_timeout=int(outputs["idle_timeout"]),
        port_ranges=[models.UpdateListenerRequestPortRanges(from_port=int(r["from_port"]), to_port=int(r["to_port"]))
                     for r in outputs["port_ranges"]]))
    while live(emulator, listener_id).state != "active":
        pass


def test_every_recording_is_read() -> None:
    assert {path.name for path in RECORDINGS} >= {"main_059742e_states.json", "main_2038ad5_states.json"}
    assert len(RESOURCES) == 4 * len(RECORDINGS)


@pytest.mark.parametrize("recorded", sorted(RESOURCES))
def test_a_recorded_state_refreshes_updates_and_destroys(recorded: str) -> None:
    resource, name = RESOURCES[recorded], recorded.split(":", 1)[1]
    listener_id, outputs, program = resource["id"], resource["outputs"], resource["program_inputs"]
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=[seed(resource)],
                            transition_seconds=TRANSITION)
    with server:
        put_back(server, listener_id, outputs)
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET)
        engine.state[name] = ResourceState(listener_id, resource["inputs"], outputs)
        engine.stored_config = dict(engine.config)
        server.calls.clear()

        refreshed = engine.refresh(name)
        assert refreshed is not None and engine.last_refresh_drift is False
        assert refreshed.outputs["origin"] == outputs["origin"]
        assert without_none(refreshed.outputs["adopted"]) == without_none(outputs["adopted"])
        assert engine.preview(name, program)["op"] == "same"

        engine.up(name, {**program, "name": "changed-again"})
        [update] = writes(server)
        assert update.params["Name"] == "changed-again" and live(server, listener_id).name == "changed-again"

        engine.destroy(name)
        if outputs["origin"] == "created":
            assert [c.params["ListenerId"] for c in writes(server, "DeleteListener")] == [listener_id]
            assert not [item for item in server.backend.snapshot()["Listeners"] if item["ListenerId"] == listener_id]
        else:  # restore: what the listener had when adopted (it had no name, which the API cannot clear)
            after, adopted = live(server, listener_id), outputs["adopted"]
            assert (after.client_affinity, after.idle_timeout) == (adopted["client_affinity"],
                                                                   int(adopted["idle_timeout"]))
            assert [(int(r.from_port), int(r.to_port)) for r in after.port_ranges] == [
                (int(r["from_port"]), int(r["to_port"])) for r in adopted["port_ranges"]]
            assert writes(server, "DeleteListener") == []
