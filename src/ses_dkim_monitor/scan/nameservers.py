"""Asking each of a zone's authoritative servers directly whether it holds the DKIM names.

Receivers and SES ask whichever server their resolver picks. When the
servers disagree (a secondary that stopped transferring, a record added on
one provider of two), mail passes DKIM only some of the time and SES's status
flaps. So each server named by the zone's NS records is asked, without
recursion, for each DKIM name; the check compares the answers. The NS set and
its addresses are looked up once per zone per run. A server that does not
answer is reported as such, never taken for a disagreement.

Asked without recursion, a server answers only for its own zones, so two
answers that are neither a record nor "absent" are normal DNS:

* a referral (NOERROR, no AA, NS records in the authority section): the name
  is in a zone delegated elsewhere, typically ``_domainkey.<domain>`` handed to
  an email provider's servers. The delegated servers are the ones that hold
  the record: they are asked in turn (their addresses from the referral's glue,
  else from the resolver), at most ``MAX_REFERRALS`` delegations deep, each
  one below the zone that referred to it;
* a CNAME for a TXT question (a BYODKIM selector aliased into the key
  provider's zone): the server names the target and stops there. The answer
  carries the target (``ServerAnswer.cname``); the probe follows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from .dns_answers import Outcome, ServerAnswer
from .dns_probe import DnsProbe, query_name, record_values

# Delegations followed below the domain's zone. One is the common case (``_domainkey`` at a provider); a
# provider that delegates again is rare; beyond that a loop (a zone referring to itself) is more likely.
MAX_REFERRALS = 3

Server = tuple[str, str]  # (NS host, IPv4 address)


@dataclass(frozen=True)
class _Referral:
    """A server's "ask them instead": the delegated zone, its NS hosts, and the glue addresses it gave."""

    zone: str
    hosts: tuple[str, ...]
    glue: tuple[Server, ...]


async def ask_servers(probe: DnsProbe, apex: str | None, names: list[str], byodkim: bool) -> tuple[ServerAnswer, ...]:
    if apex is None or not names:
        return ()
    servers: list[Server] = await probe.once("ns", apex, lambda: _servers_of(probe, apex))
    rdtype = "TXT" if byodkim else "CNAME"
    groups = await asyncio.gather(*(_answers(probe, apex, servers, name, rdtype, 0) for name in names))
    return tuple(answer for group in groups for answer in group)


async def _servers_of(probe: DnsProbe, apex: str) -> list[Server]:
    """(NS host, IPv4 address) for each server of the zone; hosts without an address are left out."""
    ns = await probe.query(apex, "NS", confirm=False)
    if ns.outcome is not Outcome.ANSWER:
        return []
    return await _addresses(probe, sorted(v.rstrip(".").lower() for v in ns.values), ())


async def _addresses(probe: DnsProbe, hosts: Sequence[str], glue: Sequence[Server]) -> list[Server]:
    found: list[Server] = []
    for host in hosts:
        given = [(h, a) for h, a in glue if h == host]
        if given:
            found += given
            continue
        addresses = await probe.query(host, "A", confirm=False)
        found += [(host, address) for address in addresses.values] if addresses.outcome is Outcome.ANSWER else []
    return found


async def _answers(
    probe: DnsProbe, zone: str, servers: list[Server], name: str, rdtype: str, depth: int
) -> list[ServerAnswer]:
    """Each server's answer for ``name``; a referral replaced by the answers of the servers it names."""
    results = await asyncio.gather(*(_ask(probe, host, address, name, rdtype) for host, address in servers))
    found: list[ServerAnswer] = []
    referred: dict[str, tuple[_Referral, list[Server]]] = {}
    for server, result in zip(servers, results, strict=True):
        if isinstance(result, ServerAnswer):
            found.append(result)
        elif not _below(result.zone, zone) or depth >= MAX_REFERRALS:
            why = "not below the zone that referred" if depth < MAX_REFERRALS else f"over {MAX_REFERRALS} deep"
            found.append(_failed(server, name, f"referral to {result.zone} {why}"))
        else:
            referred.setdefault(result.zone, (result, []))[1].append(server)
    for child, (referral, referrers) in sorted(referred.items()):
        delegated: list[Server] = await probe.once("referral", child, _lookup_addresses(probe, referral))
        if not delegated:
            found += [
                _failed(server, name, f"referral to {child}: its servers have no address") for server in referrers
            ]
            continue
        found += await _answers(probe, child, delegated, name, rdtype, depth + 1)
    unique: dict[tuple[str, str, str], ServerAnswer] = {}
    for answer in found:
        unique.setdefault((answer.server, answer.address, answer.name), answer)
    return list(unique.values())


