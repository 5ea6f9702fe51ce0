"""Listeners the resource creates and deletes, through the real host against the emulator.

Inputs carry ``resource_key`` as the ``Listener`` class passes it (tests/programs/test_resource_class.py checks
the class). The official SDK reads the emulator independently.
"""

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_ga20191120 import models
from Tea.exceptions import TeaException

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, live, official_client, writes
from tests.support.provider_host import Engine, Options, ProviderError

API: dict[str, Any] = {"accelerator_id": "ga-1", "protocol": "tcp", "name": "api",
                       "port_ranges": [{"from_port": 8080, "to_port": 8080}],
                       "resource_key": "ga-listener-demo/dev/api"}


def listeners_of(emulator: EmulatorServer, accelerator_id: str) -> dict[str, Any]:
    """The accelerator's listeners as the official SDK lists them, by id."""
    request = models.ListListenersRequest(region_id="cn-hangzhou", accelerator_id=accelerator_id, page_size=50)
    return {item.listener_id: item for item in official_client(emulator).list_listeners(request).body.listeners}


def gone(emulator: EmulatorServer, listener_id: str) -> bool:
    try:
        live(emulator, listener_id)
    except TeaException as error:
        return error.code == "NotExist.Listener"
    return False


def test_up_creates_a_listener_and_destroy_deletes_it(engine: Engine, emulator: EmulatorServer) -> None:
    before = set(listeners_of(emulator, "ga-1"))
    engine.up("api", API)
    state = engine.state["api"]
    [created] = set(listeners_of(emulator, "ga-1")) - before
    assert state.id == created == state.outputs["listener_id"]
    seen = live(emulator, created)
    assert (seen.state, seen.name, seen.accelerator_id) == ("active", "api", "ga-1")
    assert [(int(r.from_port), int(r.to_port)) for r in seen.port_ranges] == [(8080, 8080)]
    outputs = state.outputs
    assert (outputs["origin"], outputs["on_delete"], outputs["identity"]) == ("created", "delete", "accelerator_id")
    assert outputs["state"] == "active" and outputs["name"] == "api"
    assert engine.preview("api", API)["op"] == "same"
    engine.destroy("api")
    assert gone(emulator, created)
    assert set(listeners_of(emulator, "ga-1")) == before


def test_the_create_carries_the_identity_and_one_update_after_it_the_rest(engine: Engine,
                                                                         emulator: EmulatorServer) -> None:
    """CreateListener carries protocol and ports (and an https listener's certificate), which its ClientToken
    covers; so a re-run after a crash may change anything else, and the one UpdateListener after it applies it."""
    engine.up("api", {**API, "proxy_protocol": True, "client_affinity": "SOURCE_IP"})
    [create] = writes(emulator, "CreateListener")
    assert {key.split(".")[0] for key in create.params} == {"AcceleratorId", "Protocol", "PortRanges", "ClientToken",
                                                            "RegionId"}
    [update] = writes(emulator, "UpdateListener")
    assert (update.params["ProxyProtocol"], update.params["ClientAffinity"], update.params["Name"]) == (
        "true", "SOURCE_IP", "api")
    assert update.params["ListenerId"] == engine.state["api"].id
    assert live(emulator, engine.state["api"].id).proxy_protocol is True


def test_a_retained_created_listener_stays_after_destroy(engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("api", {**API, "on_delete": "retain"})
    listener_id = engine.state["api"].id
    engine.destroy("api")
    assert live(emulator, listener_id).state == "active"
    assert writes(emulator, "DeleteListener") == []


def test_a_create_retried_after_the_provider_died_replays_instead_of_making_a_second(
        engine: Engine, emulator: EmulatorServer) -> None:
    """The engine recorded nothing of the first create (the host died before answering): the retry sends the
    same ClientToken, and the service answers with the listener made the first time."""
    with engine.host() as host:
        checked, _ = host.check("urn", {}, {**API, "__provider": engine.provider})
        first_id, _ = host.create("urn", checked)  # never recorded
    engine.up("api", API)
    assert engine.state["api"].id == first_id
    creates = writes(emulator, "CreateListener")
    assert len(creates) == 2 and creates[1].replayed
    assert len([lid for lid, item in listeners_of(emulator, "ga-1").items() if item.name == "api"]) == 1


def test_a_replay_of_a_listener_deleted_since_creates_afresh(emulator: EmulatorServer) -> None:
    """destroy, then up of the same stack within the token's retention: the create replays a deleted listener.
    It stays invisible; after ga-listener:createVisibilityTimeout the provider creates afresh."""
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET, **{"ga-listener:createVisibilityTimeout": "1"})
    engine.up("api", API)
    first = engine.state["api"].id
    engine.destroy("api")
    with engine.host() as host:
        engine.up("api", API, host=host)
        printed = host.output()
    second = engine.state["api"].id
    assert second != first and live(emulator, second).state == "active"
    assert "replayed a create whose listener was deleted since" in printed
    assert [c.replayed for c in writes(emulator, "CreateListener")] == [False, True, False]


