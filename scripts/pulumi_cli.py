"""Find the Pulumi CLI for ``make up``, installing the pinned version when there is none; print its path.

Order: a ``pulumi`` on PATH (used as it is), then one this script installed before under ``--root``, then a fresh
install there with the SDK's own Automation API (``PulumiCommand.install``, which downloads get.pulumi.com's
install script and the release). Offline, that download fails at once on name resolution; a socket timeout bounds
a stalled connection and an alarm bounds the whole install, so ``make up`` never hangs on it. Exit status: 0 with
the path on stdout, 1 with what happened and the two ways out on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

CONNECT_TIMEOUT = 15.0  # seconds without progress on one socket before the download counts as failed
INSTALL_TIMEOUT = 600  # seconds for the whole download and unpacking


def _ways_out(version: str, root: Path) -> str:
    return (
        f"Either install the Pulumi CLI yourself (v{version} was tested: "
        f"curl -fsSL https://get.pulumi.com | sh -s -- --version {version}), or put a `pulumi` on PATH "
        f"(or unpack a release into {root}); then run make up again."
    )


def installed(root: Path, version: str) -> str | None:
    """The CLI under ``root`` if a previous run installed the wanted version there."""
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    if not (root / "bin" / "pulumi").exists():
        return None
    try:
        return PulumiCommand(root=str(root), version=VersionInfo.parse(version)).command
    except Exception:  # a broken or foreign binary: reinstall over it
        return None


def install(root: Path, version: str) -> str:
    """Install ``version`` under ``root``; raises OSError, subprocess errors or TimeoutError when it cannot."""
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the download took longer than {INSTALL_TIMEOUT} s")

    socket.setdefaulttimeout(CONNECT_TIMEOUT)  # urllib's urlopen in install() takes no timeout of its own
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(INSTALL_TIMEOUT)
    try:
        return PulumiCommand.install(root=str(root), version=VersionInfo.parse(version)).command
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the pinned CLI version, e.g. 3.272.0")
    parser.add_argument("--root", required=True, type=Path, help="where to install it (git-ignored)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    found = shutil.which("pulumi") or installed(root, args.version)
    if found:
        print(found)
        return 0
    print(f"make up: no Pulumi CLI on PATH; installing Pulumi CLI v{args.version} into {root} ...", file=sys.stderr)
    try:
        command = install(root, args.version)
    except Exception as error:  # URLError (offline), CalledProcessError (curl failed), TimeoutError, ...
        detail = " ".join(str(getattr(error, "reason", None) or error).split())[:300]
        print(f"make up: could not install the Pulumi CLI v{args.version}: {type(error).__name__}: {detail}. "
              f"{_ways_out(args.version, root)}", file=sys.stderr)
        return 1
    print(f"make up: installed {command}", file=sys.stderr)
    print(command)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    sys.exit(main())
