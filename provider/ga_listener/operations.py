"""What adopt, update, refresh and release do to a listener: API calls in order, without Pulumi.

:class:`ListenerOperations` turns a plan (:mod:`ga_listener.plan`) into signed calls through a client and waits
with :mod:`ga_listener.waiter`. Changes to listeners of one accelerator are serialized inside the process (the
service allows one change per accelerator at a time, and the provider host runs four threads); the locks live
at module level because one host process can hold two provider instances.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from ga_listener import claims, plan
from ga_listener.errors import ApiError, DeadlineExceededError, GaListenerError, ListenerNotFoundError
from ga_listener.models import ListenerConfig
from ga_listener.plan import Bookkeeping
from ga_listener.waiter import wait_until_active

__all__ = ["ListenerOperationError", "ListenerOperations"]

logger = logging.getLogger("ga_listener.operations")
_LOCKS_GUARD = threading.Lock()
_ACCELERATOR_LOCKS: dict[str, threading.Lock] = {}
T = TypeVar("T")


def accelerator_lock(accelerator_id: str) -> threading.Lock:
    """The process-wide lock that serializes changes to listeners of one accelerator."""
    with _LOCKS_GUARD:
        return _ACCELERATOR_LOCKS.setdefault(accelerator_id, threading.Lock())


class ListenerOperationError(GaListenerError):
    """A provider operation failed; the message says what was done and what the user should do."""


class Client(Protocol):
    """The part of :class:`ga_listener.client.GaClient` the operations use."""

    def describe_listener(self, listener_id: str, *, deadline: float | None = None) -> dict[str, Any]: ...

    def update_listener(
        self, listener_id: str, changes: Mapping[str, Any], *, client_token: str,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]: ...


@dataclass
class ListenerOperations:
    """Adopt, update, refresh and release listeners through ``client``.

    Each write and the wait after it share one deadline, ``wait_timeout`` seconds from the write's start.
    """

    client: Client
    wait_timeout: float

    # --- the steps every operation shares -----------------------------------------------------------------

    def _describe(self, listener_id: str) -> Mapping[str, Any]:
        return self.client.describe_listener(listener_id, deadline=time.monotonic() + self.wait_timeout)

    def _wait(self, listener_id: str, deadline: float) -> Mapping[str, Any]:
        remaining = max(deadline - time.monotonic(), 0.001)
        return wait_until_active(self.client, listener_id, timeout=remaining)

    def _send(self, listener_id: str, params: Mapping[str, Any], token: str, deadline: float) -> None:
        # A listener or accelerator still busy (NotActive / StateError) is retried until the deadline.
        self.client.update_listener(listener_id, params, client_token=token, retry_transient_states=True,
                                    deadline=deadline)

    def _write(self, listener_id: str, params: Mapping[str, Any], token: str) -> Mapping[str, Any]:
        """One UpdateListener, then wait until the listener is active again; returns the active answer."""
        deadline = time.monotonic() + self.wait_timeout
        self._send(listener_id, params, token, deadline)
        return self._wait(listener_id, deadline)

    def _active(self, listener_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """``body`` if the listener is active in it, else the answer of waiting until it is."""
        if str(body.get("State", "")).lower() == "active":
            return body
        return self._wait(listener_id, time.monotonic() + self.wait_timeout)

    # --- operations ----------------------------------------------------------------------------------------

    def adopt(self, config: ListenerConfig) -> dict[str, Any]:
        """Take over an existing listener: remember what it had, apply ``config``, return the outputs.

        Transactional: if anything fails after the write, the adopted configuration is put back (best effort)
        so that a retried create snapshots the listener's true original configuration.
        """
        listener_id = config.listener_id
        found = _guard("adopt", listener_id, lambda: self._describe(listener_id))
        with accelerator_lock(str(found.get("AcceleratorId", ""))):
            body = _guard("adopt", listener_id, lambda: self._active(listener_id, found))
            adopted = plan.live_from_api(body)
            wanted = plan.desired_values(config)
            book = Bookkeeping.adopting(wanted, config.on_delete, adopted)
            changed = plan.changed_fields(wanted, adopted)
            if changed:
                params = plan.api_params(wanted, changed)
                token = plan.client_token(listener_id, "adopt", book, params)
                body = self._apply_or_roll_back(listener_id, params, token, adopted, changed)
                book = book.applied(changed)
        claims.claim(listener_id, book.adoption_id)
        return plan.build_outputs(plan.live_from_api(body), book)

    def update(self, listener_id: str, olds: Mapping[str, Any], config: ListenerConfig) -> dict[str, Any]:
        """Apply what changed since ``olds`` (the last outputs) with one UpdateListener; return new outputs.

        When only bookkeeping changed (``on_delete``, the set of managed properties) no API call is made.
        """
        wanted = plan.desired_values(config)
        book = replace(Bookkeeping.from_outputs(olds), managed=tuple(sorted(wanted)), on_delete=config.on_delete)
        changed = plan.changed_fields(wanted, olds)
        live: Mapping[str, Any] = olds
        if changed:
            params = plan.api_params(wanted, changed)
            book = book.applied(changed)
            token = plan.client_token(listener_id, "update", book, params)
            with accelerator_lock(str(olds.get("accelerator_id", ""))):
                body = _guard("update", listener_id, lambda: self._write(listener_id, params, token))
            live = plan.live_from_api(body)
        return plan.build_outputs(live, book)

    def refresh(self, listener_id: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The live listener as outputs, keeping the bookkeeping of ``props``; ``None`` when it is gone."""
        try:
            body = self._describe(listener_id)
        except ListenerNotFoundError:
            return None
        except GaListenerError as error:
            raise _failure("refresh", listener_id, error) from None
        live = plan.live_from_api(body)
        book = Bookkeeping.from_outputs(props)
        if not book.adopted:  # Listener.get: nothing was adopted, so the listener as it is now
            book = replace(book, adopted={name: live.get(name) for name in plan.MANAGED_FIELDS})
        return plan.build_outputs(live, book)

    def release(self, listener_id: str, props: Mapping[str, Any]) -> None:
        """Let go of the listener: ``retain`` leaves it as it is; ``restore`` puts back what it had when adopted,
        for every property this resource managed or ever wrote and that nobody changed since this resource last
        recorded it. A listener already gone is released; so is one that another resource took over in this
        provider process (a rename without an alias, a create-before-delete replacement), which is left alone."""
        book = Bookkeeping.from_outputs(props)
        if book.on_delete != "restore":
            claims.forget(listener_id, book.adoption_id)
            return
        if claims.claimed_by_another(listener_id, book.adoption_id):
            logger.warning("listener %s was taken over by another resource in this deployment (a rename without "
                           "an alias, or a replacement): it is left as that resource configured it, not restored",
                           listener_id)
            return
        try:
            body = self._describe(listener_id)
            with accelerator_lock(str(body.get("AcceleratorId", ""))):
                live = plan.live_from_api(self._active(listener_id, body))  # a fresh read, not a stale one
                fields = sorted({*book.managed, *book.touched})
                moved = [name for name in fields if plan.changed_fields({name: plan.canonical(name, props.get(name))},
                                                                       live)]
                _warn_changed_since(listener_id, moved)
                wanted = {name: plan.canonical(name, book.adopted.get(name)) for name in fields if name not in moved}
                _warn_unrestorable(listener_id, [n for n, v in wanted.items() if v is None and live.get(n)])
                changed = plan.changed_fields({n: v for n, v in wanted.items() if v is not None}, live)
                if changed:
                    params = plan.api_params(wanted, changed)
                    self._write(listener_id, params, plan.client_token(listener_id, "restore", book, params))
        except ListenerNotFoundError:
            return
        except GaListenerError as error:
            raise _failure("restore", listener_id, error) from None
        finally:
            claims.forget(listener_id, book.adoption_id)

    # --- the transaction of adopt ----------------------------------------------------------------------------

    def _apply_or_roll_back(
        self, listener_id: str, params: Mapping[str, Any], token: str, adopted: Mapping[str, Any],
        changed: list[str],
    ) -> Mapping[str, Any]:
        deadline = time.monotonic() + self.wait_timeout
        try:
            self._send(listener_id, params, token, deadline)
        except GaListenerError as error:
            if not _may_have_applied(error):  # the service refused the change: nothing to put back
                raise _failure("adopt", listener_id, error) from None
            return self._roll_back(listener_id, adopted, changed, error)
        try:
            return self._wait(listener_id, deadline)
        except GaListenerError as error:
            return self._roll_back(listener_id, adopted, changed, error)

    def _roll_back(
        self, listener_id: str, adopted: Mapping[str, Any], changed: list[str], cause: GaListenerError
    ) -> Mapping[str, Any]:
        params = plan.api_params(adopted, changed)
        unrestorable = [name for name in changed if plan.canonical(name, adopted.get(name)) is None]
        try:
            self._wait(listener_id, time.monotonic() + self.wait_timeout)
            self._write(listener_id, params, f"gal-rollback-{secrets.token_hex(12)}")  # never a replay
            outcome = "the listener was put back to the configuration it had when adopted"
            if unrestorable:
                outcome += f" (except {', '.join(unrestorable)}: the API cannot clear a value it did not have)"
        except GaListenerError as error:
            outcome = (f"putting back its adopted configuration failed too ({error}); check the listener before "
                       "retrying, since a retried adopt records what it finds as the original")
        raise ListenerOperationError(
            f"adopting listener {listener_id} failed after its change was sent: {cause}; {outcome}."
        ) from None


