"""The CLI as users run it: a subprocess with design.md's flags, one ready line, clean stop on SIGTERM/SIGINT.

Exit status after SIGTERM or SIGINT is 0: the CLI traps both and stops the server before returning (it is
never killed by the signal, so never -15).
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.__main__ import build_parser
from tests.emulator.support import STS_TOKEN, official_client, sdk_call, sdk_error

READY = re.compile(r"ga-emulator listening on (http://127\.0\.0\.1:(\d+))\n")
DESIGN_FLAGS = {
    "-h", "--help", "--host", "--port", "--credential", "--accelerator", "--listener", "--state",
    "--transition-seconds", "--fault-rate", "--fault-seed",
}  # fmt: skip
# README "STS and instance metadata"
STS_FLAGS = {"--sts-role", "--sts-duration", "--oidc-provider", "--oidc-token", "--ecs-role", "--credentials-uri"}


class Endpoint:
    """Just enough of EmulatorServer for the SDK helpers: the url of a subprocess emulator."""

    def __init__(self, url: str) -> None:
        self.url = url


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ga_emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
    )  # fmt: skip


def ready_line(process: subprocess.Popen[str], timeout: float = 15.0) -> str:
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], timeout)
    assert readable, "no ready line in time"
    return process.stdout.readline()


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], Endpoint]]:
    process = start(*args)
    try:
        line = ready_line(process)
        match = READY.fullmatch(line)
        assert match, f"unexpected ready line {line!r}; stderr: {process.stderr.read() if process.poll() else ''}"
        yield process, Endpoint(match.group(1))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def admin(endpoint: Endpoint, path: str) -> Any:
    with urllib.request.urlopen(endpoint.url + path, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ready_line_then_clean_stop(stop_signal: signal.Signals) -> None:
    process = start("--transition-seconds", "0.1")
    line = ready_line(process)
    match = READY.fullmatch(line)
    assert match, line
    endpoint = Endpoint(match.group(1))
    assert sdk_call(official_client(endpoint), "DescribeListener", {"ListenerId": "lsr-demo"})["State"] == "active"
    process.send_signal(stop_signal)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out == ""  # exactly one line on stdout, the ready line
    assert "DescribeListener 200 OK v3" in err and "ga-demo-key-secret" not in err
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(match.group(2))), timeout=1).close()


def test_credentials_accelerators_and_listeners_from_flags() -> None:
    with running(
        "--credential", f"sts-id:sts-secret:{STS_TOKEN}", "--credential", "plain-id:plain-secret",
        "--accelerator", "ga-x", "--listener", "ga-x:lsr-x:UDP:53-53", "--listener", "ga-x:lsr-y:https:443-443",
    ) as (_, endpoint):  # fmt: skip
        sts = official_client(endpoint, key_id="sts-id", secret="sts-secret", token=STS_TOKEN)
        assert sdk_call(sts, "DescribeListener", {"ListenerId": "lsr-x"})["Protocol"] == "udp"
        plain = official_client(endpoint, "v1", key_id="plain-id", secret="plain-secret")
        assert sdk_call(plain, "ListListeners", {"AcceleratorId": "ga-x"})["TotalCount"] == 2
        demo = official_client(endpoint)
        assert sdk_error(demo, "ListListeners", {"AcceleratorId": "ga-x"}).code == "InvalidAccessKeyId.NotFound"
        state = admin(endpoint, "/_emulator/state")
        assert [item["AcceleratorId"] for item in state["Accelerators"]] == ["ga-x"]  # no default world
        assert [item["ListenerId"] for item in state["Listeners"]] == ["lsr-x", "lsr-y"]


def test_a_killed_emulator_loses_nothing_and_finishes_the_transition(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    update = {"ListenerId": "lsr-demo", "Name": "acknowledged", "ClientToken": "tok-kill"}
    with running("--state", state, "--transition-seconds", "2") as (process, endpoint):
        answered = sdk_call(official_client(endpoint), "UpdateListener", update)
        [before] = admin(endpoint, "/_emulator/state")["Listeners"]
        process.kill()  # SIGKILL: no chance to save anything more
        process.wait(timeout=10)
    with running("--state", state, "--listener", "ga-demo:lsr-new:tcp:81-81") as (_, endpoint):
        client = official_client(endpoint)
        live = sdk_call(client, "DescribeListener", {"ListenerId": "lsr-demo"})
        assert (live["Name"], live["State"]) == ("acknowledged", "updating")
        assert sdk_call(client, "UpdateListener", update)["RequestId"] == answered["RequestId"]
        listeners = admin(endpoint, "/_emulator/state")["Listeners"]
        assert listeners[0]["TransitionEndsAt"] == before["TransitionEndsAt"]
        assert [item["ListenerId"] for item in listeners] == ["lsr-demo", "lsr-new"]
        deadline = time.monotonic() + 5
        while sdk_call(client, "DescribeListener", {"ListenerId": "lsr-demo"})["State"] != "active":
            assert time.monotonic() < deadline, "the transition never finished after the restart"
            time.sleep(0.05)
        assert time.time() >= before["TransitionEndsAt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listener", "ga:lsr:tcp"], "listener seed"),
        (["--listener", "ga:lsr:http:80-81"], "PortRangeIllegal"),
        (["--credential", "no-secret"], "ID:SECRET"),
        (["--fault-rate", "2"], "0..1"),
        (["--transition-seconds", "-1"], "negative"),
        (["--port", "http"], "invalid int"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ga_emulator", "--port", "0", *args],
        capture_output=True, text=True, timeout=20, env=environment(), check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_unreadable_state_file_exits_2_and_is_left_alone(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken")
    result = subprocess.run(
        [sys.executable, "-m", "ga_emulator", "--port", "0", "--state", str(state)],
        capture_output=True, text=True, timeout=20, env=environment(), check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "not JSON" in result.stderr and "Traceback" not in result.stderr
    assert state.read_text() == "{broken"


def test_an_unwritable_state_file_exits_2(tmp_path: Path) -> None:
    state = tmp_path / "missing-folder" / "state.json"
    result = subprocess.run(
        [sys.executable, "-m", "ga_emulator", "--port", "0", "--state", str(state)],
        capture_output=True, text=True, timeout=20, env=environment(), check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "cannot write the state file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_exits_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ga_emulator", "--port", str(port)],
            capture_output=True, text=True, timeout=20, env=environment(), check=False,
        )  # fmt: skip
    assert (result.returncode, result.stdout) == (1, "")
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_the_flags_are_exactly_design_md() -> None:
    flags = {option for action in build_parser()._actions for option in action.option_strings}
    assert flags == DESIGN_FLAGS | STS_FLAGS
    assert "ga-demo-key-id:ga-demo-key-secret" in build_parser().format_help()


def test_console_script() -> None:
    script = Path(sys.executable).with_name("ga-emulator")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 0 and "--transition-seconds" in result.stdout
