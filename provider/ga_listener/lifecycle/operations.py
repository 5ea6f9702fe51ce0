"""What adopt, update, refresh and release do to a listener (and, through :mod:`ga_listener.lifecycle.creation`,
create): API calls in order, without Pulumi.

:class:`ListenerOperations` turns a plan (:mod:`ga_listener.config.plan`) into signed calls through a client and waits
with :mod:`ga_listener.lifecycle.waiter`, on the primitives of :mod:`ga_listener.lifecycle.listener_io` (whose docstring
states the rules every write follows).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from ga_listener.api.errors import ListenerNotFoundError
from ga_listener.config import plan
from ga_listener.config.models import ListenerConfig
from ga_listener.config.plan import Bookkeeping
from ga_listener.lifecycle import claims, program
from ga_listener.lifecycle.creation import CreatingListeners
from ga_listener.lifecycle.failures import (
    ListenerOperationError,
    error_code,
    failure,
    guard,
    may_have_applied,
    refuse_https_without_certificate,
    refuse_service_managed,
    warn_changed_since,
    warn_unrestorable,
)
from ga_listener.lifecycle.listener_io import Client, accelerator_lock
from ga_listener.transport.errors import GaListenerError

__all__ = ["Client", "ListenerOperationError", "ListenerOperations"]

logger = logging.getLogger("ga_listener.operations")


@dataclass(frozen=True)
class _Undo:
    """How a transactional write's failure reads (see ``ListenerOperations._change``)."""

    operation: str
    doing: str
    before: str
    if_not_undone: str


ADOPT = _Undo("adopt", "adopting listener {}", "when adopted", "check the listener before retrying, since a "
              "retried adopt records what it finds as the original")
UPDATE = _Undo("update", "update of listener {}", "before this update", "run `pulumi refresh` before retrying")


