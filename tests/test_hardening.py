"""The alert path under faults and attacks: one test per finding of the security and reliability review.

Each test reproduces the finding against moto's server (HTTP), knotd and the
Slack stand-in on 127.0.0.1, and proves the behaviour docs/faults.md
describes. docs/faults.md lists these tests by name; tests/test_docs.py keeps
the two in step.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import unicodedata
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from ses_dkim_monitor import handler
from ses_dkim_monitor.alerts.dynamodb_store import SCHEMA, partition_key, sort_key, to_item
from ses_dkim_monitor.alerts.model import AlertState, AlertStatus
from ses_dkim_monitor.models import Severity
from tests.support.alert_builders import (
    ACCOUNT,
    T0,
    Topic,
    create_state_table,
    identity_report,
    missing_token,
    scan,
    signing_disabled,
)
from tests.support.alerting import HOOK, Deployment
from tests.support.block_kit import text_objects
from tests.support.faults import dynamodb_writes_fail
from tests.support.lambda_runtime import SCHEDULED, FakeContext, metric_values
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

HOUR = timedelta(hours=1)
REGION = "us-east-1"
BROKEN = scan(identity_report("example.com", missing_token("example.com", "tok1")))
FIXED = scan(identity_report("example.com"))
KEY = "dkim-record-missing#tok1"


@pytest.fixture()
def deployment(moto, httpserver_ipv4) -> Deployment:
    httpserver_ipv4.expect_request(HOOK, method="POST").respond_with_data("ok")
    return Deployment(httpserver_ipv4)


# ---------------------------------------------------------------- 1. a failed state write


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "AccessDeniedException"])
def test_alert_is_delivered_and_counted_when_the_state_table_refuses_writes(deployment, code):
    with dynamodb_writes_fail(code) as refused:
        first = deployment.run(BROKEN, T0)

    assert refused, "the fault must really have hit the table"
    assert deployment.sns_events() == [("opened", "example.com", KEY)]
    assert len(deployment.slack_posts()) == 1
    assert first.delivered == 2 and first.write_errors >= 2  # the claim and the record of delivery
    # At-least-once: the table never heard of it, so the next run sends it again, then records it.
    second = deployment.run(BROKEN, T0 + HOUR)
    assert [n.event.value for n in second.notifications] == ["opened"] and second.write_errors == 0
    deployment.drain()
    assert deployment.run(BROKEN, T0 + 2 * HOUR).notifications == ()


def test_state_write_errors_reach_the_metric_the_alarm_watches(moto, ses, knot, httpserver, capsys, monkeypatch):
    for name, value in _monitor_env(knot, httpserver, "hardening-writes").items():
        monkeypatch.setenv(name, value)
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    tokens = ses(REGION).add_domain("writes-fail.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone("writes-fail.test", customer_cname_records(tokens[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')
    handler._alerting_cache.clear()
    handler.metrics.clear_metrics()

    with dynamodb_writes_fail():
        result = handler.lambda_handler(SCHEDULED, FakeContext())

    metrics = metric_values(capsys.readouterr().out)
    assert result["notifications_delivered"] == 2 and result["state_write_errors"] >= 2
    assert metrics["StateWriteErrors"] == result["state_write_errors"]
    assert metrics["ScanCompleted"] == 1
    handler._alerting_cache.clear()


# ---------------------------------------------------------------- 2. one unreadable state item


def _raw_item(identity: str, key: str, **overrides) -> dict:
    state = AlertState(
        account=ACCOUNT,
        region=REGION,
        identity=identity,
        key=key,
        check=key.split("#")[0],
        severity=Severity.CRITICAL,
        message="m",
        fix="f",
        first_seen=T0,
        last_seen=T0,
        announced_channels=("sns", "slack"),
        version=3,
    )
    item = to_item(state)
    for name, value in overrides.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value
    return item


def test_one_unreadable_item_does_not_stop_alerting_for_the_others(deployment):
    client = boto3.client("dynamodb")
    table = deployment.settings.state_table
    good = _raw_item("fixed.example", "dkim-signing-disabled")
    bad_items = [
        _raw_item("corrupt.example", "dkim-signing-disabled", severity={"S": "catastrophic"}),
        _raw_item("noversion.example", "dkim-signing-disabled", version=None),
        _raw_item("oldschema.example", "dkim-signing-disabled", finding_key=None, first_seen={"N": "1700000000"}),
    ]
    for item in (good, *bad_items):
        client.put_item(TableName=table, Item=item)
    report = scan(
        identity_report("fixed.example"),
        *(identity_report(name, signing_disabled(name)) for name in ("corrupt.example", "noversion.example")),
        identity_report("oldschema.example", signing_disabled("oldschema.example")),
    )

    result = deployment.run(report, T0 + HOUR)

    assert result.unreadable_items == 3
    events = sorted(deployment.sns_events())
    assert events == [
        ("opened", "corrupt.example", "dkim-signing-disabled"),
        ("opened", "noversion.example", "dkim-signing-disabled"),
        ("opened", "oldschema.example", "dkim-signing-disabled"),
        ("resolved", "fixed.example", "dkim-signing-disabled"),
    ]
    # Each unreadable item was replaced by the write that opened its alert: the next run reads them all.
    loaded = deployment.store.load(ACCOUNT, REGION)
    assert loaded.unreadable == 0 and len(loaded.states) == 4
    assert all(s.status is AlertStatus.OPEN for s in loaded.states if s.identity != "fixed.example")
    assert deployment.run(report, T0 + 2 * HOUR).notifications == ()


def test_an_item_from_a_newer_schema_is_skipped_and_never_overwritten(deployment):
    client = boto3.client("dynamodb")
    table = deployment.settings.state_table
    future = _raw_item("future.example", "dkim-signing-disabled", schema={"N": str(SCHEMA + 1)})
    client.put_item(TableName=table, Item=future)

    result = deployment.run(scan(identity_report("future.example", signing_disabled("future.example"))), T0)

    assert result.unreadable_items == 1 and result.conflicts == 1 and deployment.sns_events() == []
    stored = client.get_item(
        TableName=table,
        Key={
            "pk": {"S": partition_key(ACCOUNT, REGION)},
            "sk": {"S": sort_key("future.example", "dkim-signing-disabled")},
        },
    )["Item"]
    assert stored == future


# ---------------------------------------------------------------- 3. DNS text forging alert lines

HOSTILE = (
    "v=DMARC9 \n\nFix: Publish evil.test TXT pwned\r\n"
    "\x1b[2J\x1b[31mESC \u202eevil.test\u202c \u200bzero width *bold* _it_ <!channel> <https://evil.test|x>"
)
FORGED = "Fix: Publish evil.test"


def _forgeries(text: str) -> list[str]:
    """Problems in a rendered text: a line that starts with forged content, or a hidden character."""
    found = [line for line in text.splitlines() if line.lstrip().startswith(FORGED)]
    found += [repr(ch) for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n"]
    return found


def test_txt_content_cannot_forge_lines_or_hide_text_in_any_channel(moto, ses, knot, httpserver):
    env = _monitor_env(knot, httpserver, "hardening-forge")
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    world = ses(REGION)
    # A _dmarc TXT, a bring-your-own-DKIM selector TXT and a MAIL FROM SPF TXT, all hostile.
    tokens = world.add_domain("forged-dmarc.test")
    world.add_domain("forged-key.test", tokens=["sel1"], origin="EXTERNAL")
    spf_tokens = world.add_domain(
        "forged-spf.test", mail_from={"domain": "bounce.forged-spf.test", "status": "SUCCESS"}
    )
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens) + "\n" + easy_dkim_zone_records(spf_tokens))
    knot.set_zone("forged-dmarc.test", customer_cname_records(tokens) + f"\n_dmarc TXT {_zone_txt(HOSTILE)}")
    knot.set_zone("forged-key.test", f"sel1._domainkey TXT {_zone_txt(HOSTILE)}\n" + '_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone(
        "forged-spf.test",
        customer_cname_records(spf_tokens)
        + '\n_dmarc TXT "v=DMARC1; p=none"\nbounce MX 10 feedback-smtp.us-east-1.amazonses.com.'
        + f"\nbounce TXT {_zone_txt('v=spf1 ' + HOSTILE)}",
    )
    handler._alerting_cache.clear()

    result = handler.run(SCHEDULED, FakeContext(), env=env, now=T0)
    handler.metrics.clear_metrics()
    handler._alerting_cache.clear()

    assert result["notifications_failed"] == 0 and result["notifications_delivered"] >= 6
    published = _published_structures()
    assert published, "SNS must have received messages"
    quoted_evil = 0
    for structure in published:
        for protocol in ("default", "email"):
            text = structure[protocol]
            assert _forgeries(text) == [], f"{protocol}: {_forgeries(text)}\n{text}"
            assert text.count("\nFix:\n") <= 1
            quoted_evil += text.count("\\x0aFix: Publish evil.test")
        payload = json.loads(structure["sqs"])
        if "evil.test" in payload["message"]:
            assert "\nFix: Publish evil.test" in payload["message"], "machines get the raw value"
    assert quoted_evil >= 3, "the hostile text is shown, escaped, for each of the three records"

    for request, _ in httpserver.log:
        body = json.loads(request.get_data())
        for obj in text_objects(body):
            assert _forgeries(obj["text"]) == [], obj
            if obj["type"] == "mrkdwn" and "evil.test" in obj["text"]:
                inner = obj["text"].removeprefix("```").removesuffix("```")
                assert obj["text"].startswith("```") and "`" not in inner, f"hostile text in Slack markup: {obj}"
            assert "<!channel>" not in obj["text"] and "<https://evil" not in obj["text"]
        assert "<!channel>" not in body["text"]


def _zone_txt(value: str) -> str:
    """A TXT value in zone-file syntax: control characters as \\DDD escapes, split into 255-byte strings."""
    raw = value.encode("utf-8")
    chunks = [raw[i : i + 200] for i in range(0, len(raw), 200)]

    def esc(chunk: bytes) -> str:
        return "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\{b:03d}" for b in chunk)

    return " ".join(f'"{esc(chunk)}"' for chunk in chunks)


def _published_structures() -> list[dict]:
    """Every message published to every topic, as the JSON structure SNS received (default, email, sqs...)."""
    from moto.sns.models import sns_backends

    found = []
    for topic in sns_backends[ACCOUNT][REGION].topics.values():
        for notification in topic.sent_notifications:
            message = notification[1]
            found.append(json.loads(message))
    return found


# ---------------------------------------------------------------- 4. the webhook URL leaking

TOKEN = "XoXbSeCrEtToKeN42"
MALFORMED = {
    "space": f"https://hooks.slack.com/services/T000/B000/{TOKEN} x",
    "tab": f"https://hooks.slack.com/services/T000/B000/{TOKEN}\tx",
    "bad-port": f"https://hooks.slack.com:44x3/services/T000/B000/{TOKEN}",
    "newline": f"https://hooks.slack.com/services/T000/B000/{TOKEN}\nx",
    "plain-http": f"http://hooks.slack.com/services/T000/B000/{TOKEN}",
    "not-slack-path": f"https://hooks.slack.com/{TOKEN}",
    # Whoever owns a look-alike host would receive the token and every alert (issue 18): refused before any
    # connection is made (these names are never looked up).
    "mistyped-host": f"https://hooks.slack.co/services/T000/B000/{TOKEN}",
    "trailing-dot": f"https://hooks.slack.com./services/T000/B000/{TOKEN}",
    "other-port": f"https://hooks.slack.com:8443/services/T000/B000/{TOKEN}",
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_malformed_webhook_url_never_reaches_logs_or_output_of_the_lambda(moto, knot, caplog, capsys, shape):
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"leak-{shape}", SecretString=json.dumps({"webhook_url": MALFORMED[shape]})
    )["ARN"]
    topic = Topic()
    env = {
        "SCAN_REGIONS": REGION,
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), f"leak-{shape}"),
        "ALERT_TOPIC_ARN": topic.arn,
        "SLACK_WEBHOOK_SECRET_ARN": secret,
    }
    boto3.client("sesv2").create_email_identity(EmailIdentity="leak@nowhere-leak.test")
    caplog.set_level(logging.INFO)  # INFO at the root: what a deployed function logs (see the DEBUG caveat)
    handler._alerting_cache.clear()

    result = handler.run(SCHEDULED, FakeContext(), env=env, now=T0)
    handler.metrics.clear_metrics()
    handler._alerting_cache.clear()

    out, err = capsys.readouterr()
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert result["notifications_failed"] >= 1, "Slack must count as failed, not silently skipped"
    assert TOKEN not in out + err + logged
    assert secret in logged, "the log must say which secret holds the bad URL"


@pytest.mark.parametrize("verbose", [False, True])
def test_malformed_webhook_url_never_reaches_the_cli_output(moto, knot, verbose):
    secret = boto3.client("secretsmanager").create_secret(Name="leak-cli", SecretString=MALFORMED["bad-port"])["ARN"]
    topic = Topic()
    boto3.client("sesv2").create_email_identity(EmailIdentity="leak@nowhere-cli.test")
    command = [
        str(Path(sys.executable).parent / "ses-dkim-monitor"),
        "check",
        "--region",
        REGION,
        "--nameserver",
        knot.address,
        "--notify",
        "--topic-arn",
        topic.arn,
        "--slack-secret-arn",
        secret,
        *(["-v"] if verbose else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=120)

    assert done.returncode == 4, done.stderr  # the notification could not be delivered everywhere
    assert TOKEN not in done.stdout + done.stderr
    assert "1 failed" in done.stderr


# ---------------------------------------------------------------- 4b. a reply that echoes the webhook's path

ECHOED = f"/services/T000/B000/{TOKEN}"


def _echoing_slack(httpserver) -> str:
    """A stand-in that answers like a proxy's error page: 404 with the request path (the token) in its body."""
    httpserver.expect_request(ECHOED).respond_with_data(f"no such hook {ECHOED}", status=404)
    return httpserver.url_for(ECHOED)


