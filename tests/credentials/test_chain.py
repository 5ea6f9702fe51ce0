"""The chain's order and each source's parsing and errors, without the network (nothing here is fetched).

The winner is read from the provider's ``source`` (where it says the credentials come from); the expected order
is written out below by hand, from the README's table, never taken from the code under test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ga_listener.auth.credentials import Credentials, RefreshingCredentials, resolve_credentials
from ga_listener.auth.sources import Sources
from ga_listener.auth.sts import StsClient
from ga_listener.config.environment import Environment
from ga_listener.config.settings import ProviderSettings
from ga_listener.transport.errors import ConfigurationError, CredentialsNotFoundError
from tests.credentials.conftest import OIDC_PROVIDER, OIDC_TOKEN, ROLE, write_profiles

URI = "http://127.0.0.1:9/credentials"
STS = {"ga-listener:stsEndpoint": "http://127.0.0.1:9"}

# The README's order: (name, stack config it adds, environment it adds, where the winner's source starts)
ORDER: list[tuple[str, dict[str, str], dict[str, str], str]] = [
    ("config keys", {"alicloud:accessKey": "c-id", "alicloud:secretKey": "c-secret"}, {},
     "stack config alicloud:accessKey"),
    ("config profile", {"alicloud:profile": "p-config"}, {}, "profile 'p-config'"),
    ("config uri", {"alicloud:credentialsUri": URI}, {}, "stack config alicloud:credentialsUri"),
    ("config ecs", {"alicloud:ecsRoleName": "r-config"}, {}, "stack config alicloud:ecsRoleName"),
    ("config oidc", {"alicloud:assumeRoleWithOidc": json.dumps(
        {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcToken": OIDC_TOKEN})}, {},
     "stack config alicloud:assumeRoleWithOidc"),
    ("env keys", {}, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "e-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e-secret"},
     "environment ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ("env profile", {}, {"ALIBABA_CLOUD_PROFILE": "p-env"}, "profile 'p-env'"),
    ("env uri", {}, {"ALIBABA_CLOUD_CREDENTIALS_URI": URI}, "environment ALIBABA_CLOUD_CREDENTIALS_URI"),
    ("env ecs", {}, {"ALIBABA_CLOUD_ECS_METADATA": "r-env"}, "environment ALIBABA_CLOUD_ECS_METADATA"),
    ("env oidc", {}, {"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER, "ALIBABA_CLOUD_ROLE_ARN": ROLE,
                      "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/nonexistent/token"},
     "environment ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
    ("file current", {}, {}, "profile 'p-current'"),
]


def profiles_file(tmp_path: Path, current: str) -> Path:
    entries = [{"name": name, "mode": "AK", "access_key_id": f"{name}-id", "access_key_secret": f"{name}-secret"}
               for name in ("p-config", "p-env", "p-current")]
    return write_profiles(tmp_path / "config.json", entries, current=current)


def resolve(config: dict[str, str], environ: dict[str, str], path: Path) -> Any:
    return resolve_credentials(config={**STS, **config}, environ=environ, profile_path=path)


@given(chosen=st.sets(st.integers(0, len(ORDER) - 1), min_size=1))
def test_the_first_configured_source_in_the_documented_order_wins(
    tmp_path_factory: pytest.TempPathFactory, chosen: set[int]
) -> None:
    config: dict[str, str] = {}
    environ: dict[str, str] = {}
    for index in chosen:
        config.update(ORDER[index][1])
        environ.update(ORDER[index][2])
    current = "p-current" if len(ORDER) - 1 in chosen else "nobody"
    found = resolve(config, environ, profiles_file(tmp_path_factory.mktemp("p"), current))
    expected = ORDER[min(chosen)]
    assert found.source.startswith(expected[3]), (expected[0], found.source)
    assert "assumed with" not in found.source  # no role to assume was configured


def test_static_sources_are_plain_credentials_and_temporary_ones_are_refreshed(tmp_path: Path) -> None:
    path = profiles_file(tmp_path, "p-current")
    for name, config, environ, _ in ORDER:
        found = resolve(config, environ, path)
        temporary = any(word in name for word in ("uri", "ecs", "oidc"))
        assert isinstance(found, RefreshingCredentials if temporary else Credentials), name


@pytest.mark.parametrize(("config", "environ", "base"), [
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE}), "alicloud:accessKey": "c-id",
      "alicloud:secretKey": "c-secret"}, {}, "stack config alicloud:accessKey"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE})},
     {"ALIBABA_CLOUD_ACCESS_KEY_ID": "e-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e-secret"},
     "environment ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE}), "alicloud:ecsRoleName": "r"}, {},
     "stack config alicloud:ecsRoleName"),
    ({"alicloud:assumeRole": json.dumps({"roleArn": ROLE}), "alicloud:credentialsUri": URI}, {},
     "stack config alicloud:credentialsUri"),
])
def test_assume_role_from_stack_config_chains_on_whatever_base_won(
    tmp_path: Path, config: dict[str, str], environ: dict[str, str], base: str
) -> None:
    found = resolve(config, environ, tmp_path / "none.json")
    assert isinstance(found, RefreshingCredentials)
    assert found.source.startswith(f"stack config alicloud:assumeRole (role {ROLE} assumed with {base}")


ENV_KEYS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "e-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e-secret"}


OIDC_ENV = {"ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/t"}


@pytest.mark.parametrize(("config", "environ", "expected"), [
    # Terraform reads the role variables only to fill an assume_role block: alone they assume nothing
    ({}, {**ENV_KEYS, "ALIBABA_CLOUD_ROLE_ARN": ROLE}, "environment ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ({}, {**ENV_KEYS, "ALICLOUD_ASSUME_ROLE_ARN": ROLE}, "environment ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ({}, {**OIDC_ENV, "ALICLOUD_ASSUME_ROLE_ARN": "acs:ram::1:role/x"},
     f"environment ALIBABA_CLOUD_OIDC_PROVIDER_ARN (role {ROLE})"),
    # with the block, each fills the role ARN, ALICLOUD_* first
    ({"alicloud:assumeRole": "{}"},
     {**ENV_KEYS, "ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALICLOUD_ASSUME_ROLE_ARN": "acs:ram::1:role/x"},
     "stack config alicloud:assumeRole (role acs:ram::1:role/x assumed with environment ALIBABA_CLOUD_ACCESS_KEY_ID)"),
    ({"alicloud:assumeRole": "{}"}, OIDC_ENV,
     f"stack config alicloud:assumeRole (role {ROLE} assumed with environment ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
])
def test_role_variables_of_the_environment(
    tmp_path: Path, config: dict[str, str], environ: dict[str, str], expected: str
) -> None:
    assert resolve(config, environ, tmp_path / "none.json").source.startswith(expected)


def test_a_role_without_any_credential_to_assume_it_with_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(CredentialsNotFoundError) as caught:
        resolve({"alicloud:assumeRole": json.dumps({"roleArn": ROLE})}, {}, tmp_path / "none.json")
    assert "a role to assume, but no credential to sign AssumeRole with" in str(caught.value)
    assert f"profile file {tmp_path / 'none.json'} (file not found)" in str(caught.value)


def test_not_found_names_every_place_it_looked(tmp_path: Path) -> None:
    with pytest.raises(CredentialsNotFoundError) as caught:
        resolve({}, {}, tmp_path / "none.json")
    assert caught.value.searched == (
        "explicit arguments (none given)",
        "stack config alicloud:accessKey / alicloud:secretKey (not set)",
        "environment ALICLOUD_ACCESS_KEY / ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABACLOUD_ACCESS_KEY_ID and "
        "ALICLOUD_SECRET_KEY / ALIBABA_CLOUD_ACCESS_KEY_SECRET / ALIBABACLOUD_ACCESS_KEY_SECRET (not set)",
        f"profile file {tmp_path / 'none.json'} (file not found)",
    )


def test_a_switched_off_metadata_service_is_skipped_and_named(tmp_path: Path) -> None:
    environ = {"ALIBABA_CLOUD_ECS_METADATA": "r", "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
    with pytest.raises(CredentialsNotFoundError, match="ALIBABA_CLOUD_ECS_METADATA_DISABLED is true"):
        resolve({}, environ, tmp_path / "none.json")
    found = resolve({}, {**environ, **ENV_KEYS}, tmp_path / "none.json")
    assert found.source == "environment ALIBABA_CLOUD_ACCESS_KEY_ID"


# --- stack config objects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "message"), [
    ("alicloud:assumeRole", "not json", "must be an object"),
    ("alicloud:assumeRole", json.dumps([ROLE]), "must be an object"),
    ("alicloud:assumeRole", json.dumps({"rolearn": ROLE}), "an unknown field 'rolearn'; its fields are roleArn"),
    ("alicloud:assumeRole", json.dumps({"sessionName": "s"}), "needs roleArn"),
    ("alicloud:assumeRole", json.dumps({"roleArn": ROLE, "sessionExpiration": 600}), "900..43200"),
    ("alicloud:assumeRole", json.dumps({"roleArn": ROLE, "sessionExpiration": "soon"}), "900..43200"),
    ("alicloud:assumeRole", json.dumps({"roleArn": ROLE, "policy": {"Version": "1"}}), "policy must be text"),
    ("alicloud:assumeRoleWithOidc", json.dumps({"roleArn": ROLE, "oidcToken": OIDC_TOKEN}),
     "OIDC needs oidcProviderArn"),
    ("alicloud:assumeRoleWithOidc", json.dumps({"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER}),
     "OIDC needs oidcToken or oidcTokenFile"),
])
def test_malformed_objects_name_the_key_and_never_echo_a_value(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    base = {"alicloud:accessKey": "c-id", "alicloud:secretKey": "c-secret"} if key == "alicloud:assumeRole" else {}
    with pytest.raises(ConfigurationError) as caught:
        resolve({key: value, **base}, {}, tmp_path / "none.json")
    assert caught.value.setting == key and message in str(caught.value)
    assert OIDC_TOKEN not in str(caught.value) and ROLE not in str(caught.value)


@pytest.mark.parametrize("value", ["not json", "[1, 2]", "42", '"text"'])
def test_a_non_object_fails_at_configure_naming_the_key(value: str) -> None:
    config = {"alicloud:assumeRole": value}
    with pytest.raises(ConfigurationError) as caught:
        ProviderSettings.from_config(config, {})
    assert caught.value.setting == "alicloud:assumeRole" and value not in str(caught.value)


@given(token=st.text(min_size=8, max_size=40).filter(lambda t: t.strip() == t and "\\" not in t and '"' not in t))
def test_configure_never_echoes_a_broken_object(token: str) -> None:
    def failure(token: str) -> str:
        config = {"alicloud:assumeRoleWithOidc": '{"oidcToken": "' + token}  # cut short: not JSON
        with pytest.raises(ConfigurationError) as caught:
            ProviderSettings.from_config(config, {})
        return str(caught.value)

    assume(token not in failure("-" * 8))  # text the message holds anyway ("an objec") proves nothing
    assert token not in failure(token)


def test_objects_from_the_engine_or_a_program_are_kept_as_the_same_canonical_text() -> None:
    as_text = {"alicloud:assumeRole": '{ "sessionName": "s", "roleArn": "' + ROLE + '" }'}
    as_object = {"alicloud:assumeRole": {"roleArn": ROLE, "sessionName": "s"}}
    first = ProviderSettings.from_config(as_text, {})
    second = ProviderSettings.from_config(as_object, {})
    assert first == second and hash(first) == hash(second)
    assert json.loads(dict(first.credential_config)["alicloud:assumeRole"]) == {"roleArn": ROLE, "sessionName": "s"}


def test_every_credential_key_is_kept_by_configure() -> None:
    config = {"alicloud:sharedCredentialsFile": "/f", "alicloud:ecsRoleName": "r", "alicloud:credentialsUri": URI,
              "ga-listener:stsEndpoint": "http://127.0.0.1:1", "ga-listener:ecsMetadataEndpoint": "http://127.0.0.1:2",
              "alicloud:assumeRoleWithOidc": json.dumps({"roleArn": ROLE})}
    kept = dict(ProviderSettings.from_config(config, {}).credential_config)
    assert kept == {**config, "alicloud:assumeRoleWithOidc": json.dumps({"roleArn": ROLE}, separators=(",", ":"))}


# --- the profile file ---------------------------------------------------------------------------------------


def test_the_profile_file_comes_from_stack_config_then_environment_then_home(tmp_path: Path) -> None:
    files = {}
    for name in ("config", "alicloud", "alibaba", "default"):
        files[name] = write_profiles(tmp_path / f"{name}.json", [
            {"name": "p", "mode": "AK", "access_key_id": f"{name}-id", "access_key_secret": "s-secret"}], "p")
    config = {"alicloud:sharedCredentialsFile": str(files["config"])}
    environ = {"ALICLOUD_SHARED_CREDENTIALS_FILE": str(files["alicloud"]),
               "ALIBABA_CLOUD_CREDENTIALS_FILE": str(files["alibaba"])}
    assert resolve(config, environ, files["default"]).get_credentials().access_key_id == "config-id"
    assert resolve({}, environ, files["default"]).get_credentials().access_key_id == "alicloud-id"
    environ.pop("ALICLOUD_SHARED_CREDENTIALS_FILE")
    assert resolve({}, environ, files["default"]).get_credentials().access_key_id == "alibaba-id"
    assert resolve({}, {}, files["default"]).get_credentials().access_key_id == "default-id"


ROLE_FIELDS = {"access_key_id": "r-id", "access_key_secret": "r-secret", "ram_role_arn": ROLE}
PROFILES: list[dict[str, Any]] = [
    {"name": "ak", "mode": "AK", "access_key_id": "ak-id", "access_key_secret": "ak-secret"},
    {"name": "role", "mode": "RamRoleArn", **ROLE_FIELDS},
    {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "role", "ram_role_arn": "acs:ram::1:role/x"},
    {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "r"},
    {"name": "ecs-any", "mode": "EcsRamRole", "ram_role_name": ""},
    {"name": "oidc", "mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "oidc_token_file": "/t", "ram_role_arn": ROLE},
    {"name": "uri", "mode": "CredentialsURI", "credentials_uri": URI},
    {"name": "loop-a", "mode": "ChainableRamRoleArn", "source_profile": "loop-b", "ram_role_arn": ROLE},
    {"name": "loop-b", "mode": "ChainableRamRoleArn", "source_profile": "loop-a", "ram_role_arn": ROLE},
    {"name": "orphan", "mode": "ChainableRamRoleArn", "source_profile": "absent", "ram_role_arn": ROLE},
    {"name": "half-oidc", "mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "ram_role_arn": ROLE},
    {"name": "sso", "mode": "CloudSSO"},
]


@pytest.mark.parametrize(("name", "source"), [
    ("ak", "profile 'ak'"),
    ("role", f"profile 'role' (RamRoleArn) (role {ROLE} assumed with profile 'role')"),
    ("chain", f"profile 'chain' (ChainableRamRoleArn) (role acs:ram::1:role/x assumed with profile 'role' "
              f"(RamRoleArn) (role {ROLE} assumed with profile 'role'))"),
    ("ecs", "profile 'ecs' (EcsRamRole) (role 'r')"),
    ("ecs-any", "profile 'ecs-any' (EcsRamRole)"),
    ("oidc", f"profile 'oidc' (OIDC) (role {ROLE})"),
    ("uri", f"profile 'uri' (CredentialsURI) {URI}"),
])
def test_every_profile_mode_becomes_its_source(tmp_path: Path, name: str, source: str) -> None:
    path = write_profiles(tmp_path / "config.json", PROFILES)
    assert resolve({"alicloud:profile": name}, {}, path).source == source


@pytest.mark.parametrize(("name", "why"), [
    ("loop-a", "source_profile chain loops: loop-a -> loop-b -> loop-a"),
    ("orphan", "its source_profile: profile 'absent'"),
    ("half-oidc", "incomplete OIDC profile: no oidc_token_file"),
    ("sso", "mode 'CloudSSO' is not supported"),
])
def test_a_named_profile_that_cannot_be_used_ends_the_search(tmp_path: Path, name: str, why: str) -> None:
    path = write_profiles(tmp_path / "config.json", PROFILES)
    with pytest.raises(CredentialsNotFoundError, match=why):
        resolve({"alicloud:profile": name}, ENV_KEYS, path)  # never falls through to the environment's keys
    with pytest.raises(CredentialsNotFoundError, match=why):
        resolve({}, {"ALIBABA_CLOUD_PROFILE": name}, path)


def test_an_ecs_profile_with_the_metadata_service_switched_off_is_named(tmp_path: Path) -> None:
    path = write_profiles(tmp_path / "config.json", PROFILES, current="ecs")
    with pytest.raises(CredentialsNotFoundError, match="ALIBABA_CLOUD_ECS_METADATA_DISABLED is true"):
        resolve({}, {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, path)


# --- endpoints ----------------------------------------------------------------------------------------------


ROLE_ON_KEYS = {"alicloud:assumeRole": json.dumps({"roleArn": ROLE}), "alicloud:accessKey": "c-id",
                "alicloud:secretKey": "c-secret"}


@pytest.mark.parametrize(("config", "environ", "setting"), [
    ({**ROLE_ON_KEYS, "ga-listener:stsEndpoint": "http://sts.example.com"}, {}, "ga-listener:stsEndpoint"),
    (ROLE_ON_KEYS, {"ALIBABA_CLOUD_STS_ENDPOINT": "http://10.0.0.1:80"}, "ALIBABA_CLOUD_STS_ENDPOINT"),
    ({"alicloud:ecsRoleName": "r", "ga-listener:ecsMetadataEndpoint": "http://169.254.0.1"}, {},
     "ga-listener:ecsMetadataEndpoint"),
    ({}, {"ALIBABA_CLOUD_ECS_METADATA": "r", "GA_LISTENER_ECS_METADATA_ENDPOINT": "http://example.com"},
     "GA_LISTENER_ECS_METADATA_ENDPOINT"),
    ({"alicloud:credentialsUri": "http://example.com/c?token=abcdefgh"}, {}, "alicloud:credentialsUri"),
    ({}, {"ALIBABA_CLOUD_CREDENTIALS_URI": "ftp://127.0.0.1/c?token=abcdefgh"}, "ALIBABA_CLOUD_CREDENTIALS_URI"),
])
def test_plain_http_only_on_loopback_naming_the_setting(
    tmp_path: Path, config: dict[str, str], environ: dict[str, str], setting: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_credentials(config=config, environ=environ, profile_path=tmp_path / "none.json")
    assert caught.value.setting == setting
    assert "abcdefgh" not in str(caught.value)  # a URI's query may hold a secret


def test_the_metadata_service_default_is_its_link_local_address_over_plain_http(tmp_path: Path) -> None:
    found = resolve_credentials(config={"alicloud:ecsRoleName": "r"}, environ={}, profile_path=tmp_path / "x")
    assert isinstance(found, RefreshingCredentials)  # http://100.100.100.200 was accepted (never contacted here)


@pytest.mark.parametrize(("config", "environ", "url"), [
    ({}, {}, "https://sts.aliyuncs.com"),
    ({}, {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai"}, "https://sts.cn-shanghai.aliyuncs.com"),
    ({}, {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"},
     "https://sts-vpc.cn-shanghai.aliyuncs.com"),
    ({"alicloud:region": "cn-beijing"}, {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai"}, "https://sts.cn-beijing.aliyuncs.com"),
    ({}, {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com", "ALIBABA_CLOUD_STS_REGION": "x"},
     "https://sts.example.com"),
    ({"alicloud:endpoints": json.dumps([{"sts": "sts.endpoints.example"}])},
     {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com"}, "https://sts.endpoints.example"),
    ({"ga-listener:stsEndpoint": "http://127.0.0.1:1", "alicloud:endpoints": json.dumps([{"sts": "sts.e.example"}])},
     {"ALIBABA_CLOUD_STS_ENDPOINT": "sts.example.com"}, "http://127.0.0.1:1"),
])
def test_where_sts_calls_go(config: dict[str, str], environ: dict[str, str], url: str) -> None:
    assert Sources(config, Environment(environ), time.time).sts("a role").endpoint == url


def test_a_region_that_names_no_sts_endpoint_is_refused_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="alicloud:region must be a region id") as caught:
        Sources({"alicloud:region": "cn hangzhou/x"}, Environment({}), time.time).sts("a role")
    assert caught.value.setting == "alicloud:region"


@pytest.mark.parametrize(("given", "endpoint"), [
    ("sts.aliyuncs.com", "https://sts.aliyuncs.com"), ("https://sts.example.com/", "https://sts.example.com"),
    ("http://[::1]:8787", "http://[::1]:8787"),
])
def test_an_sts_host_means_https(given: str, endpoint: str) -> None:
    assert StsClient(given, source="test").endpoint == endpoint
