"""Is this hosted zone the one DNS serves for this name? fix writes only where the answer is yes.

Two ways a public hosted zone of the account holds a name and still is not
what resolvers read:

* the zone is a **stale duplicate** (a migration left it behind, or a twin of
  the same name): the NS that DNS returns for its apex are not the name
  servers GetHostedZone gave it (its delegation set);
* the name sits below a **delegation** (``sub NS ...`` in the zone, or a zone
  of ``sub`` served elsewhere): DNS answers for it from another zone.

So a zone is written only when every NS that DNS returns for its apex is one
of its delegation set, and each record's name resolves to a zone whose apex is
the hosted zone's (``elsewhere.zone_apex``, through the configured resolver)
with no NS record set in the hosted zone between the name and the apex. A
lookup that fails is "could not tell", never "served".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from ..i18n import _
from .batch import RecordSet
from .elsewhere import Apex, zone_apex
from .records import fqdn, is_within

IN_FLIGHT = 20  # DNS queries at once: thousands at once lose packets on a real resolver (docs: testbed)


@dataclass(frozen=True)
class NameServers:
    """The NS DNS returns for a zone apex; ``error`` when the lookup failed (``names`` is then empty)."""

    names: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Verdict:
    """Whether fix may write: ``reason`` says why not; ``error`` is a lookup that failed (exit 3)."""

    served: bool
    reason: str = ""
    error: str = ""


SERVED = Verdict(True)


@dataclass(frozen=True)
class DnsView:
    """What DNS said: the NS of each zone apex asked, and the zone apex of each record name."""

    name_servers: Mapping[str, NameServers]
    apexes: Mapping[str, Apex]


def ask_dns(resolver: Any, zones: Sequence[str], names: Sequence[str]) -> DnsView:
    """NS at each apex and the zone apex (SOA walk) of each name, at most ``IN_FLIGHT`` queries at once."""
    zones = list(dict.fromkeys(fqdn(z) for z in zones))
    names = list(dict.fromkeys(fqdn(n) for n in names))

    async def both() -> tuple[list[NameServers], list[Apex]]:
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def ns(zone: str) -> NameServers:
            async with gate:
                return await apex_name_servers(resolver, zone)

        async def apex(name: str) -> Apex:
            async with gate:
                return await zone_apex(resolver, name)

        return (
            list(await asyncio.gather(*(ns(z) for z in zones))),
            list(await asyncio.gather(*(apex(n) for n in names))),
        )

    if not zones and not names:
        return DnsView({}, {})
    servers, apexes = asyncio.run(both())
    return DnsView(dict(zip(zones, servers, strict=True)), dict(zip(names, apexes, strict=True)))


async def apex_name_servers(resolver: Any, zone: str) -> NameServers:
    """The NS RRset DNS returns for ``zone`` itself (owner equal to the apex asked)."""
    qname = dns.name.from_text(fqdn(zone))
    try:
        answer = await resolver.resolve(qname, "NS", raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return NameServers()  # the name does not exist in DNS: certainly not delegated to the hosted zone
    except dns.exception.Timeout:
        return NameServers(error=_("{type} {name} timed out").format(type="NS", name=zone))
    except dns.resolver.NoNameservers:
        return NameServers(
            error=_("{type} {name}: no server answered (SERVFAIL or REFUSED)").format(type="NS", name=zone)
        )
    except (dns.exception.DNSException, OSError) as exc:
        return NameServers(error=f"NS {zone}: {type(exc).__name__}")
    response = answer.response
    names = sorted(
        {
            fqdn(rdata.target.to_text())
            for section in (response.answer, response.authority)
            for rrset in section
            if rrset.rdtype == dns.rdatatype.NS and rrset.name == qname
            for rdata in rrset
        }
    )
    return NameServers(tuple(names))


def delegation_verdict(zone: str, zone_id: str, delegation: Sequence[str], answered: NameServers) -> Verdict:
    """Served when DNS names some NS for the apex and every one of them is in the zone's delegation set."""
    own = {fqdn(ns) for ns in delegation}
    where = _("Route 53 hosted zone {zone} ({id})").format(zone=fqdn(zone), id=zone_id)
    if answered.error:
        why = _("could not tell whether DNS serves {where}: {error}").format(where=where, error=answered.error)
        return Verdict(False, why, answered.error)
    if not own:
        return Verdict(False, _("GetHostedZone gave {where} no name servers (a private zone?)").format(where=where))
    if not answered.names:
        return Verdict(
            False,
            _("DNS returns no NS for {zone}: it is not delegated to {where}").format(zone=fqdn(zone), where=where),
        )
    foreign = [ns for ns in answered.names if ns not in own]
    if foreign:
        return Verdict(
            False,
            _(
                "DNS delegates {zone} to {answered}, but this hosted zone's name servers are {own}: it is not the zone "
                "DNS serves (a duplicate left behind by a migration?)"
            ).format(zone=fqdn(zone), answered=", ".join(answered.names), own=", ".join(sorted(own))),
        )
    return SERVED


def name_verdict(zone: str, name: str, apex: Apex | None, snapshot: Mapping[str, Sequence[RecordSet]]) -> Verdict:
    """Served when no NS cut lies between ``name`` and the apex, in the hosted zone or in DNS."""
    zone, name = fqdn(zone), fqdn(name)
    cut = route53_cut(zone, name, snapshot)
    if cut:
        return Verdict(
            False,
            _("{cut} is delegated (an NS record set in the hosted zone {zone}): {name} is served there").format(
                cut=cut, zone=zone, name=name
            ),
        )
    if apex is None:
        return SERVED  # not asked: a name the hosted zone itself does not cover is refused by the caller
    if apex.name is None:
        why = _("could not tell which zone serves {name}: {error}").format(name=name, error=apex.error)
        return Verdict(False, why, apex.error)
    if apex.name == zone:
        return SERVED
    if is_within(apex.name, zone):
        return Verdict(
            False,
            _("{apex} is delegated (DNS answers for {name} from the zone {apex})").format(apex=apex.name, name=name),
        )
    return Verdict(
        False,
        _("DNS answers for {name} from the zone {apex}, above {zone}: the hosted zone is not served").format(
            name=name, apex=apex.name, zone=zone
        ),
    )


def route53_cut(zone: str, name: str, snapshot: Mapping[str, Sequence[RecordSet]]) -> str:
    """The nearest name between ``name`` (included) and the apex (excluded) that holds an NS record set."""
    for candidate in between(zone, name):
        if any(str(s.get("Type", "")).upper() == "NS" for s in snapshot.get(candidate, ())):
            return candidate
    return ""


def between(zone: str, name: str) -> list[str]:
    """``name`` and each parent of it down to, not including, the apex ``zone`` (nearest first)."""
    zone, name = fqdn(zone), fqdn(name)
    found: list[str] = []
    while name != zone and name.endswith("." + zone):
        found.append(name)
        name = name.split(".", 1)[1]
    return found
