"""The ECS instance metadata service and a credentials URI, emulated on the emulator's own port (plain HTTP).

Metadata, by default in token mode only (an instance in hardened mode):

* ``PUT /latest/api/token`` with ``X-aliyun-ecs-metadata-token-ttl-seconds: 1..21600`` answers a token (text);
* ``GET /latest/meta-data/ram/security-credentials/`` answers the attached role's name (text);
* ``GET /latest/meta-data/ram/security-credentials/<role>`` answers ``{"Code": "Success", "AccessKeyId",
  "AccessKeySecret", "SecurityToken", "Expiration", "LastUpdated"}``;
* both GETs need a valid ``X-aliyun-ecs-metadata-token`` header (401 otherwise; unconfirmed status), an unknown
  role or path answers 404.

The other :data:`METADATA_MODES` show the cases where the SDKs read without a token (each answers GETs without
one): ``token_refused`` (the PUT answers 403), ``token_dropped`` (the PUT's connection is closed unanswered),
``token_rejected`` (the PUT issues a token, but a GET carrying it answers 401) and ``v1_only`` (an instance
without tokens: the PUT answers 404, and a token header on a GET is ignored).

Credentials URI: ``GET /credentials`` answers ``{"Code": "Success", "AccessKeyId", "AccessKeySecret",
"SecurityToken", "Expiration"}``. Every credentials answer issues a fresh credential (the real services rotate
theirs ahead of expiry; a fresh one each time keeps tests simple and shows every refresh).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ga_emulator.auth import Credential

if TYPE_CHECKING:
    from ga_emulator.sts import Issuer

__all__ = ["CREDENTIALS_URI_PATH", "METADATA_MODES", "MetadataService", "credentials_body"]

logger = logging.getLogger("ga_emulator")

TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/ram/security-credentials/"
CREDENTIALS_URI_PATH = "/credentials"
TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
MAX_TOKEN_TTL = 21600
#: How the service treats tokens (see the module docstring); the first is the default.
METADATA_MODES = ("token", "token_refused", "token_dropped", "token_rejected", "v1_only")


class MetadataService:
    """Answers metadata and credentials-URI requests; ``requests`` records (method, path, had a token)."""

    def __init__(
        self, issuer: Issuer, clock: Callable[[], float], *, ecs_role: str | None, credentials_uri: bool,
        mode: str = METADATA_MODES[0],
    ) -> None:
        if mode not in METADATA_MODES:
            raise ValueError(f"the metadata mode is one of {', '.join(METADATA_MODES)}")
        self._issuer, self._clock = issuer, clock
        self.ecs_role, self.credentials_uri, self.mode = ecs_role, credentials_uri, mode
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, bool]] = []

    @property
    def tokens(self) -> list[str]:
        """Every metadata token handed out (they are secrets too: tests scan for them)."""
        with self._lock:
            return list(self._tokens)

    def serves(self, path: str) -> bool:
        """True for the paths this service answers."""
        return (self.ecs_role is not None and path.startswith("/latest/")) or (
            self.credentials_uri and path == CREDENTIALS_URI_PATH)

    def serve(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[int, bytes, str] | None:
        """``(status, payload, content type)`` of one request (``headers`` with lower-case names), which the HTTP
        layer writes; ``None``: close the connection unanswered."""
        with self._lock:
            self.requests.append((method, path, TOKEN_HEADER in headers))
        if path == TOKEN_PATH and self.mode == "token_dropped":
            logger.info("metadata %s %s dropped", method, path)
            return None
        status, body = self._answer(method, path, headers)
        logger.info("metadata %s %s %d", method, path[:80], status)
        if isinstance(body, dict):
            return status, json.dumps(body).encode(), "application/json;charset=utf-8"
        return status, body.encode(), "text/plain;charset=utf-8"

    def _answer(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[int, str | dict[str, Any]]:
        if path == CREDENTIALS_URI_PATH:
            if method != "GET":
                return 405, "Method Not Allowed"
            credential, expiration = self._issuer.issue("uri")
            return 200, {"Code": "Success", **credentials_body(credential, expiration)}
        if path == TOKEN_PATH:
            return self._token(method, headers)
        if not path.startswith(CREDENTIALS_PATH):
            return 404, "Not Found"
        if method != "GET":
            return 405, "Method Not Allowed"
        refused = self._refuses(headers.get(TOKEN_HEADER))
        if refused:
            return 401, refused
        role = path[len(CREDENTIALS_PATH):]
        if not role:
            return 200, str(self.ecs_role)
        if role != self.ecs_role:
            return 404, "Not Found"
        credential, expiration = self._issuer.issue("ecs")
        updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock()))
        return 200, {"Code": "Success", **credentials_body(credential, expiration), "LastUpdated": updated}

    def _refuses(self, token: str | None) -> str:
        """Why a GET with ``token`` (``None``: without one) is refused, or ``""``."""
        if self.mode == "token":
            return "" if token is not None and self._valid(token) else (
                "Unauthorized: send a token from PUT /latest/api/token in X-aliyun-ecs-metadata-token")
        if self.mode == "token_rejected" and token is not None:
            return "Unauthorized: the metadata token is not accepted"
        return ""  # the other modes read without a token (v1_only ignores one)

    def _token(self, method: str, headers: Mapping[str, str]) -> tuple[int, str]:
        if method != "PUT":
            return 405, "Method Not Allowed"
        if self.mode == "token_refused":
            return 403, "Forbidden"
        if self.mode == "v1_only":
            return 404, "Not Found"
        ttl = headers.get(TOKEN_TTL_HEADER, "").strip()
        if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TOKEN_TTL:
            return 400, f"{TOKEN_TTL_HEADER} must be 1..{MAX_TOKEN_TTL} seconds"
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + int(ttl)
        return 200, token

    def _valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and self._clock() < expires


def credentials_body(credential: Credential, expiration: str) -> dict[str, str]:
    """The four fields every source answers."""
    assert credential.security_token is not None
    return {"AccessKeyId": credential.access_key_id, "AccessKeySecret": credential.secret,
            "SecurityToken": credential.security_token, "Expiration": expiration}

