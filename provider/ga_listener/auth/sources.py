"""The kinds of credential source the chain picks from, built with the endpoints the settings give.

:class:`Sources` builds each kind (a role assumed with STS, OIDC, the ECS instance role, a credentials URI) and
decides where STS calls go: the first of ``ga-listener:stsEndpoint``, ``alicloud:endpoints[].sts``,
``ALIBABA_CLOUD_STS_ENDPOINT``, a profile's ``sts_endpoint``, then the regional endpoint
(``sts[-vpc].<region>.aliyuncs.com``) of a profile's ``sts_region``, ``alicloud:region`` or
``ALIBABA_CLOUD_STS_REGION``, else ``sts.aliyuncs.com``. ``-vpc`` when the profile's ``enable_vpc`` or
``ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`` is true.

A profile's role is a :class:`RoleHop` until the chain builds it: the chain may replace its role with the stack's
``alicloud:assumeRole`` (one AssumeRole signed with the profile's key, as Terraform does). Nothing here calls
the network: temporary sources fetch on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ga_listener.auth.fetch import shown_url
from ga_listener.auth.keys import Credentials, CredentialsProvider, RefreshingCredentials
from ga_listener.auth.metadata import DEFAULT_METADATA_ENDPOINT, EcsRoleCredentials, UriCredentials
from ga_listener.auth.sts import DEFAULT_STS_HOST, OidcRequest, RoleRequest, StsClient
from ga_listener.config.environment import Environment
from ga_listener.config.settings import (
    ENDPOINTS_KEY,
    METADATA_ENDPOINT_KEY,
    REGION_KEY,
    STS_ENDPOINT_KEY,
    endpoints_sts,
    sts_region,
)
from ga_listener.transport.errors import CredentialsRefreshError

__all__ = ["DEFAULT_SESSION_NAME", "RoleFields", "RoleHop", "Sources", "StsPlace"]

DEFAULT_SESSION_NAME = "ga-listener"


@dataclass(frozen=True)
class StsPlace:
    """What a profile says about its STS endpoint; ``setting`` names the profile in errors."""

    endpoint: str | None = None  # sts_endpoint
    region: str | None = None  # sts_region
    vpc: bool = False  # enable_vpc
    setting: str = ""


@dataclass(frozen=True)
class RoleFields:
    """An AssumeRole's fields as configured: ``None`` where a field was not given."""

    role_arn: str
    session_name: str | None = None
    duration: int | None = None
    policy: str | None = None
    external_id: str | None = None

    def over(self, other: RoleFields) -> RoleFields:
        """This role, its unset fields taken from ``other`` (whose ARN is replaced)."""
        return RoleFields(self.role_arn, self.session_name or other.session_name, self.duration or other.duration,
                          self.policy or other.policy, self.external_id or other.external_id)

    def request(self, default_session: str) -> RoleRequest:
        """The request to send: ``default_session`` when no session name was given."""
        return RoleRequest(self.role_arn, self.session_name or default_session, self.duration, self.policy,
                           self.external_id)


@dataclass(frozen=True)
class RoleHop:
    """The AssumeRole a role profile asks for, not built yet. ``replaceable``: a RamRoleArn profile, whose key
    pair signs the stack's role instead of its own when ``alicloud:assumeRole`` is set."""

    base: Credentials | CredentialsProvider
    role: RoleFields
    place: StsPlace
    label: str
    replaceable: bool


