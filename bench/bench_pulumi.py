"""Benchmarks under the real Pulumi CLI (the pinned one, see scripts/pulumi_cli.py) against the emulator.

Rows, each the median of a few alternating runs, with the spread of single-run ratios shown beside a miss:

* ``pulumi up`` of one changed listener, over the same CLI's ``up`` of a program with no resources plus the
  emulator's transition: what the provider adds to the floor of the engine and the service;
* the same ``pulumi up``, over that of one changed resource of a no-op dynamic provider whose update sleeps the
  transition: what is ours alone, beyond the cost of any Python dynamic provider (two host starts, say);
* ``pulumi preview`` of 50 unchanged listeners, over ``preview`` of 50 resources of a no-op dynamic provider:
  what the provider's Check and Diff add to the engine's own cost.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import Row, alternating
from ga_emulator.server import EmulatorServer
from scripts import pulumi_cli
from tests.cli.support import DEMO_ID, DEMO_SECRET, Cli, Stack

TRANSITION = 1.0
SAMPLES = 3
PREVIEW_COUNT = 50
PREVIEW_ACCELERATOR = "ga-bench-50"
PROGRAMS = Path(__file__).resolve().parent / "programs"
EMPTY_PROGRAM = '"""No resources: the floor of a `pulumi up`."""\n'


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def row(what: str, mine: list[float], theirs: list[float], target: float, note: str) -> Row:
    ratios = [m / t for m, t in zip(mine, theirs, strict=True)]
    return Row(what, statistics.median(mine), statistics.median(theirs), "s", "lower", target, note=note,
               spread=(min(ratios), max(ratios)))


def empty_program(workdir: Path) -> Path:
    folder = workdir / "empty-program"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: ga-listener-bench-empty\nruntime:\n  name: python\n"
                                        "  options:\n    toolchain: pip\n    virtualenv: .venv\n")
    (folder / "__main__.py").write_text(EMPTY_PROGRAM)
    return folder


def listener(index: int, accelerator: str, name: str) -> dict[str, Any]:
    port = 4000 + index
    return {"name": f"l{index}", "args": {"accelerator_id": accelerator, "protocol": "tcp", "name": name,
                                          "port_ranges": [{"from_port": port, "to_port": port}]}}


def update_rows(cli: Cli, workdir: Path) -> list[Row]:
    stack = cli.stack("bench-update", {})
    stack.set_listeners([listener(0, "ga-bench", "v0")])
    stack.up()
    empty = cli.stack("bench-empty", {}, source=empty_program(workdir))
    empty.up()
    noop = cli.stack("bench-noop-update", {"ga-listener-bench-noop:count": "1",
                                           "ga-listener-bench-noop:sleep": str(TRANSITION)}, source=PROGRAMS / "noop")
    noop.up()
    versions = itertools.count(1)

    def change_one() -> float:
        stack.set_listeners([listener(0, "ga-bench", f"v{next(versions)}")])
        return timed(lambda: stack.pulumi("up", "--yes"))

    def change_noop() -> float:
        noop.write_config({**noop.config(), "ga-listener-bench-noop:label": f"v{next(versions)}"})
        return timed(lambda: noop.pulumi("up", "--yes"))

    mine, floor = alternating(SAMPLES, change_one, lambda: timed(lambda: empty.pulumi("up", "--yes")) + TRANSITION)
    again, dynamic = alternating(SAMPLES, change_one, change_noop)
    return [
        row("pulumi up of one changed listener (1 s transition)", mine, floor, 1.3,
            "vs the same CLI's up of an empty program + the transition"),
        row("  the same, vs a no-op dynamic resource", again, dynamic, 1.3,
            "vs up of one changed no-op dynamic resource whose update sleeps the transition"),
    ]


def preview_row(cli: Cli) -> Row:
    listeners = cli.stack("bench-preview", {})
    listeners.set_listeners([listener(i, PREVIEW_ACCELERATOR, f"p{i}") for i in range(PREVIEW_COUNT)])
    listeners.up()
    noop = cli.stack("bench-noop", {"ga-listener-bench-noop:count": str(PREVIEW_COUNT)}, source=PROGRAMS / "noop")
    noop.up()

    def preview(stack: Stack) -> float:
        return timed(lambda: stack.pulumi("preview", "--expect-no-changes"))

    mine, theirs = alternating(SAMPLES, lambda: preview(listeners), lambda: preview(noop))
    return row(f"pulumi preview of {PREVIEW_COUNT} unchanged listeners", mine, theirs, 1.3,
               f"vs preview of {PREVIEW_COUNT} resources of a no-op dynamic provider")


def rows() -> list[Row]:
    pulumi = pulumi_cli.find_or_provide("make bench", exact=True)
    with tempfile.TemporaryDirectory(prefix="ga-bench-cli-") as workdir, EmulatorServer(
        credentials=[(DEMO_ID, DEMO_SECRET, None)], accelerators=["ga-bench", PREVIEW_ACCELERATOR],
        transition_seconds=TRANSITION,
    ) as emulator:
        cli = Cli(pulumi, Path(workdir), emulator.url)
        return [*update_rows(cli, Path(workdir)), preview_row(cli)]
