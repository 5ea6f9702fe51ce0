"""Under the real CLI: the repo's programs (the demo project and ``examples/``) go up and down with their dev
stack's config, pointed at a fresh accelerator of the suite's emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import StackFactory, live_listeners
from tests.cli.support import ROOT, Cli

PROGRAMS = [ROOT, ROOT / "examples" / "multi_listener"]


def dev_config(program: Path, accelerator: str) -> dict[str, object]:
    """The committed dev stack's config, on ``accelerator``."""
    config = dict(yaml.safe_load((program / "Pulumi.dev.yaml").read_text())["config"])
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())["name"]
    assert config.get(f"{project}:acceleratorId") == "ga-demo"  # what make up uses; the copy gets its own
    return {**config, f"{project}:acceleratorId": accelerator}


def expected_listeners(config: dict[str, object]) -> int:
    lists = [value for key, value in config.items() if key.endswith(":listeners")]
    return len(lists[0]) if lists else 1  # type: ignore[arg-type]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda path: "demo" if path == ROOT else path.name)
def test_the_program_goes_up_and_down(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory, program: Path
) -> None:
    config = dev_config(program, accelerator)
    stack = make_stack(config, source=program)
    stack.up()
    recorded = stack.listeners()
    assert len(recorded) == expected_listeners(config)
    live = live_listeners(emulator, accelerator)
    assert sorted(item.listener_id for item in live) == sorted(item["id"] for item in recorded.values())
    assert {item.state for item in live} == {"active"}
    stack.destroy()
    assert live_listeners(emulator, accelerator) == []


def test_the_real_cli_benchmark_stays_runnable(
    cli: Cli, emulator: EmulatorServer, accelerator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make bench` is not part of `make test`: its real-CLI preview row runs here, small."""
    from bench import bench_pulumi

    monkeypatch.setattr(bench_pulumi, "SAMPLES", 1)
    monkeypatch.setattr(bench_pulumi, "PREVIEW_COUNT", 2)
    monkeypatch.setattr(bench_pulumi, "PREVIEW_ACCELERATOR", accelerator)
    row = bench_pulumi.preview_row(cli)
    assert row.ours > 0 and row.reference > 0 and row.spread is not None
