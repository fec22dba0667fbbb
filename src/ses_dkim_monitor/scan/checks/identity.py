"""Checks about the identity as a whole: verified for sending, covered by a DKIM domain, and checkable at all."""

from __future__ import annotations

from collections.abc import Mapping

from ... import catalogue as c
from ...catalogue import finding
from ...i18n import _
from ...models import Finding, IdentityReport, IdentityStatus, SesIdentity, SesStatus, Severity, domain_and_parents
from ..dns_answers import DomainDns, Lookup, Outcome, points_elsewhere
from .common import status_name


def check_verification(identity: SesIdentity) -> list[Finding]:
    status = identity.verification_status
    if status is SesStatus.SUCCESS and identity.sending_enabled:
        return []
    if status is SesStatus.SUCCESS:
        message = _("{identity} is verified but SES reports it is not enabled for sending in {region}").format(
            identity=identity.name, region=identity.region
        )
        severity = Severity.CRITICAL
    else:
        message = _("{identity} verification status is {status} in {region}").format(
            identity=identity.name, status=status_name(status), region=identity.region
        )
        severity = Severity.WARNING if status in (SesStatus.PENDING, SesStatus.NOT_STARTED) else Severity.CRITICAL
    return [
        finding(c.IDENTITY_NOT_VERIFIED, message, severity=severity, identity=identity.name, region=identity.region)
    ]


def check_email_identity_domain(identity: SesIdentity, domains: Mapping[str, SesIdentity]) -> list[Finding]:
    """An address needs a DKIM-enabled, DKIM-verified domain identity (its domain or a parent)."""
    seen = [domains[d] for d in domain_and_parents(identity.domain) if d in domains]
    if any(d.dkim_enabled and d.dkim_status is SesStatus.SUCCESS for d in seen):
        return []
    if seen:
        states = "; ".join(
            (
                _("{domain} has DKIM signing on and status {status}")
                if d.dkim_enabled
                else _("{domain} has DKIM signing off and status {status}")
            ).format(domain=d.name, status=status_name(d.dkim_status))
            for d in seen
        )
        observed = _("no domain identity for it is DKIM-enabled and verified ({states})").format(states=states)
    else:
        observed = _("there is no domain identity for {domain} or a parent domain").format(domain=identity.domain)
    return [
        finding(
            c.EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
            _(
                "{identity} is an email-address identity in {region} and {observed}: its mail carries only SES's "
                "d=amazonses.com signature, which fails DMARC alignment (Google Workspace groups hold such mail as "
                "suspected spam)"
            ).format(identity=identity.name, region=identity.region, observed=observed),
            domain=identity.domain,
            region=identity.region,
        )
    ]


def relevant_lookups(identity: SesIdentity, dns: DomainDns) -> list[Lookup]:
    """The lookups whose failure leaves a question open.

    The TXT behind a CNAME that already points at the wrong target is not
    one: the wrong target is reported whatever that TXT says. An SPF include
    that could not be read leaves the lookup count unknown; an authoritative
    server that did not answer leaves the nameserver check unknown.
    """
    found: list[Lookup] = []
    for tok in dns.tokens:
        found.append(tok.record)
        if tok.target_txt is not None and not points_elsewhere(identity, tok):
            found.append(tok.target_txt)
    found.extend(x for x in (dns.dmarc, dns.mail_from_mx, dns.mail_from_txt) if x is not None)
    if dns.spf is not None:
        found.extend(dns.spf.failed)
    found.extend(
        Lookup(a.name, f"CNAME @{a.server}", Outcome.FAILED, error=f"{a.address}: {a.error}")
        for a in dns.servers
        if a.outcome is Outcome.FAILED
    )
    return found


def check_lookups(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    failed = [lk for lk in relevant_lookups(identity, dns) if lk.failed] if dns else []
    if not failed:
        return []
    shown = ", ".join(f"{lk.name} {lk.rdtype} ({lk.error})" for lk in failed[:3])
    more = _(" and {count} more").format(count=len(failed) - 3) if len(failed) > 3 else ""
    return [
        finding(
            c.DNS_LOOKUP_FAILED,
            _(
                "{count} DNS lookup(s) for {domain} failed: {shown}{more}; its records could not be checked this run"
            ).format(count=len(failed), domain=identity.domain, shown=shown, more=more),
            source="dns",
            domain=identity.domain,
            error=failed[0].error or _("unknown error"),
        )
    ]


def not_checked(ident: SesIdentity, cause: str) -> IdentityReport:
    """An identity the run could not finish: ``unknown``, saying why."""
    if cause == c.OUT_OF_TIME:
        message = _("{identity} ({region}) was not checked: the run reached its time budget first")
        remedy = _("give the function more time, or let it fan out (SHARDS_PER_INVOCATION, docs/deploy.md)")
    elif cause == c.DETAIL_UNFETCHED:
        message = _(
            "{identity} ({region}) was left out of SES's batch answer (GetIdentityDkimAttributes) and SES was not "
            "asked about it (GetEmailIdentity) because the run's cap of such calls was reached"
        )
        remedy = _("raise MAX_IDENTITY_DETAILS; each answer is remembered, so later runs need fewer")
    else:
        zone = ident.signing_hosted_zone
        if zone:
            message = _(
                "a DKIM CNAME of {identity} ({region}) points outside the predicted signing zone ({zone}); SES was "
                "not asked for the real zone because its cap of GetEmailIdentity calls this run was reached"
            )
        else:
            message = _(
                "a DKIM CNAME of {identity} ({region}) points outside any zone known without asking SES; SES was not "
                "asked for the real zone because its cap of GetEmailIdentity calls this run was reached"
            )
        remedy = _("raise MAX_ZONE_CONFIRMATIONS; each confirmation is remembered, so later runs need fewer")
    message = message.format(identity=ident.name, region=ident.region, zone=ident.signing_hosted_zone)
    f = finding(c.IDENTITY_NOT_CHECKED, message, cause=cause, identity=ident.name, remedy=remedy)
    return IdentityReport(identity=ident, status=IdentityStatus.UNKNOWN, findings=(f,))


def detail_unfetched(ident: SesIdentity, cap: int) -> Finding:
    """The note on an identity judged from the batch answers alone: SES was not asked for the rest this run."""
    shown = f"DKIM {status_name(ident.dkim_status)}" if ident.dkim_status else _("no DKIM status")
    shown = shown.replace("NOT_STARTED", "NotStarted")
    tokens = _("{count} token(s)").format(count=len(ident.dkim_tokens)) if ident.dkim_tokens else _("no tokens")
    return finding(
        c.IDENTITY_NOT_CHECKED,
        _(
            "{identity} ({region}) was judged from SES's batch answers alone ({shown}, {tokens}: a domain verified the "
            "legacy way by TXT, or one that signs with its own key, look like this): GetEmailIdentity, which tells "
            "them apart, was not called for it this run, as the cap of {cap} such calls per shard was reached; each "
            "answer is remembered, so a later run reads it"
        ).format(identity=ident.name, region=ident.region, shown=shown, tokens=tokens, cap=cap),
        severity=Severity.INFO,
        cause=c.DETAIL_UNFETCHED,
        identity=ident.name,
        remedy=_("raise MAX_IDENTITY_DETAILS; each answer is remembered, so later runs need fewer"),
    )
