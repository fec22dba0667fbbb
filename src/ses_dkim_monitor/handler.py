"""Lambda entry point: a thin shell that tells events apart and hands them to ``runs``.

* An EventBridge scheduled event: the hourly scan of every configured
  account and region; fanned out over SQS when it plans more shards than one
  invocation should take on (``SHARDS_PER_INVOCATION``, ``FANOUT_QUEUE_URL``).
* SQS records of that queue: one shard each, scanned and alerted; failures
  are reported per record (partial batch response) so SQS retries only them
  and, after ``maxReceiveCount``, moves them to the dead-letter queue.
* A manual event ``{"source": "ses-dkim-monitor.manual", "regions": [...],
  "notify": false}`` for a one-off run.
* An EventBridge event from the re-check rules (a CloudTrail record of an SES
  or Route 53 call, SES's own events): the identities it puts in doubt are
  queued for a re-check (``rechecks.on_event``). An event of any other shape
  is logged, counted (``TriggerEventsMalformed``) and dropped: retrying
  cannot fix it.
* SQS records of the re-check queue: one step of a re-check job each
  (``rechecks.on_job``).

Whoever may send to a queue may write a message in the function's own format,
so a queue message is obeyed only when it names what the configuration itself
monitors (``monitored``): a configured account and region, and for a shard the
configured role and a run this function recorded. The scan uses the derived
target and the recorded scan time, never the message's. A message that breaks
a rule is logged by its id and the rule only, counted
(``QueueMessagesRejected``, alarmed) and dropped: retrying cannot make it
true.

After a scan that alerted, with ``STATUS_PAGE_BUCKET`` set, the status page is
written (``status_page``): each shard's page, and the index by the invocation
that scanned the whole run or completed a fanned-out one. Writing it never
fails the run: alerts have gone out by then.

Raises when a shard could not be scanned, so the function's Errors alarm
fires and the heartbeat metric is not written.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from . import i18n, rechecks, runs, status_page
from .accounts import AccountTarget
from .aws_clients import caller_identity
from .models import IdentityStatus, ScanReport
from .monitored import Monitored, Rejected
from .render.json_report import summary
from .scan.deadline import Deadline
from .settings import ConfigError, Settings, parse_region
from .triggers import jobs
from .triggers.events import EventKind, MalformedEvent, classify
from .wiring import build_status_page

# Powertools objects hold no AWS client and no connection: safe at import.
logger = Logger()
metrics = Metrics()
# The package's modules log through logging.getLogger(__name__); give them the
# same JSON handler, level and Lambda context keys as this logger.
copy_config_to_registered_loggers(source_logger=logger, include={"ses_dkim_monitor"})

MANUAL_SOURCE = "ses-dkim-monitor.manual"
_alerting_cache = runs._alerting_cache  # kept as a name the tests clear between runs


class ScanIncomplete(RuntimeError):
    """At least one shard could not be scanned; the run must show as failed."""


def _regions_override(event: Any) -> tuple[str, ...]:
    if not isinstance(event, dict) or event.get("source") != MANUAL_SOURCE:
        return ()
    regions = event.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ConfigError("event.regions: must be a list of region names")
    return tuple(parse_region(r, setting="event.regions") for r in regions)


def _wants_notify(event: Any) -> bool:
    if isinstance(event, dict) and event.get("source") == MANUAL_SOURCE:
        value = event.get("notify", True)
        if not isinstance(value, bool):
            raise ConfigError("event.notify: must be true or false")
        return value
    return True


def _own_account(context: Any, session: boto3.Session) -> tuple[str, str]:
    """(account, partition) of the function, from its ARN; STS when there is none (tests, local runs)."""
    parts = (getattr(context, "invoked_function_arn", "") or "").split(":")
    if len(parts) > 4 and parts[4]:
        return parts[4], parts[1]
    return caller_identity(session)


def _deadline(context: Any, settings: Settings, clock: Callable[[], float]) -> Deadline:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return Deadline.never()
    return Deadline.after(remaining() / 1000 - settings.time_reserve_seconds, clock=clock)


def _is_sqs(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return False
    return all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def run(
    event: Any,
    context: Any,
    *,
    env: dict[str, str] | None = None,
    session: boto3.Session | None = None,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The handler's work, with its dependencies injectable for tests, in the language of ``ALERT_LANGUAGE``."""
    settings = Settings.from_env(os.environ if env is None else env)
    with i18n.speaking(settings.language):
        return _run(event, context, settings, session or boto3.Session(), now or datetime.now(UTC), clock)


