"""The resource's whole life through the real provider host (gRPC) against the real emulator (HTTP)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import delete_out_of_band, live, official_client, writes
from tests.support.provider_host import Engine, ProviderError, Unknown, urn_for

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}
COMMON_PARAMS = {"ListenerId", "ClientToken", "RegionId"}
# Every write carries ProxyProtocol, as the listener has it unless managed: a service that
# applied the documented default (false) to an omitted value would otherwise switch off client-IP preservation.
TCP_ALWAYS = {"ProxyProtocol"}


def wait_active(emulator: EmulatorServer, listener_id: str) -> None:
    deadline = time.monotonic() + 10
    while live(emulator, listener_id).state != "active":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_preview_of_a_new_resource_only_checks_and_calls_no_api(engine: Engine, emulator: EmulatorServer) -> None:
    result = engine.preview("web", {**WEB, "name": "web"})
    assert result["op"] == "create" and result["failures"] == []
    assert result["checked"]["protocol"] == "tcp"
    assert emulator.calls.snapshot() == []


def test_up_adopts_and_applies_only_what_differs(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "protocol": "TCP", "name": "web", "client_affinity": "source_ip"})
    state = engine.state["web"]
    assert state.id == "lsr-web"
    outputs = state.outputs
    assert outputs["state"] == "active" and outputs["accelerator_id"] == "ga-1"
    assert outputs["name"] == "web" and outputs["client_affinity"] == "SOURCE_IP"
    assert outputs["adopted"]["client_affinity"] == "NONE"  # what it had before: kept for restore
    assert sorted(outputs["managed_fields"]) == ["client_affinity", "name", "port_ranges", "protocol"]
    [update] = writes(emulator)
    assert set(update.params) - COMMON_PARAMS == {"Name", "ClientAffinity"} | TCP_ALWAYS
    assert update.params["ProxyProtocol"] == "false"  # what the seeded listener has
    assert live(emulator, "lsr-web").name == "web"


def test_change_previews_then_sends_one_update_with_only_the_change(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "web"})
    emulator.calls.clear()
    preview = engine.preview("web", {**WEB, "name": "web2", "port_ranges": [{"from_port": 80, "to_port": 80}]})
    assert preview["op"] == "update"
    assert emulator.calls.snapshot() == []  # a preview never calls the API
    engine.up("web", {**WEB, "name": "web2"})
    [update] = writes(emulator)
    assert set(update.params) - COMMON_PARAMS == {"Name"} | TCP_ALWAYS
    assert update.params["Name"] == "web2"
    assert engine.state["web"].outputs["name"] == "web2"
    assert engine.state["web"].outputs["revision"] == 2


def test_port_ranges_go_whole_and_order_never_diffs(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "port_ranges": [{"from_port": 80, "to_port": 80}, {"from_port": 81, "to_port": 82}]})
    emulator.calls.clear()
    reordered = {**WEB, "port_ranges": [{"from_port": 81, "to_port": 82}, {"from_port": 80, "to_port": 80}]}
    assert engine.preview("web", reordered)["op"] == "same"
    engine.up("web", {**WEB, "port_ranges": [{"from_port": 83, "to_port": 83}, {"from_port": 80, "to_port": 80}]})
    [update] = writes(emulator)
    assert {k for k in update.params if k.startswith("PortRanges")} == {
        "PortRanges.1.FromPort", "PortRanges.1.ToPort", "PortRanges.2.FromPort", "PortRanges.2.ToPort"}


def test_no_change_up_makes_no_api_call(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "web"})
    emulator.calls.clear()
    result = engine.up("web", {**WEB, "name": "web"})
    assert result["op"] == "same"
    assert emulator.calls.snapshot() == []


def test_bookkeeping_change_updates_outputs_without_api_calls(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "web"})
    emulator.calls.clear()
    assert engine.up("web", {**WEB, "name": "web", "on_delete": "restore"})["op"] == "update"
    assert engine.up("web", {**WEB, "name": "web", "on_delete": "restore", "idle_timeout": 900})["op"] == "update"
    assert writes(emulator) == []
    assert engine.state["web"].outputs["on_delete"] == "restore"
    assert "idle_timeout" in engine.state["web"].outputs["managed_fields"]


def test_refresh_shows_out_of_band_drift(engine: Engine, emulator: EmulatorServer) -> None:
    from alibabacloud_ga20191120 import models

    engine.up("web", {**WEB, "name": "web"})
    assert engine.refresh("web") is not None and engine.last_refresh_drift is False  # nothing changed yet
    official_client(emulator).update_listener(
        models.UpdateListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web", name="changed-by-hand"))
    refreshed = engine.refresh("web")
    assert refreshed is not None and engine.last_refresh_drift is True  # the refresh's own Diff shows it
    assert refreshed.outputs["name"] == "changed-by-hand"
    assert refreshed.inputs["name"] == "changed-by-hand"
    assert engine.preview("web", {**WEB, "name": "web"})["op"] == "update"  # the drift shows in the next preview


def test_refresh_of_a_vanished_listener_drops_it(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "listener_id": "lsr-a", "port_ranges": [{"from_port": 7001, "to_port": 7001}]})
    delete_out_of_band(emulator, "ga-1", "lsr-a")
    assert engine.refresh("web") is None
    assert "web" not in engine.state


def test_destroy_with_retain_leaves_the_listener(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "kept"})
    emulator.calls.clear()
    engine.destroy("web")
    assert writes(emulator) == [] and emulator.calls.snapshot() == []
    assert live(emulator, "lsr-web").name == "kept"


def test_destroy_with_restore_puts_back_the_adopted_configuration(engine: Engine, emulator: EmulatorServer) -> None:
    from alibabacloud_ga20191120 import models

    official_client(emulator).update_listener(
        models.UpdateListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web", name="original"))
    wait_active(emulator, "lsr-web")
    before = live(emulator, "lsr-web")
    engine.up("web", {**WEB, "name": "temporary", "port_ranges": [{"from_port": 81, "to_port": 81}],
                      "on_delete": "restore"})
    engine.destroy("web")
    after = live(emulator, "lsr-web")
    assert (before.name, after.name, after.state) == ("original", "original", "active")
    assert [(int(r.from_port), int(r.to_port)) for r in after.port_ranges] == [(80, 80)]


def test_destroy_of_a_listener_already_gone_succeeds(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "listener_id": "lsr-b", "name": "x", "on_delete": "restore",
                      "port_ranges": [{"from_port": 7002, "to_port": 7002}]})
    delete_out_of_band(emulator, "ga-1", "lsr-b")
    engine.destroy("web")
    assert "web" not in engine.state


def test_new_listener_id_replaces(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "on_delete": "restore"})
    other = {"listener_id": "lsr-api", "protocol": "tcp", "port_ranges": [{"from_port": 9000, "to_port": 9000}],
             "name": "second"}
    assert engine.preview("web", other)["op"] == "replace"
    engine.up("web", other)
    assert engine.state["web"].id == "lsr-api"
    assert live(emulator, "lsr-api").name == "second"
    assert live(emulator, "lsr-web").client_affinity == "NONE"  # the old one was released with restore


def test_unknown_inputs_in_preview(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "web"})
    with engine.host() as host:
        urn, old = urn_for("web"), engine.state["web"]
        news = {**WEB, "name": Unknown(), "__provider": engine.provider}
        _, failures = host.check(urn, old.inputs, news)
        assert failures == []
        diff = host.diff(urn, old.id, old.outputs, news)
        assert (diff.changes, diff.replaces) == (True, [])
        bad = {**news, "description": "https://not-allowed"}
        assert [p for p, _ in host.check(urn, old.inputs, bad)[1]] == ["description"]
        moved = {**news, "listener_id": Unknown()}
        diff = host.diff(urn, old.id, old.outputs, moved)
        assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["listener_id"], True)


def test_adopting_a_missing_listener_fails_clearly(engine: Engine) -> None:
    with pytest.raises(ProviderError) as raised:
        engine.up("ghost", {**WEB, "listener_id": "lsr-missing"})
    assert "does not exist" in raised.value.last_line
    assert "NotExist.Listener" in raised.value.last_line


def test_api_error_last_line_has_code_message_request_id_and_advice(engine: Engine, emulator: EmulatorServer) -> None:
    api = {"listener_id": "lsr-api", "protocol": "tcp", "port_ranges": [{"from_port": 9000, "to_port": 9000}]}
    engine.up("api", api)
    with pytest.raises(ProviderError) as raised:
        engine.up("api", {"listener_id": "lsr-api", "protocol": "tcp",
                          "port_ranges": [{"from_port": 80, "to_port": 80}]})  # lsr-web holds port 80
    last = raised.value.last_line
    [refused] = [c for c in emulator.calls if c.action == "UpdateListener"]
    assert "PortConflict.Listener" in last and refused.request_id in last
    assert "request id" in last
    assert live(emulator, "lsr-api").port_ranges[0].from_port == 9000  # nothing half-applied


def test_adopting_the_same_listener_again_never_replays_an_earlier_write(engine: Engine,
                                                                         emulator: EmulatorServer) -> None:
    for _ in range(2):  # the same inputs in two lifecycles: adopt, change, release with restore
        engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "on_delete": "restore"})
        engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "description": "second", "on_delete": "restore"})
        assert live(emulator, "lsr-web").description == "second"
        engine.destroy("web")
    updates = emulator.calls.of("UpdateListener")
    assert len(updates) == 6 and not [c for c in updates if c.replayed]
    assert len({c.params["ClientToken"] for c in updates}) == 6
    assert (live(emulator, "lsr-web").client_affinity, live(emulator, "lsr-web").description) == ("NONE", "")


def test_restore_puts_back_fields_written_then_unmanaged(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "proxy_protocol": True, "on_delete": "restore"})
    engine.up("web", {**WEB, "proxy_protocol": True, "on_delete": "restore"})  # client_affinity no longer managed
    assert live(emulator, "lsr-web").client_affinity == "SOURCE_IP"
    engine.destroy("web")
    after = live(emulator, "lsr-web")
    assert (after.client_affinity, after.proxy_protocol) == ("NONE", False)


def test_restore_says_what_it_cannot_put_back(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "named-by-us", "client_affinity": "SOURCE_IP", "on_delete": "restore"})
    old = engine.state.pop("web")
    with engine.host(engine.stored_config) as host:
        host.delete(urn_for("web"), old.id, old.outputs)
        printed = host.output()
    assert "name" in printed and "cannot clear" in printed  # the listener had no name when adopted
    assert live(emulator, "lsr-web").client_affinity == "NONE"


def test_listener_get_reads_live_state_from_the_programs_props(engine: Engine, emulator: EmulatorServer) -> None:
    with engine.host() as host:  # Listener.get: Read(id, properties = inputs = the program's props)
        outputs = engine.get("existing", "lsr-https", host=host)
        with pytest.raises(ProviderError) as raised:
            engine.get("ghost", "lsr-missing", host=host)
    assert (outputs["protocol"], outputs["state"], outputs["accelerator_id"]) == ("https", "active", "ga-2")
    assert outputs["port_ranges"] == [{"from_port": 443, "to_port": 443}]
    assert outputs["managed_fields"] == []
    assert "lsr-missing" in raised.value.last_line and "does not exist" in raised.value.last_line
    assert emulator.calls.of("UpdateListener") == []
