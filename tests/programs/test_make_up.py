"""The make targets around the Pulumi CLI: ``make up``, ``make preview`` and ``make destroy`` run the real CLI
(found, installed or built by scripts/pulumi_cli.py) against the emulator and leave ``git status`` as it was;
with no way to a CLI they fail within seconds, naming the target that was run and the ways out."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from alibabacloud_ga20191120 import models

from scripts import pulumi_cli
from tests.support import peers

ROOT = Path(__file__).resolve().parents[2]
DEMO_PORT = 8787  # the dev stack's committed endpoint (Pulumi.dev.yaml)
DEMO_KEY = ("ga-demo-key-id", "ga-demo-key-secret")


def tool_dir(tmp_path: Path, *tools: str) -> Path:
    """A PATH folder holding only ``tools`` (links to the real ones)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def make(target: str, path: Path | str, tmp_path: Path, *variables: str,
         env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-C", str(ROOT), target, *variables], check=False, capture_output=True,
                          text=True, env={"PATH": str(path), "HOME": str(tmp_path), **(env or {})},
                          timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--ignored=no"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


BASIC_TOOLS = ("make", "bash", "sh", "mkdir", "cat", "python3", "dirname")


@pytest.mark.parametrize("target", ["up", "preview", "destroy"])
def test_without_any_way_to_a_cli_a_target_fails_fast_naming_itself_and_the_ways_out(
    tmp_path: Path, target: str
) -> None:
    path = tool_dir(tmp_path, *BASIC_TOOLS)  # no pulumi, no go; offline, so no install either
    start = time.monotonic()
    result = make(target, path, tmp_path, f"STATE_DIR={tmp_path / 'state'}", f"BACKEND_DIR={tmp_path / 'backend'}",
                  env={"GA_LISTENER_CACHE": str(tmp_path / "cache")})
    elapsed = time.monotonic() - start
    assert result.returncode != 0 and "Error 1" in result.stderr  # the recipe's exit status 1, make's own 2
    assert elapsed < 60
    version = pulumi_cli.pinned_version()
    assert f"make {target}: could not find, install or build the Pulumi CLI v{version}" in result.stderr
    assert f"--version {version}" in result.stderr  # the exact manual install command
    assert "`go` is not on PATH" in result.stderr and "Go 1.26" in result.stderr
    assert "make up:" not in result.stderr or target == "up"
    assert "emulator" not in result.stdout  # nothing started before the CLI was there
    assert not (tmp_path / "state").exists() and not (tmp_path / "backend").exists()


@pytest.mark.slow
def test_the_targets_run_the_pulumi_cli_on_path_with_the_project_backend_and_passphrase(tmp_path: Path) -> None:
    record = tmp_path / "pulumi-calls.txt"
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "pulumi").write_text(
        "#!/bin/sh\n"
        f'echo "$PWD|$PULUMI_BACKEND_URL|$PULUMI_CONFIG_PASSPHRASE|$*" >> {record}\n'
    )
    (stub / "pulumi").chmod(0o755)
    path = tool_dir(tmp_path, "make", "bash", "sh", "mkdir", "cat", "grep", "seq", "sleep", "kill", "rm", "dirname")
    backend = tmp_path / "backend"
    port = free_port()
    variables = (f"STATE_DIR={tmp_path / 'state'}", f"EMULATOR_PORT={port}", f"BACKEND_DIR={backend}")
    try:
        results = [make(target, f"{stub}:{path}", tmp_path, *variables) for target in ("up", "preview", "destroy")]
    finally:
        make("emulator-stop", path, tmp_path, *variables)
    for result in results:
        assert result.returncode == 0, result.stderr
    select = f"{ROOT}|file://{backend}|demo|stack select dev --create --non-interactive"
    assert record.read_text().splitlines() == [
        select, f"{ROOT}|file://{backend}|demo|up --yes --stack dev --non-interactive",
        select, f"{ROOT}|file://{backend}|demo|preview --stack dev --non-interactive",
        select, f"{ROOT}|file://{backend}|demo|destroy --yes --stack dev --non-interactive",
    ]
    assert f"listening on http://127.0.0.1:{port}" in results[0].stdout  # the emulator ran for it


def demo_listeners() -> list[object]:
    emulator = type("Url", (), {"url": f"http://127.0.0.1:{DEMO_PORT}"})()
    client = peers.official_client(emulator, key_id=DEMO_KEY[0], secret=DEMO_KEY[1])
    answer = client.list_listeners(models.ListListenersRequest(region_id="cn-hangzhou", accelerator_id="ga-demo"))
    return list(answer.body.listeners or [])


@pytest.mark.slow
def test_make_up_preview_and_destroy_run_the_real_cli_and_leave_git_status_clean(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", DEMO_PORT)) == 0:
            pytest.fail(f"port {DEMO_PORT} is taken (a demo emulator? `make emulator-stop`): the dev stack's "
                        "committed endpoint must be free for this test")
    pulumi = pulumi_cli.find_or_provide("the make targets test", exact=True)
    # No pulumi on PATH: the targets find the pinned CLI in the per-user cache (unless it came from PATH).
    tools = tool_dir(tmp_path, *BASIC_TOOLS, "grep", "seq", "sleep", "kill", "rm")
    path = f"{tools}" if pulumi.is_relative_to(pulumi_cli.cache_home()) else f"{pulumi.parent}:{tools}"
    variables = (f"STATE_DIR={tmp_path / 'state'}", f"BACKEND_DIR={tmp_path / 'backend'}")
    env = {name: os.environ[name] for name in ("GA_LISTENER_CACHE", "XDG_CACHE_HOME") if name in os.environ}
    before = git_status()
    try:
        up = make("up", path, tmp_path, *variables, env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        listeners = demo_listeners()
        assert len(listeners) == 1 and getattr(listeners[0], "state", None) == "active"
        assert git_status() == before
        preview = make("preview", path, tmp_path, *variables, env=env)
        assert preview.returncode == 0, preview.stdout + preview.stderr
        assert "2 unchanged" in preview.stdout  # the stack and its listener
        destroy = make("destroy", path, tmp_path, *variables, env=env)
        assert destroy.returncode == 0, destroy.stdout + destroy.stderr
        assert demo_listeners() == []
    finally:
        make("emulator-stop", path, tmp_path, *variables)
    assert git_status() == before
