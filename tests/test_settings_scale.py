"""The scale settings: accounts, fan-out, pacing, time budget, name-server checks.

Defaults, values that must be accepted, and values that must stop the start-up with a
``ConfigError`` whose message begins with the variable's name (tests/test_settings.py covers the
other variables). The last test lists values ``Settings.from_env`` accepts today although they are
wrong and only fail, or silently misbehave, later in the run: each is marked as an expected
failure until settings.py refuses it.
"""

from __future__ import annotations

import pytest

from ses_dkim_monitor.settings import ConfigError, Settings

REGION = {"AWS_REGION": "us-east-1"}
ROLE_A = "arn:aws:iam::111111111111:role/ses-dkim-monitor-scan"
ROLE_B = "arn:aws:iam::222222222222:role/ses-dkim-monitor-scan"
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/ses-dkim-monitor-FanOutQueue-Ab_12-c"


def settings(**env: str) -> Settings:
    return Settings.from_env({**REGION, **env})


def env_id(value: object) -> str | None:
    """Readable test ids: the variables and values of an env case (long values cut)."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v if len(v) <= 40 else v[:37] + '...'}" for k, v in value.items())
    return None


def test_defaults_scan_one_account_in_one_invocation_at_ses_pace():
    s = settings()
    assert s.scan_role_arns == () and s.organization_role_name == "" and s.role_external_id == ""
    assert s.multi_account is False
    assert (s.fanout_queue_url, s.shards_per_invocation) == ("", 12)
    assert s.ses_requests_per_second == 1.0, "SES allows about one management request per second"
    assert s.dns_max_queries_per_second == 0.0, "no DNS rate cap unless asked (a VPC wants about 800)"
    assert s.time_reserve_seconds == 90.0 and s.max_zone_confirmations == 60 and s.max_identity_details == 100
    assert (s.check_nameservers, s.authoritative_port) == ("sample", 53)


@pytest.mark.parametrize(
    ("env", "attribute", "expected"),
    [
        ({"SHARDS_PER_INVOCATION": "1"}, "shards_per_invocation", 1),
        ({"SHARDS_PER_INVOCATION": " 200 "}, "shards_per_invocation", 200),
        ({"FANOUT_QUEUE_URL": QUEUE, "STATE_TABLE_NAME": "dkim-state"}, "fanout_queue_url", QUEUE),
        (  # a local stand-in (moto, LocalStack) speaks plain http on a port
            {"FANOUT_QUEUE_URL": "http://127.0.0.1:4566/000000000000/shards", "STATE_TABLE_NAME": "dkim-state"},
            "fanout_queue_url",
            "http://127.0.0.1:4566/000000000000/shards",
        ),
        ({"SES_REQUESTS_PER_SECOND": "0.01"}, "ses_requests_per_second", 0.01),
        ({"SES_REQUESTS_PER_SECOND": "2.5"}, "ses_requests_per_second", 2.5),
        ({"SES_REQUESTS_PER_SECOND": "50"}, "ses_requests_per_second", 50.0),
        ({"DNS_MAX_QUERIES_PER_SECOND": "800"}, "dns_max_queries_per_second", 800.0),
        ({"DNS_MAX_QUERIES_PER_SECOND": "0"}, "dns_max_queries_per_second", 0.0),
        ({"TIME_RESERVE_SECONDS": "0"}, "time_reserve_seconds", 0.0),
        ({"TIME_RESERVE_SECONDS": "120.5"}, "time_reserve_seconds", 120.5),
        ({"MAX_ZONE_CONFIRMATIONS": "0"}, "max_zone_confirmations", 0),
        ({"MAX_ZONE_CONFIRMATIONS": "500"}, "max_zone_confirmations", 500),
        ({"MAX_IDENTITY_DETAILS": "0"}, "max_identity_details", 0),
        ({"MAX_IDENTITY_DETAILS": "1000"}, "max_identity_details", 1000),
        ({"CHECK_NAMESERVERS": ""}, "check_nameservers", "sample"),
        ({"CHECK_NAMESERVERS": "true"}, "check_nameservers", "sample"),
        ({"CHECK_NAMESERVERS": "Sample"}, "check_nameservers", "sample"),
        ({"CHECK_NAMESERVERS": "FALSE"}, "check_nameservers", "off"),
        ({"CHECK_NAMESERVERS": "All"}, "check_nameservers", "all"),
        ({"CHECK_NAMESERVERS": "suspect"}, "check_nameservers", "suspect"),
        ({"CHECK_NAMESERVERS": "off"}, "check_nameservers", "off"),
        ({"DNS_AUTHORITATIVE_PORT": "5353"}, "authoritative_port", 5353),
        ({"DNS_AUTHORITATIVE_PORT": "65535"}, "authoritative_port", 65535),
        ({"SCAN_ORGANIZATION_ROLE_NAME": "ses-dkim-monitor-scan"}, "organization_role_name", "ses-dkim-monitor-scan"),
        ({"SCAN_ORGANIZATION_ROLE_NAME": "ops/team/Scan"}, "organization_role_name", "ops/team/Scan"),
    ],
    ids=env_id,
)
def test_good_values_are_parsed(env, attribute, expected):
    assert getattr(settings(**env), attribute) == expected


def test_role_arns_keep_their_order_once_each_whatever_the_separators():
    s = settings(SCAN_ROLE_ARNS=f" {ROLE_B}, {ROLE_A}\n{ROLE_B} ")
    assert s.scan_role_arns == (ROLE_B, ROLE_A)
    assert s.multi_account is True


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws-us-gov:iam::111111111111:role/Scan",
        "arn:aws-cn:iam::111111111111:role/Scan",
        "arn:aws:iam::111111111111:role/service-role/ops/Scan+Read=1.x@z-w_v",
    ],
)
def test_role_arns_of_every_partition_and_path_are_accepted(arn):
    assert settings(SCAN_ROLE_ARNS=arn).scan_role_arns == (arn,)


@pytest.mark.parametrize("accounts", [{"SCAN_ROLE_ARNS": ROLE_A}, {"SCAN_ORGANIZATION_ROLE_NAME": "Scan"}])
def test_an_external_id_goes_with_either_way_of_naming_accounts(accounts):
    s = settings(SCAN_ROLE_EXTERNAL_ID="ses-dkim-monitor:7f3a/ops@example.com", **accounts)
    assert s.role_external_id == "ses-dkim-monitor:7f3a/ops@example.com" and s.multi_account is True


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"SHARDS_PER_INVOCATION": "0"}, "SHARDS_PER_INVOCATION"),
        ({"SHARDS_PER_INVOCATION": "-3"}, "SHARDS_PER_INVOCATION"),
        ({"SHARDS_PER_INVOCATION": "1.5"}, "SHARDS_PER_INVOCATION"),
        ({"SHARDS_PER_INVOCATION": "many"}, "SHARDS_PER_INVOCATION"),
        ({"FANOUT_QUEUE_URL": "arn:aws:sqs:us-east-1:123456789012:shards"}, "FANOUT_QUEUE_URL"),
        ({"FANOUT_QUEUE_URL": "sqs.us-east-1.amazonaws.com/123456789012/shards"}, "FANOUT_QUEUE_URL"),
        ({"FANOUT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/12345678901/shards"}, "FANOUT_QUEUE_URL"),
        ({"FANOUT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/shards.fifo"}, "FANOUT_QUEUE_URL"),
        ({"FANOUT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/a/b"}, "FANOUT_QUEUE_URL"),
        ({"FANOUT_QUEUE_URL": "ftp://sqs.us-east-1.amazonaws.com/123456789012/shards"}, "FANOUT_QUEUE_URL"),
        ({"SES_REQUESTS_PER_SECOND": "0"}, "SES_REQUESTS_PER_SECOND"),
        ({"SES_REQUESTS_PER_SECOND": "0.001"}, "SES_REQUESTS_PER_SECOND"),
        ({"SES_REQUESTS_PER_SECOND": "-1"}, "SES_REQUESTS_PER_SECOND"),
        ({"SES_REQUESTS_PER_SECOND": "51"}, "SES_REQUESTS_PER_SECOND"),
        ({"SES_REQUESTS_PER_SECOND": "inf"}, "SES_REQUESTS_PER_SECOND"),
        ({"SES_REQUESTS_PER_SECOND": "fast"}, "SES_REQUESTS_PER_SECOND"),
        ({"DNS_MAX_QUERIES_PER_SECOND": "-1"}, "DNS_MAX_QUERIES_PER_SECOND"),
        ({"DNS_MAX_QUERIES_PER_SECOND": "lots"}, "DNS_MAX_QUERIES_PER_SECOND"),
        ({"TIME_RESERVE_SECONDS": "-1"}, "TIME_RESERVE_SECONDS"),
        ({"TIME_RESERVE_SECONDS": "1m"}, "TIME_RESERVE_SECONDS"),
        ({"MAX_ZONE_CONFIRMATIONS": "-1"}, "MAX_ZONE_CONFIRMATIONS"),
        ({"MAX_ZONE_CONFIRMATIONS": "1.5"}, "MAX_ZONE_CONFIRMATIONS"),
        ({"MAX_ZONE_CONFIRMATIONS": "nan"}, "MAX_ZONE_CONFIRMATIONS"),
        ({"CHECK_NAMESERVERS": "sometimes"}, "CHECK_NAMESERVERS"),
        ({"CHECK_NAMESERVERS": "yes"}, "CHECK_NAMESERVERS"),
        ({"DNS_AUTHORITATIVE_PORT": "0"}, "DNS_AUTHORITATIVE_PORT"),
        ({"DNS_AUTHORITATIVE_PORT": "53.0"}, "DNS_AUTHORITATIVE_PORT"),
        ({"DNS_AUTHORITATIVE_PORT": "domain"}, "DNS_AUTHORITATIVE_PORT"),
        ({"SCAN_ROLE_ARNS": "ses-dkim-monitor-scan"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": "arn:aws:iam::111111111111:user/scanner"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": "arn:aws:iam::11111111111:role/Scan"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": "arn:aws:iam:us-east-1:111111111111:role/Scan"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": "arn:aws:sts::111111111111:assumed-role/Scan/session"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": f"{ROLE_A},arn:aws:iam::222222222222:role/"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ORGANIZATION_ROLE_NAME": "has space"}, "SCAN_ORGANIZATION_ROLE_NAME"),
        ({"SCAN_ORGANIZATION_ROLE_NAME": "x" * 65}, "SCAN_ORGANIZATION_ROLE_NAME"),
        ({"SCAN_ORGANIZATION_ROLE_NAME": ROLE_A}, "SCAN_ORGANIZATION_ROLE_NAME"),
        ({"SCAN_ROLE_EXTERNAL_ID": "ext-1"}, "SCAN_ROLE_EXTERNAL_ID"),  # no role to pass it to
        ({"SCAN_ROLE_ARNS": ROLE_A, "SCAN_ROLE_EXTERNAL_ID": "x"}, "SCAN_ROLE_EXTERNAL_ID"),
        ({"SCAN_ROLE_ARNS": ROLE_A, "SCAN_ROLE_EXTERNAL_ID": "with space"}, "SCAN_ROLE_EXTERNAL_ID"),
        ({"SCAN_ROLE_ARNS": ROLE_A, "SCAN_ROLE_EXTERNAL_ID": "x" * 1225}, "SCAN_ROLE_EXTERNAL_ID"),
    ],
    ids=env_id,
)
def test_bad_value_names_the_setting(env, name):
    with pytest.raises(ConfigError) as raised:
        settings(**env)
    assert str(raised.value).startswith(name)


def test_roles_and_an_organization_together_name_both_settings():
    with pytest.raises(ConfigError) as raised:
        settings(SCAN_ROLE_ARNS=ROLE_A, SCAN_ORGANIZATION_ROLE_NAME="ses-dkim-monitor-scan")
    message = str(raised.value)
    assert message.startswith("SCAN_ROLE_ARNS") and "SCAN_ORGANIZATION_ROLE_NAME" in message


@pytest.mark.parametrize(
    ("env", "name"),
    [
        # These were accepted once and failed, or misbehaved, only later at run time.
        # float("nan") passes every `value < minimum` test: the pacer refused it when the first
        # shard was built, after start-up.
        ({"SES_REQUESTS_PER_SECOND": "nan"}, "SES_REQUESTS_PER_SECOND"),
        # NaN is not > 0, so wiring.build_probe quietly runs without the cap that was asked for.
        ({"DNS_MAX_QUERIES_PER_SECOND": "nan"}, "DNS_MAX_QUERIES_PER_SECOND"),
        # A NaN deadline never passes (nan <= 0 is False): the scan ignores the Lambda's time.
        ({"TIME_RESERVE_SECONDS": "nan"}, "TIME_RESERVE_SECONDS"),
        # An infinite reserve leaves no time at all: every shard fails "out of time".
        ({"TIME_RESERVE_SECONDS": "inf"}, "TIME_RESERVE_SECONDS"),
        # Not a port: the name-server check's socket raises OverflowError, which it does not catch.
        ({"DNS_AUTHORITATIVE_PORT": "65536"}, "DNS_AUTHORITATIVE_PORT"),
        # IAM role names are at most 64 characters and ASCII: accounts.parse_role_arn refuses these
        # with a ValueError when the targets are built, after start-up.
        ({"SCAN_ROLE_ARNS": "arn:aws:iam::111111111111:role/" + "x" * 65}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ROLE_ARNS": "arn:aws:iam::111111111111:role/Scän"}, "SCAN_ROLE_ARNS"),
        ({"SCAN_ORGANIZATION_ROLE_NAME": "Scän"}, "SCAN_ORGANIZATION_ROLE_NAME"),
        # A fanned-out run records its size in the state table: without one, fan_out failed at run time.
        ({"FANOUT_QUEUE_URL": QUEUE}, "FANOUT_QUEUE_URL"),
        ({"RECHECK_QUEUE_URL": QUEUE}, "RECHECK_QUEUE_URL"),
        # A reserve no Lambda invocation can leave (900 s at most).
        ({"TIME_RESERVE_SECONDS": "601"}, "TIME_RESERVE_SECONDS"),
        ({"RECHECK_DELAY_SECONDS": "901"}, "RECHECK_DELAY_SECONDS"),
    ],
    ids=env_id,
)
def test_values_that_would_fail_or_misbehave_later_stop_at_start_up(env, name):
    with pytest.raises(ConfigError) as raised:
        settings(**env)
    assert str(raised.value).startswith(name)


def test_a_role_name_holding_a_comma_is_one_role():
    """IAM allows commas in role names; the list is split only where the next ARN starts."""
    comma = "arn:aws:iam::111111111111:role/ops,mail"
    got = settings(SCAN_ROLE_ARNS=f"{comma}, {ROLE_A}").scan_role_arns
    assert got == (comma, ROLE_A)
