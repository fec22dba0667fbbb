"""Lambda entry point: a thin shell over the scan engine and the alerting.

Accepts an EventBridge scheduled event, or a manual event
``{"source": "ses-dkim-monitor.manual", "regions": [...], "notify": false}``
for a one-off run (regions override, ``notify: false`` scans without
alerting). Raises when a region could not be scanned, so the function's
Errors alarm fires and the heartbeat metric is not written.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from .aws_clients import caller_account, client_factory
from .models import IdentityStatus, ScanReport
from .render.json_report import summary
from .scan.engine import run_scan
from .settings import ConfigError, Settings, parse_region
from .wiring import build_alerting, build_probe

# Powertools objects hold no AWS client and no connection: safe at import.
logger = Logger()
metrics = Metrics()
# The package's modules log through logging.getLogger(__name__); give them the
# same JSON handler, level and Lambda context keys as this logger.
copy_config_to_registered_loggers(source_logger=logger, include={"ses_dkim_monitor"})

MANUAL_SOURCE = "ses-dkim-monitor.manual"


class ScanIncomplete(RuntimeError):
    """At least one region could not be scanned; the run must show as failed."""


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


def _account_id(context: Any) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else ""


def _publish_metrics(report: ScanReport) -> None:
    s = summary(report)
    metrics.add_metric(name="IdentitiesChecked", unit=MetricUnit.Count, value=s["identities"])
    metrics.add_metric(name="IdentitiesUnknown", unit=MetricUnit.Count, value=s[IdentityStatus.UNKNOWN.value])
    metrics.add_metric(name="FindingsCritical", unit=MetricUnit.Count, value=s["findings"]["critical"])
    metrics.add_metric(name="FindingsWarning", unit=MetricUnit.Count, value=s["findings"]["warning"])
    metrics.add_metric(name="FindingsInfo", unit=MetricUnit.Count, value=s["findings"]["info"])
    metrics.add_metric(name="DnsLookupsFailed", unit=MetricUnit.Count, value=s["dns_lookups_failed"])
    metrics.add_metric(name="RegionsFailed", unit=MetricUnit.Count, value=len(report.errors))


def run(
    event: Any,
    context: Any,
    *,
    env: dict[str, str] | None = None,
    session: boto3.Session | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The handler's work, with its dependencies injectable for tests."""
    settings = Settings.from_env(os.environ if env is None else env)
    regions = _regions_override(event) or settings.regions
    session = session or boto3.Session()
    started = now or datetime.now(UTC)
    report = run_scan(
        regions=regions,
        client=client_factory(session),
        probe=build_probe(settings),
        check_dmarc=settings.check_dmarc,
        now=lambda: started,
    )
    _publish_metrics(report)

    s = summary(report)
    result: dict[str, Any] = {
        "identities_checked": s["identities"],
        "problems": s[IdentityStatus.PROBLEM.value],
        "unknown": s[IdentityStatus.UNKNOWN.value],
        "findings": s["findings"],
        "regions": list(regions),
        "regions_failed": s["regions_failed"],
        "notifications_delivered": 0,
        "notifications_failed": 0,
    }
    if _wants_notify(event):
        result.update(_alert(report, settings, session, _account_id(context) or caller_account(session), started))

    if report.errors:
        raise ScanIncomplete("; ".join(f"{e.region}: {e.reason}" for e in report.errors))
    metrics.add_metric(name="ScanCompleted", unit=MetricUnit.Count, value=1)
    logger.info("scan completed", extra={"summary": result})
    return result


# One set of alerting clients per cold start and configuration, so the Slack
# webhook secret cached by Powertools Parameters survives between invocations.
_alerting_cache: dict[Settings, tuple[Any, list[Any], Any]] = {}


def _alert(
    report: ScanReport, settings: Settings, session: boto3.Session, account_id: str, now: datetime
) -> dict[str, int]:
    from .alerts.run import run_alerting

    if settings not in _alerting_cache:
        _alerting_cache[settings] = build_alerting(settings, session)
    store, notifiers, policy = _alerting_cache[settings]
    if store is None or not notifiers:
        logger.warning(
            "alerting not configured: scan only", extra={"state_table": bool(store), "channels": len(notifiers)}
        )
        return {}
    outcome = run_alerting(report, account_id=account_id, store=store, notifiers=notifiers, now=now, policy=policy)
    metrics.add_metric(name="NotificationsDelivered", unit=MetricUnit.Count, value=outcome.delivered)
    metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=outcome.failed)
    # Written on every alerting run (0 included) so their alarms go back to OK on a good run.
    metrics.add_metric(name="StateWriteErrors", unit=MetricUnit.Count, value=outcome.write_errors)
    metrics.add_metric(name="StateItemsUnreadable", unit=MetricUnit.Count, value=outcome.unreadable_items)
    return {
        "notifications_delivered": outcome.delivered,
        "notifications_failed": outcome.failed,
        "state_write_errors": outcome.write_errors,
        "state_items_unreadable": outcome.unreadable_items,
    }


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run(event, context)
