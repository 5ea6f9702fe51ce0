"""The credential chain: one documented order decides which source wins (the README's configuration table).

The **base credential** is the first of these that is configured (stack config before the environment, as for
every other setting; within each, the order of the Pulumi alicloud provider: keys, profile, credentials URI,
ECS role, OIDC):

1. stack config ``alicloud:accessKey`` / ``alicloud:secretKey`` (+ ``alicloud:securityToken``)
2. stack config ``alicloud:profile``: that profile of the profile file (any mode, see :mod:`ga_listener.profiles`)
3. stack config ``alicloud:credentialsUri``
4. stack config ``alicloud:ecsRoleName``
5. stack config ``alicloud:assumeRoleWithOidc``
6. environment ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``..._SECRET`` (or ``ALICLOUD_ACCESS_KEY`` / ``ALICLOUD_SECRET_KEY``)
   with ``ALIBABA_CLOUD_SECURITY_TOKEN`` (``ALICLOUD_SECURITY_TOKEN``)
7. environment ``ALIBABA_CLOUD_PROFILE`` (``ALICLOUD_PROFILE``): that profile
8. environment ``ALIBABA_CLOUD_CREDENTIALS_URI`` (``ALICLOUD_CREDENTIALS_URI``)
9. environment ``ALIBABA_CLOUD_ECS_METADATA`` (``ALICLOUD_ECS_ROLE_NAME``)
10. environment ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` with ``ALIBABA_CLOUD_ROLE_ARN`` and
    ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` (or ``ALIBABA_CLOUD_OIDC_TOKEN``)
11. the profile file's ``current`` profile

Then, when a **role to assume** is configured, ``AssumeRole`` is called with the base credential (as the alicloud
provider chains ``assume_role`` on whatever base won): ``alicloud:assumeRole``, else ``ALICLOUD_ASSUME_ROLE_ARN``,
else ``ALIBABA_CLOUD_ROLE_ARN`` unless an OIDC provider ARN is configured (then that variable is OIDC's role).

The profile file is ``alicloud:sharedCredentialsFile``, else ``ALICLOUD_SHARED_CREDENTIALS_FILE`` /
``ALIBABA_CLOUD_CREDENTIALS_FILE``, else ``~/.aliyun/config.json``. A source that is half set (a key without its
secret, an OIDC provider without a token) or a profile that was named but cannot be used ends the search with an
error rather than silently falling through to another identity. Nothing here calls the network: temporary
sources fetch on first use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ga_listener.errors import ConfigurationError, CredentialsNotFoundError, CredentialsRefreshError
from ga_listener.fetch import shown_url
from ga_listener.keys import Credentials, CredentialsProvider, RefreshingCredentials
from ga_listener.metadata import DEFAULT_METADATA_ENDPOINT, EcsRoleCredentials, UriCredentials
from ga_listener.profiles import profile_provider
from ga_listener.settings import ASSUME_ROLE_KEY, METADATA_ENDPOINT_KEY, OIDC_KEY, STS_ENDPOINT_KEY
from ga_listener.sts import OidcRequest, RoleRequest, StsClient, sts_endpoint

__all__ = ["DEFAULT_SESSION_NAME", "Chain", "Sources"]

DEFAULT_SESSION_NAME = "ga-listener"
METADATA_ENDPOINT_ENV = "GA_LISTENER_ECS_METADATA_ENDPOINT"
ASSUME_ROLE_FIELDS = ("roleArn", "sessionName", "sessionExpiration", "policy", "externalId")
OIDC_FIELDS = ("roleArn", "oidcProviderArn", "oidcToken", "oidcTokenFile", "roleSessionName", "sessionExpiration",
               "policy")
_KEY_PAIRS = (("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
              ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"))
_ENV = {  # what -> variables, first non-empty wins
    "token": ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"),
    "profile": ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE"),
    "file": ("ALICLOUD_SHARED_CREDENTIALS_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE"),
    "uri": ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALICLOUD_CREDENTIALS_URI"),
    "ecs": ("ALIBABA_CLOUD_ECS_METADATA", "ALICLOUD_ECS_ROLE_NAME"),
    "role": ("ALICLOUD_ASSUME_ROLE_ARN", "ALIBABA_CLOUD_ROLE_ARN"),
    "session": ("ALICLOUD_ASSUME_ROLE_SESSION_NAME", "ALIBABA_CLOUD_ROLE_SESSION_NAME"),
    "expiration": ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION",),
    "oidc_provider": ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN",),
    "oidc_role": ("ALIBABA_CLOUD_ROLE_ARN",),
    "oidc_token_file": ("ALIBABA_CLOUD_OIDC_TOKEN_FILE",),
    "oidc_token": ("ALIBABA_CLOUD_OIDC_TOKEN",),
    "oidc_session": ("ALIBABA_CLOUD_ROLE_SESSION_NAME",),
}
Endpoint = tuple[str | None, str | None, str]  # a profile's (sts_endpoint, sts_region, setting name)


def _first(environ: Mapping[str, str], what: str) -> tuple[str, str] | None:
    """``(variable, value)`` of the first non-empty variable for ``what``."""
    return next(((name, environ[name].strip()) for name in _ENV[what] if environ.get(name, "").strip()), None)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def _seconds(value: Any, setting: str) -> int | None:
    """A session expiration: 900..43200 whole seconds; 0 or nothing means the service's default."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if text in ("", "0"):
        return None
    if not text.isdigit() or not 900 <= int(text) <= 43200:
        raise ConfigurationError(f"{setting}: the session expiration must be 900..43200 seconds", setting=setting)
    return int(text)


