"""Make moto's SES throttle (or deny) the way production does.

Real SES allows about one management request per second per account and
region, one quota for the v1 and v2 APIs together, and answers a request over
it with v1 ``Throttling`` (HTTP 400, query protocol) or v2
``TooManyRequestsException`` (HTTP 429, rest-json). ``ses_throttled`` puts
one token bucket per (account, region) in front of the moto backend methods
the scan's reads end in, shared by both APIs, and raises those errors through
moto's own exception classes so botocore parses them exactly as it parses
SES's: its retry modes see a throttling error, ``ClientError`` carries the
real code.

The bucket is the server side, so it runs on real monotonic time. Only reads
are throttled (what the scan calls), so a test can still seed identities over
HTTP at full speed.

``ses_denied(account)`` makes the same reads of one account fail with v1
``AccessDenied`` / v2 ``AccessDeniedException`` (HTTP 403), as SES does for
credentials without the IAM permission.

Both patch moto's backend classes for the duration of a ``with`` block and
restore them on exit. They wrap whatever method is there when they are
entered, so enter them inside ``consistent_v1`` (the ``ses`` fixture), not
around it: ``consistent_v1`` replaces two v1 methods with its own.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import AccessDeniedError, JsonRESTError, ServiceException

# Backend methods behind the scan's SES reads (and the v1 ones next to them),
# with the API operation each serves. moto's sesv2 backend reads the v1
# backend's identities directly, so no v2 method here calls a v1 one.
V1_METHODS = {
    "list_identities": "ListIdentities",
    "get_identity_dkim_attributes": "GetIdentityDkimAttributes",
    "get_identity_mail_from_domain_attributes": "GetIdentityMailFromDomainAttributes",
    "get_identity_verification_attributes": "GetIdentityVerificationAttributes",
}
V2_METHODS = {
    "list_email_identities": "ListEmailIdentities",
    "get_email_identity": "GetEmailIdentity",
}


class V1Throttling(ServiceException):
    """SES v1 over its quota: HTTP 400, ``<Code>Throttling</Code>``, Type Sender."""

    code = "Throttling"
    message = "Rate exceeded"


class V2TooManyRequests(ServiceException):
    """SES v2 over its quota: the model's ``TooManyRequestsException``, which moto serializes as HTTP 429."""

    code = "TooManyRequestsException"
    message = "Too Many Requests"


class V2AccessDenied(JsonRESTError):
    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


@dataclass
class ShardCounts:
    accepted: int = 0
    throttled: int = 0


class _Bucket:
    """Server-side token bucket on real time: take a token now or refuse."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def try_take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class SesThrottle:
    """The buckets of one ``ses_throttled`` block and what they let through, per (account, region)."""

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._counts: dict[tuple[str, str], ShardCounts] = {}

    def admit(self, account: str, region: str) -> bool:
        key = (account, region)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.rate, self.burst)
            counts = self._counts.setdefault(key, ShardCounts())
            admitted = bucket.try_take()
            if admitted:
                counts.accepted += 1
            else:
                counts.throttled += 1
            return admitted

    def counts(self, account: str, region: str) -> ShardCounts:
        """A copy of one shard's counts so far (zeros for a shard never called)."""
        with self._lock:
            found = self._counts.get((account, region), ShardCounts())
            return ShardCounts(found.accepted, found.throttled)

    def accepted(self, account: str, region: str) -> int:
        return self.counts(account, region).accepted

    def throttled(self, account: str, region: str) -> int:
        return self.counts(account, region).throttled


# check(backend, api_version, operation) raises to refuse the call.
_Check = Callable[[Any, int, str], None]


@contextlib.contextmanager
def _gate_ses_reads(check: _Check) -> Iterator[None]:
    from moto.ses.models import SESBackend
    from moto.sesv2.models import SESV2Backend

    saved: list[tuple[type, str, Any]] = []

    def wrap(cls: type, name: str, version: int, operation: str) -> None:
        original = vars(cls).get(name)
        saved.append((cls, name, original))
        method = getattr(cls, name)

        @functools.wraps(method)
        def gated(self: Any, *args: Any, **kwargs: Any) -> Any:
            check(self, version, operation)
            return method(self, *args, **kwargs)

        setattr(cls, name, gated)

    try:
        for name, operation in V1_METHODS.items():
            wrap(SESBackend, name, 1, operation)
        for name, operation in V2_METHODS.items():
            wrap(SESV2Backend, name, 2, operation)
        yield
    finally:
        for cls, name, original in reversed(saved):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)


@contextlib.contextmanager
def ses_throttled(rate: float, *, burst: float = 1.0) -> Iterator[SesThrottle]:
    """Throttle moto's SES reads: one bucket of ``rate`` requests/s and ``burst`` tokens per (account, region)."""
    throttle = SesThrottle(rate, burst)

    def check(backend: Any, version: int, operation: str) -> None:
        if not throttle.admit(backend.account_id, backend.region_name):
            raise V1Throttling() if version == 1 else V2TooManyRequests()

    with warnings.catch_warnings(), _gate_ses_reads(check):
        # SES v1's model has no Throttling shape (it is a common error), so moto
        # warns that the code is unmodeled; it serializes it right all the same.
        warnings.filterwarnings("ignore", message=r"Exception\(V1Throttling\)", category=UserWarning)
        yield throttle


@contextlib.contextmanager
def ses_denied(account: str) -> Iterator[None]:
    """Make every SES read of ``account`` fail as SES does without the IAM permission (HTTP 403)."""

    def check(backend: Any, version: int, operation: str) -> None:
        if backend.account_id != account:
            return
        principal = f"arn:aws:sts::{account}:assumed-role/ses-dkim-monitor-test/session"
        if version == 1:
            raise AccessDeniedError(user_arn=principal, action=f"ses:{operation}")
        raise V2AccessDenied(f"User: {principal} is not authorized to perform: ses:{operation}")

    with _gate_ses_reads(check):
        yield
