"""Alibaba's official SDK as the independent peer of our emulator: a client that shares no code with ours."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from alibabacloud_ga20191120 import models
from alibabacloud_ga20191120.client import Client
from alibabacloud_tea_openapi.utils_models import Config


class HasUrl(Protocol):
    """An emulator, in-process or a subprocess: anything with its ``http://HOST:PORT`` url."""

    @property
    def url(self) -> str: ...


def official_client(
    emulator: HasUrl, signature_version: str = "v3", *, key_id: str, secret: str, token: str | None = None
) -> Client:
    """The official SDK client, unchanged, pointed at the emulator.

    ``v3`` is the SDK's default (ACS3-HMAC-SHA256 via ``do_request``); ``v1`` sets the tea-openapi option
    ``signature_algorithm="v2"``, which routes RPC calls through ``do_rpcrequest`` (HMAC-SHA1 ``Signature``).
    """
    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=urlsplit(emulator.url).netloc,
        protocol="http",
        region_id="cn-hangzhou",
        signature_algorithm="v2" if signature_version == "v1" else None,
    )
    return Client(config)


def describe(emulator: HasUrl, listener_id: str, *, key_id: str, secret: str) -> Any:
    """The listener as the official SDK reads it (its typed response body)."""
    request = models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id=listener_id)
    return official_client(emulator, key_id=key_id, secret=secret).describe_listener(request).body
