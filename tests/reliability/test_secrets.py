"""Secrets: after a whole lifecycle and every provoked failure, the secret and the STS token are nowhere.

Every host runs with the provider's own debug switch (``ga-listener:logLevel: debug``: ``ga_listener.client``
logs each attempt's canonical request and string-to-sign to the host's stderr) and, for what that switch does
not reach, a ``sitecustomize`` module on its PYTHONPATH setting the root logger to DEBUG (urllib3 then logs each
request line, where a v1 request carries the token). All of it is scanned with everything else.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ga_emulator.server import EmulatorServer
from tests.support.provider_host import Engine, ProviderError, ProviderHost
from tests.support.secrets import Scanner

KEY_ID = "sts-key-id"
SECRET = "sts-Secret/Qx7+k=&do-not-leak"
TOKEN = "CAIS+sts/Token==&Zx9-do-not-leak"
WEB: dict[str, Any] = {"listener_id": "lsr-web", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}],
                       "on_delete": "restore"}
DEBUG_LOGGING = """\
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
"""


leaks = Scanner([SECRET, TOKEN]).leaks


class TranscribedHost(ProviderHost):
    """A provider host that hands everything it printed to ``transcripts`` when it closes."""

    def __init__(self, transcripts: list[str], env: Mapping[str, str]) -> None:
        self._transcripts = transcripts
        super().__init__(env)

    def close(self) -> None:
        self._transcripts.append(self.output())
        super().close()


@dataclass
class TranscribedEngine(Engine):
    """An engine whose every host (fresh per operation, as the CLI runs them) leaves its output behind."""

    transcripts: list[str] = field(default_factory=list)

    def host(self, config: Mapping[str, Any] | None = None) -> ProviderHost:
        host = TranscribedHost(self.transcripts, self.env)
        host.configure(self.config if config is None else config)
        return host


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(
        credentials=[(KEY_ID, SECRET, TOKEN)], accelerators=["ga-1"],
        listeners=["ga-1:lsr-web:tcp:80-80", "ga-1:lsr-api:tcp:9000-9000"], transition_seconds=0.1,
    )
    with server:
        yield server


@pytest.fixture
def debug_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a host whose root logger is at DEBUG (see the module docstring)."""
    (tmp_path / "sitecustomize.py").write_text(DEBUG_LOGGING, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}


def failing_up(engine: Engine, inputs: Mapping[str, Any], config: Mapping[str, str]) -> ProviderError:
    """``up`` with ``config`` overriding the stack's settings; returns the failure (the stack config is put back)."""
    saved = dict(engine.config)
    engine.config.update(config)
    try:
        engine.up("web", inputs)
    except ProviderError as error:
        return error
    finally:
        engine.config = saved
    raise AssertionError(f"up with {sorted(config)} succeeded")


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_no_secret_or_token_anywhere_after_a_lifecycle_with_failures(
    emulator: EmulatorServer, debug_env: dict[str, str], version: str
) -> None:
    """Proves: with an STS credential, through adopt, change, refresh, four provoked failures and a restoring
    destroy (each in a fresh host with DEBUG logging on), neither the secret nor the token appears, in any
    encoding, in the pickled provider, any input or output, any error text or anything a host printed; and
    the scan looked at real material: the debug log ran and shows the token masked, and every provoked failure
    carries the code that was provoked."""
    engine = TranscribedEngine(config={
        "ga-listener:endpoint": emulator.url, "alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET,
        "alicloud:securityToken": TOKEN, "ga-listener:signatureVersion": version, "ga-listener:waitTimeout": "30",
        "ga-listener:logLevel": "debug",
    }, env=debug_env)
    texts = [engine.provider, base64.b64decode(engine.provider).decode("latin-1")]

    def record_state() -> None:
        state = engine.state["web"]
        texts.extend([json.dumps(state.inputs), json.dumps(state.outputs)])

    engine.up("web", {**WEB, "name": "web"})
    record_state()
    engine.up("web", {**WEB, "name": "web2", "port_ranges": [{"from_port": 81, "to_port": 81}]})
    record_state()
    engine.refresh("web")
    record_state()
    changed = {**WEB, "name": "web3"}
    failures = {
        "PortConflict.Listener": failing_up(engine, {**WEB, "port_ranges": [{"from_port": 9000, "to_port": 9000}]}, {}),
        "SignatureDoesNotMatch": failing_up(engine, changed, {"alicloud:secretKey": SECRET + "-wrong"}),
        "InvalidAccessKeyId.NotFound": failing_up(engine, changed, {"alicloud:accessKey": "unknown-key-id"}),
        "InvalidSecurityToken.MismatchWithAccessKey": failing_up(
            engine, changed, {"alicloud:securityToken": TOKEN + "-stale"}),
    }
    engine.destroy("web")
    restored = emulator.backend.describe_listener("lsr-web").config.port_ranges
    assert [(r.from_port, r.to_port) for r in restored] == [(80, 80)]  # the restoring destroy really ran

    for code, error in failures.items():
        assert code in error.last_line, error.last_line
        texts += [error.details, str(error)]
    transcript = "\n".join(engine.transcripts)
    assert len(engine.transcripts) == 8  # every host of the lifecycle left its output
    assert "canonical request" in transcript and "string to sign" in transcript  # the debug log did run
    assert "ga-listener DEBUG ga_listener.client" in transcript  # through the provider's own switch
    assert "urllib3.connectionpool DEBUG" in transcript
    masked = "x-acs-security-token:***" if version == "v3" else "SecurityToken=***"
    assert masked in transcript  # the token was there to leak, and was masked
    for index, text in enumerate([*texts, transcript]):
        # Counted apart, so a failure report names where the leak is without printing the credential.
        lines = [number for number, line in enumerate(text.splitlines(), 1) if leaks(line)]
        assert len(lines) == 0, f"text {index}: a credential on lines {lines[:5]}"
