"""What adopt, create, update, refresh and release do to a listener: API calls in order, without Pulumi.

:class:`ListenerOperations` turns a plan (:mod:`ga_listener.plan`) into signed calls through a client and waits
with :mod:`ga_listener.waiter`. Three rules hold for every write:

* it is built from the listener as read just before it (:func:`ga_listener.plan.write_values`), never from what
  an earlier ``up`` recorded, so that nothing changed in the console since is undone;
* it is finished when the listener is active *and shows what was written*: the service is eventually
  consistent, and outputs recording old values would make the next preview send the change again;
* changes to listeners of one accelerator are serialized inside the process (the service allows one change per
  accelerator at a time, and the provider host runs four threads); the locks live at module level because one
  host process can hold two provider instances.

A listener answered ``UnknownError`` is looked up with ListListeners on its accelerator: not listed means gone.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn, Protocol, TypeVar

from ga_listener import claims, plan
from ga_listener.errors import (
    ApiError,
    DeadlineExceededError,
    GaListenerError,
    ListenerInUseError,
    ListenerNotFoundError,
    PortConflictError,
)
from ga_listener.models import ListenerConfig
from ga_listener.plan import Bookkeeping
from ga_listener.settings import DEFAULT_CREATE_VISIBILITY_TIMEOUT
from ga_listener.waiter import Answer, WaitTimeoutError, wait_until

__all__ = ["ListenerOperationError", "ListenerOperations"]

logger = logging.getLogger("ga_listener.operations")
_LOCKS_GUARD = threading.Lock()
_ACCELERATOR_LOCKS: dict[str, threading.RLock] = {}
T = TypeVar("T")
#: The share of a create's wait that a listener may stay invisible before its create counts as a replay of a
#: deleted listener: the rest is left for the fresh create to be seen.
INVISIBLE_SHARE = 0.9


def accelerator_lock(accelerator_id: str) -> threading.RLock:
    """The process-wide lock that serializes changes to listeners of one accelerator (re-entrant: undoing a
    failed create deletes while the create still holds it)."""
    with _LOCKS_GUARD:
        return _ACCELERATOR_LOCKS.setdefault(accelerator_id, threading.RLock())


class ListenerOperationError(GaListenerError):
    """A provider operation failed; the message says what was done and what the user should do."""


class _NeverSeen(Exception):
    """A created listener stayed invisible longer than a real create takes to show: the ClientToken replayed
    a create whose listener has been deleted since."""


class Client(Protocol):
    """The part of :class:`ga_listener.client.GaClient` the operations use."""

    def describe_listener(self, listener_id: str, *, deadline: float | None = None,
                          unknown_error_attempts: int | None = 3) -> dict[str, Any]: ...

    def list_listeners(self, accelerator_id: str, *, page_size: int = 50,
                       deadline: float | None = None) -> list[dict[str, Any]]: ...

    def update_listener(
        self, listener_id: str, changes: Mapping[str, Any], *, client_token: str,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]: ...

    def create_listener(
        self, accelerator_id: str, config: Mapping[str, Any], *, client_token: str | None = None,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]: ...

    def delete_listener(
        self, accelerator_id: str, listener_id: str, *, client_token: str | None = None,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]: ...


@dataclass
class ListenerOperations:
    """Adopt, create, update, refresh and release listeners through ``client``.

    Each write and the wait after it share one deadline, ``wait_timeout`` seconds from the write's start. A
    created listener that stays invisible for ``create_visibility_timeout`` seconds counts as the replay of a
    deleted listener's create (see :meth:`create`).
    """

    client: Client
    wait_timeout: float
    create_visibility_timeout: float = DEFAULT_CREATE_VISIBILITY_TIMEOUT

    # --- reading ---------------------------------------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self.wait_timeout

    def _read(self, listener_id: str, accelerator_id: str | None, deadline: float) -> Answer:
        """The listener now, or ``None`` when it does not exist: ``NotExist.Listener``, or ``UnknownError`` (which
        Terraform reads as not found too) while ListListeners of its accelerator does not list it."""
        try:
            return self.client.describe_listener(listener_id, deadline=deadline)
        except ListenerNotFoundError:
            return None
        except GaListenerError as error:
            if _code(error) != "UnknownError" or not accelerator_id:
                raise
        listed = self.client.list_listeners(accelerator_id, deadline=deadline)
        return next((item for item in listed if item.get("ListenerId") == listener_id), None)

    def _await(self, listener_id: str, accelerator_id: str | None, deadline: float, *,
               done: Callable[[Answer], bool], what: str) -> Answer:
        return wait_until(lambda poll_deadline: self._read(listener_id, accelerator_id, poll_deadline),
                          done=done, status=_status, what=what,
                          timeout=max(deadline - time.monotonic(), 0.001))

    def _await_visible(self, listener_id: str, accelerator_id: str, sent: Mapping[str, Any],
                       deadline: float) -> Mapping[str, Any]:
        """Wait until the listener is active and shows every value in ``sent`` (canonical)."""
        def done(answer: Answer) -> bool:
            if answer is None:
                raise ListenerNotFoundError("NotExist.Listener", f"listener {listener_id} vanished during the "
                                            "wait", action="DescribeListener")
            return _active(answer) and not plan.not_visible(sent, plan.live_from_api(answer))

        what = f"listener {listener_id} to be active with {', '.join(sorted(sent)) or 'its state'} as written"
        answer = self._await(listener_id, accelerator_id, deadline, done=done, what=what)
        assert answer is not None
        return answer

    def _settled(self, listener_id: str, accelerator_id: str, found: Mapping[str, Any]) -> Mapping[str, Any]:
        """``found`` if the listener is active in it, else the answer of waiting until it is."""
        return found if _active(found) else self._await_visible(listener_id, accelerator_id, {}, self._deadline())

    # --- writing ---------------------------------------------------------------------------------------------

    def _values(self, listener_id: str, changed: Mapping[str, Any], desired: Mapping[str, Any],
                live: Mapping[str, Any]) -> dict[str, Any]:
        """What a write applying ``changed`` to the ``live`` listener carries (see ``plan.write_values``)."""
        values, warnings = plan.write_values(changed, desired, live)
        for warning in warnings:
            logger.warning("listener %s: %s", listener_id, warning)
        return values

    def _send(self, listener_id: str, values: Mapping[str, Any], token_of: Callable[[Mapping[str, Any]], str]) -> float:
        """One UpdateListener carrying ``values``; returns the deadline it and the wait after it share. A
        listener or accelerator still busy (NotActive / StateError) is retried until that deadline."""
        params = plan.api_params(values, values)
        deadline = self._deadline()
        self.client.update_listener(listener_id, params, client_token=token_of(params),
                                    retry_transient_states=True, deadline=deadline)
        return deadline

    def _write(self, listener_id: str, accelerator_id: str, changed: Mapping[str, Any], *,
               desired: Mapping[str, Any], live: Mapping[str, Any],
               token_of: Callable[[Mapping[str, Any]], str]) -> tuple[Mapping[str, Any], list[str]]:
        """One UpdateListener applying ``changed`` to the ``live`` listener; returns the answer showing it and
        the properties the write changed (those ``changed`` names, and any a protocol switch moved too)."""
        values = self._values(listener_id, changed, desired, live)
        deadline = self._send(listener_id, values, token_of)
        return self._await_visible(listener_id, accelerator_id, values, deadline), plan.changed_fields(values, live)

    # --- adopt -------------------------------------------------------------------------------------------------

    def adopt(self, config: ListenerConfig) -> dict[str, Any]:
        """Take over an existing listener: remember what it had, apply ``config``, return the outputs.

        Transactional: if anything fails after the write, the adopted configuration is put back (best effort)
        so that a retried create snapshots the listener's true original configuration.
        """
        listener_id = str(config.listener_id)
        # Its accelerator is not known yet, so an UnknownError cannot be confirmed with ListListeners: retried
        # like any server error.
        found = _guard("adopt", listener_id, lambda: self.client.describe_listener(
            listener_id, deadline=self._deadline(), unknown_error_attempts=None))
        _refuse_service_managed(found, "Update", "adopt")
        accelerator_id = str(found.get("AcceleratorId", ""))
        with accelerator_lock(accelerator_id):
            body = _guard("adopt", listener_id, lambda: self._settled(listener_id, accelerator_id, found))
            adopted = plan.live_from_api(body)
            wanted = plan.desired_values(config)
            book = Bookkeeping.adopting(wanted, config.deletion, adopted)
            changed = plan.changed_fields(wanted, adopted)
            if changed:
                _refuse_https_without_certificate(listener_id, wanted, adopted)
                body, written = self._apply_or_roll_back(listener_id, accelerator_id, wanted=wanted,
                                                         adopted=adopted, changed=changed, book=book)
                book = book.applied(written)
        claims.claim(listener_id, book.adoption_id)
        return plan.build_outputs(plan.live_from_api(body), book)

    def _apply_or_roll_back(self, listener_id: str, accelerator_id: str, *, wanted: Mapping[str, Any],
                            adopted: Mapping[str, Any], changed: list[str],
                            book: Bookkeeping) -> tuple[Mapping[str, Any], list[str]]:
        values = self._values(listener_id, {name: wanted[name] for name in changed}, wanted, adopted)
        written = plan.changed_fields(values, adopted)
        try:
            deadline = self._send(listener_id, values,
                                  lambda params: plan.client_token(listener_id, "adopt", book, params))
        except GaListenerError as error:
            if not _may_have_applied(error):  # the service refused the change: nothing to put back
                raise _failure("adopt", listener_id, error) from None
            self._roll_back(listener_id, accelerator_id, adopted, written, error)
        try:
            return self._await_visible(listener_id, accelerator_id, values, deadline), written
        except GaListenerError as error:  # the write was accepted: whatever failed since, put it back
            self._roll_back(listener_id, accelerator_id, adopted, written, error)

    def _roll_back(self, listener_id: str, accelerator_id: str, adopted: Mapping[str, Any], written: list[str],
                   cause: GaListenerError) -> NoReturn:
        originals = {name: adopted[name] for name in written if plan.canonical(name, adopted.get(name)) is not None}
        unrestorable = [name for name in written if name not in originals]
        try:
            live = plan.live_from_api(self._settled(listener_id, accelerator_id, {}))
            never_replayed = f"gal-rollback-{secrets.token_hex(12)}"
            self._write(listener_id, accelerator_id, originals, desired=adopted, live=live,
                        token_of=lambda _params: never_replayed)
            outcome = "the listener was put back to the configuration it had when adopted"
            if unrestorable:
                outcome += f" (except {', '.join(unrestorable)}: the API cannot clear a value it did not have)"
        except GaListenerError as error:
            outcome = (f"putting back its adopted configuration failed too ({error}); check the listener before "
                       "retrying, since a retried adopt records what it finds as the original")
        raise ListenerOperationError(
            f"adopting listener {listener_id} failed after its change was sent: {cause}; {outcome}."
        ) from None

    # --- create ------------------------------------------------------------------------------------------------

    def create(self, config: ListenerConfig) -> dict[str, Any]:
        """Create a listener on ``config.accelerator_id`` and wait until it is active and shows ``config``.

        CreateListener carries what it can (:data:`ga_listener.plan.CREATE_FIELDS`); one UpdateListener applies the
        rest. Its ClientToken derives from the resource key, the accelerator and the configuration, so a create
        retried after the provider died replays and yields the listener made the first time, not a second one.
        A replay can also yield a listener deleted since (a destroy, then an up of the same stack, within the
        service's token retention): a listener this process deleted, or one still invisible after
        ``create_visibility_timeout`` seconds, is such a replay, and the create is made afresh with a token that
        cannot replay. If the follow-up update fails, the new listener is deleted again (nothing half-applied).
        """
        accelerator_id = str(config.accelerator_id)
        wanted = plan.desired_values(config)
        initial = {name: value for name, value in wanted.items() if name in plan.CREATE_FIELDS}
        params = plan.api_params(initial, initial)  # what CreateListener can carry; an update after it the rest
        key = config.resource_key
        token = plan.create_token(key, accelerator_id, params) if key else _fresh_create_token()
        with accelerator_lock(accelerator_id):
            listener_id, body, fresh = self._create(accelerator_id, params, token)
            book = Bookkeeping.creating(wanted, config.deletion, key)
            live = plan.live_from_api(body)
            changed = plan.changed_fields(wanted, live)
            if changed:
                try:
                    body, written = self._write(
                        listener_id, accelerator_id, {name: wanted[name] for name in changed}, desired=wanted,
                        live=live, token_of=lambda update: plan.client_token(listener_id, "create", book, update))
                except GaListenerError as error:
                    self._undo_create(listener_id, accelerator_id, book, error, fresh=fresh)
                book = book.applied(written)
        claims.claim(listener_id, book.adoption_id)
        return plan.build_outputs(plan.live_from_api(body), book)

    def _create(self, accelerator_id: str, params: Mapping[str, Any],
                token: str) -> tuple[str, Mapping[str, Any], bool]:
        """CreateListener, then wait until the listener is active; ``(id, answer, fresh)``, where ``fresh`` is
        false when the token replayed a create whose listener existed already (it was active at once)."""
        for _ in range(2):
            deadline = self._deadline()
            try:
                answer = self.client.create_listener(accelerator_id, params, client_token=token,
                                                     retry_transient_states=True, deadline=deadline)
            except GaListenerError as error:
                raise _create_failure(accelerator_id, error) from None
            listener_id = str(answer.get("ListenerId", ""))
            if claims.deleted_here(listener_id):
                logger.info("the create on %s replayed listener %s, deleted in this deployment: creating afresh",
                            accelerator_id, listener_id)
            else:
                try:
                    body, fresh = self._await_created(listener_id, accelerator_id, deadline)
                    return listener_id, body, fresh
                except _NeverSeen as never:
                    logger.warning(
                        "listener %s, answered by the create on %s, stayed invisible for %.0f s: its ClientToken "
                        "replayed a create whose listener was deleted since; creating afresh", listener_id,
                        accelerator_id, never.args[0])
                except GaListenerError as error:
                    raise ListenerOperationError(
                        f"listener {listener_id} was created on {accelerator_id} but did not settle: {error}. "
                        "Running the same `pulumi up` again picks it up (same ClientToken); with changed inputs, "
                        "delete it first.") from None
            token = _fresh_create_token()
        raise ListenerOperationError(f"creating a listener on {accelerator_id} failed: the listener answered by "
                                     "a fresh create never became visible either")

    def _await_created(self, listener_id: str, accelerator_id: str,
                       deadline: float) -> tuple[Mapping[str, Any], bool]:
        """Wait until the new listener is seen active; returns it and whether it was fresh (first seen missing or
        still ``init``). Not found right after a create means "not there yet", for ``create_visibility_timeout``
        (at most ``INVISIBLE_SHARE`` of the wait, so a replay is recognised before the deadline). What the create
        set need not show yet: the caller compares and writes what differs (a replay may answer with a listener
        changed since)."""
        window = min(self.create_visibility_timeout, INVISIBLE_SHARE * max(deadline - time.monotonic(), 0.0))
        invisible_until = time.monotonic() + window
        first: list[Answer] = []
        seen = False

        def done(answer: Answer) -> bool:
            nonlocal seen
            if not first:
                first.append(answer)
            seen = seen or answer is not None
            if answer is None:
                if time.monotonic() > invisible_until:
                    raise _NeverSeen(window)
                return False
            return _active(answer)

        try:
            answer = self._await(listener_id, accelerator_id, deadline, done=done,
                                 what=f"new listener {listener_id} to be active")
        except WaitTimeoutError:
            if not seen:  # the whole wait without a sighting: the same verdict
                raise _NeverSeen(window) from None
            raise
        assert answer is not None
        fresh = first[0] is None or str(first[0].get("State", "")).lower() == "init"
        return answer, fresh

    def _undo_create(self, listener_id: str, accelerator_id: str, book: Bookkeeping, cause: GaListenerError, *,
                     fresh: bool) -> NoReturn:
        if not fresh:  # the token replayed a listener an earlier run made (and maybe kept on purpose): keep it
            raise ListenerOperationError(
                f"creating a listener on {accelerator_id} failed: its ClientToken replayed listener {listener_id}, "
                f"made by an earlier run, which could not be brought to this configuration ({cause}); it was left "
                "as it is.") from None
        try:
            self._delete(listener_id, accelerator_id, book)
            outcome = f"listener {listener_id} was deleted again"
        except GaListenerError as error:
            outcome = f"deleting listener {listener_id} again failed too ({error}): delete it before retrying"
        raise ListenerOperationError(f"creating a listener on {accelerator_id} failed after the create: {cause}; "
                                     f"{outcome}.") from None

    # --- update and refresh ------------------------------------------------------------------------------------

    def update(self, listener_id: str, olds: Mapping[str, Any], config: ListenerConfig) -> dict[str, Any]:
        """Apply what changed since ``olds`` (the last outputs) with one UpdateListener; return new outputs.

        When only bookkeeping changed (``on_delete``, the set of managed properties, how the program names the
        listener) no API call is made.
        """
        wanted = plan.desired_values(config)
        old_book = Bookkeeping.from_outputs(olds)
        book = replace(old_book, managed=tuple(sorted(wanted)), on_delete=config.deletion,
                       identity="accelerator_id" if config.creates else "listener_id",
                       resource_key=config.resource_key or old_book.resource_key)
        changed = plan.changed_fields(wanted, olds)
        if not changed:
            return plan.build_outputs(olds, book)
        accelerator_id = str(olds.get("accelerator_id", ""))
        next_revision = book.applied(changed)  # the revision the change's ClientToken is derived from

        def apply() -> tuple[Mapping[str, Any], list[str]]:
            found = self._read(listener_id, accelerator_id, self._deadline())  # live, just before the write
            if found is None:
                raise ListenerNotFoundError("NotExist.Listener", f"listener {listener_id} does not exist",
                                            action="DescribeListener")
            body = self._settled(listener_id, accelerator_id, found)
            _refuse_service_managed(body, "Update", "update")
            live = plan.live_from_api(body)
            _refuse_https_without_certificate(listener_id, wanted, live)
            return self._write(listener_id, accelerator_id, {name: wanted[name] for name in changed}, desired=wanted,
                               live=live, token_of=lambda params: plan.client_token(listener_id, "update",
                                                                                     next_revision, params))

        with accelerator_lock(accelerator_id):
            body, written = _guard("update", listener_id, apply)
        return plan.build_outputs(plan.live_from_api(body), book.applied(written))

    def refresh(self, listener_id: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The live listener as outputs, keeping the bookkeeping of ``props``; ``None`` when it is gone."""
        accelerator_id = str(props.get("accelerator_id") or "") or None
        body = _guard("refresh", listener_id, lambda: self._read(listener_id, accelerator_id, self._deadline()))
        if body is None:
            return None
        live = plan.live_from_api(body)
        book = Bookkeeping.from_outputs(props)
        if not book.adopted and not book.created:  # Listener.get: nothing was adopted, so the listener as it is
            book = replace(book, adopted={name: live.get(name) for name in plan.MANAGED_FIELDS})
        return plan.build_outputs(live, book)

    # --- release -----------------------------------------------------------------------------------------------

    def release(self, listener_id: str, props: Mapping[str, Any]) -> None:
        """Let go of the listener as ``on_delete`` says: ``retain`` leaves it; ``restore`` puts back what it had
        when adopted, for every property this resource managed or wrote and nobody changed since this resource
        last recorded it; ``delete`` deletes it and waits until it is gone. A listener already gone is released;
        so is one that another resource took over in this provider process (a rename without an alias, a
        create-before-delete replacement), which is left alone."""
        book = Bookkeeping.from_outputs(props)
        if book.on_delete == "retain":
            claims.forget(listener_id, book.adoption_id)
            return
        if claims.claimed_by_another(listener_id, book.adoption_id):
            logger.warning("listener %s was taken over by another resource in this deployment (a rename without "
                           "an alias, or a replacement): it is left as that resource configured it, not %s",
                           listener_id, "deleted" if book.on_delete == "delete" else "restored")
            return
        accelerator_id = str(props.get("accelerator_id") or "")
        if book.on_delete == "delete":
            _guard("delete", listener_id, lambda: self._delete(listener_id, accelerator_id, book))
        elif book.created:  # named by its id since, with restore: nothing was adopted, so nothing to put back
            logger.warning("listener %s was created by this resource: there is no earlier configuration to restore; "
                           "it is left as it is", listener_id)
            claims.forget(listener_id, book.adoption_id)
        else:
            _guard("restore", listener_id, lambda: self._restore(listener_id, accelerator_id, props, book))
            claims.forget(listener_id, book.adoption_id)

    def _restore(self, listener_id: str, accelerator_id: str, props: Mapping[str, Any], book: Bookkeeping) -> None:
        found = self._read(listener_id, accelerator_id or None, self._deadline())
        if found is None:
            return
        accelerator_id = str(found.get("AcceleratorId", accelerator_id))
        with accelerator_lock(accelerator_id):
            body = self._settled(listener_id, accelerator_id, found)  # read now, not the state recorded at up
            live = plan.live_from_api(body)
            fields = sorted({*book.managed, *book.touched})
            moved = [name for name in fields
                     if plan.changed_fields({name: plan.canonical(name, props.get(name))}, live)]
            _warn_changed_since(listener_id, moved)
            wanted = {name: plan.canonical(name, book.adopted.get(name)) for name in fields if name not in moved}
            _warn_unrestorable(listener_id, [n for n, v in wanted.items() if v is None and live.get(n)])
            originals = {name: value for name, value in wanted.items() if value is not None}
            changed = plan.changed_fields(originals, live)
            if changed:
                _refuse_service_managed(body, "Update", "restore")
                self._write(listener_id, accelerator_id, {name: originals[name] for name in changed},
                            desired={**live, **originals}, live=live,
                            token_of=lambda params: plan.client_token(listener_id, "restore", book, params))

    def _delete(self, listener_id: str, accelerator_id: str, book: Bookkeeping) -> None:
        """DeleteListener, then wait until the listener is gone."""
        found = self._read(listener_id, accelerator_id or None, self._deadline())
        if found is None:
            claims.mark_deleted(listener_id)
            return
        _refuse_service_managed(found, "Delete", "delete")
        accelerator_id = str(found.get("AcceleratorId") or accelerator_id)
        with accelerator_lock(accelerator_id):
            deadline = self._deadline()
            try:
                self.client.delete_listener(accelerator_id, listener_id, retry_transient_states=True, deadline=deadline,
                                            client_token=plan.client_token(listener_id, "delete", book, {}))
            except ListenerNotFoundError:
                claims.mark_deleted(listener_id)
                return
            self._await(listener_id, accelerator_id, deadline, done=lambda answer: answer is None,
                        what=f"listener {listener_id} to be deleted")
            claims.mark_deleted(listener_id)


# --- helpers -----------------------------------------------------------------------------------------------------


def _active(answer: Mapping[str, Any]) -> bool:
    return str(answer.get("State", "")).lower() == "active"


def _status(answer: Answer) -> str:
    if answer is None:
        return "not found"
    return f"'{str(answer.get('State', 'unknown')).lower()}'"


def _code(error: BaseException) -> str:
    cause = error.__cause__ if isinstance(error, DeadlineExceededError) else error
    return str(getattr(cause, "code", ""))


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _fresh_create_token() -> str:
    return f"gal-c-{secrets.token_hex(20)}"


def _guard(operation: str, listener_id: str, step: Callable[[], T]) -> T:
    """Run ``step``; any failure becomes one error that names the operation and the listener."""
    try:
        return step()
    except ListenerOperationError:
        raise
    except ListenerNotFoundError as error:
        if operation != "adopt":
            raise ListenerOperationError(f"{operation} of listener {listener_id} failed: it does not exist any "
                                         f"more; run `pulumi refresh` to drop it from the stack. ({error})") from None
        raise ListenerOperationError(
            f"cannot adopt listener {listener_id}: it does not exist. Check listener_id, or give accelerator_id "
            f"instead to create a listener. ({error})"
        ) from None
    except GaListenerError as error:
        raise _failure(operation, listener_id, error) from None


def _create_failure(accelerator_id: str, error: GaListenerError) -> ListenerOperationError:
    hint = ""
    if isinstance(error, PortConflictError):
        hint = (" If this resource was renamed, add `aliases=[pulumi.Alias(name=\"<old name>\")]` so that Pulumi "
                "keeps the existing listener instead of creating a second one on the same ports; if it is being "
                "replaced, keep delete_before_replace (the default); otherwise choose free ports.")
    return ListenerOperationError(f"creating a listener on {accelerator_id} failed: {error}{hint}")


def _refuse_service_managed(body: Mapping[str, Any], action: str, operation: str) -> None:
    """Listeners managed by another service (``ServiceManaged`` with the action managed) refuse user writes."""
    infos = body.get("ServiceManagedInfos")
    managed = _flag(body.get("ServiceManaged")) and any(
        isinstance(info, Mapping) and info.get("Action") == action and _flag(info.get("IsManaged"))
        for info in (infos if isinstance(infos, list) else []))
    if managed:
        owner = body.get("ServiceId") or "another service"
        raise ListenerOperationError(
            f"cannot {operation} listener {body.get('ListenerId')}: it is managed by {owner}, which does not let "
            f"its user {action.lower()} it. Change it through that service, or leave it out of this stack.")


def _refuse_https_without_certificate(listener_id: str, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> None:
    if wanted.get("protocol") == "https" and live.get("protocol") != "https" and not wanted.get("certificates"):
        raise ListenerOperationError(f"switching listener {listener_id} to https needs its default certificate: "
                                     "set certificates=[{\"id\": ...}]")


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
    if isinstance(error, ListenerInUseError):
        return ListenerOperationError(f"{operation} of listener {listener_id} failed: it still has endpoint groups "
                                      f"or forwarding rules; delete those first, then run again. ({error})")
    return ListenerOperationError(f"{operation} of listener {listener_id} failed: {error}")
