"""The Listener class as a program sees it: type token, typed args, keyword precedence, output attributes."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from ga_listener import Listener, ListenerArgs
from tests.support.mocks import RecordingMocks, RecordingMonitor

RANGES = [{"from_port": 80, "to_port": 80}]


def register(build: Any, monitor: RecordingMonitor | None = None) -> tuple[RecordingMocks, dict[str, Any]]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="p", stack="s", preview=False,
                             monitor=RecordingMonitor(mocks) if monitor is None else monitor)
    seen: dict[str, Any] = {}

    def program() -> Any:
        listener = build()
        return pulumi.Output.all(listener.state, listener.port_ranges, listener.listener_id).apply(
            lambda values: seen.update(state=values[0], port_ranges=values[1], listener_id=values[2]))

    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks, seen


def test_keyword_arguments_register_the_type_token_and_inputs() -> None:
    mocks, seen = register(lambda: Listener("web", listener_id="lsr-1", protocol="tcp", port_ranges=RANGES))
    [resource] = mocks.resources
    assert resource.typ == "pulumi-python:dynamic/alicloud-ga:Listener"
    assert resource.inputs["listener_id"] == "lsr-1"
    assert "name" not in resource.inputs  # unset: unmanaged, not sent
    assert "on_delete" not in resource.inputs  # unset: check gives the mode's default
    assert resource.inputs["resource_key"] == "p/s/web"  # tells a replacement's delete from a removed resource's
    assert seen == {"state": "state-of-web", "port_ranges": RANGES, "listener_id": "lsr-1"}


def test_a_listener_to_create_carries_its_resource_key() -> None:
    """The host's create gets no URN and its get_stack() is not the program's: the key comes from the program."""
    mocks, _ = register(lambda: Listener("api", accelerator_id="ga-1", protocol="tcp", port_ranges=RANGES))
    [resource] = mocks.resources
    assert resource.inputs["accelerator_id"] == "ga-1" and "listener_id" not in resource.inputs
    assert resource.inputs["resource_key"] == "p/s/api"  # project "p", stack "s" (see register)


def test_typed_args_with_keywords_winning() -> None:
    args = ListenerArgs(listener_id="lsr-1", protocol="tcp", port_ranges=RANGES, name="from-args")
    mocks, _ = register(lambda: Listener("web", args, name="from-keyword", on_delete="restore"))
    [resource] = mocks.resources
    assert resource.inputs["name"] == "from-keyword" and resource.inputs["on_delete"] == "restore"


def test_a_misspelt_input_fails_in_python_before_any_deployment() -> None:
    with pytest.raises(TypeError, match="port_range"):
        Listener("web", listener_id="lsr-1", protocol="tcp", port_range=RANGES)  # type: ignore[call-arg]


def test_get_reads_an_existing_listener_by_id() -> None:
    mocks, _ = register(lambda: Listener.get("existing", "lsr-9"))
    [resource] = mocks.resources
    assert (resource.typ, resource.name, resource.resource_id) == (
        "pulumi-python:dynamic/alicloud-ga:Listener", "existing", "lsr-9")


def test_options_as_the_second_positional_argument_as_generated_sdks_allow() -> None:
    monitor = RecordingMonitor(mocks := RecordingMocks())
    register(lambda: Listener("web", pulumi.ResourceOptions(protect=True), listener_id="lsr-1", protocol="tcp",
                              port_ranges=RANGES), monitor)
    [request] = [r for r in monitor.requests if r.type != "pulumi:pulumi:Stack"]
    assert request.protect and request.name == "web"
    assert [r.inputs["listener_id"] for r in mocks.resources] == ["lsr-1"]
    with pytest.raises(TypeError, match="twice"):
        Listener("web", pulumi.ResourceOptions(), pulumi.ResourceOptions(), listener_id="lsr-1", protocol="tcp",
                 port_ranges=RANGES)


def test_replacements_release_the_old_listener_first_unless_the_program_says_otherwise() -> None:
    cases = [(None, True), (pulumi.ResourceOptions(delete_before_replace=False), False),
             (pulumi.ResourceOptions(retain_on_delete=True), True)]
    for opts, expected in cases:
        monitor = RecordingMonitor(RecordingMocks())
        register(lambda opts=opts: Listener("web", opts=opts, listener_id="lsr-1", protocol="tcp",
                                            port_ranges=RANGES), monitor)
        [request] = [r for r in monitor.requests if r.type != "pulumi:pulumi:Stack"]
        assert (request.deleteBeforeReplaceDefined, request.deleteBeforeReplace) == (True, expected)
