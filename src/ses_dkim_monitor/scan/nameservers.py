"""Asking each of a zone's authoritative servers directly whether it holds the DKIM names.

Receivers and SES ask whichever server their resolver picks. When the
servers disagree (a secondary that stopped transferring, a record added on
one provider of two), mail passes DKIM only some of the time and SES's status
flaps. So each server named by the zone's NS records is asked, without
recursion, for each DKIM name; the check compares the answers. The NS set and
its addresses are looked up once per zone per run. A server that does not
answer is reported as such, never taken for a disagreement.
"""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from .dns_answers import Outcome, ServerAnswer
from .dns_probe import DnsProbe


async def ask_servers(probe: DnsProbe, apex: str | None, names: list[str], byodkim: bool) -> tuple[ServerAnswer, ...]:
    if apex is None or not names:
        return ()
    servers: list[tuple[str, str]] = await probe.once("ns", apex, lambda: _servers_of(probe, apex))
    rdtype = "TXT" if byodkim else "CNAME"
    jobs = [_ask(probe, host, address, name, rdtype) for name in names for host, address in servers]
    return tuple(await asyncio.gather(*jobs))


async def _servers_of(probe: DnsProbe, apex: str) -> list[tuple[str, str]]:
    """(NS host, IPv4 address) for each server of the zone; hosts without an address are left out."""
    ns = await probe.query(apex, "NS", confirm=False)
    if ns.outcome is not Outcome.ANSWER:
        return []
    found: list[tuple[str, str]] = []
    for host in sorted(v.rstrip(".").lower() for v in ns.values):
        addresses = await probe.query(host, "A", confirm=False)
        found += [(host, address) for address in addresses.values] if addresses.outcome is Outcome.ANSWER else []
    return found


async def _ask(probe: DnsProbe, host: str, address: str, name: str, rdtype: str) -> ServerAnswer:
    query = dns.message.make_query(dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
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
    if rcode != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
        # REFUSED, SERVFAIL, or an answer that is not authoritative: it does not serve the zone (lame).
        return ServerAnswer(host, address, name, Outcome.FAILED, error=dns.rcode.to_text(rcode))
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            first = next(iter(rrset))
            if rdtype == "CNAME":
                value = first.target.to_text(omit_final_dot=True).lower()
            else:
                value = b"".join(first.strings).decode("utf-8", errors="backslashreplace")
            return ServerAnswer(host, address, name, Outcome.ANSWER, value=value)
    return ServerAnswer(host, address, name, Outcome.NODATA)
