"""The SNS channel, read back through an SQS subscription on moto's server."""

from __future__ import annotations

import json

import boto3
import pytest

from ses_dkim_monitor.notify.sns import IAM_ACTIONS, MAX_MESSAGE_BYTES, SnsNotifier, digest_message, single_message
from ses_dkim_monitor.status_page import StatusPageLinks
from tests.support.alert_builders import Topic, notification


@pytest.fixture()
def topic(moto) -> Topic:
    return Topic()


def test_one_notification_reaches_a_queue_subscriber_as_structured_json(topic):
    n = notification("opened")
    result = SnsNotifier(topic.sns, topic.arn).deliver([n])

    assert result == {n.state_id: True}
    [envelope] = topic.received()
    body = json.loads(envelope["Message"])
    assert body["schema"] == "ses-dkim-monitor/notification/v1"
    assert (body["event"], body["identity"], body["region"], body["check"]) == (
        "opened",
        "example.com",
        "us-east-1",
        "dkim-record-missing",
    )
    assert body["fix"] == "Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com"
    assert body["record"] == {"name": "abc._domainkey.example.com", "type": "CNAME", "value": "abc.dkim.amazonses.com"}
    assert envelope["MessageAttributes"] == {
        "severity": {"Type": "String", "Value": "critical"},
        "event": {"Type": "String", "Value": "opened"},
        "check": {"Type": "String", "Value": "dkim-record-missing"},
        "region": {"Type": "String", "Value": "us-east-1"},
        "account": {"Type": "String", "Value": "123456789012"},
    }
    assert "cause" not in envelope["MessageAttributes"], "the cause attribute is only sent when there is one"
    assert envelope["Subject"] == "CRITICAL example.com (us-east-1): A DKIM CNAME is missing from DNS"


def test_email_subscribers_get_readable_text():
    request = single_message(notification("opened"))

    structure = json.loads(request["Message"])
    assert request["MessageStructure"] == "json"
    assert structure["default"] == structure["email"]
    text = structure["default"]
    assert text.startswith("CRITICAL: A DKIM CNAME is missing from DNS - example.com (us-east-1)\n")
    assert "Fix:\n  Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com" in text
    assert not text.lstrip().startswith("{")
    for protocol in ("sqs", "lambda", "https", "http", "email-json"):
        assert json.loads(structure[protocol])["event"] == "opened"


def test_resolved_and_reminder_say_so_in_subject_and_payload(topic):
    notifier = SnsNotifier(topic.sns, topic.arn)
    notifier.deliver(
        [notification("reminder"), notification("resolved", identity="b.example", reason="identity deleted")]
    )

    reminder, resolved = topic.received()
    assert reminder["Subject"].startswith("REMINDER CRITICAL example.com")
    assert (
        "open since 2024-05-01T12:00:00Z (26 h)"
        in json.loads(single_message(notification("reminder"))["Message"])["default"]
    )
    assert resolved["Subject"].startswith("RESOLVED b.example (us-east-1)")
    assert json.loads(resolved["Message"])["reason"] == "identity deleted"
    assert resolved["MessageAttributes"]["event"]["Value"] == "resolved"


def test_subject_stays_under_100_characters_for_a_long_identity(topic):
    long_name = "a" * 60 + "." + "b" * 60 + ".example.com"
    SnsNotifier(topic.sns, topic.arn).deliver([notification("opened", identity=long_name)])

    [envelope] = topic.received()
    assert len(envelope["Subject"]) < 100
    assert envelope["Subject"].startswith("CRITICAL aaaa") and envelope["Subject"].endswith("...")


def test_more_than_the_threshold_goes_out_as_one_digest(topic):
    batch = [notification("opened", identity=f"d{i}.example") for i in range(3)] + [
        notification("resolved", identity="r.example", severity="warning", check="dmarc-record-missing")
    ]

    result = SnsNotifier(topic.sns, topic.arn, digest_threshold=3).deliver(batch)

    assert result == {n.state_id: True for n in batch}
    [envelope] = topic.received()
    body = json.loads(envelope["Message"])
    assert body["schema"] == "ses-dkim-monitor/digest/v1" and body["count"] == 4
    assert [n["identity"] for n in body["notifications"]] == ["d0.example", "d1.example", "d2.example", "r.example"]
    attributes = envelope["MessageAttributes"]
    assert attributes["event"] == {"Type": "String.Array", "Value": json.dumps(["digest", "opened", "resolved"])}
    assert json.loads(attributes["severity"]["Value"]) == ["critical", "warning"]
    assert envelope["Subject"] == "SES DKIM monitor: 4 notifications (3 opened, 1 resolved), worst critical"


def test_exactly_the_threshold_is_still_sent_one_by_one(topic):
    batch = [notification("opened", identity=f"d{i}.example") for i in range(3)]
    SnsNotifier(topic.sns, topic.arn, digest_threshold=3).deliver(batch)
    assert len(topic.received()) == 3


