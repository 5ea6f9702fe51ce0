"""Provider settings from stack configuration and the environment (the table in README "Configuration").

Stack config wins over the environment. Credentials are not resolved here: a preview needs none, so they are
looked up only when the first API call builds a client (see :mod:`ga_listener.auth.credentials`). The credential keys
are checked here, though, so that a preview already refuses a malformed one, naming it: the role objects'
fields and types, the session expirations and ``alicloud:endpoints``. Every other ``alicloud:*`` key is the
alicloud provider's and has no effect here: each gets one warning, naming it (never its value).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ga_listener.config.environment import Environment
from ga_listener.transport.errors import ConfigurationError

__all__ = ["CREDENTIAL_KEYS", "DEFAULT_CREATE_VISIBILITY_TIMEOUT", "DEFAULT_WAIT_TIMEOUT", "KEYS", "ProviderSettings"]

logger = logging.getLogger("ga_listener.settings")

DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_CREATE_VISIBILITY_TIMEOUT = 10.0
# Credential keys the chain (``ga_listener.auth.chain``, loaded only for an API call) names too: declared once, here.
ASSUME_ROLE_KEY, OIDC_KEY = "alicloud:assumeRole", "alicloud:assumeRoleWithOidc"
STS_ENDPOINT_KEY, METADATA_ENDPOINT_KEY = "ga-listener:stsEndpoint", "ga-listener:ecsMetadataEndpoint"
ENDPOINTS_KEY, REGION_KEY = "alicloud:endpoints", "alicloud:region"
#: The fields of the role objects (pulumi-alicloud's names).
ASSUME_ROLE_FIELDS = ("roleArn", "sessionName", "sessionExpiration", "policy", "externalId")
OIDC_FIELDS = ("roleArn", "oidcProviderArn", "oidcToken", "oidcTokenFile", "roleSessionName", "sessionExpiration",
               "policy")
#: Stack config keys that the credential chain reads (some are secrets): the alicloud provider's, and where our
#: STS and metadata calls go.
CREDENTIAL_KEYS = (
    "alicloud:accessKey", "alicloud:secretKey", "alicloud:securityToken", "alicloud:profile",
    "alicloud:sharedCredentialsFile", ASSUME_ROLE_KEY, OIDC_KEY, "alicloud:ecsRoleName",
    "alicloud:credentialsUri", STS_ENDPOINT_KEY, METADATA_ENDPOINT_KEY, ENDPOINTS_KEY, REGION_KEY,
)
#: Credential keys whose value is JSON (objects, a list): the engine hands it over as text (a program, as is).
OBJECT_KEYS = {ASSUME_ROLE_KEY: ASSUME_ROLE_FIELDS, OIDC_KEY: OIDC_FIELDS, ENDPOINTS_KEY: ()}
ENDPOINT_KEY = "ga-listener:endpoint"
SIGNATURE_KEY = "ga-listener:signatureVersion"
WAIT_TIMEOUT_KEY = "ga-listener:waitTimeout"
LOG_LEVEL_KEY = "ga-listener:logLevel"
MAX_PORTS_KEY = "ga-listener:maxListenerPorts"
CREATE_VISIBILITY_KEY = "ga-listener:createVisibilityTimeout"
#: Every stack config key the provider reads (its own ``ga-listener:*`` and the alicloud provider's credential keys).
KEYS = (ENDPOINT_KEY, SIGNATURE_KEY, WAIT_TIMEOUT_KEY, LOG_LEVEL_KEY, MAX_PORTS_KEY, CREATE_VISIBILITY_KEY,
        *CREDENTIAL_KEYS)
LOG_LEVELS = ("debug", "info", "warning", "error")
#: The STS session expiration every role accepts (seconds; a role's own maximum may be lower).
SESSION_SECONDS = (900, 43200)
_NAME = re.compile(r"[A-Za-z][A-Za-z_]{0,39}")  # a field name we may repeat: no secret is letters only
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_warned: set[str] = set()  # once per process: each CLI operation is a new provider host
_warned_lock = threading.Lock()


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
    def from_config(cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ProviderSettings:
        """Read settings from the stack config (every key: namespaced ones such as ``alicloud:region``; values as
        the engine hands them over, text) and the environment."""
        env = os.environ if environ is None else environ
        get = config.get
        endpoint = _text(get(ENDPOINT_KEY)) or env.get("GA_LISTENER_ENDPOINT") or None
        region = _text(get(REGION_KEY)) or Environment(env).value("region")
        credentials = tuple((key, text) for key in CREDENTIAL_KEYS if (text := _credential_text(key, get(key))))
        settings = cls(
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
        _warn_unused([key for key in config if isinstance(key, str)], dict(credentials).get(ENDPOINTS_KEY))
        return settings


def credential_object(key: str, value: Any) -> Any:
    """The JSON value of ``key`` (an object key of :data:`OBJECT_KEYS`), checked: its shape, its fields' names
    and types, a session expiration's range, an endpoint's text. Raises ``ConfigurationError`` naming the key and
    the rule, never echoing a value (an object may hold an OIDC token)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if key == ENDPOINTS_KEY:
        return _endpoints(value)
    fields = OBJECT_KEYS[key]
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{key} must be an object with the fields {', '.join(fields)} (JSON text from "
                                 "the stack config)", setting=key)
    for name in value:
        if name not in fields:
            named = f"an unknown field {name!r}" if isinstance(name, str) and _NAME.fullmatch(name) else (
                "an unknown field (not named here: only names of letters and _ are shown)")
            raise ConfigurationError(f"{key} has {named}; its fields are {', '.join(fields)}", setting=key)
    wrong = [name for name, item in value.items()
             if name != "sessionExpiration" and item is not None and not isinstance(item, str)]
    if wrong:
        raise ConfigurationError(f"{key}: {', '.join(wrong)} must be text", setting=key)
    session_seconds(value.get("sessionExpiration"), key)
    return dict(value)


