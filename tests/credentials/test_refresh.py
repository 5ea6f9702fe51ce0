"""Refreshing temporary credentials: when, how often, from how many threads, and what a failure does.

The clock is a FakeClock (a wall clock: expirations are absolute times); ``fetch`` hands out numbered credentials
that expire ``lifetime`` seconds after they are fetched.
"""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ga_listener.auth.credentials import REFRESH_MARGIN, Credentials, RefreshingCredentials, Scrubber
from ga_listener.transport.errors import CredentialsRefreshError
from tests.support.clock import FakeClock


class Source:
    """A fetch function: credential ``n`` expires ``lifetime`` s after it is fetched; ``fail`` makes it raise."""

    def __init__(self, clock: FakeClock, lifetime: float) -> None:
        self.clock, self.lifetime, self.calls, self.fail = clock, lifetime, 0, False

    def __call__(self) -> Credentials:
        self.calls += 1
        if self.fail:
            raise CredentialsRefreshError("could not get credentials from test: STS said no", source="test")
        return Credentials(f"STS.{self.calls}", f"secret-{self.calls}", f"token-{self.calls}", source="test",
                           expiration=self.clock() + self.lifetime)


def provider(lifetime: float) -> tuple[RefreshingCredentials, Source, FakeClock]:
    clock = FakeClock(1_700_000_000.0)
    source = Source(clock, lifetime)
    return RefreshingCredentials(source, "test", clock=clock), source, clock


def test_nothing_is_fetched_until_asked() -> None:
    refreshing, source, _ = provider(3600)
    assert source.calls == 0 and refreshing.source == "test"
    assert refreshing.get_credentials().access_key_id == "STS.1"
    assert refreshing.get_credentials().access_key_id == "STS.1" and source.calls == 1


@pytest.mark.parametrize(("lifetime", "refresh_after"), [
    (3600, 2700),  # an hour: fifteen minutes before the end, as the SDKs do
    (43200, 42300),  # STS's longest: fifteen minutes before the end
    (900, 450),  # STS's shortest: half of it is less than fifteen minutes, so at half
    (400, 200),
    (4, 2),  # seconds-long credentials are used, then refreshed at half
])
def test_refresh_when_less_than_min_fifteen_minutes_or_half_the_lifetime_remains(
    lifetime: float, refresh_after: float
) -> None:
    refreshing, source, clock = provider(lifetime)
    refreshing.get_credentials()
    clock.now += refresh_after - 0.01
    assert refreshing.get_credentials().access_key_id == "STS.1"
    clock.now += 0.02
    assert refreshing.get_credentials().access_key_id == "STS.2" and source.calls == 2


@given(lifetime=st.floats(0.5, 43200), used_at=st.floats(0, 1))
def test_credentials_are_refreshed_exactly_when_due(lifetime: float, used_at: float) -> None:
    refreshing, _, clock = provider(lifetime)
    refreshing.get_credentials()
    clock.now += used_at * lifetime
    remaining, threshold = lifetime - used_at * lifetime, min(REFRESH_MARGIN, lifetime / 2)
    assume(abs(remaining - threshold) > 1e-3)  # within float rounding of the edge (clocks near 1.7e9) either is right
    due = remaining <= threshold
    assert (refreshing.get_credentials().access_key_id == "STS.2") == due


def test_credentials_already_expired_when_fetched_are_refused_naming_the_source_and_the_time() -> None:
    refreshing, source, _ = provider(-5)  # the source's answer is over on arrival (or our clock is ahead)
    with pytest.raises(CredentialsRefreshError) as caught:
        refreshing.get_credentials()
    text = str(caught.value)  # the clock stands at 1_700_000_000: 2023-11-14T22:13:20Z
    assert text.startswith("could not get credentials from test: ")
    assert "expired at 2023-11-14T22:13:15Z" in text and "5 s before now" in text and "clock" in text
    assert caught.value.source == "test" and source.calls == 1
    source.lifetime = 3600
    assert refreshing.get_credentials().access_key_id == "STS.2"  # the next answer is good: used


def test_an_expired_answer_to_a_refresh_keeps_the_still_valid_credentials() -> None:
    refreshing, source, clock = provider(3600)
    refreshing.get_credentials()
    clock.now += 3000  # due (ten minutes left), still valid
    source.lifetime = -1
    assert refreshing.get_credentials().access_key_id == "STS.1" and source.calls == 2
    clock.now += 10.01  # tried again soon
    source.lifetime = 3600
    assert refreshing.get_credentials().access_key_id == "STS.3"


