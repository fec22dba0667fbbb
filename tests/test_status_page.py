"""The status page in S3, written by the Lambda after each scheduled run that alerted, and linked from alerts.

Everything AWS is moto's server over HTTP: S3 (a versioned bucket with default SSE-KMS, as the
template creates it), SES in two member accounts and two regions reached through assumed roles,
DynamoDB, SNS read back through an SQS subscriber, SQS for the fan-out. DNS is knotd; Slack a local
HTTP server. The scan time is injected; nothing sleeps.

What moto does not do, and how the tests get around it: a bucket policy denying PutObject is not
enforced, so a bucket that refuses writes is either one that does not exist (S3's NoSuchBucket) or
a local server answering every S3 request with 403 AccessDenied in S3's XML error shape
(``AWS_ENDPOINT_URL_S3``, which boto3 reads itself, as a deployment would).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.sns.models import sns_backends
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ses_dkim_monitor import handler, status_page
from ses_dkim_monitor.settings import ConfigError, Settings
from ses_dkim_monitor.status_page import INDEX_KEY, StatusPageLinks, StatusPageWriter, shard_key
from ses_dkim_monitor.wiring import build_status_page
from tests.support.alert_builders import Topic, create_state_table, identity_report, missing_token, scan
from tests.support.html_check import parse
from tests.support.lambda_runtime import SCHEDULED, FakeContext, metric_sums, sqs_event
from tests.support.ses_world import ACCOUNT_ID, customer_cname_records, easy_dkim_zone_records

T0 = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
BUCKET = "ses-dkim-monitor-status-test"
HOME = "us-east-1"  # the stack's region: the bucket's
MEMBERS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
SHARDS = [(account, region) for account in MEMBERS for region in REGIONS]
HOSTILE_TXT = "<script>alert(1)</script>"
HOOK = "/services/T000/B000/status-page"
CONSOLE = f"{HOME}.console.aws.amazon.com"
LINKS = StatusPageLinks(BUCKET, HOME)


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/ses-dkim-monitor-scan"


def broken_domain(account: str, region: str) -> str:
    return f"page-{account[:3]}-{region}.test"


def ok_domain(account: str, region: str) -> str:
    return f"fine-{account[:3]}-{region}.test"


HOSTILE_DOMAIN = "hostile-page.test"  # in the first shard: its DMARC record is invalid (a warning)
ALERTS = len(SHARDS) + 1  # a missing DKIM CNAME per shard, and the hostile DMARC record


@dataclass
class Site:
    """The deployed monitor with its status page bucket, and what each shard holds."""

    env: dict[str, str]
    topic: Topic
    slack: HTTPServer
    s3: Any
    identities: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        """One invocation; its metrics are printed (Embedded Metric Format) as the Lambda's decorator does."""
        try:
            return handler.run(event, FakeContext(), env=self.env, now=T0)
        finally:
            handler.metrics.flush_metrics()

    def keys(self) -> list[str]:
        contents = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return sorted(item["Key"] for item in contents)

    def page(self, key: str) -> str:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(envelope["Message"]) for envelope in self.topic.received()]

    def emails(self) -> list[str]:
        """The text email subscribers got (SNS's ``email`` structure), from moto's record of publishes."""
        topic = sns_backends[ACCOUNT_ID][HOME].topics[self.topic.arn]
        return [json.loads(message)["email"] for _id, message, *_rest in topic.sent_notifications]

    def slack_bodies(self) -> list[str]:
        return [request.get_data(as_text=True) for request, _response in self.slack.log]


def all_names(site: Site) -> list[str]:
    return [name for names in site.identities.values() for name in names]