def session_seconds(value: Any, setting: str) -> int | None:
    """A session expiration: 900..43200 whole seconds (a number or its text); nothing or 0 means the service's
    default. Raises ``ConfigurationError`` naming ``setting``."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if text in ("", "0"):
        return None
    low, high = SESSION_SECONDS
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigurationError(f"{setting}: the session expiration must be {low}..{high} seconds", setting=setting)
    return int(text)


def sts_region(value: str, setting: str) -> str:
    """A region id that names an STS endpoint (``sts.<region>.aliyuncs.com``), checked."""
    if not _REGION.fullmatch(value) or len(value) > 40:
        raise ConfigurationError(f"{setting} must be a region id such as cn-hangzhou", setting=setting)
    return value


def _endpoints(value: Any) -> list[dict[str, Any]]:
    """``alicloud:endpoints``: a list of objects (pulumi-alicloud's type); of their fields only ``sts`` is read."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigurationError(f"{ENDPOINTS_KEY} must be a list of objects, such as "
                                 '[{"sts": "sts.cn-hangzhou.aliyuncs.com"}]', setting=ENDPOINTS_KEY)
    given = [item["sts"] for item in value if item.get("sts") not in (None, "")]
    if any(not isinstance(item, str) for item in given):
        raise ConfigurationError(f"{ENDPOINTS_KEY}: sts must be text (a host or URL)", setting=ENDPOINTS_KEY)
    if len({item.strip() for item in given}) > 1:
        raise ConfigurationError(f"{ENDPOINTS_KEY} gives sts more than once, differently", setting=ENDPOINTS_KEY)
    return [dict(item) for item in value]


def endpoints_sts(text: str | None) -> str | None:
    """The ``sts`` endpoint of ``alicloud:endpoints`` (canonical text from the settings), if any."""
    found = [item["sts"].strip() for item in _endpoints(json.loads(text)) if item.get("sts")] if text else []
    return found[0] if found else None



def _warn_unused(keys: list[str], endpoints: str | None) -> None:
    """One warning per ``alicloud:*`` key the provider does not use, and one for the endpoints it ignores."""
    warnings = {key: f"{key} is set but ga-listener does not use it: it has no effect"
                for key in keys if key.startswith("alicloud:") and key not in CREDENTIAL_KEYS}
    ignored = sorted({name for item in json.loads(endpoints) for name in item if name != "sts"}) if endpoints else []
    if ignored:
        warnings[f"{ENDPOINTS_KEY}[].{','.join(ignored)}"] = (
            f"{ENDPOINTS_KEY}: ga-listener uses only sts; {', '.join(ignored)} "
            f"{'has' if len(ignored) == 1 else 'have'} no effect (its GA calls go to ga-listener:endpoint)")
    with _warned_lock:
        fresh = [warning for key, warning in warnings.items() if key not in _warned]
        _warned.update(warnings)
    for warning in fresh:
        logger.warning("%s", warning)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _credential_text(key: str, value: Any) -> str:
    """A credential key's value as text; JSON values checked (so a preview refuses them) and kept as canonical
    JSON (so equal settings hash alike)."""
    if key not in OBJECT_KEYS or value is None:
        return _text(value)
    if isinstance(value, str) and not value.strip():
        return ""
    return json.dumps(credential_object(key, value), sort_keys=True, separators=(",", ":"), default=str)


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
