"""Diff and update planning: order never makes a diff, only changed fields are sent, tokens follow changes."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ga_listener.config import plan
from ga_listener.config.validation import validate_inputs

BASE: dict[str, Any] = {"listener_id": "lsr-1", "protocol": "tcp",
                        "port_ranges": [{"from_port": 80, "to_port": 80}, {"from_port": 443, "to_port": 443}]}

DESCRIBE: dict[str, Any] = {
    "ListenerId": "lsr-1", "AcceleratorId": "ga-1", "State": "active", "Protocol": "TCP",
    "PortRanges": [{"FromPort": "443", "ToPort": "443"}, {"FromPort": 80, "ToPort": 80}],
    "Name": "web", "Description": "", "ProxyProtocol": "False", "IdleTimeout": "900",
    "XForwardedForConfig": {"XRealIpEnabled": "true", "XForwardedForGaIdEnabled": False},
    "Certificates": [{"Id": "c-2", "Type": "Server"}, {"Id": "c-1", "Type": "Server"}],
}


def desired(**overrides: Any) -> dict[str, Any]:
    config, violations = validate_inputs({**BASE, **overrides})
    assert config is not None, violations
    return plan.desired_values(config)


def test_live_answer_is_normalised() -> None:
    live = plan.live_from_api(DESCRIBE)
    assert live["protocol"] == "tcp"
    assert live["port_ranges"] == [{"from_port": 80, "to_port": 80}, {"from_port": 443, "to_port": 443}]
    assert live["proxy_protocol"] is False and live["idle_timeout"] == 900
    assert live["client_affinity"] == "NONE"  # omitted by the API when there is none
    assert live["certificates"] == [{"id": "c-1"}, {"id": "c-2"}]
    assert live["forwarded_for_config"] == {"real_ip_enabled": True, "forwarded_for_ga_id_enabled": False}
    assert (live["state"], live["accelerator_id"]) == ("active", "ga-1")


def test_same_configuration_differs_in_nothing() -> None:
    live = plan.live_from_api(DESCRIBE)
    assert plan.changed_fields(desired(name="web", protocol="TCP"), live) == []


def test_outputs_from_state_with_float_numbers_compare_equal() -> None:
    stored = {"protocol": "tcp", "port_ranges": [{"from_port": 443.0, "to_port": 443.0},
                                                 {"from_port": 80.0, "to_port": 80.0}], "idle_timeout": 900.0}
    assert plan.changed_fields(desired(idle_timeout=900), stored) == []


@given(st.permutations([(80, 80), (443, 443), (8000, 8010), (9000, 9000)]))
def test_port_range_order_never_makes_a_diff(order: list[tuple[int, int]]) -> None:
    wanted = desired(port_ranges=[{"from_port": f, "to_port": t} for f, t in order])
    current = {"protocol": "tcp", "port_ranges": [{"FromPort": 8000, "ToPort": 8010}, {"FromPort": 80, "ToPort": 80},
                                                  {"FromPort": 9000, "ToPort": 9000}, {"FromPort": 443, "ToPort": 443}]}
    assert plan.changed_fields(wanted, current) == []


def test_only_changed_fields_are_sent_and_ranges_go_whole() -> None:
    live = plan.live_from_api(DESCRIBE)
    wanted = desired(name="api", port_ranges=[{"from_port": 80, "to_port": 80}, {"from_port": 8443, "to_port": 8443}])
    changed = plan.changed_fields(wanted, live)
    assert sorted(changed) == ["name", "port_ranges"]
    assert plan.api_params(wanted, changed) == {
        "Name": "api", "PortRanges": [{"FromPort": 80, "ToPort": 80}, {"FromPort": 8443, "ToPort": 8443}]}


def test_forwarded_for_compares_only_the_flags_set() -> None:
    http = {"protocol": "http", "port_ranges": [{"from_port": 80, "to_port": 80}]}
    live = {**plan.live_from_api(DESCRIBE), "protocol": "http", "port_ranges": http["port_ranges"]}
    assert plan.changed_fields(desired(**http, forwarded_for_config={"real_ip_enabled": True}), live) == []
    wanted = desired(**http, forwarded_for_config={"forwarded_for_port_enabled": True})
    assert plan.changed_fields(wanted, live) == ["forwarded_for_config"]
    assert plan.api_params(wanted, ["forwarded_for_config"]) == {
        "XForwardedForConfig": {"XForwardedForPortEnabled": True}}


def test_unset_inputs_are_unmanaged() -> None:
    wanted = desired()
    assert set(wanted) == {"protocol", "port_ranges"}
    live = {**plan.live_from_api(DESCRIBE), "name": "anything", "description": "else"}
    assert plan.changed_fields(wanted, live) == []


def test_tokens_follow_the_bookkeeping_not_just_the_change() -> None:
    b = {"Name": "b"}
    adoption = plan.Bookkeeping.adopting(["name"], "retain", {})
    first = plan.client_token("lsr-1", "update", adoption.applied(["name"]), b)
    assert plan.client_token("lsr-1", "update", adoption.applied(["name"]), b) == first  # a retry reuses it
    later = adoption.applied(["name"]).applied(["name"]).applied(["name"])  # A->B, B->A, A->B
    assert plan.client_token("lsr-1", "update", later, b) != first
    readoption = plan.Bookkeeping.adopting(["name"], "retain", {})  # same listener, adopted again
    assert readoption.adoption_id != adoption.adoption_id
    assert plan.client_token("lsr-1", "update", readoption.applied(["name"]), b) != first
    for token in (first, plan.client_token("lsr-1", "update", later, b)):
        assert len(token) <= 64 and re.fullmatch(r"[\x21-\x7e]+", token)


def test_bookkeeping_survives_the_trip_through_state() -> None:
    live = plan.live_from_api(DESCRIBE)
    book = plan.Bookkeeping.adopting(["protocol", "name"], "restore", live).applied(["name"]).applied(["protocol"])
    stored = json.loads(json.dumps(plan.build_outputs(live, book)))
    stored["revision"] = float(stored["revision"])  # numbers come back from state as floats
    again = plan.Bookkeeping.from_outputs(stored)
    assert again == book
    assert (again.revision, again.touched) == (2, ("name", "protocol"))


def test_refreshed_inputs_hold_only_managed_properties() -> None:
    live = plan.live_from_api(DESCRIBE)
    outputs = plan.build_outputs({**live, "name": "drifted"}, plan.Bookkeeping.adopting(["name"], "retain", live))
    inputs = plan.refreshed_inputs(outputs)
    assert inputs["name"] == "drifted" and inputs["listener_id"] == "lsr-1"
    assert "description" not in inputs  # unmanaged stays out of the inputs


def test_canonical_is_idempotent() -> None:
    for ranges in (DESCRIBE["PortRanges"], DESCRIBE["PortRanges"][::-1]):
        live = plan.live_from_api({**DESCRIBE, "PortRanges": ranges})
        for field, value in live.items():
            if field in plan.API_NAMES:
                assert plan.canonical(field, value) == value


def test_a_malformed_api_answer_normalises_without_raising() -> None:
    body = {**DESCRIBE, "PortRanges": [{"FromPort": "x", "ToPort": None}, "junk"], "IdleTimeout": "1e999",
            "Certificates": ["c-1"], "XForwardedForConfig": "on"}
    live = plan.live_from_api(body)
    assert live["port_ranges"] == [{"from_port": None, "to_port": None}]
    assert (live["idle_timeout"], live["certificates"], live["forwarded_for_config"]) == (None, [], None)
    assert plan.changed_fields(desired(), live) == ["port_ranges"]  # shows as a diff instead
