"""A loopback stand-in for the GA API that answers normally except for the actions told to misbehave.

It knows one listener (``lsr-1`` of ``ga-1``, tcp 80, active) and answers DescribeListener with it and
UpdateListener with success, so the provider gets as far as the test wants; an action given a :class:`Reply`
in ``hostile`` gets that instead (an HTML page, truncated JSON, nothing at all, a late answer...).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LISTENER_ID = "lsr-1"
LISTENER: dict[str, Any] = {
    "ListenerId": LISTENER_ID,
    "AcceleratorId": "ga-1",
    "State": "active",
    "Protocol": "tcp",
    "PortRanges": [{"FromPort": 80, "ToPort": 80}],
    "ClientAffinity": "NONE",
    "IdleTimeout": 900,
    "Name": "",
    "Description": "",
}


@dataclass(frozen=True)
class Reply:
    """One answer: ``status``, raw ``body`` and ``headers``, sent after ``delay`` s; ``drop`` closes instead."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0
    drop: bool = False


def json_reply(body: Mapping[str, Any], status: int = 200, content_type: str = "application/json") -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": content_type})


NORMAL = {
    "DescribeListener": json_reply({"RequestId": "req-describe", **LISTENER}),
    "UpdateListener": json_reply({"RequestId": "req-update"}),
}


class HostileServer:
    """``with HostileServer() as server: server.hostile["DescribeListener"] = Reply(502, b"<html>...")``.

    ``hostile[action]`` answers every request of ``action``; ``queue(action, *replies)`` answers the next ones
    (before ``hostile`` and the normal answer).
    """

    def __init__(self) -> None:
        self.hostile: dict[str, Reply] = {}
        self._queued: dict[str, deque[Reply]] = defaultdict(deque)
        self.seen: list[str] = []  # the action of every request, in order
        self.tokens: list[str] = []  # the ClientToken of every request ("" without one), in order
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def queue(self, action: str, *replies: Reply) -> None:
        with self._lock:
            self._queued[action].extend(replies)

    def reply_to(self, action: str, token: str = "") -> Reply:
        with self._lock:
            self.seen.append(action)
            self.tokens.append(token)
            if self._queued[action]:
                return self._queued[action].popleft()
            return self.hostile.get(action) or NORMAL.get(action) or json_reply(
                {"RequestId": "req-x", "Code": "InvalidAction.NotFound", "Message": action}, 404)

    def count(self, action: str) -> int:
        with self._lock:
            return self.seen.count(action)

    def writes(self, action: str = "UpdateListener") -> list[str]:
        """The ClientTokens of the requests of ``action``, in order (the same token again is a retry)."""
        with self._lock:
            return [token for seen, token in zip(self.seen, self.tokens, strict=True) if seen == action]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            token = parse_qs(urlsplit(self.path).query).get("ClientToken", [""])[0]
            reply = server.reply_to(self.headers.get("x-acs-action") or "", token)
            time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            head = [f"HTTP/1.1 {reply.status} Hostile", f"Content-Length: {len(reply.body)}"]
            head += [f"{name}: {value}" for name, value in reply.headers.items()]
            try:
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + reply.body)
            except OSError:  # the client gave up waiting
                self.close_connection = True

    return Handler