def _lookup_addresses(probe: DnsProbe, referral: _Referral) -> Callable[[], Awaitable[list[Server]]]:
    async def lookup() -> list[Server]:
        return await _addresses(probe, referral.hosts, referral.glue)

    return lookup


def _below(child: str, zone: str) -> bool:
    return child != zone and child.endswith("." + zone)


def _failed(server: Server, name: str, error: str) -> ServerAnswer:
    return ServerAnswer(server[0], server[1], name, Outcome.FAILED, error=error)


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


async def _ask(probe: DnsProbe, host: str, address: str, name: str, rdtype: str) -> ServerAnswer | _Referral:
    qname, invalid = query_name(name)
    if qname is None:
        return ServerAnswer(host, address, name, Outcome.FAILED, error=invalid)
    query = dns.message.make_query(qname, dns.rdatatype.from_text(rdtype))
    query.flags &= ~dns.flags.RD  # the server's own data, not what it could find elsewhere
    async with probe.authoritative_slot():
        try:
            response = await dns.asyncquery.udp(
                query, address, timeout=probe.authoritative_timeout, port=probe.authoritative_port
            )
            if response.flags & dns.flags.TC:
                response = await dns.asyncquery.tcp(
                    query, address, timeout=probe.authoritative_timeout, port=probe.authoritative_port
                )
        except (dns.exception.DNSException, OSError) as exc:
            return ServerAnswer(host, address, name, Outcome.FAILED, error=f"{type(exc).__name__}: no answer")
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return ServerAnswer(host, address, name, Outcome.NXDOMAIN)
    if rcode == dns.rcode.NOERROR and not response.flags & dns.flags.AA:
        referral = _referral(response, qname)
        if referral is not None:
            return referral
    if rcode != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
        # REFUSED, SERVFAIL, or an answer that is neither authoritative nor a referral: it does not serve the zone.
        return ServerAnswer(host, address, name, Outcome.FAILED, error=dns.rcode.to_text(rcode))
    wanted = dns.rdatatype.from_text(rdtype)
    values: tuple[str, ...] = ()
    cname: str | None = None
    for rrset in response.answer:
        if rrset.rdtype == wanted and not values:
            # The whole set, sorted: a selector may hold its key beside another TXT, in any order.
            values = tuple(sorted(record_values(rdtype, rrset)))
        elif rrset.rdtype == dns.rdatatype.CNAME and rrset.name == qname:
            cname = _text(next(iter(rrset)).target)
    if not values and cname is None:
        return ServerAnswer(host, address, name, Outcome.NODATA)
    return ServerAnswer(host, address, name, Outcome.ANSWER, values=values, cname=cname)


def _referral(response: dns.message.Message, qname: dns.name.Name) -> _Referral | None:
    """The delegation a non-authoritative, empty NOERROR answer points to, if that is what it is."""
    if response.answer:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.NS and qname.is_subdomain(rrset.name):
            hosts = tuple(sorted({_text(rdata.target) for rdata in rrset}))
            glue = tuple(
                (_text(extra.name), rdata.address)
                for extra in response.additional
                if extra.rdtype == dns.rdatatype.A and _text(extra.name) in hosts
                for rdata in extra
            )
            return _Referral(zone=_text(rrset.name), hosts=hosts, glue=glue)
    return None
