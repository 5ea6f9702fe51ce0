"""Who is calling: v1 (HMAC-SHA1 ``Signature`` parameter) and v3 (``ACS3-HMAC-SHA256`` Authorization header).

Verification recomputes the signature with the pure functions of :mod:`ga_listener.transport.signing` from what arrived
on the wire. Because those functions are shared with our own client, the emulator's tests drive it with
Alibaba's official SDK: a mistake common to both sides of our code would show there.

Order: access key known (InvalidAccessKeyId.NotFound) -> signature (SignatureDoesNotMatch) -> STS token when
the credential has one (InvalidSecurityToken.*) -> timestamp within 15 minutes (InvalidTimeStamp.Expired) ->
nonce unused for 15 minutes (SignatureNonceUsed). A nonce is remembered only once everything else passed.
A credential with ``expires_at`` (issued by the emulated STS) is refused as InvalidSecurityToken.Expired after it.
Error messages never carry a secret or a security token.
"""

from __future__ import annotations

import calendar
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ga_emulator.errors import (
    INCOMPLETE_SIGNATURE,
    INVALID_ACCESS_KEY_ID,
    INVALID_PARAMETER,
    INVALID_TIMESTAMP_EXPIRED,
    INVALID_TIMESTAMP_FORMAT,
    SECURITY_TOKEN_MALFORMED,
    SECURITY_TOKEN_MISMATCH,
    SIGNATURE_MISMATCH,
    SIGNATURE_NONCE_USED,
    ErrorSpec,
    missing_parameter,
)
from ga_emulator.wire import WireRequest
from ga_listener.transport.signing import (
    V3_ALGORITHM,
    percent_encode,
    sha256_hex,
    v1_signature,
    v1_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

__all__ = ["DEMO_CREDENTIAL", "MAX_SKEW_SECONDS", "Authenticator", "Credential", "Identity", "NonceCache"]

MAX_SKEW_SECONDS = 15 * 60.0
SECURITY_TOKEN_EXPIRED = ErrorSpec("InvalidSecurityToken.Expired", 400, "Specified SecurityToken is expired.")
V3_REQUIRED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)


@dataclass(frozen=True)
class Credential:
    """An access key the emulator accepts; ``security_token`` set makes it an STS credential."""

    access_key_id: str
    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds after which its token is refused as expired

    @classmethod
    def parse(cls, text: str) -> Credential:
        """``ID:SECRET[:TOKEN]``, split at the first two colons (a token may hold colons)."""
        parts = text.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError("a credential is ID:SECRET or ID:SECRET:TOKEN")
        token = parts[2] if len(parts) == 3 and parts[2] else None
        return cls(parts[0], parts[1], token)


DEMO_CREDENTIAL = Credential("ga-demo-key-id", "ga-demo-key-secret")


@dataclass(frozen=True)
class Identity:
    """A verified caller: the key id, ``v1`` or ``v3``, and the Action/Version it signed."""

    access_key_id: str
    signature_version: str
    action: str | None
    version: str | None


