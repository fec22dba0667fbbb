"""Every lookup one domain identity needs: its DKIM records, DMARC, MAIL FROM and, when asked, its servers.

This module composes the walkers (the DKIM records below, ``dmarc_walk``,
``spf_tree``, ``nameservers``) over the one thing they all use, the
``DnsProbe`` (a query engine that knows no record semantics). The direction
is one way: walkers import the probe, the probe imports no walker.

Each Easy DKIM record is one TXT question at ``<token>._domainkey.<domain>``
where the resolver recurses: its answer carries the CNAME and the target's
TXT, read as the two per-record questions would have been (``DnsProbe.follow``),
each hop still reported on its own. Otherwise (an authoritative server, which
does not follow a CNAME into another zone; an answer without the chain; a
failure; fresh re-checks, which ask the zones' own servers) the probe asks for
the CNAME, then for the target's TXT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..models import domain_and_parents
from .dmarc_walk import walk_dmarc
from .dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, ServerAnswer
from .dns_probe import DnsProbe
from .nameservers import ask_servers
from .parsers import is_dmarc_record
from .spf_tree import spf_tree_of


@dataclass(frozen=True)
class ProbeRequest:
    domain: str
    tokens: tuple[str, ...] = ()
    byodkim: bool = False
    mail_from: str | None = None
    dmarc: bool = True
    nameservers: bool = False  # also ask each authoritative server, without recursion, for the DKIM names
    # Where every authoritative server agrees on a DKIM name, take their answer over the resolver's
    # (which may hold a deleted record, or the absence of a new one, until its TTL runs out). For
    # event-driven re-checks, minutes after a change. Implies ``nameservers``.
    fresh: bool = False


class DomainProbe:
    """Runs one domain's lookups through a ``DnsProbe``; the engine's view of DNS.

    ``lookups``, ``failed`` and ``max_in_flight`` are the probe's: one count
    for the whole run, whatever asked.
    """

    def __init__(self, dns: DnsProbe):
        self.dns = dns

    @property
    def lookups(self) -> int:
        return self.dns.lookups

    @property
    def failed(self) -> int:
        return self.dns.failed

    @property
    def max_in_flight(self) -> int:
        return self.dns.max_in_flight

    def probe_all(self, requests: Iterable[ProbeRequest]) -> dict[ProbeRequest, DomainDns]:
        """Synchronous entry point for a handful of domains: one event loop for the call."""
        return asyncio.run(self._probe_all(list(requests)))

    async def _probe_all(self, requests: list[ProbeRequest]) -> dict[ProbeRequest, DomainDns]:
        results = await asyncio.gather(*(self.probe(req) for req in requests))
        return dict(zip(requests, results, strict=True))

    async def probe(self, req: ProbeRequest) -> DomainDns:
        """Every lookup one domain needs, run concurrently within the probe's bounds."""
        dns = self.dns
        chain = not req.fresh  # a re-check compares the zones' own servers hop by hop
        token_jobs = [
            self._byodkim(req.domain, t) if req.byodkim else self._easy(req.domain, t, chain=chain) for t in req.tokens
        ]
        dmarc_job = walk_dmarc(dns, req.domain) if req.dmarc else _none()
        mx_job = dns.query(req.mail_from, "MX") if req.mail_from else _none()
        spf_job = dns.query(req.mail_from, "TXT") if req.mail_from else _none()
        tokens, (dmarc, mx, spf) = await asyncio.gather(
            asyncio.gather(*token_jobs), asyncio.gather(dmarc_job, mx_job, spf_job)
        )
        dmarc_lookup, walk, passed = dmarc if dmarc is not None else (None, (), ())
        spf_tree = await spf_tree_of(dns, spf) if spf is not None else None
        dmarc_found = dmarc_lookup is not None and any(is_dmarc_record(v) for v in dmarc_lookup.values)
        dmarc_misplaced = None
        if dmarc_lookup is not None and not dmarc_found and not dmarc_lookup.failed:
            found = await self._doubled(req.domain, f"_dmarc.{req.domain}", "TXT")
            dmarc_misplaced = found if found is not None and any(is_dmarc_record(v) for v in found.values) else None
        apex = None
        ask = req.nameservers or req.fresh
        fixable = _dns_fixable(req.domain, tokens, dmarc_lookup, dmarc_found, mx)
        if any(tok.record.absent for tok in tokens) or dmarc_misplaced is not None or ask or fixable:
            apex = await dns.zone_apex(req.domain)
        # Who serves the zone, for the advice on what to type in that provider's form: one NS query per apex.
        nameservers = await dns.once("ns-hosts", apex, lambda: _ns_hosts(dns, apex)) if fixable and apex else ()
        servers = await ask_servers(dns, apex, [t.record.name for t in tokens], req.byodkim) if ask else ()
        if req.fresh and servers:
            tokens = [await self._as_servers_say(tok, servers, req) for tok in tokens]
        return DomainDns(
            domain=req.domain,
            tokens=tuple(tokens),
            dmarc=dmarc_lookup,
            dmarc_walk=walk,
            dmarc_misplaced=dmarc_misplaced,
            dmarc_passed=passed,
            mail_from_mx=mx,
            mail_from_txt=spf,
            spf=spf_tree,
            zone_apex=apex,
            servers=servers,
            nameservers=nameservers,
        )

    async def with_servers(self, dns: DomainDns, *, byodkim: bool) -> DomainDns:
        """``dns`` with each authoritative server's own answers for its DKIM names (the nameserver check)."""
        apex = dns.zone_apex or await self.dns.zone_apex(dns.domain)
        servers = await ask_servers(self.dns, apex, [t.record.name for t in dns.tokens], byodkim)
        return replace(dns, zone_apex=apex, servers=servers)

    async def _as_servers_say(
        self, tok: DkimTokenDns, servers: Sequence[ServerAnswer], req: ProbeRequest
    ) -> DkimTokenDns:
        """``tok`` as the zone's servers say it is now, when they all answered and agree; else as it was."""
        said = _agreed([a for a in servers if a.name == tok.record.name])
        if said is None:
            return tok  # one did not answer (unknown), or they disagree (the nameserver check says so)
        record = tok.record
        if req.byodkim and said.cname and not said.values:
            # The selector is an alias into the key provider's zone, whose own servers hold the key: follow it.
            alias = Lookup(record.name, "TXT", Outcome.NODATA, cname=said.cname)
            return DkimTokenDns(token=tok.token, record=alias, target_txt=await self._fresh_txt(said.cname))
        if said.outcome is Outcome.ANSWER:
            # The servers' whole record set: a key beside another TXT is still the key, in whatever order.
            if record.outcome is Outcome.ANSWER and sorted(record.values) == sorted(said.values):
                return tok
            fresh = Lookup(record.name, record.rdtype, Outcome.ANSWER, said.values)
            if req.byodkim:
                return DkimTokenDns(token=tok.token, record=fresh)
            target = said.values[0] if said.values else ""
            return DkimTokenDns(token=tok.token, record=fresh, target_txt=await self.dns.query(target, "TXT"))
        if record.absent:
            return tok
        # Gone from the zone although a resolver still serves it from its cache.
        gone = Lookup(record.name, record.rdtype, said.outcome)
        if req.byodkim:
            return DkimTokenDns(token=tok.token, record=gone)
        return DkimTokenDns(token=tok.token, record=gone, other=await self._other(gone))

    async def _fresh_txt(self, name: str) -> Lookup:
        """TXT at ``name`` as its own zone's servers say, where they all answered and agree; else the resolver's.

        The resolver also decides when the servers' answer is another alias (a chain the resolver follows).
        """
        apex = await self.dns.zone_apex(name)
        said = _agreed(await ask_servers(self.dns, apex, [name], True)) if apex else None
        if said is not None and said.cname is None:
            if said.outcome is Outcome.ANSWER and said.values:
                return Lookup(name, "TXT", Outcome.ANSWER, said.values)
            if said.outcome in (Outcome.NXDOMAIN, Outcome.NODATA):
                return Lookup(name, "TXT", said.outcome)
        return await self.dns.query(name, "TXT")

    async def _easy(self, domain: str, token: str, *, chain: bool = True) -> DkimTokenDns:
        name = f"{token}._domainkey.{domain}"
        followed = await self.dns.follow(name, "TXT") if chain else None
        if followed is not None:
            record, here = followed.record, followed.here
            if record.outcome is Outcome.ANSWER:
                return DkimTokenDns(token=token, record=record, target_txt=followed.target)
        else:
            record, here = await self.dns.query(name, "CNAME"), None
            if record.outcome is Outcome.ANSWER:
                target_txt = await self.dns.query(record.values[0], "TXT")
                return DkimTokenDns(token=token, record=record, target_txt=target_txt)
        if not record.absent:
            return DkimTokenDns(token=token, record=record)
        return DkimTokenDns(
            token=token,
            record=record,
            misplaced=await self._doubled(domain, name, "CNAME"),
            other=await self._other(record, here),
        )

    async def _byodkim(self, domain: str, selector: str) -> DkimTokenDns:
        name = f"{selector}._domainkey.{domain}"
        record = await self.dns.query(name, "TXT")
        if record.outcome is Outcome.NODATA and record.cname:
            # A CNAME delegating the selector elsewhere: follow it ourselves.
            return DkimTokenDns(token=selector, record=record, target_txt=await self.dns.query(record.cname, "TXT"))
        if record.absent:
            return DkimTokenDns(token=selector, record=record, misplaced=await self._doubled(domain, name, "TXT"))
        return DkimTokenDns(token=selector, record=record)

    async def _doubled(self, domain: str, name: str, rdtype: str) -> Lookup | None:
        """The record at ``<name>.<zone apex>``: where a provider that appends its zone put a pasted full name.

        The apex comes from SOA, not from guessing where the organisation's
        domain ends. Only asked for records that are missing.
        """
        apex = await self.dns.zone_apex(domain)
        if apex is None:
            return None
        found = await self.dns.query(f"{name}.{apex}", rdtype, confirm=False)
        return found if found.outcome is Outcome.ANSWER else None

    async def _other(self, record: Lookup, here: Lookup | None = None) -> Lookup | None:
        """What stands at a name that exists but has no CNAME (NODATA): a TXT, or an address.

        ``here``: what the name's chained answer already said of one type (its TXT), not asked again.
        """
        if record.outcome is not Outcome.NODATA:
            return None
        for rdtype in ("TXT", "A", "AAAA", "MX"):
            found = here if here is not None and here.rdtype == rdtype else None
            found = found or await self.dns.query(record.name, rdtype, confirm=False)
            if found.outcome is Outcome.ANSWER:
                return found
        return None


