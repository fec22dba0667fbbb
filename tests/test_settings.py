"""Configuration: parsed once, fails fast with the setting's name."""

from __future__ import annotations

import pytest

from ses_dkim_monitor.models import Severity
from ses_dkim_monitor.settings import ConfigError, Nameserver, Settings, parse_nameserver


def test_defaults_come_from_the_aws_region():
    s = Settings.from_env({"AWS_REGION": "eu-west-1"})
    assert s.regions == ("eu-west-1",)
    assert s.nameservers == () and s.reminder_hours == 24 and s.min_severity is Severity.WARNING
    assert s.unknown_runs_threshold == 3 and s.state_table == "" and s.slack_secret_arn == ""


def test_full_configuration_is_parsed():
    s = Settings.from_env(
        {
            "SCAN_REGIONS": "us-east-1, eu-west-1 us-east-1",
            "DNS_NAMESERVERS": "127.0.0.1:5353,[::1]:53,9.9.9.9",
            "STATE_TABLE_NAME": "dkim-state",
            "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
            "SLACK_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf",
            "REMINDER_HOURS": "12",
            "MIN_ALERT_SEVERITY": "CRITICAL",
            "UNKNOWN_RUNS_THRESHOLD": "5",
        }
    )
    assert s.regions == ("us-east-1", "eu-west-1")
    assert s.nameservers == (Nameserver("127.0.0.1", 5353), Nameserver("::1", 53), Nameserver("9.9.9.9", 53))
    assert (s.reminder_hours, s.min_severity, s.unknown_runs_threshold) == (12.0, Severity.CRITICAL, 5)


@pytest.mark.parametrize(
    "env,name",
    [
        ({}, "SCAN_REGIONS"),
        ({"SCAN_REGIONS": "us-east-1;rm -rf"}, "SCAN_REGIONS"),
        ({"AWS_REGION": "us-east-1", "DNS_NAMESERVERS": "resolver.example"}, "DNS_NAMESERVERS"),
        ({"AWS_REGION": "us-east-1", "REMINDER_HOURS": "soon"}, "REMINDER_HOURS"),
        ({"AWS_REGION": "us-east-1", "REMINDER_HOURS": "-1"}, "REMINDER_HOURS"),
        ({"AWS_REGION": "us-east-1", "MIN_ALERT_SEVERITY": "loud"}, "MIN_ALERT_SEVERITY"),
        ({"AWS_REGION": "us-east-1", "UNKNOWN_RUNS_THRESHOLD": "2.5"}, "UNKNOWN_RUNS_THRESHOLD"),
        ({"AWS_REGION": "us-east-1", "ALERT_TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"}, "ALERT_TOPIC_ARN"),
        (
            {"AWS_REGION": "us-east-1", "SLACK_WEBHOOK_SECRET_ARN": "https://hooks.slack.com/x"},
            "SLACK_WEBHOOK_SECRET_ARN",
        ),
        ({"AWS_REGION": "us-east-1", "STATE_TABLE_NAME": "a"}, "STATE_TABLE_NAME"),
        ({"AWS_REGION": "us-east-1", "DNS_TIMEOUT_SECONDS": "3", "DNS_LIFETIME_SECONDS": "1"}, "DNS_LIFETIME_SECONDS"),
        ({"AWS_REGION": "us-east-1", "CHECK_DMARC": "maybe"}, "CHECK_DMARC"),
    ],
)
def test_bad_value_names_the_setting(env, name):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env(env)
    assert str(exc.value).startswith(name)


def test_settings_are_frozen():
    s = Settings.from_env({"AWS_REGION": "us-east-1"})
    with pytest.raises(AttributeError):
        s.regions = ("eu-west-1",)


def test_nameserver_forms():
    assert parse_nameserver("[2001:db8::1]:5353", setting="x") == Nameserver("2001:db8::1", 5353)
    assert str(Nameserver("::1", 53)) == "[::1]:53"
    with pytest.raises(ConfigError):
        parse_nameserver("[::1", setting="x")


# -- issue 18: which accounts' DNS serves which accounts' identities; the re-check budget; webhook hosts ----


def test_dns_account_map_names_the_accounts_each_dns_account_serves():
    s = Settings.from_env(
        {
            "AWS_REGION": "us-east-1",
            "DNS_ACCOUNT_MAP": " 111111111111 = 222222222222 + 333333333333 ; 444444444444=* ;",
            "MAX_RECHECKS_PER_ACCOUNT_HOUR": "50",
            "SLACK_WEBHOOK_HOSTS": "slack-proxy.example.net, Hooks.Example.ORG:8443",
        }
    )
    assert s.dns_account_map == (
        ("111111111111", ("222222222222", "333333333333")),
        ("444444444444", ("*",)),
    )
    assert s.max_rechecks_per_account_hour == 50
    assert s.slack_webhook_hosts == ("slack-proxy.example.net", "hooks.example.org:8443")


def test_by_default_dns_changes_stay_in_their_account_and_rechecks_are_bounded():
    s = Settings.from_env({"AWS_REGION": "us-east-1"})
    assert s.dns_account_map == () and s.slack_webhook_hosts == ()
    # Sized against SES's 3,600 calls per account, region and hour: each identity re-check costs up to two
    # looks of three calls, and the hourly scan, the CLI and the account's own tools need the rest.
    assert s.max_rechecks_per_account_hour == 200


@pytest.mark.parametrize(
    "value",
    [
        "111111111111",  # no "="
        "111111111111=",  # nobody served
        "11111111111=222222222222",  # 11 digits
        "111111111111=222222222222,333333333333",  # "," is not the separator: "+" is
        "111111111111=222222222222;111111111111=333333333333",  # the same DNS account twice
        "111111111111=*+222222222222",  # "*" already means every monitored account
        "*=222222222222",
    ],
)
def test_a_malformed_dns_account_map_stops_at_start_up_naming_the_setting(value):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({"AWS_REGION": "us-east-1", "DNS_ACCOUNT_MAP": value})
    assert str(exc.value).startswith("DNS_ACCOUNT_MAP")


@pytest.mark.parametrize("value", ["0", "-1", "many", "2.5"])
def test_a_bad_recheck_budget_stops_at_start_up_naming_the_setting(value):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({"AWS_REGION": "us-east-1", "MAX_RECHECKS_PER_ACCOUNT_HOUR": value})
    assert str(exc.value).startswith("MAX_RECHECKS_PER_ACCOUNT_HOUR")
