"""Asynchronous states, per-accelerator serialization and ClientToken idempotency, through HTTP."""

from __future__ import annotations

from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer, ListenerSeed
from tests.emulator.support import sdk_call, sdk_error, wait_for_state


def update(client: Client, listener_id: str, **params: object) -> dict[str, object]:
    return sdk_call(client, "UpdateListener", {"ListenerId": listener_id, **params})


def test_write_to_a_changing_listener_is_not_active(emulator: EmulatorServer, official: Client) -> None:
    update(official, "lsr-demo", Name="first")
    for action, params in [
        ("UpdateListener", {"ListenerId": "lsr-demo", "Name": "second"}),
        ("DeleteListener", {"ListenerId": "lsr-demo", "AcceleratorId": "ga-demo"}),
    ]:
        error = sdk_error(official, action, params)
        assert (error.code, error.status_code) == ("NotActive.Listener", 400)
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "updating"  # reads go on
    wait_for_state(emulator, "lsr-demo", "active")
    update(official, "lsr-demo", Name="second")


def test_writes_to_other_listeners_wait_for_the_accelerator(emulator: EmulatorServer, official: Client) -> None:
    emulator.backend.seed_listener(ListenerSeed.parse("ga-demo:lsr-two:tcp:81-81"))
    emulator.backend.seed_listener(ListenerSeed.parse("ga-other:lsr-three:tcp:81-81"))
    update(official, "lsr-demo", Name="busy")
    for action, params in [
        ("UpdateListener", {"ListenerId": "lsr-two", "Name": "x"}),
        ("DeleteListener", {"ListenerId": "lsr-two", "AcceleratorId": "ga-demo"}),
        ("CreateListener", {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 82, "ToPort": 82}]}),
    ]:
        error = sdk_error(official, action, params)
        assert (error.code, error.status_code) == ("StateError.Accelerator", 400), action
        assert "lsr-demo" in error.message
    update(official, "lsr-three", Name="elsewhere")  # another accelerator is not blocked
    wait_for_state(emulator, "lsr-demo", "active")
    update(official, "lsr-two", Name="now")


def test_an_accelerator_that_is_not_active_refuses_writes(emulator: EmulatorServer, official: Client) -> None:
    emulator.backend.set_accelerator_state("ga-demo", "configuring")
    error = sdk_error(official, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "x"})
    assert (error.code, "configuring" in error.message) == ("StateError.Accelerator", True)
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "active"


def test_retried_write_replays_the_original_answer_even_while_updating(
    emulator: EmulatorServer, official: Client
) -> None:
    first = update(official, "lsr-demo", Name="once", ClientToken="tok-1")
    again = update(official, "lsr-demo", Name="once", ClientToken="tok-1")  # the listener is updating now
    assert again["RequestId"] == first["RequestId"]
    replays = [call.replayed for call in emulator.calls.of("UpdateListener")]
    assert replays == [False, True]
    wait_for_state(emulator, "lsr-demo", "active")
    later = update(official, "lsr-demo", Name="once", ClientToken="tok-1")  # active again: still nothing changes
    assert later["RequestId"] == first["RequestId"]
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "active"


def test_same_token_with_other_parameters_conflicts(emulator: EmulatorServer, official: Client) -> None:
    update(official, "lsr-demo", Name="once", ClientToken="tok-2")
    wait_for_state(emulator, "lsr-demo", "active")
    error = sdk_error(official, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "other", "ClientToken": "tok-2"})
    assert (error.code, error.status_code) == ("IdempotenceParamNotMatch", 400)
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})["Name"] == "once"


def test_only_successful_writes_record_their_token(emulator: EmulatorServer, official: Client) -> None:
    refused = sdk_error(official, "UpdateListener", {"ListenerId": "lsr-demo", "IdleTimeout": 5, "ClientToken": "t"})
    assert refused.code == "InvalidParameter"
    fixed = update(official, "lsr-demo", IdleTimeout=50, ClientToken="t")  # same token, corrected: applied
    assert fixed["RequestId"] != refused.request_id
    assert emulator.backend.describe_listener("lsr-demo").config.idle_timeout == 50


def test_create_replay_returns_the_same_listener(emulator: EmulatorServer, official: Client) -> None:
    params = {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 90, "ToPort": 90}], "ClientToken": "c-1"}
    first = sdk_call(official, "CreateListener", params)
    again = sdk_call(official, "CreateListener", params)
    assert (again["ListenerId"], again["RequestId"]) == (first["ListenerId"], first["RequestId"])
    listed = sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo"})
    assert listed["TotalCount"] == 2


def test_tokens_are_per_action(emulator: EmulatorServer, official: Client) -> None:
    update(official, "lsr-demo", Name="x", ClientToken="shared")
    wait_for_state(emulator, "lsr-demo", "active")
    deleted = sdk_call(official, "DeleteListener", {"ListenerId": "lsr-demo", "AcceleratorId": "ga-demo",
                                                  "ClientToken": "shared"})
    assert emulator.calls.of("DeleteListener")[0].replayed is False and deleted["RequestId"]


def test_protocol_change_clears_what_the_new_protocol_does_not_take(emulator: EmulatorServer, official: Client) -> None:
    emulator.backend.seed_listener(ListenerSeed.parse("ga-web:lsr-web:https:443-443"))
    update(official, "lsr-web", Certificates=[{"Id": "cert"}], IdleTimeout=30, RequestTimeout=100,
           XForwardedForConfig={"XRealIpEnabled": True})  # fmt: skip
    wait_for_state(emulator, "lsr-web", "active")
    update(official, "lsr-web", XForwardedForConfig={"XForwardedForPortEnabled": True})  # partial: merged
    wait_for_state(emulator, "lsr-web", "active")
    live = sdk_call(official, "DescribeListener", {"ListenerId": "lsr-web"})
    assert live["XForwardedForConfig"]["XRealIpEnabled"] and live["XForwardedForConfig"]["XForwardedForPortEnabled"]
    update(official, "lsr-web", Protocol="http")
    wait_for_state(emulator, "lsr-web", "active")
    live = sdk_call(official, "DescribeListener", {"ListenerId": "lsr-web"})
    assert (live["Protocol"], live["Certificates"], live["IdleTimeout"], live["RequestTimeout"]) == (
        "HTTP",
        [],
        30,
        100,
    )
    assert "HttpVersion" not in live and "SecurityPolicyId" not in live
    update(official, "lsr-web", Protocol="TCP")
    wait_for_state(emulator, "lsr-web", "active")
    live = sdk_call(official, "DescribeListener", {"ListenerId": "lsr-web"})
    assert (live["Protocol"], live["IdleTimeout"], "RequestTimeout" in live) == ("TCP", 30, False)
    assert not any(live["XForwardedForConfig"].values())
    update(official, "lsr-web", Protocol="udp")  # 30 s is outside udp's 10..20: reset to its default
    wait_for_state(emulator, "lsr-web", "active")
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-web"})["IdleTimeout"] == 20


def test_listener_ports_are_free_again_once_deleted(emulator: EmulatorServer, official: Client) -> None:
    sdk_call(official, "DeleteListener", {"ListenerId": "lsr-demo", "AcceleratorId": "ga-demo"})
    wait_for_state(emulator, "lsr-demo", "gone")
    created = sdk_call(
        official, "CreateListener", {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 80, "ToPort": 80}]}
    )
    assert created["ListenerId"] != "lsr-demo"
