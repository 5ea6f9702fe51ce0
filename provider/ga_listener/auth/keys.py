"""The credential values and the providers that hand them out: below the chain, which only decides which source.

A client asks its provider for the current :class:`Credentials` before every attempt. A static key pair is its
own provider; temporary credentials (a role, the ECS instance role, OIDC, a credentials URI) come from a
:class:`RefreshingCredentials`, which fetches them on first use and again before they expire: once the time
left is below ``min(REFRESH_MARGIN, half the lifetime)`` (15 minutes, as the SDKs refresh; half the lifetime,
so that a short-lived credential is fetched once, not at every call). Short-lived credentials are used;
credentials that have already expired when they arrive are refused. One thread refreshes, under a lock; the
others keep using the old credentials while they are still valid, or wait for the new ones. A failed refresh
raises :class:`~ga_listener.transport.errors.CredentialsRefreshError` naming the source and why, unless the old
credentials are still valid (then they are used and the refresh is tried again soon).

:class:`Scrubber` removes every secret it was given from text before it is shown. Nothing here reads the network
or the environment; no credential, provider or scrubber can be pickled, and no ``repr`` shows a secret.
"""

from __future__ import annotations

import calendar
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import quote_plus

from ga_listener.transport import signing
from ga_listener.transport.errors import ConfigurationError, CredentialsRefreshError

__all__ = [
    "REFRESH_MARGIN",
    "Credentials",
    "CredentialsProvider",
    "RefreshingCredentials",
    "Scrubber",
    "format_expiration",
    "parse_expiration",
]

logger = logging.getLogger("ga_listener.credentials")  # the name users see in the provider's log lines
logger.addHandler(logging.NullHandler())

#: Temporary credentials are refreshed once less than ``min(REFRESH_MARGIN, lifetime / 2)`` seconds remain: the
#: SDKs' 15 minutes, so that a server clock up to that far ahead never sees an expired token.
REFRESH_MARGIN = 900.0
#: After a failed refresh while the old credentials are still valid, the next try waits this long at most.
RETRY_AFTER_FAILURE = 10.0
# Shorter strings are no usable credential (real secrets are 30 characters) and would mangle unrelated text.
_MIN_SCRUB = 8


