"""The emulator's STS, metadata service and credentials URI, driven by clients that share no code with ours:
Alibaba's tea-openapi SDK (AssumeRole signed v3 and v1), the official GA SDK (GA calls with what STS issued) and
the official credentials library (a credentials URI); raw HTTP for the metadata service's own rules."""

from __future__ import annotations

import calendar
import http.client
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from alibabacloud_ga20191120 import models
from alibabacloud_tea_openapi.client import Client
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions

from ga_emulator.server import EmulatorServer
from tests.credentials.conftest import (
    BASE_ID,
    BASE_SECRET,
    ECS_ROLE,
    OIDC_PROVIDER,
    OIDC_TOKEN,
    ROLE,
    ShiftedClock,
    sts_options,
)
from tests.support.peers import official_client


def epoch(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def sts_call(
    emulator: EmulatorServer, action: str, query: dict[str, str], *, algorithm: str | None = None,
    key_id: str = BASE_ID, secret: str = BASE_SECRET, token: str | None = None, anonymous: bool = False,
) -> dict[str, Any]:
    """One STS call through the official SDK; returns its answer or the error's data."""
    client = Client(Config(access_key_id=key_id, access_key_secret=secret, security_token=token,
                           endpoint=urlsplit(emulator.url).netloc, protocol="http", region_id="cn-hangzhou",
                           signature_algorithm=algorithm))
    params = Params(action=action, version="2015-04-01", protocol="HTTP", pathname="/", method="POST",
                    auth_type="Anonymous" if anonymous else "AK", style="RPC", req_body_type="formData",
                    body_type="json")
    try:
        return dict(client.call_api(params, OpenApiRequest(query=query), RuntimeOptions()))
    except Exception as error:  # the SDK's TeaException carries the service's answer
        return {"statusCode": getattr(error, "statusCode", None), "code": getattr(error, "code", None)}


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_assume_role_signed_by_the_official_sdk_issues_credentials_ga_accepts(
    emulator: EmulatorServer, algorithm: str | None
) -> None:
    answer = sts_call(emulator, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "peer"}, algorithm=algorithm)
    assert answer["statusCode"] == 200
    creds = answer["body"]["Credentials"]
    assert answer["body"]["AssumedRoleUser"]["Arn"].endswith(":role/deployer/peer")
    assert 3590 < epoch(creds["Expiration"]) - time.time() <= 3601  # DurationSeconds defaults to an hour
    request = models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web")
    client = official_client(emulator, key_id=creds["AccessKeyId"], secret=creds["AccessKeySecret"],
                             token=creds["SecurityToken"])
    assert client.describe_listener(request).body.listener_id == "lsr-web"
    assert emulator.calls[-1].access_key_id == creds["AccessKeyId"]


def test_assume_role_with_oidc_needs_no_signature(emulator: EmulatorServer) -> None:
    query = {"RoleArn": ROLE, "OIDCProviderArn": OIDC_PROVIDER, "OIDCToken": OIDC_TOKEN, "RoleSessionName": "ci"}
    answer = sts_call(emulator, "AssumeRoleWithOIDC", query, anonymous=True)
    assert answer["statusCode"] == 200 and answer["body"]["Credentials"]["AccessKeyId"].startswith("STS.")
    assert "OIDCTokenInfo" in answer["body"]


def test_faults_are_for_the_ga_api_and_an_oidc_token_is_never_recorded(emulator: EmulatorServer) -> None:
    """A fault queued for the next call waits for a GA call: STS calls are answered before the fault draw, so a
    faulted record (which keeps the request's parameters) can never hold an OIDC token."""
    emulator.faults.enqueue("throttle")
    query = {"RoleArn": ROLE, "OIDCProviderArn": OIDC_PROVIDER, "OIDCToken": OIDC_TOKEN, "RoleSessionName": "ci"}
    assert sts_call(emulator, "AssumeRoleWithOIDC", query, anonymous=True)["statusCode"] == 200
    assert emulator.faults.pending == 1
    assert OIDC_TOKEN not in repr(emulator.calls.snapshot()) and emulator.calls[-1].params["OIDCToken"] == "***"


