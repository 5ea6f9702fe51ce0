"""Run the real Pulumi CLI on copies of a program: one shared file backend, one stack per case.

:class:`Cli` holds the pinned ``pulumi`` (scripts/pulumi_cli.py), the shared backend folder and ``PULUMI_HOME``,
and the environment every run gets. :meth:`Cli.stack` copies a program folder (``Pulumi.yaml``, ``__main__.py``
and a ``.venv`` link to the repo's virtualenv, so the language host and the provider's launch script both find
it), writes the stack's config file and runs ``pulumi stack init``. Every command runs ``--non-interactive`` with
``--color never``, in a session of its own, so a test can kill the CLI together with the language host and the
provider hosts it started (each in a process group of its own: see :func:`kill_session`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "program"
PROJECT = "ga-listener-cli-test"
PASSPHRASE = "cli-suite"
DEMO_ID, DEMO_SECRET = "ga-demo-key-id", "ga-demo-key-secret"  # the emulator's demo pair, as in the Makefile
LISTENER_TYPE = "pulumi-python:dynamic/alicloud-ga:Listener"
TIMEOUT = 240.0  # seconds for one CLI command before the test fails


@dataclass(frozen=True)
class Run:
    """One finished CLI command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"pulumi {' '.join(self.args)} exited {self.returncode}:\n{self.output[-4000:]}"


class Cli:
    """The pinned CLI with a shared backend; :meth:`stack` makes a case's stack."""

    def __init__(self, pulumi: Path, workdir: Path, endpoint: str) -> None:
        self.pulumi = pulumi
        self.backend = workdir / "backend"
        self.home = workdir / "pulumi-home"
        self.workdir = workdir
        self.endpoint = endpoint
        self.backend.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)

    def environment(self, extra: dict[str, str | None] | None = None) -> dict[str, str]:
        """What every run gets: the CLI's folder first on PATH, the backend, the passphrase, the demo keys;
        ``extra`` adds variables, and removes those it maps to None."""
        path = f"{self.pulumi.parent}:{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"
        env = {**os.environ, "PATH": path, "PULUMI_BACKEND_URL": f"file://{self.backend}",
               "PULUMI_HOME": str(self.home), "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
               "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
               "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_SECRET,
               **dict.fromkeys(k for k in os.environ if k.startswith(("ALICLOUD_", "ALIBABACLOUD_")))}  # would win
        merged: dict[str, str | None] = {**env, **(extra or {})}
        return {name: value for name, value in merged.items() if value is not None}

    def stack(self, name: str, config: dict[str, Any], source: Path = PROGRAM, *,
              env: dict[str, str | None] | None = None) -> Stack:
        """A copy of the program in ``source`` holding stack ``name`` with ``config`` (plus the endpoint)."""
        copy_root = self.workdir / "projects" / name
        folder = copy_root / (source.relative_to(ROOT) if source.is_relative_to(ROOT) else ".")
        folder.mkdir(parents=True)
        for item in source.iterdir():
            if item.is_file() and (item.name in ("Pulumi.yaml", "requirements.txt") or item.suffix == ".py"):
                shutil.copy(item, folder / item.name)
        # The project's `virtualenv`, resolved in the copy as the language host and the provider's launch script
        # both resolve it, is a link to the repo's own (the copy keeps the folder depth an example expects).
        options = yaml.safe_load((folder / "Pulumi.yaml").read_text())["runtime"]["options"]
        venv = (folder / options["virtualenv"]).resolve()
        assert venv.is_relative_to(copy_root), f"{source}: its virtualenv lies outside the copy"
        if not venv.exists():
            venv.parent.mkdir(parents=True, exist_ok=True)
            venv.symlink_to(ROOT / ".venv")
        return Stack(self, folder, name, env or {}).init(config)


