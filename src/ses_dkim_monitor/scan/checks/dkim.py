"""DKIM checks: SES's view (signing on, status), the records in DNS, and the key behind them.

Each finding says what was observed and, where the failure has a known
shape, why (its cause): the provider appended its zone to a pasted name, a
TXT stands where the CNAME belongs, a target lost its trailing dot, SES saw a
failure that DNS no longer shows.
"""

from __future__ import annotations

import re

from ... import catalogue as c
from ...catalogue import finding
from ...models import DnsRecord, Finding, SesIdentity, SesStatus, Severity
from ...untrusted import quoted, shorten
from ..dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, points_elsewhere
from ..parsers import DkimKey, parse_dkim_key_record
from . import replica
from .common import form_host, fqdn, status_name

STRONG_KEY_BITS = 2048  # RFC 8301: signers SHOULD use 2048-bit RSA keys
_SEVERE_STATUSES = {SesStatus.FAILED, SesStatus.TEMPORARY_FAILURE}


def check_signing(identity: SesIdentity) -> list[Finding]:
    if identity.dkim_enabled:
        return []
    return [
        finding(
            c.DKIM_SIGNING_DISABLED,
            f"DKIM signing is disabled for {identity.name} in {identity.region}: its mail carries only "
            f"SES's own d=amazonses.com signature, which does not align with the From domain",
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
    seen = ""
    if identity.verification_error:
        when = f" at {identity.verification_checked_at}" if identity.verification_checked_at else ""
        explained = replica.explain_error(identity)
        seen = f"; SES last checked{when} and saw {identity.verification_error}" + (
            f" ({explained})" if explained else ""
        )
    message = f"SES reports DKIM status {status_name(status)} for {identity.name} in {identity.region}{seen}"
    parent = replica.parent_region(identity)
    if status in _SEVERE_STATUSES and dns is not None and records_correct(identity, dns):
        return [
            finding(
                c.DKIM_STATUS_NOT_SUCCESS,
                message + ", but every DKIM record is correct in DNS now",
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
        return (
            "Nothing to change in DNS. SES keeps re-checking for 72 hours after a temporary failure and returns "
            "to SUCCESS by itself when it finds the records; if it does not within 72 hours it turns FAILED."
        )
    parent = replica.parent_region(identity)
    if parent is not None:
        return "Nothing to change in DNS. " + replica.status_advice(identity, parent)
    if identity.is_byodkim:
        return (
            "Nothing to change in DNS, but SES stopped looking: a FAILED verification must be restarted from the "
            f"beginning. In the SES console ({identity.region}), open {identity.name} and restart DKIM verification."
        )
    return (
        "Nothing to change in DNS, but SES stopped looking: a FAILED verification must be restarted from the "
        f"beginning (SES API Reference). For Easy DKIM: aws ses verify-domain-dkim --region {identity.region} "
        f"--domain {identity.name} (it returns the identity's existing tokens: check they are the ones in DNS), "
        "then SES checks again. Do not put new signing attributes for this: that can generate new tokens."
        + replica.unless_replica(identity)
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
            found.append(_missing(identity, tok, dns.zone_apex))
        elif points_elsewhere(identity, tok):
            found.append(_wrong_target(identity, tok))
        else:
            correct.append(tok)
    if correct and len(correct) == len(dns.tokens):
        found += _easy_keys(identity, correct)
    return found


def _cname_record(identity: SesIdentity, token: str) -> DnsRecord:
    return DnsRecord(fqdn(f"{token}._domainkey.{identity.domain}"), "CNAME", fqdn(identity.dkim_target(token)))


def _missing(identity: SesIdentity, tok: DkimTokenDns, apex: str | None) -> Finding:
    lookup = tok.record
    detail = "does not exist (NXDOMAIN)" if lookup.outcome is Outcome.NXDOMAIN else "has no CNAME record"
    consequence = (
        "SES may still report DKIM as verified until its next check, then warn the account and stop signing "
        "with the domain's key"
    )
    if identity.signing_hosted_zone is None:
        return _missing_zone_unknown(identity, tok, detail, consequence)
    record = _cname_record(identity, tok.token)
    predicted = "" if identity.zone_confirmed else " (the target is predicted from the region's DKIM zone)"
    if tok.misplaced is not None and tok.misplaced.values:
        host = form_host(lookup.name, apex)
        misplaced = DnsRecord(fqdn(tok.misplaced.name), "CNAME", fqdn(tok.misplaced.values[0]))
        return finding(
            c.DKIM_RECORD_MISSING,
            f"{lookup.name} {detail}; the CNAME was published at {tok.misplaced.name} instead: the DNS provider "
            f"appended its zone ({apex}) to a name typed in full, so enter only {host} as the host. {consequence}",
            subject=tok.token,
            source="dns",
            record=record,
            cause=c.DOUBLED_DOMAIN,
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            apex=apex,
            host=host,
        )
    if tok.other is not None and tok.other.values:
        other = tok.other
        return finding(
            c.DKIM_RECORD_MISSING,
            f"{lookup.name} holds a {other.rdtype} record ({quoted(' | '.join(other.values))}) where the CNAME "
            f"belongs: receivers may even verify with it, but SES cannot, so its DKIM verification and key "
            f"rotation will fail{predicted}",
            subject=tok.token,
            source="dns",
            record=record,
            cause=c.PUBLISHED_AS_TXT,
            misplaced=DnsRecord(fqdn(lookup.name), other.rdtype, other.values[0]),
            other_type=other.rdtype,
        )
    return finding(
        c.DKIM_RECORD_MISSING,
        f"{lookup.name} {detail}{predicted}. {consequence}",
        subject=tok.token,
        source="dns",
        record=record,
    )


def _missing_zone_unknown(identity: SesIdentity, tok: DkimTokenDns, detail: str, consequence: str) -> Finding:
    """A missing CNAME whose target only SES can name (its zone is not known in this partition, and SES was
    not asked this run): reported without a record, so no fix writes a target SES did not confirm."""
    name = fqdn(tok.record.name)
    return finding(
        c.DKIM_RECORD_MISSING,
        f"{tok.record.name} {detail}; its target is {tok.token}.<the Easy DKIM zone SES names for "
        f"{identity.name}>, which SES did not confirm this run. {consequence}",
        subject=tok.token,
        source="dns",
        name=name,
        value=f"{tok.token}.<SigningHostedZone of: aws sesv2 get-email-identity --region {identity.region} "
        f"--email-identity {identity.name}>.",
    )


def _wrong_target(identity: SesIdentity, tok: DkimTokenDns) -> Finding:
    lookup = tok.record
    target, expected = lookup.values[0], identity.dkim_target(tok.token)
    zone = (identity.signing_hosted_zone or "").lower()
    cause, misplaced, why = "", None, ""
    if target.startswith(expected + "."):
        cause, why = (
            c.TARGET_MISSING_DOT,
            " (the target was typed without its trailing dot and the provider appended the zone)",
        )
        misplaced = DnsRecord(fqdn(lookup.name), "CNAME", fqdn(target))
    elif zone and target.endswith("." + zone) and target.count(".") == expected.count("."):
        cause, why = c.OTHER_TOKEN, " (another token's key: rows swapped, or the identity's previous tokens)"
    elif re.fullmatch(rf"{re.escape(tok.token)}\.dkim(\.[a-z0-9-]+)?\.amazonses\.com", target):
        cause, why = c.OTHER_REGION_ZONE, " (this token in another SES region's zone)"
    return finding(
        c.DKIM_RECORD_WRONG_TARGET,
        f"{lookup.name} is a CNAME to {shorten(target)}, expected {expected}{why}",
        subject=tok.token,
        source="dns",
        record=_cname_record(identity, tok.token),
        cause=cause,
        misplaced=misplaced,
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
            message = (
                f"the DKIM key SES signs {identity.name}'s mail with is {weakest.key_bits}-bit RSA; RFC 8301 "
                f"says signers should use 2048 bits"
            )
            parent = replica.parent_region(identity)
            if parent is not None:
                advice = replica.weak_key_advice(identity, parent)
                return [finding(c.DKIM_KEY_WEAK, message, source="dns", cause=c.REPLICA_OF_PARENT, fix_detail=advice)]
            advice = (
                f"aws sesv2 put-email-identity-dkim-signing-attributes --region {identity.region} "
                f"--email-identity {identity.name} --signing-attributes-origin AWS_SES "
                f"--signing-attributes NextSigningKeyLength=RSA_2048_BIT (SES allows one change per 24 "
                f"hours; the CNAMEs stay the same)." + replica.unless_replica(identity)
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
            f"none of the DKIM CNAME targets of {identity.domain} ({shorten(targets)}) holds a TXT record with a "
            f"usable p= public key, so receivers cannot verify the signature",
            source="dns",
            cause=cause,
            fix_detail=(
                f"The CNAMEs are right but the key behind them is missing at {identity.signing_hosted_zone}; if you "
                f"publish the CNAMEs through a resolver that rewrites answers, fix it, otherwise re-create DKIM for "
                f"{identity.name} in SES ({identity.region}) and publish the new tokens"
            ),
        )
    ]


def _byodkim_keys(tok: DkimTokenDns) -> list[DkimKey]:
    return _keys(tok.target_txt if tok.target_txt is not None else tok.record)


def check_byodkim_dns(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """Each selector's TXT (directly, or behind a CNAME) holds a valid public key, not in testing mode, 2048-bit."""
    found: list[Finding] = []
    for tok in dns.tokens:
        txt = tok.target_txt if tok.target_txt is not None else tok.record
        if txt.failed or tok.record.failed:
            continue
        name = fqdn(f"{tok.token}._domainkey.{identity.domain}")
        keys = _byodkim_keys(tok)
        usable = [k for k in keys if k.usable]
        if not usable:
            found.append(_byodkim_missing(identity, tok, txt, keys, name, dns.zone_apex))
            continue
        key = usable[0]
        if key.testing:
            found.append(
                finding(
                    c.DKIM_KEY_TESTING,
                    f"{txt.name} has t=y: receivers may treat mail whose signature fails as if it were unsigned, "
                    f"so a broken key goes unnoticed",
                    subject=tok.token,
                    source="dns",
                    name=name,
                )
            )
        if _weak(key):
            found.append(
                finding(
                    c.DKIM_KEY_WEAK,
                    f"{txt.name} publishes a {key.key_bits}-bit RSA key; RFC 8301 says signers should use 2048 bits",
                    subject=tok.token,
                    source="dns",
                    fix_detail=(
                        f"Generate a 2048-bit RSA key pair, publish its public key under a new selector of "
                        f"{identity.domain}, then give SES the private key: aws sesv2 "
                        f"put-email-identity-dkim-signing-attributes --region {identity.region} --email-identity "
                        f"{identity.name} --signing-attributes-origin EXTERNAL --signing-attributes "
                        f"DomainSigningSelector=<new selector>,DomainSigningPrivateKey=<base64 private key>"
                    ),
                )
            )
    return found


def _byodkim_missing(
    identity: SesIdentity, tok: DkimTokenDns, txt: Lookup, keys: list[DkimKey], name: str, apex: str | None
) -> Finding:
    fix = f'Publish {name} TXT "p=<base64 public key of the private key given to SES>"'
    if tok.misplaced is not None and tok.misplaced.values:
        host = form_host(name, apex)
        misplaced = DnsRecord(fqdn(tok.misplaced.name), "TXT", tok.misplaced.values[0])
        return finding(
            c.DKIM_KEY_MISSING,
            f"{txt.name} does not exist; the key record was published at {tok.misplaced.name} instead: the DNS "
            f"provider appended its zone ({apex}) to a name typed in full, so enter only {host} as the host",
            subject=tok.token,
            source="dns",
            cause=c.DOUBLED_DOMAIN,
            record=DnsRecord(name, "TXT", quoted(tok.misplaced.values[0], limit=10_000)),
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            apex=apex,
            host=host,
        )
    values = txt.values if txt.outcome is Outcome.ANSWER else ()
    cause = ""
    if keys and all(k.revoked for k in keys):
        cause = c.KEY_REVOKED
    elif keys:
        cause = c.KEY_MALFORMED
    if txt.outcome is Outcome.NXDOMAIN:
        observed = "does not exist"
    elif not values:
        observed = "has no TXT record"
    else:
        problems = "; ".join(p.detail for k in keys for p in k.problems)[:300]
        observed = f"has no usable key (found {quoted(' | '.join(values))}: {problems})"
    return finding(
        c.DKIM_KEY_MISSING,
        f"{txt.name} {observed}; bring-your-own-DKIM selector {tok.token} needs its public key there",
        subject=tok.token,
        source="dns",
        cause=cause,
        fix_detail=fix,
    )
