"""A stack's resources in moto, built from template.yaml, for tests that run the handler end to end.

Used by the event tests and by the built-artifact tests, which must see the
same behaviour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.ses_world import ACCOUNT_ID, customer_cname_records, easy_dkim_zone_records
from tests.support.template import create_table_from_template, deployed_environment, load_template

REGION = "us-east-1"
SCAN_REGIONS = ["us-east-1", "eu-west-1"]  # the stack's ScanRegions parameter in these tests

# What each event must do. A new file in events/ must be added here (test_every_event_file_is_covered).
EXPECTED = {
    "scheduled.json": {"regions": SCAN_REGIONS, "notify": True},
    "manual-scan.json": {"regions": ["us-east-1"], "notify": False},
    "manual-scan-and-notify.json": {"regions": SCAN_REGIONS, "notify": True},
}


@dataclass
class Deployment:
    """A stack's worth of resources in moto, and what the function would see."""

    env: dict[str, str]
    topic_arn: str
    table: str
    healthy: str
    broken: str
    broken_token: str

    def sns_messages(self) -> list[tuple[Any, ...]]:
        from moto.sns.models import sns_backends

        return list(sns_backends[ACCOUNT_ID][REGION].topics[self.topic_arn].sent_notifications)

    def state_items(self) -> list[dict[str, Any]]:
        return boto3.client("dynamodb", region_name=REGION).scan(TableName=self.table)["Items"]


def deploy(ses: Any, knot: Any, httpserver: Any, *, prefix: str) -> Deployment:
    """Create the stack's resources in moto and the DNS a healthy and a broken domain publish.

    ``prefix`` keeps domain names unique in the session-wide knotd.
    """
    template = load_template()
    table = f"{prefix}-state"
    create_table_from_template(template, table, REGION)
    topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    httpserver.expect_request("/services/T000/B000/hook", method="POST").respond_with_data("ok")
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"{prefix}/slack", SecretString=json.dumps({"webhook_url": httpserver.url_for("/services/T000/B000/hook")})
    )["ARN"]

    world = ses(REGION)
    healthy, broken = f"healthy-{prefix}.test", f"broken-{prefix}.test"
    ok_tokens = world.add_domain(healthy)
    bad_tokens = world.add_domain(broken)
    dmarc = '\n_dmarc TXT "v=DMARC1; p=none"'
    knot.set_zone(healthy, customer_cname_records(ok_tokens) + dmarc)
    knot.set_zone(broken, customer_cname_records(bad_tokens[:2]) + dmarc)  # third DKIM CNAME deleted
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(ok_tokens) + "\n" + easy_dkim_zone_records(bad_tokens))

    env = deployed_environment(
        template,
        {
            "ScanRegions": ",".join(SCAN_REGIONS),
            "DnsNameservers": knot.address,
            "SlackWebhookSecretArn": secret_arn,
            "SesRequestsPerSecond": "50",  # pacing is tests/scan/test_pacer.py's business
        },
        region=REGION,
        attrs={
            "StateTable": table,
            "AlertTopic": topic_arn,
            "FanOutQueue": boto3.client("sqs", region_name=REGION).create_queue(QueueName=f"{prefix}-fanout")[
                "QueueUrl"
            ],
            "RecheckQueue": boto3.client("sqs", region_name=REGION).create_queue(QueueName=f"{prefix}-rechecks")[
                "QueueUrl"
            ],
        },
    )
    env["DNS_AUTHORITATIVE_PORT"] = str(knot.port)  # the stand-in's authoritative servers (53 in AWS)
    return Deployment(
        env=env, topic_arn=topic_arn, table=table, healthy=healthy, broken=broken, broken_token=bad_tokens[2]
    )


def check_result(name: str, result: dict[str, Any], dep: Deployment, slack_posts: int) -> None:
    """Assertions shared with tests/test_sam_build.py (the built artifact must behave the same)."""
    expected = EXPECTED[name]
    json.dumps(result)  # the summary must be JSON-able: Lambda serialises it
    assert result["regions"] == expected["regions"]
    assert result["identities_checked"] == 2
    assert result["problems"] == 1 and result["unknown"] == 0
    assert result["findings"]["critical"] == 1
    sns = dep.sns_messages()
    if expected["notify"]:
        assert result["notifications_failed"] == 0
        assert len(sns) >= 1 and slack_posts >= 1, "both channels must be told"
        assert result["notifications_delivered"] == len(sns) + slack_posts
        text = " ".join(str(part) for message in sns for part in message[1:3])
        assert dep.broken in text and dep.healthy not in text
        assert any(
            item["identity"]["S"] == dep.broken and item["check"]["S"] == "dkim-record-missing"
            for item in dep.state_items()
        ), "alert state must be stored in the table"
    else:
        assert result["notifications_delivered"] == 0 and result["notifications_failed"] == 0
        assert sns == [] and slack_posts == 0, "notify=false must not alert"
        assert dep.state_items() == [], "notify=false must not touch alert state"
