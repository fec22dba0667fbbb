"""The Lambda handler: thin shell, Powertools metrics, failure is loud."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ses_dkim_monitor import handler
from ses_dkim_monitor.settings import ConfigError
from tests.knot import free_port
from tests.ses_fixture import customer_cname_records, easy_dkim_zone_records


@dataclass
class FakeContext:
    function_name: str = "ses-dkim-monitor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ses-dkim-monitor"
    aws_request_id: str = "4b1f6c1e-0000-4000-8000-000000000000"


SCHEDULED = {"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-11-27T20:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/hourly"], "detail": {}}


@pytest.fixture(autouse=True)
def clean_metrics():
    handler.metrics.clear_metrics()
    yield
    handler.metrics.clear_metrics()


def emitted(stdout: str) -> dict[str, float]:
    """Metric values from the Embedded Metric Format lines Powertools prints."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        if line.startswith("{") and "_aws" in line:
            doc = json.loads(line)
            for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = doc[metric["Name"]]
                values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


@pytest.fixture()
def env(monkeypatch, knot):
    monkeypatch.setenv("SCAN_REGIONS", "us-east-1")
    monkeypatch.setenv("DNS_NAMESERVERS", knot.address)
    for name in ("STATE_TABLE_NAME", "ALERT_TOPIC_ARN", "SLACK_WEBHOOK_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)


def test_scheduled_event_scans_and_writes_the_heartbeat(ses, knot, env, capsys):
    world = ses("us-east-1")
    tokens = world.add_domain("handler-ok.test")
    world.add_email("lonely@handler-nodomain.test")
    knot.set_zone("handler-ok.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    result = handler.lambda_handler(SCHEDULED, FakeContext())
    assert result["identities_checked"] == 2 and result["problems"] == 1 and result["unknown"] == 0
    assert result["findings"]["critical"] == 1
    metrics = emitted(capsys.readouterr().out)
    assert metrics["ScanCompleted"] == 1
    assert metrics["IdentitiesChecked"] == 2 and metrics["FindingsCritical"] == 1
    assert metrics["DnsLookupsFailed"] == 0


def test_region_that_cannot_be_scanned_fails_the_invocation_without_heartbeat(ses, env, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(handler.ScanIncomplete) as exc:
        handler.lambda_handler({"source": "ses-dkim-monitor.manual", "notify": False}, FakeContext())
    assert "us-east-1: SES unreachable" in str(exc.value)
    metrics = emitted(capsys.readouterr().out)
    assert "ScanCompleted" not in metrics
    assert metrics["RegionsFailed"] == 1


def test_manual_event_overrides_regions(ses, env, capsys):
    ses("eu-west-1").add_email("ops@manual-handler.test")
    result = handler.lambda_handler({"source": "ses-dkim-monitor.manual", "regions": ["eu-west-1"], "notify": False},
                                    FakeContext())
    assert result["regions"] == ["eu-west-1"] and result["identities_checked"] == 1


@pytest.mark.parametrize("event,needle", [
    ({"source": "ses-dkim-monitor.manual", "regions": "us-east-1"}, "event.regions"),
    ({"source": "ses-dkim-monitor.manual", "regions": ["mars-1"]}, "event.regions"),
    ({"source": "ses-dkim-monitor.manual", "notify": "yes"}, "event.notify"),
])
def test_malformed_manual_event_is_rejected_naming_the_field(ses, env, event, needle):
    with pytest.raises(ConfigError) as exc:
        handler.lambda_handler(event, FakeContext())
    assert needle in str(exc.value)


def test_broken_configuration_stops_at_start_up(env, monkeypatch):
    monkeypatch.setenv("REMINDER_HOURS", "daily")
    with pytest.raises(ConfigError) as exc:
        handler.lambda_handler(SCHEDULED, FakeContext())
    assert str(exc.value).startswith("REMINDER_HOURS")