async def _none() -> None:
    return None


def _dns_fixable(
    domain: str, tokens: Sequence[DkimTokenDns], dmarc: Lookup | None, dmarc_found: bool, mx: Lookup | None
) -> bool:
    """A record a DNS change fixes: a DKIM name missing, a CNAME into the domain's own tree (a target that got
    the zone appended), no DMARC record, no MAIL FROM MX. Only then is it worth asking who serves the zone."""
    own = tuple("." + parent for parent in domain_and_parents(domain))
    return (
        # A TXT question that met a CNAME (a BYODKIM selector aliased into a key zone) is followed, not missing.
        any(t.record.absent and not t.record.cname for t in tokens)
        or any(t.record.outcome is Outcome.ANSWER and t.record.values[0].endswith(own) for t in tokens)
        or (dmarc is not None and not dmarc_found and not dmarc.failed)
        or (mx is not None and mx.absent)
    )


async def _ns_hosts(dns: DnsProbe, apex: str) -> tuple[str, ...]:
    found = await dns.query(apex, "NS", confirm=False)
    return tuple(sorted({v.rstrip(".").lower() for v in found.values})) if found.outcome is Outcome.ANSWER else ()


def _agreed(answers: Sequence[ServerAnswer]) -> ServerAnswer | None:
    """The one thing every server said, or None when one did not answer or they disagree."""
    if not answers or any(a.outcome is Outcome.FAILED for a in answers):
        return None
    return answers[0] if len({a.said for a in answers}) == 1 else None
