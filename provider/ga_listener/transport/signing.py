"""Request signing for Alibaba Cloud RPC APIs: pure functions, no clock, environment or I/O.

Two schemes are supported:

* **v1** (``SignatureVersion=1.0``, HMAC-SHA1): the signature is a query parameter computed over every other
  parameter.
* **v3** (``ACS3-HMAC-SHA256``): the signature travels in the ``Authorization`` header and covers the method,
  path, query, the signed headers and a hash of the body.

Both canonicalise with RFC 3986 percent-encoding of UTF-8 (only ``A-Za-z0-9-_.~`` stay as they are) and sort
parameters by key in byte order (``PortRanges.10`` before ``PortRanges.2``). The emulator verifies requests with
these same functions, so its tests drive it with Alibaba's official SDK: a mistake shared by both sides of our
own code cannot hide there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "V3_ALGORITHM",
    "canonical_query",
    "flatten_params",
    "percent_encode",
    "sha256_hex",
    "sign_v1",
    "sign_v3",
    "v1_signature",
    "v1_string_to_sign",
    "v3_authorization",
    "v3_canonical_request",
    "v3_signature",
    "v3_string_to_sign",
]

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of the UTF-8 bytes of ``value``: space is ``%20``, ``*`` is ``%2A``, ``~`` stays."""
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    """``k=v`` pairs, percent-encoded, sorted by key in byte order and joined by ``&``."""
    # Code-point order of str equals byte order of its UTF-8 encoding, so sorted() is the byte-order sort.
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, as used for ``x-acs-content-sha256`` and the v3 string-to-sign."""
    return hashlib.sha256(data).hexdigest()


# --- flattening --------------------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Flatten nested RPC parameters into the wire form.

    Lists become 1-based ``Name.N`` keys, dicts become ``Name.Field`` keys, booleans ``true``/``false``.
    ``None`` values are omitted (an omitted parameter means "unchanged" to the API), never sent as ``"None"``.
    """
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value, start=1):
                walk(f"{prefix}.{index}", item)
        else:
            flat[prefix] = _scalar(value)

    walk("", params)
    return flat


# --- v1: HMAC-SHA1 over the sorted parameters ----------------------------------------------------------------


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&enc(canonical query)`` over every parameter except ``Signature``."""
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def v1_signature(string_to_sign: str, secret: str) -> str:
    """base64(HMAC-SHA1(secret + "&", string_to_sign))."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_v1(
    method: str,
    params: Mapping[str, str],
    *,
    access_key_id: str,
    secret: str,
    timestamp: str,
    nonce: str,
    security_token: str | None = None,
) -> dict[str, str]:
    """Return ``params`` plus the v1 common parameters and ``Signature``.

    ``params`` must already hold ``Action``, ``Version`` and ``Format`` as the caller wants them;
    ``timestamp`` is ``YYYY-MM-DDThh:mm:ssZ`` (UTC) and ``nonce`` unique per attempt.
    """
    signed = {k: v for k, v in params.items() if k != "Signature"}
    signed.update(
        AccessKeyId=access_key_id,
        SignatureMethod="HMAC-SHA1",
        SignatureVersion="1.0",
        SignatureNonce=nonce,
        Timestamp=timestamp,
    )
    if security_token:
        signed["SecurityToken"] = security_token
    signed["Signature"] = v1_signature(v1_string_to_sign(method, signed), secret)
    return signed


# --- v3: ACS3-HMAC-SHA256 in the Authorization header ---------------------------------------------------------


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    lowered = sorted((name.lower().strip(), value.strip()) for name, value in headers.items())
    canonical = "".join(f"{name}:{value}\n" for name, value in lowered)
    signed_names = ";".join(name for name, _ in lowered)
    return canonical, signed_names


def v3_canonical_request(
    method: str,
    pathname: str,
    query: Mapping[str, str],
    signed_headers: Mapping[str, str],
    hashed_payload: str,
) -> str:
    """The v3 canonical request; ``signed_headers`` holds exactly the headers to sign."""
    canonical_headers, signed_names = _canonical_headers(signed_headers)
    return "\n".join(
        [method.upper(), pathname or "/", canonical_query(query), canonical_headers, signed_names, hashed_payload]
    )


def v3_string_to_sign(canonical_request: str) -> str:
    """``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request."""
    return f"{V3_ALGORITHM}\n{sha256_hex(canonical_request.encode())}"


def v3_signature(string_to_sign: str, secret: str) -> str:
    """Hex HMAC-SHA256(secret, string_to_sign)."""
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def v3_authorization(access_key_id: str, signed_header_names: str, signature: str) -> str:
    """The ``Authorization`` header value."""
    return (
        f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_header_names},Signature={signature}"
    )


def sign_v3(
    method: str,
    *,
    host: str,
    pathname: str,
    action: str,
    version: str,
    query: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
    timestamp: str,
    nonce: str,
    security_token: str | None = None,
    content_type: str | None = None,
    accept: str | None = None,
) -> tuple[dict[str, str], str, str]:
    """Build and sign the v3 headers.

    Returns ``(headers, canonical_request, string_to_sign)``; ``headers`` includes ``Authorization`` and every
    signed header (``accept`` too when given: the official SDK signs its ``accept: application/json``). The
    intermediate strings are returned for debug logging (they hold no secret).
    """
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": timestamp,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": sha256_hex(body) if body else EMPTY_SHA256,
    }
    if content_type:
        headers["content-type"] = content_type
    if accept:
        headers["accept"] = accept
    if security_token:
        headers["x-acs-security-token"] = security_token
    canonical_request = v3_canonical_request(method, pathname, query, headers, headers["x-acs-content-sha256"])
    string_to_sign = v3_string_to_sign(canonical_request)
    _, signed_names = _canonical_headers(headers)
    headers["Authorization"] = v3_authorization(access_key_id, signed_names, v3_signature(string_to_sign, secret))
    return headers, canonical_request, string_to_sign
