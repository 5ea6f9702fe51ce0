"""Many threads hammering one accelerator: state is never corrupted and exactly one change runs at a time."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from Tea.exceptions import TeaException

from ga_emulator import EmulatorServer, ListenerSeed
from tests.emulator.support import CREDENTIALS, admin, official_client, sdk_call

THREADS = 8


def attempt(emulator: EmulatorServer, action: str, params: dict[str, Any], barrier: threading.Barrier) -> str:
    client = official_client(emulator)
    barrier.wait()
    try:
        sdk_call(client, action, params)
    except TeaException as error:
        return str(error.code)
    return "OK"


def test_simultaneous_updates_of_one_listener_one_wins() -> None:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=2.0) as emulator:
        barrier = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(
                lambda i: attempt(emulator, "UpdateListener", {"ListenerId": "lsr-demo", "Name": f"n{i}"}, barrier),
                range(THREADS),
            ))  # fmt: skip
        assert Counter(outcomes) == {"OK": 1, "NotActive.Listener": THREADS - 1}
        winner = [call.params["Name"] for call in emulator.calls if call.code is None]
        assert emulator.backend.describe_listener("lsr-demo").config.name == winner[0]


def test_simultaneous_creates_on_one_accelerator_one_wins() -> None:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=2.0) as emulator:
        barrier = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(
                lambda i: attempt(emulator, "CreateListener", {
                    "AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 100 + i, "ToPort": 100 + i}]}, barrier),
                range(THREADS),
            ))  # fmt: skip
        assert Counter(outcomes) == {"OK": 1, "StateError.Accelerator": THREADS - 1}
        assert len(emulator.backend.list_listeners("ga-demo")) == 2


def test_simultaneous_identical_creates_with_one_token_make_one_listener() -> None:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=2.0) as emulator:
        params = {"AcceleratorId": "ga-demo", "PortRanges": [{"FromPort": 90, "ToPort": 90}], "ClientToken": "same"}
        barrier = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(lambda _: attempt(emulator, "CreateListener", params, barrier), range(THREADS)))
        assert outcomes == ["OK"] * THREADS
        assert len(emulator.backend.list_listeners("ga-demo")) == 2
        answers = {(call.request_id, call.replayed) for call in emulator.calls}
        assert len({request_id for request_id, _ in answers}) == 1
        assert sum(not call.replayed for call in emulator.calls) == 1


def hammer(emulator: EmulatorServer, listener_id: str, rounds: int = 25) -> list[str]:
    """Update one listener as fast as possible; the names the emulator acknowledged, in order."""
    client, acknowledged = official_client(emulator), []
    for round_ in range(rounds):
        name = f"{listener_id}-r{round_}"
        try:
            sdk_call(client, "UpdateListener", {"ListenerId": listener_id, "Name": name, "ClientToken": name})
            acknowledged.append(name)
        except TeaException as error:
            assert error.code in ("StateError.Accelerator", "NotActive.Listener"), error.code
    return acknowledged


def test_hammering_keeps_one_change_at_a_time_and_the_last_acknowledged_value() -> None:
    listeners = [f"lsr-{i}" for i in range(THREADS)]
    seeds = [ListenerSeed.parse(f"ga-h:{lsr}:tcp:{1000 + i}-{1000 + i}") for i, lsr in enumerate(listeners)]
    with EmulatorServer(
        credentials=CREDENTIALS, accelerators=["ga-h"], listeners=seeds, transition_seconds=0.005
    ) as emulator:
        stop = threading.Event()
        violations: list[int] = []

        def watch() -> None:  # every snapshot is taken under the backend's lock: it sees a consistent world
            while not stop.is_set():
                changing = [item for item in emulator.backend.snapshot()["Listeners"] if item["State"] != "active"]
                if len(changing) > 1:
                    violations.append(len(changing))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with ThreadPoolExecutor(THREADS) as pool:
                acknowledged = pool.map(lambda listener_id: hammer(emulator, listener_id), listeners)
                results = dict(zip(listeners, acknowledged, strict=True))
        finally:
            stop.set()
            watcher.join()
        assert violations == []
        assert sum(len(names) for names in results.values()) > THREADS  # the hammering did get through
        for listener_id, names in results.items():
            live = emulator.backend.describe_listener(listener_id).config
            assert live.name == (names[-1] if names else "")
            assert live.port_ranges == seeds[listeners.index(listener_id)].port_ranges
        successes = [call for call in emulator.calls if call.code is None]
        assert len(successes) == sum(len(names) for names in results.values())


def test_admin_attachments_from_many_threads_all_count() -> None:
    with EmulatorServer(credentials=CREDENTIALS, transition_seconds=0) as emulator:
        barrier = threading.Barrier(THREADS)

        def attach(_: int) -> int:
            barrier.wait()
            status, _answer = admin(emulator, "POST", "/_emulator/endpoint-groups", {"listener_id": "lsr-demo"})
            return status

        with ThreadPoolExecutor(THREADS) as pool:
            assert list(pool.map(attach, range(THREADS))) == [200] * THREADS
        assert emulator.backend.dependents("endpoint_group") == {"lsr-demo": THREADS}
