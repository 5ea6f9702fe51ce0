"""Constants and peers shared by the provider tests."""

from __future__ import annotations

from typing import Any

from tests.support import peers

KEY_ID = "test-key-id"
SECRET = "test-secret-Qx7-do-not-leak"
TRANSITION = 0.3

SEEDS = [
    "ga-1:lsr-web:tcp:80-80",
    "ga-1:lsr-api:tcp:9000-9000",
    "ga-1:lsr-a:tcp:7001-7001",
    "ga-1:lsr-b:tcp:7002-7002",
    "ga-1:lsr-c:tcp:7003-7003",
    "ga-1:lsr-d:tcp:7004-7004",
    "ga-2:lsr-other:tcp:80-80",
    "ga-2:lsr-https:https:443-443",
]


def writes(emulator: Any, action: str = "UpdateListener") -> list[Any]:
    """The successful calls of ``action`` the emulator answered."""
    return [c for c in emulator.calls if c.action == action and c.http_status == 200]


def official_client(emulator: Any) -> Any:
    """Alibaba's official SDK client pointed at the emulator: an independent peer for out-of-band changes."""
    return peers.official_client(emulator, key_id=KEY_ID, secret=SECRET)


def live(emulator: Any, listener_id: str) -> Any:
    """The listener as the official SDK sees it (an independent reading of the emulator)."""
    return peers.describe(emulator, listener_id, key_id=KEY_ID, secret=SECRET)


def delete_out_of_band(emulator: Any, accelerator_id: str, listener_id: str, timeout: float = 10.0) -> None:
    """Delete a listener behind the provider's back (official SDK) and wait until it is gone."""
    import time

    from alibabacloud_ga20191120 import models
    from Tea.exceptions import TeaException

    client = official_client(emulator)
    client.delete_listener(models.DeleteListenerRequest(accelerator_id=accelerator_id, listener_id=listener_id))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.describe_listener(models.DescribeListenerRequest(region_id="cn-hangzhou", listener_id=listener_id))
        except TeaException as error:
            if error.code in ("NotExist.Listener", "UnknownError"):  # UnknownError: how Terraform reads it too
                return
            raise
        time.sleep(0.05)
    raise AssertionError(f"{listener_id} still exists after {timeout} s")
