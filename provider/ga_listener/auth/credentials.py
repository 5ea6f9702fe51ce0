"""The entry point of the credential chain, and the credential types (:mod:`ga_listener.auth.keys`) under their
public names.

Which source is used is decided by :func:`resolve_credentials` (the order is documented in
:mod:`ga_listener.auth.chain` and the README). The chain builds on :mod:`ga_listener.auth.keys`, never on this module,
so the two import in one direction only. Nothing here reads the network or the environment at import.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ga_listener.auth.keys import (
    REFRESH_MARGIN,
    Credentials,
    CredentialsProvider,
    RefreshingCredentials,
    Scrubber,
    format_expiration,
    parse_expiration,
)

__all__ = [
    "REFRESH_MARGIN",
    "Credentials",
    "CredentialsProvider",
    "RefreshingCredentials",
    "Scrubber",
    "default_profile_path",
    "format_expiration",
    "parse_expiration",
    "resolve_credentials",
]


def default_profile_path() -> Path:
    """``~/.aliyun/config.json``, the Alibaba Cloud CLI's credentials file."""
    return Path.home() / ".aliyun" / "config.json"


def resolve_credentials(
    *,
    explicit: Credentials | None = None,
    config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    profile_path: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> Credentials | CredentialsProvider:
    """Walk the chain (see :mod:`ga_listener.auth.chain`); the first source configured wins.

    Returns static ``Credentials`` or a provider of temporary ones; nothing is fetched yet (no network call
    here). ``config`` holds the stack config's credential keys (``settings.CREDENTIAL_KEYS``); ``environ``
    defaults to ``os.environ``, ``profile_path`` (the profile file used when neither
    ``alicloud:sharedCredentialsFile`` nor its environment variables name one) to ``~/.aliyun/config.json``.
    Raises ``CredentialsNotFoundError`` listing every place looked at (names only, never values), or
    ``ConfigurationError`` naming a setting that is half set or malformed.
    """
    if explicit is not None:
        return explicit
    from ga_listener.auth.chain import Chain  # the chain and its sources load only when a client is built

    return Chain(config or {}, os.environ if environ is None else environ,
                 profile_path or default_profile_path(), clock).resolve()
