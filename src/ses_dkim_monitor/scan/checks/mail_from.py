"""The custom MAIL FROM domain: verified in SES, its MX at SES's feedback endpoint, an SPF record that
authorises SES and that receivers can evaluate."""

from __future__ import annotations

from collections.abc import Sequence

from ... import catalogue as c
from ... import form_advice, partitions
from ...catalogue import finding
from ...i18n import N_, _, joined
from ...models import DnsRecord, Finding, SesIdentity, SesStatus, Severity
from ...untrusted import quoted
from ..dns_answers import DomainDns, Outcome
from ..parsers import parse_spf, spf_authorises_ses, spf_records
from .common import SPF_FOR_SES, fqdn, status_name


def _silent_fallback(identity: SesIdentity) -> bool:
    behaviour = (identity.mail_from.behavior_on_mx_failure or "") if identity.mail_from else ""
    return behaviour.replace("_", "").lower() == "usedefaultvalue"


FALLBACK = N_(
    "; with BehaviorOnMxFailure=USE_DEFAULT_VALUE SES sends anyway, from amazonses.com, so SPF alignment is "
    "silently lost"
)


def check_mail_from(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    mail_from = identity.mail_from
    if mail_from is None:
        return []
    feedback_host = partitions.feedback_host(identity.region)
    feedback = f"10 {feedback_host}" if feedback_host else _("the MX record the SES console shows for it")
    fallback = _silent_fallback(identity)
    cause = c.SILENT_FALLBACK if fallback else ""
    note = _(FALLBACK) if fallback else ""
    found: list[Finding] = []
    if mail_from.status is not SesStatus.SUCCESS:
        found.append(
            finding(
                c.MAIL_FROM_NOT_SUCCESS,
                _("custom MAIL FROM domain {mail_from} of {identity} has status {status}{note}").format(
                    mail_from=mail_from.domain, identity=identity.name, status=status_name(mail_from.status), note=note
                ),
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
                _("MAIL FROM domain {mail_from} has no MX record, so SES cannot use it{note}").format(
                    mail_from=mail_from.domain, note=note
                ),
                subject="MX",
                source="dns",
                record=mx_record,
                cause=cause,
                more=form_advice.served_sentence(dns.zone_apex, dns.nameservers) if dns.zone_apex else "",
            )
        )
    elif mx is not None and mx.outcome is Outcome.ANSWER:
        hosts = [v.split()[-1].rstrip(".").lower() for v in mx.values]
        if feedback_host not in hosts:
            found.append(
                finding(
                    c.MAIL_FROM_RECORD_MISSING,
                    _(
                        "MAIL FROM domain {mail_from} has MX {found}, not SES's feedback endpoint for {region} "
                        "({feedback}), so SES cannot use it{note}"
                    ).format(
                        mail_from=mail_from.domain,
                        found=quoted(" | ".join(mx.values)),
                        region=identity.region,
                        feedback=feedback_host,
                        note=note,
                    ),
                    subject="MX",
                    source="dns",
                    record=mx_record,
                    cause=c.MX_WRONG_TARGET,
                    # An MX to another host than SES's (the name receives mail) is named first: fix leaves that
                    # name whole, however many of SES's feedback hosts stand beside it.
                    misplaced=DnsRecord(fqdn(mail_from.domain), "MX", _receiving_first(mx.values)),
                )
            )
    if txt is not None and not txt.failed:
        spf = spf_records(txt.values) if txt.outcome is Outcome.ANSWER else []
        # Through the whole include tree when it was walked: an indirect include of amazonses.com counts.
        authorised = dns.spf.authorises_ses if dns.spf is not None else any(spf_authorises_ses(v) for v in spf)
        if authorised is False:
            observed = _("its SPF record is {found}").format(found=quoted(spf[0])) if spf else _("it has no SPF record")
            found.append(
                finding(
                    c.MAIL_FROM_RECORD_MISSING,
                    _("MAIL FROM domain {mail_from} does not authorise SES: {observed}{note}").format(
                        mail_from=mail_from.domain, observed=observed, note=note
                    ),
                    subject="TXT",
                    source="dns",
                    record=DnsRecord(fqdn(mail_from.domain), "TXT", SPF_FOR_SES),
                    cause=cause,
                )
            )
        found += check_spf(identity, dns, spf)
    return found


def _receiving_first(values: Sequence[str]) -> str:
    """The first MX value whose exchange is not an SES feedback host, else the first value."""
    for value in values:
        if partitions.feedback_region(value.split()[-1] if value.split() else "") is None:
            return value
    return values[0]


def _host_unknown(identity: SesIdentity, domain: str) -> Finding:
    partition = partitions.partition_of(identity.region) or _("unknown")
    return finding(
        c.IDENTITY_NOT_CHECKED,
        _(
            "the MX and SPF of MAIL FROM domain {mail_from} of {identity} were not verified: SES's mail host in "
            "{region} (partition {partition}) is not documented and botocore does not name it, so the monitor will "
            "not hold them against a guessed host; SES's own MAIL FROM status is checked"
        ).format(mail_from=domain, identity=identity.name, region=identity.region, partition=partition),
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
            message,
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
                _(
                    "the SPF record of {domain} is not one record but {count} ({shown}): receivers return permerror "
                    "and SPF fails"
                ).format(domain=domain, count=len(spf), shown=shown),
                _("Merge them into one TXT record at {name}, e.g. {spf}").format(name=name, spf=SPF_FOR_SES),
            )
        ]
    if not spf:
        return []
    parsed = parse_spf(spf[0])
    found: list[Finding] = []
    for cause in dict.fromkeys(p.cause for p in parsed.problems):
        details = joined(p.detail for p in parsed.problems if p.cause == cause)
        fix = _("Correct the TXT record at {name}: {details}").format(name=name, details=details)
        if cause == c.SPF_PLUS_ALL:
            fix = _('Replace "+all" (or a bare "all") with "~all" or "-all" in the record at {name}').format(name=name)
        found.append(
            invalid(
                cause,
                _("the SPF record of {domain} ({found}): {details}").format(
                    domain=domain, found=quoted(spf[0]), details=details
                ),
                fix,
            )
        )
    for cause in dict.fromkeys(n.cause for n in parsed.notes):
        details = joined(n.detail for n in parsed.notes if n.cause == cause)
        found.append(
            finding(
                c.RECORD_NOTE,
                _("the SPF record of {domain} ({found}): {details}").format(
                    domain=domain, found=quoted(spf[0]), details=details
                ),
                subject=cause,
                source="dns",
                cause=cause,
                fix_detail=_(
                    "Nothing needs to change for receivers, who never evaluate these terms; to publish what they read, "
                    "remove them from the record at {name}: {details}"
                ).format(name=name, details=details),
            )
        )
    tree = dns.spf
    if tree is not None and tree.permerror:
        found.append(
            invalid(
                tree.permerror,
                _("the SPF record of {domain} {detail}: receivers return permerror and SPF fails for all mail").format(
                    domain=domain, detail=tree.detail
                ),
                _(_TREE_FIX.get(tree.permerror, _TREE_FIX_OTHER)).format(
                    name=name, where=tree.where, detail=tree.detail, void=", ".join(tree.void), spf=SPF_FOR_SES
                ),
            )
        )
    return found


