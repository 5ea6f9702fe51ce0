"""The emulator (a subprocess with ``--state``) dies in the middle of an update and comes back on the same port.

What it acknowledged before dying (the applied write, its ClientToken) must survive in the state file; the
provider's in-flight operation either rides the outage out through its retries or fails with a clear transport
error, and the engine's re-run then converges with no second change.
"""

from __future__ import annotations

import copy
import re
import signal
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.support import (
    KEY_ID,
    SECRET,
    EmulatorProcess,
    applied_writes,
    first_index,
    in_thread,
    is_applied_update,
    ports_of,
    read_state_file,
    replayed_writes,
    state_tokens,
    wait_for,
)
from tests.support.clock import free_port
from tests.support.peers import describe
from tests.support.provider_host import Engine, ProviderError

BASE: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}
FIRST: dict[str, Any] = {**BASE, "name": "first"}
SECOND: dict[str, Any] = {**BASE, "name": "second", "port_ranges": [{"from_port": 81, "to_port": 81}]}


class Restartable:
    """One emulator at a fixed port and state file, restartable with the same arguments."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.state_file = tmp_path / "state.json"
        self.args = ["--state", str(self.state_file), "--credential", f"{KEY_ID}:{SECRET}", "--accelerator", "ga-1",
                     "--listener", "ga-1:lsr-web:tcp:80-80", "--transition-seconds", "2"]
        self.current = EmulatorProcess(self.args, self.port)

    def kill(self, signum: signal.Signals) -> int:
        """Stop the running emulator with ``signum``; returns its exit status."""
        status = self.current.signal(signum)
        self.current.stop()
        return status

    def start(self) -> None:
        """Start it again: same arguments, same port, same state file."""
        self.current = EmulatorProcess(self.args, self.port)

    def stop(self) -> None:
        self.current.stop()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Restartable]:
    server = Restartable(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def polling_after_write(emulator: EmulatorProcess) -> dict[str, Any] | None:
    """The applied write's params once the provider had its answer (it has asked DescribeListener since)."""
    records = emulator.calls()
    index = first_index(records, lambda r: is_applied_update(r) and r.params.get("Name") == "second")
    if index is None or first_index(records, lambda r: r.action == "DescribeListener", index + 1) is None:
        return None
    return {"token": records[index].params["ClientToken"], "request_id": records[index].request_id}


def settle(running: Future[dict[str, Any]]) -> dict[str, Any] | ProviderError:
    """The outcome of the in-flight operation: its plan, or the ProviderError it ended with."""
    try:
        return running.result(timeout=120)
    except ProviderError as error:
        return error


def assert_clear_transport_failure(error: ProviderError, url: str) -> None:
    """The outage outlasted the client's retries: one typed line naming the operation, action and endpoint."""
    last = error.last_line
    assert re.match(r"ga_listener\.[\w.]+Error: update of listener lsr-web failed after its change was sent: ",
                    last), last
    assert "DescribeListener" in last and url in last and "connection failed" in last, last


SCENARIOS = [(signal.SIGKILL, False), (signal.SIGTERM, False), (signal.SIGKILL, True)]


@pytest.mark.parametrize(("signum", "after_give_up"), SCENARIOS,
                         ids=["SIGKILL-back-at-once", "SIGTERM-back-at-once", "SIGKILL-back-after-give-up"])
def test_an_emulator_restart_mid_update_loses_nothing_acknowledged_and_the_rerun_never_applies_twice(
    emulator: Restartable, signum: signal.Signals, after_give_up: bool
) -> None:
    """Proves: after the emulator dies (SIGKILL: no chance to save anything more; SIGTERM: clean stop) between an
    applied UpdateListener and the end of the provider's wait, and restarts with the same --state and port, it
    still holds the applied configuration and the write's ClientToken; the in-flight operation rides a short
    outage out, or, when the emulator stays down past its retries, fails with one typed line naming the
    endpoint (putting back what the listener had fails the same way); and the engine's re-run of the same update
    finds the listener showing the change and writes nothing, or is answered as a replay with the original request
    id: the change is applied exactly once."""
    engine = Engine.for_endpoint(emulator.current.url, KEY_ID, SECRET, wait_timeout=6)
    engine.up("web", FIRST)  # an up with a write, acknowledged before the outage
    first_token = next(iter(applied_writes(emulator.current.calls())))
    recorded = copy.deepcopy(engine.state["web"])

    running = in_thread(lambda: engine.up("web", SECOND))
    write = wait_for(lambda: polling_after_write(emulator.current), "the write, then a poll", during=running)
    acknowledged = emulator.current.listener("lsr-web")
    assert emulator.kill(signum) == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
    if after_give_up:  # the emulator stays down until the provider has given up: a clear failure
        outcome = settle(running)
        emulator.start()
        assert isinstance(outcome, ProviderError), "the provider reached an emulator that was down"
        assert_clear_transport_failure(outcome, emulator.current.url)
    else:  # back at once: the in-flight update rides the outage out
        emulator.start()
        outcome = settle(running)
        assert not isinstance(outcome, ProviderError), outcome.last_line if isinstance(outcome, ProviderError) else ""
        assert outcome["op"] == "update" and engine.state["web"].outputs["name"] == "second"

    after = emulator.current.state()  # nothing acknowledged was lost
    [listener] = [item for item in after["Listeners"] if item["ListenerId"] == "lsr-web"]
    assert listener["Config"] == acknowledged["Config"]
    assert (listener["Config"]["Name"], listener["TransitionEndsAt"]) == ("second", acknowledged["TransitionEndsAt"])
    assert {first_token, write["token"]} <= state_tokens(after) == state_tokens(read_state_file(emulator.state_file))

    engine.state["web"] = recorded  # the engine's re-run: the same olds and news as the interrupted update
    engine.up("web", SECOND)
    records = emulator.current.calls()
    assert applied_writes(records) == {}, "the re-run applied the change a second time"
    assert set(replayed_writes(records)) <= {write["token"]}
    assert {r.request_id for r in records if r.action == "UpdateListener"} <= {write["request_id"]}
    live = describe(emulator.current, "lsr-web", key_id=KEY_ID, secret=SECRET)
    assert (live.name, ports_of(live), live.state) == ("second", [(81, 81)], "active")
