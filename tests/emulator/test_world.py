"""What the world around a listener decides, through the official SDK, and the admin endpoints that change it
at run time: quotas, basic bandwidth packages, endpoint groups, forwarding rules, service-managed listeners."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, admin, official_client, sdk_call, sdk_error

SEEDS = ["ga-a:lsr-1:tcp:80-80", "ga-a:lsr-2:tcp:81-81"]
DELETE_1 = {"ListenerId": "lsr-1", "AcceleratorId": "ga-a"}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-a"], listeners=SEEDS, transition_seconds=0) as s:
        yield s


@pytest.fixture
def client(server: EmulatorServer) -> Client:
    return official_client(server)


def ports(low: int, high: int) -> list[dict[str, int]]:
    return [{"FromPort": low, "ToPort": high}]


def create(client: Client, port: int, accelerator_id: str = "ga-a") -> Any:
    return sdk_call(client, "CreateListener", {"AcceleratorId": accelerator_id, "PortRanges": ports(port, port)})


def test_listener_quota_counts_every_listener_of_the_accelerator(server: EmulatorServer, client: Client) -> None:
    assert admin(server, "POST", "/_emulator/modes", {"listener_quota": 3})[0] == 200
    create(client, 90)
    error = sdk_error(client, "CreateListener", {"AcceleratorId": "ga-a", "PortRanges": ports(91, 91)})
    assert (error.code, error.status_code) == ("QuotaExceeded.Listener", 400)
    assert "maximum number of listeners" in error.message and "quota is 3" in error.message
    sdk_call(client, "DeleteListener", DELETE_1)
    create(client, 91)  # the deleted one no longer counts


def test_the_default_listener_quota_is_50() -> None:
    seeds = [f"ga-q:lsr-{port}:tcp:{port}-{port}" for port in range(1000, 1049)]
    with EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-q"], listeners=seeds, transition_seconds=0) as s:
        client = official_client(s)
        create(client, 2000, "ga-q")  # the 50th
        assert sdk_error(client, "CreateListener", {"AcceleratorId": "ga-q", "PortRanges": ports(2001, 2001)}).code \
            == "QuotaExceeded.Listener"  # fmt: skip


def test_port_quota_is_a_mode(server: EmulatorServer, client: Client) -> None:
    update = {"ListenerId": "lsr-1", "PortRanges": ports(100, 105)}
    assert admin(server, "POST", "/_emulator/modes", {"port_quota": 5})[1]["port_quota"] == 5
    error = sdk_error(client, "UpdateListener", update)
    assert (error.code, "6 ports requested, the quota is 5" in error.message) == ("QuotaExceeded.ListenerPort", True)
    admin(server, "POST", "/_emulator/modes", {"port_quota": 6})
    sdk_call(client, "UpdateListener", update)


def test_an_accelerator_without_a_basic_bandwidth_package(client: Client, server: EmulatorServer) -> None:
    status, answer = admin(server, "POST", "/_emulator/accelerators",
                           {"accelerator_id": "ga-new", "basic_bandwidth_package": False})  # fmt: skip
    assert (status, answer) == (200, {"accelerator_id": "ga-new", "state": "active", "basic_bandwidth_package": False})
    error = sdk_error(client, "CreateListener", {"AcceleratorId": "ga-new", "PortRanges": ports(80, 80)})
    assert (error.code, error.status_code) == ("NotExist.BasicBandwidthPackage", 400)
    assert "You must specify the basic bandwidth package." in error.message
    admin(server, "POST", "/_emulator/accelerators", {"accelerator_id": "ga-new", "basic_bandwidth_package": True})
    create(client, 80, "ga-new")
    assert admin(server, "GET", "/_emulator/accelerators")[1] == [
        {"accelerator_id": "ga-a", "state": "active", "basic_bandwidth_package": True},
        {"accelerator_id": "ga-new", "state": "active", "basic_bandwidth_package": True},
    ]


def test_accelerator_state_through_the_admin_endpoint(client: Client, server: EmulatorServer) -> None:
    admin(server, "POST", "/_emulator/accelerators", {"accelerator_id": "ga-a", "state": "configuring"})
    assert sdk_error(client, "UpdateListener", {"ListenerId": "lsr-1", "Name": "x"}).code == "StateError.Accelerator"
    admin(server, "POST", "/_emulator/accelerators", {"accelerator_id": "ga-a", "state": "active"})
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-1", "Name": "x"})


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/_emulator/endpoint-groups", "Exist.EndpointGroup", "The endpoint group already exists."),
        ("/_emulator/forwarding-rules", "Exist.ForwardingRule", "The forwarding rule already exists."),
    ],
)
def test_delete_refused_while_dependents_hang_off_the_listener(
    server: EmulatorServer, client: Client, path: str, code: str, message: str
) -> None:
    assert admin(server, "POST", path, {"listener_id": "lsr-1", "count": 2}) == (200, {"listener_id": "lsr-1",
                                                                                      "count": 2})  # fmt: skip
    assert admin(server, "GET", path) == (200, {"lsr-1": 2})
    error = sdk_error(client, "DeleteListener", DELETE_1)
    assert (error.code, error.status_code, message in error.message) == (code, 400, True)
    assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-1"})["State"] == "active"  # nothing changed
    assert admin(server, "DELETE", path, {"listener_id": "lsr-1", "count": 1})[1]["count"] == 1
    assert sdk_error(client, "DeleteListener", DELETE_1).code == code
    assert admin(server, "DELETE", path, {"listener_id": "lsr-1"})[1] == {"listener_id": "lsr-1", "count": 0}
    sdk_call(client, "DeleteListener", DELETE_1)


def test_endpoint_groups_are_reported_before_forwarding_rules(server: EmulatorServer, client: Client) -> None:
    admin(server, "POST", "/_emulator/forwarding-rules", {"listener_id": "lsr-1"})
    admin(server, "POST", "/_emulator/endpoint-groups", {"listener_id": "lsr-1"})
    assert sdk_error(client, "DeleteListener", DELETE_1).code == "Exist.EndpointGroup"
    admin(server, "DELETE", "/_emulator/endpoint-groups", {"listener_id": "lsr-1"})
    assert sdk_error(client, "DeleteListener", DELETE_1).code == "Exist.ForwardingRule"
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-1", "Name": "still-writable"})  # only delete is blocked


MANAGED_INFOS = [
    {"Action": "Update", "ChildType": "Listener", "IsManaged": True},
    {"Action": "Delete", "ChildType": "Listener", "IsManaged": True},
]


def test_a_service_managed_listener_is_read_only(server: EmulatorServer, client: Client) -> None:
    answer = admin(server, "POST", "/_emulator/service-managed", {"listener_id": "lsr-1"})
    assert answer == (200, {"listener_id": "lsr-1", "managed": True, "service_id": "ALB"})
    body = sdk_call(client, "DescribeListener", {"ListenerId": "lsr-1"})
    assert (body["ServiceManaged"], body["ServiceId"], body["ServiceManagedInfos"]) == (True, "ALB", MANAGED_INFOS)
    [listed, _] = sdk_call(client, "ListListeners", {"AcceleratorId": "ga-a"})["Listeners"]
    assert (listed["ServiceManaged"], listed["ServiceManagedInfos"]) == (True, MANAGED_INFOS)
    for action, params in (("UpdateListener", {"ListenerId": "lsr-1", "Name": "mine"}), ("DeleteListener", DELETE_1)):
        error = sdk_error(client, action, params)
        assert (error.code, error.status_code) == ("InvalidOperation.ResourceManagedByCloudProduct", 400), action
        assert "managed by ALB" in error.message
    assert admin(server, "GET", "/_emulator/service-managed") == (200, {"lsr-1": "ALB"})
    admin(server, "POST", "/_emulator/service-managed", {"listener_id": "lsr-1", "managed": False})
    assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-1"})["ServiceManaged"] is False
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-1", "Name": "mine"})


def test_a_replayed_write_still_answers_once_the_listener_is_managed(server: EmulatorServer, client: Client) -> None:
    update = {"ListenerId": "lsr-1", "Name": "before", "ClientToken": "tok"}
    first = sdk_call(client, "UpdateListener", update)
    admin(server, "POST", "/_emulator/service-managed", {"listener_id": "lsr-1", "service_id": "NLB"})
    assert sdk_call(client, "UpdateListener", update)["RequestId"] == first["RequestId"]


@pytest.mark.parametrize(
    ("method", "path", "body", "text"),
    [
        ("POST", "/_emulator/modes", {"port_quota": -1}, "port_quota"),
        ("POST", "/_emulator/modes", {"port_quota": True}, "port_quota"),
        ("POST", "/_emulator/modes", {"create_lag": "soon"}, "create_lag"),
        ("POST", "/_emulator/modes", {"visibility_lag": 1e9}, "visibility_lag"),
        ("POST", "/_emulator/modes", {"reset_omitted": 1}, "reset_omitted"),
        ("POST", "/_emulator/modes", {"quota": 5}, "unknown mode"),
        ("POST", "/_emulator/modes", {"fault_rate": 2}, "fault_rate"),
        ("POST", "/_emulator/modes", {"fault_kinds": ["meteor"]}, "meteor"),
        ("POST", "/_emulator/modes", [1], "JSON object"),
        ("POST", "/_emulator/accelerators", {"accelerator_id": ""}, "id"),
        ("POST", "/_emulator/accelerators", {"accelerator_id": "ga-a", "basic_bandwidth_package": "no"},
         "basic_bandwidth_package"),
        ("POST", "/_emulator/endpoint-groups", {"listener_id": "lsr-nope"}, "lsr-nope"),
        ("POST", "/_emulator/endpoint-groups", {"listener_id": "lsr-1", "count": -1}, "cannot attach"),
        ("DELETE", "/_emulator/forwarding-rules", {"listener_id": "lsr-1", "extra": 1}, "extra"),
        ("POST", "/_emulator/service-managed", {"listener_id": "lsr-1", "service_id": ""}, "service id"),
        ("POST", "/_emulator/service-managed", {"listener_id": "lsr-1", "managed": "yes"}, "managed"),
        ("POST", "/_emulator/service-managed", {"listener_id": "lsr-gone"}, "lsr-gone"),
    ],
)  # fmt: skip
def test_invalid_admin_input_is_a_400_json_error_and_changes_nothing(
    server: EmulatorServer, method: str, path: str, body: Any, text: str
) -> None:
    before = (server.backend.snapshot(), server.backend.modes, server.faults.rate, server.faults.kinds)
    status, answer = admin(server, method, path, body)
    assert (status, answer["Code"]) == (400, "InvalidParameter") and text in answer["Message"]
    assert (server.backend.snapshot(), server.backend.modes, server.faults.rate, server.faults.kinds) == before


def test_modes_answer_all_switches_and_change_only_those_posted(server: EmulatorServer) -> None:
    defaults = {"port_quota": 30, "listener_quota": 50, "create_lag": 0.0, "visibility_lag": 0.0,
                "reset_omitted": False, "vanished_unknown_error": False, "deleted_accelerator_unknown_error": False,
                "fault_rate": 0.0,
                "fault_kinds": ["throttle", "throttle429", "unavailable", "drop", "drop_after", "slow"]}  # fmt: skip
    assert admin(server, "GET", "/_emulator/modes") == (200, defaults)
    status, answer = admin(server, "POST", "/_emulator/modes", {"create_lag": 2, "reset_omitted": True,
                                                                 "fault_kinds": ["unknown_error"]})  # fmt: skip
    assert (status, answer) == (200, {**defaults, "create_lag": 2.0, "reset_omitted": True,
                                      "fault_kinds": ["unknown_error"]})  # fmt: skip
    assert server.backend.modes.create_lag == 2.0 and server.faults.kinds == ("unknown_error",)
