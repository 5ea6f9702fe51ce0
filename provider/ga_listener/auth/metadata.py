"""Temporary credentials served over plain HTTP: the ECS instance metadata service and a credentials URI.

**ECS instance role.** Token first (IMDSv2 style): ``PUT /latest/api/token`` with
``X-aliyun-ecs-metadata-token-ttl-seconds``, then ``GET /latest/meta-data/ram/security-credentials/<role>``
with ``X-aliyun-ecs-metadata-token``; with no role name, ``GET .../security-credentials/`` names the instance's
role first. As the SDKs do, when the token request fails (any answer but 200, or a dropped connection) or a read
with the token is refused (401, 403), the read goes again without a token, unless
``ALIBABA_CLOUD_IMDSV1_DISABLED`` is true. The service is contacted only when an ECS role is configured:
probing it off ECS would turn "no credentials" into a connection timeout.

**Credentials URI.** ``GET <uri>`` answers ``{"Code": "Success", "AccessKeyId", "AccessKeySecret",
"SecurityToken", "Expiration"}``; anything else is an error naming the URI (without its query, whose values are
scrubbed from anything the server says), never echoing a secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from ga_listener.auth.fetch import Fetcher, Reply, check_url, one_line, shown_url
from ga_listener.auth.keys import Credentials, Scrubber
from ga_listener.auth.sts import temporary_credentials
from ga_listener.transport.errors import CredentialsRefreshError

__all__ = ["DEFAULT_METADATA_ENDPOINT", "METADATA_HOST", "EcsRoleCredentials", "UriCredentials"]

METADATA_HOST = "100.100.100.200"
DEFAULT_METADATA_ENDPOINT = f"http://{METADATA_HOST}"
TOKEN_TTL_SECONDS = 300  # a token is fetched for each refresh and used at once
_CREDENTIALS_PATH = "/latest/meta-data/ram/security-credentials/"
_TOKEN_HEADER = "X-aliyun-ecs-metadata-token"
_TOKEN_REFUSED = frozenset({401, 403})
_V1_OFF = "ALIBABA_CLOUD_IMDSV1_DISABLED is true"


class EcsRoleCredentials:
    """Fetches the instance role's credentials (a ``fetch`` for ``RefreshingCredentials``); never pickled.

    ``role_name`` ``None`` or empty: ask the service which role the instance has. ``imdsv1_allowed`` false:
    never read without a token.
    """

    def __init__(
        self, role_name: str | None, *, source: str, endpoint: str = DEFAULT_METADATA_ENDPOINT,
        setting: str = "ga-listener:ecsMetadataEndpoint", imdsv1_allowed: bool = True,
    ) -> None:
        self._base = check_url(endpoint, setting, plain_http_hosts=(METADATA_HOST,)).rstrip("/")
        self._role, self._imdsv1_allowed = role_name or None, imdsv1_allowed
        self.source = source
        self._scrub = Scrubber()
        self._fetcher = Fetcher(f"{source} (metadata service {shown_url(self._base)})", scrub=self._scrub,
                                timeouts=(2.0, 5.0), direct=True)

    def __repr__(self) -> str:
        return f"EcsRoleCredentials(role={self._role!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("EcsRoleCredentials hold a session and are never pickled")

    def __call__(self) -> Credentials:
        token = self._token()
        role = self._role or self._discover(token)
        reply = self._get(f"{self._base}{_CREDENTIALS_PATH}{role}", token,
                          f"reading the credentials of role {role!r}")
        if reply.status == 404:
            raise self._fetcher.fail(f"the instance has no RAM role {role!r} (HTTP 404); check the role name")
        return _success(reply, f"ECS role {role!r}", self._fetcher, self._scrub, self.source)

    def _token(self) -> str | None:
        """A metadata token, or ``None`` when the service gives none and reads without one are allowed."""
        try:
            reply = self._fetcher.send("PUT", f"{self._base}/latest/api/token", what="asking for a metadata token",
                                       headers={"X-aliyun-ecs-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)})
        except CredentialsRefreshError as error:  # the connection failed or was dropped
            if not self._imdsv1_allowed:
                why = str(error).removeprefix(f"could not get credentials from {self._fetcher.source}: ")
                raise self._fetcher.fail(f"{why}; and {_V1_OFF}") from None
            return None
        if reply.status == 200 and reply.body.strip():
            token = reply.body.decode("utf-8", "replace").strip()
            self._scrub.add(token)
            return token
        if not self._imdsv1_allowed:
            raise self._fetcher.fail(f"the metadata service gave no token (HTTP {reply.status}) and {_V1_OFF}")
        return None

    def _get(self, url: str, token: str | None, what: str) -> Reply:
        """GET with the token; a refused token means an old or odd service: again without one, if allowed."""
        reply = self._fetcher.send("GET", url, headers={_TOKEN_HEADER: token} if token else {}, what=what)
        if token is None or reply.status not in _TOKEN_REFUSED:
            return reply
        if not self._imdsv1_allowed:
            raise self._fetcher.fail(f"{what}: the metadata service refused its token (HTTP {reply.status}) and "
                                     f"{_V1_OFF}")
        return self._fetcher.send("GET", url, what=f"{what} without a token")

    def _discover(self, token: str | None) -> str:
        reply = self._get(f"{self._base}{_CREDENTIALS_PATH}", token, "asking for the instance's role name")
        name = reply.text(200, self._scrub).split(" ")[0] if reply.status == 200 else ""
        if not name:
            raise self._fetcher.fail(f"the instance names no RAM role (HTTP {reply.status}); attach a role to "
                                     "the instance or set alicloud:ecsRoleName")
        return name


class UriCredentials:
    """Fetches credentials from a credentials URI (a ``fetch`` for ``RefreshingCredentials``); never pickled."""

    def __init__(
        self, uri: str, *, source: str, setting: str = "alicloud:credentialsUri",
    ) -> None:
        self._uri = check_url(uri, setting)
        self.source = source
        # The query may carry a secret (a session key): a server echoing it must not show it in an error.
        query = urlsplit(self._uri).query
        values = [part.partition("=")[2] for part in query.split("&")]
        self._scrub = Scrubber([query, *values, *(unquote(value) for value in values),
                                *(unquote_plus(value) for value in values)])
        self._fetcher = Fetcher(f"{source} ({shown_url(self._uri)})", scrub=self._scrub)

    def __repr__(self) -> str:
        return f"UriCredentials(uri={shown_url(self._uri)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("UriCredentials hold a session and are never pickled")

    def __call__(self) -> Credentials:
        reply = self._fetcher.send("GET", self._uri, what="GET")
        return _success(reply, "the credentials URI", self._fetcher, self._scrub, self.source)


def _success(reply: Reply, what: str, fetcher: Fetcher, scrub: Scrubber, label: str) -> Credentials:
    """The credentials of a ``{"Code": "Success", ...}`` answer; otherwise an error with the status and code only
    (the rest of a failed answer could hold anything)."""
    data = reply.json()
    code = one_line(data.get("Code", ""), 60, scrub) if data is not None else ""
    if reply.status != 200 or data is None or code != "Success":
        shape = f"code {code!r}" if code else ("a JSON body without Code" if data is not None else "no JSON body")
        raise fetcher.fail(f"{what} answered HTTP {reply.status} with {shape} instead of Code 'Success'")
    credentials = temporary_credentials(data, label, lambda why: fetcher.fail(f"{what}: {why}"))
    scrub.add(*credentials.secrets())
    return credentials
