"""Whatever arrives, the answer is a clear JSON 4xx (never a crash, never a traceback), and signature-level
refusals carry their real codes: skew, reused nonces, unsigned headers, body tampering."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ga_emulator import EmulatorServer
from ga_listener.transport import signing
from tests.emulator.support import CREDENTIALS, RawClient, utc_timestamp

DESCRIBE = {"ListenerId": "lsr-demo", "RegionId": "cn-hangzhou"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=0.05) as emulator:
        yield emulator


def exchange(server: EmulatorServer, data: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Send raw bytes; parse the one answer (status, JSON body, headers)."""
    with socket.create_connection((server.host, server.port), timeout=5) as connection:
        connection.sendall(data)
        response = http.client.HTTPResponse(connection)
        response.begin()
        payload = response.read()
        assert response.getheader("Content-Type", "").startswith("application/json"), payload[:200]
        body = json.loads(payload)
        assert "Traceback" not in payload.decode("utf-8", "replace")
        return response.status, body, {name.lower(): value for name, value in response.getheaders()}


def still_serving(server: EmulatorServer) -> None:
    status, body = RawClient(server).request("v3", "DescribeListener", DESCRIBE)
    assert (status, body["State"]) == (200, "active")


MALFORMED, TOO_LARGE = "MalformedRequest", "RequestTooLarge"


