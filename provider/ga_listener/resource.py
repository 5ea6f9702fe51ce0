"""The Pulumi face: :class:`ListenerProvider` (the dynamic provider) and :class:`Listener` (the resource).

The provider instance is pickled into Pulumi state by reference to this module, so it holds nothing: settings
read in ``configure()`` and the API clients built from them live in module-level tables, never on ``self``.
Each method parses the engine's dicts at the boundary (``ga_listener.config.models``) and hands typed values on.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from ga_listener.config.identity import replacement, switches_to_https_without_certificate
from ga_listener.config.models import ListenerConfig, Violation
from ga_listener.config.plan import Bookkeeping, changed_fields, desired_values, refreshed_inputs
from ga_listener.config.settings import KEYS, ProviderSettings
from ga_listener.config.validation import validate_inputs
from ga_listener.lifecycle import program
from ga_listener.lifecycle.operations import ListenerOperationError, ListenerOperations
from ga_listener.transport.errors import ConfigurationError

if TYPE_CHECKING:  # the client is imported on the first API call: a preview never pays for it
    from ga_listener.api.client import GaClient

__all__ = ["Listener", "ListenerArgs", "ListenerProvider"]

logger = logging.getLogger("ga_listener.resource")

PROVIDER_KEY = "__provider"
PROVIDER_MAX_ATTEMPTS = 8
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: Properties that only the provider sets; the resource passes them as None so they exist as attributes.
OUTPUT_ONLY = (
    "state", "listener_type", "create_time", "managed_fields", "adopted", "touched_fields", "revision",
    "adoption_id", "origin", "identity",
)

_SETTINGS: weakref.WeakKeyDictionary[ListenerProvider, ProviderSettings] = weakref.WeakKeyDictionary()
_CONFIG_ERRORS: weakref.WeakKeyDictionary[ListenerProvider, ConfigurationError] = weakref.WeakKeyDictionary()
_CLIENTS: dict[ProviderSettings, GaClient] = {}
_CLIENTS_LOCK = threading.Lock()


def is_unknown(value: Any) -> bool:
    """True when ``value`` is, or contains, a value not known until the deployment runs."""
    if isinstance(value, Unknown) or value == UNKNOWN_SENTINEL:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(item) for item in value)
    return False


def _log_to_stderr(level: str) -> None:
    """Send ga_listener's log records to stderr, which the Pulumi CLI shows (the host has no engine logger)."""
    package_logger = logging.getLogger("ga_listener")
    package_logger.setLevel(level.upper())
    if not any(getattr(h, "ga_listener", False) for h in package_logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("ga-listener %(levelname)s %(name)s: %(message)s"))
        handler.ga_listener = True  # type: ignore[attr-defined]
        package_logger.addHandler(handler)


def _stack_config(config: Any) -> Mapping[str, Any]:
    """The stack config as a mapping. The SDK's ``Config`` offers ``get`` but lists no keys; its ``_props`` is the
    whole config (pulumi 3.x). Without it, only the keys the provider reads are fetched (and an unused
    ``alicloud:*`` key goes unwarned)."""
    props = getattr(config, "_props", None)
    if isinstance(props, Mapping):
        return props
    return {key: value for key in KEYS if (value := config.get(key)) is not None}


def _user_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY and not (k in OUTPUT_ONLY and v is None)}




def _text(value: Any) -> str | None:
    """A known, non-empty text input, else ``None``."""
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def _is_get(props: Mapping[str, Any]) -> bool:
    """A read for ``Listener.get`` carries the program's (empty) inputs; a refresh carries recorded outputs."""
    return props.get("state") is None and not props.get("adoption_id")


def _check_failure(violation: Violation, inputs: Mapping[str, Any]) -> CheckFailure:
    """A violation under its top-level property, the path inside it in the reason: the CLI prints the value of
    the input named by the failure's property, and knows no paths (``port_ranges[1]`` would print ``<nil>``)."""
    top = violation.path if violation.path in inputs else violation.path.split("[", 1)[0].split(".", 1)[0]
    reason = violation.reason if top == violation.path else f"{violation.path} {violation.reason}"
    return CheckFailure(top, reason)


