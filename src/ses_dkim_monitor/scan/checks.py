"""The checks: pure functions from what SES and DNS said to findings.

No boto3, no sockets. Each function looks at one aspect and returns the
findings for it; ``evaluate`` runs them all for one identity and decides its
status. Messages name the record and what was observed; fixes come from the
catalogue so they are the exact record to publish.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import catalogue as c
from ..catalogue import finding
from ..models import (
    DnsRecord,
    Finding,
    IdentityReport,
    IdentityStatus,
    IdentityType,
    SesIdentity,
    SesStatus,
    Severity,
    domain_and_parents,
)
from ..untrusted import quoted, shorten
from .dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, points_elsewhere
from .parsers import is_dmarc_record, parse_dkim_key, spf_authorises_ses, spf_records

DMARC_STARTER = '"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
SPF_FOR_SES = '"v=spf1 include:amazonses.com ~all"'
_SEVERE_STATUSES = {SesStatus.FAILED, SesStatus.TEMPORARY_FAILURE}


def _fqdn(name: str) -> str:
    return name.rstrip(".") + "."


def _status_name(status: SesStatus | None) -> str:
    return status.value if status else "unknown"


def check_verification(identity: SesIdentity) -> list[Finding]:
    status = identity.verification_status
    if status is SesStatus.SUCCESS and identity.sending_enabled:
        return []
    if status is SesStatus.SUCCESS:
        message = f"{identity.name} is verified but SES reports it is not enabled for sending in {identity.region}"
        severity = Severity.CRITICAL
    else:
        message = f"{identity.name} verification status is {_status_name(status)} in {identity.region}"
        severity = Severity.WARNING if status in (SesStatus.PENDING, SesStatus.NOT_STARTED) else Severity.CRITICAL
    return [
        finding(c.IDENTITY_NOT_VERIFIED, message, severity=severity, identity=identity.name, region=identity.region)
    ]


def check_dkim_settings(identity: SesIdentity) -> list[Finding]:
    found: list[Finding] = []
    if not identity.dkim_enabled:
        found.append(
            finding(
                c.DKIM_SIGNING_DISABLED,
                f"DKIM signing is disabled for {identity.name} in {identity.region}: its mail carries only "
                f"SES's own d=amazonses.com signature, which does not align with the From domain",
                identity=identity.name,
                region=identity.region,
            )
        )
    status = identity.dkim_status
    if status is not SesStatus.SUCCESS:
        severity = Severity.CRITICAL if status in _SEVERE_STATUSES else Severity.WARNING
        found.append(
            finding(
                c.DKIM_STATUS_NOT_SUCCESS,
                f"SES reports DKIM status {_status_name(status)} for {identity.name} in {identity.region}",
                severity=severity,
                identity=identity.name,
                region=identity.region,
            )
        )
    return found


def _relevant_lookups(identity: SesIdentity, dns: DomainDns) -> list[Lookup]:
    """The lookups whose failure leaves a question open.

    The TXT behind a CNAME that already points at the wrong target is not
    one: the wrong target is reported whatever that TXT says.
    """
    found: list[Lookup] = []
    for tok in dns.tokens:
        found.append(tok.record)
        if tok.target_txt is None:
            continue
        if not points_elsewhere(identity, tok):
            found.append(tok.target_txt)
    found.extend(x for x in (dns.dmarc, dns.mail_from_mx, dns.mail_from_txt) if x is not None)
    return found


def _cname_record(identity: SesIdentity, token: str) -> DnsRecord:
    return DnsRecord(
        name=_fqdn(f"{token}._domainkey.{identity.domain}"), type="CNAME", value=_fqdn(identity.dkim_target(token))
    )


def check_easy_dkim_dns(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """Each token's CNAME exists and points at ``<token>.<SigningHostedZone>``, and a key is behind them."""
    zone = identity.signing_hosted_zone or ""
    domain = identity.domain
    found: list[Finding] = []
    targets_ok: list[DkimTokenDns] = []
    for tok in dns.tokens:
        record = _cname_record(identity, tok.token)
        expected = identity.dkim_target(tok.token)
        lookup = tok.record
        if lookup.failed:
            continue  # reported once per identity as dns-lookup-failed
        if lookup.absent:
            detail = "does not exist (NXDOMAIN)" if lookup.outcome is Outcome.NXDOMAIN else "has no CNAME record"
            misplaced = tok.misplaced
            if misplaced is not None and misplaced.outcome is Outcome.ANSWER:
                provider_zone = misplaced.name[len(lookup.name) + 1 :]
                host = (
                    lookup.name[: -len(provider_zone) - 1] if lookup.name.endswith("." + provider_zone) else lookup.name
                )
                detail += (
                    f"; the CNAME was published at {misplaced.name} instead: the DNS provider appended "
                    f"its zone name to the host name, so enter only {host} as the host"
                )
            found.append(
                finding(
                    c.DKIM_RECORD_MISSING,
                    f"{lookup.name} {detail}. SES may still report DKIM as verified until its next check, "
                    f"then warn the account and stop signing with the domain's key",
                    subject=tok.token,
                    source="dns",
                    record=record,
                )
            )
            continue
        if points_elsewhere(identity, tok):
            target = lookup.values[0]
            hint = ""
            if target.startswith(expected + "."):
                hint = " (the target was entered without a trailing dot and the provider appended the zone)"
            found.append(
                finding(
                    c.DKIM_RECORD_WRONG_TARGET,
                    f"{lookup.name} is a CNAME to {shorten(target)}, expected {expected}{hint}",
                    subject=tok.token,
                    source="dns",
                    record=record,
                )
            )
            continue
        targets_ok.append(tok)

    if targets_ok and len(targets_ok) == len(dns.tokens):
        txts = [tok.target_txt for tok in targets_ok if tok.target_txt is not None]
        if any(txt.failed for txt in txts):
            return found  # cannot tell; dns-lookup-failed covers it
        if not any(parse_dkim_key(v) for txt in txts for v in txt.values):
            targets = ", ".join(sorted(tok.record.values[0] for tok in targets_ok))
            found.append(
                finding(
                    c.DKIM_KEY_MISSING,
                    f"none of the DKIM CNAME targets of {domain} ({shorten(targets)}) holds a TXT record with a "
                    f"non-empty p= public key, so receivers cannot verify the signature",
                    source="dns",
                    fix_detail=(
                        f"The CNAMEs are right but the key behind them is missing at {zone}; if you "
                        f"publish the CNAMEs through a resolver that rewrites answers, fix it, otherwise "
                        f"re-create DKIM for {identity.name} in SES ({identity.region}) and publish the new tokens"
                    ),
                )
            )
    return found


