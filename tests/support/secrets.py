"""Scanning text for a credential in any form it could leak in."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from urllib.parse import quote_plus

from ga_listener.transport import signing


def forms(value: str) -> set[str]:
    """``value`` as it could leak: raw, URL-encoded (both ways, once and twice), JSON-escaped, base64."""
    once = {value, signing.percent_encode(value), quote_plus(value), json.dumps(value)[1:-1]}
    return once | {signing.percent_encode(v) for v in once} | {base64.b64encode(value.encode()).decode()}


class Scanner:
    """Finds any form of the given credentials, or a 10-character piece of one, in a text."""

    def __init__(self, credentials: Iterable[str]) -> None:
        whole = {form for credential in credentials for form in forms(credential)}
        self.pieces = {form[i : i + 10] for form in whole for i in range(max(len(form) - 9, 1))}

    def leaks(self, text: str) -> list[str]:
        """The pieces found; report their count or place, never the pieces themselves."""
        return [piece for piece in self.pieces if piece in text]
