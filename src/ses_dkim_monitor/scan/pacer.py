"""Client-side pacing of SES calls: one token bucket per (account, region).

SES allows about one management request per second per account and region,
and that quota is shared by the v1 (``ses``) and v2 (``sesv2``) APIs. Left to
botocore's adaptive retry mode alone, a scan runs into the limit, gets
throttled, backs off and probes again: measured at 1 request/s, 19 of 21
calls were throttled and a region took 2.2x the ideal time. A pacer that every
SES call of one shard waits for (both clients, every thread) keeps a run at
the limit almost free of throttling (1 of 21, 1.06x; docs/benchmarks.md); the
adaptive mode stays on as the safety net for what the pacer cannot know
(another tool spending the same account's quota).

``pace_client`` hooks a boto3 client through botocore's event system, on the
same two events the adaptive mode itself uses:

* ``before-send``: emitted once per HTTP attempt, retries included
  (botocore re-creates and re-sends the request for each retry), just before
  the request goes on the wire. The pacer waits there, registered *last*:
  the adaptive mode's own rate limiter sleeps on ``before-send`` too, and a
  pacer that took its token before that sleep would let the request leave
  later than it believes, so the next one, spaced from the token, reached
  SES early and was throttled. Measured with benchmarks/pacing_benchmark.py
  (docs/benchmarks.md): 19 of 21 calls throttled with the pacer first, 1
  with it last.
* ``needs-retry.<service>``: emitted after every attempt, including the last
  one and including ``max_attempts=1``, with the parsed response; the retry
  handlers decide there. Throttled attempts are counted and logged there.

The pacer also runs a little under the quota (``PACING_HEADROOM``): at
exactly 1/R, SES's bucket sees gaps of 1/R plus or minus network jitter, and
every gap that comes out short is throttled.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..aws_errors import THROTTLED_CODES

log = logging.getLogger(__name__)

# Pace at this fraction of the configured quota: measured, 5 % was enough to
# absorb the jitter between the pacer's clock and SES's bucket.
PACING_HEADROOM = 0.95

# Marks a client already paced, so a second pace_client is a no-op.
_PACED_ATTRIBUTE = "_ses_dkim_monitor_pacing"


class Pacer:
    """A token bucket, thread-safe. rate = requests per second; burst = bucket size (default 1).

    The bucket starts full. A caller that finds it empty reserves the next
    token (the balance goes negative) and sleeps until that token is due,
    outside the lock: callers are served in the order they arrived, none
    wakes up only to find its token taken, and the sleep never blocks the
    others from reserving theirs.

    The request is signed before ``before-send``, so a wait longer than SigV4's
    five-minute window would be refused; at 1 request/s that takes some 300
    requests queued on one shard, far more than the scan's threads.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
        if not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be at least 1 token, got {burst!r}")
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self._burst
        self._updated = clock()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> float:
        return self._burst

    def acquire(self) -> float:
        """Block (through ``sleep``) until a token is available and take it; return the seconds waited."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait <= 0:
            return 0.0
        self._sleep(wait)
        return max(0.0, self._clock() - now)


@dataclass
class PacingStats:
    """Counters of one shard's paced calls, thread-safe: update them through the methods."""

    calls: int = 0  # HTTP attempts paced (retries included)
    throttled: int = 0  # attempts answered with a throttling error
    waited: float = 0.0  # total seconds spent waiting in Pacer.acquire()
    by_operation: dict[str, int] = field(default_factory=dict)  # throttled count per operation name
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def record_attempt(self, waited: float) -> None:
        with self._lock:
            self.calls += 1
            self.waited += waited

    def record_throttled(self, operation: str) -> None:
        with self._lock:
            self.throttled += 1
            self.by_operation[operation] = self.by_operation.get(operation, 0) + 1

    def snapshot(self) -> PacingStats:
        """A consistent copy, for reading while other threads still count."""
        with self._lock:
            return PacingStats(
                calls=self.calls, throttled=self.throttled, waited=self.waited, by_operation=dict(self.by_operation)
            )

    def add(self, other: PacingStats) -> None:
        """Add another shard's counters to these."""
        theirs = other.snapshot()
        with self._lock:
            self.calls += theirs.calls
            self.throttled += theirs.throttled
            self.waited += theirs.waited
            for operation, count in theirs.by_operation.items():
                self.by_operation[operation] = self.by_operation.get(operation, 0) + count