@pytest.fixture()
def site(ses, knot, moto, httpserver, monkeypatch) -> Iterator[Site]:
    """Two member accounts, two regions; each shard holds a domain missing a DKIM CNAME and a healthy one.

    The first shard also holds a domain whose DMARC record is ``p=<script>alert(1)</script>``.
    """
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()
    s3 = boto3.client("s3", region_name=HOME)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    key_arn = boto3.client("kms", region_name=HOME).create_key(Description="status page")["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    identities: dict[tuple[str, str], list[str]] = {}
    amazonses: list[str] = []
    for account, region in SHARDS:
        world = ses(region, account=account)
        broken, fine = broken_domain(account, region), ok_domain(account, region)
        names = [broken, fine]
        for name in names:
            tokens = world.add_domain(name)
            published = tokens[:2] if name == broken else tokens  # the third CNAME was deleted
            knot.set_zone(name, customer_cname_records(published) + '\n_dmarc TXT "v=DMARC1; p=none"')
            amazonses.append(easy_dkim_zone_records(tokens))
        if (account, region) == SHARDS[0]:
            tokens = world.add_domain(HOSTILE_DOMAIN)
            knot.set_zone(HOSTILE_DOMAIN, customer_cname_records(tokens) + f'\n_dmarc TXT "v=DMARC1; p={HOSTILE_TXT}"')
            amazonses.append(easy_dkim_zone_records(tokens))
            names.append(HOSTILE_DOMAIN)
        identities[(account, region)] = names
    knot.set_zone("dkim.amazonses.com", "\n".join(amazonses))

    topic = Topic()
    secret = boto3.client("secretsmanager").create_secret(
        Name="status-page-slack", SecretString=json.dumps({"webhook_url": httpserver.url_for(HOOK)})
    )["ARN"]
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    env = {
        "AWS_REGION": HOME,
        "SCAN_REGIONS": ",".join(REGIONS),
        "SCAN_ROLE_ARNS": ",".join(role_arn(a) for a in MEMBERS),
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), "status-page-state"),
        "ALERT_TOPIC_ARN": topic.arn,
        "SLACK_WEBHOOK_SECRET_ARN": secret,
        "SES_REQUESTS_PER_SECOND": "50",
        "STATUS_PAGE_BUCKET": BUCKET,
    }
    yield Site(env=env, topic=topic, slack=httpserver, s3=s3, identities=identities)
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and extra fields, as the JSON log line would carry them."""
    return "\n".join(repr(record.__dict__) for record in caplog.records)


# -- a run that scanned everything itself -----------------------------------------------------------------------


def test_a_scheduled_run_writes_each_shards_page_and_the_whole_report_as_the_index(site, capsys):
    result = site.run(SCHEDULED)

    assert result["problems"] == ALERTS and result["notifications_failed"] == 0
    assert site.keys() == sorted([INDEX_KEY, *(shard_key(a, r) for a, r in SHARDS)])
    for (account, region), names in site.identities.items():
        key = shard_key(account, region)
        page = parse(site.page(key))
        assert page.external_references() == [], "one self-contained file: nothing fetched or linked elsewhere"
        assert all(name in page.text for name in names), f"{key} lists every identity of its shard"
        others = [n for n in all_names(site) if n not in names]
        assert not [n for n in others if n in page.text], f"{key} lists only its own shard"
        assert f"account {account} · {region}" in page.text
        head = site.s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == "text/html; charset=utf-8" and head["CacheControl"] == "no-cache"
        assert head["ServerSideEncryption"] == "aws:kms", "encrypted by the bucket's default, no key passed"
    index = parse(site.page(INDEX_KEY))
    assert all(name in index.text for name in all_names(site)), "the index is the whole report's page"
    assert index.external_references() == []
    metrics = metric_sums(capsys.readouterr().out)
    assert metrics["StatusPageWriteErrors"] == 0 and metrics["ScanCompleted"] == 1


def test_a_txt_record_holding_a_script_is_escaped_in_the_stored_page(site):
    site.run(SCHEDULED)

    stored = site.page(shard_key(*SHARDS[0]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in stored
    assert "<script" not in stored.lower()
    assert HOSTILE_TXT in parse(stored).text, "a reader sees the record's text, as text"


def test_every_alert_links_to_its_accounts_and_regions_page_in_the_s3_console(site):
    site.run(SCHEDULED)

    alerts = site.alerts()
    assert len(alerts) == ALERTS and {(a["account"], a["region"]) for a in alerts} == set(SHARDS)
    for alert in alerts:
        assert alert["status_page"] == (
            f"https://{CONSOLE}/s3/object/{BUCKET}?region={HOME}"
            f"&prefix=status/{alert['account']}/{alert['region']}.html"
        )
    emails = site.emails()
    assert len(emails) == ALERTS
    for email in emails:
        [line] = [line for line in email.splitlines() if line.startswith("Status page: ")]
        assert line.removeprefix("Status page: ") in {a["status_page"] for a in alerts}
    bodies = site.slack_bodies()
    assert len(bodies) == ALERTS
    for body in bodies:
        links = re.findall(r"<(https://[^|>]+)\|Status page of ", body)
        assert [link.replace("&amp;", "&") for link in links] in [[a["status_page"]] for a in alerts]


def test_alerts_go_out_before_any_page_is_written(site):
    seen_by_slack: list[list[str]] = []

    def slack_receives(request: Request) -> Response:
        seen_by_slack.append(site.keys())  # what the bucket holds when each alert arrives
        return Response("ok")

    site.slack.clear()
    site.slack.expect_request(HOOK, method="POST").respond_with_handler(slack_receives)

    site.run(SCHEDULED)

    assert seen_by_slack == [[]] * ALERTS
    assert len(site.keys()) == len(SHARDS) + 1


def test_without_a_bucket_nothing_is_written_and_alerts_carry_no_link(site, capsys):
    del site.env["STATUS_PAGE_BUCKET"]

    result = site.run(SCHEDULED)

    assert result["notifications_delivered"] == 2 * ALERTS
    assert site.keys() == []
    assert [a["status_page"] for a in site.alerts()] == [None] * ALERTS
    assert not [e for e in site.emails() if "Status page" in e]
    assert not [b for b in site.slack_bodies() if "Status page" in b or "console.aws" in b]
    assert "StatusPageWriteErrors" not in metric_sums(capsys.readouterr().out)


def test_a_manual_run_of_some_regions_writes_their_pages_and_leaves_the_index_alone(site):
    site.run({"source": "ses-dkim-monitor.manual", "regions": ["eu-west-1"]})

    assert site.keys() == sorted(shard_key(account, "eu-west-1") for account in MEMBERS)


def test_a_scan_only_run_writes_no_page(site):
    site.run({"source": "ses-dkim-monitor.manual", "notify": False})

    assert site.keys() == []


# -- a fanned-out run -------------------------------------------------------------------------------------------


def test_a_fanned_out_run_ends_with_an_index_of_every_shard_page_written_by_the_last_shard(site, capsys):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="status-page-shards")["QueueUrl"]
    site.env.update(FANOUT_QUEUE_URL=queue, SHARDS_PER_INVOCATION="1")

    assert site.run(SCHEDULED)["fanned_out"] == len(SHARDS)
    assert site.keys() == [], "the scheduled invocation scans nothing and writes nothing itself"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    assert len(messages) == len(SHARDS)

    written: list[str] = []
    for i, message in enumerate(messages):
        body = json.loads(message["Body"])
        assert site.run(sqs_event([message])) == {"batchItemFailures": []}
        written.append(shard_key(body["account"], body["region"]))
        last = i == len(messages) - 1
        assert site.keys() == sorted(written + ([INDEX_KEY] if last else [])), "the index only from the last shard"
    versions = site.s3.list_object_versions(Bucket=BUCKET, Prefix=INDEX_KEY)["Versions"]
    assert [v["Key"] for v in versions] == [INDEX_KEY], "written once, by the invocation that completed the run"

    index = parse(site.page(INDEX_KEY))
    relative = [href for href in index.attributes("href") if not href.startswith("https://")]
    assert sorted(set(relative)) == sorted(f"{a}/{r}.html" for a, r in SHARDS), "every shard page, by relative URL"
    assert index.external_references(allowed_hosts=(CONSOLE,)) == []
    for account, region in SHARDS:
        assert f"{account} {region}" in index.text
        assert LINKS.shard(account, region) in index.attributes("href")
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", index.text)) == len(SHARDS) + 1
    for account, region in SHARDS:  # each shard's own page holds its identities
        page = parse(site.page(shard_key(account, region)))
        assert all(name in page.text for name in site.identities[(account, region)])
    metrics = metric_sums(capsys.readouterr().out)
    assert metrics["StatusPageWriteErrors"] == 0 and metrics["ScanCompleted"] == 1


# -- a bucket that refuses ----------------------------------------------------------------------------------------

S3_ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
    "<RequestId>4442587FB7D0A2F9</RequestId><HostId>aGVsbG8=</HostId></Error>"
)


@pytest.fixture()
def refusing_s3() -> Iterator[HTTPServer]:
    """S3 on 127.0.0.1 that answers every request 403 AccessDenied, in S3's XML error shape."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/.*")).respond_with_data(
        S3_ACCESS_DENIED, status=403, content_type="application/xml"
    )
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.mark.parametrize("refusal", ["the bucket does not exist", "S3 answers 403 AccessDenied"])
def test_a_bucket_that_refuses_writes_leaves_the_alerts_delivered_and_counts_the_errors(
    site, refusal, refusing_s3, monkeypatch, capsys, caplog
):
    if refusal == "the bucket does not exist":
        site.env["STATUS_PAGE_BUCKET"], code = "no-such-status-bucket", "NoSuchBucket"
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", refusing_s3.url_for("/").rstrip("/"))
        code = "AccessDenied"

    result = site.run(SCHEDULED)

    assert result["notifications_delivered"] == 2 * ALERTS and result["notifications_failed"] == 0
    assert len(site.alerts()) == ALERTS and len(site.slack_bodies()) == ALERTS
    out = capsys.readouterr().out
    metrics = metric_sums(out)
    assert metrics["StatusPageWriteErrors"] == len(SHARDS) + 1, "every page not written is counted"
    assert metrics["ScanCompleted"] == 1, "the run itself completed"
    [warning] = [r for r in caplog.records if r.getMessage() == "status page not written"]
    assert warning.levelname == "WARNING"
    assert (warning.error, warning.bucket) == (code, site.env["STATUS_PAGE_BUCKET"])
    everything = logged(caplog) + out
    assert "<html" not in everything.lower() and "alert(1)" not in everything, "the page is never logged"
    if refusal == "S3 answers 403 AccessDenied":
        assert len(refusing_s3.log) == 1, "after the first refusal the other pages are not tried"
    else:
        assert site.keys() == []