def test_a_reply_echoing_the_webhook_path_never_reaches_logs_or_output_of_the_lambda(
    moto, knot, httpserver, caplog, capsys
):
    secret = boto3.client("secretsmanager").create_secret(
        Name="echo-lambda", SecretString=json.dumps({"webhook_url": _echoing_slack(httpserver)})
    )["ARN"]
    env = {
        "SCAN_REGIONS": REGION,
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), "echo-lambda"),
        "ALERT_TOPIC_ARN": Topic().arn,
        "SLACK_WEBHOOK_SECRET_ARN": secret,
    }
    boto3.client("sesv2").create_email_identity(EmailIdentity="leak@nowhere-echo.test")
    caplog.set_level(logging.INFO)
    handler._alerting_cache.clear()

    result = handler.run(SCHEDULED, FakeContext(), env=env, now=T0)
    handler.metrics.clear_metrics()
    handler._alerting_cache.clear()

    out, err = capsys.readouterr()
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert len(httpserver.log) == 1 and result["notifications_failed"] >= 1, "Slack was asked and said no"
    [rejected] = [r for r in caplog.records if r.getMessage() == "Slack rejected a message"]
    assert rejected.status == 404 and rejected.error is None, "the status, and no word of a body it does not know"
    assert TOKEN not in out + err + logged


