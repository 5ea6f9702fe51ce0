"""Creating a listener: CreateListener with a ClientToken that makes a retried create replay, then one
UpdateListener for what CreateListener cannot carry (:class:`CreatingListeners`, the create half of
:class:`ga_listener.operations.ListenerOperations`)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from ga_listener import claims, plan
from ga_listener.errors import GaListenerError
from ga_listener.failures import ListenerOperationError, create_failure
from ga_listener.listener_io import ListenerIO, accelerator_lock, active
from ga_listener.models import ListenerConfig
from ga_listener.plan import Bookkeeping
from ga_listener.waiter import Answer, WaitTimeoutError

__all__ = ["INVISIBLE_SHARE", "CreatingListeners"]

logger = logging.getLogger("ga_listener.operations")
#: The share of a create's wait that a listener may stay invisible before its create counts as a replay of a
#: deleted listener: the rest is left for the fresh create to be seen.
INVISIBLE_SHARE = 0.9


class _NeverSeen(Exception):
    """A created listener stayed invisible longer than a real create takes to show: the ClientToken replayed
    a create whose listener has been deleted since."""


def _fresh_create_token() -> str:
    return f"gal-c-{secrets.token_hex(20)}"


class CreatingListeners(ListenerIO):
    """Create listeners (see :meth:`create`)."""

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
                raise create_failure(accelerator_id, error) from None
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
            return active(answer)

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