def check_byodkim_dns(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """The selector's TXT (directly, or behind a CNAME) holds a parsable public key."""
    found: list[Finding] = []
    for tok in dns.tokens:
        txt = tok.target_txt if tok.target_txt is not None else tok.record
        if txt.failed or tok.record.failed:
            continue
        values = txt.values if txt.outcome is Outcome.ANSWER else ()
        if any(parse_dkim_key(v) for v in values):
            continue
        observed = (
            "does not exist"
            if txt.outcome is Outcome.NXDOMAIN
            else "has no TXT record"
            if not values
            else f"has no usable p= key (found {quoted(' | '.join(values))})"
        )
        name = _fqdn(f"{tok.token}._domainkey.{identity.domain}")
        found.append(
            finding(
                c.DKIM_KEY_MISSING,
                f"{txt.name} {observed}; bring-your-own-DKIM selector {tok.token} needs its public key there",
                subject=tok.token,
                source="dns",
                fix_detail=f'Publish {name} TXT "p=<base64 public key of the private key given to SES>"',
            )
        )
    return found


def check_dmarc(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    lookup = dns.dmarc
    if lookup is None or lookup.failed:
        return []
    if lookup.outcome is Outcome.ANSWER and any(is_dmarc_record(v) for v in lookup.values):
        return []
    observed = (
        f"holds no v=DMARC1 record (found {quoted(' | '.join(lookup.values))})"
        if lookup.outcome is Outcome.ANSWER
        else "has no TXT record"
    )
    record = DnsRecord(
        name=_fqdn(f"_dmarc.{identity.domain}"), type="TXT", value=DMARC_STARTER.format(domain=identity.domain)
    )
    return [
        finding(
            c.DMARC_RECORD_MISSING,
            f"_dmarc.{identity.domain} (nor a parent domain's) {observed}: bulk-sender rules at Gmail and Yahoo "
            f"require a DMARC record",
            source="dns",
            record=record,
        )
    ]


def check_mail_from(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    mail_from = identity.mail_from
    if mail_from is None:
        return []
    feedback = f"10 feedback-smtp.{identity.region}.amazonses.com"
    found: list[Finding] = []
    if mail_from.status is not SesStatus.SUCCESS:
        fallback = (
            " and BehaviorOnMxFailure=USE_DEFAULT_VALUE silently sends from amazonses.com instead"
            if (mail_from.behavior_on_mx_failure or "").lower() in ("usedefaultvalue", "use_default_value")
            else ""
        )
        found.append(
            finding(
                c.MAIL_FROM_NOT_SUCCESS,
                f"custom MAIL FROM domain {mail_from.domain} of {identity.name} has status "
                f"{_status_name(mail_from.status)}{fallback}",
                mail_from=mail_from.domain,
                name=_fqdn(mail_from.domain),
                value=feedback,
            )
        )
    if dns is None:
        return found
    mx, txt = dns.mail_from_mx, dns.mail_from_txt
    if mx is not None and mx.absent:
        found.append(
            finding(
                c.MAIL_FROM_RECORD_MISSING,
                f"MAIL FROM domain {mail_from.domain} has no MX record, so SES cannot use it",
                subject="MX",
                source="dns",
                record=DnsRecord(_fqdn(mail_from.domain), "MX", feedback),
            )
        )
    if txt is not None and not txt.failed:
        spf = spf_records(txt.values) if txt.outcome is Outcome.ANSWER else []
        if not any(spf_authorises_ses(v) for v in spf):
            observed = f"its SPF record is {quoted(spf[0])}" if spf else "it has no SPF record"
            found.append(
                finding(
                    c.MAIL_FROM_RECORD_MISSING,
                    f"MAIL FROM domain {mail_from.domain} does not authorise SES: {observed}",
                    subject="TXT",
                    source="dns",
                    record=DnsRecord(_fqdn(mail_from.domain), "TXT", SPF_FOR_SES),
                )
            )
    return found


def check_email_identity_domain(identity: SesIdentity, domains: Mapping[str, SesIdentity]) -> list[Finding]:
    """An address needs a DKIM-enabled, DKIM-verified domain identity (its domain or a parent)."""
    seen = [domains[c] for c in domain_and_parents(identity.domain) if c in domains]
    if any(d.dkim_enabled and d.dkim_status is SesStatus.SUCCESS for d in seen):
        return []
    if seen:
        states = "; ".join(
            f"{d.name} has DKIM signing {'on' if d.dkim_enabled else 'off'} and status {_status_name(d.dkim_status)}"
            for d in seen
        )
        observed = f"no domain identity for it is DKIM-enabled and verified ({states})"
    else:
        observed = f"there is no domain identity for {identity.domain} or a parent domain"
    return [
        finding(
            c.EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
            f"{identity.name} is an email-address identity in {identity.region} and {observed}: its mail carries "
            f"only SES's d=amazonses.com signature, which fails DMARC alignment (Google Workspace groups hold such "
            f"mail as suspected spam)",
            domain=identity.domain,
            region=identity.region,
        )
    ]


def check_lookups(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    failed = [lk for lk in _relevant_lookups(identity, dns) if lk.failed] if dns else []
    if not failed:
        return []
    shown = ", ".join(f"{lk.name} {lk.rdtype} ({lk.error})" for lk in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    return [
        finding(
            c.DNS_LOOKUP_FAILED,
            f"{len(failed)} DNS lookup(s) for {identity.domain} failed: {shown}{more}; "
            f"its records could not be checked this run",
            source="dns",
            domain=identity.domain,
            error=failed[0].error or "unknown error",
        )
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
        findings += check_dkim_settings(identity)
        if dns is not None:
            findings += (check_byodkim_dns if identity.is_byodkim else check_easy_dkim_dns)(identity, dns)
            findings += check_dmarc(identity, dns)
        findings += check_mail_from(identity, dns)
        findings += check_lookups(identity, dns)
    if any(f.check == c.DNS_LOOKUP_FAILED for f in findings):
        status = IdentityStatus.UNKNOWN
    elif any(f.severity.at_least(Severity.WARNING) for f in findings):
        status = IdentityStatus.PROBLEM
    else:
        status = IdentityStatus.OK
    findings.sort(key=lambda f: (-f.severity.rank, f.check, f.subject))
    return IdentityReport(identity=identity, status=status, findings=tuple(findings))