class Credentials:
    """An access key pair, an optional STS token and when they expire; ``repr`` shows only the key id and source.

    Immutable. ``source`` says where the pair came from (e.g. ``environment ALIBABA_CLOUD_ACCESS_KEY_ID``);
    ``expiration`` is epoch seconds (``None``: does not expire). A ``Credentials`` is its own provider.
    """

    __slots__ = ("access_key_id", "access_key_secret", "expiration", "security_token", "source")

    access_key_id: str
    access_key_secret: str
    security_token: str | None
    source: str
    expiration: float | None

    def __init__(
        self, access_key_id: str, access_key_secret: str, security_token: str | None = None,
        source: str = "explicit", expiration: float | None = None,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ConfigurationError(
                f"credentials from {source} need both an access key id and an access key secret",
                setting="credentials",
            )
        object.__setattr__(self, "access_key_id", access_key_id)
        object.__setattr__(self, "access_key_secret", access_key_secret)
        object.__setattr__(self, "security_token", security_token or None)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "expiration", expiration)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self.security_token else ""
        expires = f", expiration={format_expiration(self.expiration)!r}" if self.expiration is not None else ""
        return f"Credentials(access_key_id={self.access_key_id!r}, source={self.source!r}{token}{expires})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickle would carry the secret wherever it is stored; in a provider that is Pulumi state.
        raise TypeError("Credentials hold a secret and are never pickled")

    def _key(self) -> tuple[str, str, str | None, str, float | None]:
        return (self.access_key_id, self.access_key_secret, self.security_token, self.source, self.expiration)

    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown: the secret and the token."""
        return tuple(s for s in (self.access_key_secret, self.security_token) if s)

    # -- the provider protocol: a static pair is its own provider --

    def get_credentials(self) -> Credentials:
        """Itself: static credentials never change."""
        return self

    def invalidate(self, stale: Credentials) -> None:
        """Nothing to do: static credentials cannot be renewed."""


class CredentialsProvider(Protocol):
    """Anything a client can ask for the current credentials before each attempt."""

    @property
    def source(self) -> str:
        """Where the credentials come from (never a secret)."""
        ...

    def get_credentials(self) -> Credentials:
        """Credentials valid now; may fetch or refresh them (raises ``CredentialsRefreshError``)."""
        ...

    def invalidate(self, stale: Credentials) -> None:
        """The service refused ``stale`` as expired: get new ones on the next call."""
        ...


def parse_expiration(text: Any, what: str) -> float:
    """Epoch seconds of a UTC ``YYYY-MM-DDThh:mm:ssZ`` (fractions allowed); raises ``ValueError`` naming ``what``."""
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return float(calendar.timegm(time.strptime(str(text), pattern)))
        except ValueError:
            continue
    raise ValueError(f"{what} is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ")


def format_expiration(epoch: float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` of an epoch second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class RefreshingCredentials:
    """Temporary credentials from ``fetch``, fetched on first use and refreshed before they expire.

    ``fetch()`` returns ``Credentials`` with an ``expiration`` (``None``: they are kept for ``margin``) and
    raises ``CredentialsRefreshError`` naming the source when it cannot; credentials already expired when they
    arrive are refused the same way. ``clock`` is the wall clock
    (expirations are absolute times). Thread-safe; never pickled.
    """

    def __init__(
        self, fetch: Callable[[], Credentials], source: str, *, clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        self._fetch, self._source, self._clock, self._margin = fetch, source, clock, margin
        self._lock = threading.Lock()
        # (credentials, used until, refreshed after): replaced as one tuple, so readers without the lock
        # never see the times of one credential with another
        self._state: tuple[Credentials | None, float, float] = (None, float("-inf"), float("-inf"))

    @property
    def source(self) -> str:
        """Where the credentials come from."""
        return self._source

    def __repr__(self) -> str:
        return f"RefreshingCredentials(source={self._source!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("RefreshingCredentials hold credentials and are never pickled")

    def get_credentials(self) -> Credentials:
        """The current credentials, fetched or refreshed first when they are due."""
        state = self._state
        current, valid_until, refresh_at = state
        now = self._clock()
        if current is not None and now < refresh_at:
            return current
        still_valid = current is not None and now < valid_until
        if not self._lock.acquire(blocking=not still_valid):
            assert current is not None
            return current  # another thread is refreshing; these are still good
        try:
            latest, _, latest_refresh_at = self._state
            if self._state is not state and latest is not None and self._clock() < latest_refresh_at:
                return latest  # refreshed by another thread while this one waited for the lock
            return self._refresh()
        finally:
            self._lock.release()

    def invalidate(self, stale: Credentials) -> None:
        """Stop using ``stale`` (the service said it expired); the next call fetches new credentials."""
        with self._lock:
            if self._state[0] is stale:
                self._state = (stale, float("-inf"), float("-inf"))

    def _refresh(self) -> Credentials:
        current, valid_until, _ = self._state
        now = self._clock()
        try:
            fresh = self._fetch()
            if fresh.expiration is not None and fresh.expiration <= now:
                raise _expired(fresh.expiration, now, self._source)
        except CredentialsRefreshError as error:
            if current is not None and now < valid_until:
                self._state = (current, valid_until, now + min(RETRY_AFTER_FAILURE, (valid_until - now) / 2))
                logger.warning("refreshing credentials failed; still using the current ones: %s", error)
                return current
            raise
        expiration = fresh.expiration if fresh.expiration is not None else now + self._margin
        lifetime = max(expiration - now, 0.0)
        self._state = (fresh, expiration, expiration - min(self._margin, lifetime / 2))
        logger.info("credentials from %s: key %s, valid for %.0f s", self._source, fresh.access_key_id, lifetime)
        return fresh


def _expired(expiration: float, now: float, source: str) -> CredentialsRefreshError:
    """The source answered credentials that are already over: using them would only earn
    ``InvalidSecurityToken.Expired`` (or, if this machine's clock is behind, work until it is not)."""
    return CredentialsRefreshError(
        f"could not get credentials from {source}: they expired at {format_expiration(expiration)}, "
        f"{now - expiration:.0f} s before now by this machine's clock ({format_expiration(now)}); check the "
        "source and this machine's clock (NTP)", source=source)


class Scrubber:
    """Replaces every form of the secrets it was given (raw, URL- and JSON-encoded) by ``***``; thread-safe.

    Secrets are only ever added: a rotated secret stays scrubbed for the life of the scrubber.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._forms: tuple[str, ...] = ()
        self.add(*secrets)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a Scrubber holds secrets and is never pickled")

    def __repr__(self) -> str:
        return f"Scrubber({len(self._known)} secrets)"

    def add(self, *secrets: str | None) -> None:
        """Scrub these too (``None`` and short strings are ignored)."""
        new = {s for s in secrets if s and s not in self._known}
        if not new:
            return
        with self._lock:
            self._known |= new
            forms = {f for s in self._known for f in (s, signing.percent_encode(s), quote_plus(s), json.dumps(s)[1:-1])}
            forms |= {signing.percent_encode(form) for form in forms}  # a v1 string-to-sign encodes twice
            self._forms = tuple(sorted((f for f in forms if len(f) >= _MIN_SCRUB), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "***")
        return text
