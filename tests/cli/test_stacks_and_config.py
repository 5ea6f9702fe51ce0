"""Under the real CLI: two stacks of one program side by side on one accelerator; credentials and a role set with
``pulumi config set`` reach the provider, and no secret lands in the state or the stack file."""

from __future__ import annotations

from pathlib import Path

from ga_emulator.server import EmulatorServer
from tests.cli.conftest import ROLE, SECRET_PAIR, StackFactory, live_listeners
from tests.cli.support import Run, wait_for


def created(accelerator: str, port: int) -> dict[str, object]:
    return {"name": "web", "args": {"accelerator_id": accelerator, "protocol": "tcp",
                                    "port_ranges": [{"from_port": port, "to_port": port}]}}


def test_two_stacks_of_one_program_up_at_once_on_one_accelerator_and_each_owns_its_listener(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory, tmp_path: Path
) -> None:
    dev = make_stack({})
    dev.set_listeners([created(accelerator, 7500)])
    staging = dev.sibling(f"{dev.name}-staging", {})
    staging.set_listeners([created(accelerator, 7501)])
    ups = [stack.spawn("up", "--yes", "--skip-preview", log=tmp_path / f"{stack.name}.log")
           for stack in (dev, staging)]
    wait_for(lambda: all(up.poll() is not None for up in ups), 180, "both ups")
    for up, stack in zip(ups, (dev, staging), strict=True):
        assert up.returncode == 0, (tmp_path / f"{stack.name}.log").read_text()

    ids = {stack.name: stack.listeners()["web"]["id"] for stack in (dev, staging)}
    assert sorted(item.listener_id for item in live_listeners(emulator, accelerator)) == sorted(ids.values())
    assert len(set(ids.values())) == 2

    staging.destroy()
    assert [item.listener_id for item in live_listeners(emulator, accelerator)] == [ids[dev.name]]
    assert dev.listeners()["web"]["id"] == ids[dev.name]


def test_config_set_secret_and_path_reach_the_provider_and_no_secret_is_stored_in_clear(
    emulator: EmulatorServer, accelerator: str, make_stack: StackFactory
) -> None:
    key_id, secret = SECRET_PAIR
    # No key in the environment: what signs must come from the stack's config.
    stack = make_stack({"ga-listener:stsEndpoint": emulator.url},
                       env={"ALIBABA_CLOUD_ACCESS_KEY_ID": None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": None})
    stack.pulumi("config", "set", "alicloud:accessKey", key_id)
    stack.pulumi("config", "set", "--secret", "alicloud:secretKey", secret)
    stack.pulumi("config", "set", "--path", "alicloud:assumeRole.roleArn", ROLE)
    stack.set_listeners([created(accelerator, 7600)])
    runs: list[Run] = [stack.up(), stack.refresh(), stack.destroy()]

    assert emulator.sts is not None
    issued = {item.credential.access_key_id: item.credential for item in emulator.sts.issuer.issued}
    assumed = [r for r in emulator.calls if r.action == "AssumeRole"]
    assert assumed and {r.access_key_id for r in assumed} == {key_id}  # the stack's key asked for the role
    ga = [r for r in emulator.calls if r.action in ("CreateListener", "DescribeListener", "DeleteListener")]
    assert ga and {r.access_key_id for r in ga} <= set(issued)  # the role's session signed every GA call
    assert live_listeners(emulator, accelerator) == []

    secrets = [secret, *(c.secret for c in issued.values()), *(c.security_token for c in issued.values())]
    stored = [stack.pulumi("stack", "export").stdout, stack.config_file.read_text(),
              *(path.read_text(errors="replace") for path in stack.cli.backend.rglob("*") if path.is_file()),
              *(run.output for run in runs)]
    leaks = [index for index, text in enumerate(stored) for value in secrets if value and value in text]
    assert not leaks, f"a secret appears in {len(leaks)} stored texts or outputs (indexes {sorted(set(leaks))})"
