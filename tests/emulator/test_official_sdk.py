"""Alibaba's official SDK client, unchanged, against the emulator over HTTP with both signature versions."""

from __future__ import annotations

import pytest
from alibabacloud_ga20191120 import models
from alibabacloud_ga20191120.client import Client
from alibabacloud_tea_openapi.exceptions import ServerException, ThrottlingException
from Tea.exceptions import TeaException

from ga_emulator import EmulatorServer, ListenerSeed
from tests.emulator.support import (
    STS_ID,
    STS_SECRET,
    STS_TOKEN,
    official_client,
    sdk_call,
    sdk_error,
    sdk_generic_call,
    wait_for_state,
)

LISTENER_ACTIONS = {"CreateListener", "DescribeListener", "ListListeners", "UpdateListener", "DeleteListener"}


def describe(client: Client, listener_id: str) -> models.DescribeListenerResponseBody:
    request = models.DescribeListenerRequest(listener_id=listener_id, region_id="cn-hangzhou")
    body: models.DescribeListenerResponseBody = client.describe_listener(request).body
    return body


def test_whole_lifecycle(emulator: EmulatorServer, official: Client, signature_version: str) -> None:
    created = official.create_listener(
        models.CreateListenerRequest(
            accelerator_id="ga-demo", region_id="cn-hangzhou", client_token="create-1", protocol="tcp",
            name="web", port_ranges=[models.CreateListenerRequestPortRanges(from_port=81, to_port=82)],
        )
    ).body  # fmt: skip
    assert created.listener_id.startswith("lsr-") and created.request_id
    assert describe(official, created.listener_id).state == "init"
    wait_for_state(emulator, created.listener_id, "active")
    live = describe(official, created.listener_id)
    assert (live.state, live.name, live.protocol, live.accelerator_id) == ("active", "web", "TCP", "ga-demo")
    assert [(r.from_port, r.to_port) for r in live.port_ranges] == [(81, 82)]
    assert (live.idle_timeout, live.client_affinity, live.proxy_protocol) == (900, "NONE", False)

    listed = official.list_listeners(models.ListListenersRequest(accelerator_id="ga-demo", region_id="cn-hangzhou"))
    assert listed.body.total_count == 2 and (listed.body.page_number, listed.body.page_size) == (1, 10)
    assert [item.listener_id for item in listed.body.listeners] == ["lsr-demo", created.listener_id]

    official.update_listener(
        models.UpdateListenerRequest(
            listener_id=created.listener_id, region_id="cn-hangzhou", client_token="update-1", name="web2",
            proxy_protocol=True, client_affinity="SOURCE_IP",
            port_ranges=[models.UpdateListenerRequestPortRanges(from_port=83, to_port=83)],
        )
    )  # fmt: skip
    assert describe(official, created.listener_id).state == "updating"
    wait_for_state(emulator, created.listener_id, "active")
    live = describe(official, created.listener_id)
    assert (live.name, live.proxy_protocol, live.client_affinity) == ("web2", True, "SOURCE_IP")
    assert [(r.from_port, r.to_port) for r in live.port_ranges] == [(83, 83)]

    official.delete_listener(
        models.DeleteListenerRequest(accelerator_id="ga-demo", listener_id=created.listener_id, client_token="d-1")
    )
    assert describe(official, created.listener_id).state == "deleting"
    wait_for_state(emulator, created.listener_id, "gone")
    with pytest.raises(TeaException) as gone:
        describe(official, created.listener_id)
    assert (gone.value.code, gone.value.status_code) == ("NotExist.Listener", 400)

    assert {call.signature_version for call in emulator.calls} == {signature_version}
    assert {call.action for call in emulator.calls} == LISTENER_ACTIONS


def test_update_records_only_the_parameters_sent(emulator: EmulatorServer, official: Client) -> None:
    official.update_listener(models.UpdateListenerRequest(listener_id="lsr-demo", name="renamed"))
    [call] = emulator.calls.of("UpdateListener")
    assert call.params == {"ListenerId": "lsr-demo", "Name": "renamed"}
    assert (call.http_status, call.code, call.replayed) == (200, None, False)


def test_wrong_secret_is_signature_does_not_match(emulator: EmulatorServer, signature_version: str) -> None:
    client = official_client(emulator, signature_version, secret="not-the-secret")
    error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (error.code, error.status_code) == ("SignatureDoesNotMatch", 400)
    assert "server string to sign is:" in error.message
    assert "ga-demo-key-secret" not in error.message  # the server's own copy of the secret is never echoed
    [call] = emulator.calls
    assert (call.code, call.request_id) == ("SignatureDoesNotMatch", error.request_id)


