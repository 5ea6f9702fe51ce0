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
from ga_emulator.faults import CLASSIC_KINDS, DRAWABLE_KINDS, parse_kinds
from ga_emulator.model import ListenerSeed
from ga_emulator.modes import DEFAULT_LISTENER_QUOTA, DEFAULT_PORT_QUOTA
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


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _kinds(text: str) -> tuple[str, ...]:
    try:
        return parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_world_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--without-bandwidth-package", action="append", default=[], metavar="ACCELERATOR",
        help="accelerator (created if missing) without a basic bandwidth package: CreateListener on it answers "
        "NotExist.BasicBandwidthPackage (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--endpoint-group", action="append", default=[], metavar="LISTENER",
        help="attach an endpoint group to the listener: DeleteListener answers Exist.EndpointGroup (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--forwarding-rule", action="append", default=[], metavar="LISTENER",
        help="attach a forwarding rule to the listener: DeleteListener answers Exist.ForwardingRule (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--service-managed", action="append", default=[], metavar="LISTENER[:SERVICE]",
        help="a cloud service (default ALB) manages the listener: UpdateListener and DeleteListener are refused "
        "(repeatable)",
    )  # fmt: skip


def _add_mode_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port-quota", type=_count, default=DEFAULT_PORT_QUOTA, metavar="N",
        help=f"ports per listener (QuotaExceeded.ListenerPort; default {DEFAULT_PORT_QUOTA})",
    )  # fmt: skip
    parser.add_argument(
        "--listener-quota", type=_count, default=DEFAULT_LISTENER_QUOTA, metavar="N",
        help=f"listeners per accelerator (QuotaExceeded.Listener; default {DEFAULT_LISTENER_QUOTA})",
    )  # fmt: skip
    parser.add_argument(
        "--create-lag", type=_seconds, default=0.0, metavar="S",
        help="for S seconds after a CreateListener, reads do not see the new listener (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--visibility-lag", type=_seconds, default=0.0, metavar="S",
        help="for S seconds after an UpdateListener or DeleteListener, reads answer the listener as it was "
        "before the write (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--reset-omitted", action="store_true",
        help="an UpdateListener without ProxyProtocol resets it to false; one with XForwardedForConfig resets "
        "the flags it leaves out",
    )  # fmt: skip
    parser.add_argument(
        "--vanished-unknown-error", action="store_true",
        help="DescribeListener of a deleted listener answers HTTP 500 UnknownError instead of NotExist.Listener",
    )  # fmt: skip
    parser.add_argument(
        "--deleted-accelerator-unknown-error", action="store_true",
        help="DescribeListener of a listener whose accelerator was deleted answers HTTP 500 UnknownError instead "
        "of NotExist.Listener",
    )  # fmt: skip


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
    parser.add_argument(
        "--fault-kinds", type=_kinds, default=CLASSIC_KINDS, metavar="KIND,...",
        help=f"what the random draw picks from: 'all' or some of {', '.join(DRAWABLE_KINDS)} "
        f"(default {','.join(CLASSIC_KINDS)})",
    )  # fmt: skip
    _add_world_flags(parser)
    _add_mode_flags(parser)
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
            fault_kinds=args.fault_kinds,
            state_path=args.state,
            port_quota=args.port_quota,
            listener_quota=args.listener_quota,
            create_lag=args.create_lag,
            visibility_lag=args.visibility_lag,
            reset_omitted=args.reset_omitted,
            vanished_unknown_error=args.vanished_unknown_error,
            deleted_accelerator_unknown_error=args.deleted_accelerator_unknown_error,
            without_bandwidth_package=args.without_bandwidth_package,
            endpoint_groups=args.endpoint_group,
            forwarding_rules=args.forwarding_rule,
            service_managed=args.service_managed,
            sts=sts_options_from(args),
        )
    except ValueError as exc:  # a bad seed or mode, an unknown listener, or a StateError (unreadable --state)
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
