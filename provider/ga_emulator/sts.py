"""Where temporary credentials come from, emulated: STS (API 2015-04-01), the ECS instance metadata service and a
credentials URI, all on the emulator's own port and all issuing credentials the GA API then accepts until they
expire (then it answers ``InvalidSecurityToken.Expired``).

* ``AssumeRole``: signed (v1 or v3) with any credential the emulator accepts, static or issued (so chains work);
  the role must be one of ``StsOptions.roles``.
* ``AssumeRoleWithOIDC``: unsigned; the provider must be one of ``oidc_providers`` and the token one of
  ``oidc_tokens``.
* The metadata service and the credentials URI: see :mod:`ga_emulator.metadata`.

Issued credentials live ``StsOptions.duration`` seconds when set (so tests can make them expire in seconds), else
``DurationSeconds`` (default 3600); the announced ``Expiration`` is the very second they stop working. Codes and
messages follow the STS reference; where no public source settles a status (the OIDC failures) it is marked
"unconfirmed" below. STS calls are recorded in the call log like GA calls (the OIDC token masked).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ga_emulator.api import Answer, CallLog, CallRecord, business_params, claimed_action, error_body, new_request_id
from ga_emulator.auth import Authenticator, Credential
from ga_emulator.errors import INVALID_ACTION, EmulatorError, ErrorSpec, missing_parameter
from ga_emulator.metadata import METADATA_MODES, MetadataService, credentials_body
from ga_emulator.wire import WireRequest

if TYPE_CHECKING:
    pass

__all__ = ["STS_VERSION", "CredentialServices", "Issued", "Issuer", "StsOptions", "add_arguments", "options_from"]

STS_VERSION = "2015-04-01"
STS_HOST_ID = "sts.aliyuncs.com"
DEFAULT_DURATION = 3600
_ROLE_ARN = re.compile(r"acs:ram::(\d+):role/([A-Za-z0-9.@_-]{1,64})")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")

ROLE_NOT_FOUND = ErrorSpec("EntityNotExist.Role", 404, "The specified Role not exists.")
INVALID_ROLE_ARN = ErrorSpec("InvalidParameter.RoleArn", 400, "The parameter RoleArn is wrongly formed.")
INVALID_SESSION_NAME = ErrorSpec("InvalidParameter.RoleSessionName", 400,
                                 "The parameter RoleSessionName is wrongly formed.")
INVALID_DURATION = ErrorSpec("InvalidParameter.DurationSeconds", 400,
                             "The Min/Max value of DurationSeconds is 15min/12hr.")
INVALID_POLICY = ErrorSpec("InvalidParameter.PolicyGrammar", 400, "The parameter Policy has not a valid grammar.")
# unconfirmed statuses: no public source gives them
OIDC_PROVIDER_NOT_FOUND = ErrorSpec("EntityNotExist.OIDCProvider", 404, "The specified OIDCProvider not exists.")
OIDC_TOKEN_INVALID = ErrorSpec("AuthenticationFail.OIDCToken.Invalid", 401, "The OIDC token is invalid.")


@dataclass(frozen=True)
class StsOptions:
    """What the emulator's credential services accept and issue (``EmulatorServer(sts=...)``)."""

    roles: Sequence[str] = ()  #: role ARNs AssumeRole and AssumeRoleWithOIDC may assume
    duration: float | None = None  #: lifetime of every issued credential (s); None: DurationSeconds or 3600
    oidc_providers: Sequence[str] = ()  #: OIDC provider ARNs AssumeRoleWithOIDC accepts
    oidc_tokens: Sequence[str] = field(default=(), repr=False)  #: OIDC tokens AssumeRoleWithOIDC accepts
    ecs_role: str | None = None  #: serve the instance metadata service with this role attached
    credentials_uri: bool = False  #: serve a credentials URI at ``/credentials``
    metadata: str = METADATA_MODES[0]  #: how the metadata service treats tokens (``ga_emulator.metadata``)

    def __post_init__(self) -> None:
        if self.metadata not in METADATA_MODES:
            raise ValueError(f"the metadata mode is one of {', '.join(METADATA_MODES)}")
        for arn in self.roles:
            if not _ROLE_ARN.fullmatch(arn):
                raise ValueError("an STS role is an ARN acs:ram::<account id>:role/<name>")
        if self.duration is not None and not self.duration >= 1:
            raise ValueError("the STS duration is at least 1 second")


