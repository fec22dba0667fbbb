"""Event-driven re-checks through the Lambda handler, end to end.

Route 53, SES, SQS (the re-check queue), DynamoDB and SNS are moto's server
over HTTP; DNS is knotd, whose zones mirror the Route 53 hosted zones the
test changes through the Route 53 API. Each CloudTrail event is built from
the real API call's request and response. Time is a simulated clock that
moto's SQS keeps too, so message delays pass without anyone waiting.

The identities live in eu-west-1 while the stack is in us-east-1, where
Route 53's CloudTrail events arrive.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from ses_dkim_monitor import handler, recheck_store
from ses_dkim_monitor.models import IdentityType, MailFrom, SesIdentity, SesStatus
from ses_dkim_monitor.scan import recommendations
from ses_dkim_monitor.triggers import jobs
from tests.support.alert_builders import Topic, create_state_table
from tests.support.clock import SimulatedClock
from tests.support.lambda_runtime import SCHEDULED, FakeContext, metric_sums, sqs_event
from tests.support.paths import EVENTS
from tests.support.route53 import HostedZone
from tests.support.ses_vdm import VdmStandIn
from tests.support.ses_world import easy_dkim_zone_records

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
REGION = "eu-west-1"  # the identities'; the stack (and Route 53's CloudTrail) is in us-east-1
DMARC = ("_dmarc", "TXT", 300, ['"v=DMARC1; p=none"'])
DELIVERY = 40  # seconds from an API call to its CloudTrail event reaching the function (typical, not promised)
FIVE_MINUTES = timedelta(minutes=5)


def cnames(tokens: list[str]) -> list[tuple[str, str, int, list[str]]]:
    return [(f"{t}._domainkey", "CNAME", 1800, [f"{t}.dkim.amazonses.com"]) for t in tokens]


class Monitor:
    """The deployed function, its re-check queue and its alert topic, driven by a simulated clock."""

    def __init__(self, env: dict[str, str], clock: SimulatedClock, queue_url: str, topic: Topic, session: Any):
        self.env, self.clock, self.queue_url, self.topic, self.session = env, clock, queue_url, topic, session
        self.sqs = boto3.client("sqs")
        self.ses_calls: list[tuple[str, dict[str, Any]]] = []
        self.results: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []

    def invoke(self, event: Any) -> dict[str, Any]:
        try:
            result = handler.run(event, FakeContext(), env=self.env, session=self.session, now=self.clock.now)
        except BatchProcessingError:
            # Every record failed: Powertools raises, Lambda counts an error and SQS retries them all.
            result = {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        finally:
            handler.metrics.flush_metrics()  # what @log_metrics does after each invocation: EMF on stdout
        self.results.append(result)
        return result

    def schedule(self) -> dict[str, Any]:
        return self.invoke(SCHEDULED)

    def work(self, *, seconds: int, step: int = 5) -> None:
        """Let ``seconds`` pass, ``step`` at a time, handing every due message to the function as SQS would."""
        end = self.clock.now + timedelta(seconds=seconds)
        while self.clock.now < end:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if batch:
                result = self.invoke(sqs_event(batch))
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                for message in batch:
                    if message["MessageId"] not in failed:
                        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                continue
            self.clock.advance(step)
        self.collect()

    def collect(self) -> list[dict[str, Any]]:
        fresh = [json.loads(e["Message"]) for e in self.topic.received()]
        self.alerts += fresh
        return fresh

    def queued(self) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesDelayed"])


@pytest.fixture()
def monitor(ses, knot, monkeypatch):
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()
    clock = SimulatedClock(T0).drive_sqs(monkeypatch)
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="recheck-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="recheck",
        Attributes={
            "VisibilityTimeout": "300",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    topic = Topic()
    env = {
        "SCAN_REGIONS": f"us-east-1,{REGION}",
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), "recheck-state"),
        "ALERT_TOPIC_ARN": topic.arn,
        "RECHECK_QUEUE_URL": queue,
        "SES_REQUESTS_PER_SECOND": "50",  # pacing is tests/scan/test_pacer.py's business
    }
    session = boto3.Session()
    mon = Monitor(env, clock, queue, topic, session)

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        mon.ses_calls.append((model.name, params))

    # Every SES API call the function makes, with the parameters it was called with.
    session.events.register("before-parameter-build.sesv2", record)
    session.events.register("before-parameter-build.ses", record)
    yield mon
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()


def route53_event(zone: HostedZone, info: dict[str, Any], changes: list[dict[str, Any]], at: datetime) -> dict:
    """The CloudTrail record of one ChangeResourceRecordSets call, shaped like the sample in events/."""
    event = json.loads((EVENTS / "triggers" / "route53-change-delete-dkim-cname.json").read_text())
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["time"] = event["detail"]["eventTime"] = stamp
    params = event["detail"]["requestParameters"]
    params["hostedZoneId"] = zone.id.rsplit("/", 1)[-1]
    params["changeBatch"] = {"changes": changes}
    event["detail"]["responseElements"]["changeInfo"]["id"] = info["Id"]
    return event


def cloudtrail_change(action: str, name: str, rtype: str, ttl: int, values: list[str]) -> dict[str, Any]:
    """A change as CloudTrail writes it (lower camel case, tTL)."""
    return {
        "action": action,
        "resourceRecordSet": {
            "name": name,
            "type": rtype,
            "tTL": ttl,
            "resourceRecords": [{"value": v} for v in values],
        },
    }


def change_through_route53(zone: HostedZone, action: str, record: tuple[str, str, int, list[str]], at) -> dict:
    """Make the change with the Route 53 API, let it reach DNS (knotd), and return its CloudTrail event."""
    name, rtype, ttl, values = record
    info = zone.change(action, name, rtype, ttl, values)
    zone.mirror()
    return route53_event(zone, info, [cloudtrail_change(action, zone.fqdn(name), rtype, ttl, values)], at)


def events_of(alerts: list[dict[str, Any]], identity: str) -> list[tuple[str, str]]:
    return [(a["event"], a["check"]) for a in alerts if a["identity"] == identity]


def test_cname_deleted_in_route53_is_alerted_within_minutes_and_its_repair_resolved(monitor, ses, knot, route53):
    world = ses(REGION)
    tokens = world.add_domain("rc-delete.test")
    others = world.add_domain("rc-bystander.test")  # already broken: its alert must not be touched
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens) + "\n" + easy_dkim_zone_records(others))
    zone = HostedZone(route53, knot, "rc-delete.test", [*cnames(tokens), DMARC])
    HostedZone(route53, knot, "rc-bystander.test", [*cnames(others[:2]), DMARC])

    monitor.schedule()
    assert events_of(monitor.collect(), "rc-bystander.test") == [("opened", "dkim-record-missing")]
    assert events_of(monitor.alerts, "rc-delete.test") == []

    # 10:20: a DKIM CNAME is deleted through the Route 53 API.
    called = monitor.clock.advance(20 * 60)
    event = change_through_route53(zone, "DELETE", cnames(tokens)[1], called)
    monitor.clock.advance(DELIVERY)
    monitor.ses_calls.clear()
    assert monitor.invoke(event)["queued"] == 1
    monitor.work(seconds=10 * 60)

    [opened] = [a for a in monitor.alerts if a["identity"] == "rc-delete.test"]
    assert (opened["event"], opened["check"], opened["region"]) == ("opened", "dkim-record-missing", REGION)
    assert f"{tokens[1]}._domainkey.rc-delete.test" in opened["message"]
    took = datetime.fromisoformat(opened["at"]) - called
    assert took <= FIVE_MINUTES, f"opened {took} after the API call"
    # Only the affected identity was read: one GetEmailIdentity and the two batch calls naming it, per look
    # (two looks: the second a few minutes after the first). SES was never listed.
    ops = Counter(op for op, _ in monitor.ses_calls)
    assert ops == {"GetEmailIdentity": 2, "GetIdentityDkimAttributes": 2, "GetIdentityMailFromDomainAttributes": 2}
    named = {n for _, p in monitor.ses_calls for n in (p.get("Identities") or [p.get("EmailIdentity")])}
    assert named == {"rc-delete.test"}
    assert events_of(monitor.alerts, "rc-bystander.test") == [("opened", "dkim-record-missing")], "untouched"

    # 10:40: the record is put back, through Route 53 again.
    called = monitor.clock.advance(10 * 60)
    event = change_through_route53(zone, "CREATE", cnames(tokens)[1], called)
    monitor.clock.advance(DELIVERY)
    monitor.invoke(event)
    monitor.work(seconds=10 * 60)
    resolved = [a for a in monitor.alerts if a["identity"] == "rc-delete.test"][1:]
    assert [(a["event"], a["check"]) for a in resolved] == [("resolved", "dkim-record-missing")]
    took = datetime.fromisoformat(resolved[0]["at"]) - called
    assert took <= FIVE_MINUTES, f"resolved {took} after the API call"

    # The hourly scan agrees and sends nothing more: events and schedule share one alert state.
    monitor.clock.now = T0 + timedelta(hours=1)
    monitor.schedule()
    assert monitor.collect() == []
    assert monitor.queued() == 0


def test_a_burst_of_changes_is_one_recheck_per_identity(monitor, ses, knot, route53, capsys):
    world = ses(REGION)
    tokens = {name: world.add_domain(name) for name in ("rc-burst-a.test", "rc-burst-b.test")}
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(t) for t in tokens.values()))
    zones = {name: HostedZone(route53, knot, name, [*cnames(t), DMARC]) for name, t in tokens.items()}
    monitor.schedule()
    monitor.collect()
    capsys.readouterr()

    # 200 calls in a minute: hosts come and go in both zones, and each zone's DKIM records are rewritten.
    start = monitor.clock.advance(600)
    results = []
    for i in range(200):
        name = list(zones)[i % 2]
        record = cnames(tokens[name])[i % 3] if i % 10 in (0, 1) else (f"host-{i}", "A", 60, ["192.0.2.10"])
        event = change_through_route53(zones[name], "UPSERT", record, start + timedelta(seconds=i * 0.3))
        results.append(monitor.invoke(event))
    assert sum(r.get("queued", 0) for r in results) == 2, "one re-check per identity"
    assert sum(r.get("debounced", 0) for r in results) == 38  # the other DKIM rewrites (40 in all)
    assert sum(1 for r in results if r.get("ignored")) == 160  # the A records touch no identity
    metrics = metric_sums(capsys.readouterr().out)
    assert metrics["RechecksQueued"] == 2 and metrics["RechecksDebounced"] == 38

    monitor.ses_calls.clear()
    monitor.work(seconds=10 * 60)
    looked = Counter(p["EmailIdentity"] for op, p in monitor.ses_calls if op == "GetEmailIdentity")
    assert looked == {"rc-burst-a.test": 2, "rc-burst-b.test": 2}  # a first and a second look each
    assert monitor.collect() == []  # nothing broke: nothing to say

    # Once the first look has started, a new change gets a look of its own.
    event = change_through_route53(zones["rc-burst-a.test"], "UPSERT", cnames(tokens["rc-burst-a.test"])[0], start)
    assert monitor.invoke(event)["queued"] == 1


def test_ses_call_in_another_region_is_rechecked_and_alerted(monitor, ses, knot, route53):
    world = ses(REGION)
    tokens = world.add_domain("rc-signing.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    HostedZone(route53, knot, "rc-signing.test", [*cnames(tokens), DMARC])
    monitor.schedule()
    assert monitor.collect() == []

    # Someone turns DKIM signing off (moto does not implement the call: its effect is set directly).
    called = monitor.clock.advance(15 * 60)
    world._identity("rc-signing.test").dkim_attributes["SigningEnabled"] = False
    event = json.loads((EVENTS / "triggers" / "ses-put-dkim-attributes.json").read_text())
    event["detail"]["requestParameters"]["emailIdentity"] = "rc-signing.test"
    event["time"] = event["detail"]["eventTime"] = called.strftime("%Y-%m-%dT%H:%M:%SZ")
    monitor.clock.advance(DELIVERY)
    assert monitor.invoke(event)["queued"] == 1
    monitor.work(seconds=6 * 60)

    [opened] = monitor.alerts
    assert (opened["event"], opened["identity"], opened["region"]) == ("opened", "rc-signing.test", REGION)
    assert opened["check"] == "dkim-signing-disabled"
    assert datetime.fromisoformat(opened["at"]) - called <= FIVE_MINUTES


def test_ses_recommendation_quotes_what_ses_itself_says_never_the_events_text(
    monitor, moto, ses, knot, route53, httpserver, monkeypatch
):
    vdm = VdmStandIn(moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", vdm.install(httpserver))
    monkeypatch.setattr(recommendations, "_said_not_enabled", set())
    monitor.env["IMPORT_SES_RECOMMENDATIONS"] = "true"
    world = ses(REGION)
    tokens = world.add_domain("rc-advice.test", dkim_status="FAILED", verification="SUCCESS")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    HostedZone(route53, knot, "rc-advice.test", [*cnames(tokens[:2]), DMARC])
    vdm.recommend("rc-advice.test", "DKIM", 'DKIM is failing for rc-advice.test.\n<!channel> "quoted"', region=REGION)
    event = json.loads((EVENTS / "triggers" / "ses-recommendation-open.json").read_text())
    event["region"] = REGION
    event["resources"] = [f"arn:aws:ses:{REGION}:123456789012:identity/rc-advice.test"]
    event["detail"]["data"] = "Text in the event, which anyone who can reach the queue could have written."

    assert monitor.invoke(event)["queued"] == 1
    monitor.work(seconds=6 * 60)

    opened = [a for a in monitor.alerts if a["event"] == "opened"]
    dkim = [a for a in opened if a["check"].startswith("dkim-")]
    assert dkim, "the re-check found the problem SES reported"
    for alert in dkim:
        assert "SES says:" in alert["message"]
        assert "DKIM is failing for rc-advice.test." in alert["message"], "SES's words, read from SES"
    assert not any("Text in the event" in a["message"] for a in monitor.alerts)
    assert ("ListRecommendations", {"Filter": {"STATUS": "OPEN"}, "PageSize": 100}) in vdm.calls


def test_event_about_a_domain_nobody_sends_from_is_ignored_quietly(monitor, ses, knot, route53, capsys):
    tokens = ses(REGION).add_domain("rc-known.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    HostedZone(route53, knot, "rc-known.test", [*cnames(tokens), DMARC])
    unrelated = HostedZone(route53, knot, "rc-website.test", [("www", "A", 60, ["192.0.2.1"])])
    monitor.schedule()
    capsys.readouterr()

    event = change_through_route53(unrelated, "UPSERT", ("www", "A", 60, ["192.0.2.2"]), monitor.clock.now)
    result = monitor.invoke(event)

    assert result["ignored"] == "no monitored identity"
    assert monitor.queued() == 0
    out = capsys.readouterr()
    assert metric_sums(out.out)["TriggerEventsIgnored"] == 1
    assert '"level":"ERROR"' not in out.out + out.err


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {}},
        {"source": "aws.ses", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventSource": 7}},
        {"hello": "world"},
        "not even an object",
    ],
    ids=["other-service", "broken-detail", "no-source", "not-an-object"],
)
def test_malformed_event_is_logged_counted_and_dropped_never_retried(monitor, event, capsys, caplog):
    result = monitor.invoke(event)  # returns: an async invocation that raised would be retried

    assert "dropped" in result
    assert metric_sums(capsys.readouterr().out)["TriggerEventsMalformed"] == 1
    [logged] = [r for r in caplog.records if r.message.startswith("event dropped")]
    assert logged.levelname == "ERROR" and logged.reason == result["dropped"]
    assert monitor.queued() == 0


def test_unreadable_queue_message_is_dropped_not_retried(monitor, capsys):
    bad_job = jobs.encode(jobs.RecheckJob("123456789012", REGION, ("x.test",), "r", T0.isoformat())).replace(
        '"look":1', '"look":7'
    )
    batch = [
        {"MessageId": "m1", "ReceiptHandle": "h1", "Body": bad_job},
        {"MessageId": "m2", "ReceiptHandle": "h2", "Body": "{not json"},
    ]

    result = monitor.invoke(sqs_event(batch))

    assert result["batchItemFailures"] == []
    assert metric_sums(capsys.readouterr().out)["QueueMessagesMalformed"] == 2


def test_recheck_job_that_cannot_read_ses_is_retried_then_dead_lettered(monitor, ses, monkeypatch, httpserver):
    ses(REGION).add_domain("rc-retry.test")
    job = jobs.RecheckJob("123456789012", REGION, ("rc-retry.test",), "test", T0.isoformat())
    monitor.sqs.send_message(QueueUrl=monitor.queue_url, MessageBody=jobs.encode(job))
    # SES v2 answers AccessDenied (its REST-JSON error shape), as it does to a role without ses:GetEmailIdentity.
    httpserver.expect_request("/v2/email/identities/rc-retry.test").respond_with_json(
        {"message": "not allowed"}, status=403, headers={"x-amzn-ErrorType": "AccessDeniedException"}
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", httpserver.url_for("/").rstrip("/"))

    # Three receives, each after the visibility timeout; SQS moves the message at the fourth.
    monitor.work(seconds=4 * 300 + 60, step=60)

    assert len(monitor.results) == 3
    assert all(r.get("batchItemFailures") for r in monitor.results), "each attempt reported as failed"
    dlq = monitor.sqs.get_queue_url(QueueName="recheck-dlq")["QueueUrl"]
    [dead] = monitor.sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert jobs.decode(dead["Body"]) == job


@pytest.fixture()
def route53(moto):
    return boto3.client("route53")


def test_sample_events_run_through_the_lambda_entry_point(monitor, monkeypatch):
    """Every sample in events/triggers through ``lambda_handler``, as ``sam local invoke -e`` would pass it
    (sam local needs Docker, which these machines lack). Nothing is indexed: each is queued or ignored."""
    for key, value in monitor.env.items():
        monkeypatch.setenv(key, value)
    for path in sorted((EVENTS / "triggers").glob("*.json")):
        event = json.loads(path.read_text())
        result = handler.lambda_handler(copy.deepcopy(event), FakeContext())
        assert set(result) & {"queued", "ignored", "dropped"}, (path.name, result)
        assert "dropped" not in result, f"{path.name}: a sample of an event we handle was dropped: {result}"


# ---------------------------------------------------------------- the adapters, on moto's DynamoDB


@pytest.fixture()
def table(moto):
    return boto3.client("dynamodb"), create_state_table(boto3.client("dynamodb"), "recheck-adapters")


def identity(name: str, region: str = REGION, mail_from: str | None = None) -> SesIdentity:
    return SesIdentity(
        name=name,
        region=region,
        account="123456789012",
        type=IdentityType.EMAIL_ADDRESS if "@" in name else IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        mail_from=MailFrom(mail_from, SesStatus.SUCCESS, "USE_DEFAULT_VALUE") if mail_from else None,
    )


def test_index_round_trips_in_parts_and_ignores_parts_of_an_older_larger_index(table, monkeypatch):
    db, name = table
    index = recheck_store.IdentityIndex(db, name)
    monkeypatch.setattr(recheck_store, "INDEX_PART_SIZE", 2)
    many = [identity(f"d{i}.example.com", mail_from=f"bounce.d{i}.example.com") for i in range(5)]
    index.write("123456789012", REGION, many, now=T0)  # three parts
    index.write("123456789012", "us-east-1", [identity("ops@example.org", "us-east-1")], now=T0)

    known = index.load()
    assert [(k.region, k.name, k.mail_from) for k in known if k.region == REGION] == [
        (REGION, f"d{i}.example.com", f"bounce.d{i}.example.com") for i in range(5)
    ]
    assert [(k.name, k.domain) for k in known if k.region == "us-east-1"] == [("ops@example.org", "example.org")]

    index.write("123456789012", REGION, many[:1], now=T0 + timedelta(hours=1))  # one part; parts 1-2 remain
    assert [k.name for k in index.load() if k.region == REGION] == ["d0.example.com"]


def test_debounce_lets_one_claim_through_until_the_look_starts_or_the_wait_is_over(table):
    db, name = table
    debouncer = recheck_store.Debouncer(db, name)
    until = T0 + timedelta(minutes=10)
    assert debouncer.claim("123456789012", REGION, "Example.com", now=T0, until=until)
    assert not debouncer.claim("123456789012", REGION, "example.com", now=T0 + timedelta(seconds=5), until=until)
    assert debouncer.claim("123456789012", "us-east-1", "example.com", now=T0, until=until), "per region"
    debouncer.release("123456789012", REGION, "example.com", now=T0 + timedelta(minutes=1))
    assert debouncer.claim("123456789012", REGION, "example.com", now=T0 + timedelta(minutes=1), until=until)
    # A look that never came (its function crashed): the claim lapses by itself.
    assert debouncer.claim("123456789012", REGION, "example.com", now=until, until=until + timedelta(minutes=10))


# ---------------------------------------------------------------- trust nothing that arrives (issue 18)

OTHER_ACCOUNT = "222222222222"  # an account that forwards its Route 53 events but is not monitored


def broken_identity(ses, knot, route53, name: str) -> tuple[list[str], HostedZone]:
    """A domain in REGION whose third DKIM CNAME is missing: any look at it opens an alert."""
    tokens = ses(REGION).add_domain(name)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    return tokens, HostedZone(route53, knot, name, [*cnames(tokens[:2]), DMARC])


def queue_job(monitor: Monitor, body: str) -> None:
    monitor.sqs.send_message(QueueUrl=monitor.queue_url, MessageBody=body)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("account", "999999999999", "account-not-monitored"),
        ("region", "ap-southeast-2", "region-not-configured"),
        ("change_account", "999999999999", "change-account-not-monitored"),
    ],
)
def test_a_recheck_job_for_an_unmonitored_account_or_region_is_dropped_counted_and_never_retried(
    monitor, ses, knot, route53, capsys, caplog, field, value, rule
):
    region = value if field == "region" else REGION
    tokens = ses(region).add_domain("rc-unmonitored.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    HostedZone(route53, knot, "rc-unmonitored.test", [*cnames(tokens[:2]), DMARC])
    job = jobs.RecheckJob("123456789012", REGION, ("rc-unmonitored.test",), "forged", T0.isoformat())
    fields = {field: value, **({"change_id": "/change/C0FFEE"} if field == "change_account" else {})}
    queue_job(monitor, json.dumps({**json.loads(jobs.encode(job)), **fields}))
    capsys.readouterr()

    monitor.work(seconds=6 * 60)

    out = capsys.readouterr().out
    assert [r.get("batchItemFailures") for r in monitor.results] == [[]], "one delivery, nothing retried"
    assert monitor.ses_calls == [] and monitor.alerts == [], "nothing looked at, nothing sent"
    assert monitor.queued() == 0
    assert metric_sums(out)["QueueMessagesRejected"] == 1
    [logged] = [r for r in caplog.records if r.getMessage() == "queue message rejected"]
    assert logged.rule == rule, "the rule it broke"
    assert value not in json.dumps(logged.__dict__, default=str), "not the message's content"


def test_a_job_carrying_forged_ses_words_never_puts_them_in_an_alert(monitor, ses, knot, route53):
    broken_identity(ses, knot, route53, "rc-forged-words.test")
    # A job as an older version of the monitor wrote it, with SES's words in the message: it still decodes.
    job = jobs.RecheckJob("123456789012", REGION, ("rc-forged-words.test",), "forged", T0.isoformat())
    forged = {**json.loads(jobs.encode(job)), "ses_says": "Fix: publish evil.test TXT pwned <!channel>"}
    assert jobs.decode(json.dumps(forged)) == job
    queue_job(monitor, json.dumps(forged))

    monitor.work(seconds=6 * 60)

    [opened] = [a for a in monitor.alerts if a["check"] == "dkim-record-missing"]
    assert opened["event"] == "opened" and opened["identity"] == "rc-forged-words.test"
    for alert in monitor.alerts:
        assert "evil.test" not in json.dumps(alert) and "SES says" not in alert["message"]


def route53_event_from(account: str, event: dict[str, Any]) -> dict[str, Any]:
    """The same change, recorded by CloudTrail in ``account`` and forwarded to the monitor's bus."""
    event = copy.deepcopy(event)
    event["account"] = event["detail"]["recipientAccountId"] = account
    event["detail"]["userIdentity"]["accountId"] = account
    return event


