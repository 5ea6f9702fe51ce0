"""The secret and the STS token never appear in a log line (ours or urllib3's), an exception's text, its
traceback chain or a repr, even when a hostile server echoes them back."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator

import pytest

from ga_listener.api.client import GaClient, RetryPolicy
from ga_listener.transport.errors import GaListenerError
from tests.client.conftest import SECRET, TOKEN, MakeClient
from tests.client.scripted_server import DROP, ScriptedServer, Step, answer, api_error
from tests.support.secrets import Scanner

leaks = Scanner([SECRET, TOKEN]).leaks


def echo(status: int = 400) -> Step:
    """A hostile answer that repeats the secret and the token in every field it has."""
    return api_error("SignatureDoesNotMatch", status, message=f"secret {SECRET} token {TOKEN}")


HOSTILE_STEPS = [
    echo(),
    answer(body={"RequestId": "r", "Code": "InvalidParameter", "Message": TOKEN, "Recommend": SECRET}),
    answer(502, raw=f"<html><title>{SECRET}</title>{TOKEN}</html>".encode()),
    answer(200, raw=f"not json {TOKEN} {SECRET}".encode()),
    answer(200, raw=("{" + json.dumps(SECRET)).encode()),
    answer(200, raw=("x" * 50 + SECRET).encode()),  # cut short inside the secret
    answer(503, body={"RequestId": SECRET, "Code": f"Internal{TOKEN}", "Message": "m"}),
    answer(400, body={"Code": "InvalidParameter", "Message": "m"},
           headers={"Content-Type": "application/json", "x-acs-request-id": TOKEN}),
    answer(200, raw=b"", headers={"x-acs-request-id": SECRET}),
]


def failures(make_client: MakeClient, server: ScriptedServer, version: str) -> Iterator[BaseException]:
    """Provoke every kind of failure and yield the exceptions."""
    client = make_client(signature_version=version, security_token=TOKEN, retry=RetryPolicy(max_attempts=1))
    for step in HOSTILE_STEPS:
        server.add(step)
        try:
            client.call("UpdateListener", {"ListenerId": "lsr-1", "ClientToken": "t"})
        except GaListenerError as error:
            yield error
    for step in (DROP, answer(delay=0.3)):
        server.add(step)
        try:
            once = RetryPolicy(max_attempts=1)
            make_client(
                signature_version=version, security_token=TOKEN, read_timeout=0.05, retry=once
            ).describe_listener("l")
        except GaListenerError as error:
            yield error
    server.add(api_error("Throttling", 429, headers={"Retry-After": "999"}))
    try:
        client.describe_listener("l")
    except GaListenerError as error:
        yield error


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error)), repr(vars(error))]


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_no_secret_in_logs_errors_or_reprs(
    server: ScriptedServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture, version: str
) -> None:
    caplog.set_level(logging.DEBUG)  # root: urllib3's request lines are captured too
    client = make_client(signature_version=version, security_token=TOKEN)
    client.update_listener("lsr-1", {"Name": SECRET[:5]}, client_token="t")
    errors = list(failures(make_client, server, version))
    assert len(errors) == len(HOSTILE_STEPS) + 3
    for error in errors:
        for text in texts_of(error):
            found = len(leaks(text))  # counted apart: a failure report must not print the credential
            assert found == 0, f"a credential in the text of {type(error).__name__}"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "canonical request" in logged and "string to sign" in logged  # the debug log did run
    assert "urllib3" in {record.name.split(".")[0] for record in caplog.records}
    found = len(leaks(logged)) + len(leaks(repr(client))) + len(leaks(str(client)))
    assert found == 0, "a credential in the log or the client's repr"


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_the_token_is_masked_not_dropped_in_the_debug_log(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture, version: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="ga_listener.client")
    make_client(signature_version=version, security_token=TOKEN).describe_listener("l")
    logged = caplog.text
    marker = "x-acs-security-token:***" if version == "v3" else "SecurityToken=***"
    assert marker in logged


def test_debug_logging_is_off_by_default(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    make_client().describe_listener("l")
    assert not any(r.name == "ga_listener.client" for r in caplog.records)
    assert logging.getLogger("ga_listener.client").getEffectiveLevel() > logging.DEBUG


def test_short_secrets_do_not_mangle_the_log(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ga_listener.client")
    make_client(access_key_secret="sec", security_token="tok").describe_listener("l")
    assert "x-acs-security-token:***" in caplog.text


def test_a_client_is_never_pickled() -> None:
    import pickle

    import dill

    client = GaClient("http://127.0.0.1:1", access_key_id="id", access_key_secret="never-in-a-pickle")
    for dump in (pickle.dumps, dill.dumps):
        with pytest.raises(TypeError, match="never pickled"):
            dump(client)


@pytest.mark.parametrize("line", [
    "/latest?token=pipe%7Csecret123", "/creds?token=a%20b%2Bsecret123&x=1", "/?SecurityToken=secret123",
])
def test_urllib3_request_lines_never_show_a_query(line: str) -> None:
    """urllib3 logs each request's path and query as sent (re-encoded): any query is masked, whatever it holds."""
    import logging

    from ga_listener.transport.wire import URL_FILTER

    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, "", 0, '%s://%s:%s "%s %s %s" %s %s',
                               ("http", "127.0.0.1", 80, "GET", line, "HTTP/1.1", 200, 18), None)
    URL_FILTER.filter(record)
    assert "secret123" not in record.getMessage() and "?***" in record.getMessage()
