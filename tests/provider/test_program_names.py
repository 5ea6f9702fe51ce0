"""A listener that a resource of the current program names is never deleted or restored by the delete of a resource
removed from the program, in the same provider process or a later one (through the real host, as the engine
drives it: every resource of the program is checked before the removed ones are deleted).

The later process is the case the in-process claims cannot see: resource A adopts L; a rename without an alias
makes B adopt L, and that deployment fails before A's delete (another resource is refused); the next ``up`` runs
in a new host, where B is in the program and A's delete runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import live, writes
from tests.support.provider_host import Engine, ProviderError, ProviderHost, urn_for

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}
REFUSED: dict[str, Any] = {"listener_id": "lsr-api", "protocol": "tcp", "port_ranges": [{"from_port": 0, "to_port": 0}]}


def renamed_and_interrupted(engine: Engine, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A adopts lsr-web; then a deployment where B adopts it too fails before A's delete."""
    engine.deploy({"a": old})
    with pytest.raises(ProviderError):
        engine.deploy({"b": new, "refused": REFUSED})  # B's create runs, then the refused check ends the run
    assert set(engine.state) == {"a", "b"}  # the engine keeps A: its delete never ran


def refresh_diffs(engine: Engine, host: ProviderHost) -> None:
    """What ``up --refresh`` sends first, in the same process: Diff(olds = outputs, news = old inputs) of every
    resource in the state, removed ones included."""
    for name, state in engine.state.items():
        host.diff(urn_for(name), state.id, state.outputs, state.inputs)


@pytest.mark.parametrize(("on_delete", "refresh"), [("delete", False), ("restore", False), ("delete", True)])
def test_a_removed_resource_leaves_a_listener_the_program_names_in_a_later_process(
        engine: Engine, emulator: EmulatorServer, on_delete: str, refresh: bool) -> None:
    renamed_and_interrupted(engine, {**WEB, "name": "a", "client_affinity": "SOURCE_IP", "on_delete": on_delete},
                            {**WEB, "name": "b", "client_affinity": "SOURCE_IP", "on_delete": on_delete})
    emulator.calls.clear()
    with engine.host() as host:  # the next `pulumi up` (with --refresh or not): a new provider process
        if refresh:
            refresh_diffs(engine, host)
        ops = engine.deploy({"b": {**WEB, "name": "b", "client_affinity": "SOURCE_IP", "on_delete": on_delete}},
                            host=host)
        printed = host.output()
    assert ops == {"b": "same"} and list(engine.state) == ["b"]
    after = live(emulator, "lsr-web")
    assert (after.state, after.name, after.client_affinity) == ("active", "b", "SOURCE_IP")
    assert writes(emulator) == [] and writes(emulator, "DeleteListener") == []
    assert "lsr-web" in printed and "another resource" in printed

    engine.destroy("b")  # `pulumi destroy` runs no program: the resource's own on_delete still applies
    if on_delete == "delete":
        assert [c.params["ListenerId"] for c in writes(emulator, "DeleteListener")] == ["lsr-web"]
    else:  # what B found when it adopted the listener: A's configuration
        assert live(emulator, "lsr-web").name == "a"


def test_a_removed_resource_still_releases_a_listener_nobody_in_the_program_names(engine: Engine,
                                                                                 emulator: EmulatorServer) -> None:
    """Also under ``up --refresh``, whose refresh diffs every resource of the state (the removed one too) in the
    same process before the program runs."""
    other = {**WEB, "listener_id": "lsr-a", "on_delete": "delete",
             "port_ranges": [{"from_port": 7001, "to_port": 7001}]}
    engine.deploy({"a": {**WEB, "on_delete": "delete"}, "c": other})
    with engine.host() as host:
        refresh_diffs(engine, host)
        engine.deploy({"c": other}, host=host)
    assert [c.params["ListenerId"] for c in writes(emulator, "DeleteListener")] == ["lsr-web"]
