"""Each temporary source over loopback HTTP: STS, the metadata service and credentials URIs of the real emulator
(a scripted server where the emulator cannot misbehave), with the GA client signing with what they hand out."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from ga_listener.api.client import GaClient
from ga_listener.api.errors import AuthenticationError
from ga_listener.auth.credentials import Credentials, RefreshingCredentials, resolve_credentials
from ga_listener.transport.errors import CredentialsRefreshError
from tests.client.scripted_server import ScriptedServer, answer, api_error
from tests.credentials.conftest import (
    BASE_ID,
    BASE_SECRET,
    ECS_ROLE,
    OIDC_PROVIDER,
    OIDC_TOKEN,
    ROLE,
    CountingListener,
    ShiftedClock,
    issued_origins,
)
from tests.support.secrets import Scanner

KEYS = {"alicloud:accessKey": BASE_ID, "alicloud:secretKey": BASE_SECRET}


def resolve(config: dict[str, str], environ: dict[str, str] | None = None) -> Any:
    return resolve_credentials(config=config, environ=environ or {}, profile_path=Path("/nonexistent/config.json"))


def describe_with(emulator: EmulatorServer, provider: Any, version: str = "v3") -> dict[str, Any]:
    with GaClient(emulator.url, credentials=provider, signature_version=version) as client:
        return client.describe_listener("lsr-web")


# --- STS ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_assume_role_is_signed_by_the_base_key_and_its_credentials_sign_ga_calls(
    emulator: EmulatorServer, version: str
) -> None:
    spec = {"roleArn": ROLE, "sessionName": "ci-run-42", "sessionExpiration": 1800,
            "policy": '{"Version":"1","Statement":[]}', "externalId": "ext-1"}
    provider = resolve({**KEYS, "alicloud:assumeRole": json.dumps(spec), "ga-listener:stsEndpoint": emulator.url})
    assert describe_with(emulator, provider, version)["ListenerId"] == "lsr-web"
    sts, ga = emulator.calls[0], emulator.calls[1]
    assert (sts.action, sts.code, sts.access_key_id, sts.signature_version) == ("AssumeRole", None, BASE_ID, "v1")
    assert {k: sts.params[k] for k in ("RoleArn", "RoleSessionName", "DurationSeconds", "Policy", "ExternalId")} == {
        "RoleArn": ROLE, "RoleSessionName": "ci-run-42", "DurationSeconds": "1800",
        "Policy": '{"Version":"1","Statement":[]}', "ExternalId": "ext-1"}
    assert issued_origins(emulator)[ga.access_key_id or ""] == "AssumeRole" and ga.code is None


def test_sts_parameters_travel_in_the_form_body_never_in_the_url(server: ScriptedServer) -> None:
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    server.add(answer(200, {"RequestId": "r", "Credentials": {
        "AccessKeyId": "STS.x", "AccessKeySecret": "s-secret-x", "SecurityToken": "t-token-x", "Expiration": expires}}))
    provider = resolve({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                        "ga-listener:stsEndpoint": server.url})
    assert provider.get_credentials().access_key_id == "STS.x"
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"Action=AssumeRole" in request.body and b"Signature=" in request.body
    assert b"RoleSessionName=ga-listener" in request.body  # our default session name


@pytest.mark.parametrize(("spec", "config", "expected"), [
    ({"roleArn": "acs:ram::1234567890123456:role/nobody"}, {}, "EntityNotExist.Role: The specified Role not exists"),
    ({"roleArn": ROLE}, {"alicloud:secretKey": BASE_SECRET + "-wrong"}, "SignatureDoesNotMatch"),
    ({"roleArn": ROLE}, {"alicloud:accessKey": "unknown-key-id"}, "InvalidAccessKeyId.NotFound"),
])
def test_a_refused_assume_role_names_the_source_the_code_and_a_hint_and_no_secret(
    emulator: EmulatorServer, spec: dict[str, str], config: dict[str, str], expected: str
) -> None:
    provider = resolve({**KEYS, **config, "alicloud:assumeRole": json.dumps(spec),
                        "ga-listener:stsEndpoint": emulator.url})
    with pytest.raises(CredentialsRefreshError) as caught:
        describe_with(emulator, provider)
    text = str(caught.value)
    assert text.startswith("could not get credentials from stack config alicloud:assumeRole (role ")
    assert expected in text and f"(STS at {emulator.url})" in text and "request id" in text
    assert not Scanner([BASE_SECRET, BASE_SECRET + "-wrong"]).leaks(text)
    assert [record.action for record in emulator.calls] == ["AssumeRole"]  # no GA call was attempted


def test_an_unreachable_sts_names_the_source_and_the_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refused
        provider = resolve({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                            "ga-listener:stsEndpoint": url})
        with pytest.raises(CredentialsRefreshError, match=r"STS AssumeRole to http://127\.0\.0\.1:\d+/ failed "
                                                          r"\(ConnectionError"):
            provider.get_credentials()


def test_oidc_is_unsigned_and_reads_the_token_file_again_at_every_refresh(
    emulator: EmulatorServer, token_file: Path
) -> None:
    config = {"alicloud:assumeRoleWithOidc": json.dumps({
        "roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcTokenFile": str(token_file),
        "roleSessionName": "gha-run"}), "ga-listener:stsEndpoint": emulator.url}
    provider = resolve(config)
    first = provider.get_credentials()
    assert describe_with(emulator, provider)["ListenerId"] == "lsr-web"
    record = emulator.calls[0]
    assert (record.action, record.signature_version, record.access_key_id) == ("AssumeRoleWithOIDC", None, None)
    assert record.params["OIDCToken"] == "***" and record.params["RoleSessionName"] == "gha-run"
    token_file.write_text("eyJ.rotated-but-unknown.token", encoding="utf-8")  # the platform rotated it
    provider.invalidate(first)
    with pytest.raises(CredentialsRefreshError, match=r"AuthenticationFail\.OIDCToken\.Invalid") as caught:
        provider.get_credentials()
    assert "rotated-but-unknown" not in str(caught.value) and OIDC_TOKEN not in str(caught.value)
    token_file.unlink()
    with pytest.raises(CredentialsRefreshError, match=f"the OIDC token file {token_file} cannot be read"):
        provider.get_credentials()


def test_oidc_from_the_environment_as_ack_rrsa_sets_it(emulator: EmulatorServer, token_file: Path) -> None:
    environ = {"ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
               "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file), "ALIBABA_CLOUD_STS_ENDPOINT": emulator.url,
               "ALIBABA_CLOUD_ROLE_SESSION_NAME": "pod-1"}
    describe_with(emulator, resolve({}, environ))
    assert emulator.calls[0].params["RoleSessionName"] == "pod-1"
    assert set(issued_origins(emulator).values()) == {"AssumeRoleWithOIDC"}


# --- the ECS metadata service ------------------------------------------------------------------------------


def test_the_instance_role_is_read_token_first(emulator: EmulatorServer) -> None:
    provider = resolve({"alicloud:ecsRoleName": ECS_ROLE, "ga-listener:ecsMetadataEndpoint": emulator.url})
    assert describe_with(emulator, provider)["ListenerId"] == "lsr-web"
    assert emulator.sts is not None
    assert emulator.sts.metadata.requests == [
        ("PUT", "/latest/api/token", False),
        ("GET", f"/latest/meta-data/ram/security-credentials/{ECS_ROLE}", True),
    ]


def test_an_ecs_profile_without_a_role_name_asks_the_instance_for_it(emulator: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"current": "ecs", "profiles": [{"name": "ecs", "mode": "EcsRamRole"}]}))
    provider = resolve_credentials(config={}, environ={"GA_LISTENER_ECS_METADATA_ENDPOINT": emulator.url},
                                   profile_path=path)
    describe_with(emulator, provider)
    assert emulator.sts is not None
    assert [path for _, path, _ in emulator.sts.metadata.requests] == [
        "/latest/api/token", "/latest/meta-data/ram/security-credentials/",
        f"/latest/meta-data/ram/security-credentials/{ECS_ROLE}"]


def test_a_role_the_instance_does_not_have_is_named(emulator: EmulatorServer) -> None:
    provider = resolve({}, {"ALIBABA_CLOUD_ECS_METADATA": "not-attached",
                            "GA_LISTENER_ECS_METADATA_ENDPOINT": emulator.url})
    with pytest.raises(CredentialsRefreshError, match="the instance has no RAM role 'not-attached' \\(HTTP 404\\)"):
        provider.get_credentials()


NO_TOKEN = answer(501, raw=b"Unsupported method ('PUT')")  # what an old metadata service answers


def metadata_answer(role: str = "r") -> list[Any]:
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    return [answer(200, {"Code": "Success", "AccessKeyId": "STS.m", "AccessKeySecret": "m-secret-1",
                         "SecurityToken": "m-token-1", "Expiration": expires, "LastUpdated": expires})]


def test_an_instance_without_token_support_is_read_without_one(server: ScriptedServer) -> None:
    server.add(NO_TOKEN, *metadata_answer())  # an old instance: no token mode
    provider = resolve({"alicloud:ecsRoleName": "r", "ga-listener:ecsMetadataEndpoint": server.url})
    assert provider.get_credentials().access_key_id == "STS.m"
    put, request = server.requests
    assert (put.method, put.path) == ("PUT", "/latest/api/token")
    assert request.path == "/latest/meta-data/ram/security-credentials/r"
    assert "x-aliyun-ecs-metadata-token" not in request.headers


def test_without_a_token_and_imdsv1_disabled_nothing_is_read(server: ScriptedServer) -> None:
    server.add(NO_TOKEN)
    provider = resolve({"alicloud:ecsRoleName": "r", "ga-listener:ecsMetadataEndpoint": server.url},
                       {"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"})
    with pytest.raises(CredentialsRefreshError, match="gave no token \\(HTTP 501\\) and ALIBABA_CLOUD_IMDSV1_DISABLED"):
        provider.get_credentials()
    assert [request.method for request in server.requests] == ["PUT"]


def test_the_metadata_service_is_never_contacted_unless_an_ecs_role_is_configured(
    emulator: EmulatorServer, listener: CountingListener
) -> None:
    environ = {"GA_LISTENER_ECS_METADATA_ENDPOINT": listener.url}
    describe_with(emulator, resolve(KEYS, environ))
    with pytest.raises(Exception, match="No Alibaba Cloud credentials found"):
        resolve({}, environ)
    time.sleep(0.1)
    assert listener.accepted == 0


def test_resolving_any_source_calls_no_endpoint(listener: CountingListener, token_file: Path) -> None:
    configs: list[dict[str, str]] = [
        {**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE})},
        {"alicloud:assumeRoleWithOidc": json.dumps({"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER,
                                                    "oidcTokenFile": str(token_file)})},
        {"alicloud:ecsRoleName": ECS_ROLE},
        {"alicloud:credentialsUri": f"{listener.url}/credentials"},
    ]
    for config in configs:
        found = resolve({**config, "ga-listener:stsEndpoint": listener.url,
                         "ga-listener:ecsMetadataEndpoint": listener.url})
        assert isinstance(found, RefreshingCredentials)
    time.sleep(0.1)
    assert listener.accepted == 0


# --- credentials URIs --------------------------------------------------------------------------------------


def test_a_credentials_uri_hands_out_credentials_the_emulator_accepts(emulator: EmulatorServer) -> None:
    describe_with(emulator, resolve({}, {"ALICLOUD_CREDENTIALS_URI": f"{emulator.url}/credentials"}))
    assert set(issued_origins(emulator).values()) == {"uri"}


@pytest.mark.parametrize(("steps", "why"), [
    ([answer(200, {"Code": "Failed", "Message": "m-secret-in-message"})], "answered HTTP 200 with code 'Failed'"),
    ([answer(404, {"Message": "nope"})], "answered HTTP 404 with a JSON body without Code"),
    ([answer(500, raw=b"<html>down</html>")] * 3, "answered HTTP 500 with no JSON body"),
    ([answer(200, {"Code": "Success", "AccessKeyId": "STS.1"})],
     "the answer has no AccessKeySecret, SecurityToken, Expiration"),
    ([answer(200, {"Code": "Success", "AccessKeyId": "STS.1", "AccessKeySecret": "s-secret",
                   "SecurityToken": "t", "Expiration": "tomorrow"})], "Expiration is not a UTC time"),
])
def test_a_broken_credentials_uri_is_named_without_its_query_or_what_it_said(
    server: ScriptedServer, steps: list[Any], why: str
) -> None:
    server.add(*steps)
    provider = resolve({"alicloud:credentialsUri": f"{server.url}/creds?session=q-secret-query"})
    with pytest.raises(CredentialsRefreshError) as caught:
        provider.get_credentials()
    text = str(caught.value)
    assert why in text and f"({server.url}/creds)" in text
    assert "q-secret-query" not in text and "m-secret-in-message" not in text
    assert len(server.requests) == len(steps)  # 5xx retried, the rest not


# --- the client with temporary credentials -----------------------------------------------------------------


def test_an_expired_token_is_renewed_once_and_the_call_repeated(
    short_lived: EmulatorServer, shifted: ShiftedClock
) -> None:
    emulator = short_lived
    provider = resolve({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                        "ga-listener:stsEndpoint": emulator.url})
    with GaClient(emulator.url, credentials=provider) as client:
        client.describe_listener("lsr-web")
        shifted.offset = 61  # expired for the service; our clock says 60 s remain: not due
        client.describe_listener("lsr-web")
    assert [(r.action, r.code) for r in emulator.calls] == [
        ("AssumeRole", None), ("DescribeListener", None), ("DescribeListener", "InvalidSecurityToken.Expired"),
        ("AssumeRole", None), ("DescribeListener", None)]


def test_a_static_token_that_expired_is_not_retried(short_lived: EmulatorServer, shifted: ShiftedClock) -> None:
    emulator = short_lived
    issued = resolve({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                      "ga-listener:stsEndpoint": emulator.url}).get_credentials()
    static = Credentials(issued.access_key_id, issued.access_key_secret, issued.security_token, source="pasted")
    shifted.offset = 61
    with GaClient(emulator.url, credentials=static) as client, pytest.raises(AuthenticationError, match="Expired"):
        client.describe_listener("lsr-web")
    assert [r.action for r in emulator.calls] == ["AssumeRole", "DescribeListener"]


def test_the_client_scrubs_every_secret_it_ever_signed_with(server: ScriptedServer) -> None:
    rotations = iter([("STS.1", "first-rotated-secret", "first-rotated-token"),
                      ("STS.2", "second-rotated-secret", "second-rotated-token")])

    def fetch() -> Credentials:
        key, secret, token = next(rotations)
        return Credentials(key, secret, token, source="test", expiration=time.time() + 3600)

    provider = RefreshingCredentials(fetch, "test")
    echo = "first-rotated-secret first-rotated-token second-rotated-secret second-rotated-token"
    server.add(answer(), api_error("Forbidden.RAM", 403, message=echo))
    with GaClient(server.url, credentials=provider) as client:
        client.describe_listener("lsr-1")
        provider.invalidate(provider.get_credentials())
        with pytest.raises(AuthenticationError) as caught:
            client.describe_listener("lsr-1")
    assert str(caught.value).count("***") == 4 and "rotated" not in str(caught.value)


# --- what a preview imports ----------------------------------------------------------------------------------


def test_resolving_temporary_sources_imports_no_http_library_and_a_preview_no_credential_code() -> None:
    probe = """
