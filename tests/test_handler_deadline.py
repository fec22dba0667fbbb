"""The handler honours the Lambda's remaining time, on a clock the test drives.

The scan's deadline is the context's remaining time minus ``TIME_RESERVE_SECONDS``, measured on
the clock ``handler.run`` is given (``_deadline``). Here the context's remaining time is computed
from that same clock, and the clock moves only when the test says so: when SES answers the last
batch call of the inventory, it jumps past the deadline, so the budget is spent exactly between
reading SES and the DNS work. No sleeps and no wall-clock time: the outcome is the same on any
machine.

SES, DynamoDB and SNS (read back through an SQS subscriber) are moto's server over HTTP; DNS is
knotd.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor import handler, runs
from ses_dkim_monitor.alerts.dynamodb_store import DynamoDbStateStore
from ses_dkim_monitor.alerts.model import AlertStatus
from ses_dkim_monitor.models import IdentityStatus, ScanReport
from tests.support.alert_builders import Topic, create_state_table
from tests.support.fanout import metric_writes
from tests.support.lambda_runtime import ACCOUNT_ID, SCHEDULED, FakeContext, metric_values
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
REGION = "us-east-1"
BROKEN, HEALTHY = "deadline-broken.test", "deadline-ok.test"
DMARC = '\n_dmarc TXT "v=DMARC1; p=none"'


class Clock:
    """Monotonic seconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ClockedContext(FakeContext):
    """A Lambda context whose remaining time runs on the test's clock (900 s when the clock reads 0)."""

    clock: Clock = field(default_factory=Clock)
    timeout_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - self.clock() * 1000))


@dataclass
class Monitor:
    env: dict[str, str]
    topic: Topic
    store: DynamoDbStateStore
    tokens: list[str]
    reports: list[ScanReport]

    def run(self, at: datetime, *, session: boto3.Session | None = None, context: Any = None, clock: Any = None):
        """One scheduled invocation through ``handler.run``, metrics flushed as ``lambda_handler`` flushes them."""
        clock = clock or Clock()
        context = context or ClockedContext(clock=clock)
        session = session or boto3.Session()

        def invocation(event: dict[str, Any], ctx: Any) -> dict[str, Any]:
            return handler.run(event, ctx, env=self.env, session=session, now=at, clock=clock)

        return handler.metrics.log_metrics(invocation)(SCHEDULED, context)

    def alert_states(self) -> dict[tuple[str, str], AlertStatus]:
        """(identity, check) -> status of every stored alert state."""
        return {(s.identity, s.check): s.status for s in self.store.load(ACCOUNT_ID, REGION).states}

    def events(self) -> list[tuple[str, str, str]]:
        found = []
        for envelope in self.topic.received():
            attributes = envelope["MessageAttributes"]
            found.append((attributes["event"]["Value"], attributes["check"]["Value"], envelope["Message"]))
        return found


@pytest.fixture()
def monitor(ses, knot, monkeypatch) -> Iterator[Monitor]:
    """A deployed monitor with an open alert for a deleted DKIM CNAME, seeded by a run that had time."""
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()
    world = ses(REGION)
    broken = world.add_domain(BROKEN)  # SES still says SUCCESS
    healthy = world.add_domain(HEALTHY)
    knot.set_zone(BROKEN, customer_cname_records(broken[:2]) + DMARC)
    knot.set_zone(HEALTHY, customer_cname_records(healthy) + DMARC)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(broken) + "\n" + easy_dkim_zone_records(healthy))
    topic = Topic()
    table = create_state_table(boto3.client("dynamodb"), "deadline-state")
    env = {
        "SCAN_REGIONS": REGION,
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": table,
        "ALERT_TOPIC_ARN": topic.arn,
        "SES_REQUESTS_PER_SECOND": "50",
    }
    reports: list[ScanReport] = []
    scan_and_alert = runs.scan_and_alert

    def observed(*args: Any, **kwargs: Any) -> runs.Outcome:
        outcome = scan_and_alert(*args, **kwargs)
        assert outcome.report is not None
        reports.append(outcome.report)
        return outcome

    monkeypatch.setattr(runs, "scan_and_alert", observed)  # a spy: the report is what the handler returns a summary of
    state = Monitor(
        env=env, topic=topic, store=DynamoDbStateStore(boto3.client("dynamodb"), table), tokens=broken, reports=reports
    )

    seeded = state.run(T0)
    assert seeded["problems"] == 1 and seeded["out_of_time"] == 0
    assert [(event, check) for event, check, _ in state.events()] == [("opened", c.DKIM_RECORD_MISSING)]
    assert state.alert_states() == {(BROKEN, c.DKIM_RECORD_MISSING): AlertStatus.OPEN}
    # The record is published again: a run that reaches DNS would resolve the alert.
    knot.set_zone(BROKEN, customer_cname_records(broken) + DMARC)
    handler.metrics.clear_metrics()
    yield state
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()


