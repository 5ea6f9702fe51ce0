"""Safe on the real service under either reading of what it does (through the real host, against the emulator).

The emulator can play the service's unconfirmed behaviours: resetting an omitted ProxyProtocol or forwarded-for
flag to false, answering a write's old values as ``active`` for a while (eventual consistency), answering
``UnknownError`` for a vanished listener. Each test runs under every mode, so the provider is shown to be safe
whichever reading is true.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ga20191120 import models

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import KEY_ID, SECRET, delete_out_of_band, live, official_client, writes
from tests.support.provider_host import Engine, ProviderError

MODES: dict[str, dict[str, Any]] = {
    "as-documented": {},
    "reset-omitted": {"reset_omitted": True},
    "visibility-lag": {"visibility_lag": 0.8},
    "vanished-unknown-error": {"vanished_unknown_error": True},
}
SEEDS = ["ga-1:lsr-tcp:tcp:80-80", "ga-1:lsr-http:http:8080-8080", "ga-1:lsr-udp:udp:53-53", "ga-1:lsr-gone:tcp:81-81"]
TCP: dict[str, Any] = {"listener_id": "lsr-tcp", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}
HTTP: dict[str, Any] = {"listener_id": "lsr-http", "protocol": "http",
                        "port_ranges": [{"from_port": 8080, "to_port": 8080}]}
FLAGS = ("forwarded_for_ga_id_enabled", "forwarded_for_ga_ap_enabled", "forwarded_for_proto_enabled",
         "forwarded_for_port_enabled", "real_ip_enabled")


@pytest.fixture(params=list(MODES), ids=list(MODES))
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    server = EmulatorServer(port=0, credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=SEEDS,
                            transition_seconds=0.3, **MODES[request.param])
    with server:
        yield server


@pytest.fixture
def engine(emulator: EmulatorServer) -> Engine:
    return Engine.for_endpoint(emulator.url, KEY_ID, SECRET)


@pytest.fixture
def plain() -> Iterator[tuple[EmulatorServer, Engine]]:
    """One emulator in its default mode, for rules that do not depend on the modes."""
    server = EmulatorServer(port=0, credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=SEEDS,
                            transition_seconds=0.3)
    with server:
        yield server, Engine.for_endpoint(server.url, KEY_ID, SECRET)


def settle(emulator: EmulatorServer, listener_id: str) -> None:
    """Wait until the emulator's own state (not a lagging read) has the listener active."""
    while any(item["ListenerId"] == listener_id and item["State"] != "active"
              for item in emulator.backend.snapshot()["Listeners"]):
        pass


def set_out_of_band(emulator: EmulatorServer, listener_id: str, **fields: Any) -> None:
    """A change made in the console some time before the ``up``: through the official SDK, waited out on the
    emulator's own state and then for its visibility lag (nobody can see a change earlier, the provider
    included), then dropped from the call log, which then holds only what the provider sends."""
    official_client(emulator).update_listener(models.UpdateListenerRequest(
        region_id="cn-hangzhou", listener_id=listener_id, **fields))
    settle(emulator, listener_id)
    time.sleep(emulator.backend.modes.visibility_lag)
    emulator.calls.clear()


def truth(emulator: EmulatorServer, listener_id: str) -> dict[str, Any]:
    """What the emulator really holds (its state, not a read that may lag)."""
    [item] = [i for i in emulator.backend.snapshot()["Listeners"] if i["ListenerId"] == listener_id]
    return dict(item["Config"])


def test_renaming_a_listener_with_proxy_protocol_on_keeps_it_on(engine: Engine, emulator: EmulatorServer) -> None:
    set_out_of_band(emulator, "lsr-tcp", proxy_protocol="true")  # client-IP preservation, set in the console
    engine.up("web", {**TCP, "name": "renamed"})  # proxy_protocol unmanaged
    [update] = writes(emulator)
    assert update.params["ProxyProtocol"] == "true"
    assert truth(emulator, "lsr-tcp")["ProxyProtocol"] is True
    assert truth(emulator, "lsr-tcp")["Name"] == "renamed"


def test_proxy_protocol_on_http_survives_unrelated_writes_and_converges_when_managed(
        engine: Engine, emulator: EmulatorServer) -> None:
    set_out_of_band(emulator, "lsr-http", proxy_protocol="true")  # set by someone else; unmanaged here
    engine.up("web", {**HTTP, "name": "renamed"})
    assert truth(emulator, "lsr-http")["ProxyProtocol"] is True  # an unmanaged value survives any write
    managed = {**HTTP, "name": "renamed", "proxy_protocol": True}
    engine.up("web", managed)  # managed now
    engine.up("web", {**managed, "description": "unrelated"})  # a write that does not change it
    assert truth(emulator, "lsr-http")["ProxyProtocol"] is True  # a managed value stays (and shows no diff)
    assert engine.preview("web", {**managed, "description": "unrelated"})["op"] == "same"


