"""``--state``: what was acknowledged survives restarts (even a SIGKILL) and transitions finish on time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ga_emulator import EmulatorServer, ListenerSeed
from ga_emulator.backend import Backend
from ga_emulator.errors import EmulatorError
from ga_emulator.params import parse_params
from ga_emulator.store import StateError
from tests.emulator.support import CREDENTIALS, official_client, sdk_call, wait_for_state
from tests.support.clock import FakeClock


def test_acknowledged_changes_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with EmulatorServer(credentials=CREDENTIALS, state_path=state, transition_seconds=0.05) as first:
        client = official_client(first)
        created = sdk_call(client, "CreateListener", {
            "AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 81, "ToPort": 82}], "Name": "kept"})  # fmt: skip
        wait_for_state(first, created["ListenerId"], "active")
        update = {"ListenerId": "lsr-demo", "Description": "persisted", "ClientToken": "tok"}
        updated = sdk_call(client, "UpdateListener", update)
    with EmulatorServer(credentials=CREDENTIALS, state_path=state, transition_seconds=0.05) as second:
        client = official_client(second)
        live = sdk_call(client, "DescribeListener", {"ListenerId": created["ListenerId"]})
        assert (live["Name"], live["PortRanges"]) == ("kept", [{"FromPort": 81, "ToPort": 82}])
        assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-demo"})["Description"] == "persisted"
        assert sdk_call(client, "UpdateListener", update)["RequestId"] == updated["RequestId"]  # replayed
        assert second.calls[-1].replayed


def test_a_transition_caught_by_a_restart_finishes_on_time(tmp_path: Path) -> None:
    state, clock = tmp_path / "state.json", FakeClock()
    before = Backend(clock=clock, transition_seconds=10.0, state_path=state)
    before.seed_listener(ListenerSeed.parse("ga-demo:lsr-demo:tcp:80-80"))
    before.seed_listener(ListenerSeed.parse("ga-demo:lsr-old:tcp:81-81"))
    before.update_listener(parse_params("UpdateListener", {"ListenerId": "lsr-demo", "Name": "new"}), "r1")
    clock.now += 4
    after = Backend(clock=clock, transition_seconds=1.0, state_path=state)  # restarted with another setting
    assert after.describe_listener("lsr-demo").state == "updating"
    assert after.describe_listener("lsr-demo").config.name == "new"
    clock.now += 6
    assert after.describe_listener("lsr-demo").state == "active"
    after.delete_listener(parse_params("DeleteListener", {"ListenerId": "lsr-old", "AcceleratorId": "ga-demo"}), "r2")
    clock.now += 0.5
    again = Backend(clock=clock, transition_seconds=1.0, state_path=state)
    assert again.describe_listener("lsr-old").state == "deleting"
    clock.now += 0.5
    assert [view.listener_id for view in again.list_listeners("ga-demo")] == ["lsr-demo"]


def test_flags_add_what_is_missing_and_never_wipe(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with EmulatorServer(credentials=CREDENTIALS, state_path=state, transition_seconds=0,
                        accelerators=["ga-a"], listeners=["ga-a:lsr-1:tcp:80-80"]) as first:  # fmt: skip
        sdk_call(official_client(first), "UpdateListener", {"ListenerId": "lsr-1", "Name": "mine"})
    with EmulatorServer(credentials=CREDENTIALS, state_path=state, accelerators=["ga-a", "ga-b"],
                        listeners=["ga-a:lsr-1:udp:90-90", "ga-b:lsr-2:tcp:81-81"]) as second:  # fmt: skip
        listener = second.backend.describe_listener("lsr-1")
        assert (listener.config.name, listener.config.protocol) == ("mine", "tcp")
        assert second.backend.describe_listener("lsr-2").accelerator_id == "ga-b"
        accelerators = [item["AcceleratorId"] for item in second.backend.snapshot()["Accelerators"]]
        assert accelerators == ["ga-a", "ga-b"]  # no default world added to a loaded state


def test_a_new_state_file_starts_with_the_default_world(tmp_path: Path) -> None:
    state = tmp_path / "fresh.json"
    EmulatorServer(state_path=state)
    saved = json.loads(state.read_text())
    assert [item["ListenerId"] for item in saved["Listeners"]] == ["lsr-demo"]
    assert [item["AcceleratorId"] for item in saved["Accelerators"]] == ["ga-demo"]


def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    backend = Backend(transition_seconds=0.0, state_path=state)
    backend.seed_listener(ListenerSeed.parse("ga-demo:lsr-demo:tcp:80-80"))
    stop, failures, reads = threading.Event(), [], [0]

    def read() -> None:
        while not stop.is_set():
            try:
                json.loads(state.read_text())
                reads[0] += 1
            except ValueError as error:  # pragma: no cover - what the test exists to catch
                failures.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(150):
            backend.update_listener(parse_params("UpdateListener", {"ListenerId": "lsr-demo", "Name": f"n{i}"}), "r")
    finally:
        stop.set()
        reader.join()
    assert failures == [] and reads[0] > 0  # the reader really ran while the file was rewritten
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]  # no temp file left behind
    assert json.loads(state.read_text())["Listeners"][0]["Config"]["Name"] == "n149"


@pytest.mark.parametrize("content", ["{not json", '{"Format": 99}', '{"Format": 1, "Accelerators": 3}', "[]"])
def test_an_unreadable_state_file_is_refused_and_left_alone(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(StateError, match="state"):
        EmulatorServer(state_path=state)
    assert state.read_text() == content


def test_everything_new_in_the_world_survives_a_restart(tmp_path: Path) -> None:
    """Format 2: bandwidth packages, endpoint groups, forwarding rules, managed listeners, deleted ids and the
    lags' end times all come back, so a restarted emulator answers exactly as the first would have."""
    state, clock = tmp_path / "state.json", FakeClock()
    seeds = ["ga-a:lsr-eg:tcp:80-80", "ga-a:lsr-fr:tcp:81-81", "ga-a:lsr-m:tcp:82-82", "ga-a:lsr-old:tcp:83-83",
             "ga-a:lsr-lag:tcp:84-84"]  # fmt: skip
    first = EmulatorServer(
        accelerators=["ga-a"], listeners=seeds, transition_seconds=1.0, state_path=state, clock=clock,
        without_bandwidth_package=["ga-poor"], endpoint_groups=["lsr-eg", "lsr-eg"], forwarding_rules=["lsr-fr"],
        service_managed=["lsr-m:NLB"], visibility_lag=10.0, create_lag=10.0, vanished_unknown_error=True,
    )  # fmt: skip
    backend = first.backend
    backend.delete_listener(parse_params("DeleteListener", {"ListenerId": "lsr-old"}), "r1")
    clock.now += 1.0
    backend.update_listener(parse_params("UpdateListener", {"ListenerId": "lsr-lag", "Name": "new",
                                                            "RegionId": "cn-hangzhou"}), "r2")  # fmt: skip
    clock.now += 1.0
    created = backend.create_listener(parse_params("CreateListener", {
        "AcceleratorId": "ga-a", "PortRanges.1.FromPort": "85", "PortRanges.1.ToPort": "85",
        "RegionId": "cn-hangzhou"}), "r3").result["ListenerId"]  # fmt: skip
    clock.now += 1.0
    backend.add_accelerator("ga-doomed")
    backend.seed_listener(ListenerSeed.parse("ga-doomed:lsr-orphan:tcp:80-80"))
    assert backend.delete_accelerator("ga-doomed") == ["lsr-orphan"]
    saved = json.loads(state.read_text())
    assert saved["Format"] == 2 and saved["VanishedListenerIds"] == ["lsr-old"]
    assert saved["OrphanedListenerIds"] == ["lsr-orphan"]

    # A restart with no flags but the modes (modes are flags, not world).
    again = EmulatorServer(state_path=state, clock=clock, vanished_unknown_error=True,
                           deleted_accelerator_unknown_error=True).backend
    with pytest.raises(EmulatorError, match="UnknownError"):
        again.describe_listener("lsr-orphan")
    assert again.dependents("endpoint_group") == {"lsr-eg": 2}
    assert again.dependents("forwarding_rule") == {"lsr-fr": 1}
    assert again.service_managed() == {"lsr-m": "NLB"}
    assert [(view.accelerator_id, view.basic_bandwidth_package) for view in again.accelerators()] == [
        ("ga-a", True), ("ga-poor", False)]  # fmt: skip
    assert again.describe_listener("lsr-old").state == "active"  # deleted, but the visibility lag still shows it
    lagged = again.describe_listener("lsr-lag")
    assert (lagged.state, lagged.config.name) == ("active", "")
    with pytest.raises(EmulatorError, match=r"NotExist\.Listener"):
        again.describe_listener(created)  # the create lag still hides it
    clock.now += 9.0  # every lag is over (they ended at the times saved, not at restart + lag)
    assert again.describe_listener("lsr-lag").config.name == "new"
    assert again.describe_listener(created).state == "active"
    with pytest.raises(EmulatorError, match="UnknownError"):
        again.describe_listener("lsr-old")


