"""The benchmarks stay runnable: `make bench` is not part of `make test`, so its cheapest paths run here."""

from __future__ import annotations

import pytest

from bench import Row, format_table
from bench import bench_provider as provider_bench
from tests.support.provider_host import pickled_provider


def test_a_small_preview_through_the_host_sees_no_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider_bench, "PREVIEW_COUNT", 3)
    assert provider_bench.preview_seconds(pickled_provider()) > 0  # it asserts that Diff reports no change


def test_the_table_states_each_verdict() -> None:
    rows = [Row("fast", 2.0, 1.0, "s", "lower", 1.5), Row("zero", 0, 0, "calls", "lower", 1.0)]
    table = format_table(rows)
    assert "MISSED" in table.splitlines()[2] and table.splitlines()[3].endswith("ok")


def test_the_lifecycle_benchmark_creates_eight_listeners_and_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import bench_lifecycle

    monkeypatch.setattr(provider_bench, "TRANSITION", 0.05)  # the emulator factory both benchmarks share
    assert bench_lifecycle.concurrent_creates_seconds(lambda i: f"ga-{i % 2}") > 0
