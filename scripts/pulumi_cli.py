"""Find, install or build the pinned Pulumi CLI, and print the path of its ``pulumi``.

One entry point for every make target and test. In order:

1. a ``pulumi`` on PATH (with ``--exact``, as the tests ask, only when ``pulumi version`` is the pin);
2. the pinned CLI built or installed before in the per-user cache (``$GA_LISTENER_CACHE``, else
   ``$XDG_CACHE_HOME/ga-listener``, else ``~/.cache/ga-listener``; keyed by version, outside any clone, so a fresh
   clone finds it warm);
3. ``PulumiCommand.install`` of the SDK's Automation API into that cache (machines with internet);
4. where ``go`` is on PATH, a build from the Go module proxy with the builder module ``tools/pulumi-cli`` (its
   committed ``go.mod`` names the pin): the CLI, ga-listener's stand-in Python language host, and the SDK's two
   Python launch scripts copied beside them with mode 0755.

The pin is the version of ``github.com/pulumi/pulumi/pkg/v3`` in ``tools/pulumi-cli/go.mod``. Progress goes to
stderr (each step, what it waits for, how long it took); the path alone goes to stdout. Exit status 0 with the path,
1 when no step gave a CLI: the failed steps are named with the tail of their output and the ways out.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "tools" / "pulumi-cli"
CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"
VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
# What must lie beside `pulumi` for a Python program with a dynamic provider: the language host, the script it runs
# programs through, and the script the engine starts dynamic providers with.
COMPANIONS = ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python")
SDK_SCRIPTS = {"pulumi-language-python-exec": "python/cmd", "pulumi-resource-pulumi-python": "python/dist"}
CONNECT_TIMEOUT = 15.0  # seconds without progress on one socket before a download counts as failed
INSTALL_TIMEOUT = 600  # seconds for the whole download and unpacking
HEARTBEAT = 30.0  # seconds between "still waiting" lines of a long step
TAIL_LINES = 15
STAMP = ".ga-listener-builder"  # in a built bin folder: the builder_digest() it was built from


class StepFailed(Exception):
    """A step could not give a CLI; the message says why, with the tail of its output."""


def pinned_version(builder: Path = BUILDER) -> str:
    """The pinned version (``3.260.0``), read from the builder module's requirement of ``pkg/v3``."""
    match = re.search(r"^\s*(?:require\s+)?github\.com/pulumi/pulumi/pkg/v3 v(\S+)", (builder / "go.mod").read_text(),
                      re.MULTILINE)
    if not match:
        raise SystemExit(f"{builder / 'go.mod'} does not require github.com/pulumi/pulumi/pkg/v3")
    return match.group(1)


