"""`make up`: with a Pulumi CLI on PATH it runs that one; without, it installs the pinned CLI, and offline (as on
these machines) it fails within seconds saying what happened and the two ways out."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool_dir(tmp_path: Path, *tools: str) -> Path:
    """A PATH folder holding only ``tools`` (links to the real ones)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def make(target: str, path: Path, tmp_path: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-C", str(ROOT), target, *variables], check=False, capture_output=True,
                          text=True, env={"PATH": str(path), "HOME": str(tmp_path)}, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_up_without_pulumi_cli_and_offline_fails_fast_naming_the_way_out(tmp_path: Path) -> None:
    path = tool_dir(tmp_path, "make", "bash", "sh", "mkdir", "cat", "python3")  # python3: a stale venv is rebuilt
    cli_dir = tmp_path / "cli"
    start = time.monotonic()
    result = make("up", path, tmp_path, f"PULUMI_CLI_DIR={cli_dir}", f"STATE_DIR={tmp_path / 'state'}")
    elapsed = time.monotonic() - start
    assert result.returncode != 0 and "Error 1" in result.stderr  # the recipe's exit status 1, make's own 2
    assert elapsed < 60
    assert "Pulumi CLI" in result.stderr and "could not install" in result.stderr
    assert "put a `pulumi` on PATH" in result.stderr and "get.pulumi.com" in result.stderr
    assert "emulator" not in result.stdout  # nothing started before the CLI was there
    assert not (tmp_path / "state").exists()


@pytest.mark.slow
def test_make_up_runs_the_pulumi_cli_on_path_against_the_emulator(tmp_path: Path) -> None:
    record = tmp_path / "pulumi-calls.txt"
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "pulumi").write_text(
        "#!/bin/sh\n"
        f'echo "$PWD|$PULUMI_BACKEND_URL|$PULUMI_CONFIG_PASSPHRASE|$*" >> {record}\n'
    )
    (stub / "pulumi").chmod(0o755)
    path = tool_dir(tmp_path, "make", "bash", "sh", "mkdir", "cat", "grep", "seq", "sleep", "kill", "rm")
    state = tmp_path / "state"
    port = free_port()
    variables = (f"STATE_DIR={state}", f"EMULATOR_PORT={port}")
    try:
        result = make("up", Path(f"{stub}:{path}"), tmp_path, *variables)
        destroyed = make("destroy", Path(f"{stub}:{path}"), tmp_path, *variables)
    finally:
        make("emulator-stop", path, tmp_path, *variables)
    assert result.returncode == 0, result.stderr
    assert destroyed.returncode == 0, destroyed.stderr
    calls = record.read_text().splitlines()
    select = f"{ROOT}|file://{ROOT}/.pulumi-state|demo|stack select dev --create --non-interactive"
    assert calls == [
        select, f"{ROOT}|file://{ROOT}/.pulumi-state|demo|up --stack dev --yes --non-interactive",
        select, f"{ROOT}|file://{ROOT}/.pulumi-state|demo|destroy --stack dev --yes --non-interactive",
    ]
    assert f"listening on http://127.0.0.1:{port}" in result.stdout  # the emulator ran for it
