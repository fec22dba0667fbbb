"""The one catalogue of check ids.

Every check the monitor can report is listed here with its default severity,
a one-line title, when it fires and a fix template. The CLI, the Lambda, the
alerts and the docs (their tables are generated from this module by
``scripts/docgen.py``) all use these names. Ids are a public contract: add,
never rename or remove. Code refers to a check by the constant below, never
by a bare string.
"""

from __future__ import annotations

from typing import Any

from ..i18n import _, sentence, sentences
from ..models import DnsRecord, Finding, Severity
from .causes import (
    CAUSES,
    DETAIL_UNFETCHED,
    DMARC_BAD_PCT,
    DMARC_BAD_POLICY,
    DMARC_MULTIPLE_RECORDS,
    DMARC_POLICY_IMPLIED,
    DMARC_SYNTAX_ERROR,
    DMARC_UNKNOWN_TAG,
    DNS_CORRECT_NOW,
    DOUBLED_DOMAIN,
    KEY_MALFORMED,
    KEY_REVOKED,
    KEY_TAG_CASE,
    MX_WRONG_TARGET,
    OTHER_REGION_ZONE,
    OTHER_TOKEN,
    OUT_OF_TIME,
    PUBLISHED_AS_TXT,
    REPLICA_OF_PARENT,
    SES_HOST_UNKNOWN,
    SILENT_FALLBACK,
    SPF_IGNORED_TERMS,
    SPF_INCLUDE_LOOP,
    SPF_MACRO_OUTSIDE_EXP,
    SPF_MULTIPLE_RECORDS,
    SPF_PERMERROR_IN_INCLUDE,
    SPF_PLUS_ALL,
    SPF_SYNTAX_ERROR,
    SPF_TOO_MANY_LOOKUPS,
    SPF_TOO_MANY_MX,
    SPF_VOID_INCLUDE,
    SPF_VOID_LOOKUPS,
    TARGET_MISSING_DOT,
    ZONE_UNCONFIRMED,
    Cause,
)
from .checks import (
    CHECKS,
    DKIM_KEY_MISSING,
    DKIM_KEY_TESTING,
    DKIM_KEY_WEAK,
    DKIM_RECORD_MISSING,
    DKIM_RECORD_WRONG_TARGET,
    DKIM_SIGNING_DISABLED,
    DKIM_STATUS_NOT_SUCCESS,
    DMARC_INVALID,
    DMARC_RECORD_MISSING,
    DNS_LOOKUP_FAILED,
    EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
    IDENTITY_NOT_CHECKED,
    IDENTITY_NOT_VERIFIED,
    MAIL_FROM_NOT_SUCCESS,
    MAIL_FROM_RECORD_MISSING,
    MONITOR_CANNOT_VERIFY,
    NAMESERVERS_DISAGREE,
    RECORD_NOTE,
    SES_RECOMMENDATION,
    SPF_INVALID,
    Check,
)

__all__ = [
    "CAUSES",
    "CHECKS",
    "DETAIL_UNFETCHED",
    "DKIM_KEY_MISSING",
    "DKIM_KEY_TESTING",
    "DKIM_KEY_WEAK",
    "DKIM_RECORD_MISSING",
    "DKIM_RECORD_WRONG_TARGET",
    "DKIM_SIGNING_DISABLED",
    "DKIM_STATUS_NOT_SUCCESS",
    "DMARC_BAD_PCT",
    "DMARC_BAD_POLICY",
    "DMARC_INVALID",
    "DMARC_MULTIPLE_RECORDS",
    "DMARC_POLICY_IMPLIED",
    "DMARC_RECORD_MISSING",
    "DMARC_SYNTAX_ERROR",
    "DMARC_UNKNOWN_TAG",
    "DNS_CORRECT_NOW",
    "DNS_LOOKUP_FAILED",
    "DOUBLED_DOMAIN",
    "EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN",
    "IDENTITY_NOT_CHECKED",
    "IDENTITY_NOT_VERIFIED",
    "KEY_MALFORMED",
    "KEY_REVOKED",
    "KEY_TAG_CASE",
    "MAIL_FROM_NOT_SUCCESS",
    "MAIL_FROM_RECORD_MISSING",
    "MONITOR_CANNOT_VERIFY",
    "MX_WRONG_TARGET",
    "NAMESERVERS_DISAGREE",
    "OTHER_REGION_ZONE",
    "OTHER_TOKEN",
    "OUT_OF_TIME",
    "PUBLISHED_AS_TXT",
    "RECORD_NOTE",
    "REPLICA_OF_PARENT",
    "SES_HOST_UNKNOWN",
    "SES_RECOMMENDATION",
    "SILENT_FALLBACK",
    "SPF_IGNORED_TERMS",
    "SPF_INCLUDE_LOOP",
    "SPF_INVALID",
    "SPF_MACRO_OUTSIDE_EXP",
    "SPF_MULTIPLE_RECORDS",
    "SPF_PERMERROR_IN_INCLUDE",
    "SPF_PLUS_ALL",
    "SPF_SYNTAX_ERROR",
    "SPF_TOO_MANY_LOOKUPS",
    "SPF_TOO_MANY_MX",
    "SPF_VOID_INCLUDE",
    "SPF_VOID_LOOKUPS",
    "TARGET_MISSING_DOT",
    "ZONE_UNCONFIRMED",
    "Cause",
    "Check",
    "finding",
]


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
    more: str = "",
    **fields: Any,
) -> Finding:
    """Build a Finding for a catalogued check, filling its fix template.

    A record, when given, also supplies ``name``/``type``/``value`` to the
    template so the fix text and the machine-readable record always agree.
    The template is written in the current language (``i18n``); ``message``
    comes already written in it. ``more``: sentences the fix goes on with
    (who serves the zone, what to type in its form), the same for every
    record of a zone, so they come last (a report groups on them).
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
    fix = _(template).format(**fields)
    if more:
        fix = sentences(sentence(fix), more)
    return Finding(
        check=check.id,
        severity=severity or check.severity,
        message=message,
        fix=fix,
        subject=subject,
        source=source,
        record=record,
        cause=cause,
        misplaced=misplaced,
    )
