"""Crash and resume: the provider host is SIGKILLed in the middle of an update, and a new host re-runs it.

The engine records nothing for an operation whose provider died, so on the next run it sends the same Update
(same olds, same news) to a new host. That retry must never apply the change a second time: it waits for the
change still running to end and finds the listener showing it (nothing to send), or, where reads still show the
old values (an eventually consistent service), sends the same ClientToken, which the service answers as a replay.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ga_emulator.api import CallRecord
from ga_emulator.server import EmulatorServer
from tests.reliability.support import (
    KEY_ID,
    SECRET,
    applied_writes,
    first_index,
    in_thread,
    is_applied_update,
    ports_of,
    replayed_writes,
    wait_for,
)
from tests.support.peers import describe
from tests.support.provider_host import Engine, ProviderError

BASE: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}
CHANGE: dict[str, Any] = {**BASE, "name": "resumed", "port_ranges": [{"from_port": 81, "to_port": 82}]}


@pytest.fixture(params=[0.0, 3.0], ids=["as-documented", "visibility-lag"])
def emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    # A long transition: the provider is still polling DescribeListener when its host is killed. With the lag,
    # reads show the listener as it was before the write for a while longer.
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"],
                            listeners=["ga-1:lsr-web:tcp:80-80"], transition_seconds=2.0, visibility_lag=request.param)
    with server:
        yield server


def engine_for(emulator: EmulatorServer) -> Engine:
    return Engine.for_endpoint(emulator.url, KEY_ID, SECRET)


def killed_at(records: list[CallRecord], moment: str) -> CallRecord | None:
    """The applied write once ``moment`` has come: ``written`` (the emulator applied it, its answer may still
    be on the wire) or ``polling`` (the provider had the answer: it has asked DescribeListener since)."""
    index = first_index(records, is_applied_update)
    if index is None:
        return None
    if moment == "polling" and first_index(records, lambda r: r.action == "DescribeListener", index + 1) is None:
        return None
    return records[index]


def transition_end(emulator: EmulatorServer, listener_id: str) -> float:
    """When the listener's current change ends; a second application of a change would move it."""
    [listener] = [item for item in emulator.backend.snapshot()["Listeners"] if item["ListenerId"] == listener_id]
    return float(listener["TransitionEndsAt"])


@pytest.mark.parametrize("moment", ["written", "polling"])
def test_a_host_killed_mid_update_is_resumed_by_a_new_host_without_a_second_change(
    emulator: EmulatorServer, moment: str
) -> None:
    """Proves: after SIGKILL of the host between the applied UpdateListener and the end of its wait, the engine's
    re-run of the same Update in a new host returns the desired outputs; the emulator applied the change once and
    the transition it started was not restarted: the re-run sent nothing (the listener showed the change once its
    transition ended) or, under the visibility lag, the same ClientToken, answered as a replay (original request
    id)."""
    engine = engine_for(emulator)
    engine.up("web", BASE)  # adopt: the listener already has BASE, nothing to write
    recorded = copy.deepcopy(engine.state["web"])
    host = engine.host()
    try:
        running = in_thread(lambda: engine.up("web", CHANGE, host=host))
        write = wait_for(lambda: killed_at(emulator.calls.snapshot(), moment), f"the write ({moment})",
                         during=running)
        assert not running.done(), "the update had already returned: the kill would prove nothing"
        host.process.kill()  # SIGKILL: no cleanup, no answer to the engine
        with pytest.raises(ProviderError):
            running.result(timeout=30)
    finally:
        host.close()
    assert engine.state["web"] == recorded  # the engine recorded nothing for the killed operation
    [truth] = [i for i in emulator.backend.snapshot()["Listeners"] if i["ListenerId"] == "lsr-web"]
    assert truth["State"] == "updating"  # the kill came mid-change
    ends_at = transition_end(emulator, "lsr-web")
    before_resume = len(emulator.calls)

    assert engine.up("web", CHANGE)["op"] == "update"  # the engine's resume: same olds, same news, new host

    token = write.params["ClientToken"]
    resumed = emulator.calls.snapshot()[before_resume:]
    assert applied_writes(resumed) == {}, "the resumed update applied a second change"
    if emulator.backend.modes.visibility_lag:
        assert replayed_writes(resumed) == {token: 1}
        [replay] = [r for r in resumed if r.action == "UpdateListener"]
        assert replay.request_id == write.request_id  # the service answered the original request again
    else:
        assert [r for r in resumed if r.action == "UpdateListener"] == []
    assert applied_writes(emulator.calls.snapshot()) == {token: 1}
    assert transition_end(emulator, "lsr-web") == ends_at
    live = describe(emulator, "lsr-web", key_id=KEY_ID, secret=SECRET)
    assert (live.name, ports_of(live), live.state) == ("resumed", [(81, 82)], "active")
    assert engine.state["web"].outputs["name"] == "resumed"
