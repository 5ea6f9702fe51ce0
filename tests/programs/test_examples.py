"""The example programs end to end, as far as they can run without a Pulumi CLI.

Each program runs under ``pulumi.runtime.set_mocks`` with its dev stack's config; the resources it registers
(type, inputs, the captured ``__provider``) are asserted, and then those same inputs are driven through the real
provider host against the emulator started with the flags ``make up`` uses.
"""

from __future__ import annotations

import base64
import json
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dill
import pulumi
import pytest
import yaml
from alibabacloud_ga20191120 import models

from ga_listener.resource import ListenerProvider
from tests.support import peers
from tests.support.mocks import RecordingMocks
from tests.support.provider_host import PROVIDER_KEY, SIG_KEY, Engine

ROOT = Path(__file__).resolve().parents[2]
DEMO_KEY = ("ga-demo-key-id", "ga-demo-key-secret")  # what make up exports (see Makefile)


def stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    return dict(yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text())["config"])


def run_program(project_dir: Path, program: Path, stack: str) -> tuple[RecordingMocks, dict[str, Any]]:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"]
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    config = stack_config(project_dir, stack)
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    # pulumi.runtime.test runs the program and then waits for every registration to reach the mocks.
    pulumi.runtime.test(lambda: runpy.run_path(str(program / "__main__.py")) and None)()  # type: ignore[no-untyped-call]
    return mocks, config


def provider_of(inputs: dict[str, Any]) -> Any:
    captured = inputs[PROVIDER_KEY]  # pulumi.dynamic.Resource always marks the pickled provider secret
    assert isinstance(captured, dict) and captured[SIG_KEY]
    return dill.loads(base64.b64decode(captured["value"]))


@pytest.fixture(scope="module")
def make_up_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator with the Makefile's own flags (only the port differs: 0, so tests never collide)."""
    flags = subprocess.run(["make", "-s", "-C", str(ROOT), "emulator-flags"], check=True, capture_output=True,
                           text=True).stdout.split()
    folder = tmp_path_factory.mktemp("make-up")
    with (folder / "emulator.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ga_emulator", "--port", "0", "--state", str(folder / "state.json"),
             "--transition-seconds", "0.2", *flags],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        try:
            assert process.stdout is not None
            ready = process.stdout.readline().strip()
            match = re.fullmatch(r"ga-emulator listening on (http://127\.0\.0\.1:\d+)", ready)
            assert match, f"{ready!r}; see {folder / 'emulator.log'}"
            yield match.group(1)
        finally:
            process.terminate()
            process.wait(timeout=10)


