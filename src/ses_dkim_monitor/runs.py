"""What one Lambda invocation does, once the handler knows which kind it is.

A composition module, like ``wiring``: it builds nothing at import and holds
no policy of its own. Three kinds of work:

* ``scan_and_alert``: scan the planned shards and alert on what was found
  (the scheduled run when it fits one invocation, a manual run, and each
  fanned-out shard);
* ``fan_out``: when a scheduled run plans more shards than one invocation
  should take on, queue one message per shard on SQS (the same function
  consumes them, with a bounded concurrency) and record the run's size, so
  the heartbeat can say when every shard of it completed;
* ``shard_done``: record one shard of a fanned-out run as complete; True
  only for the delivery that completed the run (a shard seen again, or a
  run past its expiry, reports nothing).

A shard message only asks: the handler checks its target (``monitored``), and
its scan time is the one ``fan_out`` recorded for the run in the state table
(``recorded_scan_time``), never the message's. A scan time is what alert state
is ordered by: a forged future one would freeze every alert it touched.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from .accounts import AccountError, AccountTarget
from .alerts.run import run_alerting
from .aws_errors import error_code
from .models import IdentityStatus, ScanReport, ShardError
from .monitored import RUN_NOT_RECORDED, Rejected
from .render.json_report import summary
from .scan.deadline import Deadline
from .scan.engine import run_scan
from .scan.zone_memory import InMemoryZoneMemory
from .settings import Settings
from .wiring import account_targets, build_alerting, build_probe, build_shards, build_zone_memory

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("sqs:SendMessage", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem")

RUN_TTL = timedelta(days=3)  # a fanned-out run's progress item outlives any retry of its shards


@dataclass(frozen=True)
class ShardKey:
    account: str
    region: str
    role_arn: str | None = None


@dataclass
class Outcome:
    """What an invocation reports (its return value and log line)."""

    report: ScanReport | None = None
    alerting: dict[str, int] = field(default_factory=dict)
    fanned_out: int = 0


def targets_for(
    settings: Settings, session: Any, *, own_account: str, partition: str
) -> tuple[list[AccountTarget], list[ShardError]]:
    """The accounts to scan; when the organization cannot be listed, every region of our own account fails."""
    try:
        return account_targets(settings, session, own_account=own_account, partition=partition), []
    except AccountError as exc:
        return [], [ShardError(region=r, reason=exc.reason, account=exc.account_id) for r in settings.regions]


def scan_and_alert(
    settings: Settings,
    session: Any,
    targets: Sequence[AccountTarget],
    *,
    regions: Sequence[str],
    run_id: str,
    started: datetime,
    deadline: Deadline,
    notify: bool,
    metrics: Any,
    failed: Sequence[ShardError] = (),
) -> Outcome:
    plan = build_shards(settings, session, targets, regions=regions, run_id=run_id)
    report = run_scan(
        plan.shards,
        build_probe(settings),
        check_dmarc=settings.check_dmarc,
        now=lambda: started,
        deadline=deadline,
        # A scan-only run (notify false) writes nothing anywhere, remembered zones included.
        zones=build_zone_memory(settings, session) if notify else InMemoryZoneMemory(),
        max_confirmations=settings.max_zone_confirmations,
        max_details=settings.max_identity_details,
        nameservers=settings.check_nameservers,
        nameserver_period=settings.schedule_period_seconds,
        failed=[*failed, *plan.failed],
        throttled=lambda: plan.pacing.total().throttled,
        ses_recommendations=settings.import_ses_recommendations,
    )
    publish_scan_metrics(report, metrics)
    outcome = Outcome(report=report)
    if notify:
        outcome.alerting = alert(report, settings, session, started, metrics)
    return outcome


def publish_scan_metrics(report: ScanReport, metrics: Any) -> None:
    s = summary(report)
    metrics.add_metric(name="IdentitiesChecked", unit=MetricUnit.Count, value=s["identities"])
    metrics.add_metric(name="IdentitiesUnknown", unit=MetricUnit.Count, value=s[IdentityStatus.UNKNOWN.value])
    metrics.add_metric(name="FindingsCritical", unit=MetricUnit.Count, value=s["findings"]["critical"])
    metrics.add_metric(name="FindingsWarning", unit=MetricUnit.Count, value=s["findings"]["warning"])
    metrics.add_metric(name="FindingsInfo", unit=MetricUnit.Count, value=s["findings"]["info"])
    metrics.add_metric(name="DnsLookupsFailed", unit=MetricUnit.Count, value=s["dns_lookups_failed"])
    metrics.add_metric(name="RegionsFailed", unit=MetricUnit.Count, value=len(report.errors))
    metrics.add_metric(name="ShardsFailed", unit=MetricUnit.Count, value=len(report.errors))
    metrics.add_metric(name="SesThrottled", unit=MetricUnit.Count, value=report.ses_throttled)
    metrics.add_metric(name="IdentitiesOutOfTime", unit=MetricUnit.Count, value=report.out_of_time)


# One set of alerting clients per cold start and configuration, so the Slack
# webhook secret cached by Powertools Parameters survives between invocations.
_alerting_cache: dict[Settings, tuple[Any, list[Any], Any]] = {}


def alert(report: ScanReport, settings: Settings, session: Any, now: datetime, metrics: Any) -> dict[str, int]:
    """Alert on ``report``, account by account (alert state is kept per account)."""
    if settings not in _alerting_cache:
        _alerting_cache[settings] = build_alerting(settings, session)
    store, notifiers, policy = _alerting_cache[settings]
    if store is None or not notifiers:
        log.warning(
            "alerting not configured: scan only", extra={"state_table": bool(store), "channels": len(notifiers)}
        )
        return {}
    totals = {
        "notifications_delivered": 0,
        "notifications_failed": 0,
        "state_write_errors": 0,
        "state_items_unreadable": 0,
    }
    for account in report.accounts:
        outcome = run_alerting(
            report.for_account(account), account_id=account, store=store, notifiers=notifiers, now=now, policy=policy
        )
        totals["notifications_delivered"] += outcome.delivered
        totals["notifications_failed"] += outcome.failed
        totals["state_write_errors"] += outcome.write_errors
        totals["state_items_unreadable"] += outcome.unreadable_items
    metrics.add_metric(name="NotificationsDelivered", unit=MetricUnit.Count, value=totals["notifications_delivered"])
    metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=totals["notifications_failed"])
    # Written on every alerting run (0 included) so their alarms go back to OK on a good run.
    metrics.add_metric(name="StateWriteErrors", unit=MetricUnit.Count, value=totals["state_write_errors"])
    metrics.add_metric(name="StateItemsUnreadable", unit=MetricUnit.Count, value=totals["state_items_unreadable"])
    return totals


# -- fan-out ---------------------------------------------------------------------


def shard_keys(targets: Sequence[AccountTarget], regions: Sequence[str]) -> list[ShardKey]:
    return [ShardKey(t.account_id, r, t.role_arn) for t in targets for r in regions]


def should_fan_out(settings: Settings, keys: Sequence[ShardKey]) -> bool:
    return bool(settings.fanout_queue_url) and len(keys) > settings.shards_per_invocation


def fan_out(settings: Settings, session: Any, keys: Sequence[ShardKey], *, run_id: str, scan_time: datetime) -> int:
    """Record the run's size, then queue one message per shard. Returns the number queued."""
    dynamodb = session.client("dynamodb")
    dynamodb.put_item(
        TableName=settings.state_table,
        Item={
            "pk": {"S": f"run#{run_id}"},
            "sk": {"S": "progress"},
            "expected": {"N": str(len(keys))},
            "scan_time": {"S": scan_time.isoformat()},
            "expires_at": {"N": str(int((scan_time + RUN_TTL).timestamp()))},
        },
    )
    sqs = session.client("sqs")
    for start in range(0, len(keys), 10):
        entries = [
            {"Id": str(i), "MessageBody": shard_message(key, run_id=run_id, scan_time=scan_time)}
            for i, key in enumerate(keys[start : start + 10])
        ]
        response = sqs.send_message_batch(QueueUrl=settings.fanout_queue_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"could not queue {len(response['Failed'])} shard message(s): {response['Failed'][0]}")
    return len(keys)


