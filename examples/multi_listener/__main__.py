"""Several listeners of one accelerator, listed per stack: the same program, different stacks, different
listeners and sizes. Each entry of the ``listeners`` config list becomes one adopted listener."""

import pulumi

from ga_listener import Listener

config = pulumi.Config()

for entry in config.require_object("listeners"):
    listener = Listener(
        entry["key"],
        listener_id=entry["listenerId"],
        protocol=entry.get("protocol", "tcp"),
        port_ranges=[{"from_port": int(p), "to_port": int(p)} for p in entry["ports"]],
        name=entry.get("name"),
        client_affinity=entry.get("clientAffinity"),
        idle_timeout=entry.get("idleTimeout"),
        on_delete=entry.get("onDelete", "retain"),
    )
    pulumi.export(f"{entry['key']}_state", listener.state)
    pulumi.export(f"{entry['key']}_ports", listener.port_ranges)
