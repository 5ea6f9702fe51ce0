"""The in-process engine driver (tests/support/provider_host.py ``Engine``) answers to the real CLI.

Each behaviour the driver imitates is run both ways here against the same emulator: once through the real CLI,
whose own ``-v=7`` log says which provider calls it made, and once through the driver, which records its calls.
The sequences must be equal, and so must what a check failure prints and which config refresh and destroy use.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, describe, seed_listener
from tests.cli.support import DEMO_ID, DEMO_SECRET, Stack, provider_calls
from tests.support.provider_host import Engine, ProviderError

VERBOSE = ("-v=7", "--logtostderr")


def inputs(accelerator: str | None = None, listener_id: str | None = None, port: int = 7900,
           **extra: Any) -> dict[str, Any]:
    identity = {"listener_id": listener_id} if listener_id else {"accelerator_id": accelerator}
    return {**identity, "protocol": "tcp", "port_ranges": [{"from_port": port, "to_port": port}], **extra}


def declared(name: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "args": args, **extra}


@pytest.fixture
def accelerators(emulator: EmulatorServer, accelerator: str) -> tuple[str, str, str]:
    """(the real CLI's, the driver's, a spare): the two never share ports."""
    extra = [f"{accelerator}-driver", f"{accelerator}-spare"]
    for accelerator_id in extra:
        requests.post(f"{emulator.url}/_emulator/accelerators", json={"accelerator_id": accelerator_id},
                      timeout=10).raise_for_status()
    return accelerator, extra[0], extra[1]


def driver(emulator: EmulatorServer) -> Engine:
    return Engine.for_endpoint(emulator.url, DEMO_ID, DEMO_SECRET)


def real(stack: Stack, operation: str, listeners: list[dict[str, Any]] | None = None,
         *, check: bool = True) -> list[tuple[str, str]]:
    """The provider calls the real CLI made for ``operation`` (up without its preview, refresh, destroy)."""
    if listeners is not None:
        stack.set_listeners(listeners)
    run = getattr(stack, operation)(*VERBOSE, check=check)
    return provider_calls(run.stderr)


def test_create_update_and_no_change_make_the_same_calls(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, theirs, _ = accelerators
    stack, engine = make_stack({}), driver(emulator)
    assert real(stack, "up", [declared("web", inputs(mine))]) == [("Check", "web"), ("Create", "web")]
    engine.up("web", inputs(theirs))
    assert engine.calls == [("Check", "web"), ("Create", "web")]

    engine.calls.clear()
    assert real(stack, "up", [declared("web", inputs(mine, name="v2"))]) == [
        ("Check", "web"), ("Diff", "web"), ("Update", "web")]
    engine.up("web", inputs(theirs, name="v2"))
    assert engine.calls == [("Check", "web"), ("Diff", "web"), ("Update", "web")]

    engine.calls.clear()
    assert real(stack, "up") == [("Check", "web"), ("Diff", "web")]
    engine.up("web", inputs(theirs, name="v2"))
    assert engine.calls == [("Check", "web"), ("Diff", "web")]


def test_a_replace_deletes_before_it_creates_in_both(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, theirs, spare = accelerators
    stack, engine = make_stack({}), driver(emulator)
    real(stack, "up", [declared("web", inputs(mine))])
    engine.up("web", inputs(theirs, port=7901))
    engine.calls.clear()
    expected = [("Check", "web"), ("Diff", "web"), ("Check", "web"), ("Delete", "web"), ("Create", "web")]
    assert real(stack, "up", [declared("web", inputs(spare))]) == expected
    engine.up("web", inputs(spare, port=7901))
    assert engine.calls == expected


def test_refresh_is_read_then_diff_in_both(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, theirs, _ = accelerators
    stack, engine = make_stack({}), driver(emulator)
    real(stack, "up", [declared("web", inputs(mine))])
    engine.up("web", inputs(theirs))
    engine.calls.clear()
    assert real(stack, "refresh") == [("Read", "web"), ("Diff", "web")]
    engine.refresh("web")
    assert engine.calls == [("Read", "web"), ("Diff", "web")]


def test_a_rename_without_an_alias_creates_the_new_resource_and_deletes_the_old_one_last_in_both(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, theirs, _ = accelerators
    ours, its = seed_listener(emulator, mine, 7902), seed_listener(emulator, theirs, 7902)
    stack, engine = make_stack({}), driver(emulator)
    real(stack, "up", [declared("old", inputs(listener_id=ours, port=7902))])
    engine.deploy({"old": inputs(listener_id=its, port=7902)})
    engine.calls.clear()
    expected = [("Check", "new"), ("Create", "new"), ("Delete", "old")]
    assert real(stack, "up", [declared("new", inputs(listener_id=ours, port=7902))]) == expected
    engine.deploy({"new": inputs(listener_id=its, port=7902)})
    assert engine.calls == expected


def test_get_is_one_read_and_a_missing_listener_fails_in_both(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, _, _ = accelerators
    listener_id = seed_listener(emulator, mine, 7903)
    stack, engine = make_stack({}), driver(emulator)
    assert real(stack, "up", [{"name": "found", "get": listener_id}]) == [("Read", "found")]
    assert engine.get("found", listener_id)["listener_id"] == listener_id
    assert engine.calls == [("Read", "found")]

    stack.set_listeners([{"name": "gone", "get": "lsr-gone"}])
    run = stack.up(check=False)
    assert run.returncode != 0 and "lsr-gone" in run.output
    with pytest.raises(ProviderError) as raised:
        engine.get("gone", "lsr-gone")
    assert "lsr-gone" in raised.value.last_line


def test_a_check_failure_prints_what_the_driver_reports(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, _, _ = accelerators
    bad = inputs(mine, idle_timeout=5000, name="-bad")
    failures = driver(emulator).preview("web", bad)["failures"]
    assert failures  # the driver saw the same input fail
    stack = make_stack({})
    stack.set_listeners([declared("web", bad)])
    run = stack.preview(check=False)
    assert run.returncode != 0
    for prop, reason in failures:
        assert f"property {prop} value " in run.output and f"has a problem: {reason}" in run.output, (prop, run)
    assert "<nil>" not in run.output


def test_refresh_and_destroy_configure_the_provider_with_the_config_stored_at_the_last_up(
    emulator: EmulatorServer, accelerators: tuple[str, str, str], make_stack: StackFactory
) -> None:
    mine, theirs, _ = accelerators
    stack, engine = make_stack({}), driver(emulator)
    real(stack, "up", [declared("web", inputs(mine, on_delete="retain"))])
    engine.up("web", inputs(theirs, on_delete="retain"))
    listener_id = stack.listeners()["web"]["id"]
    # The stack file now points elsewhere: the stored config is what refresh and destroy must use.
    dead = "http://127.0.0.1:9"
    stack.write_config({**stack.config(), "ga-listener:endpoint": dead})
    engine.config["ga-listener:endpoint"] = dead
    assert real(stack, "refresh") == [("Read", "web"), ("Diff", "web")]
    assert engine.refresh("web") is not None
    assert real(stack, "destroy") == [("Delete", "web")]
    engine.destroy("web")
    assert describe(emulator, listener_id).state == "active"  # retained, as on_delete says