def _parse(props: Mapping[str, Any]) -> ListenerConfig:
    config, violations = validate_inputs(_user_inputs(props), is_unknown=is_unknown)
    if config is None:
        problems = "; ".join(f"{v.path}: {v.reason}" for v in violations) or "some inputs are not known yet"
        raise ListenerOperationError(f"invalid listener inputs: {problems}")
    return config


class ListenerProvider(ResourceProvider):
    """Dynamic provider for GA listeners. No constructor arguments; holds no credentials, sessions or clients."""

    def configure(self, req: ConfigureRequest) -> None:
        """Read the stack configuration (and environment) once per provider host process.

        A bad setting does not raise here (that would turn every check into a traceback): check reports it as a
        failure naming the key, and any API call raises it.
        """
        try:
            settings = ProviderSettings.from_config(_stack_config(req.config))
        except ConfigurationError as error:
            _CONFIG_ERRORS[self] = error
            return
        _SETTINGS[self] = settings
        _log_to_stderr(settings.log_level or "warning")  # warnings always reach the CLI's output

    def _operations(self) -> ListenerOperations:
        from ga_listener.api.client import GaClient, RetryPolicy
        from ga_listener.auth.credentials import resolve_credentials

        if self in _CONFIG_ERRORS:
            raise _CONFIG_ERRORS[self]
        settings = _SETTINGS.get(self) or ProviderSettings.from_config({})
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(settings)
            if client is None:
                credentials = resolve_credentials(config=dict(settings.credential_config))
                # More attempts than a library default: an infrastructure run would rather wait out a bad minute
                # of throttling or dropped connections than fail (every write carries its ClientToken).
                client = GaClient(
                    settings.endpoint, credentials=credentials, signature_version=settings.signature_version,
                    retry=RetryPolicy(max_attempts=PROVIDER_MAX_ATTEMPTS),
                )
                _CLIENTS[settings] = client
        return ListenerOperations(client, wait_timeout=settings.wait_timeout,
                                  create_visibility_timeout=settings.create_visibility_timeout)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input that is known; report all violations by property path. Never raises.

        Also notes that the program holds this resource and the listener it names (see
        :mod:`ga_listener.lifecycle.program`).
        """
        inputs = _user_inputs(news)
        program.checked(_text(inputs.get("resource_key")), _text(inputs.get("listener_id")))
        failures = [CheckFailure(key, "is an output of the listener and cannot be set")
                    for key in OUTPUT_ONLY if inputs.pop(key, None) is not None]
        if self in _CONFIG_ERRORS:  # under no property: the CLI would print the value of an input of that name
            failures.append(CheckFailure("", str(_CONFIG_ERRORS[self])))
        settings = _SETTINGS.get(self)
        try:
            config, violations = validate_inputs(inputs, is_unknown=is_unknown,
                                                 max_ports=settings.max_listener_ports if settings else None)
        except Exception as error:
            return CheckResult(news, [CheckFailure("", f"could not validate the inputs: {error!r}")])
        failures += [_check_failure(v, inputs) for v in violations]
        if config is None or failures:
            return CheckResult(news, failures)
        if switches_to_https_without_certificate(olds, config):
            return CheckResult(news, [CheckFailure("certificates", "is required to switch the listener to https "
                                                                   "(its default certificate)")])
        if config.protocol == "udp" and config.client_affinity == "SOURCE_IP":
            logger.warning("client_affinity SOURCE_IP on udp: the service may not keep it, so ga-listener treats "
                           "NONE and SOURCE_IP as equal for udp listeners")
        normalized = {"listener_id": config.listener_id, "accelerator_id": config.accelerator_id,
                      "region_id": config.region_id, "on_delete": config.deletion,
                      "resource_key": config.resource_key, **desired_values(config)}
        return CheckResult({k: v for k, v in normalized.items() if v is not None}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the managed properties with the last outputs; another listener or accelerator replaces.

        Replacements release or delete the old listener first, except a created listener moving to another
        accelerator (they cannot conflict): ports are unique per accelerator, so a replacement on the same one
        could not be created beside the old listener, and a restore must never undo a new adoption.
        """
        inputs = _user_inputs(news)
        replace = replacement(inputs, olds, is_unknown)
        program.diffed(_text(inputs.get("resource_key")), _text(olds.get("adoption_id")), _id, keeps=replace is None)
        if replace is not None:
            return DiffResult(changes=True, replaces=[replace.because_of], delete_before_replace=replace.delete_first)
        if is_unknown(inputs):
            return DiffResult(changes=True, replaces=[], delete_before_replace=True)
        config, _ = validate_inputs(inputs)
        if config is None:
            return DiffResult(changes=True, replaces=[], delete_before_replace=True)
        wanted = desired_values(config)
        book = Bookkeeping.from_outputs(olds)
        identity = "accelerator_id" if config.creates else "listener_id"
        changes = (
            bool(changed_fields(wanted, olds))
            or sorted(wanted) != sorted(book.managed)
            or config.deletion != book.on_delete
            or identity != book.identity
        )
        return DiffResult(changes=changes, replaces=[], delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopt the listener named by ``listener_id``, or create one on ``accelerator_id``; apply the inputs."""
        config = _parse(props)
        operations = self._operations()
        outputs = operations.create(config) if config.creates else operations.adopt(config)
        return CreateResult(str(outputs["listener_id"]), outputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send one UpdateListener with what changed (built from a fresh read), then wait until the listener
        is active and shows it."""
        return UpdateResult(self._operations().update(id_, olds, _parse(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Read the live listener (refresh, ``Listener.get``).

        Refresh of a listener that no longer exists answers an empty id, which drops it from the stack. A
        ``Listener.get`` of one raises instead: the engine judges a read by its outputs, which the host always
        sends (with ``__provider``), so an empty answer would hand the program a listener with empty outputs.
        """
        outputs = self._operations().refresh(id_, props)
        if outputs is None:
            if _is_get(props):
                raise ListenerOperationError(f"Listener.get: listener {id_} does not exist (NotExist.Listener); "
                                             "check the id")
            return ReadResult("", {})
        return ReadResult(id_, outputs, refreshed_inputs(outputs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Release the listener as ``on_delete`` says: ``retain`` leaves it, ``restore`` puts back its adopted
        configuration, ``delete`` deletes it."""
        self._operations().release(id_, props)


@dataclass
class ListenerArgs:
    """Typed inputs of :class:`Listener` (the keyword arguments of its constructor, as one object). Use keywords:
    the field order is not part of the contract. Give exactly one of ``listener_id`` and ``accelerator_id``."""

    port_ranges: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[int]]]]]
    protocol: pulumi.Input[str]
    listener_id: pulumi.Input[str] | None = None
    accelerator_id: pulumi.Input[str] | None = None
    name: pulumi.Input[str] | None = None
    description: pulumi.Input[str] | None = None
    client_affinity: pulumi.Input[str] | None = None
    proxy_protocol: pulumi.Input[bool] | None = None
    certificates: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[str]]]]] | None = None
    backend_ports: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[int]]]]] | None = None
    idle_timeout: pulumi.Input[int] | None = None
    request_timeout: pulumi.Input[int] | None = None
    http_version: pulumi.Input[str] | None = None
    security_policy_id: pulumi.Input[str] | None = None
    forwarded_for_config: pulumi.Input[Mapping[str, pulumi.Input[bool]]] | None = None
    region_id: pulumi.Input[str] = "cn-hangzhou"
    on_delete: pulumi.Input[str] | None = None


