"""Pulumi's program-side mocks, recording what a program registers."""

from __future__ import annotations

from typing import Any

import pulumi


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers registrations like a successful deployment and records what the program registered.

    Each resource's ``state`` output is ``state-of-<name>``: distinct per resource, so a test reading an output
    attribute proves it is wired to that resource's own outputs.
    """

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", {**args.inputs, "state": f"state-of-{args.name}"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """The SDK's mock monitor, keeping each raw ``RegisterResourceRequest``: what the engine would receive,
    resource options included (``deleteBeforeReplace`` and ``deleteBeforeReplaceDefined``)."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)