def user_home() -> Path:
    """The user's home from the password database: tests and make targets may point HOME elsewhere."""
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def cache_home() -> Path:
    """The per-user cache that holds one folder per pinned version."""
    if os.environ.get("GA_LISTENER_CACHE"):
        return Path(os.environ["GA_LISTENER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(user_home() / ".cache")
    return Path(base) / "ga-listener"


def cache_root(version: str) -> Path:
    """Where the CLI of ``version`` lives: ``<cache>/pulumi/v<version>/bin/pulumi`` and its companions."""
    return cache_home() / "pulumi" / f"v{version}"


def cli_version(binary: Path | str) -> str | None:
    """What ``binary version`` answers (``3.260.0``), or None when it does not run."""
    try:
        result = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=60, check=False,
                                env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"})
    except OSError:
        return None
    return result.stdout.strip().removeprefix("v") or None if result.returncode == 0 else None


def complete(bin_dir: Path, version: str) -> bool:
    """``bin_dir`` holds the CLI of ``version`` and every companion, all executable."""
    files = [bin_dir / "pulumi", *(bin_dir / name for name in COMPANIONS)]
    return all(os.access(f, os.X_OK) for f in files) and cli_version(bin_dir / "pulumi") == version


class Progress:
    """Progress lines on stderr: each step, what it waits for, and how long it took."""

    def __init__(self, target: str) -> None:
        self.target = target

    def say(self, text: str) -> None:
        print(f"{self.target}: {text}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def step(self, name: str, waits_for: str) -> Iterator[None]:
        self.say(f"{name}: waiting for {waits_for} ...")
        start = time.monotonic()
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(HEARTBEAT):
                self.say(f"{name}: still waiting ({time.monotonic() - start:.0f} s so far)")

        beat = threading.Thread(target=heartbeat, daemon=True)
        beat.start()
        try:
            yield
        except BaseException:
            self.say(f"{name}: failed after {time.monotonic() - start:.1f} s")
            raise
        finally:
            done.set()
            beat.join()
        self.say(f"{name}: done in {time.monotonic() - start:.1f} s")


def tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(f"    | {line}" for line in kept) or "    | (no output)"


def run_logged(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    """Run ``command`` with its output in ``log``; raise StepFailed with the tail of it when it fails."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise StepFailed(f"`{' '.join(command[:3])} ...` exited with {result.returncode}; the end of {log}:\n"
                         f"{tail(log.read_text())}")


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """One installer or builder per version at a time (make up and make test may race for a cold cache)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(root: Path, version: str) -> None:
    """``PulumiCommand.install`` into ``root``; raises StepFailed when it cannot (offline: at once)."""
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the download took longer than {INSTALL_TIMEOUT} s")

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CONNECT_TIMEOUT)  # urllib's urlopen in install() takes no timeout of its own
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(INSTALL_TIMEOUT)
    try:
        PulumiCommand.install(root=str(root), version=VersionInfo.parse(version), skip_version_check=True)
    except Exception as error:  # URLError (offline), CalledProcessError (curl failed), TimeoutError, ...
        detail = " ".join(str(getattr(error, "reason", None) or error).split())[:300]
        raise StepFailed(f"{type(error).__name__}: {detail}") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        socket.setdefaulttimeout(previous_timeout)


def go_environment() -> dict[str, str]:
    """The go command's environment: Go's own caches in the user's real home, so a warm machine builds nothing."""
    return {**os.environ, "HOME": str(user_home()), "GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0"}


def builder_digest() -> str:
    """A digest of the builder module (go.mod, go.sum, the stand-in's sources): a built cache older than it is
    rebuilt, so a change to the stand-in reaches every warm machine."""
    digest = hashlib.sha256()
    for path in sorted([BUILDER / "go.mod", BUILDER / "go.sum", *(BUILDER / "langhost").glob("*.go")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def up_to_date(bin_dir: Path) -> bool:
    """A cache built here matches today's builder module; an installed release has no stamp and always does."""
    stamp = bin_dir / STAMP
    return not stamp.exists() or stamp.read_text().strip() == builder_digest()


def build(root: Path, version: str, go: str, progress: Progress, *, cli: bool = True) -> None:
    """Build the CLI (unless ``cli`` is False: the language host alone) and the stand-in language host at
    ``version`` into ``root/bin``; a full build goes to a new folder that replaces the old one at the end."""
    target = root / ("bin.partial" if cli else "bin")
    if cli:
        shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    log = root / "build.log"
    log.write_text("")
    env = go_environment()
    ldflags = f"-X {VERSION_SYMBOL}=v{version}"
    steps = 4 if cli else 2
    number = itertools.count(1)
    if cli:
        with progress.step(f"{next(number)}/{steps} go mod download",
                           "the Go module proxy (about 1 minute with an empty module cache)"):
            run_logged([go, "mod", "download"], BUILDER, env, log)
        with progress.step(f"{next(number)}/{steps} go build pulumi v{version}",
                           "the Go compiler (about 3 to 7 minutes on 2 cores with an empty build cache)"):
            run_logged([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(target / "pulumi"), CLI_PACKAGE],
                       BUILDER, env, log)
    with progress.step(f"{next(number)}/{steps} go build pulumi-language-python (ga-listener's stand-in)",
                       "the Go compiler"):
        run_logged([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(target / "pulumi-language-python"),
                    "./langhost"], BUILDER, env, log)
    with progress.step(f"{next(number)}/{steps} copy the SDK's Python launch scripts",
                       f"{SDK_MODULE}@v{version} in the module cache"):
        sdk_dir = subprocess.run([go, "list", "-m", "-f", "{{.Dir}}", SDK_MODULE], cwd=BUILDER, env=env,
                                 capture_output=True, text=True, check=False).stdout.strip()
        for name, folder in SDK_SCRIPTS.items():
            source = Path(sdk_dir) / folder / name
            if not source.is_file():
                raise StepFailed(f"{source} is missing from the module cache")
            shutil.copyfile(source, target / name)
            (target / name).chmod(0o755)  # the module cache keeps no exec bit; the engine needs one
    (target / STAMP).write_text(builder_digest() + "\n")
    if cli:
        shutil.rmtree(root / "bin", ignore_errors=True)
        target.rename(root / "bin")


def refresh_language_host(root: Path, version: str, go: str | None, progress: Progress) -> None:
    """Rebuild a cached stand-in language host older than the builder module (the CLI itself stays)."""
    if not go:
        progress.say(f"the stand-in language host in {root} predates {BUILDER}, and without `go` it stays")
        return
    progress.say(f"the stand-in language host in {root} predates {BUILDER}; rebuilding it")
    try:
        build(root, version, go, progress, cli=False)
    except StepFailed as error:
        progress.say(f"could not rebuild it, so the older one stays:\n{error}")


def ways_out(target: str, version: str, root: Path) -> str:
    return (
        "Ways out:\n"
        f"  - install the Pulumi CLI v{version} yourself, then run {target} again:\n"
        f"      curl -fsSL https://get.pulumi.com | sh -s -- --version {version}\n"
        f"    (or put that release's files into {root / 'bin'}, beside which pulumi_cli.py looks);\n"
        "  - or install Go 1.26 or newer with access to the Go module proxy, and run "
        f"{target} again: it builds the CLI into {root}."
    )


def find_or_provide(target: str, exact: bool) -> Path:
    """The path of a usable ``pulumi``; raises StepFailed (with every step's reason) when there is none."""
    version = pinned_version()
    progress = Progress(target)
    on_path = shutil.which("pulumi")
    if on_path and (not exact or cli_version(on_path) == version):
        return Path(on_path)
    if on_path:
        progress.say(f"the pulumi on PATH ({on_path}) is v{cli_version(on_path)}, not the pinned v{version}")
    root = cache_root(version)
    reasons: list[str] = []
    with locked(root):
        go = shutil.which("go")
        if complete(root / "bin", version):
            if not up_to_date(root / "bin"):
                refresh_language_host(root, version, go, progress)
            return root / "bin" / "pulumi"
        progress.say(f"no Pulumi CLI v{version} in {root}; installing it there")
        try:
            with progress.step(f"install Pulumi CLI v{version} (PulumiCommand.install)", "get.pulumi.com"):
                install(root, version)
            if complete(root / "bin", version):
                return root / "bin" / "pulumi"
            reasons.append("PulumiCommand.install: the installed CLI lacks the Python language host or scripts")
        except StepFailed as error:
            reasons.append(f"PulumiCommand.install: {error}")
        if not go:
            reasons.append("build from the Go module proxy: `go` is not on PATH")
        else:
            progress.say(f"building Pulumi CLI v{version} from the Go module proxy with {BUILDER}")
            try:
                build(root, version, go, progress)
                if complete(root / "bin", version):
                    return root / "bin" / "pulumi"
                reasons.append(f"build: {root / 'bin' / 'pulumi'} does not answer `version` with v{version}")
            except StepFailed as error:
                reasons.append(f"build: {error}")
    raise StepFailed("\n".join(f"- {reason}" for reason in reasons) + "\n" + ways_out(target, version, root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--for", dest="target", default="pulumi_cli.py",
                        help="what the CLI is for, named in messages (e.g. `make up`)")
    parser.add_argument("--exact", action="store_true", help="take a pulumi on PATH only when it is the pin")
    parser.add_argument("--print-version", action="store_true", help="print the pinned version and exit")
    args = parser.parse_args(argv)
    if args.print_version:
        print(pinned_version())
        return 0
    try:
        found = find_or_provide(args.target, args.exact)
    except StepFailed as error:
        print(f"{args.target}: could not find, install or build the Pulumi CLI v{pinned_version()}:\n{error}",
              file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    sys.exit(main())
