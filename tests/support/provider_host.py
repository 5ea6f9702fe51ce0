"""Drive the Pulumi SDK's own dynamic provider host over its real gRPC protocol, as the engine does.

A fast stand-in for the real CLI (whose own suite is tests/cli) that plays the engine's part: it starts
``python -m pulumi.dynamic`` as a subprocess, reads the port it prints, and calls Configure, Check, Diff, Create,
Update, Read and Delete with properties marshalled into ``google.protobuf.Struct`` the engine's way (numbers
become doubles, unknowns the UNKNOWN sentinel string, secrets signature-keyed objects) and the provider pickled by
the SDK's own ``serialize_provider``. :class:`Engine` keeps a one-stack state and runs the call sequences of the
CLI's operations (see ``pulumi-protocol.md``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
PROVIDER_KEY = "__provider"
RESOURCE_TYPE = "pulumi-python:dynamic/alicloud-ga:Listener"


class Unknown:
    """Stands for a value the engine does not know yet (marshalled as the UNKNOWN sentinel)."""


@dataclass(frozen=True)
class Secret:
    """A secret value, marshalled as the engine marshals secrets."""

    value: Any


def _marshal(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": _marshal(value.value)}
    if isinstance(value, Mapping):
        return {str(k): _marshal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marshal(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Marshal properties into a Struct (drops None values, like the engine's MarshalProperties)."""
    struct = struct_pb2.Struct()
    struct.update({k: _marshal(v) for k, v in props.items() if v is not None})
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Unmarshal a Struct the way the engine stores it (numbers stay floats)."""
    return MessageToDict(struct)


class ProviderError(Exception):
    """The host answered a call with a gRPC error (the provider raised); ``details`` is what the CLI shows."""

    def __init__(self, method: str, details: str) -> None:
        super().__init__(f"{method} failed:\n{details}")
        self.method = method
        self.details = details

    @property
    def last_line(self) -> str:
        """The last non-empty line of the traceback: what a user reads first."""
        return [line for line in self.details.splitlines() if line.strip()][-1]


class ProviderHost:
    """One ``python -m pulumi.dynamic`` process and a gRPC stub to it."""

    def __init__(self, env: Mapping[str, str] | None = None, cwd: str | None = None,
                 python: str = sys.executable, record: list[tuple[str, str]] | None = None) -> None:
        #: (method, resource name) of every resource call made through this host, in order
        self.calls: list[tuple[str, str]] = record if record is not None else []
        # stderr goes to a file and stdout is drained by a thread: a chatty provider never blocks on a full pipe,
        # and tests can scan everything the host printed (see output()).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._stdout: list[bytes] = []
        self.process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.dynamic", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self._stderr, env={**os.environ, **(env or {})}, cwd=cwd,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"provider host did not start: {line!r} {self.output()}")
        self.port = int(line)
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def _drain_stdout(self) -> None:
        assert self.process.stdout is not None
        for chunk in iter(self.process.stdout.readline, b""):
            self._stdout.append(chunk)

    def output(self) -> str:
        """Everything the host printed so far on stdout and stderr."""
        self._stderr.seek(0)
        return b"".join(self._stdout).decode(errors="replace") + self._stderr.read().decode(errors="replace")

    def _call(self, method: str, request: Any) -> Any:
        if getattr(request, "urn", ""):
            self.calls.append((method, request.urn.rsplit("::", 1)[-1]))
        try:
            return getattr(self.stub, method)(request, timeout=300)
        except grpc.RpcError as error:
            raise ProviderError(method, error.details() or str(error)) from None

    def configure(self, config: Mapping[str, Any]) -> None:
        self._call("Configure", provider_pb2.ConfigureRequest(
            args=to_struct(config), acceptSecrets=False, variables={k: str(v) for k, v in config.items()}))

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        request = provider_pb2.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news))
        answer = self._call("Check", request)
        return from_struct(answer.inputs), [(f.property, f.reason) for f in answer.failures]

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffAnswer:
        request = provider_pb2.DiffRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news))
        answer = self._call("Diff", request)
        if answer.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN:  # the engine would diff inputs itself
            raise AssertionError("Diff answered DIFF_UNKNOWN: the provider must decide changes itself")
        return DiffAnswer(answer.changes == provider_pb2.DiffResponse.DIFF_SOME, list(answer.replaces),
                          answer.deleteBeforeReplace)

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        answer = self._call("Create", provider_pb2.CreateRequest(urn=urn, properties=to_struct(props)))
        return answer.id, from_struct(answer.properties)

    def update(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news))
        answer = self._call("Update", request)
        return from_struct(answer.properties)

    def read(
        self, urn: str, id_: str, props: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        """Read; the outputs are ``None`` when the answer carries no properties (the engine's "does not exist")."""
        request = provider_pb2.ReadRequest(
            id=id_, urn=urn, properties=to_struct(props), inputs=to_struct(inputs or {}))
        answer = self._call("Read", request)
        refreshed = from_struct(answer.inputs) if answer.HasField("inputs") else None
        outputs = from_struct(answer.properties) if answer.HasField("properties") else None
        return answer.id, outputs, refreshed

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        self._call("Delete", provider_pb2.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))

    def close(self) -> None:
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> ProviderHost:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def pickled_provider() -> str:
    """The ``__provider`` property exactly as ``pulumi.dynamic.Resource`` computes it."""
    from ga_listener.resource import ListenerProvider

    return serialize_provider(ListenerProvider())


