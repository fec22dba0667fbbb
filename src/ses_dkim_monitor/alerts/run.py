"""Turning a ScanReport into delivered alerts: load, decide, claim, deliver, commit.

The protocol that keeps overlapping runs from double-sending and keeps a
failed delivery from being lost:

1. **Load** every stored state of the report's regions (Query, consistent).
2. **Decide** (pure, ``decision.decide``): notifications and new states.
3. **Claim**: write each changed state conditionally on the version loaded.
   A state that carries a notification is written with this run's lease and
   with the event recorded as pending on every target channel. A run that
   loses the condition race drops that notification: the winner sends it.
   Other runs leave a leased state alone until the lease expires.
4. **Deliver** per channel; a channel that raises does not stop the others.
5. **Commit**: write the delivery result (still conditional). Channels that
   failed stay pending and are retried by the next run; channels that
   succeeded are not sent the same event again.

A crash between claim and commit leaves the lease to expire; the next run
after that re-sends to the channels still pending (at-least-once delivery).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import error_code
from ..models import ScanReport
from .decision import decide
from .lifecycle import after_delivery, claim
from .model import AlertPolicy, AlertState, Event, Notification
from .ports import Notifier, StateStore

log = logging.getLogger(__name__)

# Longer than a Lambda can run (15 min) plus the scan that precedes alerting,
# so a lease only expires when its run is gone.
DEFAULT_LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class Delivery:
    state_id: str
    channel: str
    event: Event
    delivered: bool


@dataclass(frozen=True)
class AlertRunResult:
    """What one run did, for logs, metrics and tests.

    ``notifications`` are those this run claimed and attempted; ``conflicts``
    counts writes lost to another run (their notifications were not sent);
    ``in_flight`` counts states skipped because another run holds them.
    """

    notifications: tuple[Notification, ...]
    deliveries: tuple[Delivery, ...]
    conflicts: int = 0
    in_flight: int = 0
    states_written: int = 0
    write_errors: int = 0
    unreadable_items: int = 0
    newer_states: int = 0

    @property
    def delivered(self) -> int:
        return sum(1 for d in self.deliveries if d.delivered)

    @property
    def failed(self) -> int:
        return sum(1 for d in self.deliveries if not d.delivered)

    @property
    def pending(self) -> int:
        """Notifications with at least one channel left for the next run."""
        return len({d.state_id for d in self.deliveries if not d.delivered})


def run_alerting(
    report: ScanReport,
    *,
    account_id: str,
    store: StateStore | None,
    notifiers: Sequence[Notifier],
    now: datetime,
    policy: AlertPolicy,
    run_id: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> AlertRunResult:
    """Decide and deliver the alerts for ``report``.

    Without a ``store`` the run is stateless: every current finding is sent
    as ``opened`` (useful for a one-off ``--notify`` from the CLI), with no
    reminders, resolutions or deduplication.

    A failure to load state raises (the run fails and the Errors alarm
    fires): alerting blind would re-send everything. A failure to *write*
    state does not stop delivery: the notification goes out anyway
    (at-least-once: the next run, not knowing it was sent, sends it again),
    and the error is counted in ``write_errors`` for the StateWriteErrors
    alarm. Losing an alert is worse than hearing it twice.
    """
    regions = tuple(dict.fromkeys([*report.regions, *(e.region for e in report.errors)]))
    previous: list[AlertState] = []
    unreadable = 0
    if store is not None:
        for region in regions:
            loaded = store.load(account_id, region)
            previous.extend(loaded.states)
            unreadable += loaded.unreadable
    channels = tuple(n.name for n in notifiers)
    decision = decide(previous, report, now=now, policy=policy, channels=channels, account_id=account_id)
    notes = {n.state_id: n for n in decision.notifications}

    owner = run_id or uuid.uuid4().hex
    claimed: dict[str, AlertState] = {}
    unclaimed: set[str] = set()  # delivered although the claim could not be written
    conflicts = written = errors = 0
    for state in decision.new_states:
        note = notes.get(state.state_id)
        candidate = claim(state, owner=owner, until=now + lease) if note else state
        outcome = _write(store, candidate)
        if outcome is None:
            errors += 1
            if note:
                log.error("Alert state could not be claimed; delivering anyway", extra=_fields(state))
                claimed[state.state_id] = candidate
                unclaimed.add(state.state_id)
            continue
        if not outcome:
            conflicts += 1
            log.info("Alert state changed by another run; left to it", extra=_fields(state))
            continue
        if store is not None:
            written += 1
        if note:
            claimed[state.state_id] = candidate

    to_send = [n for n in decision.notifications if n.state_id in claimed]
    succeeded: dict[str, list[str]] = {sid: [] for sid in claimed}
    deliveries: list[Delivery] = []
    for notifier in notifiers:
        batch = [n for n in to_send if notifier.name in n.channels]
        if not batch:
            continue
        try:
            results = notifier.deliver(batch)
        except Exception:  # one broken channel must not silence the others
            log.exception("Notifier raised; its notifications stay pending", extra={"channel": notifier.name})
            results = {}
        for n in batch:
            ok = bool(results.get(n.state_id, False))
            deliveries.append(Delivery(n.state_id, notifier.name, n.event, ok))
            if ok:
                succeeded[n.state_id].append(notifier.name)
            log.info(
                "Notification delivered" if ok else "Notification not delivered; pending",
                extra={**_fields(n), "event": n.event.value, "channel": notifier.name},
            )

    if store is not None:
        for sid, state in claimed.items():
            committed = after_delivery(state, delivered=succeeded[sid], now=now)
            if sid in unclaimed:
                # The claim never reached the table: record the delivery in its place if the table works again.
                committed = replace(committed, version=state.version)
            outcome = _write(store, committed)
            if outcome:
                written += 1
            else:
                # Delivered but not recorded: the lease expires and the next run
                # re-sends to whatever is still marked pending.
                errors += 1
                log.error("Could not record delivery", extra=_fields(state))

    return AlertRunResult(
        notifications=tuple(to_send),
        deliveries=tuple(deliveries),
        conflicts=conflicts,
        in_flight=decision.in_flight,
        states_written=written,
        write_errors=errors,
        unreadable_items=unreadable,
        newer_states=decision.newer,
    )


def _write(store: StateStore | None, state: AlertState) -> bool | None:
    """True written, False lost the race, None failed (logged)."""
    if store is None:
        return True
    try:
        return store.write(state)
    except (ClientError, BotoCoreError) as error:
        log.error("Alert state write failed", extra={**_fields(state), "error": error_code(error)})
        return None


def _fields(item: AlertState | Notification) -> dict[str, str]:
    return {"identity": item.identity, "region": item.region, "check": item.check, "finding": item.key}