import json, sys
from ga_listener.config.settings import ProviderSettings
import ga_listener.resource
config = {"alicloud:assumeRole": '{"roleArn": "acs:ram::1:role/r"}', "alicloud:ecsRoleName": "r"}
ProviderSettings.from_config(config, {})
preview = sorted(m for m in sys.modules if m.split(".")[-1] in (
    "credentials", "chain", "sts", "metadata", "fetch", "profiles", "client") and m.startswith("ga_listener"))
from ga_listener.auth.credentials import resolve_credentials
resolve_credentials(config={**config, "alicloud:accessKey": "i", "alicloud:secretKey": "s"}, environ={})
print(json.dumps([preview, "requests" in sys.modules]))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[], False]


def test_nothing_that_fetches_credentials_can_be_pickled_or_shows_a_secret(emulator: EmulatorServer) -> None:
    import pickle

    from ga_listener.auth.metadata import EcsRoleCredentials, UriCredentials
    from ga_listener.auth.sts import StsClient

    provider = resolve({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                        "ga-listener:stsEndpoint": emulator.url})
    issued = provider.get_credentials()
    things = [provider, issued, StsClient(emulator.url, source="s"),
              UriCredentials(f"{emulator.url}/c?q=1", source="u"),
              EcsRoleCredentials(ECS_ROLE, source="e", endpoint=emulator.url),
              GaClient(emulator.url, credentials=provider)]
    scanner = Scanner([BASE_SECRET, issued.access_key_secret, issued.security_token or ""])
    for thing in things:
        with pytest.raises(TypeError, match="never pickled"):
            pickle.dumps(thing)
        assert not scanner.leaks(repr(thing)), type(thing).__name__
