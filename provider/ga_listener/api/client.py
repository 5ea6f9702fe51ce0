"""``GaClient``: signed calls to the Global Accelerator RPC API, with retries and typed errors.

A call is layered one concern per method: ``call`` (parameters, ClientToken, retry loop) -> ``_attempt`` ->
``_sign`` (fresh timestamp, nonce and signature) / ``_send`` (one HTTP exchange) / ``_decode`` (JSON or a
typed error). ``RetryPolicy`` decides what is retried from small named checks on error code and HTTP status
only.

``requests`` is imported on first use, never at import: a preview sends nothing and pays nothing. One
``requests.Session`` per client, shared by threads, with ``trust_env`` off (no per-call environment or proxy
lookups). The ``ga_listener.api.client`` logger shows, at DEBUG, the canonical request and string-to-sign of every
attempt with any security token masked; the secret is never logged.

Credentials come from a provider asked before every attempt (a static key pair is its own provider; temporary
ones are refreshed before they expire, see :mod:`ga_listener.auth.credentials`). Every secret and token the client
ever signed with stays scrubbed from what servers answer, rotated ones included. When the service answers
``InvalidSecurityToken.Expired`` the provider is told and the call is tried once more with fresh credentials.
"""

from __future__ import annotations

import logging
import os
import random as _random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ga_listener.api.errors import ApiError, ListenerNotFoundError, api_error_from
from ga_listener.api.retry import (
    DEFAULT_CHECKS,
    RetryPolicy,
    is_connection_error,
    is_server_error,
    is_throttled,
    is_transient_state,
)
from ga_listener.auth.credentials import Credentials, CredentialsProvider, Scrubber, resolve_credentials
from ga_listener.transport import signing
from ga_listener.transport.errors import (
    ConfigurationError,
    DeadlineExceededError,
    GaListenerError,
    ResponseError,
    TransportError,
)
from ga_listener.transport.wire import (
    mask_tokens,
    new_session,
    parse_body,
    parse_endpoint,
    pinned_adapter_type,
    retry_after_seconds,
    service_throttled,
    transport_settings,
)

if TYPE_CHECKING:
    import requests

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

API_VERSION = "2019-11-20"
DEFAULT_ENDPOINT = "https://ga.cn-hangzhou.aliyuncs.com"
WRITE_ACTIONS = frozenset({"CreateListener", "UpdateListener", "DeleteListener"})
USER_AGENT = "ga-listener/0.1 (python-requests)"
POOL_SIZE = 8  # the provider host calls one client from 4 threads; leave headroom
_PAYLOAD = {"DescribeListener": "ListenerId", "CreateListener": "ListenerId", "ListListeners": "Listeners"}
_ENVELOPE = frozenset({"RequestId", "Code", "Message", "HostId", "Recommend"})
_SUCCESS_CODES = frozenset({"200", "OK", "Success"})
_WITHOUT_REGION = frozenset({"DeleteListener"})  # the SDK's DeleteListenerRequest defines no RegionId
#: DescribeListener answers UnknownError for some vanished listeners (Terraform reads it as NotExist.Listener):
#: a few attempts, then the caller confirms with ListListeners instead of retrying for the whole deadline.
UNKNOWN_ERROR_ATTEMPTS = 3
_EXPIRED_TOKEN = "InvalidSecurityToken.Expired"
Failure = ApiError | ResponseError | TransportError  # what one attempt can fail with


def _token() -> str:
    return os.urandom(16).hex()


