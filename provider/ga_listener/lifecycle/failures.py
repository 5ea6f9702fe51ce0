"""How an operation on a listener fails: one error naming the operation, the listener and what to do, and the
refusals and warnings the operations share (:mod:`ga_listener.lifecycle.operations`,
:mod:`ga_listener.lifecycle.creation`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ga_listener.api.errors import ApiError, ListenerInUseError, ListenerNotFoundError, PortConflictError
from ga_listener.transport.errors import DeadlineExceededError, GaListenerError

__all__ = [
    "ListenerOperationError",
    "create_failure",
    "error_code",
    "failure",
    "guard",
    "may_have_applied",
    "refuse_https_without_certificate",
    "refuse_service_managed",
    "warn_changed_since",
    "warn_unrestorable",
]

logger = logging.getLogger("ga_listener.operations")
T = TypeVar("T")


class ListenerOperationError(GaListenerError):
    """A provider operation failed; the message says what was done and what the user should do."""


def error_code(error: BaseException) -> str:
    """The API error code of ``error`` (or of the last failure behind a spent deadline); "" for others."""
    cause = error.__cause__ if isinstance(error, DeadlineExceededError) else error
    return str(getattr(cause, "code", ""))


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def guard(operation: str, listener_id: str, step: Callable[[], T]) -> T:
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
        raise failure(operation, listener_id, error) from None


def create_failure(accelerator_id: str, error: GaListenerError) -> ListenerOperationError:
    """A refused CreateListener, with what to do."""
    hint = ""
    if isinstance(error, PortConflictError):
        hint = (" If this resource was renamed, add `aliases=[pulumi.Alias(name=\"<old name>\")]` so that Pulumi "
                "keeps the existing listener instead of creating a second one on the same ports; if it is being "
                "replaced, keep delete_before_replace (the default); otherwise choose free ports.")
    return ListenerOperationError(f"creating a listener on {accelerator_id} failed: {error}{hint}")


def refuse_service_managed(body: Mapping[str, Any], action: str, operation: str) -> None:
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


def refuse_https_without_certificate(listener_id: str, wanted: Mapping[str, Any], live: Mapping[str, Any]) -> None:
    """A switch to https needs the default certificate."""
    if wanted.get("protocol") == "https" and live.get("protocol") != "https" and not wanted.get("certificates"):
        raise ListenerOperationError(f"switching listener {listener_id} to https needs its default certificate: "
                                     "set certificates=[{\"id\": ...}]")


def warn_unrestorable(listener_id: str, names: list[str]) -> None:
    """Restore cannot clear a value the listener did not have when adopted."""
    if names:
        logger.warning("restore of listener %s leaves %s as they are: the listener had no value for them when "
                       "adopted, and the API cannot clear one", listener_id, ", ".join(names))


def warn_changed_since(listener_id: str, names: list[str]) -> None:
    """Restore leaves what changed since the resource last recorded it."""
    if names:
        logger.warning("restore of listener %s leaves %s as they are: they changed since this resource last recorded "
                       "them (refresh, or another owner), and putting back older values would undo that change",
                       listener_id, ", ".join(names))


def may_have_applied(error: GaListenerError) -> bool:
    """False when the service answered the write with a refusal (4xx): then nothing changed. No answer, a 5xx
    or a deadline spent on either leaves it open whether the change was applied."""
    cause = error.__cause__ if isinstance(error, DeadlineExceededError) else error
    return not (isinstance(cause, ApiError) and 0 < (cause.http_status or 500) < 500)


def failure(operation: str, listener_id: str, error: GaListenerError) -> ListenerOperationError:
    """``error`` as the failure of ``operation`` on the listener, with what to do."""
    if isinstance(error, ListenerInUseError):
        return ListenerOperationError(f"{operation} of listener {listener_id} failed: it still has endpoint groups "
                                      f"or forwarding rules; delete those first, then run again. ({error})")
    return ListenerOperationError(f"{operation} of listener {listener_id} failed: {error}")
