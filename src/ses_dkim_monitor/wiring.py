"""Assembling the adapters from settings: the composition roots' shared helper.

The CLI and the Lambda handler both call these; nothing else builds clients,
resolvers or channels. Each client is created in the region of the resource
it talks to, so a topic or secret ARN in another region than the Lambda
still works.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config

from .alerts.dynamodb_store import DynamoDbStateStore
from .alerts.model import AlertPolicy
from .alerts.ports import Notifier, StateStore
from .notify.slack import SecretWebhookUrl, SlackNotifier
from .notify.sns import SnsNotifier
from .scan.dns_probe import DnsProbe, make_resolver
from .settings import Settings

# Alerting clients: a few quick retries. A failed delivery stays pending and
# is retried by the next run, so there is no point in retrying for long here.
ALERTING_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)


def build_probe(settings: Settings) -> DnsProbe:
    resolver = make_resolver(settings.nameservers, timeout=settings.dns_timeout, lifetime=settings.dns_lifetime)
    return DnsProbe(resolver, max_in_flight=settings.dns_max_in_flight)


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
    notifiers: list[Notifier] = []
    if settings.topic_arn:
        sns = session.client("sns", region_name=arn_region(settings.topic_arn), config=ALERTING_CLIENT_CONFIG)
        notifiers.append(SnsNotifier(sns, settings.topic_arn, digest_threshold=settings.digest_threshold))
    if settings.slack_secret_arn:
        secrets = session.client(
            "secretsmanager", region_name=arn_region(settings.slack_secret_arn), config=ALERTING_CLIENT_CONFIG
        )
        url = SecretWebhookUrl(SecretsProvider(boto3_client=secrets), settings.slack_secret_arn)
        notifiers.append(SlackNotifier(url, digest_threshold=settings.digest_threshold, sleep=sleep))
    policy = AlertPolicy(
        reminder_interval=timedelta(hours=settings.reminder_hours),
        min_severity=settings.min_severity,
        unknown_runs_threshold=settings.unknown_runs_threshold,
    )
    return store, notifiers, policy


def arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
