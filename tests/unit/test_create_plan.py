"""What a create carries and how a listener nobody touched looks: the pure half of creating.

Finding a listener by its identity depends on one property: the identity sent for the wanted configuration and
the identity rebuilt from the service's answer about the listener it made are the same parameters, however the
answer spells them (upper-case protocol, ports as text, in any order, certificates with their type).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ga_listener.config import plan
from ga_listener.config.validation import validate_inputs
from ga_listener.lifecycle.create_plan import create_token, identity_params, next_create_token, touched_since_created

PORTS = st.integers(min_value=1, max_value=6000)


def wanted_of(inputs: dict[str, Any]) -> dict[str, Any]:
    config, violations = validate_inputs(inputs)
    assert config is not None, violations
    return plan.desired_values(config)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    protocol = draw(st.sampled_from(["tcp", "udp", "http", "https", "TCP", "Https"]))
    if protocol.lower() in ("http", "https"):
        port = draw(PORTS)
        ports = [{"from_port": port, "to_port": port}]
    else:
        starts = sorted(draw(st.sets(st.integers(min_value=1000, max_value=5000), min_size=1, max_size=4)))
        ports = [{"from_port": start * 10, "to_port": start * 10 + draw(st.integers(0, 9))} for start in starts]
    inputs: dict[str, Any] = {"accelerator_id": "ga-1", "protocol": protocol,
                              "port_ranges": draw(st.permutations(ports))}
    if protocol.lower() == "https":
        inputs["certificates"] = [{"id": draw(st.sampled_from(["cert-1", "cert-2"]))}]
    return inputs


def answer_for(wanted: dict[str, Any], text_ports: bool) -> dict[str, Any]:
    """The listener as DescribeListener (or ListListeners) spells it."""
    ranges = [{"FromPort": str(r["from_port"]) if text_ports else r["from_port"], "ToPort": r["to_port"]}
              for r in reversed(wanted["port_ranges"])]
    body: dict[str, Any] = {"ListenerId": "lsr-1", "State": "active", "Protocol": wanted["protocol"].upper(),
                            "PortRanges": ranges, "ClientAffinity": "NONE", "ProxyProtocol": False}
    if wanted["protocol"] == "https":
        body["Certificates"] = [{"Id": c["id"], "Type": "Server"} for c in wanted["certificates"]]
    return body


@given(configurations(), st.booleans())
def test_the_identity_rebuilt_from_the_answer_is_the_identity_sent(inputs: dict[str, Any], text_ports: bool) -> None:
    wanted = wanted_of(inputs)
    sent = identity_params(wanted)
    assert identity_params(plan.live_from_api(answer_for(wanted, text_ports))) == sent
    assert set(sent) <= {"Protocol", "PortRanges", "Certificates"}


def test_tokens_depend_on_the_resource_and_accelerator_only_and_chain_without_repeating() -> None:
    first = create_token("p/s/api", "ga-1")
    assert first == create_token("p/s/api", "ga-1") != create_token("p/s/api", "ga-2") != create_token("p/s/x", "ga-1")
    chain = [first]
    for _ in range(40):
        chain.append(next_create_token(chain[-1]))
    assert len(set(chain)) == len(chain)
    assert all(len(token) <= 64 and token.isascii() for token in chain)


FRESH_TCP = plan.live_from_api({"Protocol": "TCP", "PortRanges": [{"FromPort": 80, "ToPort": 80}], "Name": "",
                                "Description": "", "IdleTimeout": 900, "ProxyProtocol": False})
TOUCHED_VALUES = {"name": "someone", "description": "theirs", "client_affinity": "SOURCE_IP", "proxy_protocol": True,
                  "idle_timeout": 300}


def test_a_listener_showing_only_what_a_create_leaves_or_the_resource_wants_is_untouched() -> None:
    assert touched_since_created(FRESH_TCP, {}) == []
    wanted = {"name": "api", "idle_timeout": 300, "proxy_protocol": True}
    assert touched_since_created({**FRESH_TCP, **wanted}, wanted) == []  # a create that finished
    assert touched_since_created({**FRESH_TCP, "name": "api"}, wanted) == []  # property by property


@given(st.sampled_from(sorted(TOUCHED_VALUES)), st.booleans())
def test_a_value_neither_new_nor_wanted_marks_the_listener_touched(name: str, wanted_elsewhere: bool) -> None:
    wanted = {"name": "api"} if wanted_elsewhere and name != "name" else {}
    live = {**FRESH_TCP, name: TOUCHED_VALUES[name]}
    assert touched_since_created(live, wanted) == [name]
    assert touched_since_created(live, {name: TOUCHED_VALUES[name]}) == []  # unless the resource wants it
