"""The credential chain: order, each source, half-configured sources, the profile file, and secrecy."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ga_listener.auth.credentials import Credentials, default_profile_path, resolve_credentials
from ga_listener.transport.errors import ConfigurationError, CredentialsNotFoundError

CONFIG = {"alicloud:accessKey": "cfg-id", "alicloud:secretKey": "cfg-secret-value"}
ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret-value"}


def write_profiles(path: Path, profiles: list[dict[str, Any]], current: str = "default") -> Path:
    path.write_text(json.dumps({"current": current, "profiles": profiles}), encoding="utf-8")
    return path


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    return write_profiles(
        tmp_path / "config.json",
        [
            {
                "name": "default",
                "mode": "AK",
                "access_key_id": "file-id",
                "access_key_secret": "file-secret-value",
            },
            {
                "name": "sts",
                "mode": "StsToken",
                "access_key_id": "sts-id",
                "access_key_secret": "sts-secret-value",
                "sts_token": "sts-token-value",
            },
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "r", "access_key_secret": "r"},
            {"name": "sso", "mode": "CloudSSO", "access_key_id": "r", "access_key_secret": "r"},
            {"name": "half", "mode": "StsToken", "access_key_id": "h", "access_key_secret": "h"},
        ],
    )


def test_explicit_wins_over_everything(profile_file: Path) -> None:
    explicit = Credentials("x-id", "x-secret")
    assert resolve_credentials(explicit=explicit, config=CONFIG, environ=ENV, profile_path=profile_file) is explicit


def test_stack_config_wins_over_environment_and_profile(profile_file: Path) -> None:
    config = {**CONFIG, "alicloud:securityToken": "cfg-token"}
    found = resolve_credentials(config=config, environ=ENV, profile_path=profile_file)
    assert (found.access_key_id, found.access_key_secret, found.security_token) == (
        "cfg-id",
        "cfg-secret-value",
        "cfg-token",
    )
    assert found.source == "stack config alicloud:accessKey"


def test_environment_wins_over_profile_and_carries_its_token(profile_file: Path) -> None:
    found = resolve_credentials(environ={**ENV, "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token"}, profile_path=profile_file)
    assert (found.access_key_id, found.security_token) == ("env-id", "env-token")
    assert found.source == "environment ALIBABA_CLOUD_ACCESS_KEY_ID"


def test_older_environment_names_are_read(tmp_path: Path) -> None:
    environ = {
        "ALICLOUD_ACCESS_KEY": "old-id",
        "ALICLOUD_SECRET_KEY": "old-secret",
        "ALICLOUD_SECURITY_TOKEN": "t",
    }
    found = resolve_credentials(environ=environ, profile_path=tmp_path / "none.json")
    assert (found.access_key_id, found.access_key_secret, found.security_token) == (
        "old-id",
        "old-secret",
        "t",
    )


def test_the_older_environment_names_win_as_in_terraform(tmp_path: Path) -> None:
    environ = {**ENV, "ALICLOUD_ACCESS_KEY": "old-id", "ALICLOUD_SECRET_KEY": "old-secret"}
    found = resolve_credentials(environ=environ, profile_path=tmp_path / "x")
    assert (found.access_key_id, found.access_key_secret) == ("old-id", "old-secret")


def test_a_token_never_pairs_with_a_key_from_another_source(tmp_path: Path) -> None:
    found = resolve_credentials(
        config=CONFIG, environ={"ALIBABA_CLOUD_SECURITY_TOKEN": "env-token"}, profile_path=tmp_path / "x"
    )
    assert found.security_token is None


def test_profile_current_is_used_by_default(profile_file: Path) -> None:
    found = resolve_credentials(environ={}, profile_path=profile_file)
    assert (found.access_key_id, found.security_token, found.source) == ("file-id", None, "profile 'default'")


@pytest.mark.parametrize(
    ("config", "environ"),
    [
        ({"alicloud:profile": "sts"}, {}),
        ({}, {"ALIBABA_CLOUD_PROFILE": "sts"}),
        ({}, {"ALICLOUD_PROFILE": "sts"}),
    ],
)
def test_named_sts_profile_from_config_or_environment(
    profile_file: Path, config: dict[str, str], environ: dict[str, str]
) -> None:
    found = resolve_credentials(config=config, environ=environ, profile_path=profile_file)
    assert (found.access_key_id, found.security_token) == ("sts-id", "sts-token-value")


def test_profile_named_in_config_wins_over_environment(profile_file: Path) -> None:
    found = resolve_credentials(
        config={"alicloud:profile": "sts"},
        environ={"ALIBABA_CLOUD_PROFILE": "default"},
        profile_path=profile_file,
    )
    assert found.access_key_id == "sts-id"


def test_profile_named_in_stack_config_wins_over_environment_keys(profile_file: Path) -> None:
    found = resolve_credentials(config={"alicloud:profile": "sts"}, environ=ENV, profile_path=profile_file)
    assert found.access_key_id == "sts-id"


@pytest.mark.parametrize(
    ("profile", "why"),
    [
        ("role", "incomplete RamRoleArn profile: no ram_role_arn"),
        ("sso", "mode 'CloudSSO' is not supported"),
        ("half", "incomplete StsToken profile"),
        ("absent", "no such profile"),
    ],
)
def test_unusable_profiles_are_named_in_the_not_found_error(profile_file: Path, profile: str, why: str) -> None:
    with pytest.raises(CredentialsNotFoundError) as caught:
        resolve_credentials(config={"alicloud:profile": profile}, environ={}, profile_path=profile_file)
    assert why in str(caught.value)
    assert f"profile {profile!r} in {profile_file}" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "why"),
    [("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object"), (None, "file not found")],
)
def test_broken_profile_files_are_reported_not_raised(tmp_path: Path, content: str | None, why: str) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CredentialsNotFoundError, match=why):
        resolve_credentials(environ={}, profile_path=path)


def test_not_found_lists_every_place_it_looked_and_no_values(tmp_path: Path) -> None:
    environ = {"ALIBABA_CLOUD_PROFILE": "nope", "UNRELATED_SECRET": "do-not-print"}
    path = write_profiles(tmp_path / "c.json", [{"name": "x", "access_key_id": "i", "access_key_secret": "zz-secret"}])
    with pytest.raises(CredentialsNotFoundError) as caught:
        resolve_credentials(environ=environ, profile_path=path)
    text = str(caught.value)
    for place in (
        "explicit arguments",
        "alicloud:accessKey",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY",
        str(path),
        "'nope'",
    ):
        assert place in text
    assert "zz-secret" not in text and "do-not-print" not in text
    assert len(caught.value.searched) == 4


@pytest.mark.parametrize(
    ("config", "environ", "missing"),
    [
        ({"alicloud:accessKey": "id"}, {}, "alicloud:secretKey"),
        ({"alicloud:secretKey": "s"}, {}, "alicloud:accessKey"),
        ({}, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id"}, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ({}, {"ALICLOUD_SECRET_KEY": "s"}, "ALICLOUD_ACCESS_KEY"),
    ],
)
def test_half_a_key_pair_is_a_configuration_error(
    tmp_path: Path, config: dict[str, str], environ: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_credentials(config=config, environ=environ, profile_path=tmp_path / "x")
    assert caught.value.setting == missing
    assert missing in str(caught.value)


def test_defaults_are_os_environ_and_the_home_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_profile_path() == tmp_path / ".aliyun" / "config.json"
    with pytest.raises(CredentialsNotFoundError, match=r"\.aliyun"):
        resolve_credentials()
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "real-env-id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "real-env-secret")
    assert resolve_credentials().access_key_id == "real-env-id"


@given(
    key_id=st.from_regex(r"[A-Za-z0-9-]{1,24}", fullmatch=True),
    secret=st.text(max_size=40).map(lambda s: "§" + s),
    token=st.none() | st.text(max_size=40).map(lambda s: "¤" + s),
)
def test_repr_and_str_show_only_the_key_id_and_source(key_id: str, secret: str, token: str | None) -> None:
    creds = Credentials(key_id, secret, token, source="test")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert key_id in text and "test" in text
        assert "§" not in text and "¤" not in text


def test_repr_says_a_token_is_set_without_showing_it() -> None:
    assert repr(Credentials("id", "secret-value", "token-value", source="env")) == (
        "Credentials(access_key_id='id', source='env', security_token=<set>)"
    )


def test_credentials_are_immutable_comparable_and_never_pickled() -> None:
    creds = Credentials("id", "secret-value", "tok", source="env")
    with pytest.raises(AttributeError):
        creds.access_key_secret = "other"
    with pytest.raises(AttributeError):
        del creds.access_key_id
    assert creds == Credentials("id", "secret-value", "tok", source="env")
    assert creds != Credentials("id", "other-secret", "tok", source="env")
    assert len({creds, Credentials("id", "secret-value", "tok", source="env")}) == 1
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(creds)  # a pickle would carry the secret into wherever it is stored (Pulumi state)


@pytest.mark.parametrize(("key_id", "secret"), [("", "s"), ("i", ""), ("", "")])
def test_empty_key_id_or_secret_is_refused(key_id: str, secret: str) -> None:
    with pytest.raises(ConfigurationError):
        Credentials(key_id, secret)


def test_an_empty_token_means_no_token() -> None:
    assert Credentials("i", "s", "").security_token is None
