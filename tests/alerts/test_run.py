"""Alerting end to end: moto's server (DynamoDB, SNS -> SQS, Secrets Manager) and a
local HTTP server standing in for Slack, wired by ``build_alerting`` exactly as
the handler wires them. The clock and the Slack sleep are injected.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import boto3
import pytest
from werkzeug import Response

from ses_dkim_monitor.alerts.model import AlertPolicy, Event
from ses_dkim_monitor.alerts.run import AlertRunResult
from ses_dkim_monitor.catalogue import MONITOR_CANNOT_VERIFY as CANNOT_VERIFY
from ses_dkim_monitor.models import IdentityStatus
from ses_dkim_monitor.settings import Settings
from ses_dkim_monitor.wiring import build_alerting
from tests.support.alert_builders import (
    ACCOUNT,
    HOSTILE,
    T0,
    hostile_wrong_target,
    identity_report,
    lookup_failed,
    missing_token,
    scan,
    signing_disabled,
)
from tests.support.alerting import HOOK, Deployment

HOUR = timedelta(hours=1)


@pytest.fixture()
def deployment(moto, httpserver_ipv4) -> Deployment:
    httpserver_ipv4.expect_request(HOOK, method="POST").respond_with_data("ok")
    return Deployment(httpserver_ipv4)


BROKEN = scan(identity_report("example.com", missing_token("example.com", "tok1")))
FIXED = scan(identity_report("example.com"))
KEY = "dkim-record-missing#tok1"


def test_first_run_alerts_and_the_second_run_is_silent(deployment):
    first = deployment.run(BROKEN, T0)

    assert deployment.sns_events() == [("opened", "example.com", KEY)]
    [post] = deployment.slack_posts()
    assert "tok1._domainkey.example.com CNAME tok1.dkim.amazonses.com" in json.dumps(post)
    assert (first.delivered, first.failed, first.pending) == (2, 0, 0)

    second = deployment.run(BROKEN, T0 + HOUR)

    assert second.notifications == () and second.deliveries == ()
    assert deployment.sns_events() == [] and deployment.slack_posts() == []
    [state] = deployment.store.load(ACCOUNT, "us-east-1").states
    assert state.last_seen == T0 + HOUR and state.last_notified == T0


def test_reminder_after_the_configured_interval(moto, httpserver_ipv4):
    httpserver_ipv4.expect_request(HOOK).respond_with_data("ok")
    deployment = Deployment(httpserver_ipv4, REMINDER_HOURS="6")
    deployment.run(BROKEN, T0)
    deployment.drain()

    assert deployment.run(BROKEN, T0 + 5 * HOUR).notifications == ()
    reminder = deployment.run(BROKEN, T0 + 6 * HOUR)

    assert [n.event for n in reminder.notifications] == [Event.REMINDER]
    assert deployment.sns_events() == [("reminder", "example.com", KEY)]
    [post] = deployment.slack_posts()
    assert "Reminder" in json.dumps(post)
    assert deployment.run(BROKEN, T0 + 7 * HOUR).notifications == ()


def test_a_fix_produces_resolved_on_both_channels(deployment):
    deployment.run(BROKEN, T0)
    deployment.drain()

    deployment.run(FIXED, T0 + HOUR)

    assert deployment.sns_events() == [("resolved", "example.com", KEY)]
    [post] = deployment.slack_posts()
    assert post["attachments"][0]["color"] == "#2EB67D"
    assert deployment.run(FIXED, T0 + 2 * HOUR).notifications == ()


def test_slack_500_then_recovery_delivers_the_alert_exactly_once_next_run(moto, httpserver_ipv4):
    httpserver_ipv4.expect_request(HOOK).respond_with_data("down", status=500)
    deployment = Deployment(httpserver_ipv4)

    outage = deployment.run(BROKEN, T0)

    assert deployment.sns_events() == [("opened", "example.com", KEY)]
    assert deployment.slack_posts() == []
    assert (outage.delivered, outage.failed) == (1, 1)
    [state] = deployment.store.load(ACCOUNT, "us-east-1").states
    assert state.pending_channels == ("slack",) and state.delivered_channels == ("sns",)

    httpserver_ipv4.clear_all_handlers()
    httpserver_ipv4.expect_request(HOOK).respond_with_data("ok")
    recovered = deployment.run(BROKEN, T0 + HOUR)

    assert [(d.channel, d.event, d.delivered) for d in recovered.deliveries] == [("slack", Event.OPENED, True)]
    assert deployment.sns_events() == []  # SNS already had it
    [post] = deployment.slack_posts()
    assert "CRITICAL" in post["text"]
    assert deployment.run(BROKEN, T0 + 2 * HOUR).notifications == ()
    assert deployment.slack_posts() == [] and deployment.sns_events() == []


def test_slack_429_retry_after_is_honoured(moto, httpserver_ipv4):
    httpserver_ipv4.expect_oneshot_request(HOOK).respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "4"})
    )
    httpserver_ipv4.expect_request(HOOK).respond_with_data("ok")
    deployment = Deployment(httpserver_ipv4)

    result = deployment.run(BROKEN, T0)

    assert deployment.sleeps == [4.0]
    assert len(deployment.slack_posts()) == 1
    assert (result.delivered, result.failed) == (2, 0)


class LoadBarrier:
    """A store whose loads wait for each other: both runs decide from the same state."""

    def __init__(self, store, parties: int):
        self._store = store
        self._barrier = threading.Barrier(parties)

    def load(self, account: str, region: str):
        states = self._store.load(account, region)
        self._barrier.wait(timeout=30)
        return states

    def write(self, state) -> bool:
        return self._store.write(state)


def test_two_concurrent_runs_send_one_alert(deployment):
    racing = LoadBarrier(deployment.store, 2)
    results: list[AlertRunResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(deployment.run(BROKEN, T0, store=racing))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    assert deployment.sns_events() == [("opened", "example.com", KEY)]
    assert len(deployment.slack_posts()) == 1
    assert sorted(r.conflicts for r in results) == [0, 1]
    assert sorted(len(r.notifications) for r in results) == [0, 1]


class RunsAnotherRunWhileDelivering:
    """A channel during whose delivery a second, overlapping run starts and finishes."""

    name = "sns"

    def __init__(self, inner, overlapping):
        self._inner = inner
        self._overlapping = overlapping
        self.overlap_result: AlertRunResult | None = None

    def deliver(self, notifications):
        self.overlap_result = self._overlapping()
        return self._inner.deliver(notifications)


def test_a_run_starting_during_delivery_leaves_the_claimed_alert_alone(deployment):
    sns, slack = deployment.notifiers
    wrapper = RunsAnotherRunWhileDelivering(sns, lambda: deployment.run(BROKEN, T0 + timedelta(minutes=5)))

    deployment.run(BROKEN, T0, notifiers=[wrapper, slack])

    assert wrapper.overlap_result is not None
    assert wrapper.overlap_result.notifications == () and wrapper.overlap_result.in_flight == 1
    assert deployment.sns_events() == [("opened", "example.com", KEY)]
    assert len(deployment.slack_posts()) == 1


def test_hostile_txt_content_arrives_escaped_in_slack(deployment):
    deployment.run(scan(identity_report("example.com", hostile_wrong_target("example.com"))), T0)

    [post] = deployment.slack_posts()
    raw = json.dumps(post)
    assert "<!channel>" not in raw and "<https://evil" not in raw
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; stuff" in raw
    [envelope_event] = deployment.sns_events()
    assert envelope_event[0] == "opened"


def test_structured_sns_payload_keeps_the_raw_text_for_machines(deployment):
    deployment.run(scan(identity_report("example.com", hostile_wrong_target("example.com"))), T0)

    [envelope] = deployment.topic.received()
    assert HOSTILE in json.loads(envelope["Message"])["message"]


def test_deleted_identity_resolves_with_a_clear_reason(deployment):
    deployment.run(scan(identity_report("gone.example", signing_disabled("gone.example"))), T0)
    deployment.drain()

    deployment.run(scan(), T0 + HOUR)

    [envelope] = deployment.topic.received()
    body = json.loads(envelope["Message"])
    assert (body["event"], body["identity"], body["reason"]) == ("resolved", "gone.example", "identity deleted")
    assert "identity deleted" in json.dumps(deployment.slack_posts())


def test_unknown_identity_raises_one_cannot_verify_after_three_runs(deployment):
    deployment.run(BROKEN, T0)
    deployment.drain()
    unknown = scan(
        identity_report("example.com", lookup_failed("example.com", "SERVFAIL"), status=IdentityStatus.UNKNOWN)
    )

    for hour in (1, 2):
        assert deployment.run(unknown, T0 + hour * HOUR).notifications == ()
    third = deployment.run(unknown, T0 + 3 * HOUR)
    fourth = deployment.run(unknown, T0 + 4 * HOUR)

    assert [(n.event, n.check) for n in third.notifications] == [(Event.OPENED, CANNOT_VERIFY)]
    assert fourth.notifications == ()
    assert deployment.sns_events() == [("opened", "example.com", CANNOT_VERIFY)]
    states = {s.key: s for s in deployment.store.load(ACCOUNT, "us-east-1").states}
    assert states[KEY].status.value == "open"  # not resolved while unknown


def test_a_channel_that_raises_does_not_stop_the_other(deployment):
    class Broken:
        name = "sns"

        def deliver(self, notifications):
            raise RuntimeError("bug in a channel")

    _sns, slack = deployment.notifiers
    result = deployment.run(BROKEN, T0, notifiers=[Broken(), slack])

    assert [(d.channel, d.delivered) for d in result.deliveries] == [("sns", False), ("slack", True)]
    assert len(deployment.slack_posts()) == 1
    [state] = deployment.store.load(ACCOUNT, "us-east-1").states
    assert state.pending_channels == ("sns",)


def test_digest_when_many_alerts_are_due_in_one_run(moto, httpserver_ipv4):
    httpserver_ipv4.expect_request(HOOK).respond_with_data("ok")
    deployment = Deployment(httpserver_ipv4, DIGEST_THRESHOLD="2")
    report = scan(*(identity_report(f"d{i}.example", signing_disabled(f"d{i}.example")) for i in range(3)))

    result = deployment.run(report, T0)

    [envelope] = deployment.topic.received()
    assert json.loads(envelope["Message"])["count"] == 3
    assert len(deployment.slack_posts()) == 1
    assert result.delivered == 6


def test_without_a_state_table_the_run_sends_current_findings_statelessly(deployment):
    result = deployment.run(BROKEN, T0, store=None)
    again = deployment.run(BROKEN, T0 + HOUR, store=None)

    assert [n.event for n in result.notifications + again.notifications] == [Event.OPENED, Event.OPENED]
    assert deployment.store.load(ACCOUNT, "us-east-1").states == []


def test_nothing_configured_builds_nothing():
    settings = Settings.from_env(
        {
            "SCAN_REGIONS": "us-east-1",
            "MIN_ALERT_SEVERITY": "critical",
            "UNKNOWN_RUNS_THRESHOLD": "5",
            "REMINDER_HOURS": "12",
        }
    )

    store, notifiers, policy = build_alerting(settings, boto3.Session(region_name="us-east-1"))

    assert store is None and notifiers == []
    assert policy == AlertPolicy(
        reminder_interval=timedelta(hours=12), min_severity=settings.min_severity, unknown_runs_threshold=5
    )
