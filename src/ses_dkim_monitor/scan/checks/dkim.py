"""DKIM checks: SES's view (signing on, status), the records in DNS, and the key behind them.

Each finding says what was observed and, where the failure has a known
shape, why (its cause): the provider appended its zone to a pasted name, a
TXT stands where the CNAME belongs, a target lost its trailing dot, SES saw a
failure that DNS no longer shows.
"""

from __future__ import annotations

import re

from ... import catalogue as c
from ... import form_advice
from ...catalogue import finding
from ...i18n import _, sentences
from ...models import DnsRecord, Finding, SesIdentity, SesStatus, Severity
from ...untrusted import quoted, shorten
from ..dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, points_elsewhere
from ..parsers import DkimKey, parse_dkim_key_record
from . import replica
from .common import form_text, fqdn, status_name

STRONG_KEY_BITS = 2048  # RFC 8301: signers SHOULD use 2048-bit RSA keys
_SEVERE_STATUSES = {SesStatus.FAILED, SesStatus.TEMPORARY_FAILURE}


def check_signing(identity: SesIdentity) -> list[Finding]:
    if identity.dkim_enabled:
        return []
    return [
        finding(
            c.DKIM_SIGNING_DISABLED,
            _(
                "DKIM signing is disabled for {identity} in {region}: its mail carries only SES's own "
                "d=amazonses.com signature, which does not align with the From domain"
            ).format(identity=identity.name, region=identity.region),
            identity=identity.name,
            region=identity.region,
        )
    ]


def check_status(identity: SesIdentity, dns: DomainDns | None) -> list[Finding]:
    """SES's DKIM status; when it says failure but DNS is right now, say so (dns-correct-now)."""
    status = identity.dkim_status
    if status is SesStatus.SUCCESS:
        return []
    severity = Severity.CRITICAL if status in _SEVERE_STATUSES else Severity.WARNING
    message = _("SES reports DKIM status {status} for {identity} in {region}").format(
        status=status_name(status), identity=identity.name, region=identity.region
    )
    if identity.verification_error:
        error, explained = identity.verification_error, replica.explain_error(identity)
        if identity.verification_checked_at:
            seen = _("; SES last checked at {checked} and saw {error}").format(
                checked=identity.verification_checked_at, error=error
            )
        else:
            seen = _("; SES last checked and saw {error}").format(error=error)
        # TRANSLATORS: what SES's REPLICATION_* error means, after the error's name (its own sentence part).
        message += seen + (_(" ({explained})").format(explained=explained) if explained else "")
    parent = replica.parent_region(identity)
    if status in _SEVERE_STATUSES and dns is not None and records_correct(identity, dns):
        return [
            finding(
                c.DKIM_STATUS_NOT_SUCCESS,
                message + _(", but every DKIM record is correct in DNS now"),
                severity=severity,
                cause=c.DNS_CORRECT_NOW,
                fix_detail=_restart_advice(identity, status),
            )
        ]
    if parent is not None:
        return [
            finding(
                c.DKIM_STATUS_NOT_SUCCESS,
                message,
                severity=severity,
                cause=c.REPLICA_OF_PARENT,
                fix_detail=replica.status_advice(identity, parent),
            )
        ]
    return [
        finding(c.DKIM_STATUS_NOT_SUCCESS, message, severity=severity, identity=identity.name, region=identity.region)
    ]


def _restart_advice(identity: SesIdentity, status: SesStatus | None) -> str:
    if status is SesStatus.TEMPORARY_FAILURE:
        return _(
            "Nothing to change in DNS. SES keeps re-checking for 72 hours after a temporary failure and returns "
            "to SUCCESS by itself when it finds the records; if it does not within 72 hours it turns FAILED."
        )
    parent = replica.parent_region(identity)
    if parent is not None:
        return sentences(_("Nothing to change in DNS."), replica.status_advice(identity, parent))
    if identity.is_byodkim:
        return _(
            "Nothing to change in DNS, but SES stopped looking: a FAILED verification must be restarted from the "
            "beginning. In the SES console ({region}), open {identity} and restart DKIM verification."
        ).format(region=identity.region, identity=identity.name)
    return sentences(
        _(
            "Nothing to change in DNS, but SES stopped looking: a FAILED verification must be restarted from the "
            "beginning (SES API Reference). For Easy DKIM: aws ses verify-domain-dkim --region {region} "
            "--domain {identity} (it returns the identity's existing tokens: check they are the ones in DNS), "
            "then SES checks again. Do not put new signing attributes for this: that can generate new tokens."
        ).format(region=identity.region, identity=identity.name),
        replica.unless_replica(identity),
    )


