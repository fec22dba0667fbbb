"""What the checks share: record names as fixes print them, and the host a web form wants."""

from __future__ import annotations

from ... import form_advice
from ...i18n import _, sentences
from ...models import DnsRecord, SesIdentity, SesStatus
from ..dns_answers import DomainDns

DMARC_STARTER = '"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
SPF_FOR_SES = '"v=spf1 include:amazonses.com ~all"'


def fqdn(name: str) -> str:
    """An absolute name, as a fix names it: with its trailing dot."""
    return name.rstrip(".") + "."


def status_name(status: SesStatus | None) -> str:
    return status.value if status else "unknown"


def form_host(name: str, apex: str | None) -> str:
    """``name`` as a DNS provider's web form that appends the zone wants it typed.

    ``abc._domainkey.example.com`` in zone ``example.com`` is ``abc._domainkey``;
    for a subdomain identity, ``abc._domainkey.mail``; the apex itself is ``@``.
    Typing the full name into such a form is what produces the doubled name.
    """
    bare = name.rstrip(".").lower()
    if not apex:
        return bare
    apex = apex.rstrip(".").lower()
    if bare == apex:
        return "@"
    return bare[: -len(apex) - 1] if bare.endswith("." + apex) else bare


def form_text(identity: SesIdentity, dns: DomainDns, *, cause: str, record: DnsRecord) -> str:
    """For a record a provider's form got wrong: what to type in that form, who serves the zone, its conventions."""
    apex = dns.zone_apex
    if not apex:
        return _(
            "Type the target with its trailing dot (or, in a form that appends the zone to targets, choose its "
            "'fully qualified' option), or the provider appends the zone again."
        )
    provider = form_advice.served(dns.nameservers)
    known = provider.provider if provider else None
    typed = {"name": record.name, "zone": apex, "rtype": record.type, "value": record.value}
    return sentences(
        form_advice.repair_sentence(known, cause=cause, **typed),
        form_advice.served_sentence(apex, dns.nameservers),
        form_advice.conventions_sentence(known, cause=cause, identity=identity.name, **typed),
    )
