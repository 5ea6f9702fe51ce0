"""check through the real host: failures name the property, numbers arrive as floats.

The CLI prints a failure as ``property <p> value <inputs[p]> has a problem: <reason>``, looking ``<p>`` up among
the top-level inputs: so a failure goes under its top-level property, with the path inside it in the reason.

(Thousands of random inputs through the host: tests/reliability/test_check_fuzz.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.provider_host import PROVIDER_KEY, ProviderHost, urn_for

TCP: dict[str, Any] = {"listener_id": "lsr-1", "protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}




CASES: list[tuple[dict[str, Any], str]] = [
    ({**TCP, "port_ranges": [{"from_port": 80, "to_port": 70000}]}, "port_ranges[0].to_port"),
    ({**TCP, "port_ranges": [{"from_port": 90, "to_port": 80}]}, "port_ranges[0].to_port"),
    ({**TCP, "port_ranges": [{"from_port": 80.5, "to_port": 81}]}, "port_ranges[0].from_port"),
    ({**TCP, "protocol": "http", "port_ranges": [{"from_port": 80, "to_port": 81}]}, "port_ranges"),
    ({**TCP, "certificates": [{"id": "c"}]}, "certificates"),
    ({**TCP, "name": "9lives"}, "name"),
    ({**TCP, "idle_timeout": 5}, "idle_timeout"),
    ({**TCP, "region_id": "us-west-1"}, "region_id"),
    ({**TCP, "on_delete": "destroy"}, "on_delete"),
    ({**TCP, "state": "active"}, "state"),
    ({"protocol": "tcp", "port_ranges": [{"from_port": 80, "to_port": 80}]}, "listener_id"),
]


@pytest.mark.parametrize(("inputs", "path"), CASES, ids=[c[1] for c in CASES])
def test_each_rule_fails_check_naming_the_property(host: ProviderHost, provider: str, inputs: dict[str, Any],
                                                   path: str) -> None:
    _, failures = host.check(urn_for("l"), {}, {**inputs, PROVIDER_KEY: provider})
    top = path.split("[", maxsplit=1)[0]
    assert top in inputs or top == "listener_id"  # the CLI finds the value it prints (a missing one: nil)
    reasons = [reason for prop, reason in failures if prop == top]
    assert reasons, failures
    if path != top:
        assert any(reason.startswith(f"{path} ") for reason in reasons), reasons


def test_valid_inputs_come_back_normalised(host: ProviderHost, provider: str) -> None:
    news = {**TCP, "protocol": "TCP", "client_affinity": "source_ip",
            "port_ranges": [{"from_port": 443, "to_port": 443}, {"from_port": 80, "to_port": 80}], "name": None,
            "state": None, "revision": None, PROVIDER_KEY: provider}
    checked, failures = host.check(urn_for("l"), {}, news)
    assert failures == []
    assert checked["protocol"] == "tcp" and checked["client_affinity"] == "SOURCE_IP"
    assert checked["port_ranges"] == [{"from_port": 80, "to_port": 80}, {"from_port": 443, "to_port": 443}]
    assert "name" not in checked and "state" not in checked  # unset: unmanaged


def test_a_bad_setting_is_a_check_failure_naming_the_key_not_a_traceback(provider: str) -> None:
    with ProviderHost() as host:
        host.configure({"ga-listener:waitTimeout": "ten minutes"})
        _, failures = host.check(urn_for("l"), {}, {**TCP, PROVIDER_KEY: provider})
    assert [path for path, _ in failures] == [""]  # under no property: no input of that name to print
    assert "ga-listener:waitTimeout" in failures[0][1] and "positive number of seconds" in failures[0][1]
