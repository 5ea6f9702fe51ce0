"""Reading, writing and waiting on one listener: the primitives every operation is built from.

Three rules hold for every write:

* it is built from the listener as read just before it (:func:`ga_listener.config.plan.write_values`), never from what
  an earlier ``up`` recorded, so that nothing changed in the console since is undone;
* it is finished when the listener is active *and shows what was written*: the service is eventually
  consistent, and outputs recording old values would make the next preview send the change again;
* a write the service answered as the replay of an earlier one (same ClientToken) whose effect has been undone
  since (rolled back, reverted in the console) is sent again with a token that cannot replay, so a re-run of
  a change always converges (see :meth:`ListenerIO._apply`);
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
from dataclasses import dataclass
from typing import Any, Protocol

from ga_listener.api.errors import AcceleratorNotFoundError, ListenerNotFoundError
from ga_listener.config import plan
from ga_listener.config.plan import Bookkeeping
from ga_listener.config.settings import DEFAULT_CREATE_VISIBILITY_TIMEOUT
from ga_listener.lifecycle import claims
from ga_listener.lifecycle.failures import error_code, refuse_service_managed
from ga_listener.lifecycle.waiter import Answer, WaitTimeoutError, wait_until
from ga_listener.transport.errors import GaListenerError

__all__ = ["REPLAY_SHARE", "Client", "ListenerIO", "accelerator_lock", "active"]

logger = logging.getLogger("ga_listener.operations")
_LOCKS_GUARD = threading.Lock()
_ACCELERATOR_LOCKS: dict[str, threading.RLock] = {}
#: At most this share of a write's wait passes before a write that left no trace is sent again (see ``_apply``).
REPLAY_SHARE = 0.5


def accelerator_lock(accelerator_id: str) -> threading.RLock:
    """The process-wide lock that serializes changes to listeners of one accelerator (re-entrant: undoing a
    failed create deletes while the create still holds it)."""
    with _LOCKS_GUARD:
        return _ACCELERATOR_LOCKS.setdefault(accelerator_id, threading.RLock())


def active(answer: Mapping[str, Any]) -> bool:
    """Whether a DescribeListener answer shows the listener active."""
    return str(answer.get("State", "")).lower() == "active"


def _status(answer: Answer) -> str:
    if answer is None:
        return "not found"
    return f"'{str(answer.get('State', 'unknown')).lower()}'"


class Client(Protocol):
    """The part of :class:`ga_listener.api.client.GaClient` the operations use."""

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
class ListenerIO:
    """Reads, writes and waits through ``client``. Each write and the wait after it share one deadline,
    ``wait_timeout`` seconds from the write's start."""

    client: Client
    wait_timeout: float
    create_visibility_timeout: float = DEFAULT_CREATE_VISIBILITY_TIMEOUT

    # --- reading ---------------------------------------------------------------------------------------------

    def _deadline(self) -> float:
        return time.monotonic() + self.wait_timeout

    def _read(self, listener_id: str, accelerator_id: str | None, deadline: float) -> Answer:
        """The listener now, or ``None`` when it does not exist: ``NotExist.Listener``, or ``UnknownError`` (which
        Terraform reads as not found too) while ListListeners of its accelerator does not list it, or answers
        that the accelerator itself is gone (its listeners went with it)."""
        try:
            return self.client.describe_listener(listener_id, deadline=deadline)
        except ListenerNotFoundError:
            return None
        except GaListenerError as error:
            if error_code(error) != "UnknownError" or not accelerator_id:
                raise
        try:
            listed = self.client.list_listeners(accelerator_id, deadline=deadline)
        except AcceleratorNotFoundError:
            return None
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
            return active(answer) and not plan.not_visible(sent, plan.live_from_api(answer))

        what = f"listener {listener_id} to be active with {', '.join(sorted(sent)) or 'its state'} as written"
        answer = self._await(listener_id, accelerator_id, deadline, done=done, what=what)
        assert answer is not None
        return answer

    def _settled(self, listener_id: str, accelerator_id: str, found: Mapping[str, Any]) -> Mapping[str, Any]:
        """``found`` if the listener is active in it, else the answer of waiting until it is."""
        return found if active(found) else self._await_visible(listener_id, accelerator_id, {}, self._deadline())

    # --- writing ---------------------------------------------------------------------------------------------

    def _values(self, listener_id: str, changed: Mapping[str, Any], desired: Mapping[str, Any],
                live: Mapping[str, Any]) -> dict[str, Any]:
        """What a write applying ``changed`` to the ``live`` listener carries (see ``plan.write_values``)."""
        values, warnings = plan.write_values(changed, desired, live)
        for warning in warnings:
            logger.warning("listener %s: %s", listener_id, warning)
        return values

    def _send(self, listener_id: str, values: Mapping[str, Any], token_of: Callable[[Mapping[str, Any]], str],
              deadline: float | None = None) -> float:
        """One UpdateListener carrying ``values``; returns the deadline it and the wait after it share (a new
        one unless given). A listener or accelerator still busy (NotActive / StateError) is retried until then."""
        params = plan.api_params(values, values)
        deadline = self._deadline() if deadline is None else deadline
        self.client.update_listener(listener_id, params, client_token=token_of(params),
                                    retry_transient_states=True, deadline=deadline)
        return deadline

    def _await_applied(self, listener_id: str, accelerator_id: str, values: Mapping[str, Any],
                       deadline: float) -> Mapping[str, Any]:
        """Wait until the listener is active and shows ``values``, after a write of them was answered.

        A write the service applied leaves a trace: the listener changes state, or shows the values. One that
        stays active with none of it for the replay window (``create_visibility_timeout``, at most
        :data:`REPLAY_SHARE` of the wait: longer than the service takes to show a write) was the replay of an
        earlier write with the same ClientToken, whose effect has been undone since: the service applied
        nothing, and waiting longer would never end. It is sent again with a token that cannot replay. Under
        a service whose reads lag longer than the window, that second write repeats the same values: harmless.
        """
        window = min(self.create_visibility_timeout, REPLAY_SHARE * max(deadline - time.monotonic(), 0.0))
        answered = moved = False

        def traced(answer: Answer) -> bool:
            nonlocal answered, moved
            if answer is None:
                raise ListenerNotFoundError("NotExist.Listener", f"listener {listener_id} vanished during the "
                                            "wait", action="DescribeListener")
            answered, moved = True, moved or not active(answer)
            return moved or not plan.not_visible(values, plan.live_from_api(answer))

        try:
            self._await(listener_id, accelerator_id, min(deadline, time.monotonic() + window), done=traced,
                        what=f"listener {listener_id} to show the write")
        except WaitTimeoutError:
            if not answered or time.monotonic() >= deadline:  # no answer to judge by, or no time left: wait on
                return self._await_visible(listener_id, accelerator_id, values, deadline)
            logger.warning("listener %s shows no trace of the write after %.0f s: the service answered it as the "
                           "replay of an earlier write whose change has been undone since; sending it again",
                           listener_id, window)
            self._send(listener_id, values, lambda _params: f"gal-again-{secrets.token_hex(16)}", deadline)
        return self._await_visible(listener_id, accelerator_id, values, deadline)

    def _apply(self, listener_id: str, accelerator_id: str, values: Mapping[str, Any],
               token_of: Callable[[Mapping[str, Any]], str]) -> Mapping[str, Any]:
        """One UpdateListener carrying ``values``, then the wait until the listener shows them (sent again if
        the service replayed an undone write, see :meth:`_await_applied`); returns the answer showing them."""
        deadline = self._send(listener_id, values, token_of)
        return self._await_applied(listener_id, accelerator_id, values, deadline)

    def _write(self, listener_id: str, accelerator_id: str, changed: Mapping[str, Any], *,
               desired: Mapping[str, Any], live: Mapping[str, Any],
               token_of: Callable[[Mapping[str, Any]], str]) -> tuple[Mapping[str, Any], list[str]]:
        """One UpdateListener applying ``changed`` to the ``live`` listener; returns the answer showing it and
        the properties the write changed (those ``changed`` names, and any a protocol switch moved too)."""
        values = self._values(listener_id, changed, desired, live)
        return self._apply(listener_id, accelerator_id, values, token_of), plan.changed_fields(values, live)

    def _delete(self, listener_id: str, accelerator_id: str, book: Bookkeeping) -> None:
        """DeleteListener, then wait until the listener is gone."""
        found = self._read(listener_id, accelerator_id or None, self._deadline())
        if found is None:
            claims.mark_deleted(listener_id)
            return
        refuse_service_managed(found, "Delete", "delete")
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