def test_managing_one_forwarded_for_flag_keeps_the_other_four(engine: Engine, emulator: EmulatorServer) -> None:
    set_out_of_band(emulator, "lsr-http", xforwarded_for_config=models.UpdateListenerRequestXForwardedForConfig(
        xforwarded_for_ga_id_enabled=True, xforwarded_for_ga_ap_enabled=True, xforwarded_for_proto_enabled=True,
        xforwarded_for_port_enabled=True, xreal_ip_enabled=True))
    engine.up("web", {**HTTP, "forwarded_for_config": {"real_ip_enabled": False}})
    [update] = writes(emulator)
    sent = {key.split(".", 1)[1] for key in update.params if key.startswith("XForwardedForConfig.")}
    assert len(sent) == 5  # all five flags travel together
    held = truth(emulator, "lsr-http")["XForwardedForConfig"]
    assert held == {"XForwardedForGaIdEnabled": True, "XForwardedForGaApEnabled": True,
                    "XForwardedForProtoEnabled": True, "XForwardedForPortEnabled": True, "XRealIpEnabled": False}
    outputs = engine.state["web"].outputs["forwarded_for_config"]
    assert outputs == {**dict.fromkeys(FLAGS, True), "real_ip_enabled": False}


def test_outputs_after_an_update_hold_the_new_values_and_the_next_preview_is_quiet(
        engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**TCP, "name": "first"})
    engine.up("web", {**TCP, "name": "second", "description": "written"})
    outputs = engine.state["web"].outputs
    assert (outputs["name"], outputs["description"], outputs["state"]) == ("second", "written", "active")
    assert live(emulator, "lsr-tcp").name == "second"  # a read right after the up already shows it
    emulator.calls.clear()
    assert engine.preview("web", {**TCP, "name": "second", "description": "written"})["op"] == "same"
    assert emulator.calls.snapshot() == []


def test_refresh_of_a_vanished_listener_drops_it_after_a_few_calls(engine: Engine, emulator: EmulatorServer) -> None:
    gone = {**TCP, "listener_id": "lsr-gone", "port_ranges": [{"from_port": 81, "to_port": 81}]}
    engine.up("web", gone)
    delete_out_of_band(emulator, "ga-1", "lsr-gone")
    settle(emulator, "lsr-gone")
    emulator.calls.clear()
    assert engine.refresh("web") is None and "web" not in engine.state
    calls = [c.action for c in emulator.calls]
    # NotExist.Listener: one call. UnknownError: a few DescribeListener attempts, then one ListListeners on the
    # accelerator, not a retry loop until waitTimeout.
    assert calls.count("DescribeListener") <= 3 and calls.count("ListListeners") <= 1, calls


@pytest.mark.parametrize("kind", ["rejected_throttling", "state_error_listener", "retry_after"])
def test_throttling_and_busy_answers_are_waited_out(engine: Engine, emulator: EmulatorServer, kind: str) -> None:
    engine.up("web", {**TCP, "name": "before"})
    emulator.faults.enqueue(kind, count=2, action="UpdateListener")
    engine.up("web", {**TCP, "name": "after"})
    assert len([c for c in emulator.calls.of("UpdateListener") if c.fault == kind]) == 2
    assert truth(emulator, "lsr-tcp")["Name"] == "after"


def test_a_protocol_switch_sends_the_default_idle_timeout_the_new_protocol_allows(
        plain: tuple[EmulatorServer, Engine]) -> None:
    emulator, engine = plain
    with engine.host() as host:
        engine.up("web", TCP, host=host)  # the tcp listener has idle timeout 900 (tcp's default)
        engine.up("web", {**TCP, "protocol": "http"}, host=host)
        printed = host.output()
    [switch] = writes(emulator)  # the adoption had nothing to write
    assert switch.params["Protocol"] == "http" and switch.params["IdleTimeout"] == "15"
    assert "idle_timeout 900 is outside 1..60 for http" in printed
    assert truth(emulator, "lsr-tcp")["IdleTimeout"] == 15


def test_source_ip_affinity_on_udp_never_shows_as_a_change(plain: tuple[EmulatorServer, Engine]) -> None:
    emulator, engine = plain
    udp = {"listener_id": "lsr-udp", "protocol": "udp", "port_ranges": [{"from_port": 53, "to_port": 53}],
           "client_affinity": "SOURCE_IP"}
    engine.up("dns", udp)
    set_out_of_band(emulator, "lsr-udp", client_affinity="NONE")  # what the service may do to udp affinity
    engine.refresh("dns")
    emulator.calls.clear()
    assert engine.preview("dns", udp)["op"] == "same"


def test_a_listener_managed_by_another_service_is_refused_before_any_write(
        plain: tuple[EmulatorServer, Engine]) -> None:
    emulator, engine = plain
    emulator.backend.set_service_managed("lsr-tcp", "ALB")
    with pytest.raises(ProviderError) as raised:
        engine.up("web", {**TCP, "name": "mine"})
    assert "managed by ALB" in raised.value.last_line and "lsr-tcp" in raised.value.last_line
    assert emulator.calls.of("UpdateListener") == []