# How to fix what a receiver's evaluation meets (fields: name, where, detail, void, spf).
_TREE_FIX_OTHER = N_("Correct the record at {name}")
_TREE_FIX = {
    c.SPF_TOO_MANY_LOOKUPS: N_(
        "Remove includes {name} does not need, or flatten some to ip4:/ip6: ranges; a MAIL FROM domain used only by "
        "SES needs just {spf}"
    ),
    c.SPF_VOID_INCLUDE: N_(
        "Publish exactly one SPF record at {where}, or remove the include:/redirect= that names it from the record "
        "at {name} (or from the record that includes it)"
    ),
    c.SPF_INCLUDE_LOOP: N_(
        "Break the loop at {where}: remove the include: or redirect= that leads back to a record already being "
        "evaluated; a MAIL FROM domain used only by SES needs just {spf}"
    ),
    c.SPF_PERMERROR_IN_INCLUDE: N_(
        "Correct the SPF record at {where}, or, if it is not yours, remove the include: of it from the record at {name}"
    ),
    c.SPF_VOID_LOOKUPS: N_(
        "Remove the a/mx/exists terms that name domains without records ({void}) from the record at {name} or the "
        "records it includes, or publish those records"
    ),
    c.SPF_TOO_MANY_MX: N_(
        "Make mx: name a domain with at most 10 MX records ({where} has more), or list the sending hosts with "
        "ip4:/ip6: in the record at {name}"
    ),
}
