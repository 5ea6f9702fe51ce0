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
FIDELITY_FLAGS = {
    "--fault-kinds", "--port-quota", "--listener-quota", "--create-lag", "--visibility-lag", "--reset-omitted",
    "--vanished-unknown-error", "--deleted-accelerator-unknown-error", "--without-bandwidth-package",
    "--endpoint-group", "--forwarding-rule", "--service-managed",
}  # fmt: skip
# README "STS and instance metadata"
STS_FLAGS = {"--sts-role", "--sts-duration", "--oidc-provider", "--oidc-token", "--ecs-role", "--credentials-uri",
             "--metadata-mode"}


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


def admin(endpoint: Endpoint, path: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(endpoint.url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
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
        assert sdk_call(sts, "DescribeListener", {"ListenerId": "lsr-x"})["Protocol"] == "UDP"
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


def test_the_fidelity_flags_shape_the_world_and_the_modes() -> None:
    seeds = [f"ga-c:lsr-{name}:tcp:{port}-{port}" for name, port in (("eg", 80), ("fr", 81), ("m", 82), ("v", 83))]
    with running(
        "--transition-seconds", "0", "--accelerator", "ga-c", *(arg for seed in seeds for arg in ("--listener", seed)),
        "--port-quota", "2", "--listener-quota", "5", "--create-lag", "60", "--visibility-lag", "60",
        "--reset-omitted", "--without-bandwidth-package", "ga-poor", "--endpoint-group", "lsr-eg",
        "--forwarding-rule", "lsr-fr", "--service-managed", "lsr-m:NLB", "--fault-kinds", "unknown_error,retry_after",
    ) as (_, endpoint):  # fmt: skip
        client = official_client(endpoint)
        assert admin(endpoint, "/_emulator/modes") == {
            "port_quota": 2, "listener_quota": 5, "create_lag": 60.0, "visibility_lag": 60.0, "reset_omitted": True,
            "vanished_unknown_error": False, "deleted_accelerator_unknown_error": False, "fault_rate": 0.0,
            "fault_kinds": ["unknown_error", "retry_after"],
        }  # fmt: skip
        three_ports = {"ListenerId": "lsr-v", "PortRanges": [{"FromPort": 90, "ToPort": 92}]}
        assert sdk_error(client, "UpdateListener", three_ports).code == "QuotaExceeded.ListenerPort"
        create = {"AcceleratorId": "ga-poor", "PortRanges": [{"FromPort": 80, "ToPort": 80}]}
        assert sdk_error(client, "CreateListener", create).code == "NotExist.BasicBandwidthPackage"
        assert sdk_error(client, "DeleteListener", {"ListenerId": "lsr-eg"}).code == "Exist.EndpointGroup"
        assert sdk_error(client, "DeleteListener", {"ListenerId": "lsr-fr"}).code == "Exist.ForwardingRule"
        managed = sdk_error(client, "UpdateListener", {"ListenerId": "lsr-m", "Name": "x"})
        assert managed.code == "InvalidOperation.ResourceManagedByCloudProduct" and "NLB" in managed.message
        create = {"AcceleratorId": "ga-c", "PortRanges": [{"FromPort": 99, "ToPort": 99}]}
        new = sdk_call(client, "CreateListener", create)["ListenerId"]  # the 5th
        assert sdk_error(client, "DescribeListener", {"ListenerId": new}).code == "NotExist.Listener"  # create lag
        assert sdk_error(client, "CreateListener", create).code == "QuotaExceeded.Listener"
        sdk_call(client, "UpdateListener", {"ListenerId": "lsr-v", "Name": "first", "ProxyProtocol": True})
        sdk_call(client, "UpdateListener", {"ListenerId": "lsr-v", "Name": "second"})  # resets ProxyProtocol
        # the visibility lag: reads answer the listener as it was just before the latest write
        assert sdk_call(client, "DescribeListener", {"ListenerId": "lsr-v"})["Name"] == "first"
        [truth] = [item for item in admin(endpoint, "/_emulator/state")["Listeners"] if item["ListenerId"] == "lsr-v"]
        assert (truth["Config"]["Name"], truth["Config"]["ProxyProtocol"]) == ("second", False)
        assert admin(endpoint, "/_emulator/faults")["Kinds"] == ["unknown_error", "retry_after"]


def test_vanished_unknown_error_flag() -> None:
    with running("--transition-seconds", "0", "--vanished-unknown-error") as (_, endpoint):
        client = official_client(endpoint)
        sdk_call(client, "DeleteListener", {"ListenerId": "lsr-demo"})
        error = sdk_error(client, "DescribeListener", {"ListenerId": "lsr-demo"})
        assert (error.code, error.status_code) == ("UnknownError", 500)


def test_deleted_accelerator_unknown_error_flag() -> None:
    with running("--deleted-accelerator-unknown-error") as (_, endpoint):
        assert admin(endpoint, "/_emulator/modes")["deleted_accelerator_unknown_error"] is True
        assert admin(endpoint, "/_emulator/accelerators", "DELETE", {"accelerator_id": "ga-demo"}) == {
            "accelerator_id": "ga-demo", "listeners": ["lsr-demo"]}
        error = sdk_error(official_client(endpoint), "DescribeListener", {"ListenerId": "lsr-demo"})
        assert (error.code, error.status_code) == ("UnknownError", 500)


def test_dependents_from_flags_are_kept_by_the_state_file_and_never_doubled(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    flags = ("--state", state, "--endpoint-group", "lsr-demo", "--service-managed", "lsr-demo")
    for args in (flags, flags, ("--state", state)):  # twice with the flags, then with none
        with running(*args) as (_, endpoint):
            assert admin(endpoint, "/_emulator/endpoint-groups") == {"lsr-demo": 1}
            assert admin(endpoint, "/_emulator/service-managed") == {"lsr-demo": "ALB"}
            error = sdk_error(official_client(endpoint), "DeleteListener", {"ListenerId": "lsr-demo"})
            assert error.code == "InvalidOperation.ResourceManagedByCloudProduct"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listener", "ga:lsr:tcp"], "listener seed"),
        (["--listener", "ga:lsr:http:80-81"], "PortRanges.MustOne"),
        (["--credential", "no-secret"], "ID:SECRET"),
        (["--fault-rate", "2"], "0..1"),
        (["--transition-seconds", "-1"], "negative"),
        (["--port", "http"], "invalid int"),
        (["--fault-kinds", "throttle,meteor"], "unknown fault kind 'meteor'"),
        (["--fault-kinds", "error"], "unknown fault kind 'error'"),
        (["--port-quota", "-1"], "negative"),
        (["--listener-quota", "many"], "invalid _count value"),
        (["--create-lag", "-2"], "negative"),
        (["--visibility-lag", "soon"], "invalid _seconds value"),
        (["--endpoint-group", "lsr-nope"], "lsr-nope"),
        (["--forwarding-rule", "lsr-nope"], "lsr-nope"),
        (["--service-managed", "lsr-nope"], "lsr-nope"),
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


def test_the_flags_are_design_md_plus_the_fidelity_modes() -> None:
    flags = {option for action in build_parser()._actions for option in action.option_strings}
    assert flags == DESIGN_FLAGS | FIDELITY_FLAGS | STS_FLAGS
    assert "ga-demo-key-id:ga-demo-key-secret" in build_parser().format_help()


def test_console_script() -> None:
    script = Path(sys.executable).with_name("ga-emulator")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 0 and "--transition-seconds" in result.stdout
