"""Deciding what to alert: previous state + findings + now + policy -> notifications + new state.

Pure (no boto3, no sockets, no clock), so every rule can be tested
exhaustively; ``run.py`` does the I/O around it. A run first *claims* a
state (a conditional write carrying a lease), then delivers, then *commits*
(``lifecycle.after_delivery``). A state under another run's live lease is not touched
at all, which is what keeps two overlapping runs from sending the same alert
twice.

Invariants (tests/alerts/test_decision_properties.py checks them over
generated histories):

* a channel never hears ``opened`` twice for one key without ``resolved``
  between them;
* nothing is resolved while its identity is ``unknown``;
* a channel is never both pending and delivered for one state;
* a state is never moved back in time by a run that scanned earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from .. import catalogue as c
from ..i18n import _
from ..models import Finding, IdentityReport, IdentityStatus, ScanReport, Severity
from . import cannot_verify
from .cannot_verify import Step
from .lifecycle import next_version, version_after
from .model import (
    REASON_DELETED,
    REASON_FIXED,
    REASON_VERIFIABLE,
    AlertPolicy,
    AlertState,
    AlertStatus,
    Decision,
    Event,
    Notification,
)


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
    of ``report`` (scanned and failed); states of other regions, and of
    identities a targeted report does not cover (``ScanReport.scope``), are
    left untouched.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _Decider(report, now=now, policy=policy, channels=tuple(channels), account=account_id).run(previous_states)


def is_unknown(report: IdentityReport) -> bool:
    # A failed lookup anywhere means an absent finding may only be unseen, so
    # the identity is treated as unknown even if the scan called it a problem.
    return report.status is IdentityStatus.UNKNOWN or any(f.check == c.DNS_LOOKUP_FAILED for f in report.findings)


class _Decider:
    """One ``decide`` call's working state: the outputs grow as identities are visited."""

    def __init__(
        self, report: ScanReport, *, now: datetime, policy: AlertPolicy, channels: tuple[str, ...], account: str
    ):
        self.report = report
        self.now = now
        self.policy = policy
        self.channels = channels
        self.account = account
        self.notes: list[Notification] = []
        self.states: list[AlertState] = []
        self.in_flight = 0
        self.newer = 0

    def run(self, previous_states: Iterable[AlertState]) -> Decision:
        regions = set(self.report.regions) | {e.region for e in self.report.errors}
        failed_regions = {e.region for e in self.report.errors}
        by_identity: dict[tuple[str, str], dict[str, AlertState]] = {}
        for s in previous_states:
            if s.account == self.account and s.region in regions and self.report.covers(s.region, s.identity):
                by_identity.setdefault((s.region, s.identity), {})[s.key] = s

        for ir in self.report.identities:
            ident = ir.identity
            self._identity(ir, by_identity.pop((ident.region, ident.name), {}))

        for (region, _identity), states in by_identity.items():
            for s in states.values():
                if self._leased(s):
                    continue
                if region in failed_regions:
                    self._retry_pending(s)  # the region could not be listed: absence means nothing
                elif s.key == c.MONITOR_CANNOT_VERIFY:
                    self._counter_step(s, cannot_verify.gone(s), reason=REASON_DELETED)
                else:
                    self._resolve(s, reason=REASON_DELETED)
        return Decision(tuple(self.notes), tuple(self.states), self.in_flight, self.newer)

    def _leased(self, prev: AlertState | None) -> bool:
        """The one guard before touching a stored state: True means leave it alone.

        A state another run holds (its lease is live) is that run's to finish.
        A state decided after this run's scan (seen, resolved or notified) was
        written by a run that looked later: deciding from this older scan
        would move it back in time (re-open what it resolved, move last_seen
        backwards).
        """
        if prev is None:
            return False
        if prev.leased_at(self.now):
            self.in_flight += 1
            return True
        if prev.decided_at > self.now:
            self.newer += 1
            return True
        return False

    # -- one identity present in the scan --------------------------------------

    def _identity(self, ir: IdentityReport, previous: dict[str, AlertState]) -> None:
        unknown = is_unknown(ir)
        current: dict[str, Finding] = {}
        below: set[str] = set()
        for f in ir.findings:
            # Not problems of the identity but the monitor's own blindness: counted by the
            # monitor-cannot-verify counter below, alerted only after several runs in a row.
            if f.check in (c.DNS_LOOKUP_FAILED, c.MONITOR_CANNOT_VERIFY, c.IDENTITY_NOT_CHECKED):
                continue
            if not f.severity.at_least(self.policy.min_severity):
                below.add(f.key)  # below the threshold: neither alerted nor stored
                continue
            if f.key not in current or f.severity.rank > current[f.key].severity.rank:
                current[f.key] = f

        for key, f in current.items():
            prev = previous.get(key)
            if not self._leased(prev):
                self._present(prev, ir, f)
        for key, s in previous.items():
            if key == c.MONITOR_CANNOT_VERIFY or key in current or self._leased(s):
                continue
            if unknown or s.check in self.report.unevaluated:
                self._retry_pending(s)  # not seen may mean not looked at: keep the state
            elif key in below or not s.severity.at_least(self.policy.min_severity):
                # Still there, or the policy changed: close it, saying so, rather than
                # leave an alert open that will never be resolved.
                minimum = self.policy.min_severity.value
                self._resolve(s, reason=_("below the minimum alert severity ({minimum})").format(minimum=minimum))
            else:
                self._resolve(s, reason=REASON_FIXED)

        prev = previous.get(c.MONITOR_CANNOT_VERIFY)
        if not self._leased(prev):
            step = cannot_verify.transition(prev, unknown=unknown, threshold=self.policy.unknown_runs_threshold)
            self._counter_step(prev, step, reason=REASON_VERIFIABLE, report=ir)

    def _present(self, prev: AlertState | None, ir: IdentityReport, f: Finding) -> None:
        if prev is None or prev.status is not AlertStatus.OPEN:
            self._open(
                prev,
                ir,
                key=f.key,
                check=f.check,
                severity=f.severity,
                message=f.message,
                fix=f.fix,
                record=f.record,
                cause=f.cause,
            )
            return
        # A new cause alone neither opens nor resolves: it is carried by the next reminder.
        updated = next_version(
            prev, severity=f.severity, message=f.message, fix=f.fix, record=f.record, cause=f.cause, last_seen=self.now
        )
        if f.severity.rank > prev.severity.rank:
            self._emit(
                updated,
                Event.REMINDER,
                reason=_("severity raised from {before} to {after}").format(
                    before=prev.severity.value, after=f.severity.value
                ),
            )
        else:
            self._continue_open(updated)

    def _open(
        self,
        prev: AlertState | None,
        ir: IdentityReport,
        *,
        key: str,
        check: str,
        severity: Severity,
        message: str,
        fix: str,
        record: Any,
        cause: str = "",
        unknown_runs: int = 0,
        first_seen: datetime | None = None,
    ) -> None:
        """Start a new episode (first sighting, or back after being resolved).

        A channel that never received the previous episode's ``resolved``
        (still pending) was never told the problem went away: for it the
        episode simply continues, so it is not sent a second ``opened``.
        """
        unaware: tuple[str, ...] = ()
        if prev is not None and prev.pending_event is Event.RESOLVED:
            unaware = tuple(ch for ch in prev.pending_channels if ch in self.channels)
        state = AlertState(
            account=self.account,
            region=ir.identity.region,
            identity=ir.identity.name,
            key=key,
            check=check,
            severity=severity,
            message=message,
            fix=fix,
            record=record,
            cause=cause,
            status=AlertStatus.OPEN,
            first_seen=first_seen or self.now,
            last_seen=self.now,
            unknown_runs=unknown_runs,
            announced_channels=unaware,
            version=version_after(prev),
        )
        self._emit(state, Event.OPENED, channels=tuple(ch for ch in self.channels if ch not in unaware))

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

    def _resolve(self, prev: AlertState, *, reason: str) -> None:
        if prev.status is AlertStatus.OPEN:
            told = tuple(ch for ch in prev.announced_channels if ch in self.channels)
            resolved = next_version(prev, status=AlertStatus.RESOLVED, resolved_at=self.now, reason=reason)
            if told:
                self._emit(resolved, Event.RESOLVED, reason=reason, channels=told)
            else:
                # Nobody heard it opened (delivery never succeeded): close quietly.
                self.states.append(resolved.without_pending())
        else:
            self._retry_pending(prev)

    def _retry_pending(self, prev: AlertState) -> None:
        """Keep the state as it is, but still deliver what an earlier run could not."""
        if prev.pending_event is not None:
            self._retry(next_version(prev))

    # -- the monitor-cannot-verify counter -------------------------------------

    def _counter_step(
        self,
        prev: AlertState | None,
        transition: cannot_verify.Transition,
        *,
        reason: str,
        report: IdentityReport | None = None,
    ) -> None:
        step = transition.step
        if step is Step.NOTHING:
            return
        if step is Step.RETRY:
            assert prev is not None
            self._retry_pending(prev)
            return
        if step is Step.RESOLVE:
            assert prev is not None
            self._resolve(prev, reason=reason)
            return
        if step is Step.STOP_COUNTING:
            assert prev is not None
            self.states.append(
                next_version(prev, status=AlertStatus.RESOLVED, resolved_at=self.now, reason=reason, unknown_runs=0)
            )
            return
        assert report is not None
        runs = transition.runs
        message, fix = cannot_verify.describe(report, runs)
        first_seen = prev.first_seen if transition.continues and prev is not None else self.now
        severity = c.CHECKS[c.MONITOR_CANNOT_VERIFY].severity
        # The monitor's own blindness is reported whatever min_severity says:
        # a filter meant for DNS/SES problems must not hide that none can be seen.
        if step is Step.STILL_OPEN:
            assert prev is not None
            self._continue_open(next_version(prev, message=message, fix=fix, last_seen=self.now, unknown_runs=runs))
        elif step is Step.OPEN:
            self._open(
                prev,
                report,
                key=c.MONITOR_CANNOT_VERIFY,
                check=c.MONITOR_CANNOT_VERIFY,
                severity=severity,
                message=message,
                fix=fix,
                record=None,
                unknown_runs=runs,
                first_seen=first_seen,
            )
        else:  # Step.COUNT
            ident = report.identity
            counting = AlertState(
                account=self.account,
                region=ident.region,
                identity=ident.name,
                key=c.MONITOR_CANNOT_VERIFY,
                check=c.MONITOR_CANNOT_VERIFY,
                severity=severity,
                message=message,
                fix=fix,
                status=AlertStatus.WATCHING,
                first_seen=first_seen,
                last_seen=self.now,
                unknown_runs=runs,
                version=version_after(prev),
            )
            self.states.append(counting)

    # -- emitting --------------------------------------------------------------

    def _emit(
        self, state: AlertState, event: Event, *, reason: str = "", channels: tuple[str, ...] | None = None
    ) -> None:
        targets = self.channels if channels is None else channels
        if not targets:
            self.states.append(state.without_pending())
            return
        state = replace(
            state,
            pending_event=event,
            pending_since=self.now,
            pending_channels=targets,
            delivered_channels=(),
            reason=reason,
        )
        self.states.append(state)
        self.notes.append(self._notification(state, event, targets))

    def _retry(self, state: AlertState) -> None:
        event = state.pending_event
        targets = tuple(ch for ch in state.pending_channels if ch in self.channels)
        if not targets or event is None:
            self.states.append(state.without_pending())  # the channel was removed from the config
            return
        state = replace(state, pending_channels=targets)
        self.states.append(state)
        self.notes.append(self._notification(state, event, targets))

    def _notification(self, state: AlertState, event: Event, channels: tuple[str, ...]) -> Notification:
        return Notification(
            event=event,
            account=state.account,
            region=state.region,
            identity=state.identity,
            key=state.key,
            check=state.check,
            severity=state.severity,
            message=state.message,
            fix=state.fix,
            first_seen=state.first_seen,
            at=self.now,
            channels=channels,
            reason=state.reason,
            record=state.record,
            cause=state.cause,
        )
