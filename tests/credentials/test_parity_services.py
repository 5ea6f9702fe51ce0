"""Where STS calls go, what the provider warns about and refuses at preview, how the instance metadata service
falls back, no fragment of a secret in any error, and when temporary credentials are refreshed (issue 18). Every
case runs the real provider host over gRPC, configured from stack config and environment as the engine does,
against the emulator or a small scripted server on loopback. Public hosts are never contacted: their requests
go to a loopback proxy that records the tunnel's target and refuses it.

Expectations follow Terraform's ``providerConfigure`` (``endpoints``, ``LoadRegionalEndpoint(region, "sts")``),
the SDKs' STS endpoint rule (``sts[-vpc].<sts_region>.aliyuncs.com``) and their metadata fallback
(``alibabacloud-credentials``' ``EcsRamRoleCredentialsProvider``), read by hand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.client.scripted_server import ScriptedServer, answer, api_error
from tests.credentials.conftest import (
    BASE_ID,
    BASE_SECRET,
    ECS_ROLE,
    KEYS,
    OIDC_PROVIDER,
    OIDC_TOKEN,
    ROLE,
    WEB,
    CountingListener,
    assert_signed_by,
    engine_for,
    ga_signers,
    sts_options,
    tunnels,
    write_profiles,
)
from tests.credentials.host_clock import HostClock
from tests.support.provider_host import Engine, ProviderError
from tests.support.secrets import Scanner

STS = "ga-listener:stsEndpoint"
METADATA = "ga-listener:ecsMetadataEndpoint"
ROLE_ON_KEYS = {**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE})}


def up_fails(engine: Engine) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        engine.up("web", WEB)
    return caught.value


# --- 6. where STS calls go --------------------------------------------------------------------------------------

# (what, stack config, environment, fields of the RamRoleArn profile, where the call goes): highest first
LEVELS: list[tuple[str, dict[str, str], dict[str, str], dict[str, Any], str]] = [
    ("ga-listener:stsEndpoint", {STS: "sts-stack.example.com"}, {}, {}, "sts-stack.example.com"),
    ("alicloud:endpoints[].sts", {"alicloud:endpoints": json.dumps([{"sts": "sts-endpoints.example.com"}])}, {}, {},
     "sts-endpoints.example.com"),
    ("ALIBABA_CLOUD_STS_ENDPOINT", {}, {"ALIBABA_CLOUD_STS_ENDPOINT": "sts-env.example.com"}, {},
     "sts-env.example.com"),
    ("profile sts_endpoint", {}, {}, {"sts_endpoint": "sts-profile.example.com"}, "sts-profile.example.com"),
    ("profile sts_region", {}, {}, {"sts_region": "cn-profile"}, "sts.cn-profile.aliyuncs.com"),
    ("alicloud:region", {"alicloud:region": "cn-stack"}, {}, {}, "sts.cn-stack.aliyuncs.com"),
    ("ALIBABA_CLOUD_STS_REGION", {}, {"ALIBABA_CLOUD_STS_REGION": "cn-env"}, {}, "sts.cn-env.aliyuncs.com"),
    ("the default", {}, {}, {}, "sts.aliyuncs.com"),
]


def role_profile(tmp_path: Path, **fields: Any) -> Path:
    return write_profiles(tmp_path / "config.json", [
        {"name": "ops", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET,
         "ram_role_arn": ROLE, **fields}])


@pytest.mark.parametrize("level", range(len(LEVELS)), ids=[level[0] for level in LEVELS])
def test_sts_calls_go_to_the_first_setting_in_the_documented_order(
    emulator: EmulatorServer, proxy: ScriptedServer, tmp_path: Path, level: int
) -> None:
    config, env, fields = {}, {"HTTPS_PROXY": proxy.url}, {}
    for _, more_config, more_env, more_fields, _ in LEVELS[level:]:  # this level and every one below it
        config.update(more_config)
        env.update(more_env)
        fields.update(more_fields)
    path = role_profile(tmp_path, **fields)
    error = up_fails(engine_for(emulator, {**config, "alicloud:sharedCredentialsFile": str(path),
                                           "alicloud:profile": "ops"}, env))
    assert "STS AssumeRole" in error.last_line
    assert set(tunnels(proxy)) == {f"{LEVELS[level][4]}:443"}


@pytest.mark.parametrize("case", [
    ({"sts_region": "cn-profile", "enable_vpc": True}, {}, "sts-vpc.cn-profile.aliyuncs.com"),
    ({"sts_region": "cn-profile", "enable_vpc": False}, {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"},
     "sts-vpc.cn-profile.aliyuncs.com"),  # false is the SDKs' "not set": the environment decides
    ({"enable_vpc": True}, {"ALIBABA_CLOUD_STS_REGION": "cn-env"}, "sts-vpc.cn-env.aliyuncs.com"),
    ({"enable_vpc": True}, {}, "sts.aliyuncs.com"),  # no region: the global endpoint has no VPC twin
])
def test_a_profiles_enable_vpc_reaches_sts(
    emulator: EmulatorServer, proxy: ScriptedServer, tmp_path: Path,
    case: tuple[dict[str, Any], dict[str, str], str],
) -> None:
    fields, env, host = case
    path = role_profile(tmp_path, **fields)
    up_fails(engine_for(emulator, {"alicloud:sharedCredentialsFile": str(path), "alicloud:profile": "ops"},
                        {**env, "HTTPS_PROXY": proxy.url}))
    assert set(tunnels(proxy)) == {f"{host}:443"}


def test_alicloud_endpoints_sts_serves_a_whole_up(emulator: EmulatorServer, proxy: ScriptedServer) -> None:
    endpoints = json.dumps([{"ecs": "ecs.example.com"}, {"sts": emulator.url}])
    engine_for(emulator, {**ROLE_ON_KEYS, "alicloud:endpoints": endpoints}, {"HTTPS_PROXY": proxy.url}).up(
        "web", WEB)
    assert_signed_by(emulator, "AssumeRole")
    assert tunnels(proxy) == []


# --- 6. warnings for alicloud:* keys the provider does not use; role objects checked at preview -----------------


def test_every_alicloud_key_the_provider_does_not_use_gets_one_warning_naming_it(emulator: EmulatorServer) -> None:
    unused = {"alicloud:skipRegionValidation": "true", "alicloud:accountId": "acct-7d1f-value",
              "alicloud:protocol": "HTTPS"}
    endpoints = json.dumps([{"sts": emulator.url, "ecs": "ecs.example.com", "ga": "ga-private.example.com"}])
    engine = engine_for(emulator, {**ROLE_ON_KEYS, **unused, "alicloud:region": "cn-hangzhou",
                                   "alicloud:endpoints": endpoints})
    host = engine.host()
    try:
        engine.preview("web", WEB, host=host)
        engine.up("web", WEB, host=host)
        engine.up("web", {**WEB, "name": "again"}, host=host)
        output = host.output()
    finally:
        host.close()
    lines = output.splitlines()
    for key in unused:
        assert len([line for line in lines if key in line]) == 1, key
    [about_endpoints] = [line for line in lines if "alicloud:endpoints" in line]
    assert "ecs" in about_endpoints and "ga" in about_endpoints and "ga-listener:endpoint" in about_endpoints
    for key in ("alicloud:accessKey", "alicloud:secretKey", "alicloud:assumeRole", "alicloud:region"):
        assert key not in output
    assert "acct-7d1f-value" not in output and "ga-private.example.com" not in output  # names, never values


@pytest.mark.parametrize(("key", "spec", "named"), [
    ("alicloud:assumeRole", {"roleArn": ROLE, "sesionName": "typo"}, "an unknown field 'sesionName'"),
    ("alicloud:assumeRoleWithOidc", {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcToken": OIDC_TOKEN,
                                     "oidc_token_file": "/t"}, "an unknown field 'oidc_token_file'"),
    ("alicloud:assumeRoleWithOidc", {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, OIDC_TOKEN: "pasted"},
     "an unknown field (not named here: only names of letters and _ are shown)"),  # a name is echoed only
    ("alicloud:assumeRole", {"roleArn": ROLE, "LTAI5tExampleKey0123": "pasted"},  # when it cannot be a secret
     "an unknown field (not named here: only names of letters and _ are shown)"),
])
def test_an_unknown_field_of_a_role_object_is_refused_at_preview_naming_it(
    emulator: EmulatorServer, listener: CountingListener, key: str, spec: dict[str, str], named: str
) -> None:
    plan = engine_for(emulator, {**KEYS, key: json.dumps(spec), STS: listener.url}).preview("web", WEB)
    [(prop, reason)] = plan["failures"]
    assert prop == "" and reason.startswith(f"{key} has {named}; its fields are "), reason
    assert OIDC_TOKEN not in reason
    listener.close()
    assert listener.accepted == 0 and list(emulator.calls) == []


def test_malformed_endpoints_are_refused_at_preview(emulator: EmulatorServer) -> None:
    for value, rule in ((json.dumps({"sts": "x"}), "must be a list of objects"),
                        (json.dumps([{"sts": 42}]), "sts must be text")):
        plan = engine_for(emulator, {**KEYS, "alicloud:endpoints": value}).preview("web", WEB)
        assert [(prop, rule in reason) for prop, reason in plan["failures"]] == [("", True)], plan["failures"]


# --- 7. the instance metadata service falls back as the SDKs do --------------------------------------------------


@pytest.fixture(params=["token_refused", "token_dropped", "token_rejected", "v1_only"])
def hardened_off(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    """An emulator whose metadata service cannot hand out or accept a token, but answers reads without one."""
    server = EmulatorServer(port=0, credentials=[(BASE_ID, BASE_SECRET, None)], accelerators=["ga-1"],
                            listeners=["ga-1:lsr-web:tcp:80-80"], transition_seconds=0.2,
                            sts=sts_options(metadata=request.param))
    with server:
        yield server


def metadata_requests(emulator: EmulatorServer) -> list[tuple[str, str, bool]]:
    assert emulator.sts is not None
    return emulator.sts.metadata.requests


def test_without_a_usable_token_the_instance_role_is_read_without_one(hardened_off: EmulatorServer) -> None:
    emulator = hardened_off
    engine_for(emulator, {"alicloud:ecsRoleName": ECS_ROLE, METADATA: emulator.url}).up("web", WEB)
    assert_signed_by(emulator, "ecs")
    reads = [(path, with_token) for method, path, with_token in metadata_requests(emulator) if method == "GET"]
    assert reads[-1] == (f"/latest/meta-data/ram/security-credentials/{ECS_ROLE}", False)


def test_with_imdsv1_disabled_nothing_is_read_without_a_token(hardened_off: EmulatorServer) -> None:
    emulator = hardened_off
    error = up_fails(engine_for(emulator, {"alicloud:ecsRoleName": ECS_ROLE, METADATA: emulator.url},
                                {"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}))
    assert "ALIBABA_CLOUD_IMDSV1_DISABLED is true" in error.last_line, error.last_line
    assert all(with_token for method, _, with_token in metadata_requests(emulator) if method == "GET")
    assert ga_signers(emulator) == []


# --- 9. no fragment of a secret in an error ------------------------------------------------------------------


URI_SECRET = "uri-Query/Secret+Value=0123456789"
METADATA_TOKEN = "metadata-token-AQIDBAUGBwgJCgsMDQ4PEBESEw"
LONG_TOKEN = "CAIS" + "LongToken/Value+" * 320  # 5124 characters: real STS tokens run to thousands


def in_an_hour() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))


def sts_echo(body: dict[str, Any], status: int = 403) -> tuple[dict[str, str], list[Any], list[str]]:
    return {**ROLE_ON_KEYS}, [answer(status, body)], [BASE_SECRET]


ECHOES: dict[str, tuple[dict[str, str], list[Any], list[str]]] = {
    # what the STS client cuts: the message at 200, the code and the request id at 80, a body without a code at 80
    "sts message": ({**ROLE_ON_KEYS}, [api_error("NoPermission", 403, message="m" * 180 + BASE_SECRET)],
                    [BASE_SECRET]),
    "sts code": sts_echo({"Code": "Denied." + "c" * 53 + BASE_SECRET, "Message": "no", "RequestId": "r"}),
    "sts request id": sts_echo({"Code": "NoPermission", "Message": "no", "RequestId": "r" * 62 + BASE_SECRET}),
    "sts body without code": ({**ROLE_ON_KEYS}, [answer(403, raw=b"denied " + b"b" * 60 + BASE_SECRET.encode())],
                              [BASE_SECRET]),
    # a credentials URI's answer code (cut at 60) echoing the URI's query
    "uri code": ({"alicloud:credentialsUri": "{url}/creds?session=" + URI_SECRET},
                 [answer(200, {"Code": "Failed:" + "u" * 33 + URI_SECRET})], [URI_SECRET]),
    # the role name the metadata service names (cut at 200) echoing the metadata token
    "metadata role name": ({METADATA: "{url}"}, [
        answer(200, raw=METADATA_TOKEN.encode()), answer(200, raw=b"r" * 180 + METADATA_TOKEN.encode()),
        answer(404, raw=b"Not Found")], [METADATA_TOKEN]),
    # the GA client's non-JSON answer (cut at 60) echoing a session token longer than what it scrubbed
    "ga answer": ({"alicloud:credentialsUri": "{url}/creds", "ga-listener:endpoint": "{url}"}, [
        answer(200, {"Code": "Success", "AccessKeyId": "STS.long", "AccessKeySecret": "long-token-secret",
                     "SecurityToken": LONG_TOKEN, "Expiration": "{expiration}"}),
        answer(403, raw=b"refused: " + LONG_TOKEN.encode())], [LONG_TOKEN]),
}


@pytest.mark.parametrize("case", ECHOES)
def test_no_fragment_of_a_secret_reaches_an_error_when_a_server_echoes_it(
    emulator: EmulatorServer, server: ScriptedServer, tmp_path: Path, case: str
) -> None:
    config, steps, secrets = ECHOES[case]
    config = {key: value.replace("{url}", server.url) for key, value in config.items()}
    if case == "metadata role name":
        path = write_profiles(tmp_path / "config.json", [{"name": "ecs", "mode": "EcsRamRole"}])
        config.update({"alicloud:sharedCredentialsFile": str(path), "alicloud:profile": "ecs"})
    config.setdefault(STS, server.url)
    for step in steps:
        server.add(step if b"{expiration}" not in step.body else
                   answer(200, json.loads(step.body.replace(b"{expiration}", in_an_hour().encode()))))
    server.default = steps[-1]  # retries meet the same echo
    error = up_fails(engine_for(emulator, config))
    assert error.last_line.startswith("ga_listener."), error.last_line  # the failure itself is shown
    assert not Scanner(secrets).leaks(error.details), case
    assert len(server.requests) >= len(steps)  # every scripted answer was read


# --- 10. refresh margin, and credentials that arrive expired ----------------------------------------------------


@pytest.fixture
def clock(tmp_path: Path) -> HostClock:
    return HostClock(tmp_path / "clock")


def test_credentials_are_refreshed_once_less_than_fifteen_minutes_remain(clock: HostClock) -> None:
    server = EmulatorServer(port=0, credentials=[(BASE_ID, BASE_SECRET, None)], accelerators=["ga-1"],
                            listeners=["ga-1:lsr-web:tcp:80-80"], transition_seconds=0.2,
                            sts=sts_options(duration=3600), clock=clock)
    with server:
        engine = Engine(config={"ga-listener:endpoint": server.url, "ga-listener:waitTimeout": "30",
                                **ROLE_ON_KEYS, STS: server.url}, env=clock.env())
        host = engine.host()
        try:
            engine.up("web", WEB, host=host)
            clock.advance(3600 - 600)  # ten minutes left: due (less than 15), still valid
            engine.up("web", {**WEB, "name": "again"}, host=host)
        finally:
            host.close()
        calls = list(server.calls)
        assumed = [index for index, record in enumerate(calls) if record.action == "AssumeRole"]
        assert len(assumed) == 2  # a five-minute margin would have kept the first credentials
        assert server.sts is not None
        renewed = server.sts.issuer.issued[1].credential.access_key_id
        assert {record.access_key_id for record in calls[assumed[1] + 1:]} == {renewed}
        assert all(record.code is None for record in calls)


def test_credentials_that_arrive_expired_are_refused_and_never_used(server: ScriptedServer) -> None:
    static = ("STS.expired-0001", "expired/Secret+Value=&do-not-leak", "CAIS.expired/Token==")
    emulator = EmulatorServer(port=0, credentials=[static], accelerators=["ga-1"],
                              listeners=["ga-1:lsr-web:tcp:80-80"], transition_seconds=0.2)
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    server.default = answer(200, {"Code": "Success", "AccessKeyId": static[0], "AccessKeySecret": static[1],
                                  "SecurityToken": static[2], "Expiration": expired})
    with emulator:
        error = up_fails(engine_for(emulator, {"alicloud:credentialsUri": f"{server.url}/creds"}))
        assert "could not get credentials from stack config alicloud:credentialsUri" in error.last_line
        assert f"expired at {expired}" in error.last_line and "clock" in error.last_line, error.last_line
        assert list(emulator.calls) == []  # never signed anything with them
