"""An HTTP request as the RPC layer sees it: method, path, decoded query and form parameters, body, headers.

Parsing is strict where a sloppy parser would hide a client bug: percent-decoded bytes must be UTF-8, a
parameter may appear once, a body must be form-encoded, and sizes are capped. Every refusal is an
:class:`~ga_emulator.errors.EmulatorError` with a 4xx status, never an exception escaping to the socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from ga_emulator.errors import MALFORMED_REQUEST, REQUEST_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FIELDS",
    "MAX_QUERY_BYTES",
    "WireRequest",
    "check_body_length",
    "join_headers",
    "parse_form",
]

MAX_QUERY_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 1000
FORM_TYPE = "application/x-www-form-urlencoded"


def _decode(raw: bytes, what: str) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw[:60].decode("ascii", "replace")
        raise MALFORMED_REQUEST.error(f"{what} {shown!r} is not valid UTF-8 once percent-decoded.") from exc


def parse_form(data: bytes, what: str = "query") -> dict[str, str]:
    """Decode ``k=v&k2=v2`` (form style, ``+`` is a space); refuses duplicates and invalid UTF-8."""
    params: dict[str, str] = {}
    pieces = [piece for piece in data.split(b"&") if piece]
    if len(pieces) > MAX_FIELDS:
        raise REQUEST_TOO_LARGE.error(f"The {what} has {len(pieces)} parameters; at most {MAX_FIELDS} are accepted.")
    for piece in pieces:
        raw_key, _, raw_value = piece.partition(b"=")
        key = _decode(raw_key, f"{what} parameter name")
        if not key:
            raise MALFORMED_REQUEST.error(f"The {what} has a parameter without a name.")
        value = _decode(raw_value, f"value of {key[:60]!r}")
        if key in params:
            raise MALFORMED_REQUEST.error(f"Parameter {key[:60]!r} is given more than once.")
        params[key] = value
    return params


def join_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased header names; repeated headers joined by ``,`` in sorted order (as the v3 signer does)."""
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(name.strip().lower(), []).append(value.strip())
    return {name: ",".join(sorted(values)) for name, values in grouped.items()}


@dataclass(frozen=True)
class WireRequest:
    """One decoded RPC request; ``params`` merges query and form body (a name in both is refused)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    form: Mapping[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, str]:
        """Query and body parameters together."""
        return {**self.query, **self.form}

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> WireRequest:
        """Decode a request line target (``/path?query``), headers and body; raises EmulatorError."""
        path, _, raw_query = target.partition("?")
        # http.server decodes the request line as latin-1: re-encoding gives back the bytes on the wire.
        query_bytes = raw_query.encode("latin-1", "replace")
        if len(query_bytes) > MAX_QUERY_BYTES:
            raise REQUEST_TOO_LARGE.error(f"The query string has {len(query_bytes)} bytes; at most {MAX_QUERY_BYTES}.")
        query = parse_form(query_bytes, "query")
        form: dict[str, str] = {}
        if body:
            content_type = headers.get("content-type", FORM_TYPE).split(";")[0].strip().lower()
            if content_type != FORM_TYPE:
                raise UNSUPPORTED_MEDIA_TYPE.error(f"Got {content_type[:60]!r}.")
            form = parse_form(body, "body")
            for key in form.keys() & query.keys():
                raise MALFORMED_REQUEST.error(f"Parameter {key[:60]!r} is in both the query and the body.")
        return cls(method, path or "/", query, headers, body, form)


def check_body_length(header: str | None) -> int:
    """The body length a Content-Length header announces; raises EmulatorError if invalid or too large."""
    if header is None or header.strip() == "":
        return 0
    text = header.strip()
    if not text.isascii() or not text.isdigit():
        raise MALFORMED_REQUEST.error(f"Content-Length {text[:40]!r} is not a number.")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise REQUEST_TOO_LARGE.error(f"The body has {length} bytes; at most {MAX_BODY_BYTES}.")
    return length