def _object(config: Mapping[str, str], key: str, fields: Sequence[str]) -> dict[str, Any] | None:
    """The JSON object of ``key`` (the engine hands objects over as JSON text); never echoes the value."""
    text = config.get(key)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{key} must be an object with the fields {', '.join(fields)}", setting=key)
    unknown = sorted(str(name) for name in value if name not in fields)
    if unknown:
        raise ConfigurationError(f"{key} has unknown field(s) {', '.join(repr(u[:40]) for u in unknown)}; its "
                                 f"fields are {', '.join(fields)}", setting=key)
    wrong = [name for name, item in value.items()
             if name != "sessionExpiration" and item is not None and not isinstance(item, str)]
    if wrong:
        raise ConfigurationError(f"{key}: {', '.join(wrong)} must be text", setting=key)
    return {name: item for name, item in value.items() if item not in (None, "")}


class Sources:
    """Builds the providers of each kind of source, with the endpoints the settings inject."""

    def __init__(self, config: Mapping[str, str], environ: Mapping[str, str], clock: Callable[[], float]) -> None:
        self.config, self.environ, self.clock = config, environ, clock
        found = _first(environ, "session")
        self.session_name = found[1] if found else DEFAULT_SESSION_NAME

    def sts(self, label: str, endpoint: Endpoint | None = None) -> StsClient:
        """An STS client: ``ga-listener:stsEndpoint``, ``ALIBABA_CLOUD_STS_ENDPOINT``, the profile's
        ``sts_endpoint`` / ``sts_region``, ``ALIBABA_CLOUD_STS_REGION``, else ``sts.aliyuncs.com``."""
        own, region, own_setting = endpoint or (None, None, "")
        override: str | None
        if self.config.get(STS_ENDPOINT_KEY):
            override, setting = self.config[STS_ENDPOINT_KEY], STS_ENDPOINT_KEY
        elif self.environ.get("ALIBABA_CLOUD_STS_ENDPOINT"):
            override, setting = self.environ["ALIBABA_CLOUD_STS_ENDPOINT"], "ALIBABA_CLOUD_STS_ENDPOINT"
        else:
            override, setting = own, own_setting or "ALIBABA_CLOUD_STS_REGION"
        url = sts_endpoint(override, self.environ, region=region)
        return StsClient(url, source=label, setting=setting, wall_clock=self.clock)

    def refreshing(self, fetch: Callable[[], Credentials], label: str) -> RefreshingCredentials:
        """Temporary credentials from ``fetch``, refreshed before they expire."""
        return RefreshingCredentials(fetch, label, clock=self.clock)

    def uri(self, uri: str, label: str, setting: str) -> RefreshingCredentials:
        """Credentials from a credentials URI."""
        fetch = UriCredentials(uri, source=label, setting=setting)
        return self.refreshing(fetch, f"{label} {shown_url(uri)}")

    def ecs(self, role: str | None, label: str) -> tuple[RefreshingCredentials | None, str]:
        """The ECS instance role's credentials, or ``None`` and why (the metadata service is switched off)."""
        if _flag(self.environ, "ALIBABA_CLOUD_ECS_METADATA_DISABLED"):
            return None, f"{label} (ALIBABA_CLOUD_ECS_METADATA_DISABLED is true)"
        setting, endpoint = METADATA_ENDPOINT_KEY, self.config.get(METADATA_ENDPOINT_KEY)
        if not endpoint and self.environ.get(METADATA_ENDPOINT_ENV):
            setting, endpoint = METADATA_ENDPOINT_ENV, self.environ[METADATA_ENDPOINT_ENV]
        v1_allowed = not _flag(self.environ, "ALIBABA_CLOUD_IMDSV1_DISABLED")
        fetch = EcsRoleCredentials(role, source=label, endpoint=endpoint or DEFAULT_METADATA_ENDPOINT,
                                   setting=setting, imdsv1_allowed=v1_allowed)
        return self.refreshing(fetch, f"{label} (role {role!r})" if role else label), ""

    def oidc(
        self, request: OidcRequest, *, token_file: str | None, token: str | None, label: str,
        endpoint: Endpoint | None = None,
    ) -> RefreshingCredentials:
        """``AssumeRoleWithOIDC``; the token file is read again at every refresh (it rotates)."""
        source = f"{label} (role {request.role_arn})"
        client = self.sts(source, endpoint)

        def fetch() -> Credentials:
            return client.assume_role_with_oidc(request, _oidc_token(token_file, token, source), label=source)

        return self.refreshing(fetch, source)

    def assume(
        self, base: Credentials | CredentialsProvider, role: RoleRequest, label: str, *,
        endpoint: Endpoint | None = None,
    ) -> RefreshingCredentials:
        """``AssumeRole`` signed with the base credential, itself refreshed when it is temporary."""
        source = f"{label} (role {role.role_arn} assumed with {base.source})"
        client = self.sts(source, endpoint)

        def fetch() -> Credentials:
            return client.assume_role(base.get_credentials(), role, label=source)

        return self.refreshing(fetch, source)


