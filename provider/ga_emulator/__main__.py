"""``python -m ga_emulator`` / ``ga-emulator``: serve the emulator until SIGINT or SIGTERM.

Prints exactly one line to stdout when ready (``ga-emulator listening on http://HOST:PORT``); logs go to
stderr. Exit status: 0 after a clean stop (SIGINT or SIGTERM), 1 when the address cannot be bound, 2 for bad
arguments or a ``--state`` file that cannot be read or written.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ga_emulator.auth import DEMO_CREDENTIAL, Credential
from ga_emulator.model import ListenerSeed
from ga_emulator.server import DEFAULT_ACCELERATOR, DEFAULT_LISTENER, EmulatorServer
from ga_emulator.sts import add_arguments as add_sts_arguments
from ga_emulator.sts import options_from as sts_options_from

__all__ = ["build_parser", "main"]

_DESCRIPTION = f"""\
A local Alibaba Cloud Global Accelerator API (CreateListener, DescribeListener, ListListeners, UpdateListener,
DeleteListener) with v1 and v3 signatures, the real rules, states and error codes.
Without --state and --accelerator it starts with accelerator {DEFAULT_ACCELERATOR} holding listener
{DEFAULT_LISTENER.split(":")[1]} (tcp, port 80). Without --credential it accepts the demo key pair
{DEMO_CREDENTIAL.access_key_id}:{DEMO_CREDENTIAL.secret} (not a real credential)."""


def _credential(text: str) -> Credential:
    try:
        return Credential.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _seed(text: str) -> ListenerSeed:
    try:
        return ListenerSeed.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI of design.md, flag for flag."""
    parser = argparse.ArgumentParser(
        prog="ga-emulator", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to bind; 0 picks a free one (default 8787)")
    parser.add_argument(
        "--credential", type=_credential, action="append", metavar="ID:SECRET[:TOKEN]",
        help="accepted key pair, split at the first two colons; a TOKEN makes it an STS credential "
        f"(repeatable; default {DEMO_CREDENTIAL.access_key_id}:{DEMO_CREDENTIAL.secret})",
    )  # fmt: skip
    parser.add_argument("--accelerator", action="append", metavar="ID", help="accelerator to create (repeatable)")
    parser.add_argument(
        "--listener", type=_seed, action="append", metavar="ACCELERATOR:LISTENER:PROTOCOL:FROM-TO",
        help=f"active listener to seed, e.g. {DEFAULT_LISTENER} (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--state", metavar="FILE",
        help="load the world from FILE at start (flags add what is missing, never wipe) and save it "
        "atomically on every change",
    )  # fmt: skip
    parser.add_argument(
        "--transition-seconds", type=_seconds, default=1.0, metavar="S",
        help="how long a listener stays init/updating/deleting (default 1.0)",
    )  # fmt: skip
    parser.add_argument(
        "--fault-rate", type=_fraction, default=0.0, metavar="R",
        help="share of API calls meeting a fault: throttling, 5xx, dropped connections, slow answers "
        "(default 0)",
    )  # fmt: skip
    parser.add_argument("--fault-seed", type=int, default=0, metavar="N", help="seed of the fault draw (default 0)")
    add_sts_arguments(parser)
    return parser


def _serve(server: EmulatorServer) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("ga_emulator").info("stopping on %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    print(f"ga-emulator listening on {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        server = EmulatorServer(
            args.host,
            args.port,
            credentials=args.credential,
            accelerators=args.accelerator,
            listeners=args.listener,
            transition_seconds=args.transition_seconds,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            state_path=args.state,
            sts=sts_options_from(args),
        )
    except ValueError as exc:  # a bad seed, or a StateError (unreadable --state file)
        print(f"ga-emulator: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the --state file cannot be written
        print(f"ga-emulator: cannot write the state file {args.state}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        _serve(server)
    except OSError as exc:
        print(f"ga-emulator: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