def _run(
    event: Any, context: Any, settings: Settings, session: boto3.Session, started: datetime, clock: Callable[[], float]
) -> dict[str, Any]:
    if _is_sqs(event):
        return _from_queue(event, context, settings, session, clock, started)
    own_account, partition = _own_account(context, session)
    if not _is_scan(event):
        ctx = rechecks.Context(settings, session, started, own_account, partition, metrics)
        return rechecks.on_event(event if isinstance(event, dict) else {"event": event}, ctx)
    regions = _regions_override(event) or settings.regions
    notify = _wants_notify(event)
    targets, failed = runs.targets_for(settings, session, own_account=own_account, partition=partition)
    run_id = uuid.uuid4().hex[:12]
    keys = runs.shard_keys(targets, regions)
    if notify and not failed and runs.should_fan_out(settings, keys):
        queued = runs.fan_out(settings, session, keys, run_id=run_id, scan_time=started)
        metrics.add_metric(name="ShardsQueued", unit=MetricUnit.Count, value=queued)
        logger.info("scan fanned out", extra={"run_id": run_id, "shards": queued})
        return {"fanned_out": queued, "run_id": run_id}
    outcome = runs.scan_and_alert(
        settings,
        session,
        targets,
        regions=regions,
        run_id=run_id,
        started=started,
        deadline=_deadline(context, settings, clock),
        notify=notify,
        metrics=metrics,
        failed=failed,
    )
    if notify and outcome.report is not None:
        rechecks.write_index(outcome.report, settings, session, now=started)
        # The index is the whole report's page only when this run covered every configured region.
        _write_status_pages(outcome.report, settings, session, index=set(regions) == set(settings.regions))
    return _finish(outcome, regions)


def _write_status_pages(report: ScanReport, settings: Settings, session: boto3.Session, *, index: bool) -> bool:
    """Each shard's page of ``report`` and, with ``index``, the whole report's page as the index.

    Called after alerting. A re-check's report (``scope`` set) writes nothing.
    False when a page could not be written.
    """
    writer = build_status_page(settings, session)
    if writer is None or report.scope is not None:
        return True
    return _count_page_writes(lambda: writer.write_report(report, index=index))


def _write_status_index(settings: Settings, session: boto3.Session, *, run_started: datetime) -> None:
    """The index of a fanned-out run, listing every shard page: written by the invocation that completed it."""
    writer = build_status_page(settings, session)
    if writer is not None:
        _count_page_writes(lambda: writer.write_listing_index(run_started=run_started))


def _count_page_writes(write: Callable[[], status_page.WriteResult]) -> bool:
    """Write, count ``StatusPageWriteErrors`` (0 included, so its alarm clears on a good run), never raise.

    The adapter already turns S3's refusals into a count; this also keeps a
    bug in rendering from failing a run whose alerts have gone out.
    """
    try:
        result = write()
    except Exception as error:  # the type is enough to find it; the message could quote the page
        logger.warning("status page not written", extra={"error": type(error).__name__})
        result = status_page.WriteResult(failed=1)
    metrics.add_metric(name="StatusPageWriteErrors", unit=MetricUnit.Count, value=result.failed)
    return not result.failed


def _is_scan(event: Any) -> bool:
    """The scheduled or a manual event; anything else goes to the re-check path, which drops what it cannot use."""
    try:
        return classify(event) in (EventKind.SCHEDULE, EventKind.MANUAL)
    except MalformedEvent:
        return False


def _finish(outcome: runs.Outcome, regions: tuple[str, ...] | list[str], *, heartbeat: bool = True) -> dict[str, Any]:
    report = outcome.report
    assert report is not None
    s = summary(report)
    result: dict[str, Any] = {
        "identities_checked": s["identities"],
        "problems": s[IdentityStatus.PROBLEM.value],
        "unknown": s[IdentityStatus.UNKNOWN.value],
        "findings": s["findings"],
        "regions": list(regions),
        "accounts": list(report.accounts),
        "regions_failed": s["regions_failed"],
        "shards_failed": s["shards_failed"],
        "ses_throttled": report.ses_throttled,
        "out_of_time": report.out_of_time,
        "notifications_delivered": 0,
        "notifications_failed": 0,
    }
    result.update(outcome.alerting)
    if report.errors:
        raise ScanIncomplete("; ".join(f"{e.account or '-'}/{e.region}: {e.reason}" for e in report.errors))
    if heartbeat:
        metrics.add_metric(name="ScanCompleted", unit=MetricUnit.Count, value=1)
    logger.info("scan completed", extra={"summary": result})
    return result


