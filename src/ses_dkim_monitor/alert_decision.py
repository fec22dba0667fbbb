"""Deciding what to alert: previous state + findings + now + policy -> notifications + new state.

This module is pure (no boto3, no sockets, no clock) so every rule can be
tested exhaustively; ``alerting.py`` does the I/O around it.

One ``AlertState`` exists per (account, region, identity, finding key). The
finding key is ``Finding.key`` (``check#subject``), so each missing DKIM token
is tracked, reminded and resolved on its own. Besides the scan's findings
there is one synthetic key per identity, ``monitor-cannot-verify``, whose
state counts consecutive ``unknown`` runs.

Delivery is at-least-once per channel and tracked in the state itself: a
state carries the event still to be delivered (``pending_event``) and the
channels that have not acknowledged it (``pending_channels``). A run first
*claims* a state (a conditional write carrying a lease), then delivers, then
*commits* (``after_delivery``). A state under another run's live lease is not
touched at all, which is what keeps two overlapping runs from sending the
same alert twice.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .catalogue import CHECKS
from .models import DnsRecord, Finding, IdentityReport, IdentityStatus, ScanReport, Severity

CANNOT_VERIFY = "monitor-cannot-verify"
DNS_LOOKUP_FAILED = "dns-lookup-failed"

REASON_FIXED = "the check passes again"
REASON_DELETED = "identity deleted"
REASON_VERIFIABLE = "the monitor can check this identity again"


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

    def leased_at(self, now: datetime) -> bool:
        """True while another run holds this state to deliver its pending event."""
        return bool(self.lease_owner) and self.lease_until is not None and self.lease_until > now


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

    @property
    def state_id(self) -> str:
        return state_id(self.account, self.region, self.identity, self.key)


@dataclass(frozen=True)
class Decision:
    """The outcome of one ``decide`` call.

    ``new_states`` holds only states that change, each with ``version`` one
    above what was loaded. Every notification has exactly one state in
    ``new_states`` (same ``state_id``). ``in_flight`` counts states left alone
    because another run holds their lease.
    """

    notifications: tuple[Notification, ...]
    new_states: tuple[AlertState, ...]
    in_flight: int = 0


def state_id(account: str, region: str, identity: str, key: str) -> str:
    return f"{account}#{region}#{identity}#{key}"


def decide(
    previous_states: Iterable[AlertState],
    report: ScanReport,
    *,
    now: datetime,
    policy: AlertPolicy,
    channels: Sequence[str],
    account_id: str,
) -> Decision:
    """Compare a scan with the stored state and say what to send and store.

    ``previous_states`` should be every state of ``account_id`` in the regions
    of ``report`` (scanned and failed); states of other regions are ignored.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _Decider(report, now=now, policy=policy, channels=tuple(channels), account=account_id).run(previous_states)


def after_delivery(state: AlertState, *, delivered: Iterable[str], now: datetime) -> AlertState:
    """The state to commit once a claimed notification went out to some channels.

    Channels not in ``delivered`` stay pending and are retried on the next run;
    the lease is released either way.
    """
    done = tuple(dict.fromkeys(c for c in delivered if c in state.pending_channels))
    remaining = tuple(c for c in state.pending_channels if c not in done)
    announced = state.announced_channels
    if state.pending_event in (Event.OPENED, Event.REMINDER):
        announced = tuple(dict.fromkeys(announced + done))
    finished = not remaining
    return replace(
        state,
        pending_event=None if finished else state.pending_event,
        pending_since=None if finished else state.pending_since,
        pending_channels=remaining,
        delivered_channels=tuple(dict.fromkeys(state.delivered_channels + done)),
        announced_channels=announced,
        last_notified=now if done else state.last_notified,
        lease_owner="",
        lease_until=None,
        version=state.version + 1,
    )


def claim(state: AlertState, *, owner: str, until: datetime) -> AlertState:
    """The decided state with this run's lease on it, written before delivering."""
    return replace(state, lease_owner=owner, lease_until=until)


def _is_unknown(report: IdentityReport) -> bool:
    # A failed lookup anywhere means an absent finding may only be unseen, so
    # the identity is treated as unknown even if the scan called it a problem.
    return report.status is IdentityStatus.UNKNOWN or any(f.check == DNS_LOOKUP_FAILED for f in report.findings)