SHARD_MESSAGE = "ses-dkim-monitor/shard/v1"


def shard_message(key: ShardKey, *, run_id: str, scan_time: datetime) -> str:
    return json.dumps(
        {
            "schema": SHARD_MESSAGE,
            "run_id": run_id,
            "account": key.account,
            "region": key.region,
            "role_arn": key.role_arn,
            "scan_time": scan_time.isoformat(),
        }
    )


RUN_ID = re.compile(r"[0-9a-f]{12}", re.ASCII)  # uuid4().hex[:12], as the scheduled run makes it


def parse_shard_message(body: str) -> tuple[ShardKey, str]:
    """(shard, run id) from a queued message; ValueError naming the field (never its value) for anything else.

    The message's ``scan_time`` is not read: the run's recorded one is used (``recorded_scan_time``).
    """
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("schema") != SHARD_MESSAGE:
        raise ValueError("not a shard message of this version")
    for name in ("account", "region", "run_id"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"{name}: expected a string")
    role_arn = data.get("role_arn")
    if role_arn is not None and not isinstance(role_arn, str):
        raise ValueError("role_arn: expected a string or null")
    if not RUN_ID.fullmatch(data["run_id"]):
        raise ValueError("run_id: expected 12 hexadecimal digits")
    return ShardKey(data["account"], data["region"], role_arn or None), data["run_id"]


