"""Provider settings: stack config over environment, clear errors naming the key, no secret in a repr."""

from __future__ import annotations

from typing import Any

import pytest

from ga_listener.config.settings import DEFAULT_WAIT_TIMEOUT, ProviderSettings
from ga_listener.transport.errors import ConfigurationError


def read(config: dict[str, Any], environ: dict[str, str] | None = None) -> ProviderSettings:
    return ProviderSettings.from_config(config, environ or {})


def test_defaults() -> None:
    settings = read({})
    assert (settings.endpoint, settings.signature_version, settings.wait_timeout) == (None, "v3", DEFAULT_WAIT_TIMEOUT)
    assert settings.log_level is None and settings.credential_config == ()


def test_stack_config_wins_over_environment() -> None:
    environ = {"GA_LISTENER_ENDPOINT": "http://127.0.0.1:1", "ALIBABA_CLOUD_REGION": "cn-shanghai"}
    assert read({}, environ).endpoint == "http://127.0.0.1:1"
    assert read({"ga-listener:endpoint": "http://127.0.0.1:2"}, environ).endpoint == "http://127.0.0.1:2"
    assert read({"alicloud:region": "cn-hangzhou"}, environ).region == "cn-hangzhou"


def test_values_arrive_as_strings() -> None:
    settings = read({"ga-listener:waitTimeout": "90", "ga-listener:signatureVersion": "V1",
                     "ga-listener:logLevel": "DEBUG"})
    assert (settings.wait_timeout, settings.signature_version, settings.log_level) == (90.0, "v1", "debug")


@pytest.mark.parametrize(("key", "value"), [
    ("ga-listener:waitTimeout", "soon"), ("ga-listener:waitTimeout", "-1"), ("ga-listener:waitTimeout", "inf"),
    ("ga-listener:signatureVersion", "v2"), ("ga-listener:logLevel", "loud"),
])
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=key) as raised:
        read({key: value})
    assert raised.value.setting == key


def test_credentials_are_kept_but_never_shown() -> None:
    settings = read({"alicloud:accessKey": "id-1", "alicloud:secretKey": "s3cr3t-value"})
    assert dict(settings.credential_config)["alicloud:secretKey"] == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings)


def test_settings_are_never_pickled() -> None:
    import pickle

    import dill

    settings = read({"alicloud:secretKey": "s3cr3t-value"})
    for dump in (pickle.dumps, dill.dumps):
        with pytest.raises(TypeError, match="never pickled"):
            dump(settings)
