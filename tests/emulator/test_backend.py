"""The backend alone (no HTTP): lazy transitions on an injected clock, seeds, and properties of the rules."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ga_emulator.backend import Backend
from ga_emulator.errors import EmulatorError
from ga_emulator.model import ListenerSeed, PortRange
from ga_emulator.params import ACTIONS, parse_params
from tests.support.clock import FakeClock


def backend(clock: FakeClock, transition: float = 10.0) -> Backend:
    result = Backend(
        clock=clock, transition_seconds=transition, id_factory=iter(f"lsr-{i}" for i in range(99)).__next__
    )
    result.seed_listener(ListenerSeed.parse("ga-demo:lsr-demo:tcp:80-80"))
    return result


def wire(action: str, params: dict[str, str]) -> dict[str, Any]:
    """Typed values of wire ``params``, with the RegionId the official SDK sends."""
    return parse_params(action, {"RegionId": "cn-hangzhou", **params})


def test_states_follow_the_clock_exactly() -> None:
    clock = FakeClock()
    world = backend(clock)
    params = {"AcceleratorId": "ga-demo", "PortRanges.1.FromPort": "81", "PortRanges.1.ToPort": "81"}
    created = world.create_listener(wire("CreateListener", params), "r1")
    listener_id = created.result["ListenerId"]
    assert world.describe_listener(listener_id).state == "init"
    clock.now += 9.999
    assert world.describe_listener(listener_id).state == "init"
    clock.now += 0.001
    assert world.describe_listener(listener_id).state == "active"
    world.update_listener(wire("UpdateListener", {"ListenerId": listener_id, "Name": "n"}), "r2")
    assert world.describe_listener(listener_id).state == "updating"
    clock.now += 10
    world.delete_listener(wire("DeleteListener", {"ListenerId": listener_id, "AcceleratorId": "ga-demo"}), "r3")
    assert world.describe_listener(listener_id).state == "deleting"
    clock.now += 10
    with pytest.raises(EmulatorError) as gone:
        world.describe_listener(listener_id)
    assert gone.value.code == "NotExist.Listener"


def test_zero_transition_is_active_at_once() -> None:
    clock = FakeClock()
    world = backend(clock, transition=0.0)
    world.update_listener(wire("UpdateListener", {"ListenerId": "lsr-demo", "Name": "n"}), "r1")
    assert world.describe_listener("lsr-demo").state == "active"


def test_seeds_never_overwrite_and_refuse_illegal_ports() -> None:
    clock = FakeClock()
    world = backend(clock, transition=0.0)
    world.update_listener(wire("UpdateListener", {"ListenerId": "lsr-demo", "Name": "kept"}), "r1")
    world.seed_listener(ListenerSeed.parse("ga-demo:lsr-demo:udp:90-90"))
    assert world.describe_listener("lsr-demo").config.name == "kept"
    with pytest.raises(ValueError, match="PortConflict"):
        world.seed_listener(ListenerSeed.parse("ga-demo:lsr-clash:tcp:80-80"))
    with pytest.raises(ValueError, match=r"PortRanges\.MustOne"):
        world.seed_listener(ListenerSeed.parse("ga-demo:lsr-http:http:81-82"))


@pytest.mark.parametrize("text", ["ga:lsr:tcp", "ga:lsr:tcp:80", "ga::tcp:80-80", "ga:lsr:tcp:a-b", "a:b:c:1-2:3"])
def test_bad_seed_texts(text: str) -> None:
    with pytest.raises(ValueError, match="seed"):
        ListenerSeed.parse(text)


# --- properties ------------------------------------------------------------------------------------------------

WIRE_KEYS = st.sampled_from(
    ["ListenerId", "Name", "Description", "Protocol", "IdleTimeout", "RequestTimeout", "ProxyProtocol",
     "ClientAffinity", "HttpVersion", "SecurityPolicyId", "ClientToken", "RegionId",
     "PortRanges.1.FromPort", "PortRanges.1.ToPort", "PortRanges.2.FromPort", "PortRanges.x.ToPort",
     "BackendPorts.1.FromPort", "BackendPorts.1.ToPort", "Certificates.1.Id", "Certificates.1",
     "XForwardedForConfig.XRealIpEnabled", "XForwardedForConfig.Bogus", "Name.1", "PortRanges"]
)  # fmt: skip
WIRE_VALUES = st.one_of(
    st.text(max_size=12), st.integers(-5, 70000).map(str), st.sampled_from(["true", "False", "http", "TCP"])
)


@given(st.dictionaries(WIRE_KEYS, WIRE_VALUES, max_size=8))
def test_any_update_either_applies_or_raises_an_emulator_error(params: dict[str, str]) -> None:
    world = backend(FakeClock(), transition=0.0)
    params["ListenerId"] = "lsr-demo"
    try:
        world.update_listener(parse_params("UpdateListener", params), "r")
    except EmulatorError as error:
        assert 400 <= error.http_status < 500 and error.code and error.message
        return
    listener = world.describe_listener("lsr-demo")  # what was accepted is a legal listener
    ranges = listener.config.port_ranges
    assert sum(item.size for item in ranges) <= 30 and all(1 <= r.from_port <= r.to_port <= 65499 for r in ranges)


NAME_START = st.sampled_from(string.ascii_letters + "网络监听")
NAME_REST = st.text(alphabet=string.ascii_letters + string.digits + "._-监听", max_size=127)


@given(NAME_START, NAME_REST)
def test_every_name_some_doc_version_allows_is_accepted(first: str, rest: str) -> None:
    world = backend(FakeClock(), transition=0.0)
    world.update_listener(parse_params("UpdateListener", {"ListenerId": "lsr-demo", "Name": first + rest}), "r")
    assert world.describe_listener("lsr-demo").config.name == first + rest


@given(st.lists(st.tuples(st.integers(1, 65499), st.integers(0, 40)), min_size=1, max_size=5))
def test_port_rules_agree_with_a_plain_model(ranges: list[tuple[int, int]]) -> None:
    world = backend(FakeClock(), transition=0.0)
    items = [PortRange(low, min(low + size, 65499)) for low, size in ranges]
    params = {"ListenerId": "lsr-demo"}
    for position, item in enumerate(items, start=1):
        params[f"PortRanges.{position}.FromPort"] = str(item.from_port)
        params[f"PortRanges.{position}.ToPort"] = str(item.to_port)
    overlap = any(a.overlaps(b) for i, a in enumerate(items) for b in items[i + 1 :])
    total = sum(item.size for item in items)
    try:
        world.update_listener(parse_params("UpdateListener", params), "r")
        outcome = "ok"
    except EmulatorError as error:
        outcome = error.code
    if overlap:
        assert outcome == "PortRangeIllegal.Listener"
    elif total > 30:
        assert outcome == "QuotaExceeded.ListenerPort"
    else:
        assert outcome == "ok"


def test_every_action_declares_its_required_parameters() -> None:
    for action, (accepted, required) in ACTIONS.items():
        assert set(required) <= accepted, action
        with pytest.raises(EmulatorError) as missing:
            parse_params(action, {})
        assert missing.value.code == f"Missing{required[0]}"
        assert missing.value.message == f"{required[0]} is mandatory for this action."