@dataclass(frozen=True)
class Issued:
    """One issued credential and who asked for it (``AssumeRole``, ``AssumeRoleWithOIDC``, ``ecs``, ``uri``)."""

    origin: str
    credential: Credential


class Issuer:
    """Issues temporary credentials and registers them with the authenticator; thread-safe."""

    def __init__(self, authenticator: Authenticator, clock: Callable[[], float], duration: float | None) -> None:
        self._auth, self._clock, self._duration = authenticator, clock, duration
        self._lock = threading.Lock()
        self._issued: list[Issued] = []

    @property
    def issued(self) -> list[Issued]:
        """Every credential issued so far, oldest first."""
        with self._lock:
            return list(self._issued)

    def issue(self, origin: str, asked: int | None = None) -> tuple[Credential, str]:
        """A new credential and its ``Expiration`` text (UTC, whole seconds: the moment it stops working)."""
        lifetime = self._duration if self._duration is not None else (asked or DEFAULT_DURATION)
        expires_at = float(math.ceil(self._clock() + lifetime))
        token = "CAIS" + base64.b64encode(secrets.token_bytes(96)).decode("ascii")
        credential = Credential(f"STS.{secrets.token_hex(12)}", secrets.token_urlsafe(24), token,
                                expires_at=expires_at)
        self._auth.add(credential)
        with self._lock:
            self._issued.append(Issued(origin, credential))
        return credential, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))


class CredentialServices:
    """STS (RPC requests whose Version is 2015-04-01) and the plain-HTTP metadata and credentials-URI paths."""

    def __init__(
        self, options: StsOptions, authenticator: Authenticator, calls: CallLog, clock: Callable[[], float],
    ) -> None:
        self.options = options
        self.issuer = Issuer(authenticator, clock, options.duration)
        self.metadata = MetadataService(self.issuer, clock, ecs_role=options.ecs_role,
                                        credentials_uri=options.credentials_uri, mode=options.metadata)
        self._auth, self._calls = authenticator, calls

    @staticmethod
    def claims(request: WireRequest) -> bool:
        """True for an STS request (its version, in the v3 header or the v1 parameter)."""
        return (request.headers.get("x-acs-version") or request.params.get("Version")) == STS_VERSION

    def handle(self, request: WireRequest) -> Answer:
        """Answer (and record) one STS call; never raises."""
        request_id, signature_version, key_id = new_request_id(), None, None
        params = request.params
        action = claimed_action(request)
        try:
            if action == "AssumeRoleWithOIDC":
                body = self._assume_role_with_oidc(params, request_id)
            elif action == "AssumeRole":
                identity = self._auth.verify(request)
                signature_version, key_id = identity.signature_version, identity.access_key_id
                body = self._assume_role(params, request_id)
            elif not action:
                raise missing_parameter("Action")
            else:
                raise INVALID_ACTION.error(f"Action {action[:60]!r} is not one the emulated STS implements.")
            status = 200
        except EmulatorError as error:
            status, body = error.http_status, error_body(error, request_id, host_id=STS_HOST_ID, product="Sts")
        record = CallRecord(action, business_params(request), request_id, status, body.get("Code"), None, False,
                            signature_version, key_id)
        self._calls.append(record)
        return Answer(status, body, record)

    def _role(self, params: Mapping[str, str]) -> tuple[str, str, str, int | None]:
        """(account, role name, session name, DurationSeconds) after the checks both actions share."""
        for name in ("RoleArn", "RoleSessionName"):
            if not params.get(name):
                raise missing_parameter(name)
        match = _ROLE_ARN.fullmatch(params["RoleArn"])
        if match is None:
            raise INVALID_ROLE_ARN.error()
        if params["RoleArn"] not in self.options.roles:
            raise ROLE_NOT_FOUND.error()
        if not _SESSION_NAME.fullmatch(params["RoleSessionName"]):
            raise INVALID_SESSION_NAME.error()
        duration = params.get("DurationSeconds")
        if duration is not None and not (duration.isdigit() and 900 <= int(duration) <= 43200):
            raise INVALID_DURATION.error()
        policy = params.get("Policy")
        if policy is not None:
            try:
                if not isinstance(json.loads(policy), dict) or len(policy) > 2048:
                    raise ValueError(policy)
            except ValueError:
                raise INVALID_POLICY.error() from None
        return match.group(1), match.group(2), params["RoleSessionName"], int(duration) if duration else None

    def _answer(self, params: Mapping[str, str], request_id: str, origin: str) -> dict[str, Any]:
        account, role, session, duration = self._role(params)
        credential, expiration = self.issuer.issue(origin, duration)
        return {
            "RequestId": request_id,
            "AssumedRoleUser": {"Arn": f"acs:ram::{account}:role/{role.lower()}/{session}",
                                "AssumedRoleId": f"3{account[-8:]}{len(role):04d}:{session}"},
            "Credentials": credentials_body(credential, expiration),
        }

    def _assume_role(self, params: Mapping[str, str], request_id: str) -> dict[str, Any]:
        return self._answer(params, request_id, "AssumeRole")

    def _assume_role_with_oidc(self, params: Mapping[str, str], request_id: str) -> dict[str, Any]:
        for name in ("OIDCProviderArn", "OIDCToken"):
            if not params.get(name):
                raise missing_parameter(name)
        if params["OIDCProviderArn"] not in self.options.oidc_providers:
            raise OIDC_PROVIDER_NOT_FOUND.error()
        if params["OIDCToken"] not in self.options.oidc_tokens:
            raise OIDC_TOKEN_INVALID.error()
        body = self._answer(params, request_id, "AssumeRoleWithOIDC")
        body["OIDCTokenInfo"] = {"Subject": "ga-emulator-subject", "Issuer": "https://oidc.ga-emulator.invalid",
                                 "ClientIds": "sts.aliyuncs.com"}
        return body