class _Decider:
    """One ``decide`` call's working state: the outputs grow as identities are visited."""

    def __init__(self, report: ScanReport, *, now: datetime, policy: AlertPolicy, channels: tuple[str, ...], account: str):
        self.report = report
        self.now = now
        self.policy = policy
        self.channels = channels
        self.account = account
        self.notes: list[Notification] = []
        self.states: list[AlertState] = []
        self.in_flight = 0

    def run(self, previous_states: Iterable[AlertState]) -> Decision:
        regions = set(self.report.regions) | {e.region for e in self.report.errors}
        failed_regions = {e.region for e in self.report.errors}
        by_identity: dict[tuple[str, str], dict[str, AlertState]] = {}
        for s in previous_states:
            if s.account == self.account and s.region in regions:
                by_identity.setdefault((s.region, s.identity), {})[s.key] = s

        for ir in self.report.identities:
            ident = ir.identity
            self._identity(ir, by_identity.pop((ident.region, ident.name), {}))

        for (region, _identity), states in by_identity.items():
            for s in states.values():
                if region in failed_regions:
                    self._retry_only(s)  # the region could not be listed: absence means nothing
                elif s.key == CANNOT_VERIFY:
                    self._close_sentinel(s, reason=REASON_DELETED)
                else:
                    self._absent(s, reason=REASON_DELETED)
        return Decision(tuple(self.notes), tuple(self.states), self.in_flight)

    # -- one identity present in the scan --------------------------------------

    def _identity(self, ir: IdentityReport, previous: dict[str, AlertState]) -> None:
        unknown = _is_unknown(ir)
        current: dict[str, Finding] = {}
        below: set[str] = set()
        for f in ir.findings:
            if f.check in (DNS_LOOKUP_FAILED, CANNOT_VERIFY):
                continue
            if not f.severity.at_least(self.policy.min_severity):
                below.add(f.key)  # below the threshold: neither alerted nor stored
                continue
            if f.key not in current or f.severity.rank > current[f.key].severity.rank:
                current[f.key] = f

        for key, f in current.items():
            self._present(previous.get(key), ir, f)
        for key, s in previous.items():
            if key == CANNOT_VERIFY or key in current:
                continue
            if key in below or not s.severity.at_least(self.policy.min_severity):
                # Still there, or the policy changed: close it, saying so, rather than
                # leave an alert open that will never be resolved.
                self._absent(s, reason=f"below the minimum alert severity ({self.policy.min_severity.value})")
            elif unknown:
                self._retry_only(s)  # not seen may mean not looked at: keep the state
            else:
                self._absent(s, reason=REASON_FIXED)
        self._sentinel(previous.get(CANNOT_VERIFY), ir, unknown)

    def _present(self, prev: AlertState | None, ir: IdentityReport, f: Finding) -> None:
        if prev is not None and prev.leased_at(self.now):
            self.in_flight += 1
            return
        if prev is None or prev.status is not AlertStatus.OPEN:
            self._open(prev, ir, key=f.key, check=f.check, severity=f.severity, message=f.message, fix=f.fix, record=f.record)
            return
        updated = replace(prev, severity=f.severity, message=f.message, fix=f.fix, record=f.record, last_seen=self.now,
                          version=prev.version + 1)
        if f.severity.rank > prev.severity.rank:
            self._emit(updated, Event.REMINDER, reason=f"severity raised from {prev.severity.value} to {f.severity.value}")
        else:
            self._continue_open(updated)

    def _open(self, prev: AlertState | None, ir: IdentityReport, *, key: str, check: str, severity: Severity,
              message: str, fix: str, record: DnsRecord | None, unknown_runs: int = 0,
              first_seen: datetime | None = None) -> None:
        """Start a new episode (first sighting, or back after being resolved)."""
        state = AlertState(
            account=self.account, region=ir.identity.region, identity=ir.identity.name, key=key, check=check,
            severity=severity, message=message, fix=fix, record=record, status=AlertStatus.OPEN,
            first_seen=first_seen or self.now, last_seen=self.now, unknown_runs=unknown_runs,
            version=(prev.version + 1) if prev is not None else 1,
        )
        self._emit(state, Event.OPENED)

    def _continue_open(self, updated: AlertState) -> None:
        """An open finding seen again: retry what is pending, else remind when due."""
        if updated.pending_event is not None:
            self._retry(updated)
            return
        since = updated.last_notified or updated.first_seen
        if self.channels and self.now - since >= self.policy.reminder_interval:
            self._emit(updated, Event.REMINDER)
        else:
            self.states.append(updated)

    # -- findings no longer seen -----------------------------------------------

    def _absent(self, prev: AlertState, *, reason: str) -> None:
        if prev.leased_at(self.now):
            self.in_flight += 1
            return
        if prev.status is AlertStatus.OPEN:
            told = tuple(c for c in prev.announced_channels if c in self.channels)
            resolved = replace(prev, status=AlertStatus.RESOLVED, resolved_at=self.now, reason=reason,
                               version=prev.version + 1)
            if told:
                self._emit(resolved, Event.RESOLVED, reason=reason, channels=told)
            else:
                # Nobody heard it opened (delivery never succeeded): close quietly.
                self.states.append(_without_pending(resolved))
        elif prev.status is AlertStatus.WATCHING:
            self._close_sentinel(prev, reason=reason)
        elif prev.pending_event is not None:
            self._retry(replace(prev, version=prev.version + 1))

    def _retry_only(self, prev: AlertState) -> None:
        """Keep the state as it is, but still deliver what an earlier run could not."""
        if prev.leased_at(self.now):
            self.in_flight += 1
        elif prev.pending_event is not None:
            self._retry(replace(prev, version=prev.version + 1))

    # -- the monitor-cannot-verify counter -------------------------------------

    def _sentinel(self, prev: AlertState | None, ir: IdentityReport, unknown: bool) -> None:
        if prev is not None and prev.leased_at(self.now):
            self.in_flight += 1
            return
        if not unknown:
            if prev is None:
                return
            if prev.status is AlertStatus.OPEN:
                self._absent(prev, reason=REASON_VERIFIABLE)
            else:
                self._close_sentinel(prev, reason=REASON_VERIFIABLE)
            return

        if prev is not None and prev.status is AlertStatus.RESOLVED and prev.pending_event is not None:
            # Deliver the earlier "resolved" first; counting starts again next run.
            self._retry(replace(prev, version=prev.version + 1))
            return
        counting = prev is not None and prev.status is not AlertStatus.RESOLVED
        first_seen = prev.first_seen if counting and prev is not None else self.now
        runs = (prev.unknown_runs if counting else 0) + 1
        error = next((f.message for f in ir.findings if f.check == DNS_LOOKUP_FAILED), "lookups failed")
        check = CHECKS[CANNOT_VERIFY]
        message = (f"{ir.identity.name} ({ir.identity.region}) could not be checked on {runs} consecutive "
                   f"run{'s' if runs != 1 else ''}: {error}")
        fix = check.fix.format(domain=ir.identity.domain, runs=runs, error=error)
        # The monitor's own blindness is reported whatever min_severity says:
        # a filter meant for DNS/SES problems must not hide that none can be seen.
        if prev is not None and prev.status is AlertStatus.OPEN:
            updated = replace(prev, message=message, fix=fix, last_seen=self.now, unknown_runs=runs,
                              version=prev.version + 1)
            self._continue_open(updated)
        elif runs >= self.policy.unknown_runs_threshold:
            self._open(prev, ir, key=CANNOT_VERIFY, check=CANNOT_VERIFY, severity=check.severity, message=message,
                       fix=fix, record=None, unknown_runs=runs, first_seen=first_seen)
        else:
            self.states.append(AlertState(
                account=self.account, region=ir.identity.region, identity=ir.identity.name, key=CANNOT_VERIFY,
                check=CANNOT_VERIFY, severity=check.severity, message=message, fix=fix, status=AlertStatus.WATCHING,
                first_seen=first_seen, last_seen=self.now, unknown_runs=runs,
                version=(prev.version + 1) if prev is not None else 1,
            ))

    def _close_sentinel(self, prev: AlertState, *, reason: str) -> None:
        if prev.status is AlertStatus.OPEN:
            self._absent(prev, reason=reason)
        elif prev.status is AlertStatus.WATCHING:
            self.states.append(replace(prev, status=AlertStatus.RESOLVED, resolved_at=self.now, reason=reason,
                                       unknown_runs=0, version=prev.version + 1))
        elif prev.pending_event is not None:
            self._retry_only(prev)

    # -- emitting --------------------------------------------------------------

    def _emit(self, state: AlertState, event: Event, *, reason: str = "", channels: tuple[str, ...] | None = None) -> None:
        targets = self.channels if channels is None else channels
        if not targets:
            self.states.append(_without_pending(state))
            return
        state = replace(state, pending_event=event, pending_since=self.now, pending_channels=targets,
                        delivered_channels=(), reason=reason)
        self.states.append(state)
        self.notes.append(self._notification(state, event, targets))

    def _retry(self, state: AlertState) -> None:
        targets = tuple(c for c in state.pending_channels if c in self.channels)
        if not targets or state.pending_event is None:
            self.states.append(_without_pending(state))  # the channel was removed from the config
            return
        state = replace(state, pending_channels=targets)
        self.states.append(state)
        self.notes.append(self._notification(state, state.pending_event, targets))

    def _notification(self, state: AlertState, event: Event, channels: tuple[str, ...]) -> Notification:
        return Notification(
            event=event, account=state.account, region=state.region, identity=state.identity, key=state.key,
            check=state.check, severity=state.severity, message=state.message, fix=state.fix,
            first_seen=state.first_seen, at=self.now, channels=channels, reason=state.reason, record=state.record,
        )


def _without_pending(state: AlertState) -> AlertState:
    return replace(state, pending_event=None, pending_since=None, pending_channels=())
