"""The exception tree: code -> class table, one-line messages that say what to do, pickling."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ga_listener.api import errors as api_errors
from ga_listener.api.errors import (
    AcceleratorNotFoundError,
    AcceleratorStateError,
    ApiError,
    AuthenticationError,
    ClockSkewError,
    InvalidParameterError,
    ListenerNotActiveError,
    ListenerNotFoundError,
    NonceReusedError,
    PortConflictError,
    PortQuotaExceededError,
    PortRangeIllegalError,
    ServerError,
    ThrottledError,
    api_error_from,
)
from ga_listener.transport import errors as base_errors
from ga_listener.transport.errors import (
    ClientSideError,
    ConfigurationError,
    CredentialsNotFoundError,
    CredentialsRefreshError,
    DeadlineExceededError,
    GaListenerError,
    ResponseError,
    TransportError,
)

# code, HTTP status, class, retryable, words the advice must contain
TABLE = [
    ("NotExist.Listener", 400, ListenerNotFoundError, False, ["listener id"]),
    ("NotActive.Listener", 400, ListenerNotActiveError, True, ["wait", "automatically"]),
    ("NotExist.Accelerator", 400, AcceleratorNotFoundError, False, ["accelerator id"]),
    ("StateError.Accelerator", 400, AcceleratorStateError, True, ["wait", "automatically"]),
    ("PortRangeIllegal.Listener", 400, PortRangeIllegalError, False, ["65499"]),
    ("PortConflict.Listener", 400, PortConflictError, False, ["ports", "other listener"]),
    ("QuotaExceeded.ListenerPort", 400, PortQuotaExceededError, False, ["fewer ports", "quota"]),
    ("Throttling", 400, ThrottledError, True, ["backoff"]),
    ("Throttling.User", 429, ThrottledError, True, ["backoff"]),
    ("Throttling.Api", 503, ThrottledError, True, ["backoff"]),
    ("ServiceUnavailable", 503, ServerError, True, ["retried"]),
    ("InternalError", 500, ServerError, True, ["retried"]),
    ("UnknownError", 500, ServerError, True, ["retried"]),
    ("SomethingNew", 502, ServerError, True, ["retried"]),
    ("InvalidAccessKeyId.NotFound", 404, AuthenticationError, False, ["access key id"]),
    ("SignatureDoesNotMatch", 400, AuthenticationError, False, ["secret", "clock"]),
    ("InvalidSecurityToken.Expired", 400, AuthenticationError, False, ["token", "fresh"]),
    ("InvalidSecurityToken.Malformed", 400, AuthenticationError, False, ["token"]),
    ("Forbidden.RAM", 403, AuthenticationError, False, ["grant", "RAM"]),
    ("Forbidden", 403, AuthenticationError, False, ["RAM"]),
    ("InvalidTimeStamp.Expired", 400, ClockSkewError, False, ["15 minutes", "NTP"]),
    ("SignatureNonceUsed", 400, NonceReusedError, False, ["nonce"]),
    ("InvalidParameter", 400, InvalidParameterError, False, ["parameter"]),
    ("InvalidParameter.Name", 400, InvalidParameterError, False, ["parameter"]),
    ("MissingParameter.ListenerId", 400, InvalidParameterError, False, ["parameter"]),
    ("IdempotenceParamNotMatch", 400, InvalidParameterError, False, ["ClientToken", "new token"]),
    ("Some.UnknownCode", 400, ApiError, False, ["not retried"]),
]


@pytest.mark.parametrize(("code", "status", "cls", "retryable", "advice_words"), TABLE, ids=[t[0] for t in TABLE])
def test_code_table(code: str, status: int, cls: type[ApiError], retryable: bool, advice_words: list[str]) -> None:
    error = api_error_from(code, "the message", "req-1", status, "UpdateListener")
    assert type(error) is cls
    assert (error.code, error.message, error.request_id, error.http_status, error.action) == (
        code,
        "the message",
        "req-1",
        status,
        "UpdateListener",
    )
    assert error.retryable is retryable
    for word in advice_words:
        assert word.lower() in error.advice.lower()


def test_str_is_one_line_with_action_code_message_request_id_status_and_advice() -> None:
    error = api_error_from("PortConflict.Listener", "The port\nconflicts.", "req-9", 400, "UpdateListener")
    assert str(error) == (
        "UpdateListener failed: PortConflict.Listener: The port conflicts. (request id req-9, HTTP 400). "
        "Choose ports that no other listener of the same accelerator uses."
    )


def test_str_without_request_id_status_or_action_is_still_one_readable_line() -> None:
    text = str(ApiError("X", ""))
    assert text.startswith("Request failed: X: (no message) (request id unknown, HTTP ?).")
    assert "\n" not in text


@given(
    code=st.text(max_size=40),
    message=st.text(max_size=200),
    status=st.none() | st.integers(100, 599),
    request_id=st.none() | st.text(max_size=30),
    action=st.none() | st.text(max_size=20),
)
def test_any_answer_becomes_an_api_error_with_one_line(
    code: str, message: str, status: int | None, request_id: str | None, action: str | None
) -> None:
    error = api_error_from(code, message, request_id, status, action)
    assert isinstance(error, ApiError)
    assert len(str(error).splitlines()) == 1
    assert error.advice and str(error).endswith(error.advice)
    if status is not None and status >= 500:
        assert error.retryable


def test_explicit_retryable_and_advice_win_over_class_defaults() -> None:
    error = ThrottledError("Throttling", "m", retryable=False, advice="Do X.")
    assert error.retryable is False and error.advice == "Do X."


def test_transient_state_codes() -> None:
    expected = {"NotActive.Listener", "StateError.Accelerator", "StateError.Listener"}
    assert frozenset(expected) == api_errors.TRANSIENT_STATE_CODES


def test_every_exported_class_has_exactly_one_of_the_two_roots() -> None:
    classes = [getattr(module, name) for module in (base_errors, api_errors) for name in module.__all__
               if isinstance(getattr(module, name), type)]
    assert len(classes) == 24
    for cls in classes:
        assert issubclass(cls, GaListenerError)
        if cls is not GaListenerError:
            assert issubclass(cls, ClientSideError) != issubclass(cls, ApiError), cls


@pytest.mark.parametrize("module", [base_errors, api_errors], ids=["transport", "api"])
def test_each_module_docstring_draws_its_part_of_the_tree(module: Any) -> None:
    doc = module.__doc__ or ""
    for name in module.__all__:
        if name.endswith("Error") and name != "GaListenerError":
            assert name in doc, name


ALL_ERRORS: list[GaListenerError] = [
    api_error_from(code, "msg", "req", status, "DescribeListener", recommend="https://diag")
    for code, status, *_ in TABLE
] + [
    ConfigurationError("bad endpoint", setting="endpoint"),
    CredentialsNotFoundError(["environment (not set)", "profile file x (file not found)"]),
    CredentialsRefreshError("could not get credentials from x: refused", source="x"),
    TransportError("refused", endpoint="http://127.0.0.1:1", action="DescribeListener", retryable=False),
    ResponseError("HTML page", http_status=502, action="DescribeListener", request_id="r"),
    DeadlineExceededError("too late", action="UpdateListener", attempts=3),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__ + ":" + str(getattr(e, "code", "")))
def test_every_error_pickles_with_its_attributes_and_text(error: GaListenerError) -> None:
    error.retry_after = 2.5
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert vars(clone) == vars(error)
    assert clone.retry_after == 2.5


def test_credentials_not_found_lists_every_place() -> None:
    error = CredentialsNotFoundError(["explicit arguments (none given)", "environment X (not set)"])
    assert "explicit arguments (none given); environment X (not set)" in str(error)
    assert error.searched == ("explicit arguments (none given)", "environment X (not set)")
