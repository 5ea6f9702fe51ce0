"""Replacing or renaming a resource never undoes the new owner (through the real host, as the engine drives it).

A rename without an alias is a create of the new resource and, after every create and update, a delete of the old
one in the same provider process; a replace deletes first or last depending on the resource option (Diff's answer
when it is unset); a targeted replace never asks Diff. See ``Engine`` in tests/support/provider_host.py.
"""

from __future__ import annotations

from typing import Any

from alibabacloud_ga20191120 import models

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import live, official_client, writes
from tests.support.provider_host import Engine, Options

WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                       "name": "ours", "client_affinity": "SOURCE_IP", "on_delete": "restore"}


def test_rename_without_alias_keeps_what_the_new_resource_adopted(engine: Engine, emulator: EmulatorServer) -> None:
    with engine.host() as host:
        engine.deploy({"web": WEB}, host=host)
    emulator.calls.clear()
    with engine.host() as host:  # one deployment, one provider process
        ops = engine.deploy({"web-renamed": WEB}, host=host)  # inputs unchanged: the adoption writes nothing
        printed = host.output()
    assert ops == {"web-renamed": "create"} and list(engine.state) == ["web-renamed"]
    assert writes(emulator) == []  # the old resource's restore was skipped, not sent
    after = live(emulator, "lsr-web")
    assert (after.name, after.client_affinity) == ("ours", "SOURCE_IP")
    assert "taken over by another resource" in printed


def test_rename_with_changed_inputs_keeps_the_new_values(engine: Engine, emulator: EmulatorServer) -> None:
    engine.deploy({"web": WEB})
    with engine.host() as host:
        engine.deploy({"web-renamed": {**WEB, "description": "new owner"}}, host=host)
    after = live(emulator, "lsr-web")
    assert (after.name, after.description, after.client_affinity) == ("ours", "new owner", "SOURCE_IP")


def test_rename_with_an_alias_is_no_change_at_all(engine: Engine, emulator: EmulatorServer) -> None:
    engine.deploy({"web": WEB})
    emulator.calls.clear()
    ops = engine.deploy({"web-renamed": (WEB, Options(aliases=("web",)))})
    assert ops == {"web-renamed": "same"}
    assert emulator.calls.snapshot() == []


def test_a_new_listener_id_releases_the_old_listener_before_adopting_the_new(engine: Engine,
                                                                            emulator: EmulatorServer) -> None:
    for option in (True, None):  # the Listener class's default, and the option unset (Diff decides)
        engine.deploy({"web": WEB})
        emulator.calls.clear()
        api = {**WEB, "listener_id": "lsr-api", "port_ranges": [{"from_port": 9000, "to_port": 9000}]}
        engine.deploy({"web": (api, Options(delete_before_replace=option))})
        calls = [(c.action, c.params.get("ListenerId")) for c in emulator.calls if c.http_status == 200]
        restore = calls.index(("UpdateListener", "lsr-web"))
        first_on_api = next(i for i, call in enumerate(calls) if call[1] == "lsr-api")
        assert restore < first_on_api, calls
        old, new = live(emulator, "lsr-web"), live(emulator, "lsr-api")
        assert (old.client_affinity, new.client_affinity, new.name) == ("NONE", "SOURCE_IP", "ours")
        engine.destroy("web")


def test_targeted_replace_ends_with_the_new_resources_configuration(engine: Engine, emulator: EmulatorServer) -> None:
    engine.deploy({"web": WEB})
    engine.target_replace("web", WEB)  # delete first (the default): restored, then adopted again
    after = live(emulator, "lsr-web")
    assert (after.name, after.client_affinity) == ("ours", "SOURCE_IP")
    assert engine.state["web"].outputs["adopted"]["client_affinity"] == "NONE"  # the restored original
    engine.target_replace("web", WEB, options=Options(delete_before_replace=False))  # create first
    after = live(emulator, "lsr-web")
    assert (after.name, after.client_affinity) == ("ours", "SOURCE_IP")


def test_restore_leaves_what_changed_since_the_resource_last_recorded_it(engine: Engine,
                                                                        emulator: EmulatorServer) -> None:
    engine.deploy({"web": {**WEB, "description": "ours"}})
    official_client(emulator).update_listener(
        models.UpdateListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web", description="changed by hand"))
    old = engine.state.pop("web")
    with engine.host(engine.stored_config) as host:
        while live(emulator, "lsr-web").state != "active":
            pass
        host.delete("urn", old.id, old.outputs)
        printed = host.output()
    after = live(emulator, "lsr-web")
    assert after.description == "changed by hand"  # not put back over a change made since
    assert after.client_affinity == "NONE"  # put back: unchanged since recorded
    assert "description" in printed and "changed since" in printed
