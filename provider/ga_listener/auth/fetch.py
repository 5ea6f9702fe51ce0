"""The HTTP plumbing of the credential sources (STS, the ECS metadata service, a credentials URI).

:class:`Fetcher` sends one request with a few quick retries (connection failures, 5xx, 429) and turns every
failure into a :class:`~ga_listener.transport.errors.CredentialsRefreshError` that names the source and what went
wrong, with every secret it knows scrubbed and no URL query in it. It sends through
:class:`~ga_listener.transport.http.HttpSession`, like the GA client (never a proxy for the metadata service).
URLs obey the GA endpoint's rule: plain ``http://`` only on loopback (and on the hosts a source names, the
metadata service).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ga_listener.auth.keys import Scrubber
from ga_listener.transport.errors import ConfigurationError, CredentialsRefreshError
from ga_listener.transport.http import ExchangeFailed, HttpSession
from ga_listener.transport.wire import SCRUB_WINDOW, is_loopback, mask_tokens

__all__ = ["USER_AGENT", "Fetcher", "Reply", "check_url", "one_line", "shown_url"]

USER_AGENT = "ga-listener/0.1 (python-requests; credentials)"
ATTEMPTS = 3  # quick retries of one credential request: a refresh failure is retried later anyway
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def one_line(value: Any, limit: int, scrub: Callable[[str], str]) -> str:
    """``value`` as text on one line: scrubbed whole first, then cut at ``limit`` characters (cutting first
    could leave a piece of a secret that the scrubber no longer recognises)."""
    return " ".join(scrub(str(value)[:SCRUB_WINDOW]).split())[:limit]


def check_url(url: str, setting: str, *, plain_http_hosts: Collection[str] = ()) -> str:
    """``url`` if it is an http(s) URL of a host with no user info; plain http only for loopback and
    ``plain_http_hosts``. Raises ``ConfigurationError`` naming ``setting`` (the URL is shown without its query)."""
    parts = urlsplit(url.strip())
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid or "@" in parts.netloc:
        raise ConfigurationError(f"{setting}: {shown_url(url)!r} is not an http(s) URL of a host", setting=setting)
    host = parts.hostname or ""
    if parts.scheme == "http" and not (is_loopback(host) or host in plain_http_hosts):
        raise ConfigurationError(f"{setting}: plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, "
                                 f"localhost); use https:// for {shown_url(url)!r}", setting=setting)
    return url.strip()


def shown_url(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url``: no user info and no query, which could hold a secret."""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status and body."""

    status: int
    body: bytes

    def json(self) -> dict[str, Any] | None:
        """The body as a JSON object, or ``None``."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def text(self, limit: int, scrub: Callable[[str], str]) -> str:
        """The body as one line of text, scrubbed, then cut at ``limit`` characters."""
        return one_line(self.body[:SCRUB_WINDOW].decode("utf-8", "replace"), limit, scrub)


class Fetcher:
    """Sends requests for one credential source; never pickled.

    ``source`` names the source in every error; ``scrub`` removes known secrets from what a server says;
    ``direct`` never uses a proxy (the metadata service is on the instance's own link).
    """

    def __init__(
        self, source: str, *, scrub: Scrubber, timeouts: tuple[float, float] = (5.0, 10.0), direct: bool = False,
    ) -> None:
        self.source, self._scrub, self._timeouts = source, scrub, timeouts
        self._http = HttpSession(pool_size=4, direct=direct)

    def __repr__(self) -> str:
        return f"Fetcher(source={self.source!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a Fetcher holds a session and is never pickled")

    def fail(self, why: str) -> CredentialsRefreshError:
        """The error to raise: ``could not get credentials from <source>: <why>`` (scrubbed)."""
        return CredentialsRefreshError(self._scrub(f"could not get credentials from {self.source}: {why}"),
                                       source=self.source)

    def send(
        self, method: str, url: str, *, what: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
    ) -> Reply:
        """One request (``what`` names it in errors), retried on connection failures and 429/5xx answers."""
        all_headers = {"user-agent": USER_AGENT, **(headers or {})}
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self._http.send(method, url, headers=all_headers, body=body, timeout=self._timeouts)
            except ExchangeFailed as failed:
                if attempt < ATTEMPTS and failed.retryable:
                    time.sleep(0.2 * 2 ** (attempt - 1))
                    continue
                raise self.fail(f"{what} to {shown_url(url)} failed ({self._describe(failed)})") from None
            reply = Reply(answer.status, answer.body)
            if reply.status in _RETRY_STATUSES and attempt < ATTEMPTS:
                time.sleep(0.2 * 2 ** (attempt - 1))
                continue
            return reply
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _describe(self, failed: ExchangeFailed) -> str:
        detail = re.sub(r"url: \S*", "url: /", self._scrub(mask_tokens(failed.detail)))  # no path or query
        return f"{failed.exception}: {detail[:300]}"  # scrubbed whole, then cut