def _from_queue(
    event: dict[str, Any],
    context: Any,
    settings: Settings,
    session: boto3.Session,
    clock: Callable[[], float],
    started: datetime,
) -> dict[str, Any]:
    """Each SQS record is one shard of a fanned-out run or one step of a re-check job.

    A record that raises is reported as a batch item failure: SQS retries it
    and, after ``maxReceiveCount``, moves it to the dead-letter queue. A
    record that cannot be read at all is dropped at once (counted in
    ``QueueMessagesMalformed``), and so is one that names anything the
    configuration does not monitor (``QueueMessagesRejected``): no retry can
    change either.
    """
    own_account, partition = _own_account(context, session)
    monitored = Monitored(settings, session, own_account=own_account, partition=partition)

    def one(record: SQSRecord) -> dict[str, Any]:
        if jobs.is_job(record.body):
            try:
                job = jobs.decode(record.body)
            except ValueError as exc:
                return _malformed(record, exc)
            try:
                monitored.job(job.account, job.region, job.change_account)
            except Rejected as rejected:
                return _rejected(record, rejected.rule)
            ctx = rechecks.Context(settings, session, started, own_account, partition, metrics)
            return rechecks.on_job(job, ctx, deadline=_deadline(context, settings, clock))
        try:
            key, run_id = runs.parse_shard_message(record.body)
        except (ValueError, KeyError, TypeError) as exc:
            return _malformed(record, exc)
        try:
            target = monitored.shard(key.account, key.region, key.role_arn)
            scan_time = runs.recorded_scan_time(settings, session, run_id, now=started)
        except Rejected as rejected:
            return _rejected(record, rejected.rule)
        return _shard(target, key.region, run_id, scan_time)

    def _shard(target: AccountTarget, region: str, run_id: str, scan_time: datetime) -> dict[str, Any]:
        key = runs.ShardKey(target.account_id, region, target.role_arn)
        outcome = runs.scan_and_alert(
            settings,
            session,
            [target],
            regions=[region],
            run_id=run_id,
            started=scan_time,
            deadline=_deadline(context, settings, clock),
            notify=True,
            metrics=metrics,
        )
        pages_written = True
        if outcome.report is not None:
            rechecks.write_index(outcome.report, settings, session, now=scan_time)
            # Before _finish, which raises for a shard that could not be read: its page says so.
            pages_written = _write_status_pages(outcome.report, settings, session, index=False)
        result = _finish(outcome, [region], heartbeat=False)
        if runs.shard_done(settings, session, key, run_id=run_id, now=started):
            # The heartbeat means "every shard of the last run completed": written by the one delivery that
            # completed it, never again by a shard of it delivered later.
            metrics.add_metric(name="ScanCompleted", unit=MetricUnit.Count, value=1)
            logger.info("fanned-out scan completed", extra={"run_id": run_id})
            # Every shard wrote its page before marking itself done, so the listing finds them all. When
            # this shard's page failed, S3 would most likely refuse the index too: spare the time.
            if pages_written:
                _write_status_index(settings, session, run_started=scan_time)
        return result

    def _malformed(record: SQSRecord, exc: Exception) -> dict[str, Any]:
        logger.error("queue message dropped: unreadable", extra={"message_id": record.message_id, "reason": str(exc)})
        metrics.add_metric(name="QueueMessagesMalformed", unit=MetricUnit.Count, value=1)
        return {"dropped": str(exc)}

    def _rejected(record: SQSRecord, rule: str) -> dict[str, Any]:
        # The id and the rule only: the message's content is whatever its sender chose to write.
        logger.error("queue message rejected", extra={"message_id": record.message_id, "rule": rule})
        metrics.add_metric(name="QueueMessagesRejected", unit=MetricUnit.Count, value=1)
        return {"rejected": rule}

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(process_partial_response(event=event, record_handler=one, processor=processor, context=context))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context)