def recorded_scan_time(settings: Settings, session: Any, run_id: str, *, now: datetime) -> datetime:
    """The scan time ``fan_out`` recorded for ``run_id``; Rejected when this function recorded no such run.

    A record past its ``expires_at`` counts as never recorded: DynamoDB's TTL deletes an expired item
    lazily (within days), and until then a shard redriven from an old dead-letter queue would still
    find it.
    """
    item = (
        session.client("dynamodb")
        .get_item(
            TableName=settings.state_table,
            Key={"pk": {"S": f"run#{run_id}"}, "sk": {"S": "progress"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    if not item or "scan_time" not in item or _expired(item, now):
        raise Rejected(RUN_NOT_RECORDED)
    return datetime.fromisoformat(item["scan_time"]["S"])


def _expired(item: dict[str, Any], now: datetime) -> bool:
    expires_at = item.get("expires_at", {}).get("N")
    return expires_at is not None and int(expires_at) <= int(now.timestamp())


def shard_done(settings: Settings, session: Any, key: ShardKey, *, run_id: str, now: datetime) -> bool:
    """Mark one shard of a fanned-out run complete; True only for the update that completed the run.

    The shard is added only if it is not in ``completed`` yet (and the run has not expired), so a
    shard delivered again (SQS delivers at least once; an old dead-letter queue redriven; a message
    sent by whoever may send to the queue) changes nothing and reports nothing: the heartbeat means
    the run became complete, once, never that one of its shards was seen again.
    """
    shard = f"{key.account}#{key.region}"
    try:
        response = session.client("dynamodb").update_item(
            TableName=settings.state_table,
            Key={"pk": {"S": f"run#{run_id}"}, "sk": {"S": "progress"}},
            UpdateExpression="ADD completed :shards",
            ConditionExpression="attribute_exists(pk) AND expires_at > :now AND NOT contains(completed, :shard)",
            ExpressionAttributeValues={
                ":shards": {"SS": [shard]},
                ":shard": {"S": shard},
                ":now": {"N": str(int(now.timestamp()))},
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False  # done before, or a run that is gone: either way not the update that completed it
        raise
    item = response.get("Attributes", {})
    # Each successful update adds one shard, so exactly one of them makes the set as large as expected.
    return len(item.get("completed", {}).get("SS", [])) == int(item.get("expected", {}).get("N", "0"))
