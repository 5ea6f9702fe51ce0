"""Demo program: adopt one Global Accelerator listener and keep it at the stack's configuration.

Every setting comes from the stack (``Pulumi.dev.yaml`` points at the local emulator, ``Pulumi.prod.yaml`` at the
real service), so the same program serves every environment.
"""

import pulumi

from ga_listener import Listener

config = pulumi.Config()
port_ranges = [
    {"from_port": int(r["fromPort"]), "to_port": int(r["toPort"])} for r in config.require_object("portRanges")
]

listener = Listener(
    "demo",
    listener_id=config.require("listenerId"),
    protocol=config.get("protocol") or "tcp",
    port_ranges=port_ranges,
    name=config.get("name"),
    description=config.get("description"),
    client_affinity=config.get("clientAffinity"),
    on_delete=config.get("onDelete") or "retain",
)

pulumi.export("listener_id", listener.listener_id)
pulumi.export("accelerator_id", listener.accelerator_id)
pulumi.export("state", listener.state)
pulumi.export("protocol", listener.protocol)
pulumi.export("port_ranges", listener.port_ranges)
pulumi.export("name", listener.name)
pulumi.export("client_affinity", listener.client_affinity)