class Sources:
    """Builds the providers of each kind of source, with the endpoints the settings inject."""

    def __init__(self, config: Mapping[str, str], env: Environment, clock: Callable[[], float]) -> None:
        self.config, self.env, self.clock = config, env, clock
        #: the session name of a role that names none (a profile's role; the stack's role skips the profile)
        self.session_name = env.value("session_name") or DEFAULT_SESSION_NAME

    def sts(self, label: str, place: StsPlace | None = None) -> StsClient:
        """An STS client for the source ``label``, at the endpoint of the documented order."""
        url, setting = self._sts_endpoint(place or StsPlace())
        return StsClient(url, source=label, setting=setting, wall_clock=self.clock)

    def _sts_endpoint(self, place: StsPlace) -> tuple[str, str]:
        """``(host or URL, the setting it comes from)``."""
        given = ((self.config.get(STS_ENDPOINT_KEY), STS_ENDPOINT_KEY),
                 (endpoints_sts(self.config.get(ENDPOINTS_KEY)), f"{ENDPOINTS_KEY}[].sts"),
                 (self.env.value("sts_endpoint"), "ALIBABA_CLOUD_STS_ENDPOINT"),
                 (place.endpoint, f"{place.setting} sts_endpoint"))
        for endpoint, setting in given:
            if endpoint and endpoint.strip():
                return endpoint.strip(), setting
        regions = ((place.region, f"{place.setting} sts_region"), (self.config.get(REGION_KEY), REGION_KEY),
                   (self.env.value("sts_region"), "ALIBABA_CLOUD_STS_REGION"))
        prefix = "sts-vpc" if place.vpc or self.env.flag("vpc_endpoint") else "sts"
        for region, setting in regions:
            if region and region.strip():
                return f"{prefix}.{sts_region(region.strip(), setting)}.aliyuncs.com", setting
        return DEFAULT_STS_HOST, STS_ENDPOINT_KEY

    def refreshing(self, fetch: Callable[[], Credentials], label: str) -> RefreshingCredentials:
        """Temporary credentials from ``fetch``, refreshed before they expire."""
        return RefreshingCredentials(fetch, label, clock=self.clock)

    def uri(self, uri: str, label: str, setting: str) -> RefreshingCredentials:
        """Credentials from a credentials URI."""
        fetch = UriCredentials(uri, source=label, setting=setting)
        return self.refreshing(fetch, f"{label} {shown_url(uri)}")

    def ecs(self, role: str | None, label: str) -> tuple[RefreshingCredentials | None, str]:
        """The ECS instance role's credentials, or ``None`` and why (the metadata service is switched off)."""
        if self.env.flag("metadata_disabled"):
            return None, f"{label} (ALIBABA_CLOUD_ECS_METADATA_DISABLED is true)"
        setting, endpoint = METADATA_ENDPOINT_KEY, self.config.get(METADATA_ENDPOINT_KEY)
        if not endpoint and (found := self.env.first("metadata_endpoint")):
            setting, endpoint = found
        fetch = EcsRoleCredentials(role, source=label, endpoint=endpoint or DEFAULT_METADATA_ENDPOINT,
                                   setting=setting, imdsv1_allowed=not self.env.flag("imdsv1_disabled"))
        return self.refreshing(fetch, f"{label} (role {role!r})" if role else label), ""

    def oidc(
        self, request: OidcRequest, *, token_file: str | None, token: str | None, label: str,
        place: StsPlace | None = None,
    ) -> RefreshingCredentials:
        """``AssumeRoleWithOIDC`` with ``token``, else the token of ``token_file``, read again at every refresh
        (it rotates)."""
        source = f"{label} (role {request.role_arn})"
        client = self.sts(source, place)

        def fetch() -> Credentials:
            return client.assume_role_with_oidc(request, _oidc_token(token_file, token, source), label=source)

        return self.refreshing(fetch, source)

    def assume(
        self, base: Credentials | CredentialsProvider, role: RoleRequest, label: str, *,
        place: StsPlace | None = None,
    ) -> RefreshingCredentials:
        """``AssumeRole`` signed with the base credential, itself refreshed when it is temporary."""
        source = f"{label} (role {role.role_arn} assumed with {base.source})"
        client = self.sts(source, place)

        def fetch() -> Credentials:
            return client.assume_role(base.get_credentials(), role, label=source)

        return self.refreshing(fetch, source)

    def hop(self, hop: RoleHop) -> RefreshingCredentials:
        """The profile's own AssumeRole."""
        return self.assume(hop.base, hop.role.request(self.session_name), hop.label, place=hop.place)

    def built(self, found: Credentials | CredentialsProvider | RoleHop) -> Credentials | CredentialsProvider:
        """``found`` as a provider (a role hop assumes its own role)."""
        return self.hop(found) if isinstance(found, RoleHop) else found


def _oidc_token(path: str | None, token: str | None, source: str) -> str:
    if token:
        return token
    assert path
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialsRefreshError(f"could not get credentials from {source}: the OIDC token file {path} "
                                      f"cannot be read ({exc.strerror or type(exc).__name__})", source=source) from None
    if not text:
        raise CredentialsRefreshError(f"could not get credentials from {source}: the OIDC token file {path} is "
                                      "empty", source=source)
    return text
