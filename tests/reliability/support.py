"""Peers the reliability tests share: the emulator as a subprocess, call-log arithmetic, an independent reader.

Everything here reads the emulator from outside the provider: its call log (what it answered), its state (what
it holds) and Alibaba's official SDK (what any other client would see).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from ga_emulator.api import CallRecord

KEY_ID = "rel-key-id"
SECRET = "rel-secret/Zk9+w=do-not-leak"
T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T | None], what: str, *, during: Future[Any] | None = None, timeout: float = 60.0
) -> T:
    """Poll ``predicate`` until it returns something truthy, while the operation ``during`` still runs.

    ``timeout`` only guards against a stuck test; an operation that ends first fails the wait with its outcome.
    """
    deadline = time.monotonic() + timeout
    while True:
        ended = during is not None and during.done()
        value = predicate()
        if value:
            return value
        if ended:
            assert during is not None
            error = during.exception()
            outcome = f"it failed: {error}" if error is not None else f"it returned {during.result()!r}"
            raise AssertionError(f"the operation ended before {what}: {outcome}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def in_thread(function: Callable[[], T]) -> Future[T]:
    """Run ``function`` in a daemon thread; the future carries its result or exception."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(function())
        except BaseException as error:  # handed to whoever reads the future
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


# --- the call log -------------------------------------------------------------------------------------------


def applied_writes(records: Iterable[CallRecord], action: str = "UpdateListener") -> Counter[str]:
    """ClientToken -> how many times the emulator applied a write with it (answered 200, not a replay).

    A ``drop_after`` fault counts: the write was applied, only the answer was lost.
    """
    return Counter(
        record.params.get("ClientToken", "")
        for record in records
        if record.action == action and record.http_status == 200 and not record.replayed
    )


def replayed_writes(records: Iterable[CallRecord], action: str = "UpdateListener") -> Counter[str]:
    """ClientToken -> how many retried writes the emulator answered as ClientToken replays."""
    return Counter(
        record.params.get("ClientToken", "")
        for record in records
        if record.action == action and record.http_status == 200 and record.replayed
    )


def first_index(records: Sequence[CallRecord], match: Callable[[CallRecord], bool], start: int = 0) -> int | None:
    """Index of the first record from ``start`` that matches, or None."""
    return next((i for i in range(start, len(records)) if match(records[i])), None)


def is_applied_update(record: CallRecord) -> bool:
    return record.action == "UpdateListener" and record.http_status == 200 and not record.replayed


def ports_of(body: Any) -> list[tuple[int, int]]:
    """Port ranges of an SDK DescribeListener body, sorted."""
    return sorted((int(r.from_port), int(r.to_port)) for r in body.port_ranges or [])


# --- the emulator as a subprocess ---------------------------------------------------------------------------


class EmulatorProcess:
    """``python -m ga_emulator ARGS`` on an explicit port; admin endpoints read its call log and state."""

    def __init__(self, args: Sequence[str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ga_emulator", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != f"ga-emulator listening on {self.url}":
            self.stop()
            raise RuntimeError(f"emulator did not start: {ready!r}")

    def _admin(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
        with opener.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def calls(self) -> list[CallRecord]:
        """The API calls this process answered, in order."""
        return [CallRecord(**item) for item in self._admin("GET", "calls")]

    def state(self) -> dict[str, Any]:
        """Accelerators, listeners (with their current State) and ClientTokens."""
        result: dict[str, Any] = self._admin("GET", "state")
        return result

    def listener(self, listener_id: str) -> dict[str, Any]:
        """One listener of :meth:`state`."""
        return next(item for item in self.state()["Listeners"] if item["ListenerId"] == listener_id)

    def signal(self, signum: signal.Signals) -> int:
        """Send ``signum`` and wait for the process to end; returns its exit status."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=20)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


def state_tokens(state: Mapping[str, Any], action: str = "UpdateListener") -> set[str]:
    """The ClientTokens of successful writes an emulator state (file or admin snapshot) remembers."""
    return {item["ClientToken"] for item in state["ClientTokens"] if item["Action"] == action}


def read_state_file(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result
