"""``GaClient``: signed calls to the Global Accelerator RPC API, with retries and typed errors.

A call is layered one concern per step: :meth:`GaClient.call` (parameters, ClientToken, retry loop) -> one
attempt: :class:`~ga_listener.api.signer.AttemptSigner` (fresh timestamp, nonce and signature), one exchange through
:class:`~ga_listener.transport.http.HttpSession`, :func:`~ga_listener.api.answers.decode_answer` (JSON or a typed
error). :class:`RetryPolicy` decides what is retried from small named checks on error code and HTTP status only.

No HTTP library is imported before the first call: a preview sends nothing and pays nothing. One pooled session
per client, shared by threads.

Credentials come from a provider asked before every attempt (a static key pair is its own provider; temporary
ones are refreshed before they expire, see :mod:`ga_listener.auth.credentials`). Every secret and token the client
ever signed with stays scrubbed from what servers answer, rotated ones included. When the service answers
``InvalidSecurityToken.Expired`` the provider is told and the call is tried once more with fresh credentials.
"""

from __future__ import annotations

import logging
import random as _random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ga_listener.api.answers import decode_answer
from ga_listener.api.errors import ApiError, ListenerNotFoundError
from ga_listener.api.retry import (
    DEFAULT_CHECKS,
    RetryPolicy,
    is_connection_error,
    is_server_error,
    is_throttled,
    is_transient_state,
)
from ga_listener.api.signer import API_VERSION, AttemptSigner, new_token
from ga_listener.auth.credentials import Credentials, CredentialsProvider, Scrubber, resolve_credentials
from ga_listener.transport import signing
from ga_listener.transport.errors import (
    ConfigurationError,
    DeadlineExceededError,
    GaListenerError,
    ResponseError,
    TransportError,
)
from ga_listener.transport.http import ExchangeFailed, HttpSession
from ga_listener.transport.wire import mask_tokens, parse_endpoint

__all__ = [
    "API_VERSION",
    "DEFAULT_CHECKS",
    "DEFAULT_ENDPOINT",
    "WRITE_ACTIONS",
    "GaClient",
    "RetryPolicy",
    "is_connection_error",
    "is_server_error",
    "is_throttled",
    "is_transient_state",
]

logger = logging.getLogger("ga_listener.client")
logger.addHandler(logging.NullHandler())

DEFAULT_ENDPOINT = "https://ga.cn-hangzhou.aliyuncs.com"
WRITE_ACTIONS = frozenset({"CreateListener", "UpdateListener", "DeleteListener"})
POOL_SIZE = 8  # the provider host calls one client from 4 threads; leave headroom
_WITHOUT_REGION = frozenset({"DeleteListener"})  # the SDK's DeleteListenerRequest defines no RegionId
#: DescribeListener answers UnknownError for some vanished listeners (Terraform reads it as NotExist.Listener):
#: a few attempts, then the caller confirms with ListListeners instead of retrying for the whole deadline.
UNKNOWN_ERROR_ATTEMPTS = 3
_EXPIRED_TOKEN = "InvalidSecurityToken.Expired"
Failure = ApiError | ResponseError | TransportError  # what one attempt can fail with


# --- the client -------------------------------------------------------------------------------------------


