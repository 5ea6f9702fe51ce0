"""The emulator's HTTP face: a threaded standard-library server speaking HTTP/1.1 with keep-alive.

Each answer is written with one ``send`` and Nagle is off, so a keep-alive client never waits ~40 ms on a
delayed ACK. Requests for ``/`` are RPC calls (query string and/or form body) handed to
:class:`~ga_emulator.api.Api` after fault injection; ``/_emulator/...`` are the admin endpoints of
:mod:`ga_emulator.admin` (no signature, never faulted, never recorded).

Whatever arrives (bad request lines, huge or invalid UTF-8 parameters, wrong types), the answer is a JSON
error with a 4xx status; an unexpected failure is logged and answered 500 ``InternalError`` without a
traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from ga_emulator.admin import DEFAULT_SERVICE_ID, handle_admin
from ga_emulator.api import Api, CallLog, CallRecord, claimed_action, error_body, new_request_id
from ga_emulator.auth import DEMO_CREDENTIAL, Authenticator, Credential
from ga_emulator.backend import Backend
from ga_emulator.errors import INVALID_ACTION, MALFORMED_REQUEST, EmulatorError
from ga_emulator.faults import ANSWERING_KINDS, CLASSIC_KINDS, Faults
from ga_emulator.model import ENDPOINT_GROUP, FORWARDING_RULE, ListenerSeed
from ga_emulator.modes import DEFAULT_LISTENER_QUOTA, DEFAULT_PORT_QUOTA, Modes
from ga_emulator.sts import CredentialServices, StsOptions
from ga_emulator.wire import WireRequest, check_body_length, join_headers

__all__ = ["DEFAULT_ACCELERATOR", "DEFAULT_LISTENER", "EmulatorServer"]

logger = logging.getLogger("ga_emulator")

DEFAULT_ACCELERATOR = "ga-demo"
DEFAULT_LISTENER = "ga-demo:lsr-demo:tcp:80-80"
_JSON = "application/json;charset=utf-8"
# stdlib parse failures (bad request line, too long, too many headers...) -> our error code
_STDLIB_CODES = {414: "RequestTooLarge", 431: "RequestTooLarge", 501: "UnsupportedMethod"}

CredentialLike = Credential | tuple[str, str] | tuple[str, str, str | None]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: EmulatorServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN (a DNS lookup that can take seconds); skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections so that stop() does not wait."""
        with self._connections_lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ga-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    @property
    def _emulator(self) -> EmulatorServer:
        return cast(_HTTPServer, self.server).emulator

    def setup(self) -> None:
        super().setup()
        cast(_HTTPServer, self.server).track(self.connection, alive=True)

    def finish(self) -> None:
        cast(_HTTPServer, self.server).track(self.connection, alive=False)
        super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:  # only the emulated metadata service takes PUT (its token)
        sts = self._emulator.sts
        if sts is not None and sts.metadata.serves(self.path.partition("?")[0]):
            self._dispatch()
        else:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http: " + format, *(_mask_query(a) if isinstance(a, str) else a for a in args))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer the standard library's own refusals (bad request line, 414, 431, 501) as JSON errors."""
        self.close_connection = True
        text = (message or HTTPStatus(code).phrase)[:200]
        error = EmulatorError(_STDLIB_CODES.get(code, MALFORMED_REQUEST.code), text, code)
        self._send_json(code, error_body(error, new_request_id()))

    # --- plumbing -------------------------------------------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), _JSON, headers)

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self.date_time_string()}",
            "Server: ga-emulator",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(payload)}",
            f"Connection: {'close' if self.close_connection else 'keep-alive'}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise MALFORMED_REQUEST.error("Chunked request bodies are not supported: send Content-Length.")
        length = check_body_length(self.headers.get("Content-Length"))
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        started = time.perf_counter()
        path = self.path.partition("?")[0]
        try:
            body = self._read_body()
        except EmulatorError as error:
            self.close_connection = True  # the unread body would corrupt the next request on this connection
            self._send_json(error.http_status, error_body(error, new_request_id()))
            return
        if path.startswith("/_emulator/"):
            self._admin(path, body)
        elif path == "/":
            self._api(body, started)
        elif self._emulator.sts is not None and self._emulator.sts.metadata.serves(path):
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = self._emulator.sts.metadata.serve(self.command, path, headers)
            if answer is None:  # a metadata mode drops the connection
                self.close_connection = True
                return
            self._send(*answer)
        else:
            unknown = INVALID_ACTION.error(f"Path {path[:80]!r}: RPC calls go to /.")
            self._send_json(unknown.http_status, error_body(unknown, new_request_id()))

    # --- the RPC API ----------------------------------------------------------------------------------------

    def _api(self, body: bytes, started: float) -> None:
        emulator = self._emulator
        try:
            request = WireRequest.build(self.command, self.path, join_headers(self.headers.items()), body)
        except EmulatorError as error:
            answer = emulator.api.answer_error(error)
            self._send_json(answer.status, answer.body)
            _log(answer.record, started)
            return
        if emulator.sts is not None and emulator.sts.claims(request):  # faults are the GA API's, never STS's
            answer = emulator.sts.handle(request)
            _log(answer.record, started)
            self._send_json(answer.status, answer.body, answer.headers)
            return
        fault = emulator.faults.next(claimed_action(request))
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            _log(emulator.api.record_drop(request, fault), started)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind in ANSWERING_KINDS:
            answer = emulator.api.fault_answer(request, fault)
        else:
            answer = emulator.api.handle(request, fault)
        _log(answer.record, started)
        if fault is not None and fault.kind == "drop_after":
            self.close_connection = True
            return
        self._send_json(answer.status, answer.body, answer.headers)

    # --- admin endpoints ------------------------------------------------------------------------------------

    def _admin(self, path: str, body: bytes) -> None:
        try:
            result = handle_admin(self._emulator, self.command, path, body)
        except EmulatorError as error:
            self._send_json(error.http_status, error_body(error, new_request_id()))
            return
        self._send_json(200, result)


