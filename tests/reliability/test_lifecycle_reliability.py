"""The whole lifecycle under failure: a host killed after the service accepted a create, and chaos over create,
update and delete (through the real provider host, against the emulator).

After a kill the engine records nothing, and the next ``up`` sends the same Create (same inputs, resource key
included) to a new host: its ClientToken must replay the first create, leaving one listener owned by the resource.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from ga_emulator.api import CallRecord
from ga_emulator.server import EmulatorServer
from tests.reliability.support import KEY_ID, SECRET, in_thread, wait_for
from tests.support.provider_host import Engine, ProviderError

API: dict[str, Any] = {"accelerator_id": "ga-1", "protocol": "tcp", "name": "api", "resource_key": "proj/dev/api",
                       "port_ranges": [{"from_port": 9000, "to_port": 9000}]}


def listeners(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """What the emulator holds (its state: no request, so no fault draw)."""
    return [item for item in emulator.backend.snapshot()["Listeners"] if item["State"] != "gone"]


def accepted_creates(records: list[CallRecord]) -> list[CallRecord]:
    """CreateListener calls the emulator applied (not replays), answered or not."""
    return [r for r in records if r.action == "CreateListener" and r.code is None and r.http_status in (0, 200)
            and not r.replayed and r.fault != "drop"]


def test_a_host_killed_after_the_create_was_accepted_leaves_one_listener_owned_as_created() -> None:
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], transition_seconds=2.0)
    with server:
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET)
        host = engine.host()
        try:
            running = in_thread(lambda: engine.up("api", API, host=host))
            wait_for(lambda: accepted_creates(server.calls.snapshot()), "the accepted create", during=running)
            assert not running.done(), "the create had already returned: the kill would prove nothing"
            host.process.kill()  # SIGKILL while the provider waits for the new listener
            with pytest.raises(ProviderError):
                running.result(timeout=30)
        finally:
            host.close()
        assert "api" not in engine.state  # the engine recorded nothing
        [orphan] = listeners(server)

        engine.up("api", API)  # the next up: the same Create in a new host

        assert engine.state["api"].id == orphan["ListenerId"]
        assert [item["ListenerId"] for item in listeners(server)] == [orphan["ListenerId"]]
        assert engine.state["api"].outputs["origin"] == "created"
        assert len(accepted_creates(server.calls.snapshot())) == 1
        engine.destroy("api")  # owned as created: deleted
        assert listeners(server) == []


FAULT_RATE = 0.3
SEEDS = [7, 20240611, 99]
STEPS = 6


def configuration(step: int) -> dict[str, Any]:
    """Step 0 creates; the others change it (consecutive steps differ)."""
    port = 9000 + step % 2
    return {**API, "port_ranges": [{"from_port": port, "to_port": port}], "name": ("alpha", "beta")[step % 2],
            "idle_timeout": (300, 600, 900)[step % 3]}


@dataclass
class LifecycleRun:
    records: list[CallRecord] = field(default_factory=list)
    failure: str | None = None
    listeners_after_up: list[list[dict[str, Any]]] = field(default_factory=list)
    listeners_after_destroy: list[dict[str, Any]] = field(default_factory=list)
    second_life_starts: int = 0  # index in ``records`` of the second life's first request


def run_lifecycle(seed: int) -> LifecycleRun:
    """Create, change STEPS - 1 times, destroy; twice over (the second life creates again), under 30 % faults
    of every kind, with the lost answer of one create and one delete queued (applied, answer dropped)."""
    run = LifecycleRun()
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], transition_seconds=0.1,
                            fault_rate=FAULT_RATE, fault_seed=seed, fault_kinds="all")
    with server:
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET, wait_timeout=120,
                                     **{"ga-listener:createVisibilityTimeout": "3"})
        try:
            for life in range(2):
                run.second_life_starts = len(server.calls) if life else 0
                with engine.host() as host:
                    for step in range(STEPS):
                        if step == 0 and life == 0:
                            server.faults.enqueue("drop_after", action="CreateListener")
                        engine.up("api", configuration(step), host=host)
                        run.listeners_after_up.append(listeners(server))
                server.faults.enqueue("drop_after", action="DeleteListener")
                engine.destroy("api")
                run.listeners_after_destroy = listeners(server)
        except ProviderError as error:
            run.failure = error.last_line
        run.records = server.calls.snapshot()
    return run


@pytest.fixture(scope="module")
def lifecycle_runs() -> dict[int, LifecycleRun]:
    with ThreadPoolExecutor(max_workers=len(SEEDS)) as pool:
        return dict(zip(SEEDS, pool.map(run_lifecycle, SEEDS), strict=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_create_update_delete_under_a_30_percent_fault_rate_converge_leaving_nothing_behind(
        lifecycle_runs: dict[int, LifecycleRun], seed: int) -> None:
    run = lifecycle_runs[seed]
    faults = Counter(f"{r.action}:{r.fault}" for r in run.records if r.fault)
    assert run.failure is None, f"{run.failure}\n{dict(faults)}"
    for index, held in enumerate(run.listeners_after_up):
        step = index % STEPS
        [listener] = held  # never a second listener
        wanted = configuration(step)
        assert (listener["Config"]["Name"], listener["Config"]["IdleTimeout"]) == (wanted["name"],
                                                                                 wanted["idle_timeout"])
    assert run.listeners_after_destroy == []
    assert len(accepted_creates(run.records)) == 2  # one per life, whatever was retried or replayed
    # The second life's create replayed the first life's token (same key and configuration) and got the deleted
    # listener: it waited out ga-listener:createVisibilityTimeout and created afresh.
    second_life = run.records[run.second_life_starts:]
    assert any(r.action == "CreateListener" and r.replayed for r in second_life)
    first, second = run.listeners_after_up[0][0]["ListenerId"], run.listeners_after_up[STEPS][0]["ListenerId"]
    assert first != second
    assert faults["CreateListener:drop_after"] >= 1 and faults["DeleteListener:drop_after"] >= 1
    assert len({r.fault for r in run.records if r.fault}) >= 5, dict(faults)
