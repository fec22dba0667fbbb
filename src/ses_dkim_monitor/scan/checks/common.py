"""What the checks share: record names as fixes print them, and the host a web form wants."""

from __future__ import annotations

from ...models import SesStatus

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
