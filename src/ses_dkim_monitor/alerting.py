"""Turning a ScanReport into delivered alerts: load, decide, claim, deliver, commit.

The protocol that keeps overlapping runs from double-sending and keeps a
failed delivery from being lost:

1. **Load** every stored state of the report's regions (Query, consistent).
2. **Decide** (pure, ``alert_decision.decide``): notifications and new states.
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
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .alert_decision import AlertPolicy, AlertState, Event, Notification, after_delivery, claim, decide
from .models import ScanReport
from .notify_slack import SecretWebhookUrl, SlackNotifier
from .notify_sns import SnsNotifier
from .state_store import StateStore

# Longer than a Lambda can run (15 min) plus the scan that precedes alerting,
# so a lease only expires when its run is gone.
DEFAULT_LEASE = timedelta(minutes=30)


class Notifier(Protocol):
    """A delivery channel. ``deliver`` maps each notification's ``state_id`` to success."""

    name: str

    def deliver(self, notifications: Sequence[Notification]) -> Mapping[str, bool]: ...


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
    logger: logging.Logger | Any | None = None,
    run_id: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> AlertRunResult:
    """Decide and deliver the alerts for ``report``.

    Without a ``store`` the run is stateless: every current finding is sent
    as ``opened`` (useful for a one-off ``--notify`` from the CLI), with no
    reminders, resolutions or deduplication.
    A failure to load state raises: alerting blind would re-send everything.
    """
    log = logger or logging.getLogger(__name__)
    regions = tuple(dict.fromkeys([*report.regions, *(e.region for e in report.errors)]))
    previous: list[AlertState] = []
    if store is not None:
        for region in regions:
            previous.extend(store.load(account_id, region))
    channels = tuple(n.name for n in notifiers)
    decision = decide(previous, report, now=now, policy=policy, channels=channels, account_id=account_id)
    notes = {n.state_id: n for n in decision.notifications}

    owner = run_id or uuid.uuid4().hex
    claimed: dict[str, AlertState] = {}
    conflicts = written = errors = 0
    for state in decision.new_states:
        note = notes.get(state.state_id)
        candidate = claim(state, owner=owner, until=now + lease) if note else state
        outcome = _write(store, candidate, log)
        if outcome is None:
            errors += 1
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
            log.info("Notification delivered" if ok else "Notification not delivered; pending",
                     extra={**_fields(n), "event": n.event.value, "channel": notifier.name})

    if store is not None:
        for sid, state in claimed.items():
            outcome = _write(store, after_delivery(state, delivered=succeeded[sid], now=now), log)
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
    )


def build_alerting(settings: Any, session: Any, *, logger: logging.Logger | Any | None = None,
                   sleep: Callable[[float], None] = time.sleep,
                   ) -> tuple[StateStore | None, list[Notifier], AlertPolicy]:
    """Build the store, the configured channels and the policy from settings.

    Clients are created here (the composition root's helper), each in the
    region of the resource it talks to: a topic or secret ARN in another
    region than the Lambda still works. Call once per process (cold start) so
    the Slack secret cache survives between invocations. ``sleep`` is what
    the Slack channel waits with between retries (tests pass a recorder).
    """
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)
    store = None
    if settings.state_table:
        store = StateStore(session.client("dynamodb", config=config), settings.state_table)
    notifiers: list[Notifier] = []
    if settings.topic_arn:
        sns = session.client("sns", region_name=_arn_region(settings.topic_arn), config=config)
        notifiers.append(SnsNotifier(sns, settings.topic_arn, digest_threshold=settings.digest_threshold, logger=logger))
    if settings.slack_secret_arn:
        secrets = session.client("secretsmanager", region_name=_arn_region(settings.slack_secret_arn), config=config)
        url = SecretWebhookUrl(SecretsProvider(boto3_client=secrets), settings.slack_secret_arn)
        notifiers.append(SlackNotifier(url, digest_threshold=settings.digest_threshold, sleep=sleep, logger=logger))
    policy = AlertPolicy(
        reminder_interval=timedelta(hours=settings.reminder_hours),
        min_severity=settings.min_severity,
        unknown_runs_threshold=settings.unknown_runs_threshold,
    )
    return store, notifiers, policy


def _write(store: StateStore | None, state: AlertState, log: Any) -> bool | None:
    """True written, False lost the race, None failed (logged)."""
    if store is None:
        return True
    try:
        return store.write(state)
    except (ClientError, BotoCoreError) as error:
        log.error("Alert state write failed", extra={**_fields(state), "error": type(error).__name__})
        return None


def _fields(item: AlertState | Notification) -> dict[str, str]:
    return {"identity": item.identity, "region": item.region, "check": item.check, "finding": item.key}


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