def records_correct(identity: SesIdentity, dns: DomainDns) -> bool:
    """Every DKIM record is where it belongs, points where it must, and a usable key is behind them."""
    if not dns.tokens:
        return False
    if identity.is_byodkim:
        return all(_usable(_byodkim_keys(tok)) for tok in dns.tokens)
    if any(tok.record.outcome is not Outcome.ANSWER or points_elsewhere(identity, tok) for tok in dns.tokens):
        return False
    return _usable([k for tok in dns.tokens for k in _keys(tok.target_txt)])


def check_easy_dkim_dns(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """Each token's CNAME exists and points at ``<token>.<SigningHostedZone>``, and a key is behind them."""
    found: list[Finding] = []
    correct: list[DkimTokenDns] = []
    for tok in dns.tokens:
        if tok.record.failed:
            continue  # reported once per identity as dns-lookup-failed
        if tok.record.absent:
            found.append(_missing(identity, tok, dns))
        elif points_elsewhere(identity, tok):
            found.append(_wrong_target(identity, tok, dns))
        else:
            correct.append(tok)
    if correct and len(correct) == len(dns.tokens):
        found += _easy_keys(identity, correct)
    return found


def _cname_record(identity: SesIdentity, token: str) -> DnsRecord:
    return DnsRecord(fqdn(f"{token}._domainkey.{identity.domain}"), "CNAME", fqdn(identity.dkim_target(token)))


def _missing(identity: SesIdentity, tok: DkimTokenDns, dns: DomainDns) -> Finding:
    lookup, apex = tok.record, dns.zone_apex
    if lookup.outcome is Outcome.NXDOMAIN:
        detail = _("{name} does not exist (NXDOMAIN)").format(name=lookup.name)
    else:
        detail = _("{name} has no CNAME record").format(name=lookup.name)
    consequence = _(
        "SES may still report DKIM as verified until its next check, then warn the account and stop signing "
        "with the domain's key."
    )
    if identity.signing_hosted_zone is None:
        return _missing_zone_unknown(identity, tok, detail, consequence)
    record = _cname_record(identity, tok.token)
    predicted = "" if identity.zone_confirmed else _(" (the target is predicted from the region's DKIM zone)")
    served = form_advice.served_sentence(apex, dns.nameservers) if apex else ""
    if tok.misplaced is not None and tok.misplaced.values and apex:
        misplaced = DnsRecord(fqdn(tok.misplaced.name), "CNAME", fqdn(tok.misplaced.values[0]))
        message = _(
            "{detail}; the CNAME was published at {misplaced} instead: the DNS provider appended its zone ({apex}) "
            "to a name typed in full."
        ).format(detail=detail, misplaced=tok.misplaced.name, apex=apex)
        return finding(
            c.DKIM_RECORD_MISSING,
            sentences(message, consequence),
            subject=tok.token,
            source="dns",
            record=record,
            cause=c.DOUBLED_DOMAIN,
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            more=form_text(identity, dns, cause=c.DOUBLED_DOMAIN, record=record),
        )
    if tok.other is not None and tok.other.values:
        other = tok.other
        message = _(
            "{name} holds a {other_type} record ({found}) where the CNAME belongs: receivers may even verify with "
            "it, but SES cannot, so its DKIM verification and key rotation will fail{predicted}."
        ).format(name=lookup.name, other_type=other.rdtype, found=quoted(" | ".join(other.values)), predicted=predicted)
        return finding(
            c.DKIM_RECORD_MISSING,
            message,
            subject=tok.token,
            source="dns",
            record=record,
            cause=c.PUBLISHED_AS_TXT,
            misplaced=DnsRecord(fqdn(lookup.name), other.rdtype, other.values[0]),
            other_type=other.rdtype,
            more=served,
        )
    return finding(
        c.DKIM_RECORD_MISSING,
        # TRANSLATORS: the full stop that ends the sentence "<name> does not exist (NXDOMAIN)".
        sentences(detail + predicted + _("."), consequence),
        subject=tok.token,
        source="dns",
        record=record,
        more=served,
    )


def _missing_zone_unknown(identity: SesIdentity, tok: DkimTokenDns, detail: str, consequence: str) -> Finding:
    """A missing CNAME whose target only SES can name (its zone is not known in this partition, and SES was
    not asked this run): reported without a record, so no fix writes a target SES did not confirm."""
    name = fqdn(tok.record.name)
    message = _(
        "{detail}; its target is {token}.<the Easy DKIM zone SES names for {identity}>, which SES did not confirm "
        "this run."
    ).format(detail=detail, token=tok.token, identity=identity.name)
    return finding(
        c.DKIM_RECORD_MISSING,
        sentences(message, consequence),
        subject=tok.token,
        source="dns",
        name=name,
        value=f"{tok.token}.<SigningHostedZone of: aws sesv2 get-email-identity --region {identity.region} "
        f"--email-identity {identity.name}>.",
        served="",
    )


def _wrong_target(identity: SesIdentity, tok: DkimTokenDns, dns: DomainDns) -> Finding:
    lookup = tok.record
    target, expected = lookup.values[0], identity.dkim_target(tok.token)
    zone = (identity.signing_hosted_zone or "").lower()
    cause, misplaced, why, form = "", None, "", ""
    record = _cname_record(identity, tok.token)
    if target.startswith(expected + "."):
        cause = c.TARGET_MISSING_DOT
        why = _(" (the target was typed without its trailing dot and the provider appended the zone)")
        misplaced = DnsRecord(fqdn(lookup.name), "CNAME", fqdn(target))
        form = form_text(identity, dns, cause=cause, record=record)
    elif zone and target.endswith("." + zone) and target.count(".") == expected.count("."):
        cause, why = c.OTHER_TOKEN, _(" (another token's key: rows swapped, or the identity's previous tokens)")
    elif re.fullmatch(rf"{re.escape(tok.token)}\.dkim(\.[a-z0-9-]+)?\.amazonses\.com", target):
        cause, why = c.OTHER_REGION_ZONE, _(" (this token in another SES region's zone)")
    served = form_advice.served_sentence(dns.zone_apex, dns.nameservers) if dns.zone_apex else ""
    return finding(
        c.DKIM_RECORD_WRONG_TARGET,
        _("{name} is a CNAME to {target}, expected {expected}{why}").format(
            name=lookup.name, target=shorten(target), expected=expected, why=why
        ),
        subject=tok.token,
        source="dns",
        record=record,
        cause=cause,
        misplaced=misplaced,
        more=form or served,
    )


def _keys(txt: Lookup | None) -> list[DkimKey]:
    if txt is None or txt.outcome is not Outcome.ANSWER:
        return []
    return [parse_dkim_key_record(v) for v in txt.values]


def _usable(keys: list[DkimKey]) -> bool:
    return any(k.usable for k in keys)


def _weak(key: DkimKey) -> bool:
    """An RSA key under 2048 bits (RFC 8301). An Ed25519 key (RFC 8463) is 256 bits by design, never weak."""
    return key.key_type == "rsa" and (key.key_bits or 0) < STRONG_KEY_BITS


def _easy_keys(identity: SesIdentity, correct: list[DkimTokenDns]) -> list[Finding]:
    txts = [tok.target_txt for tok in correct if tok.target_txt is not None]
    if any(txt.failed for txt in txts):
        return []  # cannot tell; dns-lookup-failed covers it
    keys = [k for txt in txts for k in _keys(txt)]
    usable = [k for k in keys if k.usable]
    if usable:
        # Two of three targets hold an empty key during rotation: that is normal, the one key is what signs.
        weakest = min(usable, key=lambda k: k.key_bits or 0)
        if _weak(weakest):
            message = _(
                "the DKIM key SES signs {identity}'s mail with is {bits}-bit RSA; RFC 8301 says signers should use "
                "2048 bits"
            ).format(identity=identity.name, bits=weakest.key_bits)
            parent = replica.parent_region(identity)
            if parent is not None:
                advice = replica.weak_key_advice(identity, parent)
                return [finding(c.DKIM_KEY_WEAK, message, source="dns", cause=c.REPLICA_OF_PARENT, fix_detail=advice)]
            advice = sentences(
                _(
                    "aws sesv2 put-email-identity-dkim-signing-attributes --region {region} --email-identity "
                    "{identity} --signing-attributes-origin AWS_SES --signing-attributes "
                    "NextSigningKeyLength=RSA_2048_BIT (SES allows one change per 24 hours; the CNAMEs stay the same)."
                ).format(region=identity.region, identity=identity.name),
                replica.unless_replica(identity),
            )
            return [finding(c.DKIM_KEY_WEAK, message, source="dns", fix_detail=advice)]
        return []
    targets = ", ".join(sorted(tok.record.values[0] for tok in correct))
    cause = ""
    if keys and all(k.revoked for k in keys):
        cause = c.KEY_REVOKED
    elif any(not k.revoked and k.public_key for k in keys):
        cause = c.KEY_MALFORMED
    return [
        finding(
            c.DKIM_KEY_MISSING,
            _(
                "none of the DKIM CNAME targets of {domain} ({targets}) holds a TXT record with a usable p= public "
                "key, so receivers cannot verify the signature"
            ).format(domain=identity.domain, targets=shorten(targets)),
            source="dns",
            cause=cause,
            fix_detail=_(
                "The CNAMEs are right but the key behind them is missing at {zone}; if you publish the CNAMEs through "
                "a resolver that rewrites answers, fix it, otherwise re-create DKIM for {identity} in SES ({region}) "
                "and publish the new tokens"
            ).format(zone=identity.signing_hosted_zone, identity=identity.name, region=identity.region),
        )
    ]


def _byodkim_keys(tok: DkimTokenDns) -> list[DkimKey]:
    return _keys(tok.target_txt if tok.target_txt is not None else tok.record)