@pytest.mark.parametrize(("action", "query", "status", "code"), [
    ("AssumeRole", {"RoleArn": "acs:ram::1234567890123456:role/nobody", "RoleSessionName": "s1"}, 404,
     "EntityNotExist.Role"),
    ("AssumeRole", {"RoleArn": "not-an-arn", "RoleSessionName": "s1"}, 400, "InvalidParameter.RoleArn"),
    ("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "600"}, 400,
     "InvalidParameter.DurationSeconds"),
    ("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "bad name!"}, 400, "InvalidParameter.RoleSessionName"),
    ("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s1", "Policy": "{not json"}, 400,
     "InvalidParameter.PolicyGrammar"),
    ("AssumeRole", {"RoleArn": ROLE}, 400, "MissingRoleSessionName"),
    ("AssumeRoleWithOIDC", {"RoleArn": ROLE, "OIDCProviderArn": "acs:ram::1:oidc-provider/x", "OIDCToken": OIDC_TOKEN,
                            "RoleSessionName": "s1"}, 404, "EntityNotExist.OIDCProvider"),
    ("AssumeRoleWithOIDC", {"RoleArn": ROLE, "OIDCProviderArn": OIDC_PROVIDER, "OIDCToken": "eyJ.wrong",
                            "RoleSessionName": "s1"}, 401, "AuthenticationFail.OIDCToken.Invalid"),
    ("GetCallerIdentity", {}, 404, "InvalidAction.NotFound"),
])
def test_sts_refusals(emulator: EmulatorServer, action: str, query: dict[str, str], status: int, code: str) -> None:
    answer = sts_call(emulator, action, query, anonymous=action == "AssumeRoleWithOIDC")
    assert (answer["statusCode"], answer["code"]) == (status, code)


def test_issued_credentials_expire_for_ga_and_for_sts(short_lived: EmulatorServer, shifted: ShiftedClock) -> None:
    answer = sts_call(short_lived, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s1"})
    creds = answer["body"]["Credentials"]
    key, secret, token = creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]
    chained = sts_call(short_lived, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s2"}, key_id=key,
                       secret=secret, token=token)
    assert chained["statusCode"] == 200  # a role assumed with a role's credentials (ChainableRamRoleArn)
    assert 59 <= epoch(creds["Expiration"]) - time.time() <= 61
    shifted.offset = 61
    request = models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web")
    with pytest.raises(Exception, match=r"InvalidSecurityToken\.Expired"):
        official_client(short_lived, key_id=key, secret=secret, token=token).describe_listener(request)
    again = sts_call(short_lived, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "s1"}, key_id=key,
                     secret=secret, token=token)
    assert again["code"] == "InvalidSecurityToken.Expired"


def test_the_official_credentials_library_reads_the_credentials_uri(emulator: EmulatorServer) -> None:
    from alibabacloud_credentials.provider import URLCredentialsProvider

    creds = URLCredentialsProvider(uri=f"{emulator.url}/credentials").get_credentials()
    request = models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id="lsr-web")
    client = official_client(emulator, key_id=creds.get_access_key_id(), secret=creds.get_access_key_secret(),
                             token=creds.get_security_token())
    assert client.describe_listener(request).body.listener_id == "lsr-web"


