"""GaClient against the real emulator over loopback HTTP, with both signature versions: describe and update
``lsr-demo``, state transitions, ClientToken replay after a dropped answer, injected faults, auth failures.

The emulator and the client share one injected clock, so transitions end without sleeping."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ga_emulator.server import EmulatorServer
from ga_listener.api.client import GaClient, RetryPolicy
from ga_listener.api.errors import (
    AuthenticationError,
    ClockSkewError,
    ListenerNotActiveError,
    ListenerNotFoundError,
    PortConflictError,
)
from ga_listener.transport.errors import DeadlineExceededError
from tests.client.conftest import KEY_ID, SECRET, TOKEN
from tests.support.clock import FakeClock

STS_ID, STS_SECRET = "sts-key-id", "sts-secret-value"
TRANSITION = 5.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=time.time())


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        credentials=[(KEY_ID, SECRET, None), (STS_ID, STS_SECRET, TOKEN)],
        transition_seconds=TRANSITION,
        clock=clock,
    )
    with server:
        yield server


@pytest.fixture(params=["v3", "v1"])
def client(request: pytest.FixtureRequest, emulator: EmulatorServer, clock: FakeClock) -> Iterator[GaClient]:
    made = GaClient(
        emulator.url,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        signature_version=request.param,
        clock=clock,
        wall_clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.5,
        retry=RetryPolicy(max_attempts=5, base_delay=0.2, max_delay=2.0, total_timeout=30.0),
    )
    with made:
        yield made


def test_describe_the_demo_listener(client: GaClient) -> None:
    body = client.describe_listener("lsr-demo")
    assert (body["ListenerId"], body["AcceleratorId"], body["State"]) == ("lsr-demo", "ga-demo", "active")
    assert [(int(r["FromPort"]), int(r["ToPort"])) for r in body["PortRanges"]] == [(80, 80)]


def test_update_then_transition_then_active(client: GaClient, emulator: EmulatorServer, clock: FakeClock) -> None:
    changes = {"Name": f"renamed-{client.signature_version}", "PortRanges": [{"FromPort": 81, "ToPort": 82}]}
    client.update_listener("lsr-demo", changes, client_token="token-1")
    updating = client.describe_listener("lsr-demo")
    assert updating["State"] in ("updating", "configuring")
    assert updating["Name"] == changes["Name"]
    with pytest.raises(ListenerNotActiveError):
        client.update_listener("lsr-demo", {"Name": "again"}, client_token="token-2", retry_transient_states=False)
    clock.now += TRANSITION + 0.1
    active = client.describe_listener("lsr-demo")
    assert active["State"] == "active"
    assert [(int(r["FromPort"]), int(r["ToPort"])) for r in active["PortRanges"]] == [(81, 82)]
    writes = emulator.calls.of("UpdateListener")
    assert [w.code for w in writes] == [None, "NotActive.Listener"]


def test_a_write_waits_out_the_transition_when_asked(client: GaClient, clock: FakeClock) -> None:
    client.update_listener("lsr-demo", {"Name": "first"}, client_token="t-1")
    client.update_listener("lsr-demo", {"Name": "second"}, client_token="t-2", retry_transient_states=True)
    assert sum(clock.sleeps) >= TRANSITION
    clock.now += TRANSITION + 0.1
    assert client.describe_listener("lsr-demo")["Name"] == "second"


def test_a_dropped_answer_to_a_write_is_retried_with_the_same_token(
    client: GaClient, emulator: EmulatorServer, clock: FakeClock
) -> None:
    emulator.faults.enqueue("drop_after")
    client.update_listener("lsr-demo", {"Description": "applied once"}, client_token="token-drop")
    writes = emulator.calls.of("UpdateListener")
    assert len(writes) == 2 and writes[1].replayed
    assert {w.params["ClientToken"] for w in writes} == {"token-drop"}
    assert client.describe_listener("lsr-demo")["Description"] == "applied once"


@pytest.mark.parametrize("faults", [["throttle", "throttle"], ["unavailable", "drop"], ["throttle429"]])
def test_injected_faults_converge(
    client: GaClient, emulator: EmulatorServer, clock: FakeClock, faults: list[str]
) -> None:
    for kind in faults:
        emulator.faults.enqueue(kind)
    assert client.describe_listener("lsr-demo")["ListenerId"] == "lsr-demo"
    assert len(clock.sleeps) == len(faults)
    if faults == ["throttle429"]:
        assert clock.sleeps == [1.0]  # the emulator's Retry-After


def test_the_deadline_is_honoured_against_endless_faults(
    client: GaClient, emulator: EmulatorServer, clock: FakeClock
) -> None:
    emulator.faults.enqueue("unavailable", count=50)
    start = clock()
    with pytest.raises(DeadlineExceededError):
        client.call("DescribeListener", {"ListenerId": "lsr-demo"}, deadline=start + 1.0)
    assert clock() - start < 1.0


def test_non_retryable_errors_make_one_request(client: GaClient, emulator: EmulatorServer) -> None:
    with pytest.raises(ListenerNotFoundError):
        client.describe_listener("lsr-missing")
    with pytest.raises(PortConflictError, match="PortConflict"):
        client.create_listener("ga-demo", {"Protocol": "tcp", "PortRanges": [{"FromPort": 80, "ToPort": 80}]})
    calls = emulator.calls.snapshot()
    assert [c.action for c in calls] == ["DescribeListener", "CreateListener"]


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_sts_credentials(emulator: EmulatorServer, clock: FakeClock, version: str) -> None:
    with GaClient(
        emulator.url,
        access_key_id=STS_ID,
        access_key_secret=STS_SECRET,
        security_token=TOKEN,
        signature_version=version,
        wall_clock=clock,
    ) as client:
        assert client.describe_listener("lsr-demo")["State"] == "active"


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_a_wrong_secret_and_a_skewed_clock_are_reported_clearly(
    emulator: EmulatorServer, clock: FakeClock, version: str
) -> None:
    retry = RetryPolicy(max_attempts=3)
    url = emulator.url
    with (
        GaClient(
            url,
            access_key_id=KEY_ID,
            access_key_secret="wrong-secret",
            wall_clock=clock,
            signature_version=version,
            retry=retry,
        ) as bad,
        pytest.raises(AuthenticationError, match=r"SignatureDoesNotMatch.*secret"),
    ):
        bad.describe_listener("lsr-demo")
    with (
        GaClient(
            url,
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            wall_clock=lambda: clock() - 20 * 60,
            signature_version=version,
            retry=retry,
        ) as late,
        pytest.raises(ClockSkewError, match="15 minutes"),
    ):
        late.describe_listener("lsr-demo")
    assert len(emulator.calls) == 2