def _header(response: requests.Response, name: str) -> str | None:
    """A header as text: http.client decodes headers as latin-1, so UTF-8 bytes are decoded again."""
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


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
        self._clock, self._sleep, self._random, self._wall_clock = clock, sleep, random, wall_clock
        self._session: requests.Session | None = None
        self._proxies: dict[str, str] = {}  # read from the environment once, when the session opens
        self._verify: bool | str = True
        self._lock = threading.Lock()
        self._scrubber = Scrubber()  # every secret the client signs with joins it (_current_credentials)
        self._signed_with: Credentials | None = None  # the last credentials seen, to add new secrets once

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
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

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
            query["ClientToken"] = _token()
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
        url, headers = self._sign(action, query, attempt, creds)
        response = self._send(action, url, headers, stop_at - self._clock())
        return self._decode(action, response)

    def _sign(
        self, action: str, query: dict[str, str], attempt: int, creds: Credentials
    ) -> tuple[str, dict[str, str]]:
        """``(url, headers)`` of one attempt; the query is sent in the very encoding that was signed."""
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._wall_clock()))
        if self.signature_version == "v1":
            params = {**query, "Action": action, "Version": API_VERSION, "Format": "JSON"}
            wire = signing.sign_v1("POST", params, access_key_id=creds.access_key_id,
                                   secret=creds.access_key_secret, security_token=creds.security_token,
                                   timestamp=timestamp, nonce=_token())
            headers = {"user-agent": USER_AGENT}
            encoded = signing.canonical_query(wire)
            if logger.isEnabledFor(logging.DEBUG):
                unsigned = {k: v for k, v in wire.items() if k != "Signature"}
                self._log_signing(action, attempt, signing.canonical_query(unsigned),
                                  signing.v1_string_to_sign("POST", unsigned))
        else:
            headers, canonical, string_to_sign = signing.sign_v3(
                "POST", host=self._host, pathname="/", action=action, version=API_VERSION, query=query,
                body=b"", access_key_id=creds.access_key_id, secret=creds.access_key_secret,
                security_token=creds.security_token, timestamp=timestamp, nonce=_token(),
                accept="application/json")  # as the official SDK: without it a gateway may answer XML
            headers["user-agent"] = USER_AGENT
            encoded = canonical.split("\n", 3)[2]  # line 3 of the canonical request is the canonical query
            if logger.isEnabledFor(logging.DEBUG):
                self._log_signing(action, attempt, canonical, string_to_sign)
        return (f"{self._base_url}?{encoded}" if encoded else self._base_url), headers

    def _send(self, action: str, url: str, headers: dict[str, str], remaining: float) -> requests.Response:
        import requests  # lazy: importing this module must not import requests
        from requests.structures import CaseInsensitiveDict

        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.headers = "POST", url, CaseInsensitiveDict(headers)
        budget = max(remaining, 0.001)
        timeout = (min(self._timeouts[0], budget), min(self._timeouts[1], budget))
        try:
            response = self._open().send(prepared, timeout=timeout, allow_redirects=False,
                                         proxies=self._proxies, stream=False, verify=self._verify, cert=None)
        except requests.RequestException as exc:
            failure = self._transport_error(action, exc)
        else:
            return response
        raise failure  # outside the except block, so the requests error (and its URL) is not chained

    def _decode(self, action: str, response: requests.Response) -> dict[str, Any]:
        # Everything the server says is scrubbed: a hostile or broken server may echo what we signed with.
        status, request_id = response.status_code, self._scrub_opt(_header(response, "x-acs-request-id"))
        data, problem = parse_body(response.content, self._scrub)
        error: Failure | None = None
        if data is None:
            error = self._response_error(action, status, request_id, f"{problem} instead of a JSON document")
        else:
            code = data.get("Code")
            failed = status >= 400 or (code is not None and str(code) not in _SUCCESS_CODES
                                       and not self._has_payload(action, data))
            if failed and not code:
                error = self._response_error(action, status, request_id, "a JSON body without an error Code")
            elif failed:
                error = api_error_from(self._scrub(str(code)), self._scrub(str(data.get("Message") or "")),
                                       self._scrub_opt(data.get("RequestId")) or request_id, status, action,
                                       recommend=self._scrub_opt(data.get("Recommend")))
            elif action in _PAYLOAD and _PAYLOAD[action] not in data:
                error = self._response_error(action, status, request_id, f"a body without {_PAYLOAD[action]}")
        if error is None and data is not None:
            return data
        assert error is not None
        error.retry_after = retry_after_seconds(response.headers)
        error.throttled = service_throttled(response.headers)
        raise error

    @staticmethod
    def _has_payload(action: str, data: Mapping[str, Any]) -> bool:
        expected = _PAYLOAD.get(action)
        return expected in data if expected else any(key not in _ENVELOPE for key in data)

    # -- sessions, retries, errors, logging --

    def _open(self) -> requests.Session:
        """The client's session, built on first use. ``trust_env`` is off so that no call looks at the
        environment; instead the proxy (``HTTPS_PROXY``/``NO_PROXY``, never for loopback) and CA bundle
        (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) settings are read here, once per client."""
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is None:
                self._proxies, self._verify = transport_settings(self._base_url)
                self._session = new_session(pinned_adapter_type()(pool_connections=2, pool_maxsize=POOL_SIZE,
                                                                  max_retries=0))
            return self._session

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

    def _transport_error(self, action: str, exc: Exception) -> TransportError:
        import requests  # lazy, see _send

        kinds = ((requests.exceptions.SSLError, "TLS failed"), (requests.ConnectTimeout, "connect timed out"),
                 (requests.ReadTimeout, "read timed out"), (requests.ConnectionError, "connection failed"),
                 (requests.exceptions.ChunkedEncodingError, "answer cut off"))
        kind = next((label for cls, label in kinds if isinstance(exc, cls)), "request failed")
        detail = re.sub(r"url: /\S*", "url: /", self._scrub(mask_tokens(str(exc))))  # v1 query: token
        return TransportError(f"{action} to {self.endpoint}: {kind} ({type(exc).__name__}: {detail})",
                              endpoint=self.endpoint, action=action,
                              retryable=not isinstance(exc, requests.exceptions.SSLError))

    def _response_error(self, action: str, status: int, request_id: str | None, what: str) -> ResponseError:
        hint = ("; the service or a proxy failed" if status >= 500
                else "; is the endpoint a GA API endpoint?" if status != 200 else "")
        message = self._scrub(f"{action} got HTTP {status} from {self.endpoint} with {what}{hint}")
        return ResponseError(message, http_status=status, action=action, request_id=request_id)

    def _scrub(self, text: str) -> str:
        return self._scrubber(text)

    def _scrub_opt(self, value: Any) -> str | None:
        return self._scrub(str(value)) if value else None

    def _scrub_log(self, text: str) -> str:
        return self._scrub(mask_tokens(text))

    def _log_signing(self, action: str, attempt: int, canonical: str, string_to_sign: str) -> None:
        logger.debug("%s attempt %d (%s) canonical request:\n%s\nstring to sign:\n%s", action, attempt,
                     self.signature_version, self._scrub_log(canonical), self._scrub_log(string_to_sign))