# -- the adapter on its own ------------------------------------------------------------------------------------------


@pytest.fixture()
def bucket(moto) -> Any:
    s3 = boto3.client("s3", region_name=HOME)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


def stored_keys(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_recheck_report_never_writes_a_page(bucket):
    report = replace(
        scan(identity_report("example.com", missing_token("example.com", "tok1"))),
        accounts=(ACCOUNT_ID,),
        scope=frozenset({("us-east-1", "example.com")}),
    )
    writer = StatusPageWriter(bucket, BUCKET, links=LINKS)

    assert writer.write_report(report, index=True) == status_page.WriteResult()
    assert stored_keys(bucket) == []
    assert writer.write_report(replace(report, scope=None), index=True) == status_page.WriteResult(written=2)
    assert stored_keys(bucket) == sorted([INDEX_KEY, shard_key(ACCOUNT_ID, "us-east-1")])


def put_pages(s3: Any, shards: list[tuple[str, str]]) -> None:
    for account, region in shards:
        s3.put_object(Bucket=BUCKET, Key=shard_key(account, region), Body=b"<!DOCTYPE html>")


def test_the_index_lists_every_page_however_many_listing_pages_it_takes(bucket):
    shards = [("111111111111", "eu-west-1"), ("111111111111", "us-east-1"), ("222222222222", "us-east-1")]
    put_pages(bucket, shards)
    bucket.put_object(Bucket=BUCKET, Key="status/notes.txt", Body=b"not a page")
    bucket.put_object(Bucket=BUCKET, Key="status/a/b/c.html", Body=b"not a shard page")
    writer = StatusPageWriter(bucket, BUCKET, links=LINKS, page_size=1)

    assert writer.write_listing_index(run_started=T0) == status_page.WriteResult(written=1)
    index = parse(bucket.get_object(Bucket=BUCKET, Key=INDEX_KEY)["Body"].read().decode())
    relative = [href for href in index.attributes("href") if not href.startswith("https://")]
    assert relative == [f"{a}/{r}.html" for a, r in shards for _cell in ("account", "region")]


def test_the_listing_stops_at_its_bound(bucket, monkeypatch, caplog):
    shards = [("111111111111", "eu-west-1"), ("111111111111", "us-east-1"), ("222222222222", "us-east-1")]
    put_pages(bucket, shards)
    monkeypatch.setattr(status_page, "MAX_LIST_PAGES", 2)

    pages = StatusPageWriter(bucket, BUCKET, page_size=1).list_pages()

    assert pages is not None and [(p.account, p.region) for p in pages] == shards[:2]
    assert "listing stopped at its bound" in caplog.text


HOSTILE_KEY_PART = '"><img src=x onerror=alert(1)>'


def test_the_index_leaves_out_what_is_not_a_shard_page(bucket):
    """Keys are the bucket's: only ``status/<account>/<region>.html`` of plain names is listed."""
    put_pages(bucket, [("111111111111", "us-east-1")])
    bucket.put_object(Bucket=BUCKET, Key=f"status/{HOSTILE_KEY_PART}/us-east-1.html", Body=b"")

    StatusPageWriter(bucket, BUCKET).write_listing_index(run_started=T0)

    stored = bucket.get_object(Bucket=BUCKET, Key=INDEX_KEY)["Body"].read().decode()
    assert "alert(1)" not in stored
    assert parse(stored).attributes("href") == ["111111111111/us-east-1.html"] * 2


def test_the_index_page_escapes_everything_it_shows():
    page = status_page.ListedPage(HOSTILE_KEY_PART, "us-east-1", f"status/{HOSTILE_KEY_PART}/us-east-1.html", T0)

    stored = status_page.listing_html([page], run_started=T0, links=LINKS)

    parsed = parse(stored)
    assert "img" not in {tag for tag, _attrs in parsed.tags}
    assert HOSTILE_KEY_PART in parsed.text, "shown as text"
    assert all(" " not in href and '"' not in href for href in parsed.attributes("href"))
    assert parsed.external_references(allowed_hosts=(CONSOLE,)) == []


# IAM's name for each S3 API operation the writer may call (ListObjectsV2 is authorised as s3:ListBucket).
IAM_ACTION_OF = {"PutObject": "s3:PutObject", "ListObjectsV2": "s3:ListBucket"}


def test_iam_actions_are_exactly_the_calls_made(bucket):
    seen: set[str] = set()
    bucket.meta.events.register(
        "before-call.s3.*", lambda model, **kw: seen.add(IAM_ACTION_OF.get(model.name, model.name))
    )
    writer = StatusPageWriter(bucket, BUCKET, links=LINKS)
    report = replace(scan(identity_report("example.com")), accounts=(ACCOUNT_ID,))

    writer.write_report(report, index=True)
    writer.write_listing_index(run_started=T0)

    assert seen == set(status_page.IAM_ACTIONS)


def test_the_listing_asks_only_under_the_prefix_the_role_may_list(bucket):
    """The role's s3:ListBucket has the condition s3:prefix status/*: a listing without that prefix is denied."""
    prefixes: list[str | None] = []
    bucket.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **kw: prefixes.append(params.get("Prefix"))
    )
    put_pages(bucket, [("111111111111", "us-east-1")])

    StatusPageWriter(bucket, BUCKET, page_size=1).write_listing_index(run_started=T0)

    assert prefixes and set(prefixes) == {"status/"}