def drive(inputs_by_name: dict[str, dict[str, Any]], config: dict[str, Any], url: str) -> Engine:
    host_config = {k: str(v) for k, v in config.items() if k.startswith(("ga-listener:", "alicloud:"))}
    host_config["ga-listener:endpoint"] = url
    engine = Engine(config=host_config, env={"ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_KEY[0],
                                             "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_KEY[1]})
    with engine.host() as host:
        for name, inputs in inputs_by_name.items():
            engine.up(name, inputs, host=host)
    return engine


def listener_ids(url: str) -> set[str]:
    """The listeners of the demo accelerator, as the official SDK lists them (an independent reading)."""
    client = peers.official_client(SimpleNamespace(url=url), key_id=DEMO_KEY[0], secret=DEMO_KEY[1])
    request = models.ListListenersRequest(region_id="cn-hangzhou", accelerator_id="ga-demo", page_size=50)
    return {item.listener_id for item in client.list_listeners(request).body.listeners}


def test_demo_program_creates_its_listener_and_destroy_deletes_it(make_up_emulator: str) -> None:
    mocks, config = run_program(ROOT, ROOT, "dev")
    [resource] = mocks.resources
    assert (resource.typ, resource.name) == ("pulumi-python:dynamic/alicloud-ga:Listener", "demo")
    inputs = dict(resource.inputs)
    assert inputs["accelerator_id"] == config["ga-listener-demo:acceleratorId"] and "listener_id" not in inputs
    assert inputs["resource_key"] == "ga-listener-demo/dev/demo"
    wanted_ranges = [{"from_port": r["fromPort"], "to_port": r["toPort"]}
                     for r in config["ga-listener-demo:portRanges"]]
    assert inputs["port_ranges"] == wanted_ranges
    provider = provider_of(inputs)
    assert isinstance(provider, ListenerProvider) and vars(provider) == {}

    before = listener_ids(make_up_emulator)
    program_inputs = {k: v for k, v in inputs.items() if k != PROVIDER_KEY}
    engine = drive({"demo": program_inputs}, config, make_up_emulator)
    outputs = engine.state["demo"].outputs
    assert listener_ids(make_up_emulator) - before == {engine.state["demo"].id}
    assert outputs["state"] == "active" and outputs["name"] == config["ga-listener-demo:name"]
    assert outputs["origin"] == "created" and outputs["on_delete"] == "delete"
    assert [(r["from_port"], r["to_port"]) for r in outputs["port_ranges"]] == [
        (r["from_port"], r["to_port"]) for r in wanted_ranges]
    assert engine.preview("demo", program_inputs)["op"] == "same"
    engine.destroy("demo")  # a created listener: deleted
    assert listener_ids(make_up_emulator) == before


def test_demo_programs_prod_stack_adopts() -> None:
    mocks, config = run_program(ROOT, ROOT, "prod")
    [resource] = mocks.resources
    assert resource.inputs["listener_id"] == config["ga-listener-demo:listenerId"]
    assert "accelerator_id" not in resource.inputs and resource.inputs["on_delete"] == "retain"


def test_multi_listener_program_creates_every_listener_of_the_list(make_up_emulator: str) -> None:
    project_dir = ROOT / "examples" / "multi_listener"
    mocks, config = run_program(project_dir, project_dir, "dev")
    entries = config["ga-listener-multi:listeners"]
    registered = {r.name: r for r in mocks.resources}
    assert sorted(registered) == sorted(e["key"] for e in entries)
    for entry in entries:
        resource = registered[entry["key"]]
        assert resource.inputs["accelerator_id"] == config["ga-listener-multi:acceleratorId"]
        assert [r["from_port"] for r in resource.inputs["port_ranges"]] == entry["ports"]
        assert isinstance(provider_of(dict(resource.inputs)), ListenerProvider)
    before = listener_ids(make_up_emulator)
    inputs = {r.name: {k: v for k, v in r.inputs.items() if k != PROVIDER_KEY} for r in mocks.resources}
    engine = drive(inputs, config, make_up_emulator)
    created = {engine.state[entry["key"]].id for entry in entries}
    assert listener_ids(make_up_emulator) - before == created and len(created) == len(entries)
    for entry in entries:
        outputs = engine.state[entry["key"]].outputs
        assert outputs["state"] == "active" and outputs["name"] == entry["name"]
        assert outputs["accelerator_id"] == "ga-demo"
    for entry in entries:
        engine.destroy(entry["key"])
    assert listener_ids(make_up_emulator) == before


def test_multi_listener_prod_stack_adopts_one_and_creates_the_others() -> None:
    project_dir = ROOT / "examples" / "multi_listener"
    mocks, config = run_program(project_dir, project_dir, "prod")
    modes = {r.name: ("adopt" if "listener_id" in r.inputs else "create") for r in mocks.resources}
    assert modes == {e["key"]: ("adopt" if "listenerId" in e else "create")
                     for e in config["ga-listener-multi:listeners"]}
    assert set(modes.values()) == {"adopt", "create"}


def test_prod_stacks_hold_no_secret() -> None:
    for path in [ROOT / "Pulumi.prod.yaml", ROOT / "examples" / "multi_listener" / "Pulumi.prod.yaml"]:
        config = yaml.safe_load(path.read_text())["config"]
        assert "alicloud:secretKey" not in config and "alicloud:accessKey" not in config
        assert "ga-listener:endpoint" not in config  # the real service by default