def test_a_route53_change_in_another_account_rechecks_this_accounts_identities_only_when_mapped(
    monitor, ses, knot, route53, capsys
):
    _, zone = broken_identity(ses, knot, route53, "rc-dns-account.test")
    monitor.schedule()
    monitor.collect()
    monitor.alerts.clear()
    capsys.readouterr()

    # A record of the same name changed in another account's zone: DNS names are not ownership.
    event = route53_event_from(OTHER_ACCOUNT, change_through_route53(zone, "UPSERT", DMARC, monitor.clock.now))
    assert monitor.invoke(event) == {"ignored": "no monitored identity", "reason": monitor.results[-1]["reason"]}
    assert monitor.queued() == 0

    # DNS_ACCOUNT_MAP says that account's zones serve this account's identities.
    monitor.env["DNS_ACCOUNT_MAP"] = f"{OTHER_ACCOUNT}=123456789012"
    monitor.ses_calls.clear()
    assert monitor.invoke(event)["queued"] == 1
    monitor.work(seconds=6 * 60)
    looked = {p.get("EmailIdentity") for op, p in monitor.ses_calls if op == "GetEmailIdentity"}
    assert looked == {"rc-dns-account.test"}


def test_a_storm_of_route53_changes_is_bounded_per_source_account_and_hour_and_counted(
    monitor, ses, knot, route53, capsys
):
    names = [f"rc-storm-{i}.test" for i in range(5)]
    tokens = {name: ses(REGION).add_domain(name) for name in names}
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(t) for t in tokens.values()))
    zones = {name: HostedZone(route53, knot, name, [*cnames(tokens[name]), DMARC]) for name in names}
    monitor.env["MAX_RECHECKS_PER_ACCOUNT_HOUR"] = "3"
    monitor.schedule()
    monitor.collect()
    monitor.clock.now = T0 + timedelta(hours=1)  # the start of an hour of its own
    capsys.readouterr()
    monitor.ses_calls.clear()

    # One UPSERT a minute for an hour, each touching the DMARC record of all five domains.
    for minute in range(60):
        at = monitor.clock.now
        for zone in zones.values():
            zone.upsert(*DMARC)
        changes = [cloudtrail_change("UPSERT", f"_dmarc.{n}.", "TXT", 300, DMARC[3]) for n in names]
        monitor.invoke(route53_event(zones[names[0]], {"Id": f"/change/C{minute}"}, changes, at))
        monitor.work(seconds=60)

    looked = Counter(p["EmailIdentity"] for op, p in monitor.ses_calls if op == "GetEmailIdentity")
    assert sum(looked.values()) <= 3 * 2, f"at most 3 identity re-checks (two looks each) in the hour: {looked}"
    metrics = metric_sums(capsys.readouterr().out)
    assert metrics["RechecksQueued"] == 1
    assert metrics["RechecksDropped"] + metrics.get("RechecksDebounced", 0) == 60 * 5 - 3, "each one counted"

    # The next hour has a budget of its own.
    monitor.clock.now = T0 + timedelta(hours=2, minutes=1)
    event = route53_event(zones[names[0]], {"Id": "/change/CNEXT"}, changes, monitor.clock.now)
    assert monitor.invoke(event)["queued"] >= 1