def test_a_failed_refresh_keeps_valid_credentials_and_tries_again_soon() -> None:
    refreshing, source, clock = provider(3600)
    refreshing.get_credentials()
    clock.now += 3400  # due (less than 15 minutes left), still valid for 200 s
    source.fail = True
    assert refreshing.get_credentials().access_key_id == "STS.1"
    assert refreshing.get_credentials().access_key_id == "STS.1" and source.calls == 2  # no retry storm
    clock.now += 10.01  # RETRY_AFTER_FAILURE
    refreshing.get_credentials()
    assert source.calls == 3
    source.fail = False
    clock.now += 10.01
    assert refreshing.get_credentials().access_key_id == "STS.4"


def test_a_failed_refresh_of_expired_credentials_raises_naming_the_source() -> None:
    refreshing, source, clock = provider(60)
    refreshing.get_credentials()
    clock.now += 61
    source.fail = True
    with pytest.raises(CredentialsRefreshError, match="could not get credentials from test: STS said no") as caught:
        refreshing.get_credentials()
    assert caught.value.source == "test"
    with pytest.raises(CredentialsRefreshError):
        provider_that_fails_first = RefreshingCredentials(source, "test", clock=clock)
        provider_that_fails_first.get_credentials()


def test_invalidate_drops_only_the_credentials_the_service_refused() -> None:
    refreshing, source, _ = provider(3600)
    first = refreshing.get_credentials()
    refreshing.invalidate(Credentials("other", "other-secret"))
    assert refreshing.get_credentials() is first
    refreshing.invalidate(first)
    assert refreshing.get_credentials().access_key_id == "STS.2" and source.calls == 2


def run_threads(count: int, target: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


def test_threads_without_credentials_wait_for_one_fetch() -> None:
    clock, release, seen = FakeClock(1_700_000_000.0), threading.Event(), []
    source = Source(clock, 3600)

    def slow() -> Credentials:
        release.wait(5)
        return source()

    refreshing = RefreshingCredentials(slow, "test", clock=clock)
    threading.Timer(0.2, release.set).start()
    run_threads(8, lambda: seen.append(refreshing.get_credentials().access_key_id))
    assert seen == ["STS.1"] * 8 and source.calls == 1


def test_while_one_thread_refreshes_the_others_use_the_still_valid_credentials() -> None:
    clock = FakeClock(1_700_000_000.0)
    source = Source(clock, 3600)
    entered, release = threading.Event(), threading.Event()

    def slow() -> Credentials:
        if source.calls:  # the refresh, not the first fetch
            entered.set()
            release.wait(5)
        return source()

    refreshing = RefreshingCredentials(slow, "test", clock=clock)
    refreshing.get_credentials()
    clock.now += 3400  # due, still valid
    refresher = threading.Thread(target=refreshing.get_credentials)
    refresher.start()
    assert entered.wait(5)
    seen: list[str] = []
    run_threads(6, lambda: seen.append(refreshing.get_credentials().access_key_id))  # none blocks
    release.set()
    refresher.join(5)
    assert seen == ["STS.1"] * 6 and source.calls == 2
    assert refreshing.get_credentials().access_key_id == "STS.2"


def test_providers_and_scrubbers_are_never_pickled_and_show_no_secret() -> None:
    refreshing, _, _ = provider(3600)
    creds = refreshing.get_credentials()
    scrubber = Scrubber(creds.secrets())
    for thing in (refreshing, creds, scrubber):
        with pytest.raises(TypeError, match="never pickled"):
            pickle.dumps(thing)
        assert "secret-1" not in repr(thing) and "token-1" not in repr(thing)
    assert "expiration='2023-11-14T23:13:20Z'" in repr(creds)  # 1_700_000_000 + 3600


@given(secret=st.text(min_size=8, max_size=30))
def test_the_scrubber_removes_every_encoding_of_every_secret_it_was_ever_given(secret: str) -> None:
    scrubber = Scrubber(["first-secret-value"])
    scrubber.add(secret)  # rotated in later: both stay scrubbed
    for value in (secret, "first-secret-value"):
        once = {value, quote(value, safe="-_.~"), quote_plus(value), json.dumps(value)[1:-1]}
        for form in once | {quote(form, safe="-_.~") for form in once}:
            assert form not in scrubber(f"<{form}>")  # what is left is at most 5 characters: no secret fits
