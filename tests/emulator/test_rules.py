"""Every parameter rule of ga-api.md with its error code and HTTP status, through HTTP with the official SDK.

Refused requests change nothing, so one emulator serves the whole table. Each row also names a text the
message must contain (the parameter, and where useful the rule), so a right code for the wrong reason fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ga20191120.client import Client

from ga_emulator import EmulatorServer
from tests.emulator.support import CREDENTIALS, official_client, sdk_call, sdk_error

SEEDS = [
    "ga-r:lsr-tcp:tcp:80-80",
    "ga-r:lsr-udp:udp:53-53",
    "ga-r:lsr-http:http:8080-8080",
    "ga-r:lsr-https:https:443-443",
    "ga-r:lsr-range:tcp:9000-9009",
    "ga-s:lsr-s:tcp:80-80",
]


@pytest.fixture(scope="module")
def rules_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-r", "ga-s"], listeners=SEEDS) as server:
        yield server


@pytest.fixture(scope="module")
def client(rules_emulator: EmulatorServer) -> Client:
    return official_client(rules_emulator)


def ports(*ranges: tuple[int, int]) -> list[dict[str, int]]:
    return [{"FromPort": low, "ToPort": high} for low, high in ranges]


def update(listener_id: str, **params: Any) -> tuple[str, dict[str, Any]]:
    return "UpdateListener", {"ListenerId": listener_id, **params}


def create(**params: Any) -> tuple[str, dict[str, Any]]:
    return "CreateListener", {"AcceleratorId": "ga-r", **params}


INVALID = "InvalidParameter"
ILLEGAL, CONFLICT, QUOTA = "PortRangeIllegal.Listener", "PortConflict.Listener", "QuotaExceeded.ListenerPort"
SYSTEM, UDP, MUST_ONE = "SystemPort.Listener", "PortRangeIllegal.UDP", "PortRanges.MustOne"
PROTOCOL = "ProtocalIllegal.Listener"  # sic, the service's spelling
NO_LISTENER, NO_ACCELERATOR = "NotExist.Listener", "NotExist.Accelerator"

# (id, (action, params), code, text the message must contain); every one of these codes is HTTP 400
TABLE: list[tuple[str, tuple[str, dict[str, Any]], str, str]] = [
    # required parameters: Missing<Name>, "<Name> is mandatory for this action."
    ("update-no-listener-id", ("UpdateListener", {"Name": "x"}), "MissingListenerId", "ListenerId is mandatory"),
    ("create-no-ports", ("CreateListener", {"AcceleratorId": "ga-r"}), "MissingPortRanges", "PortRanges"),
    ("create-no-accelerator", ("CreateListener", {"PortRanges": ports((1, 1))}), "MissingAcceleratorId",
     "AcceleratorId"),
    ("create-no-region", create(PortRanges=ports((1, 1)), RegionId=None), "MissingRegionId", "RegionId"),
    ("create-https-no-certificate", create(Protocol="https", PortRanges=ports((8443, 8443))), "MissingCertificates",
     "Certificates is mandatory"),
    ("describe-no-id", ("DescribeListener", {}), "MissingListenerId", "ListenerId"),
    ("describe-no-region", ("DescribeListener", {"ListenerId": "lsr-tcp", "RegionId": None}), "MissingRegionId",
     "RegionId is mandatory for this action."),
    ("list-no-accelerator", ("ListListeners", {}), "MissingAcceleratorId", "AcceleratorId"),
    ("list-no-region", ("ListListeners", {"AcceleratorId": "ga-r", "RegionId": None}), "MissingRegionId", "RegionId"),
    ("delete-no-id", ("DeleteListener", {"AcceleratorId": "ga-r"}), "MissingListenerId", "ListenerId"),
    ("range-without-to", update("lsr-tcp", PortRanges=[{"FromPort": 81}]), "MissingPortRanges.1.ToPort",
     "PortRanges.1.ToPort is mandatory for this action."),
    # types
    ("from-port-abc", update("lsr-tcp", PortRanges=[{"FromPort": "abc", "ToPort": 81}]), INVALID, "FromPort"),
    ("idle-timeout-word", update("lsr-tcp", IdleTimeout="ten"), INVALID, "IdleTimeout"),
    ("proxy-protocol-maybe", update("lsr-tcp", ProxyProtocol="maybe"), INVALID, "ProxyProtocol"),
    ("xff-not-bool", update("lsr-http", XForwardedForConfig={"XRealIpEnabled": "yes"}), INVALID, "XRealIpEnabled"),
    ("client-token-65", update("lsr-tcp", Name="x", ClientToken="t" * 65), INVALID, "ClientToken"),
    ("client-token-non-ascii", update("lsr-tcp", Name="x", ClientToken="tökén"), INVALID, "ClientToken"),
    ("region-not-hangzhou", update("lsr-tcp", Name="x", RegionId="cn-beijing"), INVALID, "RegionId"),
    ("page-size-51", ("ListListeners", {"AcceleratorId": "ga-r", "PageSize": 51}), INVALID, "PageSize"),
    ("page-number-0", ("ListListeners", {"AcceleratorId": "ga-r", "PageNumber": 0}), INVALID, "PageNumber"),
    ("list-protocol-ftp", ("ListListeners", {"AcceleratorId": "ga-r", "Protocol": "ftp"}), INVALID, "Protocol"),
    # existence
    ("update-unknown-listener", update("lsr-nope", Name="x"), NO_LISTENER, "lsr-nope"),
    ("describe-unknown-listener", ("DescribeListener", {"ListenerId": "lsr-nope"}), NO_LISTENER, "lsr-nope"),
    ("delete-unknown-listener", ("DeleteListener", {"ListenerId": "lsr-nope", "AcceleratorId": "ga-r"}), NO_LISTENER,
     "lsr-nope"),
    ("delete-elsewhere", ("DeleteListener", {"ListenerId": "lsr-tcp", "AcceleratorId": "ga-s"}), NO_LISTENER, "ga-s"),
    ("create-no-such-accelerator", create(AcceleratorId="ga-nope", PortRanges=ports((1, 1))), NO_ACCELERATOR, "nope"),
    ("list-unknown-accelerator", ("ListListeners", {"AcceleratorId": "ga-nope"}), NO_ACCELERATOR, "ga-nope"),
    # port ranges
    ("port-0", update("lsr-tcp", PortRanges=ports((0, 80))), ILLEGAL, "1..65499"),
    ("port-65500", update("lsr-tcp", PortRanges=ports((65500, 65500))), SYSTEM, "65500-65535 are system reserved"),
    ("range-into-65535", update("lsr-tcp", PortRanges=ports((65490, 65535))), SYSTEM, "65490-65535"),
    ("port-65536", update("lsr-tcp", PortRanges=ports((65536, 65536))), ILLEGAL, "1..65499"),
    ("udp-250", update("lsr-udp", PortRanges=ports((250, 250))), UDP, "250"),
    ("udp-range-over-4789", update("lsr-udp", PortRanges=ports((4780, 4795))), UDP, "4789"),
    ("tcp-to-udp-on-4790", update("lsr-range", Protocol="udp", IdleTimeout=20, PortRanges=ports((4790, 4790))),
     UDP, "4790"),
    ("create-udp-4790", create(Protocol="udp", PortRanges=ports((4790, 4790))), UDP, "UDP ports 250, 4789"),
    ("port-negative", update("lsr-tcp", PortRanges=ports((-1, 5))), ILLEGAL, "PortRanges.1"),
    ("from-above-to", update("lsr-tcp", PortRanges=ports((90, 80))), ILLEGAL, "FromPort"),
    ("second-range-bad", update("lsr-tcp", PortRanges=ports((81, 81), (70000, 70001))), ILLEGAL, "PortRanges.2"),
    ("http-two-ranges", update("lsr-http", PortRanges=ports((81, 81), (82, 82))), MUST_ONE, "exactly one port"),
    ("http-range", update("lsr-http", PortRanges=ports((8081, 8082))), MUST_ONE, "exactly one port"),
    ("https-range", update("lsr-https", PortRanges=ports((444, 445))), MUST_ONE, "exactly one port"),
    ("tcp-to-http-keeps-range", update("lsr-range", Protocol="http"), MUST_ONE, "exactly one port"),
    ("overlapping-ranges", update("lsr-tcp", PortRanges=ports((100, 105), (105, 110))), ILLEGAL, "overlap"),
    ("create-no-range-items", create(PortRanges=ports((90, 80))), ILLEGAL, "FromPort"),
    # conflicts and quota
    ("conflict-on-update", update("lsr-tcp", PortRanges=ports((9005, 9005))), CONFLICT, "lsr-range"),
    ("conflict-on-create", create(PortRanges=ports((443, 443))), CONFLICT, "lsr-https"),
    ("conflict-tcp-with-udp", update("lsr-tcp", PortRanges=ports((53, 53))), CONFLICT, "lsr-udp"),
    ("quota-31-in-one", update("lsr-tcp", PortRanges=ports((100, 130))), QUOTA, "31"),
    ("quota-32-summed", update("lsr-tcp", PortRanges=ports((100, 115), (200, 215))), QUOTA, "32"),
    ("quota-on-create", create(PortRanges=ports((20000, 20030))), QUOTA, "30"),
    # protocol-dependent parameters
    ("certificates-on-tcp", update("lsr-tcp", Certificates=[{"Id": "c"}]), INVALID, "Certificates"),
    ("certificates-on-http", update("lsr-http", Certificates=[{"Id": "c"}]), INVALID, "Certificates"),
    ("http-version-on-http", update("lsr-http", HttpVersion="http2"), INVALID, "HttpVersion"),
    ("policy-on-tcp", update("lsr-tcp", SecurityPolicyId="tls_cipher_policy_1_0"), INVALID, "SecurityPolicyId"),
    ("backend-ports-on-tcp", update("lsr-tcp", BackendPorts=ports((80, 80))), INVALID, "BackendPorts"),
    ("backend-ports-on-udp", update("lsr-udp", BackendPorts=ports((53, 53))), INVALID, "BackendPorts"),
    ("xff-on-tcp", update("lsr-tcp", XForwardedForConfig={"XRealIpEnabled": True}), INVALID, "XForwardedForConfig"),
    ("request-timeout-on-tcp", update("lsr-tcp", RequestTimeout=30), INVALID, "RequestTimeout"),
    ("backend-ports-from-not-to", update("lsr-http", BackendPorts=ports((80, 81))), INVALID, "BackendPorts.1"),
    ("https-to-tcp-cert", update("lsr-https", Protocol="tcp", Certificates=[{"Id": "c"}]), INVALID, "Certificates"),
    ("http-version-http4", update("lsr-https", HttpVersion="http4"), INVALID, "HttpVersion"),
    ("security-policy-unknown", update("lsr-https", SecurityPolicyId="tls_none"), INVALID, "SecurityPolicyId"),
    ("certificate-without-id", update("lsr-https", Certificates=[{"Id": ""}]), INVALID, "Certificates"),
    # timeouts per protocol
    ("tcp-idle-9", update("lsr-tcp", IdleTimeout=9), INVALID, "IdleTimeout"),
    ("tcp-idle-901", update("lsr-tcp", IdleTimeout=901), INVALID, "10..900"),
    ("udp-idle-21", update("lsr-udp", IdleTimeout=21), INVALID, "10..20"),
    ("udp-idle-9", update("lsr-udp", IdleTimeout=9), INVALID, "10..20"),
    ("http-idle-61", update("lsr-http", IdleTimeout=61), INVALID, "1..60"),
    ("https-idle-0", update("lsr-https", IdleTimeout=0), INVALID, "1..60"),
    ("http-request-181", update("lsr-http", RequestTimeout=181), INVALID, "RequestTimeout"),
    ("https-request-0", update("lsr-https", RequestTimeout=0), INVALID, "1..180"),
    ("tcp-to-udp-idle-30", update("lsr-tcp", Protocol="udp", IdleTimeout=30), INVALID, "10..20"),
    # names, descriptions, enumerations
    ("name-starts-with-digit", update("lsr-tcp", Name="1web"), INVALID, "Name"),
    ("name-starts-with-underscore", update("lsr-tcp", Name="_web"), INVALID, "Name"),
    ("name-empty", update("lsr-tcp", Name=""), INVALID, "Name"),
    ("name-with-space", update("lsr-tcp", Name="my web"), INVALID, "Name"),
    ("name-129", update("lsr-tcp", Name="a" * 129), INVALID, "128"),
    ("description-201", update("lsr-tcp", Description="d" * 201), INVALID, "200"),
    ("description-http", update("lsr-tcp", Description="http://example.com"), INVALID, "http://"),
    ("description-https", update("lsr-tcp", Description="https://example.com"), INVALID, "https://"),
    ("client-affinity-sticky", update("lsr-tcp", ClientAffinity="STICKY"), INVALID, "ClientAffinity"),
    ("protocol-sctp", update("lsr-tcp", Protocol="sctp"), PROTOCOL, "listener protocol is invalid"),
    ("create-protocol-quic", create(Protocol="quic", PortRanges=ports((1, 1))), PROTOCOL, "Protocol"),
    ("create-type-weird", create(Type="Weird", PortRanges=ports((1, 1))), INVALID, "Type"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "code", "text"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_rule(
    client: Client, rules_emulator: EmulatorServer, *, call: tuple[str, dict[str, Any]], code: str, text: str
) -> None:
    action, params = call
    before = rules_emulator.backend.snapshot()["Listeners"]
    error = sdk_error(client, action, params)
    assert (error.code, error.status_code) == (code, 400)
    assert text in error.message
    assert rules_emulator.backend.snapshot()["Listeners"] == before  # a refused request changes nothing


# Accepted values at the edges of every rule (an emulator that refuses too much is as wrong as one that
# refuses too little). Each runs on a fresh emulator whose transitions end at once.
ACCEPTED: list[tuple[str, tuple[str, dict[str, Any]]]] = [
    ("ports-1-and-65499", update("lsr-tcp", PortRanges=ports((1, 1), (65499, 65499)))),
    ("quota-exactly-30", update("lsr-tcp", PortRanges=ports((100, 114), (200, 214)))),
    ("adjacent-ranges", update("lsr-tcp", PortRanges=ports((100, 104), (105, 109)))),
    ("keep-own-ports", update("lsr-range", PortRanges=ports((9000, 9009)), Name="same")),
    ("name-one-letter", update("lsr-tcp", Name="a")),
    ("name-newer-docs-dot", update("lsr-tcp", Name="web.v2_a-b")),
    ("name-chinese", update("lsr-tcp", Name="监听器1")),
    ("name-128", update("lsr-tcp", Name="a" * 128)),
    ("description-200", update("lsr-tcp", Description="d" * 200)),
    ("description-mentions-http", update("lsr-tcp", Description="serves http://x")),
    ("description-empty", update("lsr-tcp", Description="")),
    ("affinity-lower-case", update("lsr-tcp", ClientAffinity="source_ip")),
    ("protocol-upper-case", update("lsr-tcp", Protocol="UDP", IdleTimeout=20)),
    ("tcp-idle-10-900", update("lsr-tcp", IdleTimeout=10)),
    ("udp-idle-20", update("lsr-udp", IdleTimeout=20)),
    ("http-everything", update("lsr-http", IdleTimeout=60, RequestTimeout=180, BackendPorts=ports((8000, 8000)),
                               XForwardedForConfig={"XForwardedForGaIdEnabled": True})),
    ("https-everything", update("lsr-https", IdleTimeout=1, RequestTimeout=1, HttpVersion="http1.1",
                                SecurityPolicyId="tls_cipher_policy_1_2_strict_with_1_3",
                                Certificates=[{"Id": "a"}, {"Id": "b"}])),
    ("tcp-to-https", update("lsr-tcp", Protocol="https", PortRanges=ports((8443, 8443)))),
    ("bool-any-case", update("lsr-tcp", ProxyProtocol="TRUE")),
    ("create-defaults", create(PortRanges=ports((7000, 7029)))),
    ("create-custom-routing", create(PortRanges=ports((7100, 7100)), Type="customrouting")),
    ("tcp-may-use-udp-reserved-ports", update("lsr-tcp", PortRanges=ports((4789, 4790), (250, 250)))),
    ("udp-around-reserved-ports", update("lsr-udp", PortRanges=ports((251, 260), (4791, 4800)))),
    ("create-https-upper-case-with-certificate", create(Protocol="HTTPS", PortRanges=ports((8443, 8443)),
                                                        Certificates=[{"Id": "cert"}])),
]  # fmt: skip


@pytest.mark.parametrize("call", [row[1] for row in ACCEPTED], ids=[row[0] for row in ACCEPTED])
def test_accepted(call: tuple[str, dict[str, Any]]) -> None:
    server = EmulatorServer(credentials=CREDENTIALS, accelerators=["ga-r"], listeners=SEEDS, transition_seconds=0)
    with server:
        action, params = call
        client = official_client(server)
        body = sdk_call(client, action, params)
        [record] = server.calls
        assert (record.http_status, record.code) == (200, None)
        listener_id = body["ListenerId"] if action == "CreateListener" else params["ListenerId"]
        described = sdk_call(client, "DescribeListener", {"ListenerId": listener_id})
        for key, sent in params.items():  # the change really took effect, as the SDK reads it back
            if key in ("ListenerId", "AcceleratorId", "ClientToken"):
                continue
            if isinstance(sent, dict):  # a partial object: the flags sent were set, the others kept
                assert {k: comparable(described[key][k]) for k in sent} == comparable(sent), key
            else:
                assert comparable(described[key]) == comparable(sent), key


def comparable(value: Any) -> Any:
    """A sent or described value in one form: text folded to lower case, lists as sets, dicts by their keys."""
    if isinstance(value, list):
        return {tuple(sorted((k, comparable(v)) for k, v in item.items() if k != "Type")) for item in value}
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return str(value).lower()
