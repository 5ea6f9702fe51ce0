"""Which identity a configuration gives, as Terraform's alicloud provider (and pulumi-alicloud, built on it) would
give it (issue 18): one role hop, the profile's session policy, the stack's OIDC token, the environment families
in Terraform's order, and profiles the SDKs refuse. Every case runs the real provider host, configured from stack
config and environment as the engine does, against the emulator's STS, metadata service and credentials URI.

The expectations come from the references' code (``alicloud/provider.go``: ``providerConfigure``,
``getConfigFromProfile``, ``getAssumeRoleWithOIDCConfig``, the ``MultiEnvDefaultFunc`` lists; ``credentials-go``
and ``alibabacloud-credentials``: ``cli_profile``), read by hand, never from the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.credentials.conftest import (
    BASE_ID,
    BASE_SECRET,
    ENV_KEYS,
    OIDC_PROVIDER,
    OIDC_TOKEN,
    OTHER_ROLE,
    POLICY,
    ROLE,
    WEB,
    assert_signed_by,
    calls_of,
    engine_for,
    ga_signers,
    sts_options,
    write_profiles,
)
from tests.support.provider_host import ProviderError

STS = "ga-listener:stsEndpoint"
OIDC_KEY = "alicloud:assumeRoleWithOidc"
STALE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.stale+token/from-an-old-run"
OTHER_ID, OTHER_SECRET = "other-key-id-0002", "other/Secret+Value=&do-not-leak"
STATIC = ("STS.static-key-0003", "static/Secret+Value=&do-not-leak", "CAIS.static/Token+Value==")


def up_fails(engine: Any) -> ProviderError:
    """The error of an ``up`` that must fail (what the CLI would print last)."""
    with pytest.raises(ProviderError) as caught:
        engine.up("web", WEB)
    return caught.value


# --- 1. a RamRoleArn profile and alicloud:assumeRole: one AssumeRole ----------------------------------------


@pytest.fixture
def role_profile(tmp_path: Path) -> Path:
    return write_profiles(tmp_path / "config.json", [
        {"name": "ops", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET,
         "ram_role_arn": ROLE, "ram_session_name": "from-profile", "expired_seconds": 1800},
        {"name": "ak", "mode": "AK", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET},
        {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "ak", "ram_role_arn": ROLE},
    ], current="nobody")


@pytest.mark.parametrize("chosen_by", ["alicloud:profile", "ALIBABA_CLOUD_PROFILE", "current"])
def test_a_ram_role_arn_profile_and_a_stack_role_make_one_assume_role_with_the_profiles_key(
    emulator: EmulatorServer, role_profile: Path, chosen_by: str
) -> None:
    # Terraform: the profile's ram_role_arn, session name and expired_seconds fill the role, then assume_role's
    # role_arn replaces the ARN; the call is signed with the profile's access key.
    if chosen_by == "current":
        data = json.loads(role_profile.read_text())
        role_profile.write_text(json.dumps({**data, "current": "ops"}))
    config = {"alicloud:sharedCredentialsFile": str(role_profile), STS: emulator.url,
              "alicloud:assumeRole": json.dumps({"roleArn": OTHER_ROLE})}
    config.update({"alicloud:profile": "ops"} if chosen_by == "alicloud:profile" else {})
    env = {"ALIBABA_CLOUD_PROFILE": "ops"} if chosen_by == "ALIBABA_CLOUD_PROFILE" else {}
    engine_for(emulator, config, env).up("web", WEB)
    [assumed] = calls_of(emulator, "AssumeRole")
    assert (assumed.access_key_id, assumed.params["RoleArn"]) == (BASE_ID, OTHER_ROLE)
    assert (assumed.params["RoleSessionName"], assumed.params["DurationSeconds"]) == ("from-profile", "1800")
    assert_signed_by(emulator, "AssumeRole")


def test_the_stack_roles_own_fields_win_over_the_profiles(emulator: EmulatorServer, role_profile: Path) -> None:
    spec = {"roleArn": OTHER_ROLE, "sessionName": "from-stack", "sessionExpiration": 2400, "policy": POLICY}
    engine_for(emulator, {"alicloud:sharedCredentialsFile": str(role_profile), "alicloud:profile": "ops",
                          STS: emulator.url, "alicloud:assumeRole": json.dumps(spec)}).up("web", WEB)
    [assumed] = calls_of(emulator, "AssumeRole")
    assert {k: assumed.params.get(k) for k in ("RoleArn", "RoleSessionName", "DurationSeconds", "Policy")} == {
        "RoleArn": OTHER_ROLE, "RoleSessionName": "from-stack", "DurationSeconds": "2400", "Policy": POLICY}


def test_a_chainable_profile_keeps_its_hop_and_the_stack_role_goes_on_top(
    emulator: EmulatorServer, role_profile: Path
) -> None:
    # Terraform resolves a ChainableRamRoleArn profile to a session first, then assumes assume_role with it.
    engine_for(emulator, {"alicloud:sharedCredentialsFile": str(role_profile), "alicloud:profile": "chained",
                          STS: emulator.url, "alicloud:assumeRole": json.dumps({"roleArn": OTHER_ROLE})}).up(
        "web", WEB)
    first, second = calls_of(emulator, "AssumeRole")
    assert (first.access_key_id, first.params["RoleArn"]) == (BASE_ID, ROLE)
    assert second.params["RoleArn"] == OTHER_ROLE and second.access_key_id != BASE_ID


# --- 2. a role ARN in the environment alone assumes nothing ------------------------------------------------


@pytest.mark.parametrize("variable", ["ALIBABA_CLOUD_ROLE_ARN", "ALICLOUD_ASSUME_ROLE_ARN"])
def test_a_role_arn_in_the_environment_alone_assumes_nothing(emulator: EmulatorServer, variable: str) -> None:
    engine_for(emulator, {STS: emulator.url}, {**ENV_KEYS, variable: ROLE}).up("web", WEB)
    assert calls_of(emulator, "AssumeRole") == []
    assert set(ga_signers(emulator)) == {BASE_ID}


def test_the_environment_fills_what_a_configured_assume_role_leaves_out(emulator: EmulatorServer) -> None:
    env = {**ENV_KEYS, "ALICLOUD_ASSUME_ROLE_ARN": ROLE, "ALIBABA_CLOUD_ROLE_SESSION_NAME": "from-env",
           "ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION": "1200"}
    engine_for(emulator, {STS: emulator.url, "alicloud:assumeRole": json.dumps({"policy": POLICY})}, env).up(
        "web", WEB)
    [assumed] = calls_of(emulator, "AssumeRole")
    assert {k: assumed.params.get(k) for k in ("RoleArn", "RoleSessionName", "DurationSeconds", "Policy")} == {
        "RoleArn": ROLE, "RoleSessionName": "from-env", "DurationSeconds": "1200", "Policy": POLICY}
    assert_signed_by(emulator, "AssumeRole")


# --- 3. an OIDC token given inline beats a token file ------------------------------------------------------


@pytest.fixture
def stale_file(tmp_path: Path) -> Path:
    path = tmp_path / "stale-token"
    path.write_text(STALE_TOKEN, encoding="utf-8")
    return path


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good-token"
    path.write_text(OIDC_TOKEN, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", [
    "stack token, environment file",  # Terraform reads the file only when the token is empty
    "environment token, environment file",  # the same within the environment
    "environment token and file, no stack object",
    "stack file, environment token",  # ours: the stack's choice of token beats the environment's
])
def test_an_oidc_token_given_inline_beats_a_token_file_and_the_stack_beats_the_environment(
    emulator: EmulatorServer, stale_file: Path, good_file: Path, case: str
) -> None:
    role = {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER}
    config, env = {STS: emulator.url}, {}
    if case == "stack token, environment file":
        config[OIDC_KEY] = json.dumps({**role, "oidcToken": OIDC_TOKEN})
        env = {"ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(stale_file)}
    elif case == "environment token, environment file":
        config[OIDC_KEY] = json.dumps(role)
        env = {"ALIBABA_CLOUD_OIDC_TOKEN": OIDC_TOKEN, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(stale_file)}
    elif case == "environment token and file, no stack object":
        env = {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER, "ALIBABA_CLOUD_ROLE_ARN": ROLE,
               "ALIBABA_CLOUD_OIDC_TOKEN": OIDC_TOKEN, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(stale_file)}
    else:
        config[OIDC_KEY] = json.dumps({**role, "oidcTokenFile": str(good_file)})
        env = {"ALIBABA_CLOUD_OIDC_TOKEN": STALE_TOKEN}
    engine_for(emulator, config, env).up("web", WEB)
    assert [record.code for record in calls_of(emulator, "AssumeRoleWithOIDC")] == [None]
    assert_signed_by(emulator, "AssumeRoleWithOIDC")


# --- 4. a profile's session policy reaches STS ---------------------------------------------------------------


def test_a_profiles_policy_reaches_sts_in_every_role_mode(emulator: EmulatorServer, good_file: Path,
                                                          tmp_path: Path) -> None:
    role = {"ram_role_arn": ROLE, "policy": POLICY}
    path = write_profiles(tmp_path / "config.json", [
        {"name": "role", "mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET, **role},
        {"name": "ak", "mode": "AK", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET},
        {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "ak", **role},
        {"name": "oidc", "mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "oidc_token_file": str(good_file),
         **role},
    ])
    for profile in ("role", "chained", "oidc"):
        engine_for(emulator, {"alicloud:sharedCredentialsFile": str(path), "alicloud:profile": profile,
                              STS: emulator.url}).up("web", {**WEB, "name": f"by-{profile}"})
    sts = [record for record in emulator.calls if record.action in ("AssumeRole", "AssumeRoleWithOIDC")]
    assert [(record.action, record.params.get("Policy")) for record in sts] == [
        ("AssumeRole", POLICY), ("AssumeRole", POLICY), ("AssumeRoleWithOIDC", POLICY)]


# --- 5. the environment families in Terraform's order, each field on its own ----------------------------------


@pytest.fixture
def families_emulator() -> Iterator[EmulatorServer]:
    """Accepts two key pairs and one static STS triple, and serves a credentials URI and the metadata service."""
    server = EmulatorServer(port=0, credentials=[(BASE_ID, BASE_SECRET, None), (OTHER_ID, OTHER_SECRET, None),
                                                 STATIC], accelerators=["ga-1"], listeners=["ga-1:lsr-web:tcp:80-80"],
                            transition_seconds=0.2, sts=sts_options())
    with server:
        yield server


ALICLOUD_KEYS = {"ALICLOUD_ACCESS_KEY": BASE_ID, "ALICLOUD_SECRET_KEY": BASE_SECRET}
ALIBABA_CLOUD_OTHER = {"ALIBABA_CLOUD_ACCESS_KEY_ID": OTHER_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": OTHER_SECRET}


@pytest.mark.parametrize(("env", "signer"), [
    ({**ALICLOUD_KEYS, **ALIBABA_CLOUD_OTHER}, BASE_ID),  # ALICLOUD_* first
    ({"ALICLOUD_ACCESS_KEY": BASE_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": BASE_SECRET}, BASE_ID),  # a mixed pair
    ({"ALIBABACLOUD_ACCESS_KEY_ID": OTHER_ID, "ALIBABACLOUD_ACCESS_KEY_SECRET": OTHER_SECRET}, OTHER_ID),
    ({**ALIBABA_CLOUD_OTHER, "ALIBABACLOUD_ACCESS_KEY_ID": BASE_ID, "ALIBABACLOUD_ACCESS_KEY_SECRET": BASE_SECRET},
     OTHER_ID),  # ALIBABA_CLOUD_* before ALIBABACLOUD_*
    ({"ALIBABA_CLOUD_ACCESS_KEY_ID": STATIC[0], "ALICLOUD_SECRET_KEY": STATIC[1],
      "ALIBABACLOUD_SECURITY_TOKEN": STATIC[2]}, STATIC[0]),  # id, secret and token each from its own family
], ids=["alicloud-first", "mixed-pair", "alibabacloud-alone", "alibaba-cloud-before-alibabacloud",
        "three-families-one-triple"])
def test_each_key_field_takes_the_first_family_that_sets_it(
    families_emulator: EmulatorServer, env: dict[str, str], signer: str
) -> None:
    engine_for(families_emulator, {}, env).up("web", WEB)
    assert set(ga_signers(families_emulator)) == {signer}


@pytest.mark.parametrize("field", ["credentials URI", "ECS role", "profile"])
def test_the_other_fields_read_alicloud_first_too(
    families_emulator: EmulatorServer, tmp_path: Path, field: str
) -> None:
    emulator = families_emulator
    path = write_profiles(tmp_path / "config.json", [
        {"name": "good", "mode": "AK", "access_key_id": OTHER_ID, "access_key_secret": OTHER_SECRET},
        {"name": "bad", "mode": "AK", "access_key_id": "unknown-key-id", "access_key_secret": "unknown-secret"}])
    env = {"GA_LISTENER_ECS_METADATA_ENDPOINT": emulator.url, "ALICLOUD_SHARED_CREDENTIALS_FILE": str(path)}
    env.update({
        "credentials URI": {"ALICLOUD_CREDENTIALS_URI": f"{emulator.url}/credentials",
                            "ALIBABA_CLOUD_CREDENTIALS_URI": f"{emulator.url}/nothing"},
        "ECS role": {"ALICLOUD_ECS_ROLE_NAME": "ecs-deployer", "ALIBABA_CLOUD_ECS_METADATA": "not-attached"},
        "profile": {"ALICLOUD_PROFILE": "good", "ALIBABA_CLOUD_PROFILE": "bad"},
    }[field])
    engine_for(emulator, {}, env).up("web", WEB)
    assert emulator.backend.describe_listener("lsr-web").config.name == "changed"


def test_half_a_pair_across_all_families_names_them_and_never_falls_through(families_emulator: EmulatorServer,
                                                                             tmp_path: Path) -> None:
    path = write_profiles(tmp_path / "config.json", [
        {"name": "p", "mode": "AK", "access_key_id": OTHER_ID, "access_key_secret": OTHER_SECRET}], current="p")
    error = up_fails(engine_for(families_emulator, {"alicloud:sharedCredentialsFile": str(path)},
                                {"ALIBABACLOUD_ACCESS_KEY_ID": BASE_ID}))
    assert "ALIBABACLOUD_ACCESS_KEY_ID is set but" in error.last_line
    for name in ("ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABACLOUD_ACCESS_KEY_SECRET"):
        assert name in error.last_line
    assert list(families_emulator.calls) == []


# --- 8. profiles the SDKs refuse ------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "why"), [
    ({"mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET, "ram_role_arn": ROLE,
      "expired_seconds": 600}, "expired_seconds must be a whole number of seconds from 900 to 43200"),
    ({"mode": "RamRoleArn", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET, "ram_role_arn": ROLE,
      "expired_seconds": "soon"}, "expired_seconds must be a whole number of seconds from 900 to 43200"),
    ({"mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "oidc_token_file": "/t", "ram_role_arn": ROLE,
      "expired_seconds": 300}, "expired_seconds must be a whole number of seconds from 900 to 43200"),
    ({"access_key_id": BASE_ID, "access_key_secret": BASE_SECRET}, "has no mode"),
], ids=["expired-600", "expired-text", "oidc-expired-300", "no-mode"])
@pytest.mark.parametrize("chosen_by", ["alicloud:profile", "current"])
def test_a_profile_the_sdks_refuse_is_refused_before_any_call_naming_it_and_the_rule(
    emulator: EmulatorServer, tmp_path: Path, profile: dict[str, Any], why: str, chosen_by: str
) -> None:
    path = write_profiles(tmp_path / "config.json", [{"name": "odd", **profile}], current="odd")
    config = {"alicloud:sharedCredentialsFile": str(path), STS: emulator.url}
    config.update({"alicloud:profile": "odd"} if chosen_by == "alicloud:profile" else {})
    error = up_fails(engine_for(emulator, config, ENV_KEYS if chosen_by == "alicloud:profile" else {}))
    assert f"profile 'odd' in {path}" in error.last_line and why in error.last_line, error.last_line
    assert list(emulator.calls) == []  # nothing sent: neither STS nor, with another identity, the GA API


def test_a_refused_profile_in_a_chain_is_named(emulator: EmulatorServer, tmp_path: Path) -> None:
    path = write_profiles(tmp_path / "config.json", [
        {"name": "base", "access_key_id": BASE_ID, "access_key_secret": BASE_SECRET},
        {"name": "top", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": ROLE}])
    error = up_fails(engine_for(emulator, {"alicloud:sharedCredentialsFile": str(path), "alicloud:profile": "top",
                                           STS: emulator.url}, ENV_KEYS))
    assert f"profile 'base' in {path}" in error.last_line and "has no mode" in error.last_line
