"""How one attempt of a GA call is signed: a fresh timestamp, nonce and signature each time (v1 or v3), and the
URL and headers that carry them, with the query sent in the very encoding that was signed.

The ``ga_listener.client`` logger shows, at DEBUG, the canonical request and string-to-sign of every attempt with
any security token masked and every known secret scrubbed: the first thing anyone needs when a server answers
``SignatureDoesNotMatch``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from ga_listener.auth.credentials import Credentials
from ga_listener.transport import signing
from ga_listener.transport.wire import mask_tokens

__all__ = ["API_VERSION", "USER_AGENT", "AttemptSigner", "new_token"]

logger = logging.getLogger("ga_listener.client")
logger.addHandler(logging.NullHandler())

API_VERSION = "2019-11-20"
USER_AGENT = "ga-listener/0.1 (python-requests)"


def new_token() -> str:
    """A random nonce or ClientToken."""
    return os.urandom(16).hex()


class AttemptSigner:
    """Signs attempts for one endpoint (``base_url`` ends in ``/``; ``host`` is its host header)."""

    def __init__(self, base_url: str, host: str, signature_version: str, *, wall_clock: Callable[[], float],
                 scrub: Callable[[str], str]) -> None:
        self._base_url, self._host, self.signature_version = base_url, host, signature_version
        self._wall_clock, self._scrub = wall_clock, scrub

    def sign(self, action: str, query: dict[str, str], attempt: int, creds: Credentials) -> tuple[str, dict[str, str]]:
        """``(url, headers)`` of one attempt of ``action`` with ``query``."""
        timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._wall_clock()))
        if self.signature_version == "v1":
            params = {**query, "Action": action, "Version": API_VERSION, "Format": "JSON"}
            wire = signing.sign_v1("POST", params, access_key_id=creds.access_key_id,
                                   secret=creds.access_key_secret, security_token=creds.security_token,
                                   timestamp=timestamp, nonce=new_token())
            headers = {"user-agent": USER_AGENT}
            encoded = signing.canonical_query(wire)
            if logger.isEnabledFor(logging.DEBUG):
                unsigned = {k: v for k, v in wire.items() if k != "Signature"}
                self._log(action, attempt, signing.canonical_query(unsigned),
                          signing.v1_string_to_sign("POST", unsigned))
        else:
            headers, canonical, string_to_sign = signing.sign_v3(
                "POST", host=self._host, pathname="/", action=action, version=API_VERSION, query=query,
                body=b"", access_key_id=creds.access_key_id, secret=creds.access_key_secret,
                security_token=creds.security_token, timestamp=timestamp, nonce=new_token(),
                accept="application/json")  # as the official SDK: without it a gateway may answer XML
            headers["user-agent"] = USER_AGENT
            encoded = canonical.split("\n", 3)[2]  # line 3 of the canonical request is the canonical query
            if logger.isEnabledFor(logging.DEBUG):
                self._log(action, attempt, canonical, string_to_sign)
        return (f"{self._base_url}?{encoded}" if encoded else self._base_url), headers

    def _log(self, action: str, attempt: int, canonical: str, string_to_sign: str) -> None:
        logger.debug("%s attempt %d (%s) canonical request:\n%s\nstring to sign:\n%s", action, attempt,
                     self.signature_version, self._scrub(mask_tokens(canonical)),
                     self._scrub(mask_tokens(string_to_sign)))