def _log(record: CallRecord, started: float) -> None:
    """One terse line per API call: action, status, code, signature version, duration, fault, replay."""
    logger.info(
        "%s %d %s %s %.1fms%s%s",
        record.action[:60] or "-",
        record.http_status,
        record.code or "OK",
        record.signature_version or "-",
        (time.perf_counter() - started) * 1000,
        f" fault={record.fault}" if record.fault else "",
        " replayed" if record.replayed else "",
    )


def _credential(item: CredentialLike) -> Credential:
    return item if isinstance(item, Credential) else Credential(*item)


_TOKEN_IN_QUERY = re.compile(r"(SecurityToken=)[^&\s]*")


def _mask_query(text: str) -> str:
    """A request line without the v1 STS token in its query."""
    return _TOKEN_IN_QUERY.sub(r"\1***", text)


class EmulatorServer:
    """A Global Accelerator API emulator on ``host:port`` (0 picks a free port); a context manager.

    ``credentials``: accepted key pairs (``Credential`` or ``(id, secret[, token])``; default the demo pair).
    ``accelerators`` and ``listeners`` (``ListenerSeed`` or ``"ACC:LSR:PROTO:FROM-TO"``) seed the world; with
    neither accelerators nor a loaded ``state_path`` the default world (``ga-demo`` holding ``lsr-demo``,
    tcp 80) is created first. ``without_bandwidth_package``: accelerators (created if missing) on which
    CreateListener answers NotExist.BasicBandwidthPackage. ``endpoint_groups`` and ``forwarding_rules``:
    listener ids, one attached endpoint group / forwarding rule per mention (DeleteListener then answers
    Exist.EndpointGroup / Exist.ForwardingRule). ``service_managed``: ``LISTENER[:SERVICE]`` (service ``ALB``
    by default), listeners a cloud service manages (UpdateListener and DeleteListener refused). Seeds add what
    is missing and never wipe. ``state_path`` is loaded if it exists, then saved atomically on every change.
    ``port_quota``, ``listener_quota``, ``create_lag``, ``visibility_lag``, ``reset_omitted``,
    ``vanished_unknown_error`` and ``deleted_accelerator_unknown_error`` are the modes of
    :mod:`ga_emulator.modes`; ``fault_rate``, ``fault_seed`` and ``fault_kinds`` drive the random fault draw
    (:mod:`ga_emulator.faults`). ``clock`` (epoch seconds) drives transitions, lags and the signature timestamp
    check. Bad values raise ValueError. ``sts`` turns on the emulated
    STS, instance metadata service and credentials URI (:mod:`ga_emulator.sts`), reachable as ``self.sts``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: Iterable[CredentialLike] | None = None,
        accelerators: Sequence[str] | None = None,
        listeners: Sequence[ListenerSeed | str] | None = None,
        transition_seconds: float = 1.0,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        fault_kinds: Iterable[str] | str = CLASSIC_KINDS,
        state_path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        port_quota: int = DEFAULT_PORT_QUOTA,
        listener_quota: int = DEFAULT_LISTENER_QUOTA,
        create_lag: float = 0.0,
        visibility_lag: float = 0.0,
        reset_omitted: bool = False,
        vanished_unknown_error: bool = False,
        deleted_accelerator_unknown_error: bool = False,
        without_bandwidth_package: Sequence[str] = (),
        endpoint_groups: Sequence[str] = (),
        forwarding_rules: Sequence[str] = (),
        service_managed: Sequence[str] = (),
        sts: StsOptions | None = None,
    ) -> None:
        self._address = (host, port)
        modes = Modes().updated({
            "port_quota": port_quota, "listener_quota": listener_quota, "create_lag": create_lag,
            "visibility_lag": visibility_lag, "reset_omitted": reset_omitted,
            "vanished_unknown_error": vanished_unknown_error,
            "deleted_accelerator_unknown_error": deleted_accelerator_unknown_error,
        })  # fmt: skip
        self.faults = Faults(fault_rate, fault_seed, kinds=fault_kinds)
        self.backend = Backend(
            clock=clock,
            transition_seconds=transition_seconds,
            state_path=Path(state_path) if state_path else None,
            modes=modes,
        )
        if not accelerators and not self.backend.loaded_from_state:
            self.backend.seed_listener(ListenerSeed.parse(DEFAULT_LISTENER))
        for accelerator_id in accelerators or ():
            self.backend.add_accelerator(accelerator_id)
        for seed in listeners or ():
            self.backend.seed_listener(seed if isinstance(seed, ListenerSeed) else ListenerSeed.parse(seed))
        self._seed_extras(without_bandwidth_package, endpoint_groups, forwarding_rules, service_managed)
        self.credentials = [_credential(item) for item in credentials or ()] or [DEMO_CREDENTIAL]
        self.calls = CallLog()
        authenticator = Authenticator(self.credentials, clock=clock)
        self.api = Api(self.backend, authenticator, self.calls)
        self.sts = CredentialServices(sts, authenticator, self.calls, clock) if sts is not None else None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _seed_extras(
        self,
        without_bandwidth_package: Sequence[str],
        endpoint_groups: Sequence[str],
        forwarding_rules: Sequence[str],
        service_managed: Sequence[str],
    ) -> None:
        backend = self.backend
        for accelerator_id in without_bandwidth_package:
            backend.configure_accelerator(accelerator_id, basic_bandwidth_package=False)
        for kind, listener_ids in ((ENDPOINT_GROUP, endpoint_groups), (FORWARDING_RULE, forwarding_rules)):
            for listener_id in dict.fromkeys(listener_ids):  # as many as mentions (at least: seeds never wipe)
                backend.attach(listener_id, kind, list(listener_ids).count(listener_id), at_least=True)
        for item in service_managed:
            listener_id, _, service_id = item.partition(":")
            backend.set_service_managed(listener_id, service_id or DEFAULT_SERVICE_ID)

    @property
    def host(self) -> str:
        """The bound host (after start)."""
        return str(self._bound()[0])

    @property
    def port(self) -> int:
        """The bound port (after start; the real one when 0 was asked)."""
        return int(self._bound()[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _bound(self) -> tuple[Any, ...]:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return tuple(self._httpd.server_address)

    def start(self) -> EmulatorServer:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is None:
            self._httpd = _HTTPServer(self._address, self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="ga-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and the socket (idempotent)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
