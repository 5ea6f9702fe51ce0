"""An update whose write the service accepted but whose wait failed (through the real host, against the emulator).

When the provider survives, the write is rolled back as an adoption's is, so the live listener and the state
agree and ``restore`` still puts back the original; a re-run of the same change always converges, even when the
service remembers its ClientToken and the listener no longer shows the change (rolled back, or reverted in the
console). When the host was killed, ``pulumi refresh`` records what the listener has, after which ``restore``
still puts back the original.
"""

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_ga20191120 import models

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import live, official_client, writes
from tests.provider.test_adopt_rollback import refuse_the_poll_after_the_write, stall_the_poll_after_the_write
from tests.reliability.support import in_thread, wait_for
from tests.support.provider_host import Engine, ProviderError

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                       "on_delete": "restore"}


def applied(emulator: EmulatorServer) -> list[Any]:
    """UpdateListener calls the emulator applied (not ClientToken replays)."""
    return [c for c in writes(emulator) if not c.replayed]


def fail_after_the_write(engine: Engine, emulator: EmulatorServer, inputs: dict[str, Any]) -> str:
    """``up`` with ``inputs`` whose write is accepted and whose wait then fails; the failure's last line."""
    before = len(writes(emulator))
    watcher = refuse_the_poll_after_the_write(emulator, "Forbidden.RAM", after=before)
    with pytest.raises(ProviderError) as raised:
        engine.up("web", inputs)
    watcher.join()
    return raised.value.last_line


def test_a_failed_update_is_rolled_back_and_restore_still_puts_back_the_original(
        engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "idle_timeout": 300})  # adopted with 900
    last = fail_after_the_write(engine, emulator, {**WEB, "idle_timeout": 600})
    assert "Forbidden.RAM" in last and "put back" in last
    assert live(emulator, "lsr-web").idle_timeout == 300  # what the state still records
    assert engine.state["web"].outputs["idle_timeout"] == 300
    assert engine.preview("web", {**WEB, "idle_timeout": 300})["op"] == "same"  # reverting the program: no diff
    engine.destroy("web")
    assert live(emulator, "lsr-web").idle_timeout == 900  # the original, not left as "changed by hand"


def test_a_rerun_of_a_change_whose_token_the_service_remembers_still_applies_it(
        engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "name": "a"})
    fail_after_the_write(engine, emulator, {**WEB, "name": "b"})
    wait_for(lambda: live(emulator, "lsr-web").state == "active", "the end of the failed update")
    official_client(emulator).update_listener(models.UpdateListenerRequest(  # reverted in the console
        region_id="cn-hangzhou", listener_id="lsr-web", name="a"))
    wait_for(lambda: live(emulator, "lsr-web").state == "active", "the revert")
    emulator.calls.clear()

    engine.config.update({"ga-listener:waitTimeout": "6", "ga-listener:createVisibilityTimeout": "1"})
    engine.up("web", {**WEB, "name": "b"})  # the same change again: the same olds, the same news

    assert live(emulator, "lsr-web").name == "b" and engine.state["web"].outputs["name"] == "b"
    assert len(applied(emulator)) == 1


def test_after_a_host_killed_mid_update_refresh_lets_restore_put_back_the_original(
        engine: Engine, emulator: EmulatorServer) -> None:
    engine.up("web", {**WEB, "idle_timeout": 300})
    watcher = stall_the_poll_after_the_write(emulator, seconds=2, after=len(writes(emulator)))
    host = engine.host()
    try:
        running = in_thread(lambda: engine.up("web", {**WEB, "idle_timeout": 600}, host=host))
        watcher.join()
        assert not running.done()
        host.process.kill()  # SIGKILL while the provider waits for the accepted write
        with pytest.raises(ProviderError):
            running.result(timeout=30)
    finally:
        host.close()
    assert engine.state["web"].outputs["idle_timeout"] == 300  # nothing recorded
    refreshed = engine.refresh("web")  # what the README says to run after a killed `up`
    assert refreshed is not None and refreshed.outputs["idle_timeout"] == 600
    engine.destroy("web")
    assert live(emulator, "lsr-web").idle_timeout == 900
