"""The deployed monitor's whole path through the Lambda handler:

SES (moto over HTTP) -> DNS (knotd) -> checks -> alert state (DynamoDB in moto)
-> SNS (read back through an SQS subscriber) and Slack (a local HTTP server).
Only the clock is injected.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from ses_dkim_monitor import handler
from tests.support.alert_builders import Topic, create_state_table
from tests.support.lambda_runtime import SCHEDULED, FakeContext
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

T0 = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


@pytest.fixture()
def knot(knot_both_ways):
    """Every scenario here runs twice: straight at knotd (asked per record) and through Unbound, a recursive
    resolver as production has (one question per DKIM record). The findings must not depend on which."""
    return knot_both_ways


@pytest.fixture()
def deployed(ses, knot, httpserver, monkeypatch):
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()
    topic = Topic()
    secret = boto3.client("secretsmanager").create_secret(
        Name="e2e-slack", SecretString=json.dumps({"webhook_url": httpserver.url_for("/services/T000/B000/hook")})
    )["ARN"]
    env = {
        "SCAN_REGIONS": "us-east-1",
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "DNS_TIMEOUT_SECONDS": "5",  # generous: the machine is shared, and a slow answer must not change a finding
        "DNS_LIFETIME_SECONDS": "15",
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), "e2e-state"),
        "ALERT_TOPIC_ARN": topic.arn,
        "SLACK_WEBHOOK_SECRET_ARN": secret,
        "SES_REQUESTS_PER_SECOND": "50",  # pacing is tests/scan/test_pacer.py's business
    }
    httpserver.expect_request("/services/T000/B000/hook", method="POST").respond_with_data("ok")
    yield env, topic, httpserver
    handler._alerting_cache.clear()


def run(env, at):
    result = handler.run(SCHEDULED, FakeContext(), env=env, now=at)
    handler.metrics.clear_metrics()
    return result


def test_deleted_cname_is_alerted_once_and_its_repair_announced(deployed, ses, knot):
    env, topic, slack = deployed
    tokens = ses("us-east-1").add_domain("e2e-mail.test")  # SES still says SUCCESS
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone("e2e-mail.test", customer_cname_records(tokens[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')

    first = run(env, T0)
    assert first["problems"] == 1 and first["notifications_delivered"] == 2  # SNS and Slack
    [opened] = topic.received()
    assert opened["MessageAttributes"]["event"]["Value"] == "opened"
    assert opened["MessageAttributes"]["check"]["Value"] == "dkim-record-missing"
    assert f"{tokens[2]}._domainkey.e2e-mail.test" in opened["Message"]
    assert len(slack.log) == 1
    assert f"{tokens[2]}._domainkey.e2e-mail.test" in slack.log[0][0].get_data(as_text=True)

    second = run(env, T0 + timedelta(hours=1))
    assert second["notifications_delivered"] == 0
    assert topic.received() == [] and len(slack.log) == 1

    knot.set_zone("e2e-mail.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    third = run(env, T0 + timedelta(hours=2))
    assert third["problems"] == 0 and third["notifications_delivered"] == 2
    [resolved] = topic.received()
    assert resolved["MessageAttributes"]["event"]["Value"] == "resolved"
    assert len(slack.log) == 2


def test_dns_outage_is_not_a_missing_record_alert(deployed, ses, knot):
    env, topic, _slack = deployed
    tokens = ses("us-east-1").add_domain("e2e-outage.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone("e2e-outage.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.break_zone("e2e-outage.test")
    results = [run(env, T0 + timedelta(hours=h)) for h in range(3)]
    assert [r["unknown"] for r in results] == [1, 1, 1]
    events = [
        (e["MessageAttributes"]["event"]["Value"], e["MessageAttributes"]["check"]["Value"]) for e in topic.received()
    ]
    # Nothing about missing records; one "cannot verify" after the third unknown run.
    assert events == [("opened", "monitor-cannot-verify")]