def test_unknown_access_key(emulator: EmulatorServer, signature_version: str) -> None:
    client = official_client(emulator, signature_version, key_id="nobody")
    error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (error.code, error.status_code) == ("InvalidAccessKeyId.NotFound", 404)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (STS_TOKEN, None),
        (None, "InvalidSecurityToken.Malformed"),
        ("another-token", "InvalidSecurityToken.MismatchWithAccessKey"),
    ],
)
def test_sts_token_is_checked(
    emulator: EmulatorServer, signature_version: str, token: str | None, code: str | None
) -> None:
    client = official_client(emulator, signature_version, key_id=STS_ID, secret=STS_SECRET, token=token)
    if code is None:
        assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "active"
        return
    error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (error.code, error.status_code) == (code, 400)
    assert STS_TOKEN not in error.message and "another-token" not in error.message


def test_unknown_action_and_version_through_the_generic_api(emulator: EmulatorServer, official: Client) -> None:
    with pytest.raises(TeaException) as unknown:
        sdk_generic_call(official, "DescribeAccelerators", {"RegionId": "cn-hangzhou"})
    assert (unknown.value.code, unknown.value.status_code) == ("InvalidAction.NotFound", 404)
    with pytest.raises(TeaException) as version:
        sdk_generic_call(official, "DescribeListener", {"ListenerId": "lsr-demo"}, version="2018-01-01")
    assert (version.value.code, version.value.status_code) == ("InvalidVersion", 400)


def test_https_listener_fields_as_the_sdk_models_read_them(emulator: EmulatorServer, official: Client) -> None:
    body = sdk_call(
        official, "CreateListener",
        {
            "AcceleratorId": "ga-demo", "Protocol": "HTTPS", "PortRanges": [{"FromPort": 443, "ToPort": 443}],
            "Certificates": [{"Id": "cert-1"}], "HttpVersion": "http3", "SecurityPolicyId": "tls_cipher_policy_1_2",
            "XForwardedForConfig": {"XRealIpEnabled": True, "XForwardedForProtoEnabled": True},
        },
    )  # fmt: skip
    live = describe(official, body["ListenerId"])
    assert (live.protocol, live.idle_timeout, live.request_timeout) == ("HTTPS", 15, 60)
    assert (live.http_version, live.security_policy_id) == ("http3", "tls_cipher_policy_1_2")
    assert [(c.id, c.type) for c in live.certificates] == [("cert-1", "Server")]
    xff = live.xforwarded_for_config
    assert (xff.xreal_ip_enabled, xff.xforwarded_for_proto_enabled, xff.xforwarded_for_ga_id_enabled) == (
        True, True, False,
    )  # fmt: skip
    assert live.create_time.isdigit() and live.type == "Standard"


def test_paging_follows_page_number_and_size(emulator: EmulatorServer, official: Client) -> None:
    for port in (81, 82, 83, 84):
        emulator.backend.seed_listener(ListenerSeed.parse(f"ga-demo:lsr-{port}:tcp:{port}-{port}"))
    seen = []
    for page in (1, 2, 3):
        body = sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo", "PageNumber": page, "PageSize": 2})
        assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (5, page, 2)
        seen += [item["ListenerId"] for item in body["Listeners"]]
    assert seen == ["lsr-demo", "lsr-81", "lsr-82", "lsr-83", "lsr-84"]
    empty = sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo", "PageNumber": 4, "PageSize": 2})
    assert empty["Listeners"] == [] and empty["TotalCount"] == 5
    udp = sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo", "Protocol": "UDP"})
    assert udp["TotalCount"] == 0


def test_faults_as_the_sdk_reports_them(emulator: EmulatorServer, official: Client) -> None:
    emulator.faults.enqueue("throttle")
    emulator.faults.enqueue("throttle429")
    emulator.faults.enqueue("unavailable")
    throttled = sdk_error(official, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (throttled.code, throttled.status_code) == ("Throttling.User", 400)
    with pytest.raises(ThrottlingException) as too_many:
        sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})
    throttling = too_many.value
    assert (throttling.code, throttling.status_code, throttling.retry_after) == ("Throttling.User", 429, 1000)
    with pytest.raises(ServerException) as unavailable:
        sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})
    assert (unavailable.value.code, unavailable.value.status_code) == ("ServiceUnavailable", 503)
    assert sdk_call(official, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "active"