class Listener(pulumi.dynamic.Resource, module="alicloud-ga", name="Listener"):
    """A Global Accelerator listener kept at the configuration given: an existing one adopted by ``listener_id``,
    or one created on ``accelerator_id``.

    ``pulumi destroy`` deletes a created listener (``on_delete="delete"``, its default) and releases an adopted
    one (``retain``, the default, leaves it as it is; ``restore`` first puts back what it had when adopted;
    ``delete`` deletes it).
    """

    listener_id: pulumi.Output[str]
    accelerator_id: pulumi.Output[str]
    state: pulumi.Output[str]
    protocol: pulumi.Output[str]
    port_ranges: pulumi.Output[list[dict[str, int]]]
    name: pulumi.Output[str | None]
    description: pulumi.Output[str | None]
    client_affinity: pulumi.Output[str]
    proxy_protocol: pulumi.Output[bool | None]
    certificates: pulumi.Output[list[dict[str, str]] | None]
    backend_ports: pulumi.Output[list[dict[str, int]] | None]
    idle_timeout: pulumi.Output[int | None]
    request_timeout: pulumi.Output[int | None]
    http_version: pulumi.Output[str | None]
    security_policy_id: pulumi.Output[str | None]
    forwarded_for_config: pulumi.Output[dict[str, bool] | None]
    region_id: pulumi.Output[str]
    on_delete: pulumi.Output[str]
    listener_type: pulumi.Output[str | None]
    create_time: pulumi.Output[Any]
    managed_fields: pulumi.Output[list[str]]
    adopted: pulumi.Output[dict[str, Any]]
    touched_fields: pulumi.Output[list[str]]
    revision: pulumi.Output[int]
    adoption_id: pulumi.Output[str]
    origin: pulumi.Output[str]
    identity: pulumi.Output[str]
    resource_key: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: ListenerArgs | pulumi.ResourceOptions | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        listener_id: pulumi.Input[str] | None = None,
        accelerator_id: pulumi.Input[str] | None = None,
        port_ranges: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[int]]]]] | None = None,
        protocol: pulumi.Input[str] | None = None,
        name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        client_affinity: pulumi.Input[str] | None = None,
        proxy_protocol: pulumi.Input[bool] | None = None,
        certificates: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[str]]]]] | None = None,
        backend_ports: pulumi.Input[Sequence[pulumi.Input[Mapping[str, pulumi.Input[int]]]]] | None = None,
        idle_timeout: pulumi.Input[int] | None = None,
        request_timeout: pulumi.Input[int] | None = None,
        http_version: pulumi.Input[str] | None = None,
        security_policy_id: pulumi.Input[str] | None = None,
        forwarded_for_config: pulumi.Input[Mapping[str, pulumi.Input[bool]]] | None = None,
        region_id: pulumi.Input[str] | None = None,
        on_delete: pulumi.Input[str] | None = None,
    ) -> None:
        """Adopt a listener (``listener_id``) or create one (``accelerator_id``): pass a :class:`ListenerArgs`, or
        its fields as keyword arguments (which win).

        As in generated Pulumi SDKs, the options may come second: ``Listener("web", opts, listener_id=...)``.
        Inputs left unset are unmanaged. Invalid inputs fail ``pulumi preview``, naming the property. A
        replacement releases (or deletes) the old listener before taking the new one
        (``delete_before_replace``), unless ``opts`` says otherwise.
        """
        if isinstance(args, pulumi.ResourceOptions):
            if opts is not None:
                raise TypeError("Listener() got resource options twice (second argument and opts=)")
            args, opts = None, args
        keywords = {
            "listener_id": listener_id, "accelerator_id": accelerator_id, "port_ranges": port_ranges,
            "protocol": protocol, "name": name, "description": description, "client_affinity": client_affinity,
            "proxy_protocol": proxy_protocol, "certificates": certificates, "backend_ports": backend_ports,
            "idle_timeout": idle_timeout, "request_timeout": request_timeout, "http_version": http_version,
            "security_policy_id": security_policy_id, "forwarded_for_config": forwarded_for_config,
            "region_id": region_id, "on_delete": on_delete,
        }
        # Every input and output name must be a key of props for its attribute to exist on the resource.
        props: dict[str, Any] = dict.fromkeys([*OUTPUT_ONLY, *keywords, "resource_key"])
        props.update(region_id="cn-hangzhou")
        if args is not None:  # not dataclasses.asdict: it would deep-copy the Outputs inside
            props.update({f.name: getattr(args, f.name) for f in fields(args)})
        props.update({key: value for key, value in keywords.items() if value is not None})
        if props["listener_id"] is not None or props["accelerator_id"] is not None:  # not for Listener.get
            # The host gets no URN, and its get_stack() is not ours: the key seeds a create's idempotency token and
            # tells a replacement's delete from a removed resource's (ga_listener.lifecycle.program).
            props["resource_key"] = f"{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}"
        # A default the user's own option overrides: without it, --target-replace and replaceWith (which never ask
        # the provider) would create the replacement first and then release the old resource over it.
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(delete_before_replace=True), opts)
        super().__init__(ListenerProvider(), resource_name, props, opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Listener:
        """Read an existing listener's live state into the program, without managing it; fails (naming the id)
        when no such listener exists."""
        return Listener(resource_name, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id)))
