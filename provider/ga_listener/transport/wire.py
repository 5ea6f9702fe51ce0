"""What travels on the wire around a call: endpoint rules, response bodies, Retry-After, token masking.

Pure helpers of both clients (the HTTP exchange itself is :mod:`ga_listener.transport.http`): importing this module
imports no HTTP library.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ga_listener.transport.errors import ConfigurationError

__all__ = [
    "SCRUB_WINDOW",
    "URL_FILTER",
    "is_loopback",
    "mask_tokens",
    "parse_body",
    "parse_endpoint",
    "retry_after_seconds",
    "service_throttled",
]

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
