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
from datetime import UTC, datetime, timedelta
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


# -- forged shard messages (issue 18) ----------------------------------------------------------------

OUTSIDER = "444444444444"  # an account nobody configured, holding identities of its own
FORGED_ROLE = f"arn:aws:iam::{OUTSIDER}:role/{ROLE}"


def open_one_shard(fleet: Fleet, capsys, account: str, region: str) -> tuple[str, dict[str, Any]]:
    """Fan out, scan exactly one shard (its alert opens) and drop the other messages; returns the run id
    and the alert that was opened."""
    run_id, messages = fan_out(fleet, capsys)
    [mine] = [m for m in messages if shard_of(m) == (account, region)]
    assert fleet.source.deliver([mine], fleet.invoke).failed == set()
    for other in (m for m in messages if m is not mine):
        fleet.source.sqs.delete_message(QueueUrl=fleet.queue.url, ReceiptHandle=other["ReceiptHandle"])
    [opened] = fleet.alerts()
    assert (opened["event"], opened["account"], opened["region"]) == ("opened", account, region)
    capsys.readouterr()
    return run_id, opened


def send_forged(fleet: Fleet, *, account: str, region: str, role_arn: str, run_id: str) -> dict[str, Any]:
    """A shard message written by someone who can send to the queue, exactly in the function's own format."""
    body = json.dumps(
        {
            "schema": "ses-dkim-monitor/shard/v1",
            "run_id": run_id,
            "account": account,
            "region": region,
            "role_arn": role_arn,
            "scan_time": "2026-11-27T20:00:00+00:00",
        }
    )
    fleet.source.sqs.send_message(QueueUrl=fleet.queue.url, MessageBody=body)
    [message] = fleet.source.receive()
    return message


def assumed_roles(account: str) -> list[str]:
    """The role ARNs STS handed credentials for in ``account`` (moto's own record of AssumeRole)."""
    from moto.sts.models import sts_backends

    return [r.role_arn for r in sts_backends[account]["aws"].assumed_roles]


def assert_dropped_and_counted(fleet: Fleet, capsys, caplog, delivery: Any, rule: str, *secrets: str) -> None:
    out, err = capsys.readouterr()
    assert delivery.error is None and delivery.result == {"batchItemFailures": []}, "never retried"
    assert fleet.source.receive() == [] and fleet.source.dead_letters() == [], "deleted, not dead-lettered"
    assert fleet.alerts() == [], "nothing sent: no alert opened, the member's open alert not resolved"
    assert metric_values(out)["QueueMessagesRejected"] == 1
    [logged] = [r for r in caplog.records if r.getMessage() == "queue message rejected"]
    assert (logged.message_id, logged.rule) == (delivery.message_ids[0], rule)
    records = "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    for secret in secrets:  # the message's content is not logged, only its id and the rule it broke
        assert secret not in out + err + records


def test_a_forged_shard_naming_a_member_with_another_accounts_role_is_dropped_counted_and_never_obeyed(
    fleet, ses, knot, capsys, caplog
):
    member, region = MEMBERS[0], REGIONS[0]
    run_id, opened = open_one_shard(fleet, capsys, member, region)
    # The outsider serves identities of its own: one healthy under the member's domain name (which would
    # resolve the member's alert) and one broken (which would open an alert in the member's name).
    ses(region, account=OUTSIDER).add_domain(opened["identity"])
    broken = ses(region, account=OUTSIDER).add_domain("forged-outsider.test")
    knot.set_zone("forged-outsider.test", customer_cname_records(broken[:1]))

    forged = send_forged(fleet, account=member, region=region, role_arn=FORGED_ROLE, run_id=run_id)
    delivery = fleet.source.deliver([forged], fleet.invoke)

    assert FORGED_ROLE not in assumed_roles(OUTSIDER), "the role nobody configured was never assumed"
    assert_dropped_and_counted(fleet, capsys, caplog, delivery, "role-not-configured", FORGED_ROLE, OUTSIDER)
    # The member's alert is still open: the next real scan of that shard sends nothing new.
    fleet.invoke(SCHEDULED)
    [again] = [m for m in fleet.source.receive() if shard_of(m) == (member, region)]
    assert fleet.source.deliver([again], fleet.invoke).failed == set()
    assert fleet.alerts() == []


