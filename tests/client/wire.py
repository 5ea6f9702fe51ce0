"""Check a recorded request's signature with Alibaba's official SDK utilities (an independent implementation)."""

from __future__ import annotations

from alibabacloud_tea_openapi.utils import Utils  # type: ignore[import-untyped]
from darabonba.request import DaraRequest  # type: ignore[import-untyped]

from tests.client.scripted_server import Recorded


def sdk_accepts(recorded: Recorded, *, key_id: str, secret: str) -> bool:
    """True when the SDK computes the same signature for what arrived on the wire (v1 or v3)."""
    if "authorization" in recorded.headers:
        authorization = recorded.headers["authorization"]
        names = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        request = DaraRequest()
        request.method, request.pathname = recorded.method, "/"
        request.query = dict(recorded.query)
        request.headers = {name: recorded.headers[name] for name in names}
        payload = recorded.headers["x-acs-content-sha256"]
        expected = Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, key_id, secret)
        return bool(expected == authorization)
    params = {k: v for k, v in recorded.query.items() if k != "Signature"}
    return bool(Utils.get_rpcsignature(params, recorded.method, secret) == recorded.query.get("Signature"))
