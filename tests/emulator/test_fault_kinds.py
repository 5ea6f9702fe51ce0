"""The newer fault kinds as the official SDK reports them, faults bound to one action, and ``error`` faults that
make the next call answer any code."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from alibabacloud_ga20191120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException

from ga_emulator import EmulatorServer
from ga_emulator.faults import Faults
from tests.emulator.support import RawClient, admin, sdk_call, sdk_error

DESCRIBE = {"ListenerId": "lsr-demo"}
UPDATE = {"ListenerId": "lsr-demo", "Name": "changed"}


def queue(emulator: EmulatorServer, **fault: Any) -> None:
    status, answer = admin(emulator, "POST", "/_emulator/faults", fault)
    assert status == 200, answer


@pytest.mark.parametrize(
    ("kind", "exception", "code", "status"),
    [
        ("rejected_throttling", ClientException, "Rejected.Throttling", 400),
        ("state_error_listener", ClientException, "StateError.Listener", 400),
        ("unknown_error", ServerException, "UnknownError", 500),
    ],
)
def test_new_kinds_answer_instead_of_processing(
    emulator: EmulatorServer, official: Client, *, kind: str, exception: type[Exception], code: str, status: int
) -> None:
    queue(emulator, kind=kind)
    with pytest.raises(exception) as raised:
        sdk_call(official, "UpdateListener", UPDATE)
    error: Any = raised.value
    assert (error.code, error.status_code, type(error)) == (code, status, exception)
    assert emulator.backend.describe_listener("lsr-demo").config.name == ""  # nothing was applied
    [call] = emulator.calls
    assert (call.fault, call.code, call.http_status) == (kind, code, status)


def test_retry_after_is_throttling_only_by_its_header(emulator: EmulatorServer, official: Client) -> None:
    queue(emulator, kind="retry_after")
    with pytest.raises(ThrottlingException) as raised:  # the SDK turns any x-acs-retry-after answer into this
        sdk_call(official, "DescribeListener", DESCRIBE)
    error = raised.value
    assert (error.code, error.status_code, error.retry_after) == ("ServiceBusy", 400, 200)
    assert "Throttling" not in error.code
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    queue(emulator, kind="retry_after")
    connection.request("POST", "/?Action=DescribeListener")
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert (response.status, body["Code"], response.getheader("x-acs-retry-after")) == (400, "ServiceBusy", "200")
    assert response.getheader("Retry-After") is None


def test_a_fault_bound_to_an_action_waits_for_it(emulator: EmulatorServer, official: Client) -> None:
    queue(emulator, kind="throttle", count=2, action="UpdateListener")
    queue(emulator, kind="unavailable")
    with pytest.raises(ServerException):  # the unbound fault is the first one a DescribeListener may take
        sdk_call(official, "DescribeListener", DESCRIBE)
    sdk_call(official, "DescribeListener", DESCRIBE)
    sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo"})
    assert emulator.faults.pending == 2
    assert sdk_error(official, "UpdateListener", UPDATE).code == "Throttling.User"
    assert sdk_error(official, "UpdateListener", UPDATE).code == "Throttling.User"
    sdk_call(official, "UpdateListener", UPDATE)
    assert [(call.action, call.fault) for call in emulator.calls] == [
        ("DescribeListener", "unavailable"), ("DescribeListener", None), ("ListListeners", None),
        ("UpdateListener", "throttle"), ("UpdateListener", "throttle"), ("UpdateListener", None),
    ]  # fmt: skip


def test_an_error_fault_answers_a_declared_code_in_its_own_words(emulator: EmulatorServer, official: Client) -> None:
    queue(emulator, kind="error", code="NotExist.BasicBandwidthPackage", action="CreateListener")
    create = {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 81, "ToPort": 81}]}
    sdk_call(official, "DescribeListener", DESCRIBE)  # another action passes it by
    error = sdk_error(official, "CreateListener", create)
    assert (error.code, error.status_code) == ("NotExist.BasicBandwidthPackage", 400)
    assert "You must specify the basic bandwidth package." in error.message
    assert sdk_call(official, "ListListeners", {"AcceleratorId": "ga-demo"})["TotalCount"] == 1  # nothing created
    sdk_call(official, "CreateListener", create)


def test_an_error_fault_answers_any_code_status_and_message(emulator: EmulatorServer, official: Client) -> None:
    queue(emulator, kind="error", code="Some.Future.Code", status=409, message="Told by the test.", count=2)
    error = sdk_error(official, "DescribeListener", DESCRIBE)
    assert (error.code, error.status_code, "Told by the test." in error.message) == ("Some.Future.Code", 409, True)
    queue(emulator, kind="error", code="Undeclared")
    status, body = RawClient(emulator).request("v3", "DescribeListener", {**DESCRIBE, "RegionId": "cn-hangzhou"})
    assert (status, body["Code"]) == (409, "Some.Future.Code")
    status, body = RawClient(emulator).request("v3", "DescribeListener", {**DESCRIBE, "RegionId": "cn-hangzhou"})
    assert (status, body["Code"], body["Message"]) == (400, "Undeclared", "An error injected by the emulator.")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"kind": "error"}, "needs a code"),
        ({"kind": "error", "code": "has space"}, "needs a code"),
        ({"kind": "error", "code": "X", "status": 200}, "400..599"),
        ({"kind": "error", "code": "X", "status": "500"}, "status"),
        ({"kind": "throttle", "code": "X"}, "error faults only"),
        ({"kind": "throttle", "action": "DescribeAccelerator"}, "unknown action"),
        ({"kind": "throttle", "count": True}, "count"),
        ({"kind": "throttle", "colour": "red"}, "colour"),
    ],
)
def test_bad_fault_requests_are_refused(emulator: EmulatorServer, body: dict[str, Any], text: str) -> None:
    status, answer = admin(emulator, "POST", "/_emulator/faults", body)
    assert (status, answer["Code"]) == (400, "InvalidParameter") and text in answer["Message"]
    assert emulator.faults.pending == 0


def test_faults_endpoint_shows_the_draw(emulator: EmulatorServer) -> None:
    admin(emulator, "POST", "/_emulator/modes", {"fault_rate": 0.5, "fault_kinds": "all"})
    status, answer = admin(emulator, "GET", "/_emulator/faults")
    assert (status, answer["Rate"], len(answer["Kinds"])) == (200, 0.5, 10)


def test_the_new_kinds_join_the_random_draw_when_asked() -> None:
    faults = Faults(rate=1.0, seed=1, kinds=["rejected_throttling", "retry_after"])
    assert {fault.kind for fault in (faults.next() for _ in range(50)) if fault} == {"rejected_throttling",
                                                                                   "retry_after"}  # fmt: skip
    with pytest.raises(ValueError, match="error"):
        Faults(kinds=["error"])  # needs a code: never drawn
