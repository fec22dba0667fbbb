"""Assembling the adapters from settings: the composition roots' shared helper.

The CLI and the Lambda handler both call these; nothing else builds clients,
resolvers or channels. Each client is created in the region of the resource
it talks to, so a topic or secret ARN in another region than the Lambda
still works.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config

from .accounts import AccountError, AccountTarget, assumed_session, organization_targets, role_targets
from .alerts.dynamodb_store import DynamoDbStateStore
from .alerts.model import AlertPolicy
from .alerts.ports import Notifier, StateStore
from .aws_clients import CLIENT_CONFIG
from .models import ShardError
from .notify.slack import SlackNotifier
from .notify.slack_webhook import SecretWebhookUrl
from .notify.sns import SnsNotifier
from .scan.dns_probe import DnsProbe, RateLimit, make_resolver
from .scan.engine import Shard
from .scan.pacer import PACING_HEADROOM, PacerRegistry, pace_client
from .scan.zone_memory import DynamoDbZoneMemory, InMemoryZoneMemory, ZoneMemory
from .settings import Settings
from .status_page import StatusPageLinks, StatusPageWriter

# Alerting clients: a few quick retries. A failed delivery stays pending and
# is retried by the next run, so there is no point in retrying for long here.
log = logging.getLogger(__name__)

ALERTING_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)


def build_probe(settings: Settings) -> DnsProbe:
    resolver = make_resolver(settings.nameservers, timeout=settings.dns_timeout, lifetime=settings.dns_lifetime)
    rate = RateLimit(settings.dns_max_queries_per_second) if settings.dns_max_queries_per_second > 0 else None
    return DnsProbe(
        resolver,
        max_in_flight=settings.dns_max_in_flight,
        rate=rate,
        authoritative_port=settings.authoritative_port,
        chains=settings.dns_query_mode == "auto",
    )


@dataclass
class ShardPlan:
    """What a run scans: a shard per (account, region) with paced SES clients, and the shards that failed to start."""

    shards: list[Shard]
    failed: list[ShardError]
    pacing: PacerRegistry

    @property
    def accounts(self) -> list[str]:
        return list(dict.fromkeys([*(s.account for s in self.shards), *(e.account for e in self.failed)]))


def account_targets(settings: Settings, session: Any, *, own_account: str, partition: str) -> list[AccountTarget]:
    """The accounts to scan: exactly the configured roles', every ACTIVE account of the organization, or our own.

    Raises AccountError when the organization's accounts cannot be listed.
    """
    if settings.scan_role_arns:
        return role_targets(settings.scan_role_arns, own_account=own_account)
    if settings.organization_role_name:
        organizations = session.client("organizations", config=CLIENT_CONFIG)
        return organization_targets(
            organizations, role_name=settings.organization_role_name, own_account=own_account, partition=partition
        )
    return [AccountTarget(account_id=own_account, role_arn=None)]


def build_shards(
    settings: Settings,
    session: Any,
    targets: Sequence[AccountTarget],
    *,
    regions: Sequence[str],
    run_id: str,
    pacing: PacerRegistry | None = None,
) -> ShardPlan:
    """A shard per target account and region, its two SES clients sharing one pacer.

    An account whose role cannot be assumed becomes a failed shard for every
    region; the other accounts are scanned all the same.
    """
    # A little under the quota: a pacer at exactly the quota is throttled by jitter (scan/pacer.py).
    pacing = pacing or PacerRegistry(settings.ses_requests_per_second * PACING_HEADROOM)
    shards: list[Shard] = []
    failed: list[ShardError] = []
    for target in targets:
        try:
            account_session = assumed_session(
                session, target, run_id=run_id, external_id=settings.role_external_id or None
            )
        except AccountError as exc:
            log.error("account cannot be scanned", extra={"account": target.account_id, "reason": exc.reason})
            failed += [ShardError(region=r, reason=exc.reason, account=target.account_id) for r in regions]
            continue
        for region in regions:
            sesv2 = account_session.client("sesv2", region_name=region, config=CLIENT_CONFIG)
            ses = account_session.client("ses", region_name=region, config=CLIENT_CONFIG)
            pacer, stats = pacing.pacer(target.account_id, region), pacing.stats(target.account_id, region)
            pace_client(sesv2, pacer, stats)
            pace_client(ses, pacer, stats)
            shards.append(Shard(account=target.account_id, region=region, sesv2=sesv2, ses=ses))
    return ShardPlan(shards, failed, pacing)


def build_zone_memory(settings: Settings, session: Any) -> ZoneMemory:
    """Confirmed signing zones: in the state table when there is one, else for this process only."""
    if settings.state_table:
        return DynamoDbZoneMemory(session.client("dynamodb", config=ALERTING_CLIENT_CONFIG), settings.state_table)
    return InMemoryZoneMemory()


def build_alerting(
    settings: Settings, session: Any, *, sleep: Callable[[float], None] = time.sleep
) -> tuple[StateStore | None, list[Notifier], AlertPolicy]:
    """The store, the configured channels and the policy.

    Call once per process (cold start) so the Slack secret cache survives
    between invocations. ``sleep`` is what the Slack channel waits with
    between retries (tests pass a recorder).
    """
    store: StateStore | None = None
    if settings.state_table:
        store = DynamoDbStateStore(session.client("dynamodb", config=ALERTING_CLIENT_CONFIG), settings.state_table)
    links = status_page_links(settings)
    notifiers: list[Notifier] = []
    if settings.topic_arn:
        sns = session.client("sns", region_name=arn_region(settings.topic_arn), config=ALERTING_CLIENT_CONFIG)
        notifiers.append(SnsNotifier(sns, settings.topic_arn, digest_threshold=settings.digest_threshold, links=links))
    if settings.slack_secret_arn:
        secrets = session.client(
            "secretsmanager", region_name=arn_region(settings.slack_secret_arn), config=ALERTING_CLIENT_CONFIG
        )
        url = SecretWebhookUrl(
            SecretsProvider(boto3_client=secrets), settings.slack_secret_arn, extra_hosts=settings.slack_webhook_hosts
        )
        notifiers.append(SlackNotifier(url, digest_threshold=settings.digest_threshold, sleep=sleep, links=links))
    policy = AlertPolicy(
        reminder_interval=timedelta(hours=settings.reminder_hours),
        min_severity=settings.min_severity,
        unknown_runs_threshold=settings.unknown_runs_threshold,
    )
    return store, notifiers, policy


def status_page_links(settings: Settings) -> StatusPageLinks | None:
    """The links alerts carry to the status page, or None when no page is written (``STATUS_PAGE_BUCKET`` empty)."""
    if not settings.status_page_bucket:
        return None
    return StatusPageLinks(settings.status_page_bucket, settings.status_page_region)


def build_status_page(settings: Settings, session: Any) -> StatusPageWriter | None:
    """The status page writer (an S3 client in the bucket's region, the stack's), or None when it is off."""
    links = status_page_links(settings)
    if links is None:
        return None
    s3 = session.client("s3", region_name=links.region, config=ALERTING_CLIENT_CONFIG)
    return StatusPageWriter(s3, links.bucket, links=links)


def arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
