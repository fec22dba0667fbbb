"""A scheduled run fanned out over SQS, end to end through the Lambda handler.

Everything AWS is moto's server over HTTP: SQS (the shard queue, its dead-letter queue, and the
queue subscribed to the alert topic that stands in for a consumer), DynamoDB (alert state and the
run's progress item), STS (a role per member account; moto puts an assumed role's credentials in
that role's account), SES in three member accounts and two regions, and SNS. DNS is knotd. Lambda's
SQS event source is played by the test (tests/support/fanout.py): it receives with
``VisibilityTimeout=0`` and deletes what the function did not report as failed, so every retry is a
receive the test makes; nothing sleeps.

What moto does not enforce, and how the test gets around it: STS lets anyone assume any role,
whether it exists or trusts the caller, and moto never evaluates a trust policy of another account.
The role that cannot be assumed is therefore refused by IAM enforcement (``reset-auth``) of the
function identity's own policy, which does not allow ``sts:AssumeRole`` on it; STS answers
``AccessDenied`` (HTTP 403), exactly as it does in AWS for a member role whose trust policy does not
name the monitor.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from ses_dkim_monitor import handler
from tests.support.alert_builders import Topic, create_state_table
from tests.support.fanout import (
    EventSource,
    ShardQueue,
    function_identity,
    iam_enforced,
    member_role,
    metric_writes,
    shard_queue,
)
from tests.support.lambda_runtime import SCHEDULED, FakeContext, metric_values
from tests.support.ses_world import (
    ACCOUNT_ID,
    account_session,
    customer_cname_records,
    easy_dkim_zone_records,
)
from tests.support.throttling import ses_denied

MEMBERS = ("111111111111", "222222222222", "333333333333")
DENIED = MEMBERS[2]  # the account whose shards fail in the failure tests
REGIONS = ("us-east-1", "eu-west-1")
ROLE = "ses-dkim-monitor-scan"
SHARDS = [(account, region) for account in MEMBERS for region in REGIONS]


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{ROLE}"


def domain(account: str, region: str) -> str:
    return f"fanout-{account[:3]}-{region}.test"


@dataclass
class Fleet:
    """The deployed monitor with its fan-out queue, and the member accounts it watches."""

    queue: ShardQueue
    source: EventSource
    topic: Topic
    table: str
    missing: dict[tuple[str, str], str]  # (account, region) -> the DKIM name deleted from that shard's domain

    def invoke(self, event: dict[str, Any]) -> Any:
        return handler.lambda_handler(event, FakeContext())

    def alerts(self) -> list[dict[str, Any]]:
        """The structured SNS payloads the topic's queue subscriber got since last asked."""
        return [json.loads(envelope["Message"]) for envelope in self.topic.received()]

    def progress(self, run_id: str) -> dict[str, Any]:
        item = boto3.client("dynamodb").get_item(
            TableName=self.table, Key={"pk": {"S": f"run#{run_id}"}, "sk": {"S": "progress"}}, ConsistentRead=True
        )
        return item["Item"]


