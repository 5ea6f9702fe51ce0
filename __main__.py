"""Demo program: one Global Accelerator listener kept at the stack's configuration.

Every setting comes from the stack, so the same program serves every environment: ``Pulumi.dev.yaml`` creates a
listener on the local emulator's accelerator (``acceleratorId``), ``Pulumi.prod.yaml`` adopts an existing one on
the real service (``listenerId``).
"""

import pulumi

from ga_listener import Listener

config = pulumi.Config()
port_ranges = [
    {"from_port": int(r["fromPort"]), "to_port": int(r["toPort"])} for r in config.require_object("portRanges")
]

listener = Listener(
    "demo",
    listener_id=config.get("listenerId"),  # adopt this existing listener ...
    accelerator_id=config.get("acceleratorId"),  # ... or create one on this accelerator
    protocol=config.get("protocol") or "tcp",
    port_ranges=port_ranges,
    name=config.get("name"),
    description=config.get("description"),
    client_affinity=config.get("clientAffinity"),
    on_delete=config.get("onDelete"),  # unset: delete what was created, retain what was adopted
)

pulumi.export("listener_id", listener.listener_id)
pulumi.export("accelerator_id", listener.accelerator_id)
pulumi.export("state", listener.state)
pulumi.export("protocol", listener.protocol)
pulumi.export("port_ranges", listener.port_ranges)
pulumi.export("name", listener.name)
pulumi.export("client_affinity", listener.client_affinity)