def post(target: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    """A POST with the given target, extra header lines and body (Content-Length added unless given)."""
    if b"Content-Length" not in headers and b"Transfer-Encoding" not in headers:
        headers += b"Content-Length: %d\r\n" % len(body)
    return b"POST " + target + b" HTTP/1.1\r\n" + headers + b"\r\n" + body


MANY_HEADERS = b"".join(b"X-%d: 1\r\n" % i for i in range(101))
MANY_PARAMETERS = b"/?" + b"&".join(b"p%d=1" % i for i in range(1001))
UNSIGNED = b"/?Action=DescribeListener&ListenerId=lsr-demo"
FORM, JSON_TYPE = b"Content-Type: application/x-www-form-urlencoded\r\n", b"Content-Type: application/json\r\n"

BAD = [
    ("garbage", b"\x00\xff\xfe garbage\r\n\r\n", 400, MALFORMED),
    ("request-line-70k", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414, TOO_LARGE),
    ("101-headers", b"GET / HTTP/1.1\r\n" + MANY_HEADERS + b"\r\n", 431, TOO_LARGE),
    ("put", b"PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 501, "UnsupportedMethod"),
    ("unknown-path", b"GET /v2/listeners HTTP/1.1\r\n\r\n", 404, "InvalidAction.NotFound"),
    ("invalid-utf8", post(b"/?ListenerId=%FF%FE"), 400, MALFORMED),
    ("raw-non-utf8-byte", post(b"/?ListenerId=\xff"), 400, MALFORMED),
    ("duplicate-parameter", post(b"/?a=1&a=2"), 400, MALFORMED),
    ("nameless-parameter", post(b"/?=1"), 400, MALFORMED),
    ("1001-parameters", post(MANY_PARAMETERS), 413, TOO_LARGE),
    ("huge-body", post(b"/", b"Content-Length: 100000000\r\n"), 413, TOO_LARGE),
    ("content-length-abc", post(b"/", b"Content-Length: abc\r\n"), 400, MALFORMED),
    ("chunked", post(b"/", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"), 400, MALFORMED),
    ("json-body", post(b"/", JSON_TYPE, b"{}"), 415, "UnsupportedMediaType"),
    ("query-and-body-clash", post(b"/?a=1", FORM, b"a=2"), 400, MALFORMED),
    ("body-not-utf8", post(b"/", FORM, b"a=%C3"), 400, MALFORMED),
    ("unsigned", post(UNSIGNED), 400, "MissingSignature"),
    ("v3-unknown-algorithm", post(b"/", b"Authorization: ACS3-HMAC-SM3 Credential=a\r\n"), 400, "IncompleteSignature"),
    ("v3-no-signature", post(b"/", b"Authorization: ACS3-HMAC-SHA256 Credential=a\r\n"), 400, "IncompleteSignature"),
]


@pytest.mark.parametrize(("data", "status", "code"), [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_request_gets_a_json_4xx(server: EmulatorServer, data: bytes, status: int, code: str) -> None:
    answer_status, body, _ = exchange(server, data)
    assert (answer_status, body["Code"]) == (status, code)
    assert body["RequestId"] and body["Message"]
    still_serving(server)


def test_refusing_an_unread_body_closes_the_connection(server: EmulatorServer) -> None:
    _, _, headers = exchange(server, b"POST / HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n")
    assert headers["connection"] == "close"


@settings(max_examples=60)
@given(st.binary(max_size=300).filter(lambda data: b"\r" not in data and b"\n" not in data))
def test_any_bytes_in_the_query_get_a_json_4xx(server: EmulatorServer, junk: bytes) -> None:
    status, body, _ = exchange(server, b"POST /?" + junk + b" HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert 400 <= status < 500 and body["Code"]


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_wrong_types_in_a_signed_request(server: EmulatorServer, version: str) -> None:
    params = {"ListenerId": "lsr-demo", "PortRanges.1.FromPort": "abc", "PortRanges.1.ToPort": "81"}
    status, body = RawClient(server).request(version, "UpdateListener", params)
    assert (status, body["Code"]) == (400, "InvalidParameter") and "PortRanges.1.FromPort" in body["Message"]


@pytest.mark.parametrize("version", ["v1", "v3"])
@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_timestamps_more_than_15_minutes_off(server: EmulatorServer, version: str, offset: int) -> None:
    status, body = RawClient(server).request(
        version, "DescribeListener", DESCRIBE, timestamp=utc_timestamp(time.time() + offset)
    )
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
    status, _ = RawClient(server).request(
        version, "DescribeListener", DESCRIBE, timestamp=utc_timestamp(time.time() - 14 * 60)
    )
    assert status == 200


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_unparseable_timestamp(server: EmulatorServer, version: str) -> None:
    status, body = RawClient(server).request(version, "DescribeListener", DESCRIBE, timestamp="yesterday")
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Format")


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_a_nonce_is_used_once_and_only_burnt_by_a_valid_request(server: EmulatorServer, version: str) -> None:
    nonce = f"nonce-{version}-{time.time()}"
    status, body = RawClient(server, secret="wrong").request(version, "DescribeListener", DESCRIBE, nonce=nonce)
    assert body["Code"] == "SignatureDoesNotMatch"
    assert RawClient(server).request(version, "DescribeListener", DESCRIBE, nonce=nonce)[0] == 200
    status, body = RawClient(server).request(version, "DescribeListener", DESCRIBE, nonce=nonce)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


def v3_headers(server: EmulatorServer, query: dict[str, str], body: bytes = b"") -> dict[str, str]:
    headers, _, _ = signing.sign_v3(
        "POST", host=f"{server.host}:{server.port}", pathname="/", action="DescribeListener", version="2019-11-20",
        query=query, body=body, access_key_id="ga-demo-key-id", secret="ga-demo-key-secret",
        timestamp=utc_timestamp(time.time()), nonce=f"n-{time.time_ns()}",
    )  # fmt: skip
    return headers


def test_v3_unsigned_acs_header_is_incomplete(server: EmulatorServer) -> None:
    headers = {**v3_headers(server, DESCRIBE), "x-acs-extra": "sneaked in"}
    status, body = RawClient(server).send("POST", "/?ListenerId=lsr-demo", headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature") and "x-acs-extra" in body["Message"]


def test_v3_tampered_body_does_not_match(server: EmulatorServer) -> None:
    headers = {**v3_headers(server, DESCRIBE), "content-type": "application/x-www-form-urlencoded"}
    status, body = RawClient(server).send("POST", "/?ListenerId=lsr-demo", headers, body=b"Name=x")
    assert body["Code"] in ("IncompleteSignature", "SignatureDoesNotMatch") and status == 400
    headers = v3_headers(server, DESCRIBE, body=b"Name=y")
    headers["content-type"] = "application/x-www-form-urlencoded"  # unsigned content-type: refused as well
    status, body = RawClient(server).send("POST", "/?ListenerId=lsr-demo", headers, body=b"Name=x")
    assert (status, body["Code"]) == (400, "IncompleteSignature")


def test_v3_tampered_query_does_not_match(server: EmulatorServer) -> None:
    headers = v3_headers(server, DESCRIBE)
    status, body = RawClient(server).send("POST", "/?ListenerId=lsr-other", headers)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_keep_alive_answers_without_delayed_ack_stalls(server: EmulatorServer) -> None:
    client = RawClient(server)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        assert client.request("v3", "DescribeListener", DESCRIBE)[0] == 200
        started = time.perf_counter()
        for _ in range(100):  # one connection: Nagle + delayed ACK would cost ~40 ms each, 4 s in all
            query = signing.sign_v1(
                "GET", {"Action": "DescribeListener", "Version": "2019-11-20", "Format": "JSON", **DESCRIBE},
                access_key_id="ga-demo-key-id", secret="ga-demo-key-secret", timestamp=utc_timestamp(time.time()),
                nonce=f"ka-{time.time_ns()}",
            )  # fmt: skip
            connection.request("GET", "/?" + "&".join(f"{k}={signing.percent_encode(v)}" for k, v in query.items()))
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("Connection") == "keep-alive"
            response.read()
        assert time.perf_counter() - started < 3.0
    finally:
        connection.close()


def test_half_sent_requests_do_not_hurt_anyone(server: EmulatorServer) -> None:
    stalled = socket.create_connection((server.host, server.port), timeout=5)
    stalled.sendall(b"POST / HTTP/1.1\r\nContent-Length: 50\r\n")  # headers never finished
    truncated = socket.create_connection((server.host, server.port), timeout=5)
    truncated.sendall(b"POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc")
    truncated.close()  # body promised, never sent
    try:
        still_serving(server)
    finally:
        stalled.close()


def test_stop_does_not_wait_for_idle_keep_alive_connections() -> None:
    emulator = EmulatorServer(credentials=CREDENTIALS).start()
    idle = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    idle.request("GET", "/_emulator/state")
    idle.getresponse().read()  # the connection stays open, its handler thread waits for the next request
    started = time.perf_counter()
    emulator.stop()
    assert time.perf_counter() - started < 2.0
    idle.close()


def test_an_internal_failure_is_a_500_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    with EmulatorServer(credentials=CREDENTIALS) as emulator:

        def explode(listener_id: str) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr(emulator.backend, "describe_listener", explode)
        status, body = RawClient(emulator).request("v3", "DescribeListener", DESCRIBE)
        assert (status, body["Code"]) == (500, "InternalError")
        assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)
        listed = {"AcceleratorId": "ga-demo", "RegionId": "cn-hangzhou"}
        assert RawClient(emulator).request("v3", "ListListeners", listed)[0] == 200


def test_a_target_that_is_not_a_path(server: EmulatorServer) -> None:
    status, body, _ = exchange(server, b"GET //[::1 HTTP/1.1\r\n\r\n")
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")


def test_a_signature_mismatch_never_shows_the_sts_token() -> None:
    version = "v1"  # only v1's echoed string-to-sign holds the token (v3's holds a hash)
    token = "CAIS+tok/EN=secret-part-of-the-token"
    with EmulatorServer(credentials=[("sts-id", "sts-secret", token)], transition_seconds=0.1) as sts_server:
        status, body = RawClient(sts_server, "sts-id", "wrong-secret", token).request(
            version, "DescribeListener", DESCRIBE)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    text = json.dumps(body)
    once = signing.percent_encode(token)
    for form in (token, once, signing.percent_encode(once), "secret-part-of-the-token"):
        assert form not in text
