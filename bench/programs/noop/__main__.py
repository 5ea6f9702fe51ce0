"""``count`` resources of a dynamic provider that does no work (its class lives here, so it is pickled by value):
what the engine and the provider host cost for that many resources. A change of ``label`` is an update that
only sleeps ``sleep`` seconds (standing for a service's transition)."""

import time
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult


class NoopProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("label") != news.get("label"), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"noop-{props['index']}", props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        time.sleep(float(news["sleep"]))
        return UpdateResult(news)


class Noop(Resource):
    def __init__(self, name: str, index: int, label: str, sleep: float) -> None:
        ports = [{"from_port": 3000 + index, "to_port": 3000 + index}]
        props = {"index": index, "protocol": "tcp", "port_ranges": ports, "label": label, "sleep": sleep}
        super().__init__(NoopProvider(), name, props)


config = pulumi.Config()
for i in range(int(config.require("count"))):
    Noop(f"r{i}", i, config.get("label") or "v0", float(config.get("sleep") or 0))
