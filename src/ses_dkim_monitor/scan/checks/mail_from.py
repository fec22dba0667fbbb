"""The custom MAIL FROM domain: verified in SES, its MX at SES's feedback endpoint, an SPF record that
authorises SES and that receivers can evaluate."""

from __future__ import annotations

from ... import catalogue as c
from ... import partitions
from ...catalogue import finding
from ...models import DnsRecord, Finding, SesIdentity, SesStatus, Severity
from ...untrusted import quoted
from ..dns_answers import DomainDns, Outcome
from ..parsers import parse_spf, spf_authorises_ses, spf_records
from .common import SPF_FOR_SES, fqdn, status_name


def _silent_fallback(identity: SesIdentity) -> bool:
    behaviour = (identity.mail_from.behavior_on_mx_failure or "") if identity.mail_from else ""
    return behaviour.replace("_", "").lower() == "usedefaultvalue"


FALLBACK = (
    "; with BehaviorOnMxFailure=USE_DEFAULT_VALUE SES sends anyway, from amazonses.com, so SPF alignment is "
    "silently lost"
)


def check_mail_from(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    mail_from = identity.mail_from
    if mail_from is None:
        return []
    feedback_host = partitions.feedback_host(identity.region)
    feedback = f"10 {feedback_host}" if feedback_host else "the MX record the SES console shows for it"
    fallback = _silent_fallback(identity)
    cause = c.SILENT_FALLBACK if fallback else ""
    note = FALLBACK if fallback else ""
    found: list[Finding] = []
    if mail_from.status is not SesStatus.SUCCESS:
        found.append(
            finding(
                c.MAIL_FROM_NOT_SUCCESS,
                f"custom MAIL FROM domain {mail_from.domain} of {identity.name} has status "
                f"{status_name(mail_from.status)}{note}",
                cause=cause,
                mail_from=mail_from.domain,
                name=fqdn(mail_from.domain),
                value=feedback,
            )
        )
    if dns is None:
        return found
    mx, txt = dns.mail_from_mx, dns.mail_from_txt
    if feedback_host is None:
        # No documented SES host in this partition: never judge the MX (or the SPF include) against a guess.
        found.append(_host_unknown(identity, mail_from.domain))
        if txt is not None and txt.outcome is Outcome.ANSWER:
            found += check_spf(identity, dns, spf_records(txt.values))
        return found
    mx_record = DnsRecord(fqdn(mail_from.domain), "MX", feedback)
    if mx is not None and mx.absent:
        found.append(
            finding(
                c.MAIL_FROM_RECORD_MISSING,
                f"MAIL FROM domain {mail_from.domain} has no MX record, so SES cannot use it{note}",
                subject="MX",
                source="dns",
                record=mx_record,
                cause=cause,
            )
        )
    elif mx is not None and mx.outcome is Outcome.ANSWER:
        hosts = [v.split()[-1].rstrip(".").lower() for v in mx.values]
        if feedback_host not in hosts:
            found.append(
                finding(
                    c.MAIL_FROM_RECORD_MISSING,
                    f"MAIL FROM domain {mail_from.domain} has MX {quoted(' | '.join(mx.values))}, not SES's "
                    f"feedback endpoint for {identity.region} ({feedback_host}), so SES cannot use it{note}",
                    subject="MX",
                    source="dns",
                    record=mx_record,
                    cause=c.MX_WRONG_TARGET,
                    misplaced=DnsRecord(fqdn(mail_from.domain), "MX", mx.values[0]),
                )
            )
    if txt is not None and not txt.failed:
        spf = spf_records(txt.values) if txt.outcome is Outcome.ANSWER else []
        # Through the whole include tree when it was walked: an indirect include of amazonses.com counts.
        authorised = dns.spf.authorises_ses if dns.spf is not None else any(spf_authorises_ses(v) for v in spf)
        if authorised is False:
            observed = f"its SPF record is {quoted(spf[0])}" if spf else "it has no SPF record"
            found.append(
                finding(
                    c.MAIL_FROM_RECORD_MISSING,
                    f"MAIL FROM domain {mail_from.domain} does not authorise SES: {observed}{note}",
                    subject="TXT",
                    source="dns",
                    record=DnsRecord(fqdn(mail_from.domain), "TXT", SPF_FOR_SES),
                    cause=cause,
                )
            )
        found += check_spf(identity, dns, spf)
    return found


def _host_unknown(identity: SesIdentity, domain: str) -> Finding:
    partition = partitions.partition_of(identity.region) or "unknown"
    return finding(
        c.IDENTITY_NOT_CHECKED,
        f"the MX and SPF of MAIL FROM domain {domain} of {identity.name} were not verified: SES's mail host in "
        f"{identity.region} (partition {partition}) is not documented and botocore does not name it, so the "
        f"monitor will not hold them against a guessed host; SES's own MAIL FROM status is checked",
        severity=Severity.INFO,
        source="dns",
        cause=c.SES_HOST_UNKNOWN,
        identity=identity.name,
        region=identity.region,
        mail_from=domain,
    )


def check_spf(identity: SesIdentity, dns: DomainDns, spf: list[str]) -> list[Finding]:
    """The SPF record receivers evaluate must be one, well formed, within 10 lookups, and not +all."""
    assert identity.mail_from is not None
    domain = identity.mail_from.domain
    name = fqdn(domain)

    def invalid(cause: str, message: str, fix: str) -> Finding:
        return finding(
            c.SPF_INVALID,
            f"the SPF record of {domain} {message}",
            subject=cause,
            source="dns",
            cause=cause,
            fix_detail=fix,
        )

    if len(spf) > 1:
        shown = " | ".join(quoted(v) for v in spf)
        return [
            invalid(
                c.SPF_MULTIPLE_RECORDS,
                f"is not one record but {len(spf)} ({shown}): receivers return permerror and SPF fails",
                f"Merge them into one TXT record at {name}, e.g. {SPF_FOR_SES}",
            )
        ]
    if not spf:
        return []
    parsed = parse_spf(spf[0])
    found: list[Finding] = []
    for cause in dict.fromkeys(p.cause for p in parsed.problems):
        details = "; ".join(p.detail for p in parsed.problems if p.cause == cause)
        fix = f"Correct the TXT record at {name}: {details}"
        if cause == c.SPF_PLUS_ALL:
            fix = f'Replace "+all" (or a bare "all") with "~all" or "-all" in the record at {name}'
        found.append(invalid(cause, f"({quoted(spf[0])}): {details}", fix))
    for cause in dict.fromkeys(n.cause for n in parsed.notes):
        details = "; ".join(n.detail for n in parsed.notes if n.cause == cause)
        found.append(
            finding(
                c.RECORD_NOTE,
                f"the SPF record of {domain} ({quoted(spf[0])}): {details}",
                subject=cause,
                source="dns",
                cause=cause,
                fix_detail=f"Nothing needs to change for receivers, who never evaluate these terms; to publish what "
                f"they read, remove them from the record at {name}: {details}",
            )
        )
    tree = dns.spf
    if tree is not None and tree.permerror:
        found.append(
            invalid(
                tree.permerror,
                f"{tree.detail}: receivers return permerror and SPF fails for all mail",
                _TREE_FIX.get(tree.permerror, "Correct the record at {name}").format(
                    name=name, where=tree.where, detail=tree.detail, void=", ".join(tree.void), spf=SPF_FOR_SES
                ),
            )
        )
    return found


# How to fix what a receiver's evaluation meets (fields: name, where, detail, void, spf).
_TREE_FIX = {
    c.SPF_TOO_MANY_LOOKUPS: "Remove includes {name} does not need, or flatten some to ip4:/ip6: ranges; a MAIL FROM "
    "domain used only by SES needs just {spf}",
    c.SPF_VOID_INCLUDE: "Publish exactly one SPF record at {where}, or remove the include:/redirect= that names it "
    "from the record at {name} (or from the record that includes it)",
    c.SPF_INCLUDE_LOOP: "Break the loop at {where}: remove the include: or redirect= that leads back to a record "
    "already being evaluated; a MAIL FROM domain used only by SES needs just {spf}",
    c.SPF_PERMERROR_IN_INCLUDE: "Correct the SPF record at {where}, or, if it is not yours, remove the include: of "
    "it from the record at {name}",
    c.SPF_VOID_LOOKUPS: "Remove the a/mx/exists terms that name domains without records ({void}) from the record at "
    "{name} or the records it includes, or publish those records",
    c.SPF_TOO_MANY_MX: "Make mx: name a domain with at most 10 MX records ({where} has more), or list the sending "
    "hosts with ip4:/ip6: in the record at {name}",
}
