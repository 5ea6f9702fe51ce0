"""Our signatures equal those of Alibaba's official SDK utilities on generated inputs (unicode, reserved
characters, emoji, STS tokens, bodies). The SDK is a test peer only; the product never imports it."""

from __future__ import annotations

from typing import Any

from alibabacloud_tea_openapi.utils import Utils
from darabonba.request import DaraRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from ga_listener.transport import signing

SdkUtils = Utils

# GA parameter names: letters and digits, dotted and 1-based indexed (PortRanges.10.FromPort).
KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}(\.([1-9][0-9]{0,2}|[A-Za-z]{1,8})){0,3}", fullmatch=True)
TRICKY = st.sampled_from(["a b", "*", "~", "+", "/", "=", "&", "%", "%20", "😀", "中文名", "é", "a+b=c&d", " "])
VALUES = st.one_of(TRICKY, st.text(max_size=30), st.text(alphabet=st.characters(codec="ascii"), max_size=30))
PARAMS = st.dictionaries(KEYS, VALUES, max_size=12)
SECRETS = st.text(min_size=1, max_size=40)
TOKENS = st.none() | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)
NONCES = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
TIMESTAMPS = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


@settings(max_examples=150)
@given(params=PARAMS, method=st.sampled_from(["GET", "POST"]), secret=SECRETS)
def test_v1_signature_equals_the_sdk(params: dict[str, str], method: str, secret: str) -> None:
    ours = signing.v1_signature(signing.v1_string_to_sign(method, params), secret)
    assert ours == SdkUtils.get_rpcsignature(params, method, secret)


@settings(max_examples=100)
@given(params=PARAMS, secret=SECRETS, token=TOKENS, nonce=NONCES, timestamp=TIMESTAMPS)
def test_sign_v1_output_verifies_with_the_sdk(
    params: dict[str, str], secret: str, token: str | None, nonce: str, timestamp: str
) -> None:
    business = {**params, "Action": "UpdateListener", "Version": "2019-11-20", "Format": "JSON"}
    signed = signing.sign_v1(
        "POST",
        business,
        access_key_id="AKID",
        secret=secret,
        timestamp=timestamp,
        nonce=nonce,
        security_token=token,
    )
    unsigned = {k: v for k, v in signed.items() if k != "Signature"}
    assert signed["Signature"] == SdkUtils.get_rpcsignature(unsigned, "POST", secret)
    assert ("SecurityToken" in signed) == bool(token)


def _sdk_authorization(
    method: str, query: dict[str, str], headers: dict[str, str], *, body: bytes, ak: str, secret: str
) -> str:
    request = DaraRequest()
    request.method, request.pathname, request.query, request.headers = method, "/", dict(query), dict(headers)
    return str(SdkUtils.get_authorization(request, "ACS3-HMAC-SHA256", signing.sha256_hex(body), ak, secret))


@settings(max_examples=150)
@given(
    query=PARAMS,
    secret=SECRETS,
    token=TOKENS,
    nonce=NONCES,
    timestamp=TIMESTAMPS,
    body=st.one_of(st.just(b""), st.binary(max_size=64)),
    form=st.booleans(),
    action=st.sampled_from(["DescribeListener", "UpdateListener", "ListListeners"]),
)
def test_sign_v3_authorization_equals_the_sdk(
    *,
    query: dict[str, str],
    secret: str,
    token: str | None,
    nonce: str,
    timestamp: str,
    body: bytes,
    form: bool,
    action: str,
) -> None:
    content_type = "application/x-www-form-urlencoded" if form else None
    headers, _, _ = signing.sign_v3(
        "POST",
        host="ga.cn-hangzhou.aliyuncs.com",
        pathname="/",
        action=action,
        version="2019-11-20",
        query=query,
        body=body,
        access_key_id="AKID",
        secret=secret,
        timestamp=timestamp,
        nonce=nonce,
        security_token=token,
        content_type=content_type,
    )
    signed = {k: v for k, v in headers.items() if k != "Authorization"}
    assert headers["Authorization"] == _sdk_authorization("POST", query, signed, body=body, ak="AKID", secret=secret)


@settings(max_examples=100)
@given(
    query=PARAMS,
    extra=st.dictionaries(
        st.sampled_from(["user-agent", "accept", "x-acs-credentials-provider"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    ),
    secret=SECRETS,
)
def test_v3_building_blocks_equal_the_sdk_on_any_signed_header_set(
    query: dict[str, str], extra: dict[str, str], secret: str
) -> None:
    headers = {
        "host": "127.0.0.1:8787",
        "x-acs-action": "DescribeListener",
        "x-acs-version": "2019-11-20",
        "x-acs-date": "2024-05-01T12:00:00Z",
        "x-acs-signature-nonce": "n" * 32,
        "x-acs-content-sha256": signing.sha256_hex(b""),
        **extra,
    }
    canonical = signing.v3_canonical_request("POST", "/", query, headers, headers["x-acs-content-sha256"])
    signature = signing.v3_signature(signing.v3_string_to_sign(canonical), secret)
    names = ";".join(sorted(headers))
    ours = signing.v3_authorization("AKID", names, signature)
    assert ours == _sdk_authorization("POST", query, headers, body=b"", ak="AKID", secret=secret)


NESTED_LEAVES = st.one_of(st.integers(-5, 70000), st.text(max_size=10))
NESTED = st.recursive(
    NESTED_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.from_regex(r"[A-Z][a-zA-Z]{0,8}", fullmatch=True), inner, min_size=1, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=150)
@given(st.dictionaries(st.from_regex(r"[A-Z][a-zA-Z]{0,8}", fullmatch=True), NESTED, max_size=4))
def test_flattening_equals_the_sdk_for_strings_and_numbers(nested: dict[str, Any]) -> None:
    assert signing.flatten_params(nested) == SdkUtils.query(nested)


def test_booleans_are_sent_lowercase_where_the_sdk_sends_python_spelling() -> None:
    nested = {"XForwardedForConfig": {"XRealIpEnabled": True}, "ProxyProtocol": False}
    assert signing.flatten_params(nested) == {
        "XForwardedForConfig.XRealIpEnabled": "true",
        "ProxyProtocol": "false",
    }
    assert SdkUtils.query(nested)["ProxyProtocol"] == "False"


def test_none_is_omitted_never_sent_as_the_string_none() -> None:
    assert signing.flatten_params({"Name": None, "PortRanges": [{"FromPort": 1, "ToPort": None}]}) == {
        "PortRanges.1.FromPort": "1"
    }
