"""What a GA answer means: its JSON body, or the typed error it carries (an ``ApiError`` subclass for an error
code, a ``ResponseError`` for anything that is not a usable JSON document). Everything a server says is scrubbed
before it reaches an error: a hostile or broken server may echo what we signed with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ga_listener.api.errors import ApiError, api_error_from
from ga_listener.transport.errors import ResponseError
from ga_listener.transport.http import Answer
from ga_listener.transport.wire import parse_body, retry_after_seconds, service_throttled

__all__ = ["decode_answer", "response_error"]

#: The key whose absence makes a successful-looking answer unusable.
_PAYLOAD = {"DescribeListener": "ListenerId", "CreateListener": "ListenerId", "ListListeners": "Listeners"}
_ENVELOPE = frozenset({"RequestId", "Code", "Message", "HostId", "Recommend"})
_SUCCESS_CODES = frozenset({"200", "OK", "Success"})


def decode_answer(action: str, answer: Answer, scrub: Callable[[str], str], endpoint: str) -> dict[str, Any]:
    """The answer's JSON body; raises the error it carries, with the server's retry hints attached."""

    def scrub_opt(value: Any) -> str | None:
        return scrub(str(value)) if value else None

    status, request_id = answer.status, scrub_opt(answer.header("x-acs-request-id"))
    data, problem = parse_body(answer.body, scrub)
    error: ApiError | ResponseError | None = None
    if data is None:
        error = response_error(action, status, request_id, f"{problem} instead of a JSON document", scrub=scrub,
                               endpoint=endpoint)
    else:
        code = data.get("Code")
        failed = status >= 400 or (code is not None and str(code) not in _SUCCESS_CODES
                                   and not _has_payload(action, data))
        if failed and not code:
            error = response_error(action, status, request_id, "a JSON body without an error Code", scrub=scrub,
                               endpoint=endpoint)
        elif failed:
            error = api_error_from(scrub(str(code)), scrub(str(data.get("Message") or "")),
                                   scrub_opt(data.get("RequestId")) or request_id, status, action,
                                   recommend=scrub_opt(data.get("Recommend")))
        elif action in _PAYLOAD and _PAYLOAD[action] not in data:
            error = response_error(action, status, request_id, f"a body without {_PAYLOAD[action]}", scrub=scrub,
                               endpoint=endpoint)
    if error is None and data is not None:
        return data
    assert error is not None
    error.retry_after = retry_after_seconds(answer.headers)
    error.throttled = service_throttled(answer.headers)
    raise error


def response_error(action: str, status: int, request_id: str | None, what: str, *, scrub: Callable[[str], str],
                   endpoint: str) -> ResponseError:
    """An answer that is not a usable document, with a hint at whose fault it may be."""
    hint = ("; the service or a proxy failed" if status >= 500
            else "; is the endpoint a GA API endpoint?" if status != 200 else "")
    message = scrub(f"{action} got HTTP {status} from {endpoint} with {what}{hint}")
    return ResponseError(message, http_status=status, action=action, request_id=request_id)


def _has_payload(action: str, data: Mapping[str, Any]) -> bool:
    expected = _PAYLOAD.get(action)
    return expected in data if expected else any(key not in _ENVELOPE for key in data)
