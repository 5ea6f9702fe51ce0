"""A loopback HTTP/1.1 server that answers from a script and records every request.

Not an emulator: it knows nothing of listeners. It gives the client the hostile answers a real network can
give and the emulator never does (HTML pages, truncated JSON, dropped connections, slow answers, a 200 with an
error Code). Steps are consumed in order; when the script is empty the ``default`` step answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LISTENER = {
    "RequestId": "req-describe",
    "ListenerId": "lsr-1",
    "AcceleratorId": "ga-1",
    "State": "active",
    "Protocol": "tcp",
    "PortRanges": [{"FromPort": 80, "ToPort": 80}],
}


@dataclass(frozen=True)
class Step:
    """One scripted answer. ``kind``: ``answer``, ``drop`` (close, no answer) or ``short`` (declare a longer
    Content-Length than sent, then close)."""

    kind: str = "answer"
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


def answer(
    status: int = 200,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Step:
    """A JSON answer (``body`` dumped) or ``raw`` bytes."""
    data = raw if raw is not None else json.dumps(LISTENER if body is None else body).encode()
    return Step("answer", status, data, dict(headers or {"Content-Type": "application/json"}), delay)


def api_error(
    code: str,
    status: int = 400,
    message: str = "scripted",
    headers: Mapping[str, str] | None = None,
) -> Step:
    """An Alibaba-style error body."""
    body = {
        "RequestId": f"req-{code}",
        "HostId": "ga.cn-hangzhou.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": "https://api.aliyun.com/troubleshoot",
    }
    return answer(status, body, headers={"Content-Type": "application/json", **(headers or {})})


DROP = Step("drop")


@dataclass(frozen=True)
class Recorded:
    """A request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    connection: int

    @property
    def raw_query(self) -> str:
        return urlsplit(self.path).query


class ScriptedServer:
    """``with ScriptedServer() as server: server.add(api_error("Throttling"), answer())``."""

    def __init__(self) -> None:
        self.script: deque[Step] = deque()
        self.default = answer()
        self.requests: list[Recorded] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, *steps: Step) -> ScriptedServer:
        with self._lock:
            self.script.extend(steps)
        return self

    def next_step(self) -> Step:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def new_connection(self) -> int:
        with self._lock:
            self.connections += 1
            return self.connections

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connection_number = server.new_connection()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:  # the metadata service's token request
            self._serve()

        def do_CONNECT(self) -> None:
            """Acting as a proxy: record the tunnel request and refuse it."""
            headers = {name.lower(): value for name, value in self.headers.items()}
            server.record(Recorded(self.command, self.path, {}, headers, b"", self.connection_number))
            self.wfile.write(b"HTTP/1.1 403 Tunnel refused\r\nContent-Length: 0\r\n\r\n")
            self.close_connection = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            headers = {name.lower(): value for name, value in self.headers.items()}
            server.record(Recorded(self.command, self.path, query, headers, body, self.connection_number))
            step = server.next_step()
            if step.delay:
                time.sleep(step.delay)
            if step.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            declared = len(step.body) + (50 if step.kind == "short" else 0)
            head = [f"HTTP/1.1 {step.status} Scripted", f"Content-Length: {declared}"]
            head += [f"{name}: {value}" for name, value in step.headers.items()]
            try:
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + step.body)
                self.wfile.flush()
            except OSError:  # the client gave up (read timeout): nothing to answer
                self.close_connection = True
                return
            if step.kind == "short":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler
