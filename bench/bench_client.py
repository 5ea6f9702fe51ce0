"""GaClient against Alibaba's official SDK client, side by side in one run.

* DescribeListener calls/s: N calls each against one in-process keep-alive HTTP/1.1 server (TCP_NODELAY, one
  send per answer) that answers a fixed DescribeListener body without checking signatures, so the server costs
  both clients the same and the difference is client overhead. Rounds alternate which client goes first.
* Import cost: median over fresh processes of the time ``import ga_listener.api.client`` takes against
  ``import alibabacloud_ga20191120.client``.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import Row, median_of

CALLS = 2000
ROUNDS = 20  # many short alternating rounds: machine noise hits both clients alike
WARMUP = 50
IMPORT_SAMPLES = 5
KEY_ID, SECRET = "bench-key-id", "bench-key-secret"
LISTENER_ID = "lsr-bench"

_BODY = json.dumps({
    "RequestId": "6FEA0CF3-D3B9-43E5-A304-D217037876A8", "ListenerId": LISTENER_ID, "AcceleratorId": "ga-bench",
    "Name": "bench", "Description": "benchmark listener", "State": "active", "Protocol": "tcp",
    "PortRanges": [{"FromPort": 80, "ToPort": 80}, {"FromPort": 443, "ToPort": 443}], "BackendPorts": [],
    "Certificates": [], "ClientAffinity": "NONE", "ProxyProtocol": False, "IdleTimeout": 900,
    "Type": "Standard", "CreateTime": 1700000000000,
}).encode()
_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n"
    b"x-acs-request-id: 6FEA0CF3-D3B9-43E5-A304-D217037876A8\r\n"
    + f"Content-Length: {len(_BODY)}\r\n\r\n".encode() + _BODY
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.wfile.write(_ANSWER)  # one send: status line, headers and body together

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def keep_alive_server() -> Iterator[int]:
    """A loopback server on a free port; yields the port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def ours(port: int, version: str) -> Callable[[], Any]:
    from ga_listener.api.client import GaClient  # import costs are measured separately

    client = GaClient(f"http://127.0.0.1:{port}", access_key_id=KEY_ID, access_key_secret=SECRET,
                      signature_version=version)
    return lambda: client.describe_listener(LISTENER_ID)


def reference(port: int, version: str) -> Callable[[], Any]:
    from alibabacloud_ga20191120 import models  # type: ignore[import-untyped]
    from alibabacloud_ga20191120.client import Client  # type: ignore[import-untyped]
    from alibabacloud_tea_openapi import models as open_api_models  # type: ignore[import-untyped]

    config = open_api_models.Config(access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=f"127.0.0.1:{port}",
                                    protocol="http")
    if version == "v1":
        config.signature_algorithm = "v2"  # the SDK's switch to RPC HMAC-SHA1 (SignatureVersion 1.0)
    client = Client(config)

    def call() -> Any:
        return client.describe_listener(models.DescribeListenerRequest(region_id="cn-hangzhou",
                                                                        listener_id=LISTENER_ID))

    return call


def _run(call: Callable[[], Any], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        call()
    return time.perf_counter() - start


def calls_per_second(version: str) -> tuple[float, float]:
    """(ours, reference) calls/s: CALLS calls each in ROUNDS alternating rounds, rated by the median round so a
    burst of machine noise in one round does not decide the ratio."""
    with keep_alive_server() as port:
        mine, theirs = ours(port, version), reference(port, version)
        assert mine()["ListenerId"] == LISTENER_ID
        assert theirs().body.listener_id == LISTENER_ID
        _run(mine, WARMUP)
        _run(theirs, WARMUP)
        rounds: dict[str, list[float]] = {"ours": [], "reference": []}
        per_round = CALLS // ROUNDS
        for index in range(ROUNDS):
            order = [("ours", mine), ("reference", theirs)]
            for name, call in order if index % 2 == 0 else reversed(order):
                rounds[name].append(_run(call, per_round))
        return per_round / statistics.median(rounds["ours"]), per_round / statistics.median(rounds["reference"])


def import_seconds(module: str) -> float:
    """Seconds ``import module`` takes in a fresh interpreter, with bytecode caching on (the steady state)."""
    probe = f"import time\nt = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120,
                            env=env)
    return float(result.stdout.strip().splitlines()[-1])


def import_cost(module_of_ours: str = "ga_listener.api.client") -> tuple[float, float]:
    """Median import time in milliseconds: (ours, reference); one unmeasured run each compiles bytecode."""
    modules = (module_of_ours, "alibabacloud_ga20191120.client")
    for module in modules:
        import_seconds(module)
    mine, theirs = (median_of(IMPORT_SAMPLES, functools.partial(import_seconds, module)) * 1000 for module in modules)
    return mine, theirs


def rows() -> list[Row]:
    """The client rows of the benchmark table."""
    result = []
    for version, note in (("v3", "ACS3-HMAC-SHA256, both clients' default"), ("v1", "HMAC-SHA1 RPC signatures")):
        mine, theirs = calls_per_second(version)
        result.append(Row(f"DescribeListener calls/s ({version}, N={CALLS})", mine, theirs, "calls/s", "higher",
                          1.2 if version == "v3" else 1.0, 1.5 if version == "v3" else None, note))
    for module, target in (("ga_listener.api.client", 0.4), ("ga_listener", 0.4)):
        mine, theirs = import_cost(module)
        result.append(Row(f"import {module} vs alibabacloud_ga20191120.client", mine, theirs, "ms", "lower",
                          target, None, f"median of {IMPORT_SAMPLES} fresh processes"))
    return result
