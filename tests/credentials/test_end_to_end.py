"""Every credential source end to end: the real provider host (over gRPC, configured from stack config and
environment as the engine does) adopts and changes a listener of the emulator, whose GA calls must be signed
with the temporary credentials the source handed out, never with the key they were obtained with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ga_emulator.server import EmulatorServer
from tests.credentials.conftest import (
    BASE_ID,
    BASE_SECRET,
    ECS_ROLE,
    ENV_KEYS,
    KEYS,
    OIDC_PROVIDER,
    ROLE,
    WEB,
    CountingListener,
    assert_signed_by,
    assumed_with,
    engine_for,
    issued_origins,
    sts_options,
    write_profiles,
)


@pytest.mark.parametrize(("config", "env"), [
    ({**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE, "sessionName": "stack-dev"})}, {}),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE})}, ENV_KEYS),
    ({"alicloud:assumeRole": "{}"}, {**ENV_KEYS, "ALIBABA_CLOUD_ROLE_ARN": ROLE}),  # the environment fills roleArn
], ids=["stack-config-json", "config-role-on-environment-keys", "environment-role-in-a-config-object"])
def test_assume_role(emulator: EmulatorServer, config: dict[str, str], env: dict[str, str]) -> None:
    engine = engine_for(emulator, config, {**env, "ALIBABA_CLOUD_STS_ENDPOINT": emulator.url})
    engine.up("web", WEB)
    assert_signed_by(emulator, "AssumeRole")
    assert assumed_with(emulator) == {BASE_ID}
    engine.refresh("web")  # Read and Delete configure from the stored config, as the engine does
    engine.destroy("web")
    assert issued_origins(emulator)[emulator.calls[-1].access_key_id or ""] == "AssumeRole"


def test_assume_role_with_oidc_and_a_token_file(emulator: EmulatorServer, token_file: Path) -> None:
    spec = {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcTokenFile": str(token_file)}
    engine = engine_for(emulator, {"alicloud:assumeRoleWithOidc": json.dumps(spec),
                                   "ga-listener:stsEndpoint": emulator.url})
    engine.up("web", WEB)
    assert_signed_by(emulator, "AssumeRoleWithOIDC")


def test_the_ecs_instance_role(emulator: EmulatorServer) -> None:
    engine_for(emulator, {"alicloud:ecsRoleName": ECS_ROLE, "ga-listener:ecsMetadataEndpoint": emulator.url}).up(
        "web", WEB)
    assert_signed_by(emulator, "ecs")


def test_a_credentials_uri(emulator: EmulatorServer) -> None:
    engine_for(emulator, {"alicloud:credentialsUri": f"{emulator.url}/credentials"}).up("web", WEB)
    assert_signed_by(emulator, "uri")


@pytest.fixture
def profile_file(tmp_path: Path, token_file: Path) -> Path:
    role = {"ram_role_arn": ROLE, "ram_session_name": "from-profile", "expired_seconds": 900}
    return write_profiles(tmp_path / "config.json", [
        {"name": "role", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET, **role},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": ECS_ROLE},
        {"name": "oidc", "mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "oidc_token_file": str(token_file),
         "ram_role_arn": ROLE, "role_session_name": "oidc-profile"},
        {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "ecs", "ram_role_arn": ROLE},
    ], current="nobody")


@pytest.mark.parametrize(("profile", "origin", "signs_assume_role"), [
    ("role", "AssumeRole", {"base"}),
    ("ecs", "ecs", set()),
    ("oidc", "AssumeRoleWithOIDC", set()),
    ("chain", "AssumeRole", {"ecs"}),  # AssumeRole signed with the instance role's credentials
])
def test_cli_profile_modes(
    emulator: EmulatorServer, profile_file: Path, profile: str, origin: str, signs_assume_role: set[str]
) -> None:
    engine_for(emulator, {"alicloud:profile": profile, "alicloud:sharedCredentialsFile": str(profile_file),
                          "ga-listener:stsEndpoint": emulator.url,
                          "ga-listener:ecsMetadataEndpoint": emulator.url}).up("web", WEB)
    assert_signed_by(emulator, origin)
    issued = {**issued_origins(emulator), BASE_ID: "base"}
    assert {issued[key or ""] for key in assumed_with(emulator)} == signs_assume_role
    if profile == "role":
        assert [r.params["DurationSeconds"] for r in emulator.calls if r.action == "AssumeRole"] == ["900"]


@pytest.fixture
def slow_emulator() -> Iterator[EmulatorServer]:
    """Credentials live 2 s while a listener change takes 4 s: a token must be refreshed in the middle."""
    server = EmulatorServer(port=0, credentials=[(BASE_ID, BASE_SECRET, None)], accelerators=["ga-1"],
                            listeners=["ga-1:lsr-web:tcp:80-80"], transition_seconds=4.0,
                            sts=sts_options(duration=2))
    with server:
        yield server


@pytest.mark.slow
def test_an_expiring_token_is_refreshed_during_a_long_wait(slow_emulator: EmulatorServer) -> None:
    emulator = slow_emulator
    engine = engine_for(emulator, {**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}),
                                   "ga-listener:stsEndpoint": emulator.url})
    engine.up("web", WEB)
    signers = assert_signed_by(emulator, "AssumeRole")
    calls = [record for record in emulator.calls if record.action != "AssumeRole"]
    update = next(index for index, record in enumerate(calls) if record.action == "UpdateListener")
    polls = {record.access_key_id for record in calls[update + 1:]}
    assert len(set(signers)) >= 2 and polls - {calls[update].access_key_id}  # a new key in the middle of the wait
    assert len([record for record in emulator.calls if record.action == "AssumeRole"]) == len(set(signers))
    assert all(record.code is None for record in emulator.calls)  # never signed with an expired token


def test_a_preview_with_every_source_configured_contacts_nothing(emulator: EmulatorServer, token_file: Path,
                                                                  listener: CountingListener) -> None:
    config = {**KEYS, "alicloud:assumeRole": json.dumps({"roleArn": ROLE}), "alicloud:ecsRoleName": ECS_ROLE,
              "alicloud:credentialsUri": f"{listener.url}/credentials", "ga-listener:stsEndpoint": listener.url,
              "ga-listener:ecsMetadataEndpoint": listener.url, "alicloud:assumeRoleWithOidc": json.dumps(
                  {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcTokenFile": str(token_file)})}
    assert engine_for(emulator, config).preview("web", WEB)["failures"] == []
    broken = engine_for(emulator, {**KEYS, "alicloud:assumeRole": "{roleArn: no-quotes}"})
    assert broken.preview("web", WEB)["failures"] == [  # under no property: it is no input of the resource
        ("", "alicloud:assumeRole must be an object with the fields roleArn, sessionName, sessionExpiration, "
             "policy, externalId (JSON text from the stack config)")]
    listener.close()  # counts any connection still in flight
    assert listener.accepted == 0 and len(emulator.calls) == 0
