"""Peers for driving the emulator in tests: Alibaba's official SDK (the independent client) and a raw signed
client built on our own pure signing functions (for what the SDK cannot be made to send: old timestamps,
reused nonces, unsigned headers, garbage)."""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from alibabacloud_ga20191120 import models
from alibabacloud_ga20191120.client import Client
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import TeaException

from ga_emulator import EmulatorServer
from ga_listener.transport import signing
from tests.support import peers
from tests.support.peers import HasUrl

DEMO_ID, DEMO_SECRET = "ga-demo-key-id", "ga-demo-key-secret"
STS_ID, STS_SECRET, STS_TOKEN = "sts-key-id", "sts-key-secret", "sts-token:with:colons"
CREDENTIALS = [(DEMO_ID, DEMO_SECRET, None), (STS_ID, STS_SECRET, STS_TOKEN)]
VERSION = "2019-11-20"
REGION = "cn-hangzhou"


def official_client(
    emulator: HasUrl,
    signature_version: str = "v3",
    *,
    key_id: str = DEMO_ID,
    secret: str = DEMO_SECRET,
    token: str | None = None,
) -> Client:
    """The official SDK client pointed at the emulator, with the demo key pair unless told otherwise."""
    return peers.official_client(emulator, signature_version, key_id=key_id, secret=secret, token=token)


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def sdk_call(client: Client, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Call ``action`` through the SDK's typed method; ``params`` in the API's (wire) names, nested.

    ``RegionId`` is ``cn-hangzhou`` unless ``params`` give one (``None`` leaves it out); DeleteListener's model has
    none, so the SDK never sends it there.
    """
    request = getattr(models, f"{action}Request")().from_map({"RegionId": REGION, **params})
    response = getattr(client, _snake(action))(request)
    body: dict[str, Any] = response.body.to_map()
    return body


def sdk_error(client: Client, action: str, params: Mapping[str, Any]) -> TeaException:
    """The error the SDK raises for the call (fails the test if the call succeeds)."""
    try:
        sdk_call(client, action, params)
    except TeaException as error:
        return error
    raise AssertionError(f"{action} {dict(params)} succeeded")


def sdk_generic_call(client: Client, action: str, query: Mapping[str, str], version: str = VERSION) -> Any:
    """Call any action name through the SDK's generic ``call_api`` (for actions the typed client lacks)."""
    params = Params(
        action=action, version=version, protocol="HTTP", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )  # fmt: skip
    return client.call_api(params, OpenApiRequest(query=dict(query)), RuntimeOptions())


def utc_timestamp(epoch: float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` of an epoch second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class RawClient:
    """Signed requests built with :mod:`ga_listener.transport.signing`, sent with http.client; every knob exposed."""

    def __init__(
        self, emulator: HasUrl, key_id: str = DEMO_ID, secret: str = DEMO_SECRET, token: str | None = None
    ) -> None:
        self.netloc = urlsplit(emulator.url).netloc
        self.key_id, self.secret, self.token = key_id, secret, token

    def request(
        self,
        signature_version: str,
        action: str,
        params: Mapping[str, str],
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Sign and send one call; returns (HTTP status, JSON body)."""
        timestamp = timestamp or utc_timestamp(time.time())
        nonce = nonce or uuid.uuid4().hex
        if signature_version == "v1":
            query = signing.sign_v1(
                "POST", {"Action": action, "Version": VERSION, "Format": "JSON", **params},
                access_key_id=self.key_id, secret=self.secret, timestamp=timestamp, nonce=nonce,
                security_token=self.token,
            )  # fmt: skip
            headers: dict[str, str] = {}
        else:
            query = dict(params)
            headers, _, _ = signing.sign_v3(
                "POST", host=self.netloc, pathname="/", action=action, version=VERSION, query=query, body=b"",
                access_key_id=self.key_id, secret=self.secret, timestamp=timestamp, nonce=nonce,
                security_token=self.token,
            )  # fmt: skip
        return self.send("POST", "/?" + urlencode(query), headers)

    def send(
        self, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, Any]]:
        """Send anything; returns (HTTP status, JSON body) and fails the test if the body is not JSON."""
        connection = http.client.HTTPConnection(self.netloc, timeout=10)
        try:
            connection.request(method, target, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        assert response.getheader("Content-Type", "").startswith("application/json"), payload[:200]
        return response.status, json.loads(payload)


def admin(emulator: HasUrl, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call an ``/_emulator/...`` admin endpoint with a JSON body; returns (HTTP status, JSON answer)."""
    connection = http.client.HTTPConnection(urlsplit(emulator.url).netloc, timeout=5)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body).encode())
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def wait_for_state(emulator: EmulatorServer, listener_id: str, state: str, timeout: float = 5.0) -> None:
    """Poll the backend until the listener reaches ``state`` (``gone`` waits for NotExist)."""
    from ga_emulator.errors import EmulatorError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            current = emulator.backend.describe_listener(listener_id).state
        except EmulatorError:
            current = "gone"
        if current == state:
            return
        time.sleep(0.01)
    raise AssertionError(f"{listener_id} never reached {state}")
