"""The alerting vocabulary: events, the stored state of one finding, notifications, policy.

One ``AlertState`` exists per (account, region, identity, finding key). The
finding key is ``Finding.key`` (``check#subject``), so each missing DKIM token
is tracked, reminded and resolved on its own. Besides the scan's findings
there is one synthetic key per identity, ``monitor-cannot-verify``, whose
state counts consecutive ``unknown`` runs (see ``cannot_verify.py``).

Delivery is at-least-once per channel and tracked in the state itself: a
state carries the event still to be delivered (``pending_event``) and the
channels that have not acknowledged it (``pending_channels``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..i18n import N_
from ..models import DnsRecord, Severity

# Stored in alert state as written here (English); shown translated (``messages.reason``).
REASON_FIXED = N_("the check passes again")
REASON_DELETED = N_("identity deleted")
REASON_VERIFIABLE = N_("the monitor can check this identity again")


class Event(str, enum.Enum):
    OPENED = "opened"
    REMINDER = "reminder"
    RESOLVED = "resolved"


class AlertStatus(str, enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    # Only for the monitor-cannot-verify counter below its threshold: counting,
    # not yet alerted.
    WATCHING = "watching"


@dataclass(frozen=True, kw_only=True)
class AlertPolicy:
    """What is worth a message and how often to repeat it."""

    reminder_interval: timedelta = timedelta(hours=24)
    min_severity: Severity = Severity.WARNING
    unknown_runs_threshold: int = 3

    def __post_init__(self) -> None:
        if self.reminder_interval <= timedelta(0):
            raise ValueError("reminder_interval must be positive")
        if self.unknown_runs_threshold < 1:
            raise ValueError("unknown_runs_threshold must be at least 1")


def state_id(account: str, region: str, identity: str, key: str) -> str:
    return f"{account}#{region}#{identity}#{key}"


@dataclass(frozen=True, kw_only=True)
class AlertState:
    """Everything remembered about one finding of one identity.

    ``version`` is the stored item's version: writes are conditional on the
    previous value, so a run that decided from stale state loses the write
    (and, for a notification, does not send it).
    ``announced_channels`` are the channels that delivered an ``opened`` or
    ``reminder`` in the current episode: ``resolved`` goes only to them, so
    nobody hears "resolved" about something they were never told about.
    """

    account: str
    region: str
    identity: str
    key: str
    check: str
    severity: Severity
    message: str
    fix: str
    record: DnsRecord | None = None
    cause: str = ""
    status: AlertStatus = AlertStatus.OPEN
    first_seen: datetime
    last_seen: datetime
    last_notified: datetime | None = None
    resolved_at: datetime | None = None
    reason: str = ""
    unknown_runs: int = 0
    pending_event: Event | None = None
    pending_since: datetime | None = None
    pending_channels: tuple[str, ...] = ()
    delivered_channels: tuple[str, ...] = ()
    announced_channels: tuple[str, ...] = ()
    lease_owner: str = ""
    lease_until: datetime | None = None
    version: int = 0

    @property
    def state_id(self) -> str:
        return state_id(self.account, self.region, self.identity, self.key)

    @property
    def decided_at(self) -> datetime:
        """The latest scan time any run wrote into this state (a run that scanned earlier must leave it alone)."""
        return max(t for t in (self.last_seen, self.resolved_at, self.last_notified, self.pending_since) if t)

    def leased_at(self, now: datetime) -> bool:
        """True while another run holds this state to deliver its pending event."""
        return bool(self.lease_owner) and self.lease_until is not None and self.lease_until > now

    def without_pending(self) -> AlertState:
        return replace(self, pending_event=None, pending_since=None, pending_channels=())


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One message to deliver, on the channels listed."""

    event: Event
    account: str
    region: str
    identity: str
    key: str
    check: str
    severity: Severity
    message: str
    fix: str
    first_seen: datetime
    at: datetime
    channels: tuple[str, ...]
    reason: str = ""
    record: DnsRecord | None = None
    cause: str = ""

    @property
    def state_id(self) -> str:
        return state_id(self.account, self.region, self.identity, self.key)


@dataclass(frozen=True)
class Decision:
    """The outcome of one ``decide`` call.

    ``new_states`` holds only states that change, each with ``version`` one
    above what was loaded. Every notification has exactly one state in
    ``new_states`` (same ``state_id``). ``in_flight`` counts states left alone
    because another run holds their lease; ``newer`` those left alone because
    a run that scanned later already wrote them.
    """

    notifications: tuple[Notification, ...]
    new_states: tuple[AlertState, ...]
    in_flight: int = 0
    newer: int = 0
