"""Adoption is transactional: when anything fails after the write, the adopted configuration is put back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import live, writes
from tests.support.provider_host import Engine, ProviderError

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}


def after_the_write(emulator: EmulatorServer, fault: Callable[[], None], after: int = 0) -> threading.Thread:
    """Once the emulator has applied an UpdateListener (beyond the ``after`` it had applied before), queue
    ``fault`` for what comes next (the waiter's poll)."""

    def watch() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if len(writes(emulator)) > after:
                fault()
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def stall_the_poll_after_the_write(emulator: EmulatorServer, seconds: float, after: int = 0,
                                   count: int = 1) -> threading.Thread:
    """Once the emulator has applied the UpdateListener, make the next ``count`` requests (the waiter's polls)
    hang."""
    return after_the_write(emulator, lambda: emulator.faults.enqueue("slow", count, delay=seconds), after)


def test_failure_after_the_write_puts_the_adopted_configuration_back(engine: Engine,
                                                                      emulator: EmulatorServer) -> None:
    engine.config["ga-listener:waitTimeout"] = "1"
    watcher = stall_the_poll_after_the_write(emulator, seconds=3, count=2)  # the deadline passes during the polls
    with pytest.raises(ProviderError) as raised:
        engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "proxy_protocol": True})
    watcher.join()
    last = raised.value.last_line
    assert "after its change was sent" in last and "timed out" in last and "was put back" in last
    sent = [set(c.params) for c in writes(emulator)]
    assert len(sent) == 2 and sent[0] == sent[1]  # the change, then the same fields back
    listener = live(emulator, "lsr-web")
    assert (listener.client_affinity, listener.proxy_protocol, listener.state) == ("NONE", False, "active")
    assert "web" not in engine.state

    # The same up again: it snapshots the true original and really applies the change (no token replay).
    engine.up("web", {**WEB, "client_affinity": "SOURCE_IP", "proxy_protocol": True})
    assert engine.state["web"].outputs["adopted"]["client_affinity"] == "NONE"
    listener = live(emulator, "lsr-web")
    assert (listener.client_affinity, listener.proxy_protocol) == ("SOURCE_IP", True)
    assert not [c for c in emulator.calls.of("UpdateListener") if c.replayed]


def test_a_refused_change_needs_no_roll_back(engine: Engine, emulator: EmulatorServer) -> None:
    with pytest.raises(ProviderError) as raised:
        engine.up("web", {**WEB, "port_ranges": [{"from_port": 9000, "to_port": 9000}]})  # lsr-api holds 9000
    assert "PortConflict.Listener" in raised.value.last_line
    assert writes(emulator) == []
    assert [c.code for c in emulator.calls.of("UpdateListener")] == ["PortConflict.Listener"]


def refuse_the_poll_after_the_write(emulator: EmulatorServer, code: str, after: int = 0) -> threading.Thread:
    """Once the emulator has applied the UpdateListener, make the next DescribeListener (the waiter's first
    poll) answer ``code``, an error no retry cures."""
    return after_the_write(emulator, lambda: emulator.faults.enqueue("error", code=code, action="DescribeListener"),
                           after)


def test_a_refusal_after_the_write_was_accepted_still_puts_the_listener_back(engine: Engine,
                                                                            emulator: EmulatorServer) -> None:
    """The write itself succeeded: an error in the wait after it (here a 4xx no retry cures) says nothing about
    whether the change was applied, so the adopted configuration is put back all the same."""
    watcher = refuse_the_poll_after_the_write(emulator, "Forbidden.RAM")
    with pytest.raises(ProviderError) as raised:
        engine.up("web", {**WEB, "client_affinity": "SOURCE_IP"})
    watcher.join()
    assert "Forbidden.RAM" in raised.value.last_line and "put back" in raised.value.last_line
    assert live(emulator, "lsr-web").client_affinity == "NONE"


def test_restore_puts_back_what_a_protocol_switch_moved_implicitly(engine: Engine, emulator: EmulatorServer) -> None:
    """Switching tcp (idle timeout 900) to udp sends udp's default idle timeout (20) besides the protocol: it is
    recorded as written, and restore puts both back."""
    engine.up("web", {**WEB, "protocol": "udp", "on_delete": "restore"})
    outputs = engine.state["web"].outputs
    assert outputs["idle_timeout"] == 20 and sorted(outputs["touched_fields"]) == ["idle_timeout", "protocol"]
    engine.destroy("web")
    after = live(emulator, "lsr-web")
    assert (after.protocol.lower(), after.idle_timeout) == ("tcp", 900)
