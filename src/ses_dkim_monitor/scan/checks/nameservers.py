"""The zone's authoritative servers must agree on the DKIM records."""

from __future__ import annotations

from ... import catalogue as c
from ...catalogue import finding
from ...i18n import _
from ...models import Finding, SesIdentity
from ...untrusted import shorten
from ..dns_answers import DomainDns, Outcome, ServerAnswer


def _said(answer: ServerAnswer) -> str:
    if answer.outcome is Outcome.ANSWER and not answer.values and answer.cname:
        return _("answers CNAME {target}").format(target=shorten(answer.cname, 80))
    if answer.outcome is Outcome.ANSWER:
        return _("answers {value}").format(value=shorten(" | ".join(answer.values), 80))
    return _("answers NXDOMAIN") if answer.outcome is Outcome.NXDOMAIN else _("has no record")


def check_nameservers(identity: SesIdentity, dns: DomainDns) -> list[Finding]:
    """One finding naming, for each DKIM name the servers disagree on, which server says what.

    A server that did not answer is not a disagreement (check_lookups makes
    the identity unknown for it).
    """
    by_name: dict[str, list[ServerAnswer]] = {}
    for answer in dns.servers:
        if answer.outcome is not Outcome.FAILED:
            by_name.setdefault(answer.name, []).append(answer)
    differing = {name: answers for name, answers in by_name.items() if len({a.said for a in answers}) > 1}
    if not differing:
        return []
    described = "; ".join(
        _("for {name}: {answers}").format(
            name=name, answers=", ".join(f"{a.server} ({a.address}) {_said(a)}" for a in answers)
        )
        for name, answers in sorted(differing.items())
    )
    servers = ", ".join(sorted({f"{a.server} ({a.address})" for answers in differing.values() for a in answers}))
    return [
        finding(
            c.NAMESERVERS_DISAGREE,
            _(
                "the name servers of {zone} disagree about {domain}'s DKIM records, so receivers and SES see them only "
                "some of the time: {described}"
            ).format(zone=dns.zone_apex, domain=identity.domain, described=described),
            source="dns",
            zone=dns.zone_apex,
            servers=servers,
        )
    ]