def test_a_targeted_replace_deletes_first_and_creates_a_new_listener_at_once(engine: Engine,
                                                                            emulator: EmulatorServer) -> None:
    engine.up("api", API)
    first = engine.state["api"].id
    engine.target_replace("api", API)  # same key and inputs: the create's token replays the deleted listener
    second = engine.state["api"].id
    assert second != first and gone(emulator, first)
    assert live(emulator, second).state == "active"
    assert [c.replayed for c in writes(emulator, "CreateListener")] == [False, True, False]


def test_naming_the_created_listener_by_its_id_is_bookkeeping_not_a_replace(engine: Engine,
                                                                           emulator: EmulatorServer) -> None:
    engine.up("api", API)
    listener_id = engine.state["api"].id
    emulator.calls.clear()
    by_id = {**{k: v for k, v in API.items() if k not in ("accelerator_id", "resource_key")},
             "listener_id": listener_id}
    assert engine.preview("api", by_id)["op"] == "update"
    engine.up("api", by_id)
    assert writes(emulator, "UpdateListener") == [] and writes(emulator, "DeleteListener") == []
    outputs = engine.state["api"].outputs
    assert (outputs["origin"], outputs["identity"], outputs["on_delete"]) == ("created", "listener_id", "retain")
    assert engine.preview("api", API)["op"] == "update"  # and back: by its accelerator again, no replace


def test_a_created_listener_moves_to_another_accelerator_creating_first(engine: Engine,
                                                                       emulator: EmulatorServer) -> None:
    engine.up("api", API)
    first = engine.state["api"].id
    moved = {**API, "accelerator_id": "ga-2"}
    plan = engine.preview("api", moved)
    assert plan["op"] == "replace" and plan["diff"].delete_before_replace is False
    engine.up("api", moved, options=Options(delete_before_replace=None))  # the option unset: Diff decides
    calls = [(c.action, c.params.get("ListenerId")) for c in emulator.calls if c.http_status == 200]
    assert calls.index(("DeleteListener", first)) > [a for a, _ in calls].index("CreateListener")
    assert engine.state["api"].outputs["accelerator_id"] == "ga-2" and gone(emulator, first)


def test_from_adopting_to_creating_on_the_same_accelerator_releases_first(engine: Engine,
                                                                         emulator: EmulatorServer) -> None:
    web = {"listener_id": "lsr-a", "protocol": "tcp", "port_ranges": [{"from_port": 7001, "to_port": 7001}],
           "on_delete": "delete"}
    engine.up("web", web)
    plan = engine.preview("web", {**API, "port_ranges": web["port_ranges"]})
    assert plan["op"] == "replace" and plan["diff"].delete_before_replace is True
    engine.up("web", {**API, "port_ranges": web["port_ranges"]})  # the same port: only works delete-first
    assert gone(emulator, "lsr-a") and engine.state["web"].outputs["origin"] == "created"


def test_a_rename_without_alias_of_a_created_listener_says_to_add_an_alias(engine: Engine,
                                                                          emulator: EmulatorServer) -> None:
    engine.deploy({"api": API})
    with pytest.raises(ProviderError) as raised:
        engine.deploy({"api-renamed": {**API, "resource_key": "ga-listener-demo/dev/api-renamed"}})
    assert "PortConflict.Listener" in raised.value.last_line and "aliases=" in raised.value.last_line


@pytest.mark.parametrize(("inputs", "prop", "words"), [
    ({**API, "listener_id": "lsr-web"}, "accelerator_id", "not both"),
    ({k: v for k, v in API.items() if k != "accelerator_id"}, "listener_id",
     "to create one instead, give accelerator_id"),
    ({**API, "protocol": "https", "port_ranges": [{"from_port": 443, "to_port": 443}]}, "certificates",
     "required to create"),
    ({**API, "on_delete": "restore"}, "on_delete", "no earlier configuration to restore"),
])
def test_create_inputs_are_checked_at_preview(engine: Engine, inputs: dict[str, Any], prop: str, words: str) -> None:
    failures = engine.preview("api", inputs)["failures"]
    assert [reason for name, reason in failures if name == prop and words in reason], failures


