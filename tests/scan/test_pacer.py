"""The SES pacer: a token bucket per (account, region) in front of every SES attempt.

The bucket's arithmetic runs on fake time (no real sleeping); the botocore
hooks run against moto over HTTP with moto throttling SES the way production
does (tests/support/throttling.py). The HTTP tests assert bounds with wide
margins, never timings: they share a noisy 2-core machine.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_dkim_monitor.scan.pacer import Pacer, PacerRegistry, PacingStats, pace_client
from tests.support.ses_world import ACCOUNT_ID
from tests.support.throttling import ses_denied, ses_throttled

REGION = "us-east-1"
# Config's "max_attempts" counts retries (one retry at 1); "total_max_attempts" counts every attempt.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 10})

# Retries meet a server that throttles in real time: botocore backs off for real here.
pytestmark = pytest.mark.real_backoff


class FakeClock:
    """Time for one thread: sleeping advances it, nothing really sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class SimulatedTime:
    """Virtual time shared by a fixed set of worker threads.

    Time stands still while any worker runs and jumps to the earliest wake-up
    once every live worker sleeps, so what each thread sees does not depend on
    the machine's speed or its scheduler. A pacer that slept while holding its
    lock would stall it (the threads waiting for the lock never sleep): that
    fails the test after a few real seconds instead of hanging.
    """

    def __init__(self, workers: int, start: float = 0.0) -> None:
        self.now = start
        self._cond = threading.Condition()
        self._running = workers
        self._wakeups: list[float] = []

    def clock(self) -> float:
        with self._cond:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            wake = self.now + seconds
            heapq.heappush(self._wakeups, wake)
            self._running -= 1
            self._advance()
            deadline = time.monotonic() + 10
            while self.now < wake:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise AssertionError("simulated time stalled: a thread holds the pacer while sleeping?")

    def done(self) -> None:
        with self._cond:
            self._running -= 1
            self._advance()

    def _advance(self) -> None:
        if self._running or not self._wakeups:
            return
        self.now = self._wakeups[0]
        # Wake every sleeper due now and count it as running again before anyone else can move time on.
        while self._wakeups and self._wakeups[0] <= self.now:
            heapq.heappop(self._wakeups)
            self._running += 1
        self._cond.notify_all()


def run_threads(count: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "worker thread hung"
    if errors:
        raise errors[0]


def assert_within_rate(grants: list[float], rate: float, burst: float) -> None:
    """No window of time holds more grants than the bucket allows: burst + rate * width."""
    grants = sorted(grants)
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            granted = j - i + 1
            allowed = burst + rate * (grants[j] - grants[i]) + 1e-6
            assert granted <= allowed, f"{granted} tokens in {grants[j] - grants[i]:.4f}s at {rate}/s, burst {burst}"


# --- the bucket, on fake time -------------------------------------------------


@pytest.mark.parametrize("burst", [1.0, 3.0])
def test_n_acquires_take_n_minus_burst_over_rate(burst: float) -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, burst=burst, clock=clock, sleep=clock.sleep)

    waits = [pacer.acquire() for _ in range(9)]

    assert clock.now - 1000.0 == pytest.approx((9 - burst) / 4.0)
    assert waits[: int(burst)] == [0.0] * int(burst)
    assert waits[int(burst) :] == pytest.approx([0.25] * (9 - int(burst)))
    assert clock.sleeps == pytest.approx(waits[int(burst) :])


def test_acquire_returns_the_wait_and_an_idle_bucket_refills_only_to_its_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, burst=2.0, clock=clock, sleep=clock.sleep)
    assert [pacer.acquire(), pacer.acquire()] == [0.0, 0.0]
    assert pacer.acquire() == pytest.approx(0.5)

    clock.now += 60.0  # a minute idle saves up two tokens, not 120

    assert [pacer.acquire(), pacer.acquire()] == [0.0, 0.0]
    assert pacer.acquire() == pytest.approx(0.5)
    assert pacer.rate == 2.0
    with pytest.raises(AttributeError):
        pacer.rate = 5.0  # type: ignore[misc]


def test_a_partly_refilled_bucket_waits_only_for_the_missing_fraction() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    clock.now += 0.75

    assert pacer.acquire() == pytest.approx(0.25)


