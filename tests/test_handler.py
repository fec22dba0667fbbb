"""The Lambda handler: thin shell, Powertools metrics, failure is loud."""

from __future__ import annotations

import pytest

from ses_dkim_monitor import handler
from ses_dkim_monitor.settings import ConfigError
from tests.support.knot import free_port
from tests.support.lambda_runtime import SCHEDULED, FakeContext, metric_values
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records


@pytest.fixture(autouse=True)
def clean_metrics():
    handler.metrics.clear_metrics()
    yield
    handler.metrics.clear_metrics()


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
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["ScanCompleted"] == 1
    assert metrics["IdentitiesChecked"] == 2 and metrics["FindingsCritical"] == 1
    assert metrics["DnsLookupsFailed"] == 0


def test_region_that_cannot_be_scanned_fails_the_invocation_without_heartbeat(ses, env, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(handler.ScanIncomplete) as exc:
        handler.lambda_handler({"source": "ses-dkim-monitor.manual", "notify": False}, FakeContext())
    assert "us-east-1: SES unreachable" in str(exc.value)
    metrics = metric_values(capsys.readouterr().out)
    assert "ScanCompleted" not in metrics
    assert metrics["RegionsFailed"] == 1


def test_manual_event_overrides_regions(ses, env, capsys):
    ses("eu-west-1").add_email("ops@manual-handler.test")
    result = handler.lambda_handler(
        {"source": "ses-dkim-monitor.manual", "regions": ["eu-west-1"], "notify": False}, FakeContext()
    )
    assert result["regions"] == ["eu-west-1"] and result["identities_checked"] == 1


@pytest.mark.parametrize(
    "event,needle",
    [
        ({"source": "ses-dkim-monitor.manual", "regions": "us-east-1"}, "event.regions"),
        ({"source": "ses-dkim-monitor.manual", "regions": ["mars-1"]}, "event.regions"),
        ({"source": "ses-dkim-monitor.manual", "notify": "yes"}, "event.notify"),
    ],
)
def test_malformed_manual_event_is_rejected_naming_the_field(ses, env, event, needle):
    with pytest.raises(ConfigError) as exc:
        handler.lambda_handler(event, FakeContext())
    assert needle in str(exc.value)


def test_broken_configuration_stops_at_start_up(env, monkeypatch):
    monkeypatch.setenv("REMINDER_HOURS", "daily")
    with pytest.raises(ConfigError) as exc:
        handler.lambda_handler(SCHEDULED, FakeContext())
    assert str(exc.value).startswith("REMINDER_HOURS")