# --- the command line -------------------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {text}")
    return value


def _role_arn(text: str) -> str:
    if not _ROLE_ARN.fullmatch(text):
        raise argparse.ArgumentTypeError("a role is an ARN acs:ram::<account id>:role/<name>")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of the credential services (README "STS and instance metadata")."""
    group = parser.add_argument_group("STS and instance metadata (off unless a flag below is given)")
    group.add_argument("--sts-role", type=_role_arn, action="append", metavar="ARN",
                       help="a role AssumeRole and AssumeRoleWithOIDC may assume (repeatable)")
    group.add_argument("--sts-duration", type=_seconds, metavar="S",
                       help="lifetime of every issued credential in seconds (default: DurationSeconds, else 3600)")
    group.add_argument("--oidc-provider", action="append", metavar="ARN",
                       help="an OIDC provider ARN AssumeRoleWithOIDC accepts (repeatable)")
    group.add_argument("--oidc-token", action="append", metavar="TOKEN",
                       help="an OIDC token AssumeRoleWithOIDC accepts (repeatable)")
    group.add_argument("--ecs-role", metavar="NAME",
                       help="serve the ECS instance metadata service (/latest/...) with this RAM role attached")
    group.add_argument("--credentials-uri", action="store_true",
                       help="serve temporary credentials at GET /credentials (a credentials URI)")
    group.add_argument("--metadata-mode", choices=METADATA_MODES, default=METADATA_MODES[0],
                       help="how the metadata service treats tokens: required (token, the default), the token "
                            "request refused (403) or dropped, the token refused on reads (401), or no tokens at "
                            "all (v1_only); all but the default answer reads without a token")


def options_from(args: argparse.Namespace) -> StsOptions | None:
    """The options the flags ask for, or ``None`` when no credential service is wanted."""
    if not (args.sts_role or args.oidc_provider or args.oidc_token or args.ecs_role or args.credentials_uri):
        return None
    return StsOptions(roles=tuple(args.sts_role or ()), duration=args.sts_duration,
                      oidc_providers=tuple(args.oidc_provider or ()), oidc_tokens=tuple(args.oidc_token or ()),
                      ecs_role=args.ecs_role, credentials_uri=args.credentials_uri, metadata=args.metadata_mode)
