"""Creating a listener (:class:`CreatingListeners`, the create half of
:class:`ga_listener.lifecycle.operations.ListenerOperations`).

One CreateListener carries the listener's identity, with a ClientToken derived from the resource key and the
accelerator alone (:mod:`ga_listener.lifecycle.create_plan`); one UpdateListener after it applies everything else. Which
listener a create made is decided from what the service answers, never from timing or clocks:

* the answer names a listener: a fresh one, or, for a token the service remembers, the listener an earlier create
  of this resource made (a replay: after a crash, or in an earlier life of the resource);
* a listener that stays unseen for ``create_visibility_timeout`` is not taken for deleted: the next token of the
  chain is sent with the same identity, and ``PortConflict.Listener`` proves the ports are held (the unseen
  listener exists: it is waited for), while a new listener proves the unseen one gone;
* ``IdempotenceParamNotMatch`` says the token made a listener with another identity (a re-run with other ports
  after a crash, or an earlier life): the token is sent again with each listener's own identity, and the one the
  service answers with is the listener it made (such probes change nothing: replays, or refusals).

A listener found this way is taken over as created only if nothing but this resource touched it
(:func:`ga_listener.lifecycle.create_plan.touched_since_created`) and no other resource of the program names it;
otherwise the create fails naming it and what to do. If anything fails after the create, the listener is deleted again:
no create leaves a listener unrecorded.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from ga_listener.api.errors import ListenerNotFoundError, PortConflictError
from ga_listener.config import plan
from ga_listener.config.models import ListenerConfig
from ga_listener.config.plan import Bookkeeping
from ga_listener.lifecycle import claims, program
from ga_listener.lifecycle.create_plan import create_token, identity_params, next_create_token, touched_since_created
from ga_listener.lifecycle.failures import ListenerOperationError, create_failure, error_code
from ga_listener.lifecycle.listener_io import REPLAY_SHARE, ListenerIO, accelerator_lock, active
from ga_listener.lifecycle.waiter import Answer, WaitTimeoutError, wait_until
from ga_listener.transport.errors import GaListenerError

__all__ = ["MAX_TOKENS", "CreatingListeners"]

logger = logging.getLogger("ga_listener.operations")
#: How many tokens of a resource's chain a create tries: one more each time a create of the resource made a
#: listener deleted since (a destroy and an up of the same stack within the service's token retention).
MAX_TOKENS = 32
Found = tuple[str, Mapping[str, Any]]


class CreatingListeners(ListenerIO):
    """Create listeners (see :meth:`create`)."""

    def create(self, config: ListenerConfig) -> dict[str, Any]:
        """Create a listener on ``config.accelerator_id``, or take over the one an earlier create of this resource
        made and nothing else touched since, and bring it to ``config``; return the outputs."""
        accelerator_id = str(config.accelerator_id)
        wanted = plan.desired_values(config)
        with accelerator_lock(accelerator_id):
            listener_id, body = self._made(accelerator_id, identity_params(wanted), config.resource_key)
            live = plan.live_from_api(body)
            _refuse_unless_ours(listener_id, accelerator_id, live, wanted, config.resource_key)
            book = Bookkeeping.creating(wanted, config.deletion, config.resource_key)
            changed = plan.changed_fields(wanted, live)
            if changed:
                try:
                    body, written = self._write(
                        listener_id, accelerator_id, {name: wanted[name] for name in changed}, desired=wanted,
                        live=live, token_of=lambda update: plan.client_token(listener_id, "create", book, update))
                except GaListenerError as error:
                    self._undo_create(listener_id, accelerator_id, book, error)
                book = book.applied(written)
        claims.claim(listener_id, book.adoption_id)
        return plan.build_outputs(plan.live_from_api(body), book)

    # --- which listener the create made ------------------------------------------------------------------------

    def _made(self, accelerator_id: str, params: Mapping[str, Any], key: str | None) -> Found:
        """The listener this resource's create made, seen active: found through the token chain."""
        token = create_token(key, accelerator_id) if key else f"gal-c-{secrets.token_hex(20)}"
        unseen: list[str] = []  # answered by the chain, never seen: gone, or not visible yet
        for _ in range(MAX_TOKENS if key else 1):
            deadline = self._deadline()
            try:
                answer = self.client.create_listener(accelerator_id, params, client_token=token,
                                                     retry_transient_states=True, deadline=deadline)
            except GaListenerError as error:
                if key and error_code(error) == "IdempotenceParamNotMatch":
                    found = self._made_with_other_identity(accelerator_id, token, deadline)
                    if found is not None:
                        return found
                elif isinstance(error, PortConflictError) and unseen:  # proof that an unseen one exists
                    return self._await_any(unseen, accelerator_id)
                else:
                    raise create_failure(accelerator_id, error) from None
            else:
                listener_id = str(answer.get("ListenerId", ""))
                if claims.deleted_here(listener_id):  # a replay of a listener this process deleted: ask the next
                    token = next_create_token(token)
                    continue
                body = self._await_seen(listener_id, accelerator_id, deadline, patient=not key)
                if body is not None:
                    if unseen:
                        logger.warning("listener %s, answered by the create on %s, is gone: its ClientToken replayed "
                                       "a create whose listener was deleted since (a create on its ports made "
                                       "listener %s)", ", ".join(unseen), accelerator_id, listener_id)
                    return listener_id, body
                unseen.append(listener_id)
            token = next_create_token(token)
        self._give_up(unseen, accelerator_id, "none of the listeners its creates answered with became visible")

    def _await_seen(self, listener_id: str, accelerator_id: str, deadline: float, *,
                    patient: bool = False) -> Mapping[str, Any] | None:
        """The listener once it is seen active; ``None`` if it stays unseen for the visibility window (gone, or
        not visible yet: the caller asks the service which) or is seen to go. ``patient``: the whole wait (a
        token that cannot replay made it: unseen only means not visible yet)."""
        remaining = max(deadline - time.monotonic(), 0.0)
        window = remaining if patient else min(self.create_visibility_timeout, REPLAY_SHARE * remaining)
        unseen_until = time.monotonic() + window
        seen = False

        def done(answer: Answer) -> bool:
            nonlocal seen
            if answer is None:
                return seen or time.monotonic() >= unseen_until
            seen = True
            return active(answer)

        try:
            return self._await(listener_id, accelerator_id, deadline, done=done,
                               what=f"new listener {listener_id} to be active")
        except WaitTimeoutError:
            if seen:
                raise
            return None

    def _await_any(self, listener_ids: list[str], accelerator_id: str) -> Found:
        """The first of ``listener_ids`` seen active, within a new wait. A create on their ports answered
        ``PortConflict.Listener``: one of them exists (or another listener took the ports since)."""
        def first_active(poll_deadline: float) -> Answer:
            for listener_id in listener_ids:
                body = self._read(listener_id, accelerator_id, poll_deadline)
                if body is not None and active(body):
                    return body
            return None

        try:
            body = wait_until(first_active, done=lambda answer: answer is not None, status=lambda _: "not seen",
                              what=f"listener {' or '.join(listener_ids)} to be seen", timeout=self.wait_timeout)
        except WaitTimeoutError:
            body = None
        if body is not None:
            return str(body.get("ListenerId", "")), body
        self._give_up(listener_ids, accelerator_id, "its ports are held (PortConflict.Listener), but the listeners "
                      f"its creates answered with did not become visible within {self.wait_timeout:g} s")

    def _made_with_other_identity(self, accelerator_id: str, token: str, deadline: float) -> Found | None:
        """The listener ``token`` made with another identity, found by sending the token with each listener's
        own identity: the service replays it for that one listener. Listeners that show up during the
        visibility window are tried too (an interrupted create's may not be visible yet). ``None`` when it is
        none of them (it was deleted, or changed its ports since)."""
        window_end = time.monotonic() + min(self.create_visibility_timeout,
                                            REPLAY_SHARE * max(deadline - time.monotonic(), 0.0))
        tried: set[str] = set()
        while True:
            for item in self.client.list_listeners(accelerator_id, deadline=deadline):
                candidate = str(item.get("ListenerId", ""))
                if candidate in tried or not active(item):
                    continue
                tried.add(candidate)
                try:
                    answer = self.client.create_listener(
                        accelerator_id, identity_params(plan.live_from_api(item)), client_token=token,
                        retry_transient_states=True, deadline=deadline)
                except GaListenerError as error:
                    if error_code(error) == "IdempotenceParamNotMatch" or isinstance(error, PortConflictError):
                        continue  # not this one (a conflict: the token is forgotten; the candidate holds the ports)
                    raise create_failure(accelerator_id, error) from None
                made = str(answer.get("ListenerId", ""))
                if made != candidate:  # the token's listener is not listed, though it would hold these ports
                    return None
                return candidate, self._settled(candidate, accelerator_id,
                                                self._read(candidate, accelerator_id, deadline) or item)
            if time.monotonic() >= window_end:
                return None
            time.sleep(min(1.0, max(window_end - time.monotonic(), 0.0)))

    # --- failures ----------------------------------------------------------------------------------------------

    def _give_up(self, listener_ids: list[str], accelerator_id: str, why: str) -> NoReturn:
        """Fail the create, deleting first any listener its tokens answered with that may exist unseen."""
        for listener_id in listener_ids:
            try:
                self.client.delete_listener(accelerator_id, listener_id, retry_transient_states=True,
                                            deadline=self._deadline())
            except ListenerNotFoundError:
                continue
            except GaListenerError as error:
                raise ListenerOperationError(
                    f"creating a listener on {accelerator_id} failed: {why}; deleting listener {listener_id}, "
                    f"which may exist unseen, failed too ({error}): run `pulumi up` again, which finds it "
                    "(the same create), or delete it.") from None
        raise ListenerOperationError(f"creating a listener on {accelerator_id} failed: {why}; any of them that "
                                     "existed unseen was deleted. Run `pulumi up` again.")

    def _undo_create(self, listener_id: str, accelerator_id: str, book: Bookkeeping,
                     cause: GaListenerError) -> NoReturn:
        try:
            self._delete(listener_id, accelerator_id, book)
            outcome = f"listener {listener_id} was deleted again"
        except GaListenerError as error:
            outcome = (f"deleting listener {listener_id} again failed too ({error}): run `pulumi up` again, which "
                       "takes it over (the same create finds it), or delete it")
        raise ListenerOperationError(f"creating a listener on {accelerator_id} failed after the create: {cause}; "
                                     f"{outcome}.") from None


def _refuse_unless_ours(listener_id: str, accelerator_id: str, live: Mapping[str, Any], wanted: Mapping[str, Any],
                        key: str | None) -> None:
    """Refuse a listener an earlier create of this resource made that someone touched since, or that another
    resource of the program names: it was retained or dropped from the stack, and may be managed elsewhere."""
    touched = touched_since_created(live, wanted)
    others = [holder for holder in program.named_by_program(listener_id) if holder != key]
    if not touched and not others:
        return
    why = (f"it shows {', '.join(touched)} as neither a new listener nor this resource has them" if touched
           else f"{', '.join(others)} names it")
    raise ListenerOperationError(
        f"creating a listener on {accelerator_id}: its ClientToken answers with listener {listener_id}, which this "
        f"resource created before and which is not in the stack ({why}): it was retained, dropped from the stack, "
        f"or left by an interrupted `pulumi up`, and may be managed elsewhere now, so it is left as it is. To "
        f"manage it here, adopt it: listener_id=\"{listener_id}\" instead of accelerator_id (on_delete=\"delete\" "
        f"to delete it on destroy); to create a new listener instead, delete it first.")