def test_a_shard_for_a_region_outside_scan_regions_is_dropped_and_counted(fleet, ses, knot, capsys, caplog):
    member, region = MEMBERS[0], "ap-southeast-2"
    tokens = ses(region, account=member).add_domain("forged-region.test")
    knot.set_zone("forged-region.test", customer_cname_records(tokens[:1]))

    forged = send_forged(fleet, account=member, region=region, role_arn=role_arn(member), run_id="0123456789ab")
    delivery = fleet.source.deliver([forged], fleet.invoke)

    assert role_arn(member) not in assumed_roles(member), "nothing was assumed for it"
    assert_dropped_and_counted(fleet, capsys, caplog, delivery, "region-not-configured", region)


def test_a_shard_of_a_run_never_recorded_is_dropped_and_a_recorded_runs_scan_time_is_the_records_not_the_messages(
    fleet, capsys, caplog
):
    member, region = MEMBERS[1], REGIONS[1]
    forged = send_forged(fleet, account=member, region=region, role_arn=role_arn(member), run_id="fedcba987654")
    delivery = fleet.source.deliver([forged], fleet.invoke)
    assert_dropped_and_counted(fleet, capsys, caplog, delivery, "run-not-recorded", "fedcba987654")

    # A real run's id with a scan time from the future: alert state is ordered by scan time, so a forged
    # one would make every later real run look older and leave its alerts frozen.
    run_id, messages = fan_out(fleet, capsys)
    for message in messages:
        fleet.source.sqs.delete_message(QueueUrl=fleet.queue.url, ReceiptHandle=message["ReceiptHandle"])
    body = {**json.loads(runs_message(member, region, run_id)), "scan_time": "2099-01-01T00:00:00+00:00"}
    fleet.source.sqs.send_message(QueueUrl=fleet.queue.url, MessageBody=json.dumps(body))
    assert fleet.source.deliver(fleet.source.receive(), fleet.invoke).failed == set()
    [opened] = fleet.alerts()
    recorded = fleet.progress(run_id)["scan_time"]["S"]
    assert opened["event"] == "opened" and not opened["at"].startswith("2099")
    assert datetime.fromisoformat(opened["at"]) == datetime.fromisoformat(recorded).replace(microsecond=0)


def runs_message(account: str, region: str, run_id: str) -> str:
    return json.dumps(
        {
            "schema": "ses-dkim-monitor/shard/v1",
            "run_id": run_id,
            "account": account,
            "region": region,
            "role_arn": role_arn(account),
            "scan_time": "2026-11-27T20:00:00+00:00",
        }
    )


# -- the heartbeat of a finished run is written once -------------------------------------------------


def complete_run(fleet: Fleet, capsys) -> tuple[str, list[dict[str, Any]]]:
    """Fan out and deliver every shard; returns the run id and the shard messages' bodies."""
    run_id, messages = fan_out(fleet, capsys)
    for message in messages:
        assert fleet.source.deliver([message], fleet.invoke).failed == set()
    assert metric_writes(capsys.readouterr().out, "ScanCompleted") == 1
    fleet.alerts()
    return run_id, [m["Body"] for m in messages]


def test_a_replayed_shard_of_a_completed_run_never_writes_the_heartbeat_again(fleet, capsys):
    """A shard redriven from an old dead-letter queue, or sent hourly by someone who can send to the queue,
    must not stand in for the scheduled run: HeartbeatAlarm watches for the heartbeat's absence."""
    run_id, bodies = complete_run(fleet, capsys)

    for body in [bodies[0], bodies[-1], bodies[0]]:
        fleet.source.sqs.send_message(QueueUrl=fleet.queue.url, MessageBody=body)
        delivery = fleet.source.deliver(fleet.source.receive(), fleet.invoke)
        assert delivery.error is None and delivery.failed == set(), "delivered, not retried"
        assert metric_writes(capsys.readouterr().out, "ScanCompleted") == 0, "the run was complete already"
    assert len(fleet.progress(run_id)["completed"]["SS"]) == len(SHARDS)


def test_a_shard_of_a_run_past_its_expiry_is_not_obeyed_though_dynamodb_has_not_deleted_it_yet(fleet, capsys, caplog):
    """DynamoDB's TTL deletes an expired item lazily (within days): until then it is still read."""
    run_id, bodies = complete_run(fleet, capsys)
    expires_at = datetime.fromtimestamp(int(fleet.progress(run_id)["expires_at"]["N"]), UTC)

    def invoke_later(event: dict[str, Any]) -> Any:
        try:
            return handler.run(event, FakeContext(), now=expires_at + timedelta(seconds=1))
        finally:
            handler.metrics.flush_metrics()

    fleet.source.sqs.send_message(QueueUrl=fleet.queue.url, MessageBody=bodies[0])
    delivery = fleet.source.deliver(fleet.source.receive(), invoke_later)

    assert_dropped_and_counted(fleet, capsys, caplog, delivery, "run-not-recorded")
