"""Hostile answers reaching the provider through the real host: a clear, typed last line, never a hang.

tests/client pins how GaClient classifies each hostile answer; here the same answers come through the whole
stack (engine -> gRPC -> host -> provider -> client -> loopback HTTP), at each step where the provider calls
the API, and what the user reads is checked: the last line of the failure names our error type, the
operation, the API action, the HTTP status or endpoint, and never carries the raw body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.hostile_server import LISTENER, LISTENER_ID, NORMAL, HostileServer, Reply, json_reply
from tests.reliability.support import in_thread
from tests.support.provider_host import Engine, ProviderError

INPUTS: dict[str, Any] = {"listener_id": LISTENER_ID, "protocol": "tcp",
                          "port_ranges": [{"from_port": 80, "to_port": 80}]}
CHANGED: dict[str, Any] = {**INPUTS, "name": "changed"}
TYPED = re.compile(r"^ga_listener\.[a-z_.]+\.[A-Za-z]+Error: \S")
RAW_MARKERS = ("<html", "<?xml", "<title", '{"', "\\n")
NO_HANG = 150.0  # seconds; only a guard: the client's own budget ends every call long before

HTML_LOGIN = Reply(200, b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form/></body></html>",
                   {"Content-Type": "text/html"})
HTML_502 = Reply(502, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                 {"Content-Type": "text/html"})
XML_PAGE = Reply(200, b'<?xml version="1.0"?><Error><Code>Forbidden</Code></Error>', {"Content-Type": "text/xml"})
TRUNCATED = Reply(200, b'{"RequestId": "req-t", "ListenerId": "lsr-1", "PortRanges": [{"FromPo')
EMPTY = Reply(200, b"")
GARBAGE = Reply(200, b"x" * 2_000_000, {"Content-Type": "application/octet-stream"})
DROP = Reply(drop=True)
CODE_IN_200 = json_reply({"RequestId": "req-code-in-200", "Code": "Forbidden.RAM",
                          "Message": "not allowed\nTraceback (most recent call last):\n  File \"fake\""})


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as started:
        yield started


def engine_for(server: HostileServer, wait_timeout: str = "30") -> Engine:
    return Engine.for_endpoint(server.url, "hostile-key-id", "hostile-secret", wait_timeout=float(wait_timeout))


def failure_of(operation: Any) -> ProviderError:
    """Run ``operation`` (bounded by a generous guard against hangs) and return the ProviderError it raises."""
    outcome = in_thread(operation)
    try:
        outcome.result(timeout=NO_HANG)
    except ProviderError as error:
        return error
    raise AssertionError("the operation succeeded against a hostile server")


def assert_clear(error: ProviderError, *fragments: str) -> str:
    """The last line is one of our typed errors, short, naming ``fragments``, without the raw answer."""
    last = error.last_line
    assert TYPED.match(last), last
    assert len(last) <= 600, f"{len(last)} characters"
    for fragment in fragments:
        assert fragment in last, f"{fragment!r} not in {last!r}"
    assert not [marker for marker in RAW_MARKERS if marker in last], last
    return last


# (id, reply, what the last line names)
ADOPT_CASES = [
    ("html-200", HTML_LOGIN, ["HTTP 200", "HTML/XML page titled 'Sign in'"]),
    ("xml-200", XML_PAGE, ["HTTP 200", "HTML/XML page"]),
    ("truncated-json", TRUNCATED, ["HTTP 200", "truncated or invalid JSON"]),
    ("empty-200", EMPTY, ["HTTP 200", "an empty body"]),
    ("2MB-garbage", GARBAGE, ["HTTP 200", "non-JSON text"]),
    ("code-in-200", CODE_IN_200, ["Forbidden.RAM", "req-code-in-200", "HTTP 200"]),
]


@pytest.mark.parametrize(("reply", "fragments"), [c[1:] for c in ADOPT_CASES], ids=[c[0] for c in ADOPT_CASES])
def test_hostile_describe_at_adoption_fails_with_a_clear_typed_line(
    server: HostileServer, reply: Reply, fragments: list[str]
) -> None:
    """Proves: each hostile DescribeListener answer during `up` of a new resource ends as one typed line naming
    the operation, the action and what came back (and the endpoint, for an answer that is not the API's);
    none of these is retried (no retry can cure them: tests below cover the ones that are); nothing is written."""
    server.hostile["DescribeListener"] = reply
    error = failure_of(lambda: engine_for(server).up("l", INPUTS))
    last = assert_clear(error, "adopt of listener lsr-1 failed", "DescribeListener", *fragments)
    if reply.body[:1] != b"{":
        assert server.url in last  # a non-API answer names where it came from
    assert server.count("DescribeListener") == 1
    assert server.count("UpdateListener") == 0


def test_a_burst_of_gateway_errors_at_adoption_is_ridden_out(server: HostileServer) -> None:
    """Proves: two HTML 502 pages from a proxy in front of the API, then the real answer: the adoption retries
    and succeeds, and the outputs carry what the real answer said (a transient 5xx never reaches the user)."""
    server.queue("DescribeListener", HTML_502, HTML_502)
    engine = engine_for(server)
    engine.up("l", INPUTS)
    assert server.count("DescribeListener") == 3
    assert engine.state["l"].outputs["listener_id"] == LISTENER_ID


def adopted(server: HostileServer, wait_timeout: str = "30") -> Engine:
    """An engine whose stack already holds the listener (adopted while the server behaved)."""
    engine = engine_for(server, wait_timeout)
    engine.up("l", {**INPUTS, "on_delete": "restore"})
    return engine


@pytest.mark.parametrize(("reply", "fragments", "retried"), [
    (CODE_IN_200, ["Forbidden.RAM", "req-code-in-200"], False),
    (EMPTY, ["HTTP 200", "an empty body"], False),
    (HTML_502, ["HTTP 502", "HTML/XML page"], True),
    (DROP, ["connection failed"], True),
], ids=["code-in-200", "empty-200", "html-502", "dropped"])
def test_hostile_update_answer_fails_the_update_clearly(
    server: HostileServer, reply: Reply, fragments: list[str], retried: bool
) -> None:
    """Proves: a hostile UpdateListener answer fails `up` of a change with a typed line naming the update and
    the action; answers a retry may cure are retried (with the same ClientToken, so safely) until
    ga-listener:waitTimeout (3 s here) at most; and the provider does not go on to wait for a change it cannot
    know was applied: a refusal ends it there (one read just before the write), an answer that leaves it open
    whether the write was applied is followed by putting back what the listener had (one more read, then the
    old values under another token, which meet the same answer), never by polls for the change."""
    engine = adopted(server, wait_timeout="3")
    server.hostile["UpdateListener"] = reply
    before, written_before = server.count("DescribeListener"), len(server.writes())
    error = failure_of(lambda: engine.up("l", {**CHANGED, "on_delete": "restore"}))
    assert_clear(error, "update of listener lsr-1 failed", "UpdateListener", *fragments)
    change, *rest = server.writes()[written_before:]
    attempts = [token for token in rest if token == change]
    assert bool(attempts) == retried  # retried with the same token
    refused = reply is CODE_IN_200
    assert len({token for token in rest if token != change}) == (0 if refused else 1)  # the putting back
    assert server.count("DescribeListener") == before + (1 if refused else 2)
    assert server.seen[-1] == "UpdateListener"


def test_a_write_slower_than_the_wait_deadline_is_cut_at_wait_timeout(server: HostileServer) -> None:
    """Proves: an UpdateListener answer that never comes in time is abandoned at ga-listener:waitTimeout (2 s
    here, far below the client's 10 s read timeout), once, with a line saying the deadline passed."""
    engine = adopted(server, wait_timeout="2")
    server.hostile["UpdateListener"] = Reply(body=b'{"RequestId": "late"}', delay=30)
    error = failure_of(lambda: engine.up("l", {**CHANGED, "on_delete": "restore"}))
    assert_clear(error, "update of listener lsr-1 failed", "UpdateListener", "deadline", "read timed out")
    assert len(server.writes()) == 2  # the change once, then putting back the old values (as late: cut too)


def test_a_poll_slower_than_the_wait_deadline_is_cut_at_wait_timeout(server: HostileServer) -> None:
    """Proves: after the write, a DescribeListener poll that does not answer within ga-listener:waitTimeout (2 s)
    ends the wait at that deadline with a line saying so, rather than being given the client's own budget
    (10 s read timeout, 5 attempts, 60 s) and then, here, succeeding on the next attempt long after the deadline.
    Only the first poll is slow, so a provider that lets polls outlive the deadline shows it by succeeding."""
    engine = adopted(server, wait_timeout="2")
    # The read just before the write is answered normally; the first poll after it is the slow one.
    server.queue("DescribeListener", NORMAL["DescribeListener"], Reply(body=b'{"RequestId": "late"}', delay=30))
    started = time.monotonic()
    error = failure_of(lambda: engine.up("l", {**CHANGED, "on_delete": "restore"}))
    assert time.monotonic() - started < 15  # neither the slow poll's 30 s nor the client's own budget
    last = assert_clear(error, "update of listener lsr-1 failed")
    assert "deadline" in last or "waitTimeout" in last, last
    assert "put back" in last  # the write was answered: what the listener had is put back
    assert len(set(server.writes())) == 2  # the change once, then the old values under another token


def test_hostile_answer_on_refresh_is_clear(server: HostileServer) -> None:
    """Proves: `refresh` against an endpoint answering truncated JSON fails with a typed line naming the action
    and the HTTP status (and keeps the resource: a broken answer is not "the listener is gone")."""
    engine = adopted(server)
    server.hostile["DescribeListener"] = TRUNCATED
    error = failure_of(lambda: engine.refresh("l"))
    assert_clear(error, "refresh of listener lsr-1 failed", "DescribeListener", "HTTP 200", "truncated or invalid JSON")
    assert "l" in engine.state


def test_hostile_answer_on_restore_destroy_is_clear(server: HostileServer) -> None:
    """Proves: `destroy` with on_delete=restore against an endpoint answering an HTML login page fails with a
    typed line naming the restore, the action and the endpoint, and keeps the resource (not a silent success)."""
    engine = adopted(server)
    server.hostile["DescribeListener"] = HTML_LOGIN
    error = failure_of(lambda: engine.destroy("l"))
    assert_clear(error, "restore of listener lsr-1 failed", "DescribeListener", server.url, "HTML/XML page")
    assert "l" in engine.state


def test_json_with_the_wrong_content_type_is_read_as_json(server: HostileServer) -> None:
    """Proves: a correct JSON answer labelled text/html (proxies relabel) is still read: the adoption succeeds
    and the outputs carry what the body said."""
    body = {"RequestId": "r", **LISTENER, "Name": "from-html-typed"}
    server.hostile["DescribeListener"] = json_reply(body, content_type="text/html; charset=gbk")
    engine = engine_for(server)
    engine.up("l", INPUTS)
    assert engine.state["l"].outputs["name"] == "from-html-typed"
