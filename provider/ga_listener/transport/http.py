"""HTTP exchanges for both clients (the GA client and the credential sources): the only module that imports
``requests``, and only on a client's first request, so a preview imports no HTTP library.

:class:`HttpSession` is one pooled ``requests.Session`` that ignores the environment (``trust_env`` off): the proxy
(``HTTPS_PROXY``/``NO_PROXY``, never for loopback) and CA bundle (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``)
settings are read once per host instead. :meth:`HttpSession.send` answers an :class:`Answer` or raises
:class:`ExchangeFailed` (no answer at all), which carries requests' own text unscrubbed: callers scrub it and raise
their own error, never chaining this one.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ga_listener.transport.wire import URL_FILTER, is_loopback

if TYPE_CHECKING:
    import requests
    from requests import PreparedRequest
    from requests.adapters import HTTPAdapter

__all__ = ["Answer", "ExchangeFailed", "HttpSession"]

Transport = tuple[dict[str, str], bool | str]  # (proxies, verify) for one host


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (case-insensitive) and body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header as text: http.client decodes headers as latin-1, so UTF-8 bytes are decoded again."""
        value = self.headers.get(name)
        if value is None:
            return None
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value


class ExchangeFailed(Exception):
    """No answer came: ``kind`` says how (``connect timed out``, ``TLS failed``, ...); ``detail`` is requests' text,
    not scrubbed (it may hold the URL); ``retryable`` is False for TLS failures."""

    def __init__(self, kind: str, exception: str, detail: str, *, retryable: bool) -> None:
        super().__init__(kind)
        self.kind, self.exception, self.detail, self.retryable = kind, exception, detail, retryable


class HttpSession:
    """One pooled session, safe to share between threads; never pickled (it may hold open connections).

    ``pin_pools`` remembers each endpoint's connection pool (a hot path: one GA endpoint, many calls);
    ``direct`` never uses a proxy (the ECS metadata service is on the instance's own link).
    """

    def __init__(self, *, pool_size: int = 4, pin_pools: bool = False, direct: bool = False) -> None:
        self._pool_size, self._pin_pools, self._direct = pool_size, pin_pools, direct
        self._session: requests.Session | None = None
        self._transports: dict[str, Transport] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("an HttpSession holds connections and is never pickled")

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None,
        timeout: tuple[float, float], exact_url: bool = False,
    ) -> Answer:
        """One exchange, no retry and no redirect. With ``exact_url`` the URL goes out byte for byte as given (a
        signed query must not be re-encoded); otherwise requests prepares it."""
        import requests

        session, (proxies, verify) = self._open(url)
        if exact_url:
            from requests.structures import CaseInsensitiveDict

            prepared = requests.PreparedRequest()
            prepared.method, prepared.url, prepared.headers = method, url, CaseInsensitiveDict(headers)
            if body is not None:
                prepared.body = body
                prepared.headers["Content-Length"] = str(len(body))
        else:
            prepared = session.prepare_request(requests.Request(method, url, headers=dict(headers), data=body))
        try:
            response = session.send(prepared, timeout=timeout, allow_redirects=False, proxies=proxies, stream=False,
                                    verify=verify, cert=None)
        except requests.RequestException as exc:
            failure = _failure(exc)
        else:
            return Answer(response.status_code, response.content, response.headers)
        raise failure  # outside the except block: requests' error (and its URL) is not chained

    def close(self) -> None:
        """Close pooled connections; the session reopens them if used again."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    def _open(self, url: str) -> tuple[requests.Session, Transport]:
        host = urlsplit(url).netloc
        with self._lock:
            if self._session is None:
                self._session = _new_session(self._pool_size, self._pin_pools)
            if host not in self._transports:
                self._transports[host] = _transport_settings(url, direct=self._direct)
            return self._session, self._transports[host]


def _failure(exc: Exception) -> ExchangeFailed:
    import requests

    kinds = ((requests.exceptions.SSLError, "TLS failed"), (requests.ConnectTimeout, "connect timed out"),
             (requests.ReadTimeout, "read timed out"), (requests.ConnectionError, "connection failed"),
             (requests.exceptions.ChunkedEncodingError, "answer cut off"))
    kind = next((label for cls, label in kinds if isinstance(exc, cls)), "request failed")
    return ExchangeFailed(kind, type(exc).__name__, str(exc),
                          retryable=not isinstance(exc, requests.exceptions.SSLError))


def _new_session(pool_size: int, pin_pools: bool) -> requests.Session:
    """A session that reads nothing from the environment; urllib3's request log lines lose their queries."""
    import requests
    from requests.adapters import HTTPAdapter

    adapter_type = _pinned_adapter_type() if pin_pools else HTTPAdapter
    adapter = adapter_type(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    logging.getLogger("urllib3.connectionpool").addFilter(URL_FILTER)  # idempotent
    return session


def _transport_settings(url: str, *, direct: bool = False) -> Transport:
    """``(proxies, verify)`` for requests to ``url``: no proxy for loopback (or ``direct``), else
    ``HTTPS_PROXY``/``NO_PROXY``; the CA bundle of ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else the default."""
    import requests

    if direct or is_loopback(urlsplit(url).hostname or ""):
        return {}, True
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return requests.utils.get_environ_proxies(url), bundle or True


@functools.cache
def _pinned_adapter_type() -> type[HTTPAdapter]:
    """An ``HTTPAdapter`` that remembers the connection pool of each endpoint, so a call skips re-deriving
    urllib3's pool key from the URL (built on first use: requests is imported lazily)."""
    from requests.adapters import HTTPAdapter

    class PinnedPoolAdapter(HTTPAdapter):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._pinned: dict[tuple[str, str, str], Any] = {}  # -> urllib3 connection pool

        def get_connection_with_tls_context(
            self, request: PreparedRequest, verify: Any, proxies: Mapping[str, str] | None = None, cert: Any = None
        ) -> Any:
            url = request.url or ""
            key = (url[: url.find("/", url.find("://") + 3)], repr(verify), repr(cert))
            pool = None if proxies else self._pinned.get(key)
            if pool is None:
                pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
                if not proxies:
                    self._pinned[key] = pool
            return pool

        def close(self) -> None:
            self._pinned.clear()
            super().close()

    return PinnedPoolAdapter
