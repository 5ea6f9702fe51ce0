"""Every project of the repo starts its dynamic provider the way the real Pulumi CLI does.

Read from the engine (``pkg/engine/project.go`` ``getPwdMain``, ``pkg/resource/plugin/plugin.go``,
``provider_plugin.go``) and the launch script the CLI ships (``pulumi-resource-pulumi-python``): the language host
resolves a relative ``runtime.options.virtualenv`` against the project folder, but the engine starts the launch
script in the *program* folder (``main`` when it names a folder, the folder of the file it names, else the project
folder) with every runtime option as ``PULUMI_RUNTIME_<OPTION>`` (unresolved), and the script resolves a relative
virtualenv against its working directory, then runs ``<venv>/bin/python -u -m pulumi.dynamic <engine>`` (or exits
1 when that python is missing). Both must find the same virtualenv, or ``pulumi up`` fails at the first resource.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.provider_host import PROVIDER_KEY, ProviderHost, pickled_provider, urn_for

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = sorted(
    ROOT / name for name in subprocess.run(["git", "ls-files", "*Pulumi.yaml"], cwd=ROOT, check=True,
                                           capture_output=True, text=True).stdout.split()
)
INPUTS: dict[str, Any] = {"listener_id": "lsr-1", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}


def program_folder(project_file: Path, main: str | None) -> Path:
    """The working directory the engine gives the provider plugin (``getPwdMain``)."""
    if not main:
        return project_file.parent
    target = project_file.parent / main
    return target if target.is_dir() else target.parent


def launch_environment(options: dict[str, Any]) -> dict[str, str]:
    """The environment the engine adds: each runtime option as PULUMI_RUNTIME_<NAME>, formatted with %v."""
    added = {f"PULUMI_RUNTIME_{key.upper()}": str(value) for key, value in options.items()}
    return {**os.environ, **added}


def launch_script_python(cwd: Path, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """What the launch script runs: ``$PWD/<virtualenv>/bin/python`` with that bin first on PATH."""
    raw = env["PULUMI_RUNTIME_VIRTUALENV"].rstrip("/")
    venv = Path(raw) if raw.startswith("/") else Path(f"{cwd}/{raw}")
    python = venv / "bin" / "python"
    if not python.is_file():
        pytest.fail(f"the launch script would exit 1: {python} does not exist (virtualenv {raw!r} resolved in {cwd})")
    return python, {**env, "PATH": f"{venv}/bin:{env.get('PATH', '')}"}


def test_the_repo_has_a_top_level_project_and_every_project_is_checked() -> None:
    assert ROOT / "Pulumi.yaml" in PROJECTS
    assert ROOT / "examples" / "multi_listener" / "Pulumi.yaml" in PROJECTS


@pytest.mark.parametrize("project_file", PROJECTS, ids=[str(p.relative_to(ROOT)) for p in PROJECTS])
def test_language_host_and_provider_launch_script_find_the_same_virtualenv(project_file: Path) -> None:
    project = yaml.safe_load(project_file.read_text())
    options = dict(project["runtime"].get("options") or {})
    virtualenv = options.get("virtualenv")
    assert virtualenv, f"{project_file}: name a virtualenv, or the provider runs whatever python3 is on PATH"
    pwd = program_folder(project_file, project.get("main"))
    assert (pwd / "__main__.py").is_file(), f"{project_file}: the program folder {pwd} has no __main__.py"

    by_language_host = os.path.normpath(project_file.parent / virtualenv)
    by_launch_script = os.path.normpath(pwd / virtualenv)
    assert by_language_host == by_launch_script, (
        f"{project_file}: the program runs in {by_language_host}, the provider in {by_launch_script}")

    python, env = launch_script_python(pwd, launch_environment(options))
    with ProviderHost(env={**env, "PULUMI_PROJECT": project["name"]}, cwd=str(pwd), python=str(python)) as host:
        host.configure({})
        checked, failures = host.check(urn_for("l"), {}, {**INPUTS, PROVIDER_KEY: pickled_provider()})
    assert failures == [] and checked["port_ranges"] == INPUTS["port_ranges"]
