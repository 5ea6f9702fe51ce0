"""The real-CLI suite's program: the listeners its stack's config names, nothing else.

``ga-listener-cli-test:listeners`` is a list of objects: ``name`` (the resource name), ``args`` (the keyword
arguments of ``Listener``), optional ``aliases`` (old resource names) and ``options`` (``delete_before_replace``,
``retain_on_delete``); or ``name`` and ``get`` (a listener id to read with ``Listener.get``). Every listener's id
and state are exported under its name.
"""

import pulumi

from ga_listener import Listener

for spec in pulumi.Config().require_object("listeners"):
    name = spec["name"]
    if "get" in spec:
        listener = Listener.get(name, spec["get"])
    else:
        options = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=alias) for alias in spec.get("aliases", [])],
                                         **spec.get("options", {}))
        listener = Listener(name, opts=options, **spec["args"])
    pulumi.export(name, {"id": listener.id, "state": listener.state})