class GaClient:
    """Signed GA API client, safe to share between threads.

    Credentials: ``credentials`` (``Credentials`` or a provider of them), else ``access_key_id`` +
    ``access_key_secret`` (+ ``security_token``), else ``resolve_credentials()`` (the chain over the environment
    and ``~/.aliyun/config.json``). Secrets shorter than 8 characters are not scrubbed. ``clock`` (monotonic,
    deadlines), ``sleep``, ``random`` (jitter) and ``wall_clock`` (request timestamps) are injectable.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        security_token: str | None = None,
        credentials: Credentials | CredentialsProvider | None = None,
        region_id: str = "cn-hangzhou",
        signature_version: str = "v3",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if signature_version not in ("v1", "v3"):
            raise ConfigurationError(f"signature version {signature_version!r} is not 'v3' or 'v1'",
                                     setting="signatureVersion")
        if not (connect_timeout > 0 and read_timeout > 0):
            raise ConfigurationError("timeouts must be positive seconds", setting="timeout")
        if credentials is None and (access_key_id or access_key_secret):
            credentials = Credentials(access_key_id or "", access_key_secret or "", security_token,
                                      source="GaClient arguments")
        self._credentials: Credentials | CredentialsProvider = credentials or resolve_credentials()
        self._base_url, self._host = parse_endpoint(endpoint or DEFAULT_ENDPOINT)
        self.endpoint, self.region_id = self._base_url[:-1], region_id
        self.signature_version = signature_version
        self._timeouts = (connect_timeout, read_timeout)
        self._retry = retry or RetryPolicy()
        self._describe_retry = self._retry.capped("UnknownError", UNKNOWN_ERROR_ATTEMPTS)  # built once: a hot path
        self._clock, self._sleep, self._random = clock, sleep, random
        self._http = HttpSession(pool_size=POOL_SIZE, pin_pools=True)
        self._scrubber = Scrubber()  # every secret the client signs with joins it (_current_credentials)
        self._signer = AttemptSigner(self._base_url, self._host, signature_version, wall_clock=wall_clock,
                                     scrub=self._scrubber)
        self._signed_with: Credentials | None = None  # the last credentials seen, to add new secrets once
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GaClient(endpoint={self.endpoint!r}, signature_version={self.signature_version!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Clients hold credentials and sessions: build them where they are used, never pickle them into state.
        raise TypeError("GaClient holds credentials and is never pickled")

    def __enter__(self) -> GaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections; the client reopens them if used again."""
        self._http.close()

    # -- public calls --

    def call(
        self, action: str, params: Mapping[str, Any], *, retry_transient_states: bool = False,
        deadline: float | None = None, retry: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """Call ``action`` with nested ``params``; return the decoded JSON body.

        Write actions get a ClientToken unless ``params`` holds one, the same on every retry. ``deadline`` is
        an absolute time on this client's ``clock`` (default: now + ``retry.total_timeout``): no attempt
        starts and no backoff ends past it. ``retry`` replaces the client's policy for this call. Raises an
        ``ApiError`` subclass, ``ResponseError``, ``TransportError`` or ``DeadlineExceededError`` (whose
        ``__cause__`` is the last failure).
        """
        policy = retry or self._retry
        query = signing.flatten_params(params)
        if action not in _WITHOUT_REGION:
            query["RegionId"] = query.get("RegionId") or self.region_id
        if action in WRITE_ACTIONS and not query.get("ClientToken"):
            query["ClientToken"] = new_token()
        start = self._clock()
        stop_at = start + policy.total_timeout if deadline is None else deadline
        attempt, last, renewed = 0, None, False
        while True:
            if self._clock() >= stop_at:
                raise self._deadline_error(action, attempt, start, last) from last
            attempt += 1
            creds = self._current_credentials()
            try:
                return self._attempt(action, query, stop_at, attempt, creds)
            except (ApiError, ResponseError, TransportError) as error:
                last = error
            if not renewed and getattr(last, "code", None) == _EXPIRED_TOKEN and self._credentials is not creds:
                renewed = True  # the token ran out between refresh and arrival: once more with fresh credentials
                self._credentials.invalidate(creds)
                logger.info("%s attempt %d: the security token expired; retrying with fresh credentials", action,
                            attempt)
                continue
            delay = self._delay_before_retry(policy, action, last, attempt, retry_transient_states)
            if self._clock() + delay >= stop_at:
                raise self._deadline_error(action, attempt, start, last) from last
            self._sleep(delay)

    def describe_listener(
        self, listener_id: str, *, deadline: float | None = None,
        unknown_error_attempts: int | None = UNKNOWN_ERROR_ATTEMPTS,
    ) -> dict[str, Any]:
        """DescribeListener: the raw JSON body (ports may come back as ints or strings). ``UnknownError`` may mean
        the listener is gone: it is retried only ``unknown_error_attempts`` times (``None``: like any server
        error), so that a caller who can confirm with ListListeners does not wait out the whole deadline."""
        if unknown_error_attempts is None:
            policy = self._retry
        elif unknown_error_attempts == UNKNOWN_ERROR_ATTEMPTS:
            policy = self._describe_retry
        else:
            policy = self._retry.capped("UnknownError", unknown_error_attempts)
        return self.call("DescribeListener", {"ListenerId": listener_id}, deadline=deadline,
                         retry_transient_states=True, retry=policy)

    def update_listener(
        self, listener_id: str, changes: Mapping[str, Any], *, client_token: str,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]:
        """UpdateListener with API-shaped ``changes`` (``{"PortRanges": [{"FromPort": 80, ...}], ...}``)."""
        params = {**changes, "ListenerId": listener_id, "ClientToken": client_token}
        return self.call("UpdateListener", params, retry_transient_states=retry_transient_states,
                         deadline=deadline)

    def list_listeners(
        self, accelerator_id: str, *, page_size: int = 50, deadline: float | None = None
    ) -> list[dict[str, Any]]:
        """Every listener of the accelerator, following ``PageNumber`` paging."""
        listeners: list[dict[str, Any]] = []
        for page in range(1, 10_000):
            params = {"AcceleratorId": accelerator_id, "PageNumber": page, "PageSize": page_size}
            body = self.call("ListListeners", params, deadline=deadline)
            items, total = body.get("Listeners") or [], body.get("TotalCount")
            listeners.extend(item for item in items if isinstance(item, dict))
            if not items or (len(listeners) >= int(total) if total is not None else len(items) < page_size):
                break
        return listeners

    def create_listener(
        self, accelerator_id: str, config: Mapping[str, Any], *, client_token: str | None = None,
        retry_transient_states: bool = True, deadline: float | None = None,
    ) -> dict[str, Any]:
        """CreateListener with API-shaped ``config``; the answer holds the new ``ListenerId``."""
        params = {**config, "AcceleratorId": accelerator_id, "ClientToken": client_token}
        return self.call("CreateListener", params, retry_transient_states=retry_transient_states,
                         deadline=deadline)

    def delete_listener(
        self, accelerator_id: str, listener_id: str, *, client_token: str | None = None,
        retry_transient_states: bool = True, missing_ok: bool = False, deadline: float | None = None,
    ) -> dict[str, Any]:
        """DeleteListener; with ``missing_ok`` an already deleted listener is success (an empty dict)."""
        params = {"AcceleratorId": accelerator_id, "ListenerId": listener_id, "ClientToken": client_token}
        try:
            return self.call("DeleteListener", params, retry_transient_states=retry_transient_states,
                             deadline=deadline)
        except ListenerNotFoundError:
            if missing_ok:
                return {}
            raise

    # -- one attempt --

    def _current_credentials(self) -> Credentials:
        """The provider's credentials for the next attempt; their secrets join what is scrubbed."""
        creds = self._credentials.get_credentials()
        if creds is not self._signed_with:
            self._scrubber.add(*creds.secrets())
            self._signed_with = creds
        return creds

    def _attempt(
        self, action: str, query: dict[str, str], stop_at: float, attempt: int, creds: Credentials
    ) -> dict[str, Any]:
        url, headers = self._signer.sign(action, query, attempt, creds)
        budget = max(stop_at - self._clock(), 0.001)
        timeout = (min(self._timeouts[0], budget), min(self._timeouts[1], budget))
        try:
            answer = self._http.send("POST", url, headers=headers, timeout=timeout, exact_url=True)
        except ExchangeFailed as failed:
            raise self._transport_error(action, failed) from None
        return decode_answer(action, answer, self._scrubber, self.endpoint)

    # -- retries and errors --

    def _delay_before_retry(
        self, policy: RetryPolicy, action: str, error: Failure, attempt: int, transient: bool
    ) -> float:
        """Seconds to wait before the next attempt; re-raises ``error`` when it is not worth one."""
        reason = policy.reason(error, attempt, transient_states=transient)
        if reason is None:
            raise error
        delay = policy.delay(attempt, self._random(), error.retry_after)
        logger.info("%s attempt %d failed (%s: %s); retrying in %.2f s", action, attempt, reason, error,
                    delay)
        return delay

    def _deadline_error(
        self, action: str, attempts: int, start: float, last: GaListenerError | None
    ) -> DeadlineExceededError:
        why = f"; last error: {last}" if last is not None else ""
        spent = self._clock() - start
        return DeadlineExceededError(f"{action} did not succeed before its deadline ({attempts} attempt(s) "
                                     f"in {spent:.1f} s){why}", action=action, attempts=attempts)

    def _transport_error(self, action: str, failed: ExchangeFailed) -> TransportError:
        detail = re.sub(r"url: /\S*", "url: /", self._scrubber(mask_tokens(failed.detail)))  # v1 query: token
        return TransportError(f"{action} to {self.endpoint}: {failed.kind} ({failed.exception}: {detail})",
                              endpoint=self.endpoint, action=action, retryable=failed.retryable)
