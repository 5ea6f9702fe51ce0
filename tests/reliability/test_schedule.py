"""A randomized schedule of whole-program deployments through the real provider host, against an emulator failing
20 % of all requests with every fault kind: listeners created, changed, adopted, released and deleted, resources
refreshed, and provider hosts killed right after the service accepted a create or an update.

After a failure the schedule re-runs, in one mode with the same inputs, in the other with edited inputs (other
ports, another name: what a user does after a crash), until the deployment succeeds. After every step:

* no orphan: every listener on the accelerator is a seeded one or the recorded listener of a created resource;
* no duplicate: no two resources hold one listener, and each created resource holds one listener;
* no foreign listener touched: the listeners no resource ever names were never written to, nor changed;
* convergence: every resource's listener shows what the program wants.

``make test`` runs 2 seeds of 20 steps in each mode; ``make soak`` runs 8 seeds of 40 steps
(``SOAK_SEEDS`` / ``SOAK_STEPS``).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from ga_emulator.api import CallRecord
from ga_emulator.server import EmulatorServer
from tests.reliability.support import KEY_ID, SECRET, in_thread, wait_for
from tests.support.provider_host import Engine, ProviderError

ALL_SEEDS = [11, 23, 37, 41, 53, 67, 79, 97]
SEEDS = ALL_SEEDS[:int(os.environ.get("SOAK_SEEDS", "2"))]
STEPS = int(os.environ.get("SOAK_STEPS", "20"))
MODES = ("same", "edited")
FAULT_RATE = 0.2
ATTEMPTS = 8  # re-runs of a failed step before the schedule gives up (and fails)
ACCELERATOR = "ga-s"
FOREIGN = {"lsr-foreign-1": 9001, "lsr-foreign-2": 9002}  # no resource ever names these
ADOPTABLE = {"a0": ("lsr-adopt-0", 7000), "a1": ("lsr-adopt-1", 7010)}
CREATED = {"c0": 8000, "c1": 8100, "c2": 8200}  # each created resource keeps its ports within base..base+9
SEEDED = {*FOREIGN, *(listener for listener, _ in ADOPTABLE.values())}


def ranges(low: int, high: int) -> list[dict[str, int]]:
    return [{"from_port": low, "to_port": high}]


def inputs_for(slot: str, rng: random.Random) -> dict[str, Any]:
    """A random configuration of ``slot`` (always valid, and never overlapping another slot's ports)."""
    common: dict[str, Any] = {"protocol": "tcp", "name": rng.choice(["alpha", "beta", "gamma"]),
                              "idle_timeout": rng.choice([300, 600, 900])}
    if rng.random() < 0.5:
        common["client_affinity"] = rng.choice(["NONE", "SOURCE_IP"])
    if slot in ADOPTABLE:
        listener_id, port = ADOPTABLE[slot]
        return {**common, "listener_id": listener_id, "port_ranges": ranges(port, port),
                "on_delete": rng.choice(["retain", "restore"])}
    low = CREATED[slot] + rng.randrange(8)
    return {**common, "accelerator_id": ACCELERATOR, "port_ranges": ranges(low, low + rng.randrange(2))}


def edited(slot: str, inputs: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """What a user changes before re-running after a failure: the name, and for a created listener its ports."""
    changed = {**inputs, "name": f"edit{rng.randrange(100)}"}
    if slot in CREATED and rng.random() < 0.7:
        low = CREATED[slot] + rng.randrange(8)
        changed["port_ranges"] = ranges(low, low + rng.randrange(2))
    return changed


def accepted_write(record: CallRecord) -> bool:
    """A create or update the service applied (answered, or applied and its answer dropped)."""
    return (record.action in ("CreateListener", "UpdateListener") and not record.replayed and record.code is None
            and (record.http_status == 200 or record.fault == "drop_after"))


@dataclass
class Run:
    """What one schedule did and met."""

    seed: int
    mode: str
    steps: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # steps that failed before a re-run converged
    violation: str | None = None
    records: list[CallRecord] = field(default_factory=list)

    def summary(self) -> str:
        faults = sum(1 for r in self.records if r.fault)
        return (f"seed {self.seed} {self.mode}: {dict(self.steps)}, {len(self.failures)} failed attempts re-run, "
                f"{len(self.records)} requests, {faults} faulted")


class Schedule:
    """One seed's schedule in one mode, against its own emulator."""

    def __init__(self, seed: int, mode: str, server: EmulatorServer) -> None:
        self.rng = random.Random(f"{seed}-{mode}")
        self.run = Run(seed, mode)
        self.server = server
        self.engine = Engine.for_endpoint(server.url, KEY_ID, SECRET, wait_timeout=20,
                                          **{"ga-listener:createVisibilityTimeout": "1"})
        self.program: dict[str, dict[str, Any]] = {}
        self.foreign = {key: config for key, config in self._truth().items() if key in FOREIGN}

    # --- the world --------------------------------------------------------------------------------------------

    def _truth(self) -> dict[str, dict[str, Any]]:
        """The emulator's listeners (its own state: no request, so no fault draw), by id."""
        return {item["ListenerId"]: item["Config"] for item in self.server.backend.snapshot()["Listeners"]}

    def check(self, where: str) -> None:
        truth = self._truth()
        state = self.engine.state
        created = [state[slot].id for slot in CREATED if slot in state]
        problems = []
        if len(set(created)) != len(created):
            problems.append(f"duplicate: created resources share a listener {created}")
        orphans = sorted(set(truth) - SEEDED - set(created))
        if orphans:
            problems.append(f"orphan listeners {orphans}")
        problems += [f"{slot} holds {state[slot].id}, not {ADOPTABLE[slot][0]}" for slot in ADOPTABLE
                     if slot in state and state[slot].id != ADOPTABLE[slot][0]]
        touched = [r.params.get("ListenerId") for r in self.server.calls.snapshot()
                   if r.action in ("UpdateListener", "DeleteListener") and r.params.get("ListenerId") in FOREIGN]
        if touched or any(truth.get(key) != config for key, config in self.foreign.items()):
            problems.append(f"foreign listeners touched: {touched}")
        for slot, inputs in self.program.items():
            config = truth.get(state[slot].id) if slot in state else None
            if config is None:
                problems.append(f"{slot} is in the program but holds no listener")
            elif (config["Name"], config["IdleTimeout"], config["PortRanges"]) != (
                    inputs["name"], inputs["idle_timeout"], [[r["from_port"], r["to_port"]]
                                                             for r in inputs["port_ranges"]]):
                problems.append(f"{slot} did not converge: {config} for {inputs}")
        if problems:
            raise AssertionError(f"after {where}: " + "; ".join(problems))

    # --- running deployments ------------------------------------------------------------------------------------

    def _deploy(self, kill: bool) -> ProviderError | None:
        """``pulumi up`` of the program; with ``kill``, its host is SIGKILLed once the service accepted a write."""
        if not kill:
            try:
                self.engine.deploy(self.program)
            except ProviderError as error:
                return error
            return None
        mark = len(self.server.calls)
        host = self.engine.host()
        try:
            running = in_thread(lambda: self.engine.deploy(self.program, host=host))
            wait_for(lambda: running.done() or any(accepted_write(r) for r in self.server.calls.snapshot()[mark:]),
                     "an accepted write", timeout=120)
            if not running.done():
                host.process.kill()
                self.run.steps["killed"] += 1
            error = running.exception(timeout=60)
        finally:
            host.close()
        return error if isinstance(error, ProviderError) else None

    def _until_done(self, what: str, slot: str | None, attempt: Any) -> None:
        """Run ``attempt`` (returns its failure or None) and re-run it after each failure, editing ``slot``'s
        inputs first in the edited mode."""
        error = attempt(True)
        for _ in range(ATTEMPTS):
            if error is None:
                return
            self.run.failures.append(f"{what}: {error.last_line[:200]}")
            if self.run.mode == "edited" and slot in self.program:
                self.program[slot] = edited(slot, self.program[slot], self.rng)
            error = attempt(False)
        raise AssertionError(f"{what} did not converge in {ATTEMPTS} re-runs: {error.last_line if error else ''}")

    def step(self, number: int) -> None:
        rng = self.rng
        slots = [*CREATED, *ADOPTABLE]
        absent = [slot for slot in slots if slot not in self.program]
        kind = rng.choices(["change", "add", "remove", "refresh"], [40, 25, 15, 20])[0]
        if kind == "add" and not absent:
            kind = "change"
        if kind in ("change", "remove", "refresh") and not self.program:
            kind = "add"
        slot = rng.choice(absent if kind == "add" else sorted(self.program))
        self.run.steps[kind] += 1
        what = f"step {number} ({kind} {slot})"
        if kind == "refresh":
            def refresh(_first: bool) -> ProviderError | None:
                try:
                    self.engine.refresh(slot)
                except ProviderError as error:
                    return error
                return None
            self._until_done(what, None, refresh)
        else:
            if kind == "remove":
                del self.program[slot]
            else:
                self.program[slot] = inputs_for(slot, rng)
            kill = kind != "remove" and rng.random() < 0.3
            self._until_done(what, slot if kind != "remove" else None, lambda first: self._deploy(kill and first))
        self.check(what)

    def finish(self) -> None:
        """Destroy what is left; created listeners go, adopted ones stay (retained or restored)."""
        for slot in list(self.engine.state):
            def destroy(_first: bool, slot: str = slot) -> ProviderError | None:
                try:
                    self.engine.destroy(slot)
                except ProviderError as error:
                    return error
                return None
            self._until_done(f"destroy {slot}", None, destroy)
        self.program.clear()
        self.check("destroy")
        left = set(self._truth()) - SEEDED
        assert not left, f"listeners left after destroy: {sorted(left)}"


def run_schedule(seed: int, mode: str) -> Run:
    seeds = [f"{ACCELERATOR}:{key}:tcp:{port}-{port}" for key, port in FOREIGN.items()]
    seeds += [f"{ACCELERATOR}:{key}:tcp:{port}-{port}" for key, port in ADOPTABLE.values()]
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=[ACCELERATOR], listeners=seeds,
                            transition_seconds=0.05, fault_rate=FAULT_RATE, fault_seed=seed, fault_kinds="all")
    with server:
        schedule = Schedule(seed, mode, server)
        try:
            for number in range(STEPS):
                schedule.step(number)
            schedule.finish()
        except AssertionError as error:
            schedule.run.violation = str(error)
        schedule.run.records = server.calls.snapshot()
    return schedule.run


@pytest.fixture(scope="module")
def runs() -> dict[tuple[int, str], Run]:
    """Every (seed, mode) run, side by side: each has its own emulator, fault draw and hosts."""
    cases = [(seed, mode) for seed in SEEDS for mode in MODES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(cases, pool.map(lambda case: run_schedule(*case), cases), strict=True))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_schedule_leaves_no_orphan_no_duplicate_and_no_foreign_listener_touched(
        runs: dict[tuple[int, str], Run], seed: int, mode: str) -> None:
    run = runs[(seed, mode)]
    print(run.summary())
    assert run.violation is None, f"{run.violation}\n{run.summary()}\nfailed attempts: {run.failures}"
    assert run.steps["killed"] >= 1 and run.failures, run.summary()  # the schedule really met kills and failures
    assert sum(1 for r in run.records if r.fault) >= 10, run.summary()