def test_console_links_name_the_bucket_its_region_and_the_page():
    links = StatusPageLinks("status-bucket", "eu-west-1")
    assert links.shard("111111111111", "ap-south-1") == (
        "https://eu-west-1.console.aws.amazon.com/s3/object/status-bucket"
        "?region=eu-west-1&prefix=status/111111111111/ap-south-1.html"
    )
    assert links.index() == (
        "https://eu-west-1.console.aws.amazon.com/s3/object/status-bucket?region=eu-west-1&prefix=status/index.html"
    )
    assert StatusPageLinks("b-1", "cn-north-1").index().startswith("https://cn-north-1.console.amazonaws.cn/s3/")
    assert StatusPageLinks("b-1", "us-gov-west-1").index().startswith("https://console.amazonaws-us-gov.com/s3/")


# -- the setting -------------------------------------------------------------------------------------------------


def test_the_bucket_is_read_with_the_stacks_region():
    settings = Settings.from_env({"AWS_REGION": "eu-west-1", "SCAN_REGIONS": "us-east-1", "STATUS_PAGE_BUCKET": BUCKET})
    assert (settings.status_page_bucket, settings.status_page_region) == (BUCKET, "eu-west-1")
    off = Settings.from_env({"AWS_REGION": "eu-west-1"})
    assert (off.status_page_bucket, off.status_page_region) == ("", "")
    assert build_status_page(off, boto3.Session()) is None


@pytest.mark.parametrize(
    "value",
    [
        "s3://status-bucket",
        "Status-Bucket",
        "status_bucket",
        "ab",
        "a" * 64,
        "-status",
        "status..bucket",
        "192.168.5.4",
        "xn--status",
        "status-s3alias",
        "arn:aws:s3:::status-bucket",
    ],
)
def test_a_malformed_bucket_name_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({"AWS_REGION": "us-east-1", "STATUS_PAGE_BUCKET": value})
    assert str(exc.value).startswith("STATUS_PAGE_BUCKET: ")


def test_the_bucket_needs_the_stacks_region():
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({"SCAN_REGIONS": "us-east-1", "STATUS_PAGE_BUCKET": BUCKET})
    assert str(exc.value).startswith("STATUS_PAGE_BUCKET: ") and "AWS_REGION" in str(exc.value)
