"""DMARC: a record applies to the domain (found by DMARCbis's DNS tree walk), it is well formed, and what
receivers ignore in it or discarded on the way is said (notes are ``record-note``, info)."""

from __future__ import annotations

from ... import catalogue as c
from ... import form_advice
from ...catalogue import finding
from ...i18n import N_, _, joined
from ...models import DnsRecord, Finding, SesIdentity
from ...untrusted import quoted
from ..dns_answers import DomainDns, Lookup, Outcome
from ..parsers import DmarcRecord, is_dmarc_record, looks_like_dmarc, parse_dmarc
from .common import DMARC_STARTER, form_text, fqdn


def check_dmarc(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    lookup = dns.dmarc
    if lookup is None or lookup.failed:
        return []  # not asked, or dns-lookup-failed covers it
    records = [v for v in lookup.values if is_dmarc_record(v)] if lookup.outcome is Outcome.ANSWER else []
    if not records:
        return [_missing(identity, dns)]
    if len(records) > 1:
        return [_several(identity, lookup, None)]
    record = parse_dmarc(records[0])
    found = [_passed(identity, passed, lookup, record) for passed in dns.dmarc_passed]
    where = lookup.name.removeprefix("_dmarc.")
    inherited = "" if where == identity.domain else _(" (inherited from {domain})").format(domain=where)
    for cause in dict.fromkeys(p.cause for p in record.problems):
        details = joined(p.detail for p in record.problems if p.cause == cause)
        found.append(
            finding(
                c.DMARC_INVALID,
                _("{name}{inherited} ({policy}): {details}").format(
                    name=lookup.name, inherited=inherited, policy=_policy(record), details=details
                ),
                subject=cause,
                source="dns",
                cause=cause,
                fix_detail=_("Correct the record at {name}: {details}").format(name=fqdn(lookup.name), details=details),
            )
        )
    for cause in dict.fromkeys(n.cause for n in record.notes):
        details = joined(n.detail for n in record.notes if n.cause == cause)
        found.append(
            finding(
                c.RECORD_NOTE,
                _("{name}{inherited} ({policy}): {details}").format(
                    name=lookup.name, inherited=inherited, policy=_policy(record), details=details
                ),
                subject=cause,
                source="dns",
                cause=cause,
                fix_detail=_(_NOTE_FIX.get(cause, _NOTE_FIX_OTHER)).format(name=fqdn(lookup.name), details=details),
            )
        )
    return found


_NOTE_FIX = {
    c.DMARC_UNKNOWN_TAG: N_(
        "Nothing needs to change for receivers, who ignore the tag; to publish what you mean, correct or remove it "
        "in the record at {name}: {details}"
    ),
    c.DMARC_POLICY_IMPLIED: N_(
        "Receivers already apply p=none; to say so, or to publish the policy you mean, add p=none, p=quarantine or "
        "p=reject to the record at {name}"
    ),
}
_NOTE_FIX_OTHER = N_("Nothing needs to change; {details}")


def _policy(record: DmarcRecord) -> str:
    parts = ["p=" + (record.policy or _("missing"))]
    if record.subdomain_policy:
        parts.append(f"sp={record.subdomain_policy}")
    if record.pct is not None:
        parts.append(f"pct={record.pct}")
    read = ""
    if record.applied_policy != record.policy:
        read = _(", read as p=none") if record.applied_policy == "none" else _(", so no DMARC policy applies")
    return _("policy {tags}").format(tags=", ".join(parts)) + read


def _several(identity: SesIdentity, lookup: Lookup, applies: tuple[Lookup, DmarcRecord] | None) -> Finding:
    """Several DMARC records at one name: receivers discard them all and walk on to the parent domains."""
    count = sum(is_dmarc_record(v) for v in lookup.values)
    if applies is None:
        outcome = _("so no record applies and {domain} effectively has no DMARC policy").format(domain=identity.domain)
    else:
        outcome = _("the record that applies is {name}'s instead ({policy})").format(
            name=applies[0].name, policy=_policy(applies[1])
        )
    own = lookup.name == f"_dmarc.{identity.domain}"
    return finding(
        c.DMARC_INVALID,
        _(
            "{name} holds {count} v=DMARC1 records: receivers discard them all and walk on up the tree, {outcome}"
        ).format(name=lookup.name, count=count, outcome=outcome),
        subject=c.DMARC_MULTIPLE_RECORDS if own else f"{c.DMARC_MULTIPLE_RECORDS} {lookup.name}",
        source="dns",
        cause=c.DMARC_MULTIPLE_RECORDS,
        fix_detail=_("Keep exactly one TXT record starting with v=DMARC1 at {name}").format(name=fqdn(lookup.name)),
    )


def _passed(identity: SesIdentity, passed: Lookup, lookup: Lookup, record: DmarcRecord) -> Finding:
    """A name the walk went past, while a record further up applies: several records, or one that is almost DMARC."""
    if sum(is_dmarc_record(v) for v in passed.values) > 1:
        return _several(identity, passed, (lookup, record))
    near = next(v for v in passed.values if looks_like_dmarc(v))
    why = parse_dmarc(near).problems[0].detail
    return finding(
        c.DMARC_INVALID,
        _(
            "{name} holds {found}, which receivers do not read as DMARC (a record must begin with exactly v=DMARC1): "
            "they skip it and apply {applies}'s record instead ({policy})"
        ).format(name=passed.name, found=quoted(near), applies=lookup.name, policy=_policy(record)),
        subject=f"{c.DMARC_SYNTAX_ERROR} {passed.name}",
        source="dns",
        cause=c.DMARC_SYNTAX_ERROR,
        fix_detail=_("Correct the record at {name} so that it begins with exactly v=DMARC1: {why}").format(
            name=fqdn(passed.name), why=why
        ),
    )


def _missing(identity: SesIdentity, dns: DomainDns) -> Finding:
    lookup = dns.dmarc
    assert lookup is not None
    record = DnsRecord(fqdn(f"_dmarc.{identity.domain}"), "TXT", DMARC_STARTER.format(domain=identity.domain))
    walked = ", ".join(dns.dmarc_walk) or lookup.name
    if dns.dmarc_misplaced is not None and dns.zone_apex:
        misplaced = DnsRecord(fqdn(dns.dmarc_misplaced.name), "TXT", dns.dmarc_misplaced.values[0])
        moved = DnsRecord(record.name, "TXT", quoted(dns.dmarc_misplaced.values[0], limit=10_000))
        return finding(
            c.DMARC_RECORD_MISSING,
            _(
                "no DMARC record applies to {domain}: it was published at {misplaced}, where the DNS provider appended "
                "its zone ({apex}) to a name typed in full"
            ).format(domain=identity.domain, misplaced=dns.dmarc_misplaced.name, apex=dns.zone_apex),
            source="dns",
            record=moved,
            cause=c.DOUBLED_DOMAIN,
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            more=form_text(identity, dns, cause=c.DOUBLED_DOMAIN, record=moved),
        )
    name = f"_dmarc.{identity.domain}"
    if lookup.outcome is not Outcome.ANSWER:
        observed = _("{name} has no TXT record").format(name=name)
    elif any(looks_like_dmarc(v) for v in lookup.values):
        observed = _(
            "{name} holds {found}, which is not a DMARC record: it must begin with exactly v=DMARC1 (no white space "
            "before it, DMARC1 in capitals)"
        ).format(name=name, found=quoted(" | ".join(lookup.values)))
    else:
        observed = _("{name} holds no v=DMARC1 record (found {found})").format(
            name=name, found=quoted(" | ".join(lookup.values))
        )
    return finding(
        c.DMARC_RECORD_MISSING,
        _(
            "{observed}, and no parent domain's record applies (asked {walked}): bulk-sender rules at Gmail and Yahoo "
            "require a DMARC record"
        ).format(observed=observed, walked=walked),
        source="dns",
        record=record,
        more=form_advice.served_sentence(dns.zone_apex, dns.nameservers) if dns.zone_apex else "",
    )