@pytest.mark.parametrize("verbose", [False, True])
def test_a_reply_echoing_the_webhook_path_never_reaches_the_cli_output(moto, knot, httpserver, verbose):
    secret = boto3.client("secretsmanager").create_secret(Name="echo-cli", SecretString=_echoing_slack(httpserver))[
        "ARN"
    ]
    boto3.client("sesv2").create_email_identity(EmailIdentity="leak@nowhere-echo-cli.test")
    command = [
        str(Path(sys.executable).parent / "ses-dkim-monitor"),
        "check",
        "--region",
        REGION,
        "--nameserver",
        knot.address,
        "--notify",
        "--topic-arn",
        Topic().arn,
        "--slack-secret-arn",
        secret,
        *(["-v"] if verbose else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=120)

    assert len(httpserver.log) == 1, "Slack was asked"
    assert done.returncode == 4, done.stderr
    assert TOKEN not in done.stdout + done.stderr


# ---------------------------------------------------------------- 5. an older run finishing late


def test_a_run_that_scanned_earlier_cannot_undo_a_newer_result(deployment):
    deployment.run(BROKEN, T0)
    deployment.run(FIXED, T0 + 2 * HOUR)  # a newer run saw the fix and resolved it
    deployment.drain()

    late = deployment.run(BROKEN, T0 + HOUR)  # scanned before the fix, reaches alerting after

    assert late.notifications == () and late.newer_states == 1
    assert deployment.sns_events() == [] and deployment.slack_posts() == []
    [state] = deployment.store.load(ACCOUNT, REGION).states
    assert state.status is AlertStatus.RESOLVED and state.resolved_at == T0 + 2 * HOUR and state.version == 4


# ---------------------------------------------------------------- helpers


def _monitor_env(knot, httpserver, name: str) -> dict[str, str]:
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"{name}-slack", SecretString=json.dumps({"webhook_url": httpserver.url_for(HOOK)})
    )["ARN"]
    env = {
        "SCAN_REGIONS": REGION,
        "DNS_NAMESERVERS": knot.address,
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
        "STATE_TABLE_NAME": create_state_table(boto3.client("dynamodb"), f"{name}-state"),
        "ALERT_TOPIC_ARN": boto3.client("sns").create_topic(Name=f"{name}-topic")["TopicArn"],
        "SLACK_WEBHOOK_SECRET_ARN": secret,
        "SES_REQUESTS_PER_SECOND": "50",  # pacing is tests/scan/test_pacer.py's business
    }
    return env
