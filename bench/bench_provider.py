"""Provider benchmarks through the real provider host: what previews and updates cost, side by side.

Rows: host start + first Check and Check+Diff of 200 listeners (ours vs a no-op dynamic provider in the same
host), convergence of one update and of eight at once against the emulator (wall time over the transition the
service imposes), and API calls per operation counted at the emulator.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider

from bench import Row, alternating
from bench.noop_provider import NoopProvider
from ga_emulator.server import EmulatorServer
from ga_listener.config import plan
from tests.support.provider_host import PROVIDER_KEY, Engine, ProviderHost, pickled_provider, urn_for

KEY_ID, SECRET = "bench-key-id", "bench-key-secret"
TRANSITION = 1.0
PREVIEW_COUNT = 200


def listener_inputs(index: int, name: str = "bench") -> dict[str, Any]:
    port = 1000 + index
    return {"listener_id": f"lsr-{index}", "protocol": "tcp", "port_ranges": [{"from_port": port, "to_port": port}],
            "name": name, "client_affinity": "SOURCE_IP", "region_id": "cn-hangzhou", "on_delete": "retain"}


def listener_outputs(index: int) -> dict[str, Any]:
    """Outputs as the provider would have stored them for ``listener_inputs(index)``."""
    inputs = listener_inputs(index)
    live = {field: plan.canonical(field, inputs.get(field)) for field in plan.API_NAMES}
    live.update(listener_id=inputs["listener_id"], accelerator_id="ga-1", state="active")
    managed = ["protocol", "port_ranges", "name", "client_affinity"]
    return plan.build_outputs(live, plan.Bookkeeping.adopting(managed, "retain", live))


def first_check_seconds(provider: str) -> float:
    """Start a host, configure it and answer one Check: what every preview pays before anything else."""
    start = time.perf_counter()
    with ProviderHost() as host:
        host.configure({})
        _, failures = host.check(urn_for("l0"), {}, {**listener_inputs(0), PROVIDER_KEY: provider})
        assert not failures, failures
        return time.perf_counter() - start


def preview_seconds(provider: str) -> float:
    """Check + Diff of PREVIEW_COUNT unchanged listeners in one freshly started host (start not counted)."""
    # What the engine would send is built before the clock starts: only the host and the provider are timed.
    calls = [(urn_for(f"l{i}"), f"lsr-{i}", listener_inputs(i), {**listener_inputs(i), PROVIDER_KEY: provider},
              listener_outputs(i)) for i in range(PREVIEW_COUNT)]
    with ProviderHost() as host:
        host.configure({})
        start = time.perf_counter()
        for urn, listener_id, olds, news, outputs in calls:
            checked, _ = host.check(urn, olds, news)
            assert host.diff(urn, listener_id, outputs, checked).changes is False
        return time.perf_counter() - start


def interleaved(samples: int, ours: Callable[[], float], reference: Callable[[], float]) -> tuple[float, float]:
    """Medians of alternating runs (see :func:`bench.alternating`)."""
    mine, theirs = alternating(samples, ours, reference)
    return statistics.median(mine), statistics.median(theirs)


def host_rows() -> list[Row]:
    ours, noop = pickled_provider(), serialize_provider(NoopProvider())
    start_ours, start_noop = interleaved(7, lambda: first_check_seconds(ours), lambda: first_check_seconds(noop))
    preview_ours, preview_noop = interleaved(3, lambda: preview_seconds(ours), lambda: preview_seconds(noop))
    return [
        Row("host start + first Check (every preview)", start_ours, start_noop, "s", "lower", 1.6, 1.3,
            "vs a no-op dynamic provider in the same host"),
        Row(f"Check+Diff of {PREVIEW_COUNT} listeners (preview)", preview_ours, preview_noop, "s", "lower", 1.5,
            note="vs a no-op dynamic provider"),
    ]


def emulator(listeners: list[str], accelerators: list[str]) -> EmulatorServer:
    return EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=accelerators,
                          listeners=listeners, transition_seconds=TRANSITION)


def engine_for(server: EmulatorServer) -> Engine:
    return Engine.for_endpoint(server.url, KEY_ID, SECRET, wait_timeout=60)


def concurrent_update_seconds(accelerator_of: Callable[[int], str]) -> float:
    """Adopt 8 listeners (no change), then change all 8 at once through one host; wall seconds of the change."""
    seeds = [f"{accelerator_of(i)}:lsr-{i}:tcp:{1000 + i}-{1000 + i}" for i in range(8)]
    with emulator(seeds, sorted({accelerator_of(i) for i in range(8)})) as server:
        engine = engine_for(server)
        with engine.host() as host:
            created = {}
            for i in range(8):
                checked, _ = host.check(urn_for(f"l{i}"), {}, {**listener_inputs(i, ""), PROVIDER_KEY: engine.provider})
                created[i] = (checked, host.create(urn_for(f"l{i}"), {**checked, "name": None})[1])

            def change(i: int) -> None:
                news = {**listener_inputs(i, "changed"), PROVIDER_KEY: engine.provider}
                checked, _ = host.check(urn_for(f"l{i}"), created[i][0], news)
                host.update(urn_for(f"l{i}"), f"lsr-{i}", created[i][1], checked)

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(change, range(8)))
            return time.perf_counter() - start


def convergence_rows() -> list[Row]:
    with emulator(["ga-1:lsr-0:tcp:1000-1000"], ["ga-1"]) as server:
        engine = engine_for(server)
        with engine.host() as host:
            engine.up("l0", listener_inputs(0, "v0"), host=host)
            times = []
            for round_ in range(1, 4):
                start = time.perf_counter()
                engine.up("l0", listener_inputs(0, f"v{round_}"), host=host)
                times.append(time.perf_counter() - start)
    one = statistics.median(times)
    same_accelerator = concurrent_update_seconds(lambda _i: "ga-1")
    spread = concurrent_update_seconds(lambda i: f"ga-{i}")
    return [
        Row("one update, emulator transition 1 s", one, TRANSITION, "s", "lower", 1.3,
            note="wall / transition; Terraform waits 30 s before its first poll"),
        Row("8 listeners of one accelerator at once", same_accelerator, 8 * TRANSITION, "s", "lower", 1.2,
            note="wall / (8 x transition): the serial floor the service imposes"),
        Row("8 listeners on 8 accelerators at once", spread, 2 * TRANSITION, "s", "lower", 1.3,
            note="wall / (2 x transition): the host runs 4 threads"),
    ]


def count_rows() -> list[Row]:
    with emulator(["ga-1:lsr-0:tcp:1000-1000", "ga-1:lsr-1:tcp:1001-1001"], ["ga-1"]) as server:
        engine = engine_for(server)
        with engine.host() as host:
            for i in (0, 1):
                engine.up(f"l{i}", listener_inputs(i, "v0"), host=host)
            server.calls.clear()
            engine.up("l0", listener_inputs(0, "v0"), host=host)
            no_change = len(server.calls)
            engine.up("l0", listener_inputs(0, "v1"), host=host)
            updates = len([c for c in server.calls.of("UpdateListener") if c.http_status == 200])
            polls = len(server.calls.of("DescribeListener"))
            server.calls.clear()
        for i in (0, 1):
            engine.refresh(f"l{i}")
        reads_per_listener = len(server.calls.of("DescribeListener")) / 2
    return [
        Row("API calls, no-change up", no_change, 0, "calls", "lower", 1.0, note="the floor is 0"),
        Row("UpdateListener calls, one-field change", updates, 1, "calls", "lower", 1.0, note="the floor is 1"),
        Row("DescribeListener calls per listener, refresh", reads_per_listener, 1, "calls", "lower", 1.0),
        Row("DescribeListener calls per update (1 s transition)", polls, 1, "calls", "lower", 12.0,
            note="the read just before the write, then the polls; Terraform: 1 poll, after a fixed 30 s"),
    ]


def rows() -> list[Row]:
    return host_rows() + convergence_rows() + count_rows()
