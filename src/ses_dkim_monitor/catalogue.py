"""The one catalogue of check ids.

Every check the monitor can report is listed here with its default severity,
a one-line title, when it fires and a fix template. The CLI, the Lambda, the
alerts and the docs (their tables are generated from this module by
``scripts/docgen.py``) all use these names. Ids are a public contract: add,
never rename or remove. Code refers to a check by the constant below, never
by a bare string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import DnsRecord, Finding, Severity

IDENTITY_NOT_VERIFIED = "identity-not-verified"
DKIM_SIGNING_DISABLED = "dkim-signing-disabled"
DKIM_STATUS_NOT_SUCCESS = "dkim-status-not-success"
DKIM_RECORD_MISSING = "dkim-record-missing"
DKIM_RECORD_WRONG_TARGET = "dkim-record-wrong-target"
DKIM_KEY_MISSING = "dkim-key-missing"
EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN = "email-identity-without-dkim-domain"
DNS_LOOKUP_FAILED = "dns-lookup-failed"
DMARC_RECORD_MISSING = "dmarc-record-missing"
MAIL_FROM_NOT_SUCCESS = "mail-from-not-success"
MAIL_FROM_RECORD_MISSING = "mail-from-record-missing"
MONITOR_CANNOT_VERIFY = "monitor-cannot-verify"
IDENTITY_NOT_CHECKED = "identity-not-checked"

# Causes (catalogue.CAUSES): why a check fired, when there is more to say.
OUT_OF_TIME = "out-of-time"
ZONE_UNCONFIRMED = "zone-unconfirmed"


@dataclass(frozen=True)
class Cause:
    """Why a check fired, when there is more to say than the check id: a stable kebab-case code.

    ``checks`` are the check ids it may accompany. ``fix``, when set, replaces
    the check's fix template for findings with this cause (same fields).
    """

    id: str
    checks: tuple[str, ...]
    title: str
    when: str = ""  # what was observed, for the docs (Markdown)
    fix: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    title: str
    fix: str  # str.format template; fields are named per check below
    when: str = ""  # when it fires, for the docs (Markdown)
    severity_note: str = ""  # when the severity depends on what was seen


CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        Check(
            IDENTITY_NOT_VERIFIED,
            Severity.CRITICAL,
            "SES identity is not verified for sending",
            "Verify {identity} in SES (region {region}): for a domain, publish the DKIM CNAMEs; "
            "for an address, click the link SES emailed to it. Then confirm the console shows "
            "'Verified'.",
            when="the identity's verification status is not SUCCESS, or SES says it is not enabled for sending",
            severity_note="warning while PENDING / NOT_STARTED",
        ),
        Check(
            DKIM_SIGNING_DISABLED,
            Severity.CRITICAL,
            "DKIM signing is turned off for a domain identity",
            "Turn DKIM signing on: aws sesv2 put-email-identity-dkim-attributes "
            "--region {region} --email-identity {identity} --signing-enabled",
            when="a domain identity's DKIM signing is off",
        ),
        Check(
            DKIM_STATUS_NOT_SUCCESS,
            Severity.WARNING,
            "SES does not report DKIM as verified",
            "Publish the DKIM records SES lists for {identity} (region {region}) and wait for "
            "SES to re-check; a FAILED status needs the records back and a restart of DKIM "
            "verification in the SES console.",
            when="SES's DKIM status is not SUCCESS (the message names it)",
            severity_note="critical for FAILED / TEMPORARY_FAILURE",
        ),
        Check(
            DKIM_RECORD_MISSING,
            Severity.CRITICAL,
            "A DKIM CNAME is missing from DNS",
            "Publish {name} CNAME {value}",
            when="a `<token>._domainkey.<domain>` CNAME does not exist (NXDOMAIN or no CNAME), even while SES "
            "still says SUCCESS; one finding per token",
        ),
        Check(
            DKIM_RECORD_WRONG_TARGET,
            Severity.CRITICAL,
            "A DKIM CNAME points at the wrong target",
            "Change {name} to CNAME {value}",
            when="the CNAME points anywhere but `<token>.<SigningHostedZone>`; the message says where",
        ),
        Check(
            DKIM_KEY_MISSING,
            Severity.CRITICAL,
            "No DKIM public key is reachable through the DKIM records",
            "{fix_detail}",
            when="Easy DKIM: none of the CNAME targets carries a TXT with a non-empty, base64 `p=`; "
            "BYODKIM: the selector's TXT has no usable key",
        ),
        Check(
            EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
            Severity.CRITICAL,
            "Email address identity has no DKIM-verified domain; its mail is DMARC-unaligned",
            "Create a domain identity for {domain} (or a parent domain) in {region}, publish "
            "its three DKIM CNAMEs and wait for DKIM status SUCCESS: "
            "aws sesv2 create-email-identity --region {region} --email-identity {domain}",
            when="an address identity whose domain (or a parent) has no DKIM-enabled, DKIM-verified domain "
            "identity in the same region: its mail carries only SES's unaligned `d=amazonses.com` signature",
        ),
        Check(
            DNS_LOOKUP_FAILED,
            Severity.WARNING,
            "DNS lookup failed; the records could not be checked",
            "Check that the resolver(s) can reach the authoritative servers for {domain} "
            "({error}); the monitor will try again on the next run.",
            when="a lookup timed out or got SERVFAIL / REFUSED; the identity's status is `unknown`, never `ok` "
            'and never "missing"',
        ),
        Check(
            DMARC_RECORD_MISSING,
            Severity.WARNING,
            "Domain has no DMARC record",
            "Publish {name} TXT {value}",
            when="no `v=DMARC1` TXT at `_dmarc.<domain>` or a parent domain (Gmail and Yahoo require one of "
            "bulk senders)",
        ),
        Check(
            MAIL_FROM_NOT_SUCCESS,
            Severity.WARNING,
            "Custom MAIL FROM domain is not verified; SPF does not align",
            "Publish the MAIL FROM records for {mail_from} ({name} MX {value} and "
            '{name} TXT "v=spf1 include:amazonses.com ~all") and wait for SES to re-check.',
            when="a custom MAIL FROM domain is configured but not verified",
        ),
        Check(
            MAIL_FROM_RECORD_MISSING,
            Severity.WARNING,
            "A custom MAIL FROM record is missing from DNS",
            "Publish {name} {type} {value}",
            when="the MAIL FROM domain lacks its MX `10 feedback-smtp.<region>.amazonses.com` or an SPF record "
            "including `amazonses.com`",
        ),
        Check(
            IDENTITY_NOT_CHECKED,
            Severity.WARNING,
            "The monitor did not finish checking this identity this run",
            "Nothing to fix in DNS: the monitor checks {identity} again on its next run. If this repeats, {remedy}",
            when="the run stopped before this identity's checks were complete; its status is `unknown`, never "
            "`ok` and never a problem it did not see (see the cause)",
        ),
        Check(
            MONITOR_CANNOT_VERIFY,
            Severity.WARNING,
            "The monitor could not check this identity for several runs",
            "Check DNS resolution from the monitor for {domain}: it failed on {runs} consecutive runs ({error}).",
            when="(alerts only) an identity's lookups failed on N consecutive runs",
        ),
    )
}


CAUSES: dict[str, Cause] = {}  # filled below, beside the checks they explain


def _causes(*causes: Cause) -> None:
    for cause in causes:
        assert cause.id not in CAUSES, cause.id
        assert all(check in CHECKS for check in cause.checks), cause
        CAUSES[cause.id] = cause


_causes(
    Cause(
        OUT_OF_TIME,
        (IDENTITY_NOT_CHECKED,),
        "The run reached its time budget first",
        when="the Lambda's time budget (or the CLI's) ran out before the identity was checked",
    ),
    Cause(
        ZONE_UNCONFIRMED,
        (IDENTITY_NOT_CHECKED,),
        "A DKIM CNAME points outside the predicted zone and SES has not confirmed the real one yet",
        when="confirming the signing zone with GetEmailIdentity would exceed the run's cap "
        "(`MAX_ZONE_CONFIRMATIONS`); the next run confirms more, and each confirmation is remembered",
    ),
)


def finding(
    check_id: str,
    message: str,
    *,
    severity: Severity | None = None,
    subject: str = "",
    source: str = "ses",
    record: DnsRecord | None = None,
    cause: str = "",
    misplaced: DnsRecord | None = None,
    **fields: Any,
) -> Finding:
    """Build a Finding for a catalogued check, filling its fix template.

    A record, when given, also supplies ``name``/``type``/``value`` to the
    template so the fix text and the machine-readable record always agree.
    A cause must be catalogued for this check; its own fix template, when it
    has one, is used instead of the check's.
    """
    check = CHECKS[check_id]
    template = check.fix
    if cause:
        entry = CAUSES[cause]
        if check_id not in entry.checks:
            raise ValueError(f"cause {cause} does not apply to {check_id}")
        template = entry.fix or template
    if record is not None:
        fields = {"name": record.name, "type": record.type, "value": record.value, **fields}
    return Finding(
        check=check.id,
        severity=severity or check.severity,
        message=message,
        fix=template.format(**fields),
        subject=subject,
        source=source,
        record=record,
        cause=cause,
        misplaced=misplaced,
    )