@pytest.fixture()
def fleet(ses, knot, moto, monkeypatch) -> Iterator[Fleet]:
    """Three member accounts, each with a domain per region whose third DKIM CNAME was deleted.

    The function's credentials are an IAM user's (see the module docstring) allowed to assume the
    first two members' roles only; that matters only once a test switches IAM enforcement on.
    """
    key = function_identity(
        boto3.client("iam"), name="monitor-function", assumable_roles=[role_arn(a) for a in MEMBERS[:2]]
    )
    for account in MEMBERS:
        member_role(account_session(account), name=ROLE, trusted_account=ACCOUNT_ID)
    missing: dict[tuple[str, str], str] = {}
    ses_zone: list[str] = []
    for account, region in SHARDS:
        name = domain(account, region)
        tokens = ses(region, account=account).add_domain(name)  # SES still says SUCCESS
        knot.set_zone(name, customer_cname_records(tokens[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')
        ses_zone.append(easy_dkim_zone_records(tokens))
        missing[(account, region)] = f"{tokens[2]}._domainkey.{name}."  # fully qualified, as alerts print it
    knot.set_zone("dkim.amazonses.com", "\n".join(ses_zone))

    # From here on the test process and the function sign with the function identity's key.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3.client() keeps its credentials: start afresh
    sqs = boto3.client("sqs")
    queue = shard_queue(sqs, "fanout-shards", max_receive_count=2)
    topic = Topic()
    table = create_state_table(boto3.client("dynamodb"), "fanout-state")
    env = {
        "SCAN_REGIONS": ",".join(REGIONS),
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": table,
        "ALERT_TOPIC_ARN": topic.arn,
        "SCAN_ROLE_ARNS": ",".join(role_arn(a) for a in MEMBERS),
        "FANOUT_QUEUE_URL": queue.url,
        "SHARDS_PER_INVOCATION": "1",
        "SES_REQUESTS_PER_SECOND": "50",  # pacing is tests/scan/test_pacer.py's business, not this test's
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_WEBHOOK_SECRET_ARN", raising=False)
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()
    yield Fleet(queue=queue, source=EventSource(sqs, queue), topic=topic, table=table, missing=missing)
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()


def shard_of(message: dict[str, Any]) -> tuple[str, str]:
    body = json.loads(message["Body"])
    return body["account"], body["region"]


def fan_out(fleet: Fleet, capsys) -> tuple[str, list[dict[str, Any]]]:
    """The scheduled invocation; returns the run id and the messages it queued (received once)."""
    result = fleet.invoke(SCHEDULED)
    metrics = metric_values(capsys.readouterr().out)
    assert result == {"fanned_out": len(SHARDS), "run_id": result["run_id"]}
    assert metrics["ShardsQueued"] == len(SHARDS)
    assert "ScanCompleted" not in metrics, "queuing the shards is not completing the scan"
    assert fleet.alerts() == [], "the scheduled invocation scans nothing itself"
    assert fleet.progress(result["run_id"])["expected"] == {"N": str(len(SHARDS))}
    return result["run_id"], fleet.source.receive()


def test_scheduled_run_fans_out_one_message_per_account_and_region_and_the_last_shard_writes_the_heartbeat(
    fleet, capsys
):
    run_id, messages = fan_out(fleet, capsys)

    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted((b["account"], b["region"], b["role_arn"]) for b in bodies) == sorted(
        (account, region, role_arn(account)) for account, region in SHARDS
    ), "exactly one message per (account, region), each naming the role to reach it"
    assert {b["run_id"] for b in bodies} == {run_id}

    heartbeats = []
    for message in messages:
        account, region = shard_of(message)
        delivery = fleet.source.deliver([message], fleet.invoke)

        assert delivery.error is None and delivery.result == {"batchItemFailures": []}
        heartbeats.append(metric_writes(capsys.readouterr().out, "ScanCompleted"))
        [alert] = fleet.alerts()  # this shard's finding, alerted by this shard's invocation
        assert (alert["event"], alert["check"]) == ("opened", "dkim-record-missing")
        assert (alert["account"], alert["region"], alert["identity"]) == (account, region, domain(account, region))
        assert alert["record"]["name"] == fleet.missing[(account, region)]

    assert heartbeats == [0] * (len(SHARDS) - 1) + [1], "the heartbeat is written once, by the last shard to finish"
    assert fleet.source.receive() == [] and fleet.source.dead_letters() == []
    completed = fleet.progress(run_id)["completed"]["SS"]
    assert sorted(completed) == sorted(f"{account}#{region}" for account, region in SHARDS)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("role cannot be assumed", f"cannot assume {role_arn(DENIED)} (AccessDenied: "),
        ("SES denies every call", "access denied to SES ListEmailIdentities"),
    ],
)
def test_a_failing_shard_is_retried_alone_and_ends_in_the_dead_letter_queue_without_a_heartbeat(
    fleet, moto, capsys, monkeypatch, fault, reason
):
    if fault == "role cannot be assumed":
        # moto 5.2 refuses every sesv2 GetEmailIdentity with SignatureDoesNotMatch once IAM is
        # enforced; without zone confirmations the healthy shards make no such call.
        monkeypatch.setenv("MAX_ZONE_CONFIRMATIONS", "0")
    with fault_injected(fault, moto):
        _run_id, first = fan_out(fleet, capsys)
        assert len(first) == len(SHARDS)
        failing = {m["MessageId"] for m in first if shard_of(m)[0] == DENIED}

        # One batch of every shard: the denied account's records come back as failures, the others succeed.
        delivery = fleet.source.deliver(first, fleet.invoke)
        assert delivery.error is None
        assert delivery.failed == failing and len(failing) == len(REGIONS)
        alerted = sorted((a["account"], a["region"]) for a in fleet.alerts())
        assert alerted == sorted(s for s in SHARDS if s[0] != DENIED), "the other shards of the batch are alerted"
        writes = [metric_writes(capsys.readouterr().out, "ScanCompleted")]

        # SQS hands the failed records back; they fail again (a batch of only failures fails the invocation).
        second = fleet.source.receive()
        assert {m["MessageId"] for m in second} == failing
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in second} == {"2"}
        retry = fleet.source.deliver(second, fleet.invoke)
        assert retry.failed == failing and retry.error is not None
        assert f"{DENIED}/" in str(retry.error) and reason in str(retry.error), "the error names the account and why"
        writes.append(metric_writes(capsys.readouterr().out, "ScanCompleted"))

        # maxReceiveCount (2) receives done: the next receive moves them to the dead-letter queue.
        assert fleet.source.receive() == []

    dead = fleet.source.dead_letters()
    assert {m["MessageId"] for m in dead} == failing
    assert sorted(shard_of(m) for m in dead) == sorted((DENIED, region) for region in REGIONS)
    assert writes == [0, 0], "a run with a shard that never completed writes no heartbeat"
    assert fleet.alerts() == []


def fault_injected(fault: str, endpoint: str) -> contextlib.AbstractContextManager[None]:
    """The denied account's shards fail: its role is refused by STS, or its SES refuses every read."""
    if fault == "role cannot be assumed":
        return iam_enforced(endpoint)
    return ses_denied(DENIED)
