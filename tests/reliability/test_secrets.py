"""Secrets: after a whole lifecycle, every provoked failure and every credential source, no secret is anywhere.

Every host runs with the provider's own debug switch (``ga-listener:logLevel: debug``: ``ga_listener.api.client``
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


# --- every credential source ----------------------------------------------------------------------------------

ROLE = "acs:ram::1234567890123456:role/deployer"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ci"
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.oidc/Token+Value==&do-not-leak"
BAD_OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.stale/Oidc+Token==&do-not-leak"
WRONG_SECRET = SECRET + "-wrong-and-secret"
URI_QUERY_SECRET = "uri-Query/Secret+Value"


@pytest.fixture
def sts_emulator() -> Iterator[EmulatorServer]:
    from ga_emulator.sts import StsOptions

    server = EmulatorServer(
        credentials=[(KEY_ID, SECRET, None)], accelerators=["ga-1"], listeners=["ga-1:lsr-web:tcp:80-80"],
        transition_seconds=0.1, sts=StsOptions(roles=(ROLE,), oidc_providers=(OIDC_PROVIDER,),
                                               oidc_tokens=(OIDC_TOKEN,), ecs_role="ecs-role", credentials_uri=True),
    )
    with server:
        yield server


def every_source(url: str, tmp_path: Path) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(name, stack config, environment) of every credential source, each on its own."""
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN, encoding="utf-8")
    profiles = tmp_path / "config.json"
    profiles.write_text(json.dumps({"current": "none", "profiles": [
        {"name": "role", "mode": "RamRoleArn", "access_key_id": KEY_ID, "access_key_secret": SECRET,
         "ram_role_arn": ROLE},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "ecs-role"},
        {"name": "oidc", "mode": "OIDC", "oidc_provider_arn": OIDC_PROVIDER, "oidc_token_file": str(token_file),
         "ram_role_arn": ROLE},
        {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "ecs", "ram_role_arn": ROLE},
    ]}), encoding="utf-8")
    keys = {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET}
    role = json.dumps({"roleArn": ROLE, "externalId": "ext", "policy": '{"Version": "1", "Statement": []}'})
    oidc = json.dumps({"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcToken": OIDC_TOKEN})
    files = {"alicloud:sharedCredentialsFile": str(profiles)}
    return [
        ("assumeRole", {**keys, "alicloud:assumeRole": role}, {}),
        ("environment role", {}, {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
                                  "ALIBABA_CLOUD_ROLE_ARN": ROLE}),
        ("assumeRoleWithOidc", {"alicloud:assumeRoleWithOidc": oidc}, {}),
        ("environment OIDC", {}, {"ALIBABA_CLOUD_ROLE_ARN": ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": OIDC_PROVIDER,
                                  "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file)}),
        ("ecsRoleName", {"alicloud:ecsRoleName": "ecs-role"}, {}),
        ("credentialsUri", {"alicloud:credentialsUri": f"{url}/credentials?session={URI_QUERY_SECRET}"}, {}),
        *[(f"profile {name}", {**files, "alicloud:profile": name}, {}) for name in ("role", "oidc", "chain")],
    ]


def test_no_secret_or_token_anywhere_with_every_credential_source(
    sts_emulator: EmulatorServer, debug_env: dict[str, str], tmp_path: Path
) -> None:
    """Proves: with every credential source in turn (roles from stack config and environment, OIDC tokens inline
    and in files, the ECS instance role, a credentials URI with a secret in its query, and role, OIDC and chained
    profiles), each up in a fresh host with DEBUG logging on, then each source refusing (unknown role, wrong
    secret, stale OIDC token, unknown ECS role, broken URI), no base secret, OIDC token, issued secret or session
    token, or metadata token appears in the pickled provider, any input or output, any error or anything a host
    printed; and the scan saw real material: STS was called and logged, and every refusal carries its reason."""
    emulator = sts_emulator
    transcripts: list[str] = []
    base = {"ga-listener:endpoint": emulator.url, "ga-listener:stsEndpoint": emulator.url,
            "ga-listener:ecsMetadataEndpoint": emulator.url, "ga-listener:waitTimeout": "30",
            "ga-listener:logLevel": "debug"}
    texts: list[str] = []
    for index, (name, config, env) in enumerate(every_source(emulator.url, tmp_path)):
        engine = TranscribedEngine(config={**base, "ga-listener:signatureVersion": ("v1", "v3")[index % 2], **config},
                                   env={**debug_env, **env}, transcripts=transcripts)
        engine.up("web", {**WEB, "name": f"n{index}"})
        state = engine.state["web"]
        texts += [engine.provider, json.dumps(state.inputs), json.dumps(state.outputs)]
        assert emulator.backend.describe_listener("lsr-web").config.name == f"n{index}", name

    refusals = {
        "EntityNotExist.Role": {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": SECRET,
                                "alicloud:assumeRole": json.dumps({"roleArn": "acs:ram::1234567890123456:role/no"})},
        "SignatureDoesNotMatch": {"alicloud:accessKey": KEY_ID, "alicloud:secretKey": WRONG_SECRET,
                                  "alicloud:assumeRole": json.dumps({"roleArn": ROLE})},
        "AuthenticationFail.OIDCToken.Invalid": {"alicloud:assumeRoleWithOidc": json.dumps(
            {"roleArn": ROLE, "oidcProviderArn": OIDC_PROVIDER, "oidcToken": BAD_OIDC_TOKEN})},
        "no RAM role 'not-attached'": {"alicloud:ecsRoleName": "not-attached"},
        "answered HTTP 404": {"alicloud:credentialsUri": f"{emulator.url}/nothing?session={URI_QUERY_SECRET}"},
    }
    for reason, config in refusals.items():
        engine = TranscribedEngine(config={**base, **config}, env=debug_env, transcripts=transcripts)
        error = failing_up(engine, {**WEB, "name": "never"}, {})
        assert reason in error.last_line and "could not get credentials from" in error.last_line, error.last_line
        texts += [error.details, str(error)]

    assert emulator.sts is not None
    issued = emulator.sts.issuer.issued
    assert {item.origin for item in issued} == {"AssumeRole", "AssumeRoleWithOIDC", "ecs", "uri"}
    secrets = [SECRET, WRONG_SECRET, OIDC_TOKEN, BAD_OIDC_TOKEN, URI_QUERY_SECRET, *emulator.sts.metadata.tokens]
    secrets += [value for item in issued for value in (item.credential.secret, item.credential.security_token)
                if value]
    scanner = Scanner(secrets)
    transcript = "\n".join(transcripts)
    assert "string to sign" in transcript and "credentials from stack config alicloud:assumeRole" in transcript
    assert '"POST / HTTP/1.1" 200' in transcript and "/credentials?*** HTTP/1.1" in transcript  # urllib3 ran
    for index, text in enumerate([*texts, transcript]):
        lines = [number for number, line in enumerate(text.splitlines(), 1) if scanner.leaks(line)]
        assert len(lines) == 0, f"text {index}: a credential on lines {lines[:5]}"