class NonceCache:
    """Nonces seen in the last ``ttl`` seconds, per access key (thread-safe; old entries pruned on insert)."""

    def __init__(self, ttl: float = MAX_SKEW_SECONDS) -> None:
        self._ttl = ttl
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def use(self, access_key_id: str, nonce: str, now: float) -> bool:
        """Record the nonce; False if it was already used within the ttl."""
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self._ttl:
                self._seen.popitem(last=False)
            key = (access_key_id, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def parse_timestamp(text: str) -> float:
    """Epoch seconds of UTC ``YYYY-MM-DDThh:mm:ssZ`` (fractions allowed); raises InvalidTimeStamp.Format."""
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return float(calendar.timegm(time.strptime(text, pattern)))
        except ValueError:
            continue
    raise INVALID_TIMESTAMP_FORMAT.error(f"Got {text[:40]!r}; expected UTC YYYY-MM-DDThh:mm:ssZ.")


def _v3_fields(header: str) -> dict[str, str]:
    algorithm, _, rest = header.partition(" ")
    if algorithm != V3_ALGORITHM:
        raise INCOMPLETE_SIGNATURE.error(f"Unsupported algorithm {algorithm[:40]!r}; use {V3_ALGORITHM}.")
    fields = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise INCOMPLETE_SIGNATURE.error(f"The Authorization header lacks {', '.join(missing)}.")
    return fields


def _v3_signed_headers(headers: Mapping[str, str], signed: list[str]) -> dict[str, str]:
    for name in V3_REQUIRED_HEADERS:
        if name not in headers or name not in signed:
            raise INCOMPLETE_SIGNATURE.error(f"Header {name} must be sent and signed.")
    for name in headers:
        if (name.startswith("x-acs-") or name == "content-type") and name not in signed:
            raise INCOMPLETE_SIGNATURE.error(f"Header {name} is sent but not signed.")
    absent = [name for name in signed if name not in headers]
    if absent:
        raise INCOMPLETE_SIGNATURE.error(f"Signed header {absent[0][:60]} is not in the request.")
    return {name: headers[name] for name in signed}


class Authenticator:
    """Verifies requests against a credential table, with the injected clock for skew and nonce checks."""

    def __init__(
        self,
        credentials: Iterable[Credential],
        *,
        clock: Callable[[], float] = time.time,
        max_skew: float = MAX_SKEW_SECONDS,
    ) -> None:
        self._credentials = {credential.access_key_id: credential for credential in credentials}
        self._clock = clock
        self._max_skew = max_skew
        self._nonces = NonceCache(max_skew)

    def verify(self, request: WireRequest) -> Identity:
        """The verified caller, or the authentication error the real service would answer."""
        if request.headers.get("authorization", "").startswith("ACS3-"):
            return self._verify_v3(request)
        return self._verify_v1(request)

    def add(self, credential: Credential) -> None:
        """Accept one more credential (the emulated STS and metadata service register what they issue)."""
        self._credentials[credential.access_key_id] = credential

    def _credential(self, access_key_id: str) -> Credential:
        credential = self._credentials.get(access_key_id)
        if credential is None:
            raise INVALID_ACCESS_KEY_ID.error(f"AccessKeyId {access_key_id[:64]!r} is not known to the emulator.")
        return credential

    def _verify_v1(self, request: WireRequest) -> Identity:
        params = request.params
        if "Signature" not in params:
            raise missing_parameter(
                "Signature", "The request is not signed: no Signature parameter (v1) and no ACS3-HMAC-SHA256 "
                "Authorization header (v3).",
            )
        for name in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"):
            if not params.get(name):
                raise missing_parameter(name)
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise INVALID_PARAMETER.error("SignatureMethod/SignatureVersion: v1 requests use HMAC-SHA1 and 1.0.")
        credential = self._credential(params["AccessKeyId"])
        string_to_sign = v1_string_to_sign(request.method, params)
        if not _same(params["Signature"], v1_signature(string_to_sign, credential.secret)):
            raise SIGNATURE_MISMATCH.error(
                f"server string to sign is:{_mask_token(string_to_sign, params.get('SecurityToken'))}")
        self._check_rest(credential, params.get("SecurityToken"), params["Timestamp"], params["SignatureNonce"])
        return Identity(credential.access_key_id, "v1", params.get("Action"), params.get("Version"))

    def _verify_v3(self, request: WireRequest) -> Identity:
        fields = _v3_fields(request.headers["authorization"])
        signed = _v3_signed_headers(request.headers, fields["SignedHeaders"].split(";"))
        if signed["x-acs-content-sha256"] != sha256_hex(request.body):
            raise SIGNATURE_MISMATCH.error("x-acs-content-sha256 is not the SHA-256 of the request body.")
        credential = self._credential(fields["Credential"])
        canonical = v3_canonical_request(
            request.method, request.path, request.query, signed, signed["x-acs-content-sha256"]
        )
        string_to_sign = v3_string_to_sign(canonical)
        if not _same(fields["Signature"], v3_signature(string_to_sign, credential.secret)):
            raise SIGNATURE_MISMATCH.error(f"server string to sign is:{string_to_sign}")
        self._check_rest(
            credential,
            signed.get("x-acs-security-token"),
            signed["x-acs-date"],
            signed["x-acs-signature-nonce"],
        )
        return Identity(credential.access_key_id, "v3", signed["x-acs-action"], signed["x-acs-version"])

    def _check_rest(self, credential: Credential, token: str | None, timestamp: str, nonce: str) -> None:
        if credential.security_token is not None:
            if not token:
                raise SECURITY_TOKEN_MALFORMED.error("This access key is an STS key: send its SecurityToken.")
            if not _same(token, credential.security_token):
                raise SECURITY_TOKEN_MISMATCH.error(f"The SecurityToken is not the one of {credential.access_key_id}.")
        now = self._clock()
        if credential.expires_at is not None and now >= credential.expires_at:
            raise SECURITY_TOKEN_EXPIRED.error(f"The SecurityToken of {credential.access_key_id} has expired.")
        skew = parse_timestamp(timestamp) - now
        if abs(skew) > self._max_skew:
            raise INVALID_TIMESTAMP_EXPIRED.error(
                f"Timestamp {timestamp[:40]} is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the "
                f"emulator's clock; at most {self._max_skew:.0f} s are allowed."
            )
        if not self._nonces.use(credential.access_key_id, nonce, now):
            raise SIGNATURE_NONCE_USED.error(f"Nonce {nonce[:64]!r} was used in the last {self._max_skew:.0f} s.")


def _mask_token(text: str, token: str | None) -> str:
    """``text`` without the STS token in any of the forms a string-to-sign holds it (raw, encoded once, twice)."""
    if not token:
        return text
    once = percent_encode(token)
    for form in sorted({token, once, percent_encode(once)}, key=len, reverse=True):
        text = text.replace(form, "***")
    return text
