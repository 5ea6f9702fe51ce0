"""Lifecycle benchmarks through the real provider host against the emulator: how close create and delete come to
the transition time the service imposes (wall time over that floor), alone and eight at once."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import Row
from bench.bench_provider import KEY_ID, SECRET, TRANSITION, emulator
from tests.support.provider_host import PROVIDER_KEY, Engine, urn_for


def create_inputs(index: int, accelerator_id: str) -> dict[str, Any]:
    port = 2000 + index
    return {"accelerator_id": accelerator_id, "protocol": "tcp", "port_ranges": [{"from_port": port, "to_port": port}],
            "name": f"bench{index}", "resource_key": f"bench/dev/l{index}"}



def one_create_and_delete() -> tuple[float, float]:
    """Median seconds of one create and of one delete (five of each, one host)."""
    creates, deletes = [], []
    with emulator([], ["ga-1"]) as server:
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET, wait_timeout=60)
        with engine.host() as host:
            for round_ in range(5):
                start = time.perf_counter()
                engine.up("l0", create_inputs(round_, "ga-1"), host=host)
                creates.append(time.perf_counter() - start)
                old = engine.state.pop("l0")
                start = time.perf_counter()
                host.delete(urn_for("l0"), old.id, old.outputs)
                deletes.append(time.perf_counter() - start)
    return statistics.median(creates), statistics.median(deletes)


def concurrent_creates_seconds(accelerator_of: Callable[[int], str]) -> float:
    """Eight creates at once through one host (its four threads), as one `pulumi up` of eight new listeners."""
    with emulator([], sorted({accelerator_of(i) for i in range(8)})) as server:
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET, wait_timeout=120)
        with engine.host() as host:
            checked = [host.check(urn_for(f"l{i}"), {}, {**create_inputs(i, accelerator_of(i)),
                                                         PROVIDER_KEY: engine.provider})[0] for i in range(8)]
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda i: host.create(urn_for(f"l{i}"), checked[i]), range(8)))
            return time.perf_counter() - start


def rows() -> list[Row]:
    create, delete = one_create_and_delete()
    same_accelerator = concurrent_creates_seconds(lambda _i: "ga-1")
    spread = concurrent_creates_seconds(lambda i: f"ga-{i}")
    return [
        Row("one create, emulator transition 1 s", create, TRANSITION, "s", "lower", 1.15,
            note="wall / transition; Terraform waits 30 s before its first poll"),
        Row("one delete, emulator transition 1 s", delete, TRANSITION, "s", "lower", 1.15,
            note="wall / transition: until DescribeListener says it is gone"),
        Row("8 creates on one accelerator at once", same_accelerator, 8 * TRANSITION, "s", "lower", 1.2,
            note="wall / (8 x transition): the service serializes them"),
        Row("8 creates on 8 accelerators at once", spread, 2 * TRANSITION, "s", "lower", 1.3,
            note="wall / (2 x transition): the host runs 4 threads"),
    ]