class ListenerOperations(CreatingListeners):
    """Adopt, create, update, refresh and release listeners through ``client``.

    Each write and the wait after it share one deadline, ``wait_timeout`` seconds from the write's start;
    ``create_visibility_timeout`` is how long the service may take to show a write before the provider asks it
    again (see :mod:`ga_listener.lifecycle.creation` and :meth:`ListenerIO._await_applied`).
    """

    # --- adopt -------------------------------------------------------------------------------------------------

    def adopt(self, config: ListenerConfig) -> dict[str, Any]:
        """Take over an existing listener: remember what it had, apply ``config``, return the outputs.

        Transactional: if anything fails after the write, the adopted configuration is put back (best effort)
        so that a retried create snapshots the listener's true original configuration.
        """
        listener_id = str(config.listener_id)
        # Its accelerator is not known yet, so an UnknownError cannot be confirmed with ListListeners: retried
        # like any server error.
        found = guard("adopt", listener_id, lambda: self.client.describe_listener(
            listener_id, deadline=self._deadline(), unknown_error_attempts=None))
        refuse_service_managed(found, "Update", "adopt")
        accelerator_id = str(found.get("AcceleratorId", ""))
        with accelerator_lock(accelerator_id):
            body = guard("adopt", listener_id, lambda: self._settled(listener_id, accelerator_id, found))
            adopted = plan.live_from_api(body)
            wanted = plan.desired_values(config)
            book = Bookkeeping.adopting(wanted, config.deletion, adopted, config.resource_key)
            changed = plan.changed_fields(wanted, adopted)
            if changed:
                refuse_https_without_certificate(listener_id, wanted, adopted)
                body, written = self._apply_or_roll_back(listener_id, accelerator_id, wanted=wanted,
                                                         adopted=adopted, changed=changed, book=book)
                book = book.applied(written)
        claims.claim(listener_id, book.adoption_id)
        return plan.build_outputs(plan.live_from_api(body), book)

    def _apply_or_roll_back(self, listener_id: str, accelerator_id: str, *, wanted: Mapping[str, Any],
                            adopted: Mapping[str, Any], changed: list[str],
                            book: Bookkeeping) -> tuple[Mapping[str, Any], list[str]]:
        values = self._values(listener_id, {name: wanted[name] for name in changed}, wanted, adopted)
        body = self._change(listener_id, accelerator_id, values, before=adopted, what=ADOPT,
                            token_of=lambda params: plan.client_token(listener_id, "adopt", book, params))
        return body, plan.changed_fields(values, adopted)

    def _change(self, listener_id: str, accelerator_id: str, values: Mapping[str, Any], *,
                before: Mapping[str, Any], what: _Undo,
                token_of: Callable[[Mapping[str, Any]], str]) -> Mapping[str, Any]:
        """Apply ``values`` to the listener that was ``before``; transactional: if the write may have been
        applied and anything fails after it, ``before`` is put back (best effort) and the failure raised."""
        written = plan.changed_fields(values, before)
        try:
            deadline = self._send(listener_id, values, token_of)
        except GaListenerError as error:
            if not may_have_applied(error):  # the service refused the change: nothing to put back
                raise failure(what.operation, listener_id, error) from None
            self._roll_back(listener_id, accelerator_id, before, written, cause=error, what=what)
        try:
            return self._await_applied(listener_id, accelerator_id, values, deadline)
        except GaListenerError as error:  # the write was accepted: whatever failed since, put it back
            self._roll_back(listener_id, accelerator_id, before, written, cause=error, what=what)

    def _roll_back(self, listener_id: str, accelerator_id: str, before: Mapping[str, Any], written: list[str], *,
                   cause: GaListenerError, what: _Undo) -> NoReturn:
        originals = {name: before[name] for name in written if plan.canonical(name, before.get(name)) is not None}
        unrestorable = [name for name in written if name not in originals]
        try:
            live = plan.live_from_api(self._settled(listener_id, accelerator_id, {}))
            never_replayed = f"gal-rollback-{secrets.token_hex(12)}"
            self._write(listener_id, accelerator_id, originals, desired=before, live=live,
                        token_of=lambda _params: never_replayed)
            outcome = f"the listener was put back to the configuration it had {what.before}"
            if unrestorable:
                outcome += f" (except {', '.join(unrestorable)}: the API cannot clear a value it did not have)"
        except GaListenerError as error:
            outcome = f"putting back what it had failed too ({_brief(error)}); {what.if_not_undone}"
        raise ListenerOperationError(
            f"{what.doing.format(listener_id)} failed after its change was sent: {cause}; {outcome}."
        ) from None

    # --- update and refresh ------------------------------------------------------------------------------------

    def update(self, listener_id: str, olds: Mapping[str, Any], config: ListenerConfig) -> dict[str, Any]:
        """Apply what changed since ``olds`` (the last outputs) with one UpdateListener; return new outputs.

        When only bookkeeping changed (``on_delete``, the set of managed properties, how the program names the
        listener) no API call is made, nor when the listener already shows the change (an update resumed after
        its provider died). Transactional like :meth:`adopt`: if anything fails after the write, what the
        listener had before it is put back, so the listener and the state (which keeps the old outputs) agree.
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
            body = self._settled(listener_id, accelerator_id, found)  # a change still running ends first
            refuse_service_managed(body, "Update", "update")
            live = plan.live_from_api(body)
            refuse_https_without_certificate(listener_id, wanted, live)
            values = self._values(listener_id, {name: wanted[name] for name in changed}, wanted, live)
            if not plan.not_visible(values, live):  # it shows the change already (a resumed update): no write
                return body, plan.changed_fields(values, olds)
            body = self._change(listener_id, accelerator_id, values, before=live, what=UPDATE,
                                token_of=lambda params: plan.client_token(listener_id, "update", next_revision,
                                                                          params))
            return body, plan.changed_fields(values, live)

        with accelerator_lock(accelerator_id):
            body, written = guard("update", listener_id, apply)
        return plan.build_outputs(plan.live_from_api(body), book.applied(written))

    def refresh(self, listener_id: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The live listener as outputs, keeping the bookkeeping of ``props``; ``None`` when it is gone."""
        accelerator_id = str(props.get("accelerator_id") or "") or None
        body = guard("refresh", listener_id, lambda: self._read(listener_id, accelerator_id, self._deadline()))
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
        so is one that another resource holds, which is left alone: one taken over in this provider process (a
        rename without an alias, a create-before-delete replacement), or, for a resource removed from the
        program, one that a resource of the current program names (:mod:`ga_listener.lifecycle.program`), whichever
        process took it over."""
        book = Bookkeeping.from_outputs(props)
        if book.on_delete == "retain":
            claims.forget(listener_id, book.adoption_id)
            return
        holders = [] if program.in_program(book.resource_key, book.adoption_id) else program.named_by_program(
            listener_id)
        if holders or claims.claimed_by_another(listener_id, book.adoption_id):
            logger.warning("listener %s was taken over by another resource%s (a rename without an alias, or a "
                           "replacement): it is left as that resource configured it, not %s", listener_id,
                           f" of this program ({', '.join(holders)})" if holders else " in this deployment",
                           "deleted" if book.on_delete == "delete" else "restored")
            claims.forget(listener_id, book.adoption_id)
            return
        accelerator_id = str(props.get("accelerator_id") or "")
        if book.on_delete == "delete":
            guard("delete", listener_id, lambda: self._delete(listener_id, accelerator_id, book))
        elif book.created:  # named by its id since, with restore: nothing was adopted, so nothing to put back
            logger.warning("listener %s was created by this resource: there is no earlier configuration to restore; "
                           "it is left as it is", listener_id)
            claims.forget(listener_id, book.adoption_id)
        else:
            guard("restore", listener_id, lambda: self._restore(listener_id, accelerator_id, props, book))
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
            warn_changed_since(listener_id, moved)
            wanted = {name: plan.canonical(name, book.adopted.get(name)) for name in fields if name not in moved}
            warn_unrestorable(listener_id, [n for n, v in wanted.items() if v is None and live.get(n)])
            originals = {name: value for name, value in wanted.items() if value is not None}
            changed = plan.changed_fields(originals, live)
            if changed:
                refuse_service_managed(body, "Update", "restore")
                self._write(listener_id, accelerator_id, {name: originals[name] for name in changed},
                            desired={**live, **originals}, live=live,
                            token_of=lambda params: plan.client_token(listener_id, "restore", book, params))


def _brief(error: GaListenerError) -> str:
    """A short name for a second failure (the first one is told in full)."""
    return error_code(error) or type(error).__name__