PROJECT, STACK = "ga-listener-demo", "dev"


def urn_for(name: str, stack: str = STACK, project: str = PROJECT) -> str:
    return f"urn:pulumi:{stack}::{project}::{RESOURCE_TYPE}::{name}"


@dataclass(frozen=True)
class DiffAnswer:
    """What Diff told the engine."""

    changes: bool
    replaces: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class Options:
    """The resource options the engine acts on. The defaults are what the ``Listener`` class registers
    (``delete_before_replace=True`` unless the program says otherwise; a test of the class checks it)."""

    delete_before_replace: bool | None = True
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()  # old names of this resource (``pulumi.Alias(name=...)``)


LISTENER_OPTIONS = Options()


@dataclass
class ResourceState:
    """What the engine keeps for one resource: id, inputs (checked), outputs and the options it acts on."""

    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    options: Options = LISTENER_OPTIONS


class ResourceMissingError(Exception):
    """The engine's read step found no outputs: "resource '<id>' does not exist"."""


Program = Mapping[str, "Mapping[str, Any] | tuple[Mapping[str, Any], Options]"]


@dataclass
class Engine:
    """A one-stack engine that runs each CLI operation's call sequence in a fresh host, as the CLI does.

    Imitated from the engine's source (``pkg/resource/deploy/step_generator.go``, ``step.go``), and checked
    against the real CLI: each imitated behaviour has a test in ``tests/cli/test_imitation.py`` that runs it both
    ways against one emulator and compares the provider calls (the real engine's own ``-v=7`` log against
    :attr:`calls`) or what is printed:

    - up: Check, Create; Check, Diff, Update; no change: Check, Diff
      (``test_create_update_and_no_change_make_the_same_calls``);
    - replace: Check, Diff, Check(olds={}), Delete, Create (``test_a_replace_deletes_before_it_creates_in_both``);
    - refresh: Read, then Diff(refreshed outputs, old inputs) (``test_refresh_is_read_then_diff_in_both``);
    - rename without an alias: Check and Create of the new name, Delete of the old one last
      (``test_a_rename_without_an_alias_creates_the_new_resource_and_deletes_the_old_one_last_in_both``);
    - get: Read(properties = inputs = the program's props)
      (``test_get_is_one_read_and_a_missing_listener_fails_in_both``);
    - a check failure prints ``property P value V has a problem: R``
      (``test_a_check_failure_prints_what_the_driver_reports``);
    - refresh and destroy configure the provider with the config stored at the last up
      (``test_refresh_and_destroy_configure_the_provider_with_the_config_stored_at_the_last_up``).

    The rest: a replace deletes first when the resource option says so (or, with the option unset, when Diff
    said so) and otherwise creates first and deletes the old resource at the end of the deployment; a targeted
    replace (``--target-replace``, ``replaceWith``) never asks Diff; ``retain_on_delete`` skips Delete.
    ``up`` is the update half of ``pulumi up`` (as ``--skip-preview``); ``preview`` is Check and Diff.
    """

    # Configs and environments hold credentials: kept out of the repr that a failing assertion prints.
    config: dict[str, Any] = field(repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    state: dict[str, ResourceState] = field(default_factory=dict)
    provider: str = field(default_factory=pickled_provider, repr=False)
    stored_config: dict[str, Any] = field(default_factory=dict, repr=False)
    #: (method, resource name) of every resource call the engine made, in order, across its hosts
    calls: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @classmethod
    def for_endpoint(cls, url: str, key_id: str, secret: str, wait_timeout: float = 30, **extra: str) -> Engine:
        """An engine whose stack points the provider at ``url`` with a key pair in its config."""
        return cls(config={"ga-listener:endpoint": url, "alicloud:accessKey": key_id, "alicloud:secretKey": secret,
                           "ga-listener:waitTimeout": f"{wait_timeout:g}", **extra})

    def host(self, config: Mapping[str, Any] | None = None) -> ProviderHost:
        host = ProviderHost(self.env, record=self.calls)
        host.configure(self.config if config is None else config)
        return host

    def _use(self, host: ProviderHost | None) -> contextlib.AbstractContextManager[ProviderHost]:
        # A host passed in stays open for the caller's next operation; otherwise a fresh one per operation.
        return contextlib.nullcontext(host) if host is not None else self.host()

    def _news(self, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """What the ``Listener`` class registers: the inputs, its resource key (project/stack/name, unless the
        test gives one) and the pickled provider."""
        return {"resource_key": f"{PROJECT}/{STACK}/{name}", **inputs, PROVIDER_KEY: self.provider}

    # --- preview and up ------------------------------------------------------------------------------------

    def preview(self, name: str, inputs: Mapping[str, Any], host: ProviderHost | None = None) -> dict[str, Any]:
        """Check (and Diff for an existing resource); returns what the CLI would show."""
        with self._use(host) as h:
            return self._plan(h, name, inputs)

    def _plan(self, host: ProviderHost, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        urn = urn_for(name)
        old = self.state.get(name)
        checked, failures = host.check(urn, old.inputs if old else {}, self._news(name, inputs))
        result: dict[str, Any] = {
            "checked": checked, "failures": failures, "op": "create" if old is None else "same"}
        if old is None or failures:
            return result
        diff = host.diff(urn, old.id, old.outputs, checked)
        result["op"] = "replace" if diff.replaces else ("update" if diff.changes else "same")
        result["replaces"], result["diff"] = diff.replaces, diff
        return result

    def up(self, name: str, inputs: Mapping[str, Any], host: ProviderHost | None = None,
           options: Options = LISTENER_OPTIONS) -> dict[str, Any]:
        """The update half of ``pulumi up`` of one resource (other resources in the state are left alone)."""
        with self._use(host) as h:
            deferred: list[tuple[str, ResourceState]] = []
            plan = self._step(h, name, inputs, options, deferred)
            self._delete_all(h, deferred)
            self.stored_config = dict(self.config)
            return plan

    def deploy(self, program: Program, host: ProviderHost | None = None) -> dict[str, str]:
        """``pulumi up`` of a whole program: every resource's step in order (aliases move old state first), then
        the deletes of resources no longer in the program and of create-before-delete replacements."""
        with self._use(host) as h:
            deferred: list[tuple[str, ResourceState]] = []
            ops = {}
            for name, spec in program.items():
                inputs, options = spec if isinstance(spec, tuple) else (spec, LISTENER_OPTIONS)
                for alias in options.aliases:
                    if alias in self.state and name not in self.state:
                        self.state[name] = self.state.pop(alias)
                ops[name] = self._step(h, name, inputs, options, deferred)["op"]
            deferred += [(name, self.state.pop(name)) for name in list(self.state) if name not in program]
            self._delete_all(h, deferred)
            self.stored_config = dict(self.config)
            return ops

    def target_replace(self, name: str, inputs: Mapping[str, Any], host: ProviderHost | None = None,
                       options: Options = LISTENER_OPTIONS) -> None:
        """``pulumi up --target-replace`` (or a ``replaceWith`` trigger): a replace Diff is never asked about."""
        with self._use(host) as h:
            deferred: list[tuple[str, ResourceState]] = []
            self._replace(h, name, inputs, options, self.state[name], diff_says_delete_first=False,
                          deferred=deferred)
            self._delete_all(h, deferred)
            self.stored_config = dict(self.config)

    def _step(self, h: ProviderHost, name: str, inputs: Mapping[str, Any], options: Options,
              deferred: list[tuple[str, ResourceState]]) -> dict[str, Any]:
        plan = self._plan(h, name, inputs)
        if plan["failures"]:
            raise ProviderError("Check", "\n".join(f"{p}: {r}" for p, r in plan["failures"]))
        urn, old = urn_for(name), self.state.get(name)
        if plan["op"] == "create":
            new_id, outputs = h.create(urn, plan["checked"])
            self.state[name] = ResourceState(new_id, plan["checked"], outputs, options)
        elif plan["op"] == "replace":
            assert old is not None
            self._replace(h, name, inputs, options, old, diff_says_delete_first=plan["diff"].delete_before_replace,
                          deferred=deferred)
        elif plan["op"] == "update":
            assert old is not None
            outputs = h.update(urn, old.id, old.outputs, plan["checked"])
            self.state[name] = ResourceState(old.id, plan["checked"], outputs, options)
        else:
            assert old is not None
            self.state[name] = ResourceState(old.id, plan["checked"], old.outputs, options)
        return plan

    def _replace(self, h: ProviderHost, name: str, inputs: Mapping[str, Any], options: Options, old: ResourceState,
                 *, diff_says_delete_first: bool, deferred: list[tuple[str, ResourceState]]) -> None:
        urn = urn_for(name)
        checked, failures = h.check(urn, {}, self._news(name, inputs))
        if failures:
            raise ProviderError("Check", "\n".join(f"{p}: {r}" for p, r in failures))
        option = options.delete_before_replace
        if diff_says_delete_first if option is None else option:
            self._delete(h, name, old)
            self.state.pop(name, None)
        else:
            deferred.append((name, old))
        new_id, outputs = h.create(urn, checked)
        self.state[name] = ResourceState(new_id, checked, outputs, options)

    def _delete(self, h: ProviderHost, name: str, old: ResourceState) -> None:
        if not old.options.retain_on_delete:
            h.delete(urn_for(name), old.id, old.outputs)

    def _delete_all(self, h: ProviderHost, doomed: list[tuple[str, ResourceState]]) -> None:
        for name, old in doomed:
            self._delete(h, name, old)

    # --- refresh, destroy, get -----------------------------------------------------------------------------

    def refresh(self, name: str) -> ResourceState | None:
        """Read with the config stored at the last up; an empty id drops the resource from state. Then Diff
        (olds = refreshed outputs, news = old inputs) to show drift, as the engine does: ``drift`` says whether
        it found any (``last_refresh_drift``)."""
        old = self.state[name]
        with self.host(self.stored_config) as h:
            new_id, outputs, inputs = h.read(urn_for(name), old.id, old.outputs, old.inputs)
            if not new_id or outputs is None:
                del self.state[name]
                return None
            self.last_refresh_drift = h.diff(urn_for(name), new_id, outputs, old.inputs).changes
        refreshed = ResourceState(new_id, {**(inputs or old.inputs)}, outputs, old.options)
        self.state[name] = refreshed
        return refreshed

    def destroy(self, name: str) -> None:
        old = self.state[name]
        with self.host(self.stored_config) as h:
            self._delete(h, name, old)
        del self.state[name]

    def get(self, name: str, id_: str, host: ProviderHost | None = None) -> dict[str, Any]:
        """``Listener.get(name, id)``: Read with the program's props as both properties and inputs (the real
        engine's read step sends them so; tests/cli/test_imitation.py checks it), judged as that step judges it
        (no outputs: "resource does not exist"). Returns the outputs the program sees."""
        inputs = {"region_id": "cn-hangzhou", PROVIDER_KEY: self.provider}
        with self._use(host) as h:
            _, outputs, _ = h.read(urn_for(name), id_, inputs, inputs)
        if outputs is None:
            raise ResourceMissingError(f"resource '{id_}' does not exist")
        return outputs

    last_refresh_drift: bool = field(default=False, init=False)
