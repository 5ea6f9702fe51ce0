"""What adopt, update, refresh and release do to a listener: API calls in order, without Pulumi.

:class:`ListenerOperations` turns a plan (:mod:`ga_listener.plan`) into signed calls through a client and waits
with :mod:`ga_listener.waiter`. Changes to listeners of one accelerator are serialized inside the process (the
service allows one change per accelerator at a time, and the provider host runs four threads); the locks live
at module level because one host process can hold two provider instances.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ga_listener import plan
from ga_listener.errors import ApiError, DeadlineExceededError, GaListenerError, ListenerNotFoundError
from ga_listener.models import ListenerConfig
from ga_listener.waiter import WaitStats, wait_until_active

__all__ = ["ListenerOperationError", "ListenerOperations"]

_LOCKS_GUARD = threading.Lock()
_ACCELERATOR_LOCKS: dict[str, threading.Lock] = {}


def accelerator_lock(accelerator_id: str) -> threading.Lock:
    """The process-wide lock that serializes changes to listeners of one accelerator."""
    with _LOCKS_GUARD:
        return _ACCELERATOR_LOCKS.setdefault(accelerator_id, threading.Lock())


class ListenerOperationError(GaListenerError):
    """A provider operation failed; the message says what was done and what the user should do."""


class Client(Protocol):
    """The part of :class:`ga_listener.client.GaClient` the operations use."""

    def describe_listener(self, listener_id: str) -> dict[str, Any]: ...

    def update_listener(
        self, listener_id: str, changes: Mapping[str, Any], *, client_token: str,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]: ...


@dataclass
class ListenerOperations:
    """Adopt, update, refresh and release listeners through ``client``; waits give up after ``wait_timeout``."""

    client: Client
    wait_timeout: float
    stats: WaitStats | None = None

    # --- the steps every operation shares -----------------------------------------------------------------

    def _describe(self, listener_id: str) -> Mapping[str, Any]:
        return self.client.describe_listener(listener_id)

    def _wait(self, listener_id: str) -> Mapping[str, Any]:
        return wait_until_active(self.client, listener_id, timeout=self.wait_timeout, stats=self.stats)

    def _send(self, listener_id: str, params: Mapping[str, Any], token: str) -> None:
        # A listener or accelerator still busy (NotActive / StateError) is retried until the wait deadline.
        self.client.update_listener(listener_id, params, client_token=token, retry_transient_states=True,
                                    deadline=time.monotonic() + self.wait_timeout)

    def _write(self, listener_id: str, params: Mapping[str, Any], token: str) -> Mapping[str, Any]:
        """One UpdateListener, then wait until the listener is active again; returns the active answer."""
        self._send(listener_id, params, token)
        return self._wait(listener_id)

    # --- operations ----------------------------------------------------------------------------------------

    def adopt(self, config: ListenerConfig) -> dict[str, Any]:
        """Take over an existing listener: remember what it had, apply ``config``, return the outputs.

        Transactional: if anything fails after the write, the adopted configuration is put back (best effort)
        so that a retried create snapshots the listener's true original configuration.
        """
        listener_id = config.listener_id
        body = self._describe_for("adopt", listener_id)
        with accelerator_lock(str(body.get("AcceleratorId", ""))):
            if str(body.get("State", "")).lower() != "active":
                body = self._wait(listener_id)
            adopted = plan.live_from_api(body)
            wanted = plan.desired_values(config)
            changed = plan.changed_fields(wanted, adopted)
            revision = 0
            if changed:
                params = plan.api_params(wanted, changed)
                token = plan.client_token(listener_id, "adopt", revision + 1, params)
                body = self._apply_or_roll_back(listener_id, params, token, adopted, changed)
                revision += 1
        return plan.build_outputs(
            plan.live_from_api(body), managed=wanted, on_delete=config.on_delete, adopted=adopted,
            revision=revision,
        )

    def update(self, listener_id: str, olds: Mapping[str, Any], config: ListenerConfig) -> dict[str, Any]:
        """Apply what changed since ``olds`` (the last outputs) with one UpdateListener; return new outputs.

        When only bookkeeping changed (``on_delete``, the set of managed properties) no API call is made.
        """
        wanted = plan.desired_values(config)
        changed = plan.changed_fields(wanted, olds)
        revision = int(olds.get("revision") or 0)
        live: Mapping[str, Any] = olds
        if changed:
            params = plan.api_params(wanted, changed)
            revision += 1
            token = plan.client_token(listener_id, "update", revision, params)
            with accelerator_lock(str(olds.get("accelerator_id", ""))):
                body = self._guard("update", listener_id, lambda: self._write(listener_id, params, token))
            live = plan.live_from_api(body)
        live_only = {k: v for k, v in live.items() if k not in plan.BOOKKEEPING}
        return plan.build_outputs(
            live_only, managed=wanted, on_delete=config.on_delete, adopted=olds.get("adopted") or {},
            revision=revision,
        )

    def refresh(self, listener_id: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The live listener as outputs, keeping the bookkeeping of ``props``; ``None`` when it is gone."""
        try:
            body = self._describe(listener_id)
        except ListenerNotFoundError:
            return None
        except ApiError as error:
            raise _failure("refresh", listener_id, error) from None
        live = plan.live_from_api(body)
        adopted = props.get("adopted") or {field: live.get(field) for field in plan.MANAGED_FIELDS}
        return plan.build_outputs(
            live, managed=props.get("managed_fields") or (), on_delete=str(props.get("on_delete") or "retain"),
            adopted=adopted, revision=int(props.get("revision") or 0),
        )

    def release(self, listener_id: str, props: Mapping[str, Any]) -> None:
        """Let go of the listener: ``retain`` leaves it as it is; ``restore`` puts back what it had when
        adopted (the managed properties). A listener that is already gone is released."""
        if props.get("on_delete", "retain") != "restore":
            return
        adopted = props.get("adopted") or {}
        try:
            body = self._describe(listener_id)
            with accelerator_lock(str(body.get("AcceleratorId", ""))):
                live = plan.live_from_api(body)
                wanted = {f: plan.canonical(f, adopted.get(f)) for f in props.get("managed_fields") or ()}
                changed = plan.changed_fields({f: v for f, v in wanted.items() if v is not None}, live)
                if not changed:
                    return
                params = plan.api_params(wanted, changed)
                token = plan.client_token(listener_id, "restore", int(props.get("revision") or 0), params)
                if live.get("state") != "active":
                    self._wait(listener_id)
                self._write(listener_id, params, token)
        except ListenerNotFoundError:
            return
        except GaListenerError as error:
            raise _failure("restore", listener_id, error) from None

    # --- failure handling ----------------------------------------------------------------------------------

    def _describe_for(self, operation: str, listener_id: str) -> Mapping[str, Any]:
        try:
            return self._describe(listener_id)
        except ListenerNotFoundError as error:
            raise ListenerOperationError(
                f"cannot {operation} listener {listener_id}: it does not exist. ga-listener adopts existing "
                f"listeners and never creates them: check listener_id, or create the listener first. ({error})"
            ) from None
        except GaListenerError as error:
            raise _failure(operation, listener_id, error) from None

    def _guard(self, operation: str, listener_id: str, step: Any) -> Mapping[str, Any]:
        try:
            result: Mapping[str, Any] = step()
            return result
        except GaListenerError as error:
            raise _failure(operation, listener_id, error) from None

    def _apply_or_roll_back(
        self, listener_id: str, params: Mapping[str, Any], token: str, adopted: Mapping[str, Any],
        changed: list[str],
    ) -> Mapping[str, Any]:
        try:
            self._send(listener_id, params, token)
        except GaListenerError as error:
            if not _may_have_applied(error):  # the service refused the change: nothing to put back
                raise _failure("adopt", listener_id, error) from None
            return self._roll_back(listener_id, adopted, changed, error)
        try:
            return self._wait(listener_id)
        except GaListenerError as error:
            return self._roll_back(listener_id, adopted, changed, error)

    def _roll_back(
        self, listener_id: str, adopted: Mapping[str, Any], changed: list[str], cause: GaListenerError
    ) -> Mapping[str, Any]:
        params = plan.api_params(adopted, changed)
        try:
            self._wait(listener_id)
            self._write(listener_id, params, plan.client_token(listener_id, "rollback", 0, params))
            outcome = "the listener was put back to the configuration it had when adopted"
        except GaListenerError as error:
            outcome = (f"putting back its adopted configuration failed too ({error}); check the listener before "
                       "retrying, since a retried adopt records what it finds as the original")
        raise ListenerOperationError(
            f"adopting listener {listener_id} failed after its change was sent: {cause}; {outcome}."
        ) from None


def _may_have_applied(error: GaListenerError) -> bool:
    """False when the service answered the write with a refusal (4xx): then nothing changed. No answer, a 5xx
    or a deadline spent on either leaves it open whether the change was applied."""
    cause = error.__cause__ if isinstance(error, DeadlineExceededError) else error
    return not (isinstance(cause, ApiError) and 0 < (cause.http_status or 500) < 500)


def _failure(operation: str, listener_id: str, error: GaListenerError) -> ListenerOperationError:
    return ListenerOperationError(f"{operation} of listener {listener_id} failed: {error}")