def _oidc_token(path: str | None, token: str | None, source: str) -> str:
    if not path:
        assert token
        return token
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialsRefreshError(f"could not get credentials from {source}: the OIDC token file {path} "
                                      f"cannot be read ({exc.strerror or type(exc).__name__})", source=source) from None
    if not text:
        raise CredentialsRefreshError(f"could not get credentials from {source}: the OIDC token file {path} is "
                                      "empty", source=source)
    return text


class Chain:
    """One walk of the chain over a stack config and an environment."""

    def __init__(
        self, config: Mapping[str, str], environ: Mapping[str, str], default_file: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.environ = config, environ
        self.sources = Sources(config, environ, clock)
        self.searched: list[str] = ["explicit arguments (none given)"]
        named = config.get("alicloud:sharedCredentialsFile") or (_first(environ, "file") or ("", ""))[1]
        self.profile_file = Path(named).expanduser() if named else default_file
        self._oidc_configured = bool(config.get(OIDC_KEY) or _first(environ, "oidc_provider"))

    def resolve(self) -> Credentials | CredentialsProvider:
        """The credentials or provider of the winning source, with a role assumed on top when one is set."""
        base = self._base()
        role, label = self._role()
        if role is None:
            if base is None:
                raise CredentialsNotFoundError(self.searched)
            return base
        if base is None:
            raise CredentialsNotFoundError([*self.searched, f"{label}: a role to assume, but no credential to "
                                                            "sign AssumeRole with"])
        return self.sources.assume(base, role, label)

    def _base(self) -> Credentials | CredentialsProvider | None:
        steps = (self._config_keys, self._config_profile, self._config_uri, self._config_ecs, self._config_oidc,
                 self._env_keys, self._env_profile, self._env_uri, self._env_ecs, self._env_oidc, self._file_profile)
        for step in steps:
            found = step()
            if found is not None:
                return found
        return None

    # -- stack config --

    def _config_keys(self) -> Credentials | None:
        found = _pair(self.config.get("alicloud:accessKey"), self.config.get("alicloud:secretKey"),
                      self.config.get("alicloud:securityToken"), "stack config alicloud:accessKey",
                      ("alicloud:accessKey", "alicloud:secretKey"))
        if found is None:
            self.searched.append("stack config alicloud:accessKey / alicloud:secretKey (not set)")
        return found

    def _config_profile(self) -> Credentials | CredentialsProvider | None:
        name = self.config.get("alicloud:profile")
        return self._named_profile(name, "stack config alicloud:profile") if name else None

    def _config_uri(self) -> CredentialsProvider | None:
        uri = self.config.get("alicloud:credentialsUri")
        return self.sources.uri(uri, "stack config alicloud:credentialsUri", "alicloud:credentialsUri") if uri else None

    def _config_ecs(self) -> CredentialsProvider | None:
        role = self.config.get("alicloud:ecsRoleName")
        return self._ecs(role, "stack config alicloud:ecsRoleName") if role else None

    def _config_oidc(self) -> CredentialsProvider | None:
        spec = _object(self.config, OIDC_KEY, OIDC_FIELDS)
        if spec is None:
            return None
        return self._oidc({**self._env_oidc_values(), **spec}, OIDC_KEY, f"stack config {OIDC_KEY}")

    # -- environment --

    def _env_keys(self) -> Credentials | None:
        token = _first(self.environ, "token")
        for id_name, secret_name in _KEY_PAIRS:
            found = _pair(self.environ.get(id_name), self.environ.get(secret_name), token[1] if token else None,
                          f"environment {id_name}", (id_name, secret_name))
            if found is not None:
                return found
        names = ", ".join(f"{i} / {s}" for i, s in _KEY_PAIRS)
        self.searched.append(f"environment {names} (not set)")
        return None

    def _env_profile(self) -> Credentials | CredentialsProvider | None:
        found = _first(self.environ, "profile")
        return self._named_profile(found[1], f"environment {found[0]}") if found else None

    def _env_uri(self) -> CredentialsProvider | None:
        found = _first(self.environ, "uri")
        return self.sources.uri(found[1], f"environment {found[0]}", found[0]) if found else None

    def _env_ecs(self) -> CredentialsProvider | None:
        found = _first(self.environ, "ecs")
        return self._ecs(found[1], f"environment {found[0]}") if found else None

    def _env_oidc(self) -> CredentialsProvider | None:
        found = _first(self.environ, "oidc_provider")
        if found is None:
            return None
        return self._oidc(self._env_oidc_values(), found[0], f"environment {found[0]}")

    def _env_oidc_values(self) -> dict[str, str]:
        """The ``assumeRoleWithOidc`` fields the environment gives (empty where unset)."""
        fields = {"oidcProviderArn": "oidc_provider", "roleArn": "oidc_role", "oidcTokenFile": "oidc_token_file",
                  "oidcToken": "oidc_token"}
        return {name: (_first(self.environ, what) or ("", ""))[1] for name, what in fields.items()}

    def _file_profile(self) -> Credentials | CredentialsProvider | None:
        found, looked = profile_provider(self.sources, self.profile_file, None)
        if found is None:
            self.searched.append(looked)
        return found

    # -- shared --

    def _named_profile(self, name: str, origin: str) -> Credentials | CredentialsProvider:
        found, looked = profile_provider(self.sources, self.profile_file, name)
        if found is None:  # a profile asked for by name is a choice: never fall through to another identity
            raise CredentialsNotFoundError([*self.searched, f"{origin}: {looked}"])
        return found

    def _ecs(self, role: str, origin: str) -> CredentialsProvider | None:
        found, why = self.sources.ecs(role, origin)
        if found is None:
            self.searched.append(why)
        return found

    def _oidc(self, values: Mapping[str, Any], setting: str, origin: str) -> CredentialsProvider:
        absent = [name for name in ("oidcProviderArn", "roleArn") if not values.get(name)]
        if not values.get("oidcTokenFile") and not values.get("oidcToken"):
            absent.append("oidcTokenFile or oidcToken (ALIBABA_CLOUD_OIDC_TOKEN_FILE)")
        if absent:
            raise ConfigurationError(f"{origin}: OIDC needs {', '.join(absent)}", setting=setting)
        session = values.get("roleSessionName") or (_first(self.environ, "oidc_session") or ("", ""))[1]
        request = OidcRequest(str(values["roleArn"]), str(values["oidcProviderArn"]),
                              str(session or DEFAULT_SESSION_NAME),
                              _seconds(values.get("sessionExpiration"), setting), values.get("policy"))
        return self.sources.oidc(request, token_file=values.get("oidcTokenFile") or None,
                                 token=values.get("oidcToken") or None, label=origin)

    def _role(self) -> tuple[RoleRequest | None, str]:
        """The role to assume on top of the base credential, and where it was configured."""
        spec = _object(self.config, ASSUME_ROLE_KEY, ASSUME_ROLE_FIELDS)
        arn = _first(self.environ, "role")
        if spec is None and arn is not None and arn[0] == "ALIBABA_CLOUD_ROLE_ARN" and self._oidc_configured:
            arn = None  # with an OIDC provider configured, ALIBABA_CLOUD_ROLE_ARN is the role OIDC assumes
        if spec is None and arn is None:
            return None, ""
        setting, label = (ASSUME_ROLE_KEY, f"stack config {ASSUME_ROLE_KEY}") if spec is not None else (
            arn[0] if arn else "", f"environment {arn[0] if arn else ''}")
        spec = spec or {}
        role_arn = spec.get("roleArn") or (arn[1] if arn else "")
        if not role_arn:
            raise ConfigurationError(f"{ASSUME_ROLE_KEY} needs roleArn (or ALICLOUD_ASSUME_ROLE_ARN)", setting=setting)
        expiration = spec.get("sessionExpiration")
        if expiration in (None, 0, "0"):
            found = _first(self.environ, "expiration")
            expiration, setting = (found[1], found[0]) if found else (None, setting)
        role = RoleRequest(role_arn, spec.get("sessionName") or self.sources.session_name,
                           _seconds(expiration, setting), spec.get("policy"), spec.get("externalId"))
        return role, label


def _pair(
    key_id: str | None, secret: str | None, token: str | None, source: str, names: tuple[str, str]
) -> Credentials | None:
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        present, missing = (names[0], names[1]) if key_id else (names[1], names[0])
        raise ConfigurationError(f"{present} is set but {missing} is not; set both or neither", setting=missing)
    return Credentials(key_id, secret, token, source=source)

