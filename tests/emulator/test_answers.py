"""What DescribeListener and ListListeners answer, field by field and type by type, as the real service (and the
official SDK's response models) have it; and what CreateListener takes and ignores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, RawClient, official_client, sdk_call, sdk_error

REGION = {"RegionId": "cn-hangzhou"}
SEEDS = ["ga-a:lsr-tcp:tcp:80-80", "ga-a:lsr-https:https:443-443"]


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-a"], listeners=SEEDS, transition_seconds=0) as s:
        yield s


@pytest.fixture
def client(server: EmulatorServer) -> Client:
    return official_client(server)


def raw(server: EmulatorServer, action: str, params: dict[str, str]) -> dict[str, Any]:
    """The JSON body exactly as sent (the SDK's models would not show a wrong type)."""
    status, body = RawClient(server).request("v3", action, {**REGION, **params})
    assert status == 200, body
    return body


def configure_https(client: Client) -> None:
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-https", "Certificates": [{"Id": "cert-1"}],
                                        "BackendPorts": [{"FromPort": 8443, "ToPort": 8443}]})  # fmt: skip


DESCRIBE_KEYS = {
    "RequestId", "ListenerId", "AcceleratorId", "Name", "Description", "State", "Protocol", "PortRanges",
    "BackendPorts", "Certificates", "ClientAffinity", "ProxyProtocol", "IdleTimeout", "XForwardedForConfig",
    "Type", "CreateTime", "AclType", "RelatedAcls", "ServiceId", "ServiceManaged", "ServiceManagedInfos",
    "RequestTimeout", "HttpVersion", "SecurityPolicyId",
}  # fmt: skip


def test_describe_listener_answers_the_service_shapes(server: EmulatorServer, client: Client) -> None:
    configure_https(client)
    body = raw(server, "DescribeListener", {"ListenerId": "lsr-https"})
    assert set(body) == DESCRIBE_KEYS
    assert body["Protocol"] == "HTTPS"
    assert body["BackendPorts"] == [{"FromPort": "8443", "ToPort": "8443"}]  # strings, as the SDK model types them
    assert body["PortRanges"] == [{"FromPort": 443, "ToPort": 443}]  # integers
    assert body["Certificates"] == [{"Id": "cert-1", "Type": "Server"}]
    assert isinstance(body["CreateTime"], str) and body["CreateTime"].isdigit()
    assert (body["AclType"], body["RelatedAcls"]) == ("", [])
    assert (body["ServiceId"], body["ServiceManaged"], body["ServiceManagedInfos"]) == ("", False, [])
    tcp = raw(server, "DescribeListener", {"ListenerId": "lsr-tcp"})
    assert tcp["Protocol"] == "TCP"
    assert set(tcp) == DESCRIBE_KEYS - {"RequestTimeout", "HttpVersion", "SecurityPolicyId"}


def test_list_listeners_items_have_an_integer_create_time_and_no_acl_fields(
    server: EmulatorServer, client: Client
) -> None:
    configure_https(client)
    described = raw(server, "DescribeListener", {"ListenerId": "lsr-https"})
    [_, listed] = raw(server, "ListListeners", {"AcceleratorId": "ga-a"})["Listeners"]
    assert listed["CreateTime"] == int(described["CreateTime"])
    expected = {key: value for key, value in described.items() if key not in ("AclType", "RelatedAcls", "RequestId")}
    assert {**listed, "CreateTime": described["CreateTime"]} == expected
    typed = sdk_call(client, "ListListeners", {"AcceleratorId": "ga-a"})["Listeners"][1]
    assert (typed["Protocol"], typed["BackendPorts"]) == ("HTTPS", [{"FromPort": "8443", "ToPort": "8443"}])


