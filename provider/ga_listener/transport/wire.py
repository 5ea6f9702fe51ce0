"""What travels on the wire around a call: endpoint rules, response bodies, Retry-After, token masking.

Pure helpers of :class:`ga_listener.api.client.GaClient`, plus the pooled adapter it mounts. ``requests`` is imported
only inside the functions that need it, so importing this module imports no HTTP library.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ga_listener.transport.errors import ConfigurationError

__all__ = [
    "SCRUB_WINDOW",
    "URL_FILTER",
    "is_loopback",
    "mask_tokens",
    "new_session",
    "parse_body",
    "parse_endpoint",
    "pinned_adapter_type",
    "retry_after_seconds",
    "service_throttled",
    "transport_settings",
]

if TYPE_CHECKING:
    import requests
    from requests import PreparedRequest
    from requests.adapters import HTTPAdapter

#: How much of what a server said is scrubbed before it is cut short for a message: far longer than any secret,
#: so that no cut leaves a piece of one the scrubber can no longer recognise.
SCRUB_WINDOW = 1 << 20
# v1 carries SecurityToken in the query (also inside the once more encoded string-to-sign); v3 in a header
_TOKEN_PATTERNS = (re.compile(r"(SecurityToken=)[^&\s\"']*"),
                   re.compile(r"(SecurityToken%3D)(?:(?!%26)[^&\s\"'])*"),
                   re.compile(r"(x-acs-security-token:).*$", re.MULTILINE))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): the only hosts plain http may reach."""
    import ipaddress  # only endpoint checks need it

    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_endpoint(endpoint: str) -> tuple[str, str]:
    """``(base URL ending in /, host header)``; plain http only for loopback hosts."""
    raw = endpoint.strip()
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if "@" in parts.netloc:
        raise ConfigurationError("the endpoint must not contain user info", setting="endpoint")
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"endpoint {endpoint!r} is not an http(s) URL of a host", setting="endpoint")
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise ConfigurationError(f"endpoint {endpoint!r}: plain http is allowed only for loopback hosts "
                                 "(127.0.0.0/8, ::1, localhost); use https://", setting="endpoint")
    return f"{parts.scheme}://{parts.netloc}/", parts.netloc


def service_throttled(headers: Mapping[str, str]) -> bool:
    """True when the answer carries a positive ``x-acs-retry-after`` (milliseconds), as the official SDK reads it."""
    try:
        return float(headers.get("x-acs-retry-after") or 0) > 0
    except ValueError:
        return False


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` (seconds) or Alibaba's ``x-acs-retry-after`` (milliseconds), if positive."""
    for name, scale in (("retry-after", 1.0), ("x-acs-retry-after", 0.001)):
        try:
            seconds = float(headers.get(name) or 0) * scale
        except ValueError:  # an HTTP date: not honoured
            continue
        if seconds > 0:
            return seconds
    return None


def parse_body(body: bytes, scrub: Callable[[str], str]) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in ``body``, or ``None`` and what the body was instead (``scrub`` runs on any quoted
    text before it is cut short, so no fragment of a credential survives)."""
    text = body.strip()
    if not text:
        return None, "an empty body"
    if text[:1] == b"<":
        title = re.search(rb"<title>(.{0,80}?)</title>", text, re.IGNORECASE | re.DOTALL)
        named = f" titled {scrub(title.group(1).decode('utf-8', 'replace'))!r}" if title else ""
        return None, f"an HTML/XML page{named}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        if text[:1] in (b"{", b"["):
            where = f"{getattr(exc, 'msg', exc)} at byte {getattr(exc, 'pos', '?')}"
            return None, f"truncated or invalid JSON ({where})"
        return None, f"non-JSON text {scrub(text[:SCRUB_WINDOW].decode('utf-8', 'replace'))[:60]!r}"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__} instead of an object"
    return data, ""


def mask_tokens(text: str) -> str:
    """``text`` with any STS token in a v1 query, a v1 string-to-sign or a v3 header replaced by ``***``."""
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


_QUERY = re.compile(r"\?[^\s\"']*")


class _MaskQueriesInUrls(logging.Filter):
    """On urllib3's pool logger: its DEBUG lines print request URLs, whose query may hold v1's SecurityToken or
    a credentials URI's secret. Every query is shown as ``?***`` (the client's own debug log prints each
    canonical request, tokens masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("?***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?***", mask_tokens(record.msg))
        return True


URL_FILTER = _MaskQueriesInUrls()


def new_session(adapter: HTTPAdapter) -> requests.Session:
    """A ``requests.Session`` that reads nothing from the environment (``trust_env`` off: callers read the proxy
    and CA bundle settings once) and mounts ``adapter``; urllib3's request log lines lose their queries."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    logging.getLogger("urllib3.connectionpool").addFilter(URL_FILTER)  # idempotent
    return session


def transport_settings(url: str, *, direct: bool = False) -> tuple[dict[str, str], bool | str]:
    """``(proxies, verify)`` for requests to ``url``: no proxy for loopback (or ``direct``), else
    ``HTTPS_PROXY``/``NO_PROXY``; the CA bundle of ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else the default."""
    import requests

    if direct or is_loopback(urlsplit(url).hostname or ""):
        return {}, True
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return requests.utils.get_environ_proxies(url), bundle or True


@functools.cache
def pinned_adapter_type() -> type[HTTPAdapter]:
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