def spend_the_budget_after_ses(session: boto3.Session, clock: Clock, *, to: float) -> None:
    """Move ``clock`` to ``to`` when SES answers the inventory's last batch call (MAIL FROM attributes)."""

    def jump(**_: Any) -> None:
        clock.now = to

    session.events.register("after-call.ses.GetIdentityMailFromDomainAttributes", jump)


def test_identities_the_budget_does_not_reach_are_unknown_out_of_time_and_keep_their_alerts(monitor, capsys):
    clock = Clock()
    session = boto3.Session()
    # 900 s of Lambda time less the 90 s reserve: the scan's deadline is at 810 s. SES is read at 0 s.
    spend_the_budget_after_ses(session, clock, to=850.0)

    result = monitor.run(T0 + timedelta(hours=1), session=session, clock=clock)

    report = monitor.reports[-1]
    assert {r.identity.name for r in report.identities} == {BROKEN, HEALTHY}, "SES was read: both are reported"
    for r in report.identities:
        assert r.status is IdentityStatus.UNKNOWN, f"{r.identity.name} must not look healthy or broken"
        assert [(f.check, f.cause) for f in r.findings] == [(c.IDENTITY_NOT_CHECKED, c.OUT_OF_TIME)]
    assert report.dns_lookups == 0, "no DNS work once the budget is spent"
    assert result["unknown"] == 2 and result["problems"] == 0 and result["out_of_time"] == 2
    assert result["findings"]["critical"] == 0, "never a missing record"

    out = capsys.readouterr().out
    assert metric_values(out)["IdentitiesOutOfTime"] == 2
    assert metric_writes(out, "ScanCompleted") == 1, "the scan completed, if not every identity in it"

    # Out of time is not a repair: the open alert stays open and nothing says it was fixed.
    events = monitor.events()
    assert [e for e in events if e[0] == "resolved"] == []
    assert [e for e in events if e[1] == c.DKIM_RECORD_MISSING] == [], "nor is it re-announced"
    assert monitor.alert_states()[(BROKEN, c.DKIM_RECORD_MISSING)] is AlertStatus.OPEN

    # The next run with time sees the record back, and only then resolves the alert.
    again = monitor.run(T0 + timedelta(hours=2))
    assert again["out_of_time"] == 0 and again["problems"] == 0 and again["unknown"] == 0
    resolved = [check for event, check, message in monitor.events() if event == "resolved" and BROKEN in message]
    assert c.DKIM_RECORD_MISSING in resolved
    assert monitor.alert_states()[(BROKEN, c.DKIM_RECORD_MISSING)] is AlertStatus.RESOLVED


def test_a_budget_spent_before_ses_is_read_fails_the_invocation_without_a_heartbeat(monitor, capsys):
    # 60 s left, 90 s of them reserved: the deadline has passed before the first SES call.
    context = ClockedContext(timeout_ms=60_000)

    with pytest.raises(handler.ScanIncomplete) as raised:
        monitor.run(T0 + timedelta(hours=1), context=context, clock=context.clock)

    assert f"{ACCOUNT_ID}/{REGION}: out of time before its identities were listed" in str(raised.value)
    report = monitor.reports[-1]
    assert report.identities == () and report.ses_calls == {}
    out = capsys.readouterr().out
    assert metric_writes(out, "ScanCompleted") == 0
    assert metric_values(out)["ShardsFailed"] == 1
    assert monitor.events() == [], "a shard that was not read resolves nothing"
    assert monitor.alert_states() == {(BROKEN, c.DKIM_RECORD_MISSING): AlertStatus.OPEN}
