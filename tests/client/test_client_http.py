"""GaClient over real loopback HTTP: the wire format of both signature versions, hostile answers, connection
reuse, threads, endpoints and the typed operations."""

from __future__ import annotations

import threading

import pytest

from ga_listener.api.client import DEFAULT_ENDPOINT, GaClient, RetryPolicy
from ga_listener.api.errors import AuthenticationError, ListenerNotFoundError, PortConflictError
from ga_listener.transport.errors import ConfigurationError, CredentialsNotFoundError, ResponseError, TransportError
from tests.client.conftest import KEY_ID, SECRET, TOKEN, MakeClient
from tests.client.scripted_server import LISTENER, ScriptedServer, Step, answer, api_error
from tests.client.wire import sdk_accepts
from tests.support.clock import FakeClock, free_port

TRICKY = "名字 a+b/c=d&e*~%20😀"


def test_v3_puts_params_in_the_query_of_a_post_and_the_sdk_verifies_it(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    client = make_client(security_token=TOKEN)
    client.call("UpdateListener", {"ListenerId": "lsr-1", "Name": TRICKY, "ClientToken": "t-1"})
    [seen] = server.requests
    assert (seen.method, seen.path.split("?")[0], seen.body) == ("POST", "/", b"")
    assert seen.query == {"ListenerId": "lsr-1", "Name": TRICKY, "ClientToken": "t-1", "RegionId": "cn-hangzhou"}
    assert seen.headers["x-acs-action"] == "UpdateListener"
    assert seen.headers["x-acs-version"] == "2019-11-20"
    assert seen.headers["x-acs-security-token"] == TOKEN
    assert seen.headers["host"] == server.url.removeprefix("http://")
    assert seen.headers["content-length"] == "0"
    assert seen.headers["authorization"].startswith(f"ACS3-HMAC-SHA256 Credential={KEY_ID},")
    assert seen.headers["accept"] == "application/json"  # as the official SDK sends it, and signed
    assert "accept" in seen.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert sdk_accepts(seen, key_id=KEY_ID, secret=SECRET)


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_delete_listener_carries_no_region_id_as_the_sdk_defines_none(
    server: ScriptedServer, make_client: MakeClient, version: str
) -> None:
    server.default = answer(body={"RequestId": "ok"})
    make_client(signature_version=version).delete_listener("ga-1", "lsr-1", client_token="t")
    [seen] = server.requests
    assert "RegionId" not in seen.query
    assert (seen.query["AcceleratorId"], seen.query["ListenerId"]) == ("ga-1", "lsr-1")
    assert sdk_accepts(seen, key_id=KEY_ID, secret=SECRET)


def test_v1_puts_every_param_and_the_signature_in_the_query_of_a_post(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    client = make_client(signature_version="v1", security_token=TOKEN)
    client.call("UpdateListener", {"ListenerId": "lsr-1", "Name": TRICKY, "ClientToken": "t-1"})
    [seen] = server.requests
    assert (seen.method, seen.body) == ("POST", b"")
    assert "authorization" not in seen.headers
    for key, value in {
        "Action": "UpdateListener",
        "Version": "2019-11-20",
        "Format": "JSON",
        "AccessKeyId": KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SecurityToken": TOKEN,
        "Name": TRICKY,
        "RegionId": "cn-hangzhou",
    }.items():
        assert seen.query[key] == value
    assert sdk_accepts(seen, key_id=KEY_ID, secret=SECRET)


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_wire_query_uses_rfc3986_encoding_like_the_signature(
    server: ScriptedServer, make_client: MakeClient, version: str
) -> None:
    make_client(signature_version=version).call("DescribeListener", {"ListenerId": "a b*~+"})
    raw = server.requests[0].raw_query
    assert "ListenerId=a%20b%2A~%2B" in raw
    assert sdk_accepts(server.requests[0], key_id=KEY_ID, secret=SECRET)


def test_nested_params_are_flattened_with_lowercase_booleans(server: ScriptedServer, make_client: MakeClient) -> None:
    changes = {
        "PortRanges": [{"FromPort": 80, "ToPort": 80}, {"FromPort": 443, "ToPort": 444}],
        "XForwardedForConfig": {"XRealIpEnabled": True, "XForwardedForPortEnabled": False},
        "Description": None,
    }
    make_client().update_listener("lsr-1", changes, client_token="tok")
    query = server.requests[0].query
    assert query["PortRanges.2.ToPort"] == "444"
    assert query["XForwardedForConfig.XRealIpEnabled"] == "true"
    assert query["XForwardedForConfig.XForwardedForPortEnabled"] == "false"
    assert "Description" not in query
    assert query["ClientToken"] == "tok"


def test_describe_returns_the_raw_body(make_client: MakeClient) -> None:
    assert make_client().describe_listener("lsr-1") == LISTENER


HOSTILE = [
    ("empty 200", answer(raw=b""), ResponseError, "an empty body"),
    ("whitespace 200", answer(raw=b"  \r\n"), ResponseError, "an empty body"),
    ("html 200", answer(raw=b"<html><title>Login</title></html>"), ResponseError, "HTML/XML page titled 'Login'"),
    ("html 403", answer(403, raw=b"<html>denied</html>"), ResponseError, "is the endpoint a GA API endpoint"),
    ("truncated json", answer(raw=b'{"ListenerId": "ls'), ResponseError, "truncated or invalid JSON"),
    ("plain text", answer(raw=b"OK"), ResponseError, "non-JSON text 'OK'"),
    ("json list", answer(raw=b"[1, 2]"), ResponseError, "a JSON list"),
    ("binary", answer(raw=b"\xff\xfe\x00garbage"), ResponseError, "non-JSON text"),
    ("no payload", answer(body={"RequestId": "r"}), ResponseError, "without ListenerId"),
    ("400 without Code", answer(400, {"RequestId": "r"}), ResponseError, "without an error Code"),
    (
        "200 with Code",
        answer(body={"RequestId": "r", "Code": "Forbidden.RAM", "Message": "not allowed"}),
        AuthenticationError,
        "Forbidden.RAM: not allowed",
    ),
]


@pytest.mark.parametrize(("answer_step", "error", "words"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_answers_become_clear_errors_after_one_request(
    server: ScriptedServer, make_client: MakeClient, answer_step: Step, error: type[Exception], words: str
) -> None:
    server.add(answer_step)
    with pytest.raises(error) as caught:
        make_client().describe_listener("lsr-1")
    assert words in str(caught.value)
    assert f"HTTP {answer_step.status}" in str(caught.value)
    assert getattr(caught.value, "http_status", None) == answer_step.status
    assert len(server.requests) == 1


def test_a_200_with_an_error_code_on_a_write_is_an_error(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(answer(body={"RequestId": "r", "Code": "PortConflict.Listener", "Message": "m"}))
    with pytest.raises(PortConflictError, match=r"PortConflict\.Listener"):
        make_client().update_listener("lsr-1", {"Name": "n"}, client_token="t")


def test_a_200_with_a_success_code_is_success(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(answer(body={"RequestId": "r", "Code": "200"}))
    assert make_client().update_listener("lsr-1", {"Name": "n"}, client_token="t")["RequestId"] == "r"


def test_api_errors_carry_what_the_service_said(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(api_error("NotExist.Listener", message="The listener does not exist."))
    with pytest.raises(ListenerNotFoundError) as caught:
        make_client().describe_listener("lsr-x")
    error = caught.value
    assert (error.code, error.request_id, error.http_status, error.action) == (
        "NotExist.Listener",
        "req-NotExist.Listener",
        400,
        "DescribeListener",
    )
    assert error.recommend == "https://api.aliyun.com/troubleshoot"
    assert str(error).startswith("DescribeListener failed: NotExist.Listener: The listener does not exist.")


def test_one_session_reuses_one_connection(server: ScriptedServer, make_client: MakeClient) -> None:
    client = make_client()
    for _ in range(20):
        client.describe_listener("lsr-1")
    assert server.connections == 1


def test_close_releases_connections_and_the_client_still_works(server: ScriptedServer, make_client: MakeClient) -> None:
    client = make_client()
    client.describe_listener("lsr-1")
    client.close()
    client.close()
    with client:
        client.describe_listener("lsr-1")
    assert server.connections == 2


def test_proxy_environment_is_ignored(
    server: ScriptedServer, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert make_client().describe_listener("lsr-1")["ListenerId"] == "lsr-1"


def test_a_remote_endpoint_uses_the_proxy_of_the_environment_read_once(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = GaClient(
        "https://ga.cn-hangzhou.aliyuncs.com",
        access_key_id="i",
        access_key_secret="secret-value",
        retry=RetryPolicy(max_attempts=2),
        clock=fake_clock,
        sleep=fake_clock.sleep,
    )
    with pytest.raises(TransportError):
        client.describe_listener("lsr-1")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # changes after the first call are not looked up
    with client, pytest.raises(TransportError):
        client.describe_listener("lsr-1")
    assert [(r.method, r.path) for r in server.requests] == [("CONNECT", "ga.cn-hangzhou.aliyuncs.com:443")] * 4


def test_no_proxy_is_honoured(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", ".aliyuncs.com")
    client = GaClient("https://ga.cn-hangzhou.aliyuncs.com", access_key_id="i", access_key_secret="s",
                      retry=RetryPolicy(max_attempts=1), connect_timeout=2, clock=fake_clock, sleep=fake_clock.sleep)
    with client, pytest.raises(TransportError):  # straight to the (unreachable) host, never through the proxy
        client.describe_listener("lsr-1")
    assert server.requests == []


def test_four_threads_share_one_client(server: ScriptedServer, make_client: MakeClient) -> None:
    client = make_client()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                assert client.describe_listener("lsr-1")["ListenerId"] == "lsr-1"
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(server.requests) == 100
    assert len({r.headers["x-acs-signature-nonce"] for r in server.requests}) == 100
    assert server.connections <= 4
    assert all(sdk_accepts(r, key_id=KEY_ID, secret=SECRET) for r in server.requests)


def test_list_listeners_follows_pages(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(
        answer(body={"Listeners": [{"ListenerId": "a"}, {"ListenerId": "b"}], "TotalCount": 3}),
        answer(body={"Listeners": [{"ListenerId": "c"}], "TotalCount": 3}),
    )
    found = make_client().list_listeners("ga-1", page_size=2)
    assert [item["ListenerId"] for item in found] == ["a", "b", "c"]
    assert [r.query["PageNumber"] for r in server.requests] == ["1", "2"]
    assert {r.query["AcceleratorId"] for r in server.requests} == {"ga-1"}


def test_list_listeners_stops_on_a_short_page_without_total(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(answer(body={"Listeners": [{"ListenerId": "a"}]}))
    assert len(make_client().list_listeners("ga-1", page_size=2)) == 1
    assert len(server.requests) == 1


def test_create_and_delete_send_their_ids_and_a_token(server: ScriptedServer, make_client: MakeClient) -> None:
    client = make_client()
    server.add(answer(body={"RequestId": "r", "ListenerId": "lsr-new"}), answer(body={"RequestId": "r2"}))
    created = client.create_listener("ga-1", {"Protocol": "tcp", "PortRanges": [{"FromPort": 1, "ToPort": 2}]})
    assert created["ListenerId"] == "lsr-new"
    client.delete_listener("ga-1", "lsr-new", client_token="del-1")
    create, delete = server.requests
    assert create.query["AcceleratorId"] == "ga-1" and create.query["PortRanges.1.ToPort"] == "2"
    assert len(create.query["ClientToken"]) == 32
    assert (delete.query["ListenerId"], delete.query["ClientToken"]) == ("lsr-new", "del-1")


def test_delete_of_a_missing_listener(server: ScriptedServer, make_client: MakeClient) -> None:
    client = make_client()
    server.add(api_error("NotExist.Listener"), api_error("NotExist.Listener"))
    assert client.delete_listener("ga-1", "gone", missing_ok=True) == {}
    with pytest.raises(ListenerNotFoundError):
        client.delete_listener("ga-1", "gone")


def test_a_slow_answer_is_cut_by_the_read_timeout(server: ScriptedServer, make_client: MakeClient) -> None:
    server.add(answer(delay=0.5))
    client = make_client(read_timeout=0.05, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(TransportError, match="read timed out") as caught:
        client.call("DescribeListener", {"ListenerId": "l"})
    assert caught.value.endpoint == server.url
    assert caught.value.retryable


def test_connection_refused_names_the_endpoint_after_its_retries(
    make_client: MakeClient, fake_clock: FakeClock
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TransportError) as caught:
        make_client(endpoint=endpoint).describe_listener("lsr-1")
    assert endpoint in str(caught.value) and "connection failed" in str(caught.value)
    assert len(fake_clock.sleeps) == 3  # max_attempts=4


def test_tls_failures_are_not_retried(server: ScriptedServer, make_client: MakeClient, fake_clock: FakeClock) -> None:
    with pytest.raises(TransportError, match="TLS failed") as caught:
        make_client(endpoint=server.url.replace("http://", "https://")).describe_listener("lsr-1")
    assert not caught.value.retryable
    assert fake_clock.sleeps == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8787",
        "http://127.9.9.9:1",
        "http://localhost:8787/",
        "http://[::1]:8787",
        "https://ga.cn-hangzhou.aliyuncs.com",
        "ga.cn-hangzhou.aliyuncs.com",
        "https://ga-vpc.example.com:8443/",
    ],
)
def test_accepted_endpoints(endpoint: str) -> None:
    client = GaClient(endpoint, access_key_id="i", access_key_secret="s")
    assert client.endpoint.startswith(("http://", "https://"))
    assert not client.endpoint.endswith("/")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://ga.cn-hangzhou.aliyuncs.com",
        "http://10.0.0.1:8787",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
        "https://host/path",
        "https://host/?q=1",
        "https://user:pw@host",
        "https://host:notaport",
        "https://",
    ],
)
def test_refused_endpoints_name_the_setting(endpoint: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        GaClient(endpoint, access_key_id="i", access_key_secret="s")
    assert caught.value.setting == "endpoint"
    assert "pw" not in str(caught.value)


def test_defaults_and_bad_settings() -> None:
    client = GaClient(access_key_id="i", access_key_secret="s")
    assert client.endpoint == DEFAULT_ENDPOINT
    assert (client.signature_version, client.region_id) == ("v3", "cn-hangzhou")
    with pytest.raises(ConfigurationError, match="signature version"):
        GaClient(access_key_id="i", access_key_secret="s", signature_version="v2")
    with pytest.raises(ConfigurationError, match="timeouts"):
        GaClient(access_key_id="i", access_key_secret="s", read_timeout=0)


def test_without_credentials_the_chain_is_used_and_reports_where_it_looked() -> None:
    with pytest.raises(CredentialsNotFoundError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        GaClient()


def test_credentials_come_from_the_environment_when_not_given(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
    with GaClient(server.url) as client:
        client.describe_listener("lsr-1")
    assert sdk_accepts(server.requests[0], key_id="env-id", secret="env-secret")
