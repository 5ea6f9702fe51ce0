"""Every input rule, as a table: each broken rule gives a violation naming the property; valid inputs none."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ga_listener.config.models import MANAGED_FIELDS, ListenerConfig
from ga_listener.config.validation import validate_inputs

BASE: dict[str, Any] = {"listener_id": "lsr-bp1bpn0kn908w4nbw", "protocol": "tcp",
                        "port_ranges": [{"from_port": 80, "to_port": 80}]}
HTTPS: dict[str, Any] = {**BASE, "protocol": "https", "port_ranges": [{"from_port": 443, "to_port": 443}]}
HTTP: dict[str, Any] = {**BASE, "protocol": "http"}
CREATE: dict[str, Any] = {"accelerator_id": "ga-bp1odcab8tmno0hdq", "protocol": "tcp",
                          "port_ranges": [{"from_port": 80, "to_port": 80}]}
UDP: dict[str, Any] = {**BASE, "protocol": "udp"}


def ranges(*pairs: tuple[int, int]) -> list[dict[str, int]]:
    return [{"from_port": f, "to_port": t} for f, t in pairs]


VALID = [
    BASE,
    {**BASE, "protocol": "TCP", "port_ranges": ranges((80, 80), (443, 443), (8000, 8010))},
    {**BASE, "protocol": "udp", "idle_timeout": 20, "port_ranges": ranges((53, 53))},
    {**BASE, "port_ranges": [{"from_port": 80.0, "to_port": 90.0}], "idle_timeout": 900.0},
    {**BASE, "port_ranges": ranges((1, 1), (65499, 65499))},
    {**BASE, "port_ranges": ranges((1, 30))},
    {**BASE, "port_ranges": ranges((1000, 2000))},  # no invented quota: the service's QuotaExceeded decides
    {**UDP, "port_ranges": ranges((1, 249), (251, 4788), (4791, 5000))},  # around the reserved udp ports
    CREATE, {**CREATE, "on_delete": "retain"}, {**CREATE, "on_delete": "DELETE"}, {**BASE, "on_delete": "delete"},
    {**CREATE, "protocol": "https", "port_ranges": ranges((443, 443)), "certificates": [{"id": "c-1"}]},
    {**CREATE, "resource_key": "proj/dev/web"},
    {**BASE, "name": "web", "description": "public web", "client_affinity": "SOURCE_IP", "proxy_protocol": True},
    {**BASE, "name": "a"}, {**BASE, "name": "监听器-1"}, {**BASE, "name": "my-listener.v2_a"},
    {**BASE, "name": "x" * 128}, {**BASE, "description": "d" * 200}, {**BASE, "description": ""},
    {**BASE, "client_affinity": "none"}, {**BASE, "client_affinity": "source_ip"},
    {**HTTPS, "certificates": [{"id": "449****-cn-hangzhou"}], "http_version": "HTTP2",
     "security_policy_id": "tls_cipher_policy_1_2_strict_with_1_3", "backend_ports": ranges((80, 80)),
     "request_timeout": 180, "idle_timeout": 60,
     "forwarded_for_config": {"real_ip_enabled": True, "forwarded_for_proto_enabled": False}},
    {**HTTP, "idle_timeout": 1, "request_timeout": 1, "forwarded_for_config": {}},
    {**BASE, "on_delete": "restore", "region_id": "cn-hangzhou"},
    {**HTTP, "backend_ports": ranges((65535, 65535))},  # backend servers have no reserved ports
]


@pytest.mark.parametrize("raw", VALID)
def test_valid_inputs_pass(raw: dict[str, Any]) -> None:
    config, violations = validate_inputs(raw)
    assert violations == []
    assert isinstance(config, ListenerConfig)


# (inputs, property path that must be named, words the reason must contain)
INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({**BASE, "port_ranges": ranges((0, 10))}, "port_ranges[0].from_port", "between 1 and 65499"),
    ({**BASE, "port_ranges": ranges((80, 80), (90, 65500))}, "port_ranges[1].to_port", "65499"),
    ({**BASE, "port_ranges": ranges((90, 80))}, "port_ranges[0].to_port", "from_port"),
    ({**BASE, "port_ranges": [{"from_port": 80.5, "to_port": 81}]}, "port_ranges[0].from_port", "whole number"),
    ({**BASE, "port_ranges": [{"from_port": True, "to_port": 81}]}, "port_ranges[0].from_port", "whole number"),
    ({**BASE, "port_ranges": [{"from_port": "abc", "to_port": 81}]}, "port_ranges[0].from_port", "whole number"),
    ({**BASE, "port_ranges": [{"from_port": 80}]}, "port_ranges[0].to_port", "required"),
    ({**BASE, "port_ranges": []}, "port_ranges", "empty"),
    ({**BASE, "port_ranges": "80"}, "port_ranges", "list"),
    ({**BASE, "port_ranges": ranges((80, 90), (85, 95))}, "port_ranges[1]", "overlaps"),
    ({**BASE, "port_ranges": ranges((80, 80), (80, 80))}, "port_ranges[1]", "overlaps"),
    ({**UDP, "port_ranges": ranges((240, 260))}, "port_ranges[0]", "UDP port 250"),
    ({**UDP, "port_ranges": ranges((80, 80), (4789, 4789))}, "port_ranges[1]", "reserves"),
    ({**UDP, "port_ranges": ranges((4790, 4790))}, "port_ranges[0]", "4790"),
    ({**HTTP, "port_ranges": ranges((80, 81))}, "port_ranges", "one port"),
    ({**HTTP, "port_ranges": ranges((80, 80), (81, 81))}, "port_ranges", "one port"),
    ({**BASE, "protocol": "sctp"}, "protocol", "tcp, udp, http, https"),
    ({**BASE, "protocol": None}, "protocol", "required"),
    ({**BASE, "listener_id": None}, "listener_id", "required"),
    ({**BASE, "listener_id": None}, "listener_id", "accelerator_id"),
    ({**CREATE, "listener_id": "lsr-1"}, "accelerator_id", "not both"),
    ({**CREATE, "accelerator_id": "ga 1"}, "accelerator_id", "printable"),
    ({**CREATE, "on_delete": "restore"}, "on_delete", "no earlier configuration to restore"),
    ({**CREATE, "protocol": "https", "port_ranges": ranges((443, 443))}, "certificates", "required to create"),
    ({**HTTPS, "certificates": [{"id": "a"}, {"id": "b"}]}, "certificates", "one default certificate"),
    ({**BASE, "listener_id": "lsr 1"}, "listener_id", "printable"),
    ({**BASE, "name": "1web"}, "name", "start with a letter"),
    ({**BASE, "name": "web site"}, "name", "letters"),
    ({**BASE, "name": ""}, "name", "1 to 128"),
    ({**BASE, "name": "x" * 129}, "name", "1 to 128"),
    ({**BASE, "description": "d" * 201}, "description", "200"),
    ({**BASE, "description": "http://example.com"}, "description", "http://"),
    ({**BASE, "description": "https://example.com"}, "description", "https://"),
    ({**BASE, "client_affinity": "COOKIE"}, "client_affinity", "NONE, SOURCE_IP"),
    ({**BASE, "proxy_protocol": "maybe"}, "proxy_protocol", "true or false"),
    ({**BASE, "proxy_protocol": "yes"}, "proxy_protocol", "true or false"),
    ({**BASE, "proxy_protocol": 1}, "proxy_protocol", "true or false"),
    ({**BASE, "port_ranges": [{"from_port": "80", "to_port": 80}]}, "port_ranges[0].from_port", "got text"),
    ({**HTTP, "backend_ports": ranges((65536, 65536))}, "backend_ports[0].from_port", "between 1 and 65535"),
    ({**BASE, "certificates": [{"id": "c-1"}]}, "certificates", "only to https"),
    ({**HTTP, "http_version": "http2"}, "http_version", "only to https"),
    ({**BASE, "security_policy_id": "tls_cipher_policy_1_2"}, "security_policy_id", "only to https"),
    ({**HTTPS, "http_version": "http4"}, "http_version", "http1.1, http2, http3"),
    ({**HTTPS, "security_policy_id": "tls_cipher_policy_2_0"}, "security_policy_id", "tls_cipher_policy_1_0"),
    ({**HTTPS, "certificates": [{"id": "a"}, {"id": "a"}]}, "certificates[1].id", "repeats"),
    ({**HTTPS, "certificates": [{"id": "a"}, {"id": "a"}]}, "certificates", "one default"),
    ({**HTTPS, "certificates": [{}]}, "certificates[0].id", "required"),
    ({**BASE, "backend_ports": ranges((80, 80))}, "backend_ports", "only to http and https"),
    ({**HTTP, "backend_ports": ranges((80, 81))}, "backend_ports[0].to_port", "equal from_port"),
    ({**BASE, "forwarded_for_config": {"real_ip_enabled": True}}, "forwarded_for_config", "only to http"),
    ({**HTTP, "forwarded_for_config": {"real_ip": True}}, "forwarded_for_config.real_ip", "not a known field"),
    ({**BASE, "request_timeout": 60}, "request_timeout", "only to http and https"),
    ({**HTTP, "request_timeout": 181}, "request_timeout", "between 1 and 180"),
    ({**BASE, "idle_timeout": 9}, "idle_timeout", "between 10 and 900"),
    ({**BASE, "protocol": "udp", "idle_timeout": 21}, "idle_timeout", "between 10 and 20"),
    ({**HTTP, "idle_timeout": 61}, "idle_timeout", "between 1 and 60"),
    ({**BASE, "idle_timeout": 100.5}, "idle_timeout", "whole number"),
    ({**BASE, "region_id": "cn-beijing"}, "region_id", "cn-hangzhou"),
    ({**BASE, "on_delete": "destroy"}, "on_delete", "retain, restore, delete"),
    ({**BASE, "port_range": ranges((80, 80))}, "port_range", "did you mean 'port_ranges'"),
]


@pytest.mark.parametrize(("raw", "path", "words"), INVALID, ids=[f"{c[1]}:{c[2]}" for c in INVALID])
def test_each_rule_names_the_property(raw: dict[str, Any], path: str, words: str) -> None:
    config, violations = validate_inputs(raw)
    assert config is None
    matching = [v for v in violations if v.path == path]
    assert matching, f"no violation for {path}: {violations}"
    assert any(words in v.reason for v in matching), matching


def test_every_violation_is_reported_not_just_the_first() -> None:
    raw = {**HTTP, "port_ranges": ranges((80, 80)), "name": "1bad", "description": "http://x",
           "idle_timeout": 100, "certificates": [{"id": "c"}], "client_affinity": "x"}
    _, violations = validate_inputs(raw)
    assert {v.path for v in violations} == {"name", "description", "idle_timeout", "certificates",
                                            "client_affinity"}


def test_unknown_values_are_skipped_and_known_ones_still_checked() -> None:
    unknown = object()
    raw = {**BASE, "port_ranges": unknown, "name": "1bad", "protocol": "http"}
    config, violations = validate_inputs(raw, is_unknown=lambda v: v is unknown)
    assert config is None  # not complete yet
    assert [v.path for v in violations] == ["name"]


def test_unknown_protocol_skips_protocol_rules() -> None:
    unknown = object()
    raw = {**BASE, "protocol": unknown, "certificates": [{"id": "c"}], "port_ranges": ranges((1, 5))}
    _, violations = validate_inputs(raw, is_unknown=lambda v: v is unknown)
    assert violations == []


def test_model_raises_on_cross_field_rules_when_built_directly() -> None:
    with pytest.raises(ValueError, match="certificates"):
        ListenerConfig(listener_id="lsr-1", protocol="tcp", port_ranges=({"from_port": 1, "to_port": 1},),
                       certificates=({"id": "c"},))


garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from([*MANAGED_FIELDS, "listener_id", "accelerator_id", "region_id", "on_delete", "resource_key",
                        "junk", "from_port", ""])


@given(st.dictionaries(keys, garbage, max_size=10))
def test_validation_never_raises_and_every_violation_names_a_property(raw: dict[str, Any]) -> None:
    config, violations = validate_inputs(raw)
    if violations:
        assert config is None
    for violation in violations:
        root = violation.path.split("[")[0].split(".")[0]
        assert root in raw or root in ("listener_id", "protocol", "port_ranges"), violation
        assert violation.reason


@given(st.lists(st.tuples(st.integers(1, 65499), st.integers(0, 3)), min_size=1, max_size=6),
       st.none() | st.integers(1, 40))
def test_ranges_validate_like_a_direct_overlap_count(pairs: list[tuple[int, int]], limit: int | None) -> None:
    spans = [(f, min(f + d, 65499)) for f, d in pairs]
    raw = {**BASE, "port_ranges": ranges(*spans)}
    _, violations = validate_inputs(raw, max_ports=limit)
    overlapping = any(a[0] <= b[1] and b[0] <= a[1] for i, a in enumerate(spans) for b in spans[i + 1:])
    too_many = limit is not None and sum(t - f + 1 for f, t in spans) > limit
    assert any("overlaps" in v.reason for v in violations) == overlapping
    assert any("maxListenerPorts" in v.reason for v in violations) == too_many


def test_on_delete_defaults_by_mode() -> None:
    assert [validate_inputs(raw)[0].deletion for raw in (BASE, CREATE, {**CREATE, "on_delete": "retain"})] == [  # type: ignore[union-attr]
        "retain", "delete", "retain"]


def test_failures_never_echo_text_values() -> None:
    secretish = "s3cr3t-Value-Never-Shown"
    raw = {**BASE, "port_ranges": [{"from_port": secretish, "to_port": 80}], "proxy_protocol": secretish,
           "idle_timeout": secretish, "forwarded_for_config": secretish}
    _, violations = validate_inputs(raw)
    assert len(violations) >= 4
    assert not [v for v in violations if secretish in v.reason]