def test_a_huge_digest_is_split_into_parts_sns_accepts(topic):
    batch = [notification("opened", identity=f"d{i:03d}.example", message="m" * 4000) for i in range(120)]

    result = SnsNotifier(topic.sns, topic.arn, digest_threshold=10).deliver(batch)

    assert all(result.values()) and len(result) == 120
    envelopes = topic.received()
    bodies = [json.loads(e["Message"]) for e in envelopes]
    assert len(bodies) > 1
    assert sorted(n["identity"] for b in bodies for n in b["notifications"]) == sorted(n.identity for n in batch)
    assert {(b["part"], b["parts"]) for b in bodies} == {(i, len(bodies)) for i in range(1, len(bodies) + 1)}
    by_identity = {n.identity: n for n in batch}
    for b in bodies:
        part = [by_identity[n["identity"]] for n in b["notifications"]]
        published = digest_message(part, part=b["part"], parts=b["parts"])["Message"]
        assert len(published.encode("utf-8")) <= MAX_MESSAGE_BYTES


def test_subscribers_can_filter_on_severity(moto):
    topic = Topic(filter_policy={"severity": ["critical"]})
    SnsNotifier(topic.sns, topic.arn).deliver(
        [
            notification("opened", identity="crit.example"),
            notification("opened", identity="warn.example", severity="warning", check="dmarc-record-missing"),
        ]
    )

    assert [json.loads(e["Message"])["identity"] for e in topic.received()] == ["crit.example"]


def test_a_failed_publish_is_reported_not_raised(moto):
    sns = boto3.client("sns")
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    batch = [notification("opened"), notification("opened", identity="b.example")]

    assert SnsNotifier(sns, missing).deliver(batch) == {n.state_id: False for n in batch}


def test_iam_actions_are_exactly_the_calls_made(topic):
    seen: set[str] = set()
    topic.sns.meta.events.register("before-call.sns.*", lambda model, **kw: seen.add(f"sns:{model.name}"))

    SnsNotifier(topic.sns, topic.arn, digest_threshold=1).deliver([notification("opened")])
    SnsNotifier(topic.sns, topic.arn, digest_threshold=1).deliver(
        [notification("opened"), notification("opened", identity="b.example")]
    )

    assert seen == set(IAM_ACTIONS)


# -- the status page link (STATUS_PAGE_BUCKET) ------------------------------------------------------------

LINKS = StatusPageLinks("status-bucket", "eu-west-1")
CONSOLE = "https://eu-west-1.console.aws.amazon.com/s3/object/status-bucket?region=eu-west-1"


def test_with_a_status_page_the_payload_and_the_email_link_to_the_accounts_and_regions_page(topic):
    n = notification("opened", region="ap-south-1")

    SnsNotifier(topic.sns, topic.arn, links=LINKS).deliver([n])

    [envelope] = topic.received()
    page = f"{CONSOLE}&prefix=status/123456789012/ap-south-1.html"
    assert json.loads(envelope["Message"])["status_page"] == page
    email = json.loads(single_message(n, links=LINKS)["Message"])["email"]
    assert f"\n\nStatus page: {page}\n" in email
    assert set(envelope["MessageAttributes"]) == {"severity", "event", "check", "region", "account"}


def test_without_a_status_page_the_payload_field_is_null_and_the_email_has_no_link(topic):
    n = notification("resolved", reason="the check passes again")

    SnsNotifier(topic.sns, topic.arn).deliver([n])

    [envelope] = topic.received()
    body = json.loads(envelope["Message"])
    assert "status_page" in body and body["status_page"] is None, "the field is there, null: never renamed"
    assert "Status page" not in json.loads(single_message(n)["Message"])["email"]


def test_a_digest_links_to_the_index_page_and_each_of_its_notifications_to_its_own(topic):
    batch = [notification("opened", identity=f"d{i}.example") for i in range(3)]
    batch.append(notification("opened", identity="w.example", region="eu-west-1"))

    SnsNotifier(topic.sns, topic.arn, digest_threshold=3, links=LINKS).deliver(batch)

    [envelope] = topic.received()
    body = json.loads(envelope["Message"])
    assert body["status_page"] == f"{CONSOLE}&prefix=status/index.html"
    assert {n["identity"]: n["status_page"] for n in body["notifications"]} == {
        n.identity: f"{CONSOLE}&prefix=status/123456789012/{n.region}.html" for n in batch
    }
    email = json.loads(digest_message(batch, links=LINKS)["Message"])["email"]
    assert email.count("Status page: ") == 1 and f"Status page: {CONSOLE}&prefix=status/index.html\n" in email
    assert json.loads(digest_message(batch)["Message"])["email"].count("Status page") == 0
