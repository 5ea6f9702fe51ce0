"""The credential chain: one documented order decides which source wins (the README's configuration table).

The **base credential** is the first of these that is configured (stack config before the environment, as for
every other setting; within each, the order of the alicloud provider: keys, profile, credentials URI, ECS role,
OIDC):

1. stack config ``alicloud:accessKey`` / ``alicloud:secretKey`` (+ ``alicloud:securityToken``)
2. stack config ``alicloud:profile``: that profile of the profile file (any mode, see :mod:`ga_listener.auth.profiles`)
3. stack config ``alicloud:credentialsUri``
4. stack config ``alicloud:ecsRoleName``
5. stack config ``alicloud:assumeRoleWithOidc`` (the environment fills the fields it leaves out)
6. environment key pair: each of the key id, secret and token from the first family that sets it, in
   Terraform's order ``ALICLOUD_*``, ``ALIBABA_CLOUD_*``, ``ALIBABACLOUD_*`` (:mod:`ga_listener.config.environment`)
7. environment ``ALICLOUD_PROFILE`` / ``ALIBABA_CLOUD_PROFILE``: that profile
8. environment ``ALICLOUD_CREDENTIALS_URI`` / ``ALIBABA_CLOUD_CREDENTIALS_URI``
9. environment ``ALICLOUD_ECS_ROLE_NAME`` / ``ALIBABA_CLOUD_ECS_METADATA``
10. environment ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` with ``ALIBABA_CLOUD_ROLE_ARN`` and
    ``ALIBABA_CLOUD_OIDC_TOKEN`` or ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``
11. the profile file's ``current`` profile

Then, when stack config ``alicloud:assumeRole`` is set, ``AssumeRole`` is called with the base credential (as the
alicloud provider chains ``assume_role`` on whatever base won); the environment only fills the fields the object
leaves out (``ALICLOUD_ASSUME_ROLE_ARN`` / ``ALIBABA_CLOUD_ROLE_ARN``, the session name and expiration): a role
ARN in the environment alone assumes nothing. When the base is a ``RamRoleArn`` profile, the stack's role
replaces the profile's (one AssumeRole, signed with the profile's key pair; the profile's session name,
expiration, policy and external id fill what the stack's role leaves out), as in Terraform. An OIDC token given
inline beats a token file at the same level, and the stack's choice of token beats the environment's.

The profile file is ``alicloud:sharedCredentialsFile``, else ``ALICLOUD_SHARED_CREDENTIALS_FILE`` /
``ALIBABA_CLOUD_CREDENTIALS_FILE``, else ``~/.aliyun/config.json``. A source that is half set (a key without its
secret, an OIDC provider without a token) or a profile that was named but cannot be used ends the search with an
error rather than silently falling through to another identity. Nothing here calls the network: temporary
sources fetch on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ga_listener.auth.keys import Credentials, CredentialsProvider
from ga_listener.auth.profiles import Found, profile_provider
from ga_listener.auth.sources import DEFAULT_SESSION_NAME, RoleFields, RoleHop, Sources
from ga_listener.auth.sts import OidcRequest
from ga_listener.config.environment import Environment
from ga_listener.config.settings import ASSUME_ROLE_KEY, OIDC_KEY, credential_object, session_seconds
from ga_listener.transport.errors import ConfigurationError, CredentialsNotFoundError

__all__ = ["DEFAULT_SESSION_NAME", "Chain"]

_ENV_OIDC = {"oidcProviderArn": "oidc_provider_arn", "roleArn": "oidc_role_arn", "oidcToken": "oidc_token",
             "oidcTokenFile": "oidc_token_file"}


def _object(config: Mapping[str, str], key: str) -> dict[str, Any] | None:
    """The role object of ``key``, checked (the engine hands objects over as JSON text); empty fields dropped."""
    text = config.get(key)
    if not text:
        return None
    return {name: item for name, item in credential_object(key, text).items() if item not in (None, "")}


class Chain:
    """One walk of the chain over a stack config and an environment."""

    def __init__(
        self, config: Mapping[str, str], environ: Mapping[str, str], default_file: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.env = config, Environment(environ)
        self.sources = Sources(config, self.env, clock)
        self.searched: list[str] = ["explicit arguments (none given)"]
        named = config.get("alicloud:sharedCredentialsFile") or self.env.value("profile_file")
        self.profile_file = Path(named).expanduser() if named else default_file

    def resolve(self) -> Credentials | CredentialsProvider:
        """The credentials or provider of the winning source, with the stack's role assumed on top when set."""
        base = self._base()
        stack_role = self._role()
        if stack_role is None:
            if base is None:
                raise CredentialsNotFoundError(self.searched)
            return self.sources.built(base)
        if base is None:
            raise CredentialsNotFoundError([*self.searched, f"stack config {ASSUME_ROLE_KEY}: a role to assume, but "
                                                            "no credential to sign AssumeRole with"])
        label = f"stack config {ASSUME_ROLE_KEY}"
        if isinstance(base, RoleHop) and base.replaceable:
            # Terraform: assume_role's role takes the place of a RamRoleArn profile's, signed with its key pair
            role = stack_role.over(base.role).request(DEFAULT_SESSION_NAME)
            return self.sources.assume(base.base, role, label, place=base.place)
        return self.sources.assume(self.sources.built(base), stack_role.request(DEFAULT_SESSION_NAME), label)

    def _base(self) -> Found | None:
        steps = (self._config_keys, self._config_profile, self._config_uri, self._config_ecs, self._config_oidc,
                 self._env_keys, self._env_profile, self._env_uri, self._env_ecs, self._env_oidc, self._file_profile)
        for step in steps:
            found = step()
            if found is not None:
                return found
        return None

    # -- stack config --

    def _config_keys(self) -> Credentials | None:
        key_id, secret = self.config.get("alicloud:accessKey"), self.config.get("alicloud:secretKey")
        if not key_id and not secret:
            self.searched.append("stack config alicloud:accessKey / alicloud:secretKey (not set)")
            return None
        if not key_id or not secret:
            present, missing = (("alicloud:accessKey", "alicloud:secretKey") if key_id
                                else ("alicloud:secretKey", "alicloud:accessKey"))
            raise ConfigurationError(f"{present} is set but {missing} is not; set both or neither", setting=missing)
        return Credentials(key_id, secret, self.config.get("alicloud:securityToken"),
                           source="stack config alicloud:accessKey")

    def _config_profile(self) -> Found | None:
        name = self.config.get("alicloud:profile")
        return self._named_profile(name, "stack config alicloud:profile") if name else None

    def _config_uri(self) -> CredentialsProvider | None:
        uri = self.config.get("alicloud:credentialsUri")
        return self.sources.uri(uri, "stack config alicloud:credentialsUri", "alicloud:credentialsUri") if uri else None

    def _config_ecs(self) -> CredentialsProvider | None:
        role = self.config.get("alicloud:ecsRoleName")
        return self._ecs(role, "stack config alicloud:ecsRoleName") if role else None

    def _config_oidc(self) -> CredentialsProvider | None:
        spec = _object(self.config, OIDC_KEY)
        return None if spec is None else self._oidc(spec, OIDC_KEY, f"stack config {OIDC_KEY}")

    # -- environment --

    def _env_keys(self) -> Credentials | None:
        found = self.env.key_pair()
        if found is None:
            fields = (self.env.described("access_key_id"), self.env.described("access_key_secret"))
            self.searched.append(f"environment {fields[0]} and {fields[1]} (not set)")
            return None
        (id_name, key_id), (_, secret), token = found
        return Credentials(key_id, secret, token[1] if token else None, source=f"environment {id_name}")

    def _env_profile(self) -> Found | None:
        found = self.env.first("profile")
        return self._named_profile(found[1], f"environment {found[0]}") if found else None

    def _env_uri(self) -> CredentialsProvider | None:
        found = self.env.first("credentials_uri")
        return self.sources.uri(found[1], f"environment {found[0]}", found[0]) if found else None

    def _env_ecs(self) -> CredentialsProvider | None:
        found = self.env.first("ecs_role")
        return self._ecs(found[1], f"environment {found[0]}") if found else None

    def _env_oidc(self) -> CredentialsProvider | None:
        found = self.env.first("oidc_provider_arn")
        return None if found is None else self._oidc({}, found[0], f"environment {found[0]}")

    def _file_profile(self) -> Found | None:
        found, looked = profile_provider(self.sources, self.profile_file, None)
        if found is None:
            self.searched.append(looked)
        return found

    # -- shared --

    def _named_profile(self, name: str, origin: str) -> Found:
        found, looked = profile_provider(self.sources, self.profile_file, name)
        if found is None:  # a profile asked for by name is a choice: never fall through to another identity
            raise CredentialsNotFoundError([*self.searched, f"{origin}: {looked}"])
        return found

    def _ecs(self, role: str, origin: str) -> CredentialsProvider | None:
        found, why = self.sources.ecs(role, origin)
        if found is None:
            self.searched.append(why)
        return found

    def _oidc(self, spec: Mapping[str, Any], setting: str, origin: str) -> CredentialsProvider:
        """OIDC from the stack's object (``spec``, maybe empty) with the environment filling what it leaves out.
        The token: the stack's choice (token or file) beats the environment's; within one level an inline token
        beats a file (Terraform reads the file only when the token is empty)."""
        env = {name: self.env.value(field) for name, field in _ENV_OIDC.items()}
        values = {**env, **spec}
        chosen = spec if spec.get("oidcToken") or spec.get("oidcTokenFile") else env
        token = chosen.get("oidcToken") or None
        token_file = None if token else chosen.get("oidcTokenFile") or None
        absent = [name for name in ("oidcProviderArn", "roleArn") if not values.get(name)]
        if not token and not token_file:
            absent.append("oidcToken or oidcTokenFile (ALIBABA_CLOUD_OIDC_TOKEN / ALIBABA_CLOUD_OIDC_TOKEN_FILE)")
        if absent:
            raise ConfigurationError(f"{origin}: OIDC needs {', '.join(absent)}", setting=setting)
        session = values.get("roleSessionName") or self.env.value("oidc_session_name") or DEFAULT_SESSION_NAME
        request = OidcRequest(str(values["roleArn"]), str(values["oidcProviderArn"]), str(session),
                              session_seconds(values.get("sessionExpiration"), setting), values.get("policy"))
        return self.sources.oidc(request, token_file=token_file, token=token, label=origin)

    def _role(self) -> RoleFields | None:
        """The stack's role to assume on top of the base credential, the environment filling its gaps."""
        spec = _object(self.config, ASSUME_ROLE_KEY)
        if spec is None:
            return None  # Terraform: without an assume_role block, no role variable of the environment is read
        role_arn = spec.get("roleArn") or self.env.value("role_arn")
        if not role_arn:
            raise ConfigurationError(f"{ASSUME_ROLE_KEY} needs roleArn (or {self.env.described('role_arn')})",
                                     setting=ASSUME_ROLE_KEY)
        duration = session_seconds(spec.get("sessionExpiration"), ASSUME_ROLE_KEY)
        found = self.env.first("session_expiration")
        if duration is None and found is not None:
            duration = session_seconds(found[1], found[0])
        return RoleFields(role_arn, spec.get("sessionName") or self.env.value("session_name") or None, duration,
                          spec.get("policy"), spec.get("externalId"))
