"""The one catalogue of check ids.

Every check the monitor can report is listed here with its default severity,
a one-line title and a fix template. The CLI, the Lambda, the alerts and the
README all use these names. Ids are a public contract: add, never rename or
remove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import DnsRecord, Finding, Severity


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    title: str
    fix: str  # str.format template; fields are named per check below


CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        Check(
            "identity-not-verified",
            Severity.CRITICAL,
            "SES identity is not verified for sending",
            "Verify {identity} in SES (region {region}): for a domain, publish the DKIM CNAMEs; "
            "for an address, click the link SES emailed to it. Then confirm the console shows "
            "'Verified'.",
        ),
        Check(
            "dkim-signing-disabled",
            Severity.CRITICAL,
            "DKIM signing is turned off for a domain identity",
            "Turn DKIM signing on: aws sesv2 put-email-identity-dkim-attributes "
            "--region {region} --email-identity {identity} --signing-enabled",
        ),
        Check(
            "dkim-status-not-success",
            Severity.WARNING,
            "SES does not report DKIM as verified",
            "Publish the DKIM records SES lists for {identity} (region {region}) and wait for "
            "SES to re-check; a FAILED status needs the records back and a restart of DKIM "
            "verification in the SES console.",
        ),
        Check(
            "dkim-record-missing",
            Severity.CRITICAL,
            "A DKIM CNAME is missing from DNS",
            "Publish {name} CNAME {value}",
        ),
        Check(
            "dkim-record-wrong-target",
            Severity.CRITICAL,
            "A DKIM CNAME points at the wrong target",
            "Change {name} to CNAME {value}",
        ),
        Check(
            "dkim-key-missing",
            Severity.CRITICAL,
            "No DKIM public key is reachable through the DKIM records",
            "{fix_detail}",
        ),
        Check(
            "email-identity-without-dkim-domain",
            Severity.CRITICAL,
            "Email address identity has no DKIM-verified domain; its mail is DMARC-unaligned",
            "Create a domain identity for {domain} (or a parent domain) in {region}, publish "
            "its three DKIM CNAMEs and wait for DKIM status SUCCESS: "
            "aws sesv2 create-email-identity --region {region} --email-identity {domain}",
        ),
        Check(
            "dns-lookup-failed",
            Severity.WARNING,
            "DNS lookup failed; the records could not be checked",
            "Check that the resolver(s) can reach the authoritative servers for {domain} "
            "({error}); the monitor will try again on the next run.",
        ),
        Check(
            "dmarc-record-missing",
            Severity.WARNING,
            "Domain has no DMARC record",
            "Publish {name} TXT {value}",
        ),
        Check(
            "mail-from-not-success",
            Severity.WARNING,
            "Custom MAIL FROM domain is not verified; SPF does not align",
            "Publish the MAIL FROM records for {mail_from} ({name} MX {value} and "
            "{name} TXT \"v=spf1 include:amazonses.com ~all\") and wait for SES to re-check.",
        ),
        Check(
            "mail-from-record-missing",
            Severity.WARNING,
            "A custom MAIL FROM record is missing from DNS",
            "Publish {name} {type} {value}",
        ),
        Check(
            "monitor-cannot-verify",
            Severity.WARNING,
            "The monitor could not check this identity for several runs",
            "Check DNS resolution from the monitor for {domain}: it failed on {runs} "
            "consecutive runs ({error}).",
        ),
    )
}


def finding(
    check_id: str,
    message: str,
    *,
    severity: Severity | None = None,
    subject: str = "",
    source: str = "ses",
    record: DnsRecord | None = None,
    **fields: Any,
) -> Finding:
    """Build a Finding for a catalogued check, filling its fix template.

    A record, when given, also supplies ``name``/``type``/``value`` to the
    template so the fix text and the machine-readable record always agree.
    """
    check = CHECKS[check_id]
    if record is not None:
        fields = {"name": record.name, "type": record.type, "value": record.value, **fields}
    return Finding(
        check=check.id,
        severity=severity or check.severity,
        message=message,
        fix=check.fix.format(**fields),
        subject=subject,
        source=source,
        record=record,
    )