def test_a_format_1_state_file_still_loads(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = {"Protocol": "tcp", "PortRanges": [[80, 80]], "Name": "kept", "Description": "", "ClientAffinity": "NONE",
              "ProxyProtocol": False, "Certificates": [], "BackendPorts": [], "IdleTimeout": 900,
              "RequestTimeout": None, "HttpVersion": None, "SecurityPolicyId": None, "XForwardedForConfig": {},
              "Type": "Standard"}  # fmt: skip
    state.write_text(json.dumps({
        "Format": 1, "Accelerators": [{"AcceleratorId": "ga-demo", "State": "active"}],
        "Listeners": [{"ListenerId": "lsr-demo", "AcceleratorId": "ga-demo", "State": "active", "Phase": "active",
                       "TransitionEndsAt": 0.0, "CreateTime": 1000, "Config": config}],
        "ClientTokens": [],
    }))  # fmt: skip
    backend = EmulatorServer(state_path=state).backend
    listener = backend.describe_listener("lsr-demo")
    assert (listener.config.name, listener.service_id) == ("kept", None)
    assert backend.accelerators()[0].basic_bandwidth_package is True
    backend.update_listener(parse_params("UpdateListener", {"ListenerId": "lsr-demo", "Name": "now"}), "r")
    saved = json.loads(state.read_text())
    assert saved["Format"] == 2 and saved["Listeners"][0]["EndpointGroups"] == 0
