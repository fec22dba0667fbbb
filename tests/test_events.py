"""Every event in events/ through the real handler, configured the way template.yaml configures it.

The function's environment is built from the template (tests/test_template.py
``deployed_environment``) with the resources it refers to created in moto:
the state table from the template's own definition, the alert topic, and a
Slack webhook secret pointing at a local HTTP server. DNS answers come from
a real knotd. So a change to the template's wiring, an event file or the
handler's event handling shows up here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ses_dkim_monitor import handler
from tests.ses_fixture import ACCOUNT_ID, customer_cname_records, easy_dkim_zone_records
from tests.test_template import create_table_from_template, deployed_environment, load_template

EVENTS = Path(__file__).resolve().parents[1] / "events"
REGION = "us-east-1"
SCAN_REGIONS = ["us-east-1", "eu-west-1"]  # the stack's ScanRegions parameter in these tests

# What each event must do. A new file in events/ must be added here (test_every_event_file_is_covered).
EXPECTED = {
    "scheduled.json": {"regions": SCAN_REGIONS, "notify": True},
    "manual-scan.json": {"regions": ["us-east-1"], "notify": False},
    "manual-scan-and-notify.json": {"regions": SCAN_REGIONS, "notify": True},
}


@dataclass
class FakeContext:
    function_name: str = "ses-dkim-monitor-MonitorFunction-1A2B3C"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ses-dkim-monitor-MonitorFunction-1A2B3C"
    aws_request_id: str = "0e7f5a52-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


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
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"{prefix}/slack", SecretString=json.dumps({"webhook_url": httpserver.url_for("/hook")}))["ARN"]

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
        {"ScanRegions": ",".join(SCAN_REGIONS), "DnsNameservers": knot.address, "SlackWebhookSecretArn": secret_arn},
        region=REGION,
        attrs={"StateTable": table, "AlertTopic": topic_arn},
    )
    return Deployment(env=env, topic_arn=topic_arn, table=table, healthy=healthy, broken=broken,
                      broken_token=bad_tokens[2])


def emitted(stdout: str) -> list[dict[str, Any]]:
    """The Embedded Metric Format documents Powertools printed."""
    docs = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def metric_values(docs: list[dict[str, Any]]) -> dict[str, float]:
    values: dict[str, float] = {}
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


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
        assert any(item["identity"]["S"] == dep.broken and item["check"]["S"] == "dkim-record-missing"
                   for item in dep.state_items()), "alert state must be stored in the table"
    else:
        assert result["notifications_delivered"] == 0 and result["notifications_failed"] == 0
        assert sns == [] and slack_posts == 0, "notify=false must not alert"
        assert dep.state_items() == [], "notify=false must not touch alert state"


@pytest.fixture(autouse=True)
def clean_metrics():
    handler.metrics.clear_metrics()
    yield
    handler.metrics.clear_metrics()


def test_every_event_file_is_covered():
    files = sorted(p.name for p in EVENTS.glob("*.json"))
    assert files == sorted(EXPECTED), f"events/ holds {files}; give each an expectation in EXPECTED"


def test_scheduled_event_is_what_eventbridge_sends():
    event = json.loads((EVENTS / "scheduled.json").read_text())
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert {"id", "account", "time", "region", "resources", "detail"} <= set(event)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_runs_through_the_handler(name, ses, knot, httpserver, monkeypatch, capsys):
    dep = deploy(ses, knot, httpserver, prefix=f"events-{Path(name).stem}")
    for key, value in dep.env.items():
        if not key.startswith("POWERTOOLS_"):  # read by Powertools at import, set by conftest
            monkeypatch.setenv(key, value)
    event = json.loads((EVENTS / name).read_text())

    result = handler.lambda_handler(event, FakeContext())

    check_result(name, result, dep, slack_posts=len(httpserver.log))
    metrics = metric_values(emitted(capsys.readouterr().out))
    assert metrics["ScanCompleted"] == 1, "every completed run writes the heartbeat the alarm watches"
    if EXPECTED[name]["notify"]:
        assert metrics["NotificationsFailed"] == 0, "the delivery alarm needs a 0 on good runs"
