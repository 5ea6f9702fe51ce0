"""Retries over real HTTP with an injected clock: what is retried, the backoff sequence, Retry-After, the
deadline, ClientToken reuse and a fresh signature per attempt."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ga_listener.api import client as client_module
from ga_listener.api.client import GaClient, RetryPolicy, is_connection_error, is_server_error, is_throttled
from ga_listener.api.errors import ApiError, AuthenticationError, ListenerNotActiveError, ServerError, ThrottledError
from ga_listener.transport.errors import ConfigurationError, DeadlineExceededError, ResponseError, TransportError
from tests.client.conftest import KEY_ID, SECRET, MakeClient
from tests.client.scripted_server import DROP, ScriptedServer, Step, answer, api_error
from tests.client.wire import sdk_accepts
from tests.support.clock import FakeClock

# --- the policy on its own -----------------------------------------------------------------------------------


def test_full_jitter_backoff_sequence_is_exponential_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=8.0)
    assert [policy.delay(n, 0.5) for n in range(1, 10)] == [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert [policy.delay(n, 0.0) for n in range(1, 4)] == [0.0, 0.0, 0.0]


def test_retry_after_is_a_floor_not_a_cap() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=8.0)
    assert policy.delay(1, 0.5, retry_after=3.0) == 3.0
    assert policy.delay(6, 0.9, retry_after=0.1) == pytest.approx(7.2)


@given(
    attempt=st.integers(1, 5000),
    rand=st.floats(0, 1, exclude_max=True),
    base=st.floats(0, 5),
    cap=st.floats(0, 30),
    retry_after=st.none() | st.floats(0.001, 100),
)
def test_delay_is_within_zero_and_the_cap_or_the_servers_wish(
    attempt: int, rand: float, base: float, cap: float, retry_after: float | None
) -> None:
    delay = RetryPolicy(base_delay=base, max_delay=cap).delay(attempt, rand, retry_after)
    assert (retry_after or 0.0) <= delay <= max(cap, retry_after or 0.0)


def test_policy_checks_are_by_code_and_status_only() -> None:
    throttled = ThrottledError("Throttling.User", "the message says server error, retry later", http_status=400)
    assert is_throttled(throttled) and not is_server_error(throttled)
    worded = AuthenticationError("Forbidden.RAM", "Throttling, service unavailable, please retry", http_status=403)
    assert not any(check(worded) for check in (is_throttled, is_server_error, is_connection_error))
    assert is_server_error(ResponseError("html", http_status=502)) and is_throttled(ResponseError("x", http_status=429))
    assert not is_connection_error(TransportError("tls", retryable=False))


def test_the_client_module_exports() -> None:
    assert sorted(client_module.__all__) == [
        "API_VERSION",
        "DEFAULT_CHECKS",
        "DEFAULT_ENDPOINT",
        "GaClient",
        "RetryPolicy",
        "WRITE_ACTIONS",
        "is_connection_error",
        "is_server_error",
        "is_throttled",
        "is_transient_state",
    ]


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


# --- the client over HTTP ---------------------------------------------------------------------------------


def test_backoff_sequence_through_the_client(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.default = api_error("Throttling.User")
    client = make_client(retry=RetryPolicy(max_attempts=6, base_delay=0.1, max_delay=1.0), random=lambda: 0.5)
    with pytest.raises(ThrottledError):
        client.describe_listener("lsr-1")
    assert fake_clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.5]
    assert len(server.requests) == 6


def test_randomness_is_drawn_once_per_retry(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.add(api_error("Throttling"), api_error("Throttling"), answer())
    draws = iter([0.1, 0.9])
    make_client(random=lambda: next(draws)).describe_listener("lsr-1")
    assert fake_clock.sleeps == pytest.approx([0.01, 0.18])


FAULTS = {
    "throttling 400": api_error("Throttling"),
    "rejected throttling": api_error("Rejected.Throttling"),
    "x-acs-retry-after on any code": api_error("Flow.Limited", 400, headers={"x-acs-retry-after": "20"}),
    "throttling 429 no body": answer(429, raw=b""),
    "throttling 503": api_error("Throttling.Api", 503),
    "service unavailable": api_error("ServiceUnavailable", 503),
    "internal error": api_error("InternalError", 500),
    "html 502": answer(502, raw=b"<html><title>502 Bad Gateway</title></html>"),
    "dropped connection": DROP,
    "cut-off answer": Step("short", body=b'{"ListenerId":'),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_transient_failures_converge(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock, fault: Step
) -> None:
    server.add(fault, fault, answer())
    assert make_client().describe_listener("lsr-1")["ListenerId"] == "lsr-1"
    assert len(server.requests) == 3
    assert len(fake_clock.sleeps) == 2


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("NotExist.Listener", 400),
        ("SignatureDoesNotMatch", 400),
        ("InvalidAccessKeyId.NotFound", 404),
        ("InvalidTimeStamp.Expired", 400),
        ("SignatureNonceUsed", 400),
        ("PortConflict.Listener", 400),
        ("IdempotenceParamNotMatch", 400),
        ("Forbidden.RAM", 403),
        ("InvalidParameter", 400),
        ("NotActive.Listener", 400),
        ("StateError.Accelerator", 400),
        ("StateError.Listener", 400),
        ("Flow.Limited", 400),  # a neutral code without x-acs-retry-after is no throttling
    ],
)
def test_a_non_retryable_error_makes_exactly_one_request(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock, code: str, status: int
) -> None:
    server.default = api_error(code, status)
    with pytest.raises(ApiError, match=code.replace(".", r"\.")):
        make_client().call("UpdateListener", {"ListenerId": "lsr-1"})
    assert len(server.requests) == 1
    assert fake_clock.sleeps == []


def test_transient_states_are_retried_when_asked(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(api_error("NotActive.Listener"), api_error("StateError.Accelerator"), api_error("StateError.Listener"),
               answer(body={"RequestId": "ok"}))
    body = make_client().update_listener("lsr-1", {"Name": "n"}, client_token="t")
    assert body == {"RequestId": "ok"}
    assert len(server.requests) == 4


def test_x_acs_retry_after_is_honoured_in_milliseconds(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.add(api_error("Flow.Limited", 400, headers={"x-acs-retry-after": "1500"}), answer())
    make_client(random=lambda: 0.0).describe_listener("lsr-1")
    assert fake_clock.sleeps == [1.5]


def test_describe_gives_up_on_unknown_error_after_a_few_attempts(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    """UnknownError may mean the listener is gone (Terraform reads it as NotExist.Listener): the caller
    confirms with ListListeners rather than retrying until its deadline. Other actions retry it as usual."""
    server.default = api_error("UnknownError", 500)
    with pytest.raises(ServerError, match="UnknownError"):
        make_client(retry=RetryPolicy(max_attempts=8)).describe_listener("lsr-1")
    assert len(server.requests) == client_module.UNKNOWN_ERROR_ATTEMPTS < 8
    server.requests.clear()
    with pytest.raises(ServerError):
        make_client(retry=RetryPolicy(max_attempts=8)).call("UpdateListener", {"ListenerId": "l"})
    assert len(server.requests) == 8


def test_transient_state_retries_end_at_the_deadline_not_at_max_attempts(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.default = api_error("NotActive.Listener")
    client = make_client(retry=RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=1.0))
    with pytest.raises(DeadlineExceededError) as caught:
        client.call("UpdateListener", {"ListenerId": "l"}, retry_transient_states=True, deadline=fake_clock() + 5)
    assert isinstance(caught.value.__cause__, ListenerNotActiveError)
    assert len(server.requests) > 2
    assert sum(fake_clock.sleeps) < 5


def test_max_attempts_ends_with_the_last_error_itself(server: ScriptedServer, make_client: MakeClient) -> None:
    server.default = api_error("ServiceUnavailable", 503)
    with pytest.raises(ServerError):
        make_client(retry=RetryPolicy(max_attempts=3)).describe_listener("l")
    assert len(server.requests) == 3


# --- ClientToken, fresh signatures ---------------------------------------------------------------------------


def test_a_retried_write_reuses_its_client_token(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(api_error("ServiceUnavailable", 503), DROP, api_error("Throttling"), answer(body={"RequestId": "ok"}))
    make_client().update_listener("lsr-1", {"Name": "n"}, client_token="token-1")
    assert [r.query["ClientToken"] for r in server.requests] == ["token-1"] * 4


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_a_generated_client_token_is_the_same_on_every_retry_and_new_per_call(
    server: ScriptedServer, make_client: MakeClient, version: str
) -> None:
    client = make_client(signature_version=version)
    server.add(api_error("InternalError", 500), answer(body={"RequestId": "1"}), answer(body={"RequestId": "2"}))
    client.call("UpdateListener", {"ListenerId": "lsr-1"})
    client.call("UpdateListener", {"ListenerId": "lsr-1"})
    tokens = [r.query["ClientToken"] for r in server.requests]
    assert tokens[0] == tokens[1] != tokens[2]
    assert all(len(t) == 32 and t.isascii() for t in tokens)


def test_reads_carry_no_client_token(server: ScriptedServer, make_client: MakeClient) -> None:
    make_client().describe_listener("lsr-1")
    assert "ClientToken" not in server.requests[0].query


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_every_attempt_has_a_fresh_timestamp_nonce_and_signature(
    server: ScriptedServer, make_client: MakeClient, version: str
) -> None:
    seconds = itertools.count(1_700_000_000, 61)
    server.add(api_error("Throttling"), api_error("Throttling"), answer())
    make_client(signature_version=version, wall_clock=lambda: float(next(seconds))).describe_listener("l")
    seen = server.requests
    if version == "v3":
        stamps = [r.headers["x-acs-date"] for r in seen]
        nonces = [r.headers["x-acs-signature-nonce"] for r in seen]
        signatures = [r.headers["authorization"] for r in seen]
    else:
        stamps = [r.query["Timestamp"] for r in seen]
        nonces = [r.query["SignatureNonce"] for r in seen]
        signatures = [r.query["Signature"] for r in seen]
    assert stamps == ["2023-11-14T22:13:20Z", "2023-11-14T22:14:21Z", "2023-11-14T22:15:22Z"]
    assert len(set(nonces)) == 3 and len(set(signatures)) == 3
    assert all(sdk_accepts(r, key_id=KEY_ID, secret=SECRET) for r in seen)


# --- Retry-After and the deadline ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "3"}, 3.0), ({"x-acs-retry-after": "1500"}, 1.5), ({"Retry-After": "Wed, 21 Oct"}, 0.05)],
)
def test_retry_after_is_honoured(
    server: ScriptedServer,
    make_client: MakeClient,
    fake_clock: FakeClock,
    headers: dict[str, str],
    expected: float,
) -> None:
    server.add(api_error("Throttling", 503, headers=headers), answer())
    make_client().describe_listener("l")
    assert fake_clock.sleeps == [expected]


def test_a_retry_after_beyond_the_deadline_fails_at_once(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.add(api_error("Throttling", 429, headers={"Retry-After": "120"}))
    with pytest.raises(DeadlineExceededError) as caught:
        make_client().call("DescribeListener", {"ListenerId": "l"}, deadline=fake_clock() + 60)
    assert isinstance(caught.value.__cause__, ThrottledError)
    assert fake_clock.sleeps == [] and len(server.requests) == 1


def test_the_overall_deadline_is_honoured(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    server.default = api_error("ServiceUnavailable", 503)
    client = make_client(retry=RetryPolicy(max_attempts=100, base_delay=0.5, max_delay=4.0, total_timeout=10.0))
    start = fake_clock()
    with pytest.raises(DeadlineExceededError) as caught:
        client.describe_listener("l")
    error = caught.value
    assert isinstance(error.__cause__, ServerError)
    assert fake_clock() - start < 10.0
    assert error.attempts == len(server.requests) > 3
    assert "DescribeListener did not succeed before its deadline" in str(error)
    assert "ServiceUnavailable" in str(error)


def test_a_deadline_already_passed_sends_nothing(
    server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock
) -> None:
    with pytest.raises(DeadlineExceededError) as caught:
        make_client().call("DescribeListener", {"ListenerId": "l"}, deadline=fake_clock() - 1)
    assert server.requests == [] and caught.value.attempts == 0 and caught.value.__cause__ is None


def test_the_deadline_cuts_a_slow_answer_on_the_real_clock(server: ScriptedServer) -> None:
    server.add(answer(delay=1.0))
    client = GaClient(server.url, access_key_id=KEY_ID, access_key_secret=SECRET, read_timeout=30.0)
    start = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught, client:
        client.call("DescribeListener", {"ListenerId": "l"}, deadline=start + 0.2)
    assert time.monotonic() - start < 0.9  # the answer would have taken 1 s; the read timeout was 30 s
    assert isinstance(caught.value.__cause__, TransportError)
