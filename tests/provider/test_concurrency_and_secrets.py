"""Many listeners of one accelerator at once through one host; and no secret in the debug log.

(The full secret scan of a lifecycle, errors included, is tests/reliability/test_secrets.py.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ga_emulator.server import EmulatorServer
from tests.provider.helpers import SECRET, writes
from tests.support.provider_host import PROVIDER_KEY, Engine, urn_for

GA1 = {"lsr-a": 7001, "lsr-b": 7002, "lsr-c": 7003, "lsr-d": 7004, "lsr-api": 9000}


def inputs(listener_id: str, port: int, name: str) -> dict[str, Any]:
    return {"listener_id": listener_id, "protocol": "tcp", "port_ranges": [{"from_port": port, "to_port": port}],
            "name": name}


def test_concurrent_updates_on_one_accelerator_all_succeed(engine: Engine, emulator: EmulatorServer) -> None:
    with engine.host() as host:
        provider = engine.provider
        created = {}
        for listener_id, port in GA1.items():
            checked, _ = host.check(urn_for(listener_id), {}, {**inputs(listener_id, port, "v1"),
                                                                PROVIDER_KEY: provider})
            created[listener_id] = (checked, host.create(urn_for(listener_id), checked)[1])
        emulator.calls.clear()

        def change(listener_id: str) -> dict[str, Any]:
            olds = created[listener_id][1]
            news = {**inputs(listener_id, GA1[listener_id], "v2"), PROVIDER_KEY: provider}
            checked, _ = host.check(urn_for(listener_id), created[listener_id][0], news)
            return host.update(urn_for(listener_id), listener_id, olds, checked)

        with ThreadPoolExecutor(max_workers=len(GA1)) as pool:  # the host itself runs 4 threads
            results = list(pool.map(change, GA1))
    assert all(r["name"] == "v2" and r["state"] == "active" for r in results)
    assert len(writes(emulator)) == len(GA1)
    assert not [c for c in emulator.calls if c.code == "StateError.Accelerator"]  # serialized, not retried


def test_debug_log_shows_signing_but_never_the_secret(engine: Engine, emulator: EmulatorServer) -> None:
    engine.config["ga-listener:logLevel"] = "debug"
    with engine.host() as host:
        engine.up("web", inputs("lsr-web", 80, "logged"), host=host)
        printed = host.output()
    assert "string to sign" in printed and "UpdateListener" in printed
    leaked = SECRET in printed  # computed apart, so a failure report cannot print the secret it found
    assert not leaked, "the secret is in the host's output"