def test_the_hourly_budget_grants_what_is_left_to_concurrent_takers_and_starts_afresh_each_hour(table):
    db, name = table
    budget = recheck_store.RecheckBudget(db, name, per_hour=10)
    assert [budget.take("111111111111", n, now=T0) for n in (4, 4, 4, 4)] == [4, 4, 2, 0]
    assert budget.take("222222222222", 7, now=T0) == 7, "per source account"
    assert budget.take("111111111111", 3, now=T0 + timedelta(minutes=59)) == 0, "the same hour"
    assert budget.take("111111111111", 3, now=T0 + timedelta(hours=1)) == 3, "the next hour"
    item = db.get_item(TableName=name, Key={"pk": {"S": "budget#111111111111"}, "sk": {"S": "2026-11-28T10"}})
    assert item["Item"]["asked"] == {"N": "19"}, "the counter says how much was asked for"
    assert int(item["Item"]["expires_at"]["N"]) == int((T0 + timedelta(days=1, hours=1)).timestamp())


def test_what_ses_says_about_a_finding_is_introduced_in_the_language_of_the_alert():
    """A re-check quotes SES's own recommendation after the finding: in Japanese, the words around it too."""
    from ses_dkim_monitor import i18n, rechecks
    from ses_dkim_monitor.models import Finding, IdentityReport, IdentityStatus, Severity

    ident = SesIdentity(
        name="ja-advice.test",
        region=REGION,
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
    )
    said = [recommendations.Recommendation("ja-advice.test", "DKIM", "DKIM is failing for ja-advice.test.", "HIGH")]
    with i18n.speaking("ja"):
        finding = Finding(
            check="dkim-status-not-success",
            severity=Severity.CRITICAL,
            message="SES は DKIM ステータスを FAILED と報告しています",
            fix="fix",
        )
        report = IdentityReport(ident, IdentityStatus.PROBLEM, (finding,))
        [quoted] = rechecks._with_ses_words(report, said).findings
    assert "SES says" not in quoted.message and '"DKIM is failing for ja-advice.test."' in quoted.message
    assert quoted.message.startswith("SES は DKIM ステータスを FAILED と報告しています。")
    plain = Finding(check="dkim-x", severity=Severity.CRITICAL, message="m", fix="f")
    english = IdentityReport(ident, IdentityStatus.PROBLEM, (plain,))
    [kept] = rechecks._with_ses_words(english, said).findings
    assert kept.message == 'm. SES says: "DKIM is failing for ja-advice.test."'


