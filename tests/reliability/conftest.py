"""Fixtures of the reliability tests: loopback only, never a proxy."""

from __future__ import annotations

import pytest

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The official SDK reads proxy variables on every call: loopback traffic must never leave the machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