class Stack:
    """One stack of one program copy."""

    def __init__(self, cli: Cli, folder: Path, name: str, env: dict[str, str | None]) -> None:
        self.cli, self.folder, self.name, self.env = cli, folder, name, env

    def init(self, config: dict[str, Any]) -> Stack:
        """Write the stack's config (a short wait added, and always the suite's emulator as the endpoint) and run
        ``pulumi stack init``."""
        self.write_config({"ga-listener:waitTimeout": "60", **config, "ga-listener:endpoint": self.cli.endpoint})
        self.pulumi("stack", "init")
        return self

    def sibling(self, name: str, config: dict[str, Any]) -> Stack:
        """Another stack of the same program copy (same folder, its own config file)."""
        return Stack(self.cli, self.folder, name, self.env).init(config)

    @property
    def config_file(self) -> Path:
        return self.folder / f"Pulumi.{self.name}.yaml"

    def write_config(self, config: dict[str, Any]) -> None:
        """Replace the stack's config (keeping the encryption salt that stack init wrote)."""
        document = yaml.safe_load(self.config_file.read_text()) if self.config_file.exists() else {}
        document = {**(document or {}), "config": config}
        self.config_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def config(self) -> dict[str, Any]:
        """The stack's config as its file holds it (secrets encrypted)."""
        return dict(yaml.safe_load(self.config_file.read_text())["config"])

    def set_listeners(self, listeners: list[dict[str, Any]]) -> None:
        """Set what the suite's program declares (see tests/cli/program/__main__.py)."""
        self.write_config({**self.config(), f"{PROJECT}:listeners": listeners})

    def command(self, *args: str) -> list[str]:
        return [str(self.cli.pulumi), *args, "--stack", self.name, "--non-interactive", "--color", "never"]

    def pulumi(self, *args: str, check: bool = True, timeout: float = TIMEOUT) -> Run:
        """Run ``pulumi ARGS`` in the program's folder; with ``check``, fail on a non-zero exit."""
        process = subprocess.Popen(self.command(*args), cwd=self.folder, env=self.cli.environment(self.env),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_session(process)
            stdout, stderr = process.communicate()
            raise AssertionError(f"pulumi {' '.join(args)} took over {timeout} s:\n{stdout}{stderr}") from None
        run = Run(args, process.returncode, stdout, stderr)
        if check and run.returncode != 0:
            raise AssertionError(str(run))
        return run

    def spawn(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """Start ``pulumi ARGS`` in its own process group, output in ``log``, and return at once."""
        with log.open("wb") as out:
            return subprocess.Popen(self.command(*args), cwd=self.folder, env=self.cli.environment(self.env),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def up(self, *extra: str, check: bool = True) -> Run:
        return self.pulumi("up", "--yes", "--skip-preview", *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> Run:
        return self.pulumi("preview", *extra, check=check)

    def refresh(self, *extra: str, check: bool = True) -> Run:
        return self.pulumi("refresh", "--yes", "--skip-preview", *extra, check=check)

    def destroy(self, *extra: str, check: bool = True) -> Run:
        return self.pulumi("destroy", "--yes", "--skip-preview", *extra, check=check)

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``: the deployment as the backend stores it."""
        return dict(json.loads(self.pulumi("stack", "export").stdout))

    def listeners(self) -> dict[str, dict[str, Any]]:
        """The stack's Listener resources by name: ``{"id", "outputs", "inputs"}``."""
        resources = self.export()["deployment"].get("resources") or []
        return {r["urn"].rsplit("::", 1)[1]: {"id": r.get("id"), "outputs": r.get("outputs", {}),
                                              "inputs": r.get("inputs", {})}
                for r in resources if r["type"] == LISTENER_TYPE}

    def stack_outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.pulumi("stack", "output", "--json", "--show-secrets").stdout))


def session_members(leader: int) -> dict[int, int]:
    """Every live process of the session that ``leader`` started: pid -> process group."""
    members = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours
                if os.getsid(int(entry.name)) == leader:
                    members[int(entry.name)] = os.getpgid(int(entry.name))
    return members


def kill_session(process: subprocess.Popen[Any]) -> None:
    """SIGKILL the CLI and everything it started. The CLI starts each plugin (the language host, every provider
    host) in a process group of its own, so killing its process group alone would leave them running (and a
    provider host polling and writing); they all stay in the CLI's session, which ``start_new_session`` made."""
    for pid in session_members(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# The engine's own log line for each provider call at -v=7, e.g. ``Provider[0x...].Check(urn:...::web) executing``
# or ``Provider[0x...].Read(lsr-1,urn:...::web) executing`` (the URN and the id in either order).
ENGINE_CALL = re.compile(r"Provider\[[^\]]*\]\.(?P<method>\w+)\((?P<args>[^)]*)\):? executing")


def provider_calls(log: str) -> list[tuple[str, str]]:
    """(method, resource name) of every resource call the engine made, in order, from a ``-v=7 --logtostderr``
    log; the calls about the default provider itself (CheckConfig, DiffConfig) are left out."""
    calls = []
    for match in ENGINE_CALL.finditer(log):
        urns = [part for part in match["args"].split(",") if part.startswith("urn:")]
        if urns and not urns[0].endswith("::default"):
            calls.append((match["method"], urns[0].rsplit("::", 1)[1]))
    return calls
