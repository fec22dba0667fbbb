"""DMARC: a record applies to the domain (found by DMARCbis's DNS tree walk) and it is well formed."""

from __future__ import annotations

from ... import catalogue as c
from ...catalogue import finding
from ...models import DnsRecord, Finding, SesIdentity
from ...untrusted import quoted
from ..dns_answers import DomainDns, Outcome
from ..parsers import DmarcRecord, is_dmarc_record, parse_dmarc
from .common import DMARC_STARTER, form_host, fqdn


def check_dmarc(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    lookup = dns.dmarc
    if lookup is None or lookup.failed:
        return []  # not asked, or dns-lookup-failed covers it
    records = [v for v in lookup.values if is_dmarc_record(v)] if lookup.outcome is Outcome.ANSWER else []
    if not records:
        return [_missing(identity, dns)]
    where = lookup.name.removeprefix("_dmarc.")
    inherited = "" if where == identity.domain else f" (inherited from {where})"
    if len(records) > 1:
        return [
            finding(
                c.DMARC_INVALID,
                f"{lookup.name} holds {len(records)} v=DMARC1 records{inherited}: receivers use none of them, so "
                f"{identity.domain} effectively has no DMARC policy",
                subject=c.DMARC_MULTIPLE_RECORDS,
                source="dns",
                cause=c.DMARC_MULTIPLE_RECORDS,
                fix_detail=f"Keep exactly one TXT record starting with v=DMARC1 at {fqdn(lookup.name)}",
            )
        ]
    record = parse_dmarc(records[0])
    found: list[Finding] = []
    for cause in dict.fromkeys(p.cause for p in record.problems):
        details = "; ".join(p.detail for p in record.problems if p.cause == cause)
        found.append(
            finding(
                c.DMARC_INVALID,
                f"{lookup.name}{inherited} ({_policy(record)}): {details}",
                subject=cause,
                source="dns",
                cause=cause,
                fix_detail=f"Correct the record at {fqdn(lookup.name)}: {details}",
            )
        )
    return found


def _policy(record: DmarcRecord) -> str:
    parts = [f"p={record.policy or 'missing'}"]
    if record.subdomain_policy:
        parts.append(f"sp={record.subdomain_policy}")
    if record.pct is not None:
        parts.append(f"pct={record.pct}")
    return "policy " + ", ".join(parts)


def _missing(identity: SesIdentity, dns: DomainDns) -> Finding:
    lookup = dns.dmarc
    assert lookup is not None
    record = DnsRecord(fqdn(f"_dmarc.{identity.domain}"), "TXT", DMARC_STARTER.format(domain=identity.domain))
    walked = ", ".join(dns.dmarc_walk) or lookup.name
    if dns.dmarc_misplaced is not None:
        host = form_host(record.name, dns.zone_apex)
        misplaced = DnsRecord(fqdn(dns.dmarc_misplaced.name), "TXT", dns.dmarc_misplaced.values[0])
        return finding(
            c.DMARC_RECORD_MISSING,
            f"no DMARC record applies to {identity.domain}: it was published at {dns.dmarc_misplaced.name}, where "
            f"the DNS provider appended its zone ({dns.zone_apex}) to a name typed in full",
            source="dns",
            record=DnsRecord(record.name, "TXT", quoted(dns.dmarc_misplaced.values[0], limit=10_000)),
            cause=c.DOUBLED_DOMAIN,
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            apex=dns.zone_apex,
            host=host,
        )
    observed = (
        f"holds no v=DMARC1 record (found {quoted(' | '.join(lookup.values))})"
        if lookup.outcome is Outcome.ANSWER
        else "has no TXT record"
    )
    return finding(
        c.DMARC_RECORD_MISSING,
        f"_dmarc.{identity.domain} {observed}, and no parent domain's record applies (asked {walked}): "
        f"bulk-sender rules at Gmail and Yahoo require a DMARC record",
        source="dns",
        record=record,
    )
