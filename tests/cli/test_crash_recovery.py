"""Under the real CLI: the CLI's process group killed while a create is in flight, then the recovery the README
documents (``pulumi cancel``, ``pulumi refresh --clear-pending-creates``, ``pulumi up``)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, live_listeners
from tests.cli.support import kill_session, session_members, wait_for


def test_a_killed_up_during_a_create_recovers_with_one_listener_owned_by_the_stack(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = make_stack({"ga-listener:waitTimeout": "120"})
    stack.set_listeners([{"name": "web", "args": {"accelerator_id": accelerator, "protocol": "tcp",
                                                  "port_ranges": [{"from_port": 7400, "to_port": 7400}]}}])
    # The service accepts the create at once but shows the listener only some seconds later (a lag fixed when the
    # listener is made): the up is mid-create when it is killed, and the recovery's up sees it.
    requests.post(f"{emulator.url}/_emulator/modes", json={"create_lag": 6}, timeout=10).raise_for_status()
    up = stack.spawn("up", "--yes", "--skip-preview", log=tmp_path / "killed-up.log")

    def created() -> bool:
        return any(r.action == "CreateListener" and r.http_status == 200 for r in emulator.calls)

    wait_for(created, 90, "the CreateListener of the first up")
    time.sleep(0.5)  # the provider is polling for the new listener now
    groups = session_members(up.pid)
    assert len(set(groups.values())) > 1  # the plugins run in process groups of their own: kill the session
    kill_session(up)
    calls = len(emulator.calls)
    time.sleep(1.0)
    assert len(emulator.calls) == calls, "a host of the killed up is still calling the service"
    pending = stack.export()["deployment"].get("pending_operations") or []
    assert [op["type"] for op in pending] == ["creating"]

    # The recovery the README gives, step by step.
    stack.pulumi("cancel", "--yes")
    stack.refresh("--clear-pending-creates")
    stack.up()

    live = live_listeners(emulator, accelerator)
    recorded = stack.listeners()
    assert [item.listener_id for item in live] == [recorded["web"]["id"]]
    assert recorded["web"]["outputs"]["origin"] == "created" and recorded["web"]["outputs"]["on_delete"] == "delete"
    assert not stack.export()["deployment"].get("pending_operations")
    accepted = [r for r in emulator.calls if r.action == "CreateListener" and r.http_status == 200 and not r.replayed]
    assert len(accepted) == 1  # the second up replayed the first create: never a second listener

    stack.destroy()
    assert live_listeners(emulator, accelerator) == []