def _guard(operation: str, listener_id: str, step: Callable[[], T]) -> T:
    """Run ``step``; any failure becomes one error that names the operation and the listener."""
    try:
        return step()
    except ListenerNotFoundError as error:
        if operation != "adopt":
            raise _failure(operation, listener_id, error) from None
        raise ListenerOperationError(
            f"cannot adopt listener {listener_id}: it does not exist. ga-listener adopts existing listeners and "
            f"never creates them: check listener_id, or create the listener first. ({error})"
        ) from None
    except GaListenerError as error:
        raise _failure(operation, listener_id, error) from None


def _warn_unrestorable(listener_id: str, names: list[str]) -> None:
    if names:
        logger.warning("restore of listener %s leaves %s as they are: the listener had no value for them when "
                       "adopted, and the API cannot clear one", listener_id, ", ".join(names))


def _warn_changed_since(listener_id: str, names: list[str]) -> None:
    if names:
        logger.warning("restore of listener %s leaves %s as they are: they changed since this resource last recorded "
                       "them (refresh, or another owner), and putting back older values would undo that change",
                       listener_id, ", ".join(names))


def _may_have_applied(error: GaListenerError) -> bool:
    """False when the service answered the write with a refusal (4xx): then nothing changed. No answer, a 5xx
    or a deadline spent on either leaves it open whether the change was applied."""
    cause = error.__cause__ if isinstance(error, DeadlineExceededError) else error
    return not (isinstance(cause, ApiError) and 0 < (cause.http_status or 500) < 500)


def _failure(operation: str, listener_id: str, error: GaListenerError) -> ListenerOperationError:
    return ListenerOperationError(f"{operation} of listener {listener_id} failed: {error}")
