"""Record what a version of ga-listener stores in Pulumi state, as test data for later versions.

Run from the repository root with the version to record checked out (``python -m tests.provider.data.record_states
OUT.json``): it drives that version's own provider host through its own test engine against the emulator, and
writes each resource's id, stored inputs and outputs (``__provider`` pickle included) exactly as the engine keeps
them, with the program inputs that produced them. ``main_059742e_states.json`` was written this way at commit
059742e (the last version before issue 16's lifecycle fixes), and ``main_2038ad5_states.json`` at 2038ad5 (the last
before the package moved into sub-packages), with that checkout's ``provider`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ga_emulator.server import EmulatorServer
from tests.support.provider_host import Engine

KEY_ID, SECRET = "record-key-id", "record-secret"
SEEDS = ["ga-1:lsr-web:tcp:80-80", "ga-1:lsr-api:tcp:9000-9000"]
PROGRAMS: dict[str, list[dict[str, Any]]] = {
    # Created, then left as created.
    "created": [{"accelerator_id": "ga-1", "protocol": "tcp", "name": "api", "proxy_protocol": True,
                 "port_ranges": [{"from_port": 8080, "to_port": 8080}],
                 "resource_key": "ga-listener-demo/dev/created"}],
    # Created, then changed once.
    "created_updated": [
        {"accelerator_id": "ga-1", "protocol": "tcp", "name": "first",
         "port_ranges": [{"from_port": 8081, "to_port": 8081}], "resource_key": "ga-listener-demo/dev/created_updated"},
        {"accelerator_id": "ga-1", "protocol": "tcp", "name": "second", "description": "changed once",
         "port_ranges": [{"from_port": 8081, "to_port": 8081}], "resource_key": "ga-listener-demo/dev/created_updated"},
    ],
    # Adopted with a change (restore puts it back).
    "adopted": [{"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                 "name": "web", "client_affinity": "SOURCE_IP", "on_delete": "restore"}],
    # Adopted, then changed once.
    "adopted_updated": [
        {"listener_id": "lsr-api", "protocol": "tcp", "port_ranges": [{"from_port": 9000, "to_port": 9000}],
         "name": "api", "on_delete": "restore"},
        {"listener_id": "lsr-api", "protocol": "tcp", "port_ranges": [{"from_port": 9000, "to_port": 9001}],
         "name": "api-2", "idle_timeout": 300, "on_delete": "restore"},
    ],
}


def record() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    server = EmulatorServer(credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=SEEDS,
                            transition_seconds=0.2)
    recorded: dict[str, Any] = {"written_by": f"ga-listener at commit {commit}, via its own Engine test driver",
                                "seeds": SEEDS, "resources": {}}
    with server:
        engine = Engine.for_endpoint(server.url, KEY_ID, SECRET)
        for name, steps in PROGRAMS.items():
            for inputs in steps:
                engine.up(name, inputs)
            state = engine.state[name]
            recorded["resources"][name] = {"id": state.id, "inputs": state.inputs, "outputs": state.outputs,
                                           "program_inputs": steps[-1]}
    return recorded


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