@pytest.mark.parametrize(("threads", "per_thread", "rate", "burst"), [(6, 10, 5.0, 1.0), (4, 8, 2.0, 3.0)])
def test_concurrent_acquires_never_exceed_the_rate(threads: int, per_thread: int, rate: float, burst: float) -> None:
    sim = SimulatedTime(workers=threads)
    pacer = Pacer(rate, burst=burst, clock=sim.clock, sleep=sim.sleep)
    grants: list[float] = []
    mismatched_waits: list[tuple[float, float]] = []

    def worker(_: int) -> None:
        try:
            for _ in range(per_thread):
                asked = sim.clock()
                waited = pacer.acquire()
                granted = sim.clock()  # time stands still until this thread sleeps again
                grants.append(granted)
                if waited != pytest.approx(granted - asked):
                    mismatched_waits.append((waited, granted - asked))
        finally:
            sim.done()

    run_threads(threads, worker)

    total = threads * per_thread
    assert len(grants) == total
    assert_within_rate(grants, rate, burst)
    # Work-conserving: every caller queued from t=0, so no token went unused.
    assert max(grants) == pytest.approx((total - burst) / rate)
    assert mismatched_waits == []  # acquire() returns the time it kept its caller waiting


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (float("nan"), 1.0), (1.0, 0.5)])
def test_rejects_a_rate_or_burst_that_cannot_pace(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        Pacer(rate, burst=burst)
    with pytest.raises(ValueError):
        PacerRegistry(rate, burst=burst)


# --- one pacer per (account, region) ------------------------------------------


def test_registry_shares_one_pacer_per_account_and_region_and_keeps_others_independent() -> None:
    clock = FakeClock()
    registry = PacerRegistry(1.0, clock=clock, sleep=clock.sleep)
    shard = registry.pacer("111111111111", "eu-west-1")

    assert registry.pacer("111111111111", "eu-west-1") is shard
    assert registry.stats("111111111111", "eu-west-1") is registry.stats("111111111111", "eu-west-1")
    assert shard.acquire() == 0.0
    # The shard's bucket is empty; the same account elsewhere and another account here are not.
    assert registry.pacer("111111111111", "us-east-1").acquire() == 0.0
    assert registry.pacer("222222222222", "eu-west-1").acquire() == 0.0
    assert registry.pacer("111111111111", "eu-west-1").acquire() == pytest.approx(1.0)
    assert registry.stats("111111111111", "us-east-1") is not registry.stats("111111111111", "eu-west-1")


def test_registry_total_sums_every_shard() -> None:
    registry = PacerRegistry(1.0)
    a = registry.stats("111111111111", "eu-west-1")
    b = registry.stats("222222222222", "eu-west-1")
    a.record_attempt(0.5)
    a.record_throttled("GetEmailIdentity")
    b.record_attempt(1.5)
    b.record_attempt(0.0)
    b.record_throttled("GetEmailIdentity")
    b.record_throttled("ListEmailIdentities")

    total = registry.total()

    assert (total.calls, total.throttled, total.waited) == (3, 3, pytest.approx(2.0))
    assert total.by_operation == {"GetEmailIdentity": 2, "ListEmailIdentities": 1}
    assert registry.shards() == [("111111111111", "eu-west-1"), ("222222222222", "eu-west-1")]


def test_stats_count_exactly_under_concurrent_updates() -> None:
    stats = PacingStats()

    def worker(_: int) -> None:
        for _ in range(2000):
            stats.record_attempt(0.001)
            stats.record_throttled("GetIdentityDkimAttributes")

    run_threads(4, worker)

    assert (stats.calls, stats.throttled) == (8000, 8000)
    assert stats.by_operation == {"GetIdentityDkimAttributes": 8000}
    assert stats.waited == pytest.approx(8.0)


# --- the moto fixture throttles and denies like SES ---------------------------


def warm_up(*clients: Any) -> None:
    """One unthrottled call per client: the first request of a test is slow (moto and botocore load models)."""
    for client in clients:
        if client.meta.service_model.service_name == "sesv2":
            client.list_email_identities()
        else:
            client.get_identity_dkim_attributes(Identities=["warm-up.example"])


def _error(call: Callable[[], Any]) -> tuple[str, int] | None:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def test_unpaced_burst_is_throttled_with_each_apis_real_error_on_one_shared_bucket(moto: str) -> None:
    v1 = boto3.client("ses", region_name=REGION, config=NO_RETRIES)
    v2 = boto3.client("sesv2", region_name=REGION, config=NO_RETRIES)
    calls = [
        lambda: v2.list_email_identities(),
        lambda: v1.get_identity_dkim_attributes(Identities=["example.com"]),
    ] * 10
    warm_up(v1, v2)

    # 2/s: even at 100 ms per call (a loaded machine) the 20 calls take 2 s: room for 5 at most.
    with ses_throttled(rate=2.0) as throttle:
        errors = [_error(call) for call in calls]

    assert set(errors) <= {None, ("TooManyRequestsException", 429), ("Throttling", 400)}
    assert errors[0] is None
    # Both APIs draw on the one bucket of the shard, and both are refused.
    assert errors.count(("TooManyRequestsException", 429)) >= 4
    assert errors.count(("Throttling", 400)) >= 4
    counts = throttle.counts(ACCOUNT_ID, REGION)
    assert counts.accepted == errors.count(None)
    assert counts.throttled == 20 - errors.count(None) >= 10


def test_throttling_buckets_are_per_region(moto: str) -> None:
    east = boto3.client("sesv2", region_name="us-east-1", config=NO_RETRIES)
    west = boto3.client("sesv2", region_name="us-west-2", config=NO_RETRIES)
    with ses_throttled(rate=0.5) as throttle:  # one token, the next one two seconds away
        assert _error(east.list_email_identities) is None
        assert _error(east.list_email_identities) == ("TooManyRequestsException", 429)
        assert _error(west.list_email_identities) is None

    assert throttle.counts(ACCOUNT_ID, "us-west-2").accepted == 1
    assert throttle.throttled(ACCOUNT_ID, "us-east-1") == 1


def test_throttling_wraps_the_consistent_v1_answers_and_restores_them(ses: Any) -> None:
    from moto.ses.models import SESBackend

    consistent = SESBackend.get_identity_dkim_attributes
    ses().add_domain("throttled.example", dkim_status="TEMPORARY_FAILURE")
    v1 = boto3.client("ses", region_name=REGION, config=NO_RETRIES)

    with ses_throttled(rate=0.5):
        first = v1.get_identity_dkim_attributes(Identities=["throttled.example"])
        second = _error(lambda: v1.get_identity_dkim_attributes(Identities=["throttled.example"]))

    assert first["DkimAttributes"]["throttled.example"]["DkimVerificationStatus"] == "TemporaryFailure"
    assert second == ("Throttling", 400)
    assert SESBackend.get_identity_dkim_attributes is consistent


def test_denied_account_gets_access_denied_from_both_apis_and_other_accounts_do_not(moto: str) -> None:
    v1 = boto3.client("ses", region_name=REGION, config=NO_RETRIES)
    v2 = boto3.client("sesv2", region_name=REGION, config=NO_RETRIES)

    with ses_denied(ACCOUNT_ID):
        assert _error(v2.list_email_identities) == ("AccessDeniedException", 403)
        assert _error(lambda: v1.get_identity_dkim_attributes(Identities=["a.example"])) == ("AccessDenied", 403)
    with ses_denied("999999999999"):
        assert _error(v2.list_email_identities) is None
    assert _error(v2.list_email_identities) is None


# --- pace_client against moto over HTTP ---------------------------------------


def test_paced_clients_below_the_server_rate_see_almost_no_throttling(moto: str) -> None:
    # Server 40/s with a burst of 2, pacer 20/s: requests leave 50 ms apart where
    # 25 ms would do, so a request is refused only when the machine's noise delays
    # two in a row by tens of milliseconds. Unpaced, a third or more are refused.
    registry = PacerRegistry(20.0)
    pacer, stats = registry.pacer(ACCOUNT_ID, REGION), registry.stats(ACCOUNT_ID, REGION)
    v1 = boto3.client("ses", region_name=REGION, config=RETRIES)
    v2 = boto3.client("sesv2", region_name=REGION, config=RETRIES)
    warm_up(v1, v2)
    pace_client(v1, pacer, stats)
    pace_client(v2, pacer, stats)

    start = threading.Barrier(3)

    def worker(index: int) -> None:
        # Three threads, both clients: all of them share the shard's one pacer.
        start.wait(timeout=30)
        for _ in range(4):
            v2.list_email_identities()
            v1.get_identity_dkim_attributes(Identities=[f"t{index}.example"])

    with ses_throttled(rate=40.0, burst=2.0) as throttle:
        run_threads(3, worker)

    counts = throttle.counts(ACCOUNT_ID, REGION)
    assert counts.accepted == 24
    assert counts.throttled <= 4
    # Every HTTP attempt was paced and counted, retries of a throttled one too.
    assert stats.throttled == counts.throttled
    assert stats.calls == counts.accepted + counts.throttled
    assert stats.waited > 0  # three threads start together: two of them wait


def test_pacing_above_the_server_rate_counts_and_logs_throttled_attempts_and_calls_still_succeed(
    moto: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = PacerRegistry(200.0)
    stats = registry.stats(ACCOUNT_ID, REGION)
    v2 = boto3.client("sesv2", region_name=REGION, config=RETRIES)
    warm_up(v2)
    pace_client(v2, registry.pacer(ACCOUNT_ID, REGION), stats)
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(4)

    def worker(_: int) -> None:
        start.wait(timeout=30)
        for _ in range(2):
            answers.append(v2.list_email_identities())

    caplog.set_level(logging.WARNING, logger="ses_dkim_monitor.scan.pacer")
    # 4 threads start together: the pacer lets them through 5 ms apart, the server wants 50 ms.
    with ses_throttled(rate=20.0) as throttle:
        run_threads(4, worker)

    counts = throttle.counts(ACCOUNT_ID, REGION)
    assert len(answers) == 8 == counts.accepted
    assert stats.throttled == counts.throttled >= 1
    assert stats.by_operation == {"ListEmailIdentities": stats.throttled}
    assert stats.calls == counts.accepted + counts.throttled
    warnings = [r for r in caplog.records if r.name == "ses_dkim_monitor.scan.pacer"]
    assert len(warnings) == stats.throttled
    assert all(r.levelno == logging.WARNING for r in warnings)
    line = warnings[0].getMessage()
    assert "sesv2" in line and "ListEmailIdentities" in line and "TooManyRequestsException" in line
    assert warnings[0].__dict__["error_code"] == "TooManyRequestsException"  # the structured field


def test_throttled_v1_attempts_are_counted_even_without_retries(moto: str) -> None:
    registry = PacerRegistry(1000.0, burst=10.0)
    stats = registry.stats(ACCOUNT_ID, REGION)
    v1 = boto3.client("ses", region_name=REGION, config=NO_RETRIES)
    pace_client(v1, registry.pacer(ACCOUNT_ID, REGION), stats)

    with ses_throttled(rate=0.5):
        errors = [
            _error(lambda: v1.get_identity_mail_from_domain_attributes(Identities=["a.example"])) for _ in range(3)
        ]

    assert errors == [None, ("Throttling", 400), ("Throttling", 400)]
    assert (stats.calls, stats.throttled) == (3, 2)
    assert stats.by_operation == {"GetIdentityMailFromDomainAttributes": 2}


def test_pace_client_twice_paces_each_attempt_once_and_refuses_a_second_pacer(moto: str) -> None:
    registry = PacerRegistry(1000.0, burst=10.0)
    pacer, stats = registry.pacer(ACCOUNT_ID, REGION), registry.stats(ACCOUNT_ID, REGION)
    v2 = boto3.client("sesv2", region_name=REGION, config=NO_RETRIES)
    pace_client(v2, pacer, stats)
    pace_client(v2, pacer, stats)

    for _ in range(3):
        v2.list_email_identities()

    assert stats.calls == 3
    with pytest.raises(ValueError):
        pace_client(v2, Pacer(1.0), stats)
    # Another client of the same service is a separate emitter: pacing it is not a repeat.
    other = boto3.client("sesv2", region_name=REGION, config=NO_RETRIES)
    pace_client(other, pacer, stats)
    other.list_email_identities()
    assert stats.calls == 4


def test_the_pacer_waits_after_botocores_adaptive_rate_limiter_and_any_other_send_hook(
    moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured (docs/benchmarks.md): a pacer that took its token before the
    # adaptive limiter slept let requests leave later than it believed, and the
    # next one, spaced from the token, reached SES early: 19 of 21 throttled.
    from botocore.retries import adaptive

    order: list[str] = []
    real_limiter = adaptive.ClientRateLimiter.on_sending_request

    def limiter(self: Any, request: Any, **kwargs: Any) -> None:
        order.append("adaptive limiter")
        real_limiter(self, request, **kwargs)

    # Patched before the client exists: botocore registers the bound method when it builds the client.
    monkeypatch.setattr(adaptive.ClientRateLimiter, "on_sending_request", limiter)

    class RecordingPacer(Pacer):
        def acquire(self) -> float:
            order.append("pacer")
            return super().acquire()

    v2 = boto3.client("sesv2", region_name=REGION, config=Config(retries={"mode": "adaptive", "max_attempts": 2}))
    pacer, stats = RecordingPacer(1000.0, burst=10.0), PacingStats()
    pace_client(v2, pacer, stats)
    # A hook someone registers after pacing, on the service's own event: it still runs first.
    v2.meta.events.register("before-send.sesv2", lambda **_: order.append("later hook"))

    v2.list_email_identities()

    assert order == ["later hook", "adaptive limiter", "pacer"]
    assert stats.calls == 1
