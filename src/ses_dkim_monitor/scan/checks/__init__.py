"""The checks: pure functions from what SES and DNS said to findings.

No boto3, no sockets. Each function looks at one aspect and returns the
findings for it; ``evaluate`` runs them all for one identity and decides its
status. Messages name the record and what was observed; fixes come from the
catalogue so they are the exact record to publish; a cause says why, where
the failure has a known shape. Modules: ``identity`` (verification, address
identities, lookups that failed), ``dkim``, ``key_notes`` (key records read
differently than written), ``dmarc``, ``mail_from`` (with SPF), ``nameservers``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ... import catalogue as c
from ...models import DnsZone, IdentityReport, IdentityStatus, IdentityType, SesIdentity, Severity
from ..dns_answers import DomainDns
from .byodkim import check_byodkim_dns
from .dkim import check_easy_dkim_dns, check_signing, check_status, records_correct
from .dmarc import check_dmarc
from .identity import check_email_identity_domain, check_lookups, check_verification, not_checked
from .key_notes import check_key_notes
from .mail_from import check_mail_from, check_spf
from .nameservers import check_nameservers

__all__ = [
    "check_byodkim_dns",
    "check_dmarc",
    "check_easy_dkim_dns",
    "check_email_identity_domain",
    "check_key_notes",
    "check_lookups",
    "check_mail_from",
    "check_nameservers",
    "check_signing",
    "check_spf",
    "check_status",
    "check_verification",
    "evaluate",
    "not_checked",
    "records_correct",
]


def evaluate(identity: SesIdentity, dns: DomainDns | None, domains: Mapping[str, SesIdentity]) -> IdentityReport:
    """All checks for one identity, and its status.

    ``domains`` maps lower-case domain names to the domain identities of the
    same region. Status is ``unknown`` whenever a lookup failed, whatever
    else was found, so a DNS outage is never taken for health.
    """
    findings = check_verification(identity)
    if identity.type is IdentityType.EMAIL_ADDRESS:
        findings += check_email_identity_domain(identity, domains)
    else:
        findings += check_signing(identity)
        findings += check_status(identity, dns)
        if dns is not None:
            findings += (check_byodkim_dns if identity.is_byodkim else check_easy_dkim_dns)(identity, dns)
            findings += check_key_notes(identity, dns)
            findings += check_dmarc(identity, dns)
            findings += check_nameservers(identity, dns)
        findings += check_mail_from(identity, dns)
        findings += check_lookups(identity, dns)
    if any(f.check == c.DNS_LOOKUP_FAILED for f in findings):
        status = IdentityStatus.UNKNOWN
    elif any(f.severity.at_least(Severity.WARNING) for f in findings):
        status = IdentityStatus.PROBLEM
    else:
        status = IdentityStatus.OK
    findings.sort(key=lambda f: (-f.severity.rank, f.check, f.subject))
    zone = DnsZone(dns.zone_apex, dns.nameservers) if dns is not None and dns.zone_apex and dns.nameservers else None
    return IdentityReport(identity=identity, status=status, findings=tuple(findings), zone=zone)
