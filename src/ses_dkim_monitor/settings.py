"""Configuration, parsed once into a frozen object that fails fast.

Only this module reads the environment, and only when ``Settings.from_env``
is called by a composition root (the Lambda handler or the CLI). A missing or
malformed value raises ``ConfigError`` naming the variable, so a broken
deployment stops at start-up instead of scanning with a half-read config.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import i18n
from .models import Severity
from .setting_values import (
    ARN_RE,
    EXTERNAL_ID_RE,
    QUEUE_URL_RE,
    REGION_NAME_RE,
    ROLE_NAME_RE,
    TABLE_RE,
    ConfigError,
    Nameserver,
    _split,
    parse_bucket,
    parse_dns_account_map,
    parse_nameserver,
    parse_region,
    parse_role_arn,
    parse_webhook_hosts,
    ses_regions,
)

__all__ = [
    "ConfigError",
    "Nameserver",
    "Settings",
    "parse_bucket",
    "parse_dns_account_map",
    "parse_nameserver",
    "parse_region",
    "parse_role_arn",
    "parse_webhook_hosts",
    "ses_regions",
]

DEFAULT_RECHECKS_PER_ACCOUNT_HOUR = 200


def _nameserver_mode(raw: str) -> str:
    mode = {"": "sample", "true": "sample", "false": "off"}.get(raw.lower(), raw.lower())
    if mode not in ("sample", "suspect", "all", "off"):
        raise ConfigError(f"CHECK_NAMESERVERS: {raw!r} is not one of sample, suspect, all, off")
    return mode


def _query_mode(raw: str) -> str:
    mode = raw.strip().lower() or "auto"
    if mode not in ("auto", "per-record"):
        raise ConfigError(f"DNS_QUERY_MODE: {raw!r} is not auto or per-record")
    return mode


@dataclass(frozen=True, kw_only=True)
class Settings:
    regions: tuple[str, ...]
    nameservers: tuple[Nameserver, ...] = ()
    dns_timeout: float = 2.0
    dns_lifetime: float = 6.0
    dns_max_in_flight: int = 50
    # 0 means no cap. A VPC's Route 53 Resolver drops traffic above about 1,024 packets/s per
    # network interface: set about 800 for a function in a VPC (docs/deploy.md).
    dns_max_queries_per_second: float = 0.0
    # "auto": one TXT question per DKIM record where the resolver recurses (its answer carries the CNAME and
    # the target's TXT), per record elsewhere; "per-record": always the CNAME, then the target's TXT.
    dns_query_mode: str = "auto"
    check_dmarc: bool = True
    # Ask each authoritative server directly for the DKIM names: "sample" (the suspects, and each identity
    # once a day in turn), "suspect" (where SES reports a failure or a DKIM record looks wrong: where a
    # disagreement would explain it), "all", or "off".
    check_nameservers: str = "sample"
    # The longest gap between scheduled runs (HeartbeatPeriodSeconds): the day's share each run's sample covers.
    schedule_period_seconds: float = 3600.0
    authoritative_port: int = 53  # where authoritative servers listen (53; other ports for local stand-ins)
    ses_requests_per_second: float = 1.0  # SES: about 1 management request/s per account and region
    # GetEmailIdentity calls per shard and run to confirm a CNAME's zone before reporting a wrong
    # target; the rest wait for the next run (each confirmation is remembered).
    max_zone_confirmations: int = 60
    # GetEmailIdentity calls per shard and run to read identities the batch calls cannot describe (a legacy
    # domain verified by TXT, bring-your-own DKIM); each answer is remembered, the rest wait for later runs.
    max_identity_details: int = 100
    # Accounts: the credentials' own, or exactly these roles', or every ACTIVE one of the organization's.
    scan_role_arns: tuple[str, ...] = ()
    organization_role_name: str = ""
    role_external_id: str = ""
    # Fan-out: a scheduled run planning more shards than this queues one message per shard (with a queue).
    fanout_queue_url: str = ""
    shards_per_invocation: int = 12
    # Event-driven re-checks (docs/rechecks.md): the queue the delayed re-checks wait in (empty: events
    # are logged and dropped, the hourly scan stays the only check), the first look's delay after a
    # change, and the second look's delay after the first (resolver caches, SES's own re-check).
    recheck_queue_url: str = ""
    recheck_delay_seconds: int = 30
    recheck_confirm_seconds: int = 240
    # Which accounts' identities a Route 53 change in a DNS account re-checks, besides its own: pairs of
    # (DNS account, accounts served), "*" for every monitored account. Empty: each account's changes its own.
    dns_account_map: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Identity re-checks queued per source account (where the events come from) and hour, whatever arrives.
    max_rechecks_per_account_hour: int = DEFAULT_RECHECKS_PER_ACCOUNT_HOUR
    # Add SES's open DKIM/SPF/DMARC recommendations (Virtual Deliverability Manager) our checks do not explain.
    import_ses_recommendations: bool = False
    # Seconds of a Lambda invocation kept for alerting and reporting after the scan stops.
    time_reserve_seconds: float = 90.0
    # Alerting; empty means the channel or the state store is not configured.
    state_table: str = ""
    topic_arn: str = ""
    slack_secret_arn: str = ""
    # Hosts a Slack webhook URL may name besides hooks.slack.com and hooks.slack-gov.com (a proxy, say).
    slack_webhook_hosts: tuple[str, ...] = ()
    # The status page (docs/status-page.md): the bucket it is written to (empty: not written, and alerts
    # carry no link) and the bucket's region, which is the stack's own (AWS_REGION in the Lambda).
    status_page_bucket: str = ""
    status_page_region: str = ""
    reminder_hours: float = 24.0
    min_severity: Severity = Severity.WARNING
    unknown_runs_threshold: int = 3
    digest_threshold: int = 10
    language: str = i18n.DEFAULT_LANGUAGE  # ALERT_LANGUAGE: the Lambda's alerts and status pages (en, ja)
    locale_language: str = i18n.DEFAULT_LANGUAGE  # the CLI's without --language: LANGUAGE, LC_ALL, ... (gettext)

    @property
    def multi_account(self) -> bool:
        return bool(self.scan_role_arns or self.organization_role_name)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str:
            return env.get(name, "").strip()

        def number(
            name: str, default: float, *, minimum: float, maximum: float | None = None, kind: type = float
        ) -> float:
            raw = get(name)
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{name}: {raw!r} is not a {'whole ' if kind is int else ''}number") from None
            if not math.isfinite(value):
                raise ConfigError(f"{name}: {raw!r} is not a finite number")
            if value < minimum:
                raise ConfigError(f"{name}: {raw!r} must be at least {minimum}")
            if maximum is not None and value > maximum:
                raise ConfigError(f"{name}: {raw!r} must be at most {maximum}")
            return value

        def arn(name: str, service: str) -> str:
            raw = get(name)
            if raw and (not ARN_RE.match(raw) or raw.split(":")[2] != service):
                raise ConfigError(f"{name}: {raw!r} is not an {service} ARN")
            return raw

        def flag(name: str, default: bool) -> bool:
            raw = get(name).lower() or ("true" if default else "false")
            if raw not in ("true", "false"):
                raise ConfigError(f"{name}: {raw!r} is not true or false")
            return raw == "true"

        region_names = _split(get("SCAN_REGIONS")) or [
            r for r in (get("AWS_REGION") or get("AWS_DEFAULT_REGION"),) if r
        ]
        if not region_names:
            raise ConfigError("SCAN_REGIONS: no region to scan (set SCAN_REGIONS or AWS_REGION)")
        regions = tuple(dict.fromkeys(parse_region(r, setting="SCAN_REGIONS") for r in region_names))
        nameservers = tuple(parse_nameserver(n, setting="DNS_NAMESERVERS") for n in _split(get("DNS_NAMESERVERS")))

        severity_raw = get("MIN_ALERT_SEVERITY").lower() or "warning"
        try:
            min_severity = Severity(severity_raw)
        except ValueError:
            raise ConfigError(f"MIN_ALERT_SEVERITY: {severity_raw!r} is not one of critical, warning, info") from None

        table = get("STATE_TABLE_NAME")
        if table and not TABLE_RE.match(table):
            raise ConfigError(f"STATE_TABLE_NAME: {table!r} is not a DynamoDB table name")

        # A role name may itself hold a comma: split only where the next ARN starts.
        role_arns = tuple(
            dict.fromkeys(
                parse_role_arn(a, setting="SCAN_ROLE_ARNS")
                for a in re.split(r"[\s,]+(?=arn:)", get("SCAN_ROLE_ARNS"))
                if a.strip(" ,")
            )
        )
        org_role = get("SCAN_ORGANIZATION_ROLE_NAME")
        if org_role and not ROLE_NAME_RE.match(org_role):
            raise ConfigError(f"SCAN_ORGANIZATION_ROLE_NAME: {org_role!r} is not an IAM role name")
        if role_arns and org_role:
            raise ConfigError(
                "SCAN_ROLE_ARNS and SCAN_ORGANIZATION_ROLE_NAME: set one or the other (exactly these roles, or "
                "every account of the organization)"
            )
        external_id = get("SCAN_ROLE_EXTERNAL_ID")
        if external_id and not EXTERNAL_ID_RE.match(external_id):
            raise ConfigError("SCAN_ROLE_EXTERNAL_ID: must be 2 to 1224 characters of letters, digits and +=,.@:/-")
        if external_id and not (role_arns or org_role):
            raise ConfigError("SCAN_ROLE_EXTERNAL_ID: set only with SCAN_ROLE_ARNS or SCAN_ORGANIZATION_ROLE_NAME")

        queue = get("FANOUT_QUEUE_URL")
        if queue and not QUEUE_URL_RE.match(queue):
            raise ConfigError(f"FANOUT_QUEUE_URL: {queue!r} is not an SQS queue URL")
        recheck_queue = get("RECHECK_QUEUE_URL")
        if recheck_queue and not QUEUE_URL_RE.match(recheck_queue):
            raise ConfigError(f"RECHECK_QUEUE_URL: {recheck_queue!r} is not an SQS queue URL")
        # Both queues keep their progress (a run's shards done, the identity index, the debounce) in the table.
        for name, value in (("FANOUT_QUEUE_URL", queue), ("RECHECK_QUEUE_URL", recheck_queue)):
            if value and not table:
                raise ConfigError(f"{name}: needs STATE_TABLE_NAME, where the queued work keeps its progress")
        # SQS delays a message at most 900 s.
        recheck_delay = int(number("RECHECK_DELAY_SECONDS", 30, minimum=0, maximum=900, kind=int))
        recheck_confirm = int(number("RECHECK_CONFIRM_SECONDS", 240, minimum=0, maximum=900, kind=int))

        bucket = get("STATUS_PAGE_BUCKET")
        if bucket:
            bucket = parse_bucket(bucket, setting="STATUS_PAGE_BUCKET")
        own_region = get("AWS_REGION") or get("AWS_DEFAULT_REGION")
        if bucket and not REGION_NAME_RE.match(own_region):
            raise ConfigError(
                f"STATUS_PAGE_BUCKET: the bucket's region is the stack's, AWS_REGION, which is {own_region!r}, "
                "not a region name"
            )

        if (language := get("ALERT_LANGUAGE").lower() or i18n.DEFAULT_LANGUAGE) not in i18n.LANGUAGES:
            raise ConfigError(f"ALERT_LANGUAGE: {language!r} is not one of {', '.join(i18n.LANGUAGES)}")
        timeout = number("DNS_TIMEOUT_SECONDS", 2.0, minimum=0.1)
        lifetime = number("DNS_LIFETIME_SECONDS", max(6.0, timeout), minimum=timeout)
        ses_rate = number("SES_REQUESTS_PER_SECOND", 1.0, minimum=0.01)
        if ses_rate > 50:
            raise ConfigError(f"SES_REQUESTS_PER_SECOND: {ses_rate} is above SES's limits; at most 50")
        return cls(
            regions=regions,
            nameservers=nameservers,
            dns_timeout=timeout,
            dns_lifetime=lifetime,
            dns_max_in_flight=int(number("DNS_MAX_IN_FLIGHT", 50, minimum=1, kind=int)),
            dns_max_queries_per_second=number("DNS_MAX_QUERIES_PER_SECOND", 0.0, minimum=0.0),
            dns_query_mode=_query_mode(get("DNS_QUERY_MODE")),
            check_dmarc=flag("CHECK_DMARC", True),
            check_nameservers=_nameserver_mode(get("CHECK_NAMESERVERS")),
            schedule_period_seconds=number("SCHEDULE_PERIOD_SECONDS", 3600.0, minimum=60.0, maximum=86400.0),
            authoritative_port=int(number("DNS_AUTHORITATIVE_PORT", 53, minimum=1, maximum=65535, kind=int)),
            ses_requests_per_second=ses_rate,
            max_zone_confirmations=int(number("MAX_ZONE_CONFIRMATIONS", 60, minimum=0, kind=int)),
            max_identity_details=int(number("MAX_IDENTITY_DETAILS", 100, minimum=0, kind=int)),
            scan_role_arns=role_arns,
            organization_role_name=org_role,
            role_external_id=external_id,
            fanout_queue_url=queue,
            recheck_queue_url=recheck_queue,
            recheck_delay_seconds=recheck_delay,
            recheck_confirm_seconds=recheck_confirm,
            dns_account_map=parse_dns_account_map(get("DNS_ACCOUNT_MAP")),
            max_rechecks_per_account_hour=int(
                number("MAX_RECHECKS_PER_ACCOUNT_HOUR", DEFAULT_RECHECKS_PER_ACCOUNT_HOUR, minimum=1, kind=int)
            ),
            import_ses_recommendations=flag("IMPORT_SES_RECOMMENDATIONS", False),
            shards_per_invocation=int(number("SHARDS_PER_INVOCATION", 12, minimum=1, kind=int)),
            # At most 600: Lambda runs 900 s at most, and a larger reserve leaves the scan too little.
            time_reserve_seconds=number("TIME_RESERVE_SECONDS", 90.0, minimum=0.0, maximum=600.0),
            state_table=table,
            topic_arn=arn("ALERT_TOPIC_ARN", "sns"),
            slack_secret_arn=arn("SLACK_WEBHOOK_SECRET_ARN", "secretsmanager"),
            slack_webhook_hosts=parse_webhook_hosts(get("SLACK_WEBHOOK_HOSTS")),
            status_page_bucket=bucket,
            status_page_region=own_region if bucket else "",
            reminder_hours=number("REMINDER_HOURS", 24.0, minimum=0.01),
            min_severity=min_severity,
            unknown_runs_threshold=int(number("UNKNOWN_RUNS_THRESHOLD", 3, minimum=1, kind=int)),
            digest_threshold=int(number("DIGEST_THRESHOLD", 10, minimum=1, kind=int)),
            language=language,
            locale_language=i18n.from_locale(env),
        )
