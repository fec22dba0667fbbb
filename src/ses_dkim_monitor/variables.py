"""The environment variables ``Settings.from_env`` reads, as the docs present them.

One entry per variable: its default, what it means, and what stops the
function (or the CLI) at start-up. docs/architecture.md's configuration table
is generated from this list (``scripts/docgen.py``), and
``tests/test_variables.py`` holds it to ``settings.py``: the same names as the
code reads, each default what ``from_env`` gives when the variable is unset,
and each refusal reproduced (a ``bad`` value that must stop start-up with a
message naming the variable).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as the table shows it
    meaning: str  # Markdown
    refused: str = ""  # Markdown: when a value stops start-up (besides "not a number", "not true or false")
    # Settings attribute that holds it, so a test can compare the documented default with the code's.
    attribute: str = ""
    # Environment (besides a valid region) with which start-up must fail naming this variable.
    bad: tuple[dict[str, str], ...] = field(default=())


_NUMBER = "not a number, or out of range"

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "SCAN_REGIONS",
        "`AWS_REGION`",
        "comma-separated regions to scan",
        "a region where botocore offers no SES; no region at all",
        "regions",
        ({"SCAN_REGIONS": "xx-nowhere-9"},),
    ),
    Variable(
        "AWS_REGION",
        "(set by Lambda)",
        "the stack's own region: the regions' fallback, and the status page bucket's region",
    ),
    Variable("AWS_DEFAULT_REGION", "(none)", "read where `AWS_REGION` is not set (the CLI's environment)"),
    Variable(
        "DNS_NAMESERVERS",
        "system resolver",
        "comma-separated `IP[:PORT]` of the recursive resolvers to ask",
        "not an IP address (names are not accepted), a bad port",
        "nameservers",
        ({"DNS_NAMESERVERS": "dns.example"},),
    ),
    Variable(
        "DNS_TIMEOUT_SECONDS", "2", "per server and attempt", _NUMBER, "dns_timeout", ({"DNS_TIMEOUT_SECONDS": "0"},)
    ),
    Variable(
        "DNS_LIFETIME_SECONDS",
        "6",
        "per query, all attempts",
        f"{_NUMBER} (at least `DNS_TIMEOUT_SECONDS`)",
        "dns_lifetime",
        ({"DNS_LIFETIME_SECONDS": "1"},),
    ),
    Variable(
        "DNS_MAX_IN_FLIGHT", "50", "concurrent DNS queries", _NUMBER, "dns_max_in_flight", ({"DNS_MAX_IN_FLIGHT": "0"},)
    ),
    Variable(
        "DNS_MAX_QUERIES_PER_SECOND",
        "0 (no cap)",
        "cap on DNS queries per second; about 800 in a VPC (its resolver drops above about 1,024 packets/s per "
        "interface, shared by concurrent invocations)",
        _NUMBER,
        "dns_max_queries_per_second",
        ({"DNS_MAX_QUERIES_PER_SECOND": "-1"},),
    ),
    Variable(
        "DNS_QUERY_MODE",
        "auto",
        "`auto`: one TXT question per DKIM record where the resolver recurses (its answer carries the CNAME and "
        "the target's TXT), per record elsewhere; `per-record`: always the CNAME, then the target's TXT ([DNS](#dns))",
        "another value",
        "dns_query_mode",
        ({"DNS_QUERY_MODE": "chain"},),
    ),
    Variable(
        "CHECK_DMARC", "true", "run the DMARC check", "not `true` or `false`", "check_dmarc", ({"CHECK_DMARC": "yes"},)
    ),
    Variable(
        "CHECK_NAMESERVERS",
        "sample",
        "`sample`, `suspect`, `all` or `off`: when to ask each authoritative server ([DNS](#dns))",
        "another value",
        "check_nameservers",
        ({"CHECK_NAMESERVERS": "sometimes"},),
    ),
    Variable(
        "SCHEDULE_PERIOD_SECONDS",
        "3600",
        "the longest gap between two scheduled runs (the template passes `HeartbeatPeriodSeconds`): how much of "
        "the day each run's name-server sample covers",
        "under 60 or over 86400",
        "schedule_period_seconds",
        ({"SCHEDULE_PERIOD_SECONDS": "30"},),
    ),
    Variable(
        "DNS_AUTHORITATIVE_PORT",
        "53",
        "where authoritative servers listen (another port only for local stand-ins)",
        "not a port",
        "authoritative_port",
        ({"DNS_AUTHORITATIVE_PORT": "70000"},),
    ),
    Variable(
        "SES_REQUESTS_PER_SECOND",
        "1",
        "SES calls per second per account and region (SES's limit)",
        "above 50",
        "ses_requests_per_second",
        ({"SES_REQUESTS_PER_SECOND": "51"},),
    ),
    Variable(
        "MAX_ZONE_CONFIRMATIONS",
        "60",
        "`GetEmailIdentity` calls per shard and run to confirm signing zones (each answer remembered)",
        _NUMBER,
        "max_zone_confirmations",
        ({"MAX_ZONE_CONFIRMATIONS": "-1"},),
    ),
    Variable(
        "MAX_IDENTITY_DETAILS",
        "100",
        "`GetEmailIdentity` calls per shard and run to read identities the batch calls cannot describe (legacy "
        "domains, BYODKIM; each answer remembered)",
        _NUMBER,
        "max_identity_details",
        ({"MAX_IDENTITY_DETAILS": "-1"},),
    ),
    Variable(
        "SCAN_ROLE_ARNS",
        "(none)",
        "comma-separated roles to assume: exactly their accounts are scanned",
        "not an IAM role ARN; set together with `SCAN_ORGANIZATION_ROLE_NAME` (the template refuses that "
        "combination too)",
        "scan_role_arns",
        (
            {"SCAN_ROLE_ARNS": "arn:aws:iam::123:role/x"},
            {"SCAN_ROLE_ARNS": "arn:aws:iam::123456789012:role/a", "SCAN_ORGANIZATION_ROLE_NAME": "b"},
        ),
    ),
    Variable(
        "SCAN_ORGANIZATION_ROLE_NAME",
        "(none)",
        "the role to assume in every ACTIVE account of the organization",
        "not an IAM role name; set together with `SCAN_ROLE_ARNS`",
        "organization_role_name",
        ({"SCAN_ORGANIZATION_ROLE_NAME": "no spaces"},),
    ),
    Variable(
        "SCAN_ROLE_EXTERNAL_ID",
        "(none)",
        "the external id the roles' trust policies require",
        "malformed; set without `SCAN_ROLE_ARNS` or `SCAN_ORGANIZATION_ROLE_NAME`",
        "role_external_id",
        ({"SCAN_ROLE_EXTERNAL_ID": "abc"},),
    ),
    Variable(
        "FANOUT_QUEUE_URL",
        "(none)",
        "the queue a scheduled run fans out over when it plans more shards than `SHARDS_PER_INVOCATION`: it "
        "queues one message per shard and scans none itself",
        "not an SQS queue URL; set without `STATE_TABLE_NAME`",
        "fanout_queue_url",
        ({"FANOUT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q"},),
    ),
    Variable(
        "SHARDS_PER_INVOCATION",
        "12",
        "the most (account, region) shards a scheduled run scans itself",
        _NUMBER,
        "shards_per_invocation",
        ({"SHARDS_PER_INVOCATION": "0"},),
    ),
    Variable(
        "RECHECK_QUEUE_URL",
        "(none)",
        "the SQS queue event-driven re-checks wait in; empty: events are logged and dropped "
        "([rechecks.md](rechecks.md))",
        "not an SQS queue URL; set without `STATE_TABLE_NAME`",
        "recheck_queue_url",
        ({"RECHECK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q"},),
    ),
    Variable(
        "RECHECK_DELAY_SECONDS",
        "30",
        "first look after an SES event (a Route 53 change waits for `INSYNC` instead)",
        "over 900 (SQS's longest delay)",
        "recheck_delay_seconds",
        ({"RECHECK_DELAY_SECONDS": "901"},),
    ),
    Variable(
        "RECHECK_CONFIRM_SECONDS",
        "240",
        "second look after the first",
        "over 900",
        "recheck_confirm_seconds",
        ({"RECHECK_CONFIRM_SECONDS": "901"},),
    ),
    Variable(
        "DNS_ACCOUNT_MAP",
        "(none)",
        "which accounts' identities a Route 53 change re-checks besides those of the account it was made in: "
        "`111111111111=222222222222+333333333333;444444444444=*` (`;` between entries, `+` between accounts, `*` "
        "every monitored account) ([rechecks.md](rechecks.md#whose-identities-a-dns-change-re-checks))",
        "an entry that does not read `<account>=<account>+...`",
        "dns_account_map",
        ({"DNS_ACCOUNT_MAP": "111111111111"},),
    ),
    Variable(
        "MAX_RECHECKS_PER_ACCOUNT_HOUR",
        "200",
        "identity re-checks queued per source account and hour, whatever arrives, and twice that in identity "
        "looks per account looked at, a job sent straight to the queue included; the rest dropped and counted "
        "(`RechecksDropped`)",
        _NUMBER,
        "max_rechecks_per_account_hour",
        ({"MAX_RECHECKS_PER_ACCOUNT_HOUR": "0"},),
    ),
    Variable(
        "IMPORT_SES_RECOMMENDATIONS",
        "false",
        "add SES's open DKIM, SPF and DMARC recommendations our checks do not explain (`ses-recommendation`), "
        "where Virtual Deliverability Manager is enabled",
        "not `true` or `false`",
        "import_ses_recommendations",
        ({"IMPORT_SES_RECOMMENDATIONS": "1"},),
    ),
    Variable(
        "TIME_RESERVE_SECONDS",
        "90",
        "seconds of an invocation kept for alerting after the scan stops",
        "over 600",
        "time_reserve_seconds",
        ({"TIME_RESERVE_SECONDS": "601"},),
    ),
    Variable(
        "STATE_TABLE_NAME",
        "(none)",
        "DynamoDB alert-state table; needed by both queues",
        "not a DynamoDB table name",
        "state_table",
        ({"STATE_TABLE_NAME": "a"},),
    ),
    Variable(
        "ALERT_TOPIC_ARN",
        "(none)",
        "SNS topic for alerts",
        "not an SNS ARN",
        "topic_arn",
        ({"ALERT_TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"},),
    ),
    Variable(
        "ALERT_LANGUAGE",
        "en",
        "`en` or `ja`: the language of the Lambda's alerts and status pages ([i18n.md](i18n.md)); the CLI "
        "does not read it, but follows `--language`, else the locale as gettext reads it (`LANGUAGE`, `LC_ALL`, "
        "`LC_MESSAGES`, `LANG`: `ja_JP.UTF-8` gives Japanese, anything else English)",
        "another value",
        "language",
        ({"ALERT_LANGUAGE": "fr"},),
    ),
    Variable(
        "SLACK_WEBHOOK_SECRET_ARN",
        "(none)",
        "Secrets Manager secret holding the Slack webhook URL",
        "not a Secrets Manager ARN",
        "slack_secret_arn",
        ({"SLACK_WEBHOOK_SECRET_ARN": "arn:aws:sns:us-east-1:123456789012:t"},),
    ),
    Variable(
        "SLACK_WEBHOOK_HOSTS",
        "(none)",
        "comma-separated hosts (`name` or `name:port`) the webhook URL may name besides `hooks.slack.com` and "
        "`hooks.slack-gov.com` (https); loopback http is always accepted, for local stand-ins",
        "not a host name",
        "slack_webhook_hosts",
        ({"SLACK_WEBHOOK_HOSTS": "https://proxy.example/"},),
    ),
    Variable(
        "STATUS_PAGE_BUCKET",
        "(none)",
        "S3 bucket (in the stack's region, `AWS_REGION`) the status page is written to after each run that "
        "alerted; alerts then link to it ([status-page.md](status-page.md))",
        "not a bucket name",
        "status_page_bucket",
        ({"STATUS_PAGE_BUCKET": "s3://bucket"},),
    ),
    Variable(
        "REMINDER_HOURS",
        "24",
        "remind while a finding stays open",
        _NUMBER,
        "reminder_hours",
        ({"REMINDER_HOURS": "0"},),
    ),
    Variable(
        "MIN_ALERT_SEVERITY",
        "warning",
        "`critical`, `warning` or `info`",
        "another value",
        "min_severity",
        ({"MIN_ALERT_SEVERITY": "high"},),
    ),
    Variable(
        "UNKNOWN_RUNS_THRESHOLD",
        "3",
        "consecutive `unknown` runs before `monitor-cannot-verify`",
        _NUMBER,
        "unknown_runs_threshold",
        ({"UNKNOWN_RUNS_THRESHOLD": "0"},),
    ),
    Variable(
        "DIGEST_THRESHOLD",
        "10",
        "more notifications than this on a channel in one run go out as a digest",
        _NUMBER,
        "digest_threshold",
        ({"DIGEST_THRESHOLD": "0"},),
    ),
)
