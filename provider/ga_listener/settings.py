"""Provider settings from stack configuration and the environment (the table in README "Configuration").

Stack config wins over the environment. Credentials are not resolved here: a preview needs none, so they are
looked up only when the first API call builds a client (see :mod:`ga_listener.credentials`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ga_listener.errors import ConfigurationError

__all__ = ["CREDENTIAL_KEYS", "DEFAULT_CREATE_VISIBILITY_TIMEOUT", "DEFAULT_WAIT_TIMEOUT", "ProviderSettings"]

DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_CREATE_VISIBILITY_TIMEOUT = 10.0
# Credential keys the chain (``ga_listener.chain``, loaded only for an API call) names too: declared once, here.
ASSUME_ROLE_KEY, OIDC_KEY = "alicloud:assumeRole", "alicloud:assumeRoleWithOidc"
STS_ENDPOINT_KEY, METADATA_ENDPOINT_KEY = "ga-listener:stsEndpoint", "ga-listener:ecsMetadataEndpoint"
#: Stack config keys that the credential chain reads (some are secrets): the alicloud provider's, and where our
#: STS and metadata calls go.
CREDENTIAL_KEYS = (
    "alicloud:accessKey", "alicloud:secretKey", "alicloud:securityToken", "alicloud:profile",
    "alicloud:sharedCredentialsFile", ASSUME_ROLE_KEY, OIDC_KEY, "alicloud:ecsRoleName",
    "alicloud:credentialsUri", STS_ENDPOINT_KEY, METADATA_ENDPOINT_KEY,
)
#: Credential keys whose value is an object: the engine hands it over as JSON text (or, from a program, a dict).
OBJECT_KEYS = (ASSUME_ROLE_KEY, OIDC_KEY)
ENDPOINT_KEY = "ga-listener:endpoint"
SIGNATURE_KEY = "ga-listener:signatureVersion"
WAIT_TIMEOUT_KEY = "ga-listener:waitTimeout"
REGION_KEY = "alicloud:region"
LOG_LEVEL_KEY = "ga-listener:logLevel"
MAX_PORTS_KEY = "ga-listener:maxListenerPorts"
CREATE_VISIBILITY_KEY = "ga-listener:createVisibilityTimeout"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ProviderSettings:
    """Everything ``configure()`` read. Hashable, so clients can be shared per distinct settings."""

    endpoint: str | None = None
    signature_version: str = "v3"
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    region: str | None = None
    log_level: str | None = None
    max_listener_ports: int | None = None  # a per-listener port limit checked at preview, if the stack sets one
    create_visibility_timeout: float = DEFAULT_CREATE_VISIBILITY_TIMEOUT
    # The alicloud:* credential keys as given in the stack config; never shown in a repr.
    credential_config: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("ProviderSettings may hold credentials and are never pickled")

    @classmethod
    def from_config(
        cls, get: Callable[[str], Any], environ: Mapping[str, str] | None = None
    ) -> ProviderSettings:
        """Read settings with ``get(key)`` (the host's ``ConfigureRequest.config.get``) and the environment."""
        env = os.environ if environ is None else environ
        endpoint = _text(get(ENDPOINT_KEY)) or env.get("GA_LISTENER_ENDPOINT") or None
        region = _text(get(REGION_KEY)) or env.get("ALIBABA_CLOUD_REGION") or env.get("ALICLOUD_REGION")
        credentials = tuple((key, text) for key in CREDENTIAL_KEYS if (text := _credential_text(key, get(key))))
        return cls(
            endpoint=endpoint,
            signature_version=_signature_version(get(SIGNATURE_KEY)),
            wait_timeout=_wait_timeout(get(WAIT_TIMEOUT_KEY)),
            region=region or None,
            log_level=_log_level(_text(get(LOG_LEVEL_KEY)) or env.get("GA_LISTENER_LOG_LEVEL", "")),
            max_listener_ports=_max_ports(get(MAX_PORTS_KEY)),
            create_visibility_timeout=_seconds(CREATE_VISIBILITY_KEY, get(CREATE_VISIBILITY_KEY),
                                               DEFAULT_CREATE_VISIBILITY_TIMEOUT),
            credential_config=credentials,
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _credential_text(key: str, value: Any) -> str:
    """A credential key's value as text; an object as canonical JSON (so equal settings hash alike). Only the
    shape is checked here, at preview; the chain checks the fields when the first API call needs them."""
    if key not in OBJECT_KEYS or value is None:
        return _text(value)
    if isinstance(value, str):
        if not value.strip():
            return ""
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, Mapping):  # never echo the value: it may hold an OIDC token
        raise ConfigurationError(f"{key} must be an object (JSON text from the stack config)", setting=key)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _signature_version(value: Any) -> str:
    version = _text(value).lower() or "v3"
    if version not in ("v1", "v3"):
        raise ConfigurationError(f"{SIGNATURE_KEY} must be v3 (the default) or v1, got {_text(value)!r}",
                                 setting=SIGNATURE_KEY)
    return version


def _seconds(key: str, value: Any, default: float) -> float:
    text = _text(value)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ConfigurationError(f"{key} must be a positive number of seconds, got {text!r}", setting=key)
    return seconds


def _wait_timeout(value: Any) -> float:
    return _seconds(WAIT_TIMEOUT_KEY, value, DEFAULT_WAIT_TIMEOUT)


def _max_ports(value: Any) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{MAX_PORTS_KEY} must be a whole number of ports, at least 1, got {text!r}",
                                 setting=MAX_PORTS_KEY)
    return int(text)


def _log_level(value: str) -> str | None:
    level = value.strip().lower()
    if level and level not in LOG_LEVELS:
        raise ConfigurationError(f"{LOG_LEVEL_KEY} must be one of {', '.join(LOG_LEVELS)}, got {value!r}",
                                 setting=LOG_LEVEL_KEY)
    return level or None
