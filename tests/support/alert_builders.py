"""Builders shared by the alerting tests: scan reports, findings, the state table.

Reports are built from models.py and catalogue.py directly, the way the scan
engine builds them, so these tests do not depend on the scan itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3

from ses_dkim_monitor.alerts.model import Event, Notification
from ses_dkim_monitor.catalogue import finding
from ses_dkim_monitor.models import (
    DnsRecord,
    Finding,
    IdentityReport,
    IdentityStatus,
    IdentityType,
    ScanReport,
    SesIdentity,
    SesStatus,
    Severity,
    ShardError,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> <https://evil.example|click> & stuff"


def ses_identity(name: str, *, region: str = REGION) -> SesIdentity:
    kind = IdentityType.EMAIL_ADDRESS if "@" in name else IdentityType.DOMAIN
    return SesIdentity(
        name=name,
        region=region,
        type=kind,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
    )


def identity_report(
    name: str, *findings: Finding, region: str = REGION, status: IdentityStatus | None = None
) -> IdentityReport:
    if status is None:
        status = IdentityStatus.PROBLEM if findings else IdentityStatus.OK
    return IdentityReport(identity=ses_identity(name, region=region), status=status, findings=tuple(findings))


def scan(*identities: IdentityReport, regions: tuple[str, ...] = (REGION,), failed: tuple[str, ...] = ()) -> ScanReport:
    return ScanReport(
        identities=tuple(identities),
        regions=regions,
        generated_at="2024-05-01T12:00:00Z",
        errors=tuple(ShardError(r, "AccessDenied") for r in failed),
    )


def missing_token(domain: str, token: str) -> Finding:
    record = DnsRecord(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com")
    return finding(
        "dkim-record-missing", f"{record.name} does not exist (NXDOMAIN)", subject=token, source="dns", record=record
    )


def signing_disabled(domain: str, *, region: str = REGION) -> Finding:
    return finding("dkim-signing-disabled", f"DKIM signing is disabled for {domain}", identity=domain, region=region)


def dmarc_missing(domain: str) -> Finding:
    record = DnsRecord(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=none;")
    return finding("dmarc-record-missing", f"_dmarc.{domain} has no TXT record", source="dns", record=record)


def info_finding(domain: str) -> Finding:
    return finding(
        "dmarc-record-missing",
        f"_dmarc.{domain} is p=none",
        severity=Severity.INFO,
        source="dns",
        record=DnsRecord(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=quarantine;"),
    )


def lookup_failed(domain: str, error: str = "SERVFAIL from 192.0.2.53") -> Finding:
    return finding(
        "dns-lookup-failed", f"lookups for {domain} failed: {error}", source="dns", domain=domain, error=error
    )


def hostile_wrong_target(domain: str) -> Finding:
    """A DKIM CNAME whose target's TXT carries text meant to abuse Slack markup."""
    record = DnsRecord(f"tok1._domainkey.{domain}", "CNAME", "tok1.dkim.amazonses.com")
    return finding(
        "dkim-record-wrong-target",
        f"{record.name} is a CNAME to evil.example whose TXT says {HOSTILE!r}",
        subject="tok1",
        source="dns",
        record=record,
    )


def create_state_table(client, name: str = "alert-state") -> str:
    """The table with the contract's key schema (see docs/architecture.md, "State table")."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    return name


def notification(
    event: str = "opened",
    *,
    identity: str = "example.com",
    region: str = REGION,
    check: str = "dkim-record-missing",
    key: str | None = None,
    severity: str = "critical",
    message: str | None = None,
    fix: str | None = None,
    reason: str = "",
    channels: tuple[str, ...] = ("sns", "slack"),
):
    """A Notification as decide() would emit it, for the channel tests."""
    token = "abc"
    record = (
        DnsRecord(f"{token}._domainkey.{identity}", "CNAME", f"{token}.dkim.amazonses.com")
        if check == "dkim-record-missing"
        else None
    )
    return Notification(
        event=Event(event),
        account=ACCOUNT,
        region=region,
        identity=identity,
        key=key or (f"{check}#{token}" if record else check),
        check=check,
        severity=Severity(severity),
        message=message or f"{token}._domainkey.{identity} does not exist (NXDOMAIN)",
        fix=fix or (f"Publish {record.name} CNAME {record.value}" if record else "Turn DKIM signing on"),
        first_seen=T0,
        at=T0 + timedelta(hours=26),
        channels=channels,
        reason=reason,
        record=record,
    )


class Topic:
    """A topic with one SQS subscriber, the way a consumer would read alerts."""

    def __init__(self, *, filter_policy: dict | None = None):
        self.sns = boto3.client("sns")
        self.sqs = boto3.client("sqs")
        self.arn = self.sns.create_topic(Name="dkim-alerts")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="dkim-alerts-consumer")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
        self.sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)

    def received(self) -> list[dict]:
        """Every SNS envelope in the queue, in order."""
        envelopes = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return envelopes
            for message in batch:
                envelopes.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
