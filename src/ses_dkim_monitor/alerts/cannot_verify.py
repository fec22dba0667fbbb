"""The monitor-cannot-verify counter: a pure transition of its own.

An identity whose lookups fail, or that a run could not finish checking
(``identity-not-checked``: out of time, or a signing zone left unconfirmed),
is ``unknown``. One unknown run is noise (a resolver hiccup, a slow run);
``policy.unknown_runs_threshold`` consecutive ones mean the monitor is blind
to that identity, which is itself worth an alert. The
counter lives in a synthetic state per identity (key ``monitor-cannot-verify``)
whose status is WATCHING while it counts below the threshold, OPEN once
alerted, RESOLVED when the identity can be checked again.

``transition`` says what the next run does with that state; the decision
module carries it out (emitting, retrying, storing).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .. import catalogue as c
from ..i18n import _, ngettext
from ..models import IdentityReport
from .model import AlertState, AlertStatus


class Step(enum.Enum):
    NOTHING = "nothing"  # no state, or nothing to change
    RETRY = "retry"  # an earlier event is still pending: deliver it first
    COUNT = "count"  # store a WATCHING state with one more unknown run
    OPEN = "open"  # the threshold is reached: alert
    STILL_OPEN = "still-open"  # alerted already: update the count, remind when due
    RESOLVE = "resolve"  # alerted, and checkable again (or deleted): resolve
    STOP_COUNTING = "stop-counting"  # counting, never alerted: close quietly


@dataclass(frozen=True)
class Transition:
    step: Step
    runs: int = 0  # consecutive unknown runs including this one (counting steps only)
    continues: bool = False  # the count carries on from ``prev`` (keep its first_seen)


def transition(prev: AlertState | None, *, unknown: bool, threshold: int) -> Transition:
    """The counter's next step for an identity present in the scan."""
    if not unknown:
        return gone(prev)
    if prev is not None and prev.status is AlertStatus.RESOLVED and prev.pending_event is not None:
        # Deliver the earlier "resolved" first; counting starts again next run.
        return Transition(Step.RETRY)
    continues = prev is not None and prev.status is not AlertStatus.RESOLVED
    runs = (prev.unknown_runs if continues and prev is not None else 0) + 1
    if prev is not None and prev.status is AlertStatus.OPEN:
        return Transition(Step.STILL_OPEN, runs, continues)
    if runs >= threshold:
        return Transition(Step.OPEN, runs, continues)
    return Transition(Step.COUNT, runs, continues)


def gone(prev: AlertState | None) -> Transition:
    """The counter's next step when the identity is checkable again, or deleted."""
    if prev is None:
        return Transition(Step.NOTHING)
    if prev.status is AlertStatus.OPEN:
        return Transition(Step.RESOLVE)
    if prev.status is AlertStatus.WATCHING:
        return Transition(Step.STOP_COUNTING)
    return Transition(Step.RETRY if prev.pending_event is not None else Step.NOTHING)


def describe(report: IdentityReport, runs: int) -> tuple[str, str]:
    """The alert's message and fix after ``runs`` consecutive unknown runs."""
    ident = report.identity
    error = next(
        (f.message for f in report.findings if f.check in (c.DNS_LOOKUP_FAILED, c.IDENTITY_NOT_CHECKED)),
        _("lookups failed"),
    )
    message = ngettext(
        "{identity} ({region}) could not be checked on {runs} consecutive run: {error}",
        "{identity} ({region}) could not be checked on {runs} consecutive runs: {error}",
        runs,
    ).format(identity=ident.name, region=ident.region, runs=runs, error=error)
    fix = _(c.CHECKS[c.MONITOR_CANNOT_VERIFY].fix).format(domain=ident.domain, runs=runs, error=error)
    return message, fix
