"""Suite-wide fixtures: no test ever sees the developer's real Alibaba Cloud credentials or settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.provider_host import ProviderHost, pickled_provider

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

SCRUBBED_PREFIXES = ("ALIBABA_CLOUD_", "ALICLOUD_", "ALIBABACLOUD_", "GA_LISTENER_", "PULUMI_CONFIG")
# Where scripts/pulumi_cli.py keeps the pinned CLI: a location, not a setting of the product.
KEPT = ("GA_LISTENER_CACHE",)
# The official SDK (a test peer) reads proxy variables on every call: loopback traffic must never leave the machine.
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="session", autouse=True)
def _scrub_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Session scope: set up before any module-scoped fixture, so hosts and emulators started once per module
    # inherit the scrubbed environment too (tests still change it per test with their own monkeypatch).
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if (name.startswith(SCRUBBED_PREFIXES) and name not in KEPT) or name in PROXY_VARIABLES:
                patch.delenv(name)
        # An empty home: ~/.aliyun/config.json of the developer is never read.
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    """One real provider host (``python -m pulumi.dynamic``), configured with no settings, per test module."""
    with ProviderHost() as started:
        started.configure({})
        yield started


@pytest.fixture(scope="module")
def provider() -> str:
    """The ``__provider`` property exactly as ``pulumi.dynamic.Resource`` pickles ListenerProvider."""
    return pickled_provider()