def raw(emulator: EmulatorServer, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_metadata_service_wants_a_token_of_a_valid_ttl(emulator: EmulatorServer) -> None:
    path = f"/latest/meta-data/ram/security-credentials/{ECS_ROLE}"
    assert raw(emulator, "GET", path)[0] == 401
    assert raw(emulator, "PUT", "/latest/api/token", {"X-aliyun-ecs-metadata-token-ttl-seconds": "0"})[0] == 400
    assert raw(emulator, "PUT", "/latest/api/token", {"X-aliyun-ecs-metadata-token-ttl-seconds": "21601"})[0] == 400
    status, token = raw(emulator, "PUT", "/latest/api/token", {"X-aliyun-ecs-metadata-token-ttl-seconds": "60"})
    assert status == 200
    with_token = {"X-aliyun-ecs-metadata-token": token}
    assert raw(emulator, "GET", "/latest/meta-data/ram/security-credentials/", with_token) == (200, ECS_ROLE)
    assert raw(emulator, "GET", "/latest/meta-data/ram/security-credentials/other", with_token)[0] == 404
    assert raw(emulator, "GET", path, {"X-aliyun-ecs-metadata-token": token + "x"})[0] == 401
    status, body = raw(emulator, "GET", path, with_token)
    assert status == 200 and '"Code": "Success"' in body and '"LastUpdated"' in body


TTL = {"X-aliyun-ecs-metadata-token-ttl-seconds": "60"}
ROLE_PATH = f"/latest/meta-data/ram/security-credentials/{ECS_ROLE}"


def metadata_in(mode: str) -> EmulatorServer:
    return EmulatorServer(port=0, sts=sts_options(metadata=mode))


@pytest.mark.parametrize(("mode", "token_status"), [("token_refused", 403), ("v1_only", 404)])
def test_metadata_modes_without_tokens_answer_reads_without_one(mode: str, token_status: int) -> None:
    with metadata_in(mode) as emulator:
        assert raw(emulator, "PUT", "/latest/api/token", TTL)[0] == token_status
        assert raw(emulator, "GET", "/latest/meta-data/ram/security-credentials/") == (200, ECS_ROLE)
        status, body = raw(emulator, "GET", ROLE_PATH)
        assert status == 200 and '"Code": "Success"' in body
        if mode == "v1_only":  # a token header means nothing to an instance without tokens
            assert raw(emulator, "GET", ROLE_PATH, {"X-aliyun-ecs-metadata-token": "any"})[0] == 200


def test_a_metadata_mode_drops_the_token_request_unanswered() -> None:
    with metadata_in("token_dropped") as emulator:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            raw(emulator, "PUT", "/latest/api/token", TTL)
        assert raw(emulator, "GET", ROLE_PATH)[0] == 200
        assert emulator.sts is not None and emulator.sts.metadata.requests[0] == ("PUT", "/latest/api/token", False)


def test_a_metadata_mode_issues_tokens_but_refuses_reads_that_carry_one() -> None:
    with metadata_in("token_rejected") as emulator:
        status, token = raw(emulator, "PUT", "/latest/api/token", TTL)
        assert status == 200 and token
        assert raw(emulator, "GET", ROLE_PATH, {"X-aliyun-ecs-metadata-token": token})[0] == 401
        assert raw(emulator, "GET", ROLE_PATH)[0] == 200


def test_an_unknown_metadata_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="the metadata mode is one of token, token_refused"):
        sts_options(metadata="v3")


def test_without_credential_services_the_emulator_is_as_before() -> None:
    with EmulatorServer(port=0) as plain:
        assert plain.sts is None
        assert raw(plain, "PUT", "/latest/api/token")[0] == 501
        assert raw(plain, "GET", "/credentials")[0] == 404
        assert raw(plain, "GET", "/latest/meta-data/ram/security-credentials/")[0] == 404


def test_the_flags_turn_the_services_on() -> None:
    command = [sys.executable, "-m", "ga_emulator", "--port", "0", "--credential", f"{BASE_ID}:{BASE_SECRET}",
               "--sts-role", ROLE, "--sts-duration", "5", "--ecs-role", ECS_ROLE, "--credentials-uri",
               "--oidc-provider", OIDC_PROVIDER, "--oidc-token", OIDC_TOKEN, "--metadata-mode", "v1_only"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rpartition(" ")[2]

        running: Any = type("Running", (), {"url": url, "host": urlsplit(url).hostname, "port": urlsplit(url).port})
        answer = sts_call(running, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "cli"})
        assert 4 <= epoch(answer["body"]["Credentials"]["Expiration"]) - time.time() <= 6  # --sts-duration 5
        assert raw(running, "GET", "/credentials")[0] == 200
        assert raw(running, "GET", ROLE_PATH)[0] == 200  # --metadata-mode v1_only: no token needed
    finally:
        process.terminate()
        process.wait(10)
    bad = subprocess.run([sys.executable, "-m", "ga_emulator", "--sts-role", "deployer"], capture_output=True,
                         text=True, timeout=30, check=False)
    assert bad.returncode == 2 and "acs:ram::<account id>:role/<name>" in bad.stderr