def test_create_listener_defaults_per_protocol(server: EmulatorServer, client: Client) -> None:
    created = {
        protocol: sdk_call(client, "CreateListener", {
            "AcceleratorId": "ga-a", "Protocol": protocol.upper(), "PortRanges": [{"FromPort": port, "ToPort": port}],
            **({"Certificates": [{"Id": "c"}]} if protocol == "https" else {}),
        })["ListenerId"]
        for protocol, port in (("tcp", 90), ("udp", 91), ("http", 92), ("https", 93))
    }  # fmt: skip
    answers = {protocol: raw(server, "DescribeListener", {"ListenerId": lsr}) for protocol, lsr in created.items()}
    assert {protocol: body["IdleTimeout"] for protocol, body in answers.items()} == {
        "tcp": 900, "udp": 20, "http": 15, "https": 15}  # fmt: skip
    assert (answers["http"]["RequestTimeout"], answers["https"]["RequestTimeout"]) == (60, 60)
    assert (answers["https"]["HttpVersion"], answers["https"]["SecurityPolicyId"]) == ("http2", "tls_cipher_policy_1_0")
    for body in answers.values():
        assert (body["Type"], body["ClientAffinity"], body["ProxyProtocol"]) == ("Standard", "NONE", False)
        assert not any(body["XForwardedForConfig"].values())


def test_create_listener_ignores_what_its_sdk_request_does_not_define(server: EmulatorServer) -> None:
    # Terraform sends ProxyProtocol on create; the SDK 3.0.2 request has neither it nor BackendPorts.
    params = {
        "AcceleratorId": "ga-a", "Protocol": "http", "PortRanges.1.FromPort": "8080", "PortRanges.1.ToPort": "8080",
        "ProxyProtocol": "true", "BackendPorts.1.FromPort": "9000", "BackendPorts.1.ToPort": "9000",
        "EndpointGroupConfigurations.1.EndpointGroupRegion": "cn-hangzhou",
        "EndpointGroupConfigurations.1.EndpointConfigurations.1.Endpoint": "1.2.3.4",
    }  # fmt: skip
    listener_id = raw(server, "CreateListener", params)["ListenerId"]
    body = raw(server, "DescribeListener", {"ListenerId": listener_id})
    assert (body["ProxyProtocol"], body["BackendPorts"], body["Protocol"]) == (False, [], "HTTP")


@pytest.mark.parametrize("sent", ["True", "false", "TRUE", "False"])
def test_update_proxy_protocol_text_in_any_case(server: EmulatorServer, client: Client, sent: str) -> None:
    sdk_call(client, "UpdateListener", {"ListenerId": "lsr-tcp", "ProxyProtocol": sent})
    assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-tcp"})["ProxyProtocol"] is (sent.lower() == "true")


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"Certificates": [{"Id": "c2"}]}, "configuring"),
        ({"SecurityPolicyId": "tls_cipher_policy_1_2", "HttpVersion": "http1.1"}, "configuring"),
        ({"XForwardedForConfig": {"XRealIpEnabled": True}, "RequestTimeout": 30}, "configuring"),
        ({"BackendPorts": [{"FromPort": 8443, "ToPort": 8443}]}, "configuring"),
        ({"Name": "web"}, "updating"),
        ({"Certificates": [{"Id": "c2"}], "IdleTimeout": 30}, "updating"),
        ({"PortRanges": [{"FromPort": 444, "ToPort": 444}]}, "updating"),
    ],
)
def test_http_level_updates_configure_the_others_update(changes: dict[str, Any], state: str) -> None:
    with EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-a"], listeners=SEEDS, transition_seconds=5) as s:
        client = official_client(s)
        sdk_call(client, "UpdateListener", {"ListenerId": "lsr-https", **changes})
        assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-https"})["State"] == state
        error = sdk_error(client, "UpdateListener", {"ListenerId": "lsr-https", "Name": "again"})
        assert error.code == "NotActive.Listener" and state in error.message


def test_delete_takes_an_optional_accelerator_id_and_ignores_region(server: EmulatorServer) -> None:
    client = RawClient(server)
    status, body = client.request("v3", "DeleteListener", {"ListenerId": "lsr-tcp", "AcceleratorId": "ga-other"})
    assert (status, body["Code"]) == (400, "NotExist.Listener") and "ga-other" in body["Message"]
    status, _ = client.request("v3", "DeleteListener", {"ListenerId": "lsr-tcp", "RegionId": "cn-beijing"})
    assert status == 200  # no AcceleratorId needed; a RegionId DeleteListener does not define is ignored
    status, body = client.request("v3", "DescribeListener", {"ListenerId": "lsr-tcp", **REGION})
    assert (status, body["Code"]) == (400, "NotExist.Listener")