def sending_disabled_event(at: datetime) -> dict[str, Any]:
    """SES paused sending of the monitor's account in REGION: a whole-account re-check."""
    event = json.loads((EVENTS / "triggers" / "ses-sending-disabled.json").read_text())
    event["region"] = REGION
    event["resources"] = []
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def test_a_budget_below_a_whole_account_recheck_still_grants_one_each_hour(monitor, ses, knot, route53, capsys):
    """A whole-account re-check costs 100, granted whole: a budget of 50 (the template accepts 1) used to
    drop every one of them, silently."""
    broken_identity(ses, knot, route53, "rc-small-budget.test")
    monitor.env["MAX_RECHECKS_PER_ACCOUNT_HOUR"] = "50"
    capsys.readouterr()

    assert monitor.invoke(sending_disabled_event(monitor.clock.now))["queued"] == 1
    monitor.work(seconds=6 * 60)

    [opened] = [a for a in monitor.alerts if a["check"] == "dkim-record-missing"]
    assert (opened["event"], opened["identity"]) == ("opened", "rc-small-budget.test")
    assert "RechecksDropped" not in {k for k, v in metric_sums(capsys.readouterr().out).items() if v}


def test_jobs_sent_straight_to_the_queue_spend_no_more_than_the_hourly_budget(monitor, ses, knot, route53, capsys):
    """Whoever may send to the re-check queue skips on_event, where the budget used to be charged alone:
    ten whole-account jobs an hour were ten region listings and twenty looks against SES's rate."""
    broken_identity(ses, knot, route53, "rc-forged-whole.test")
    monitor.env["MAX_RECHECKS_PER_ACCOUNT_HOUR"] = "3"  # a whole-account look costs 3: two looks an hour
    whole = jobs.RecheckJob("123456789012", REGION, (), "forged", T0.isoformat(), whole_account=True)
    for _ in range(10):
        queue_job(monitor, jobs.encode(whole))
    capsys.readouterr()

    monitor.work(seconds=10 * 60)

    listings = [op for op, _ in monitor.ses_calls if op == "ListEmailIdentities"]
    assert len(listings) == 2, "the hour's budget of looks, whoever wrote the jobs"
    metrics = metric_sums(capsys.readouterr().out)
    assert metrics["RechecksRun"] == 2
    assert metrics["RechecksDropped"] == 10, "8 first looks and the 2 second looks the budget no longer covers"
    assert all(r.get("batchItemFailures", []) == [] for r in monitor.results), "a dropped job is not retried"
    assert monitor.queued() == 0

    # The next hour has a budget of its own.
    monitor.clock.now = T0 + timedelta(hours=1, minutes=1)
    monitor.ses_calls.clear()
    queue_job(monitor, jobs.encode(whole))
    monitor.work(seconds=60)
    assert [op for op, _ in monitor.ses_calls].count("ListEmailIdentities") == 1


def test_a_job_naming_more_identities_than_an_hours_budget_looks_at_no_more_of_them(
    monitor, ses, knot, route53, capsys
):
    names = [f"rc-many-{i}.test" for i in range(8)]
    tokens = {name: ses(REGION).add_domain(name) for name in names}
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(t) for t in tokens.values()))
    for name in names:
        HostedZone(route53, knot, name, [*cnames(tokens[name]), DMARC])
    monitor.env["MAX_RECHECKS_PER_ACCOUNT_HOUR"] = "3"
    capsys.readouterr()
    queue_job(monitor, jobs.encode(jobs.RecheckJob("123456789012", REGION, tuple(names), "forged", T0.isoformat())))

    monitor.work(seconds=10 * 60)

    looked = Counter(p["EmailIdentity"] for op, p in monitor.ses_calls if op == "GetEmailIdentity")
    assert set(looked) == set(names[:3]) and sum(looked.values()) <= 3 * 2, looked
    assert metric_sums(capsys.readouterr().out)["RechecksDropped"] == len(names) - 3
