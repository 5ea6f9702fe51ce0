"""The modes a real service may have and a client must survive, through the official SDK over HTTP, on an
injected clock (no sleeping): eventually consistent reads after a create, an update or a delete; omitted values
reset by an update; UnknownError for a listener that is gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, admin, official_client, sdk_call, sdk_error
from tests.support.clock import FakeClock

TRANSITION = 2.0
LAG = 3.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=time.time())  # the signature check compares the SDK's real timestamps with it


@pytest.fixture
def server(clock: FakeClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=TRANSITION, clock=clock) as emulator:
        yield emulator


@pytest.fixture
def client(server: EmulatorServer) -> Client:
    return official_client(server)


def describe(client: Client, listener_id: str = "lsr-demo") -> dict[str, Any]:
    return sdk_call(client, "DescribeListener", {"ListenerId": listener_id})


def listed(client: Client) -> list[str]:
    return [item["ListenerId"] for item in sdk_call(client, "ListListeners", {"AcceleratorId": "ga-demo"})["Listeners"]]


def test_create_lag_hides_the_new_listener_from_reads_only(
    server: EmulatorServer, client: Client, clock: FakeClock
) -> None:
    admin(server, "POST", "/_emulator/modes", {"create_lag": LAG})
    created = sdk_call(client, "CreateListener", {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 81,
                                                                                             "ToPort": 81}]})
    new = created["ListenerId"]
    error = sdk_error(client, "DescribeListener", {"ListenerId": new})
    assert (error.code, error.status_code) == ("NotExist.Listener", 400)
    assert listed(client) == ["lsr-demo"]
    # It exists for everything but reads: its port conflicts, it keeps the accelerator busy while init.
    conflict = {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 81, "ToPort": 81}]}
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "x"}).code == "StateError.Accelerator"
    clock.now += TRANSITION
    assert sdk_error(client, "CreateListener", conflict).code == "PortConflict.Listener"
    sdk_call(client, "UpdateListener", {"ListenerId": new, "Name": "written-while-unseen"})  # writes see the truth
    clock.now += LAG - TRANSITION - 0.001
    assert sdk_error(client, "DescribeListener", {"ListenerId": new}).code == "NotExist.Listener"
    clock.now += 0.001
    assert (describe(client, new)["Name"], describe(client, new)["State"]) == ("written-while-unseen", "updating")
    assert listed(client) == ["lsr-demo", new]


def test_create_lag_listener_counts_for_the_quota(server: EmulatorServer, client: Client, clock: FakeClock) -> None:
    admin(server, "POST", "/_emulator/modes", {"create_lag": LAG, "listener_quota": 2})
    sdk_call(client, "CreateListener", {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 81, "ToPort": 81}]})
    clock.now += TRANSITION
    error = sdk_error(client, "CreateListener", {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 82,
                                                                                            "ToPort": 82}]})
    assert error.code == "QuotaExceeded.Listener"


def test_visibility_lag_after_an_update(server: EmulatorServer, client: Client, clock: FakeClock) -> None:
    admin(server, "POST", "/_emulator/modes", {"visibility_lag": LAG})
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "new", "IdleTimeout": 30})
    seen = describe(client)
    assert (seen["State"], seen["Name"], seen["IdleTimeout"]) == ("active", "", 900)  # as before the write
    [item] = sdk_call(client, "ListListeners", {"AcceleratorId": "ga-demo"})["Listeners"]
    assert (item["State"], item["Name"]) == ("active", "")
    # writes are judged on the truth: the listener is updating
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "other"}).code == "NotActive.Listener"
    assert server.backend.snapshot()["Listeners"][0]["State"] == "updating"
    clock.now += TRANSITION
    assert (describe(client)["State"], describe(client)["Name"]) == ("active", "")  # still the old values
    clock.now += LAG - TRANSITION
    assert (describe(client)["State"], describe(client)["Name"], describe(client)["IdleTimeout"]) == ("active",
                                                                                                      "new", 30)


def test_visibility_lag_shorter_than_the_transition_shows_the_truth_after(
    server: EmulatorServer, client: Client, clock: FakeClock
) -> None:
    admin(server, "POST", "/_emulator/modes", {"visibility_lag": 1.0})
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "new"})
    assert describe(client)["State"] == "active"
    clock.now += 1.0
    assert (describe(client)["State"], describe(client)["Name"]) == ("updating", "new")


def test_visibility_lag_after_a_delete(server: EmulatorServer, client: Client, clock: FakeClock) -> None:
    admin(server, "POST", "/_emulator/modes", {"visibility_lag": LAG})
    sdk_call(client, "DeleteListener", {"ListenerId": "lsr-demo"})
    assert describe(client)["State"] == "active" and listed(client) == ["lsr-demo"]
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "x"}).code == "NotActive.Listener"
    clock.now += TRANSITION  # gone for writes, still there for reads
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "x"}).code == "NotExist.Listener"
    assert describe(client)["State"] == "active" and listed(client) == ["lsr-demo"]
    clock.now += LAG - TRANSITION
    assert sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"}).code == "NotExist.Listener"
    assert listed(client) == []


@pytest.mark.parametrize("reset", [False, True])
def test_reset_omitted(server: EmulatorServer, client: Client, clock: FakeClock, reset: bool) -> None:
    admin(server, "POST", "/_emulator/modes", {"reset_omitted": reset})
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "ProxyProtocol": True})
    clock.now += TRANSITION
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "renamed"})  # no ProxyProtocol sent
    clock.now += TRANSITION
    assert describe(client)["ProxyProtocol"] is not reset
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Protocol": "http",
                                        "PortRanges": [{"FromPort": 80, "ToPort": 80}],
                                        "XForwardedForConfig": {"XRealIpEnabled": True,
                                                                "XForwardedForPortEnabled": True}})  # fmt: skip
    clock.now += TRANSITION
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "XForwardedForConfig": {"XForwardedForGaIdEnabled":
                                                                                         True}})  # fmt: skip
    clock.now += TRANSITION
    flags = describe(client)["XForwardedForConfig"]
    assert flags["XForwardedForGaIdEnabled"] is True
    assert (flags["XRealIpEnabled"], flags["XForwardedForPortEnabled"]) == (not reset, not reset)
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "again"})  # no XForwardedForConfig at all
    clock.now += TRANSITION
    assert describe(client)["XForwardedForConfig"]["XForwardedForGaIdEnabled"] is True  # left alone either way


@pytest.mark.parametrize("mode", [False, True])
def test_a_vanished_listener_can_answer_unknown_error(
    server: EmulatorServer, client: Client, clock: FakeClock, mode: bool
) -> None:
    admin(server, "POST", "/_emulator/modes", {"vanished_unknown_error": mode})
    sdk_call(client, "DeleteListener", {"ListenerId": "lsr-demo", "AcceleratorId": "ga-demo"})
    assert describe(client)["State"] == "deleting"
    clock.now += TRANSITION
    error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
    expected = ("UnknownError", 500) if mode else ("NotExist.Listener", 400)
    assert (error.code, error.status_code) == expected
    if mode:
        assert "unknown error, exception or failure" in error.message
    never = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-never-existed"})
    assert (never.code, never.status_code) == ("NotExist.Listener", 400)
    # Writes and lists are not concerned: the listener is simply gone for them.
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "x"}).code == "NotExist.Listener"
    assert listed(client) == []


@pytest.mark.parametrize("mode", [False, True])
def test_the_listeners_of_a_deleted_accelerator_are_gone(server: EmulatorServer, client: Client, mode: bool) -> None:
    admin(server, "POST", "/_emulator/modes", {"deleted_accelerator_unknown_error": mode})
    status, answer = admin(server, "DELETE", "/_emulator/accelerators", {"accelerator_id": "ga-demo"})
    assert (status, answer) == (200, {"accelerator_id": "ga-demo", "listeners": ["lsr-demo"]})
    error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (error.code, error.status_code) == (("UnknownError", 500) if mode else ("NotExist.Listener", 400))
    assert sdk_error(client, "ListListeners", {"AcceleratorId": "ga-demo"}).code == "NotExist.Accelerator"
    assert sdk_error(client, "DeleteListener", {"ListenerId": "lsr-demo"}).code == "NotExist.Listener"
    assert admin(server, "GET", "/_emulator/accelerators")[1] == []
    status, refused = admin(server, "DELETE", "/_emulator/accelerators", {"accelerator_id": "ga-demo"})
    assert (status, refused["Code"]) == (400, "InvalidParameter")


def test_a_second_write_during_the_lag_shows_the_listener_as_it_was_just_before_it(
    server: EmulatorServer, client: Client, clock: FakeClock
) -> None:
    admin(server, "POST", "/_emulator/modes", {"visibility_lag": LAG})
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "first"})
    clock.now += TRANSITION
    assert describe(client)["Name"] == ""
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-demo", "Name": "second"})
    assert describe(client)["Name"] == "first"  # reads move forward, never back
    clock.now += LAG
    assert describe(client)["Name"] == "second"
