"""A deployed monitor's alerting (state table, SNS topic with a queue subscriber, Slack secret) in moto.

Wired by ``build_alerting`` exactly as the handler wires it; Slack is a
pytest-httpserver on 127.0.0.1 at a Slack-shaped path.
"""

from __future__ import annotations

import json

import boto3

from ses_dkim_monitor.alerts.run import AlertRunResult, run_alerting
from ses_dkim_monitor.models import ScanReport
from ses_dkim_monitor.settings import Settings
from ses_dkim_monitor.wiring import build_alerting
from tests.support.alert_builders import ACCOUNT, Topic, create_state_table

HOOK = "/services/T000/B000/e2e"


class Deployment:
    """One deployed monitor: table, topic with a queue subscriber, Slack secret."""

    def __init__(self, slack, **settings_env: str):
        dynamodb = boto3.client("dynamodb")
        self.topic = Topic()
        secrets = boto3.client("secretsmanager")
        secret_arn = secrets.create_secret(
            Name="slack-webhook", SecretString=json.dumps({"webhook_url": slack.url_for(HOOK)})
        )["ARN"]
        self.settings = Settings.from_env(
            {
                "SCAN_REGIONS": "us-east-1",
                "STATE_TABLE_NAME": create_state_table(dynamodb),
                "ALERT_TOPIC_ARN": self.topic.arn,
                "SLACK_WEBHOOK_SECRET_ARN": secret_arn,
                **settings_env,
            }
        )
        self.slack = slack
        self.sleeps: list[float] = []
        self.store, self.notifiers, self.policy = build_alerting(
            self.settings, boto3.Session(), sleep=self.sleeps.append
        )

    def run(self, report: ScanReport, now, **options) -> AlertRunResult:
        options.setdefault("store", self.store)
        options.setdefault("notifiers", self.notifiers)
        return run_alerting(report, account_id=ACCOUNT, now=now, policy=self.policy, **options)

    def sns_events(self) -> list[tuple[str, str, str]]:
        """(event, identity, key) of every SNS message the queue subscriber got since last asked."""
        found = []
        for envelope in self.topic.received():
            body = json.loads(envelope["Message"])
            found.append((body["event"], body["identity"], body["key"]))
        return found

    def drain(self) -> None:
        """Forget what the channels received so far."""
        self.sns_events()
        self.slack_posts()

    def slack_posts(self) -> list[dict]:
        """Bodies Slack accepted (2xx) since last asked."""
        accepted = [json.loads(req.get_data()) for req, resp in self.slack.log if resp.status_code < 300]
        self.slack.clear_log()
        return accepted
