"""Security Token Service (API 2015-04-01): ``AssumeRole`` (signed with the source credential) and
``AssumeRoleWithOIDC`` (unsigned: the OIDC token is the proof), both answering temporary credentials.

Requests are RPC-style POSTs with every parameter in the form body, never in the URL (a URL is what proxies
and urllib3's debug log print). ``AssumeRole`` is signed v1 (HMAC-SHA1) with
:func:`ga_listener.transport.signing.sign_v1`. Errors name the source, the action, the code and the service's message
with every secret scrubbed (before any text is cut short), plus a hint. Where STS calls go is decided by
:mod:`ga_listener.auth.sources`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ga_listener.auth.fetch import Fetcher, Reply, one_line, shown_url
from ga_listener.auth.keys import Credentials, Scrubber, parse_expiration
from ga_listener.transport import signing
from ga_listener.transport.errors import ConfigurationError
from ga_listener.transport.wire import parse_endpoint

__all__ = ["DEFAULT_STS_HOST", "STS_VERSION", "OidcRequest", "RoleRequest", "StsClient", "temporary_credentials"]

STS_VERSION = "2015-04-01"
DEFAULT_STS_HOST = "sts.aliyuncs.com"
_FORM = "application/x-www-form-urlencoded"
_FIELDS = ("AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration")
_HINTS = {
    "EntityNotExist.Role": "check the role ARN",
    "NoPermission": "the source credential may not assume this role: check the role's trust policy and the "
                    "caller's sts:AssumeRole permission",
    "InvalidParameter.RoleArn": "check the role ARN (acs:ram::<account id>:role/<role name>)",
    "InvalidParameter.DurationSeconds": "choose a session expiration between 900 s and the role's maximum",
    "AuthenticationFail.OIDCToken.Expired": "the OIDC token has expired: the token file must be kept fresh",
    "AuthenticationFail.OIDCToken.Invalid": "check the OIDC token and the OIDC provider ARN",
    "InvalidSecurityToken.Expired": "the source credential's token has expired",
    "SignatureDoesNotMatch": "check the source credential's secret",
    "InvalidAccessKeyId.NotFound": "check the source credential's access key id",
}


@dataclass(frozen=True)
class RoleRequest:
    """What ``AssumeRole`` asks for (no secret)."""

    role_arn: str
    session_name: str
    duration: int | None = None  # seconds; None lets the service choose (3600)
    policy: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class OidcRequest:
    """What ``AssumeRoleWithOIDC`` asks for, apart from the token (no secret)."""

    role_arn: str
    oidc_provider_arn: str
    session_name: str
    duration: int | None = None
    policy: str | None = None


def temporary_credentials(data: Mapping[str, Any], label: str, fail: Callable[[str], Exception]) -> Credentials:
    """``Credentials`` from ``{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`` (STS, the metadata
    service and credentials URIs all answer these fields); ``fail(why)`` builds the error to raise."""
    missing = [name for name in _FIELDS if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise fail(f"the answer has no {', '.join(missing)}")
    try:
        expiration = parse_expiration(data["Expiration"], "its Expiration")
    except ValueError as exc:
        raise fail(f"the answer's {exc}") from None
    return Credentials(data["AccessKeyId"], data["AccessKeySecret"], data["SecurityToken"], source=label,
                       expiration=expiration)


class StsClient:
    """STS calls for one credential source (``source`` names it in errors); never pickled."""

    def __init__(
        self, endpoint: str, *, source: str, setting: str = "ALIBABA_CLOUD_STS_ENDPOINT",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._url, _ = parse_endpoint(endpoint)
        except ConfigurationError as exc:  # it names "endpoint": name the real setting
            raise ConfigurationError(f"{setting}: {exc}", setting=setting) from None
        self.endpoint = self._url[:-1]
        self._scrub = Scrubber()
        self._fetcher = Fetcher(f"{source} (STS at {shown_url(self.endpoint)})", scrub=self._scrub)
        self._wall_clock = wall_clock

    def __repr__(self) -> str:
        return f"StsClient(endpoint={self.endpoint!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("an StsClient holds credentials and is never pickled")

    def assume_role(self, base: Credentials, request: RoleRequest, *, label: str) -> Credentials:
        """``AssumeRole`` signed with ``base``; the temporary credentials, their source named ``label``."""
        self._scrub.add(*base.secrets())
        params = self._params("AssumeRole", {
            "RoleArn": request.role_arn, "RoleSessionName": request.session_name,
            "DurationSeconds": request.duration, "Policy": request.policy, "ExternalId": request.external_id})
        signed = signing.sign_v1("POST", params, access_key_id=base.access_key_id, secret=base.access_key_secret,
                                 security_token=base.security_token, timestamp=params["Timestamp"],
                                 nonce=os.urandom(16).hex())
        return self._call("AssumeRole", signed, label)

    def assume_role_with_oidc(self, request: OidcRequest, token: str, *, label: str) -> Credentials:
        """``AssumeRoleWithOIDC`` (unsigned) with the OIDC ``token``."""
        self._scrub.add(token)
        params = self._params("AssumeRoleWithOIDC", {
            "RoleArn": request.role_arn, "OIDCProviderArn": request.oidc_provider_arn, "OIDCToken": token,
            "RoleSessionName": request.session_name, "DurationSeconds": request.duration,
            "Policy": request.policy})
        return self._call("AssumeRoleWithOIDC", params, label)

    def _params(self, action: str, values: Mapping[str, Any]) -> dict[str, str]:
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._wall_clock()))
        params = {"Action": action, "Version": STS_VERSION, "Format": "JSON", "Timestamp": timestamp}
        params.update({key: str(value) for key, value in values.items() if value not in (None, "")})
        return params

    def _call(self, action: str, params: Mapping[str, str], label: str) -> Credentials:
        body = signing.canonical_query(params).encode("ascii")
        reply = self._fetcher.send("POST", self._url, what=f"STS {action}", headers={"content-type": _FORM},
                                   body=body)
        data = reply.json()
        found = data.get("Credentials") if data is not None and reply.status == 200 else None
        if not isinstance(found, dict):
            raise self._fetcher.fail(self._refusal(action, reply, data))
        credentials = temporary_credentials(found, label, lambda why: self._fetcher.fail(f"STS {action}: {why}"))
        self._scrub.add(*credentials.secrets())
        return credentials

    def _refusal(self, action: str, reply: Reply, data: Mapping[str, Any] | None) -> str:
        # Each piece the server said is scrubbed whole before it is cut short: a cut first could leave part of a
        # secret the scrubber no longer recognises.
        if data is None or not data.get("Code"):
            body = reply.text(80, self._scrub)
            return f"STS {action} answered HTTP {reply.status} without an error code ({body!r})"
        code = one_line(data["Code"], 80, self._scrub)
        message = one_line(data.get("Message") or "", 200, self._scrub)
        hint = _HINTS.get(code, "")
        request_id = one_line(data.get("RequestId") or "unknown", 80, self._scrub)
        return (f"STS {action} answered HTTP {reply.status} {code}: {message or '(no message)'} "
                f"(request id {request_id}){'; ' + hint if hint else ''}")
