"""Bring-your-own-DKIM selectors: each selector's TXT (directly, or behind a CNAME) holds a valid public key,
not in testing mode, of 2048 bits; a key published at the doubled name is said, with what to type in the form."""

from __future__ import annotations

from ... import catalogue as c
from ...catalogue import finding
from ...i18n import _, joined
from ...models import DnsRecord, Finding, SesIdentity
from ...untrusted import quoted
from ..dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome
from ..parsers import DkimKey
from .common import form_text, fqdn
from .dkim import _byodkim_keys, _weak


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
            found.append(_byodkim_missing(identity, tok, txt, keys, name, dns))
            continue
        key = usable[0]
        if key.testing:
            found.append(
                finding(
                    c.DKIM_KEY_TESTING,
                    _(
                        "{name} has t=y: receivers may treat mail whose signature fails as if it were unsigned, so a "
                        "broken key goes unnoticed"
                    ).format(name=txt.name),
                    subject=tok.token,
                    source="dns",
                    name=name,
                )
            )
        if _weak(key):
            found.append(
                finding(
                    c.DKIM_KEY_WEAK,
                    _("{name} publishes a {bits}-bit RSA key; RFC 8301 says signers should use 2048 bits").format(
                        name=txt.name, bits=key.key_bits
                    ),
                    subject=tok.token,
                    source="dns",
                    fix_detail=_(
                        "Generate a 2048-bit RSA key pair, publish its public key under a new selector of {domain}, "
                        "then give SES the private key: aws sesv2 put-email-identity-dkim-signing-attributes "
                        "--region {region} --email-identity {identity} --signing-attributes-origin EXTERNAL "
                        "--signing-attributes DomainSigningSelector=<new selector>,DomainSigningPrivateKey=<base64 "
                        "private key>"
                    ).format(domain=identity.domain, region=identity.region, identity=identity.name),
                )
            )
    return found


def _byodkim_missing(
    identity: SesIdentity, tok: DkimTokenDns, txt: Lookup, keys: list[DkimKey], name: str, dns: DomainDns
) -> Finding:
    apex = dns.zone_apex
    fix = _('Publish {name} TXT "p=<base64 public key of the private key given to SES>"').format(name=name)
    if tok.misplaced is not None and tok.misplaced.values and apex:
        misplaced = DnsRecord(fqdn(tok.misplaced.name), "TXT", tok.misplaced.values[0])
        record = DnsRecord(name, "TXT", quoted(tok.misplaced.values[0], limit=10_000))
        return finding(
            c.DKIM_KEY_MISSING,
            _(
                "{name} does not exist; the key record was published at {misplaced} instead: the DNS provider "
                "appended its zone ({apex}) to a name typed in full"
            ).format(name=txt.name, misplaced=tok.misplaced.name, apex=apex),
            subject=tok.token,
            source="dns",
            cause=c.DOUBLED_DOMAIN,
            record=record,
            misplaced=misplaced,
            misplaced_name=misplaced.name,
            more=form_text(identity, dns, cause=c.DOUBLED_DOMAIN, record=record),
        )
    values = txt.values if txt.outcome is Outcome.ANSWER else ()
    cause = ""
    if keys and all(k.revoked for k in keys):
        cause = c.KEY_REVOKED
    elif keys:
        cause = c.KEY_MALFORMED
    if txt.outcome is Outcome.NXDOMAIN:
        observed = _("{name} does not exist").format(name=txt.name)
    elif not values:
        observed = _("{name} has no TXT record").format(name=txt.name)
    else:
        problems = joined(p.detail for k in keys for p in k.problems)[:300]
        observed = _("{name} has no usable key (found {found}: {problems})").format(
            name=txt.name, found=quoted(" | ".join(values)), problems=problems
        )
    return finding(
        c.DKIM_KEY_MISSING,
        _("{observed}; bring-your-own-DKIM selector {selector} needs its public key there").format(
            observed=observed, selector=tok.token
        ),
        subject=tok.token,
        source="dns",
        cause=cause,
        fix_detail=fix,
    )