@pytest.mark.parametrize(("inputs", "words"), [
    ({**API, "port_ranges": [{"from_port": 80, "to_port": 80}]}, "PortConflict.Listener"),  # lsr-web holds 80
    ({**API, "accelerator_id": "ga-missing"}, "NotExist.Accelerator"),
])
def test_create_failures_name_the_code_and_what_to_do(engine: Engine, inputs: dict[str, Any], words: str) -> None:
    with pytest.raises(ProviderError) as raised:
        engine.up("api", inputs)
    assert words in raised.value.last_line and "creating a listener on" in raised.value.last_line
    assert "api" not in engine.state


def test_deleting_a_listener_with_endpoint_groups_says_what_to_remove_first(engine: Engine,
                                                                           emulator: EmulatorServer) -> None:
    engine.up("api", API)
    listener_id = engine.state["api"].id
    emulator.backend.attach(listener_id, "endpoint_group")
    with pytest.raises(ProviderError) as raised:
        engine.destroy("api")
    last = raised.value.last_line
    assert "Exist.EndpointGroup" in last and "endpoint groups" in last and "delete those first" in last
    assert live(emulator, listener_id).state == "active" and "api" in engine.state
    emulator.backend.detach(listener_id, "endpoint_group")
    engine.destroy("api")
    assert gone(emulator, listener_id)


def test_listener_quota_and_missing_bandwidth_package_are_clear_failures(engine: Engine,
                                                                        emulator: EmulatorServer) -> None:
    emulator.backend.set_modes({"listener_quota": len(listeners_of(emulator, "ga-1"))})
    with pytest.raises(ProviderError) as raised:
        engine.up("api", API)
    assert "QuotaExceeded.Listener" in raised.value.last_line and "quota" in raised.value.last_line
    emulator.backend.set_modes({"listener_quota": 50})
    emulator.backend.configure_accelerator("ga-1", basic_bandwidth_package=False)
    with pytest.raises(ProviderError) as raised:
        engine.up("api", API)
    assert "NotExist.BasicBandwidthPackage" in raised.value.last_line
    assert "basic bandwidth package" in raised.value.last_line


def test_a_busy_accelerator_is_waited_out(engine: Engine, emulator: EmulatorServer) -> None:
    emulator.faults.enqueue("error", count=3, action="CreateListener", code="StateError.Accelerator")
    engine.up("api", API)
    assert live(emulator, engine.state["api"].id).state == "active"
    assert [c.code for c in emulator.calls.of("CreateListener")] == ["StateError.Accelerator"] * 3 + [None]


def test_not_found_right_after_a_create_is_not_there_yet(emulator: EmulatorServer) -> None:
    emulator.backend.set_modes({"create_lag": 1.0})
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET)
    engine.up("api", API)
    listener_id = engine.state["api"].id
    polls = [c.code for c in emulator.calls.of("DescribeListener")]
    assert "NotExist.Listener" in polls and polls[-1] is None  # invisible for a while, then seen
    assert len(writes(emulator, "CreateListener")) == 1  # and never created twice
    assert live(emulator, listener_id).state == "active"


def test_a_replay_of_a_retained_listener_is_taken_over_only_if_nobody_changed_it(engine: Engine,
                                                                                emulator: EmulatorServer) -> None:
    """Created, retained (dropped from the stack), then the same resource again: the create's token answers with
    the existing listener. Unchanged since, it is taken over as created; changed since (another owner may manage
    it now), it is left as it is and the create fails naming it."""
    engine.up("api", {**API, "on_delete": "retain"})
    listener_id = engine.state["api"].id
    engine.destroy("api")  # retained
    engine.up("api", API)
    assert engine.state["api"].id == listener_id and engine.state["api"].outputs["origin"] == "created"
    engine.up("api", {**API, "on_delete": "retain", "name": "changed"})
    engine.destroy("api")  # retained again, its name changed since its create
    with pytest.raises(ProviderError) as raised:
        engine.up("api", API)
    assert listener_id in raised.value.last_line and "name" in raised.value.last_line
    assert f'listener_id="{listener_id}"' in raised.value.last_line  # the one-line fix: adopt it
    assert live(emulator, listener_id).name == "changed" and writes(emulator, "DeleteListener") == []


def test_a_replay_of_a_deleted_listener_is_recognised_within_a_short_wait_timeout(emulator: EmulatorServer) -> None:
    """createVisibilityTimeout above waitTimeout (3 s): the unseen window shrinks to fit the wait."""
    engine = Engine.for_endpoint(emulator.url, KEY_ID, SECRET, wait_timeout=3)
    engine.up("api", API)
    first = engine.state["api"].id
    engine.destroy("api")
    engine.up("api", API)
    assert engine.state["api"].id != first and live(emulator, engine.state["api"].id).state == "active"
