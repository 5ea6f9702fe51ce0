"""Several listeners of one accelerator, listed per stack: the same program, different stacks, different
listeners and sizes. Each entry of the ``listeners`` config list becomes one listener: created on the stack's
``acceleratorId``, or adopted when the entry names a ``listenerId``."""

import pulumi

from ga_listener import Listener

config = pulumi.Config()
accelerator_id = config.get("acceleratorId")

for entry in config.require_object("listeners"):
    listener = Listener(
        entry["key"],
        listener_id=entry.get("listenerId"),
        accelerator_id=None if entry.get("listenerId") else accelerator_id,
        protocol=entry.get("protocol", "tcp"),
        port_ranges=[{"from_port": int(p), "to_port": int(p)} for p in entry["ports"]],
        name=entry.get("name"),
        client_affinity=entry.get("clientAffinity"),
        idle_timeout=entry.get("idleTimeout"),
        on_delete=entry.get("onDelete"),
    )
    pulumi.export(f"{entry['key']}_id", listener.listener_id)
    pulumi.export(f"{entry['key']}_state", listener.state)
    pulumi.export(f"{entry['key']}_ports", listener.port_ranges)