class PacerRegistry:
    """One Pacer (and PacingStats) per (account, region), created on first use."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # Build one now so a bad rate or burst fails here, not on the first call of a scan.
        Pacer(rate, burst=burst, clock=clock, sleep=sleep)
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._shards: dict[tuple[str, str], tuple[Pacer, PacingStats]] = {}

    @property
    def rate(self) -> float:
        return self._rate

    def _shard(self, account: str, region: str) -> tuple[Pacer, PacingStats]:
        key = (account, region)
        with self._lock:
            shard = self._shards.get(key)
            if shard is None:
                pacer = Pacer(self._rate, burst=self._burst, clock=self._clock, sleep=self._sleep)
                shard = self._shards[key] = (pacer, PacingStats())
            return shard

    def pacer(self, account: str, region: str) -> Pacer:
        return self._shard(account, region)[0]

    def stats(self, account: str, region: str) -> PacingStats:
        return self._shard(account, region)[1]

    def shards(self) -> list[tuple[str, str]]:
        """The (account, region) pairs used so far."""
        with self._lock:
            return sorted(self._shards)

    def total(self) -> PacingStats:
        """The sum over every shard."""
        with self._lock:
            shards = list(self._shards.values())
        total = PacingStats()
        for _, stats in shards:
            total.add(stats)
        return total


class _PacingHooks:
    """The two event handlers pace_client registers on one client."""

    def __init__(self, pacer: Pacer, stats: PacingStats, *, service: str, region: str | None) -> None:
        self.pacer = pacer
        self.stats = stats
        self.service = service
        self.region = region

    def before_send(self, **kwargs: Any) -> None:
        # Must return None: a value returned from before-send replaces the HTTP response.
        self.stats.record_attempt(self.pacer.acquire())

    def after_attempt(self, response: Any = None, operation: Any = None, attempts: int = 1, **kwargs: Any) -> None:
        # `response` is (http_response, parsed) for any answer, errors included;
        # None when the attempt failed below HTTP (connection error), which is not throttling.
        if response is None:
            return
        http_response, parsed = response
        code = str((parsed or {}).get("Error", {}).get("Code") or "")
        status = getattr(http_response, "status_code", None)
        if code not in THROTTLED_CODES and status != 429:
            return
        name = getattr(operation, "name", None) or "unknown"
        self.stats.record_throttled(name)
        log.warning(
            "SES throttled %s %s: %s (HTTP %s, attempt %d)",
            self.service,
            name,
            code or "no error code",
            status,
            attempts,
            extra={
                "service": self.service,
                "operation": name,
                "error_code": code,
                "http_status": status,
                "attempt": attempts,
                "region": self.region,
            },
        )


def pace_client(client: Any, pacer: Pacer, stats: PacingStats) -> None:
    """Make every HTTP attempt of this boto3 client (retries included) wait for the pacer, and count
    throttled responses in stats, logging one WARNING line per throttled response.

    Idempotent per client: pacing it again with the same pacer and stats does
    nothing; with another pacer or stats it raises ``ValueError`` rather than
    pacing one client twice.
    """
    current = getattr(client, _PACED_ATTRIBUTE, None)
    if current is not None:
        if current.pacer is pacer and current.stats is stats:
            return
        raise ValueError("this client is already paced by another pacer or stats")
    service = client.meta.service_model.service_id.hyphenize()
    hooks = _PacingHooks(pacer, stats, service=service, region=client.meta.region_name)
    events = client.meta.events
    # On the generic event and last, so it runs after botocore's adaptive rate
    # limiter (registered on ``before-send``) and after any more specific hook.
    events.register_last("before-send", hooks.before_send, unique_id=f"ses-dkim-monitor-pace-{service}")
    events.register(
        f"needs-retry.{service}", hooks.after_attempt, unique_id=f"ses-dkim-monitor-count-throttled-{service}"
    )
    setattr(client, _PACED_ATTRIBUTE, hooks)
