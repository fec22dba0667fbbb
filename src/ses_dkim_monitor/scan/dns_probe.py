"""DNS probe: what each domain's DKIM, DMARC and MAIL FROM records really are.

The probe follows each DKIM CNAME itself and then asks for the target's TXT,
because an authoritative server does not follow a CNAME into another zone
and because each hop is worth reporting on its own. Answers are sorted into
present / NXDOMAIN / NODATA / FAILED: a timeout, SERVFAIL or REFUSED is
"could not tell", never "absent".

Lookups run concurrently with a bounded number in flight: real resolvers
answer in milliseconds, where sequential lookups for 10,000 domains would
take many minutes, while thousands of queries in flight lose packets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..models import domain_and_parents
from ..settings import Nameserver
from .dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, ServerAnswer
from .nameservers import ask_servers
from .parsers import is_dmarc_record
from .spf_tree import spf_tree_of

# Large enough for a 2048-bit DKIM key in one UDP answer, small enough to
# avoid IP fragmentation (the DNS Flag Day 2020 recommendation).
EDNS_PAYLOAD = 1232


def make_resolver(nameservers: Sequence[Nameserver], *, timeout: float, lifetime: float) -> dns.asyncresolver.Resolver:
    """A resolver with explicit timeouts and no cache, so each run sees DNS afresh."""
    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.address, ns.port) for ns in nameservers]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.timeout = timeout  # per server, per attempt
    resolver.lifetime = lifetime  # whole query, all retries
    resolver.cache = None
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    return resolver


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


def _decode(raw: bytes) -> str:
    # backslashreplace keeps every byte visible and never yields a lone
    # surrogate, so the JSON report stays valid whatever a record holds.
    return raw.decode("utf-8", errors="backslashreplace")


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


MAX_DMARC_WALK = 8  # DMARCbis (RFC 9989): the DNS tree walk asks at most eight names


def dmarc_candidates(domain: str) -> list[str]:
    """The ``_dmarc`` names DMARCbis's DNS tree walk asks, in order (at most eight).

    First the domain itself; then, if it has more than eight labels, the name
    shortened to seven; then one label fewer each time, down to the top-level
    domain (where a public-suffix operator may publish a ``psd=y`` policy).
    This replaces a public-suffix list: the records themselves say where an
    organisation's domain ends.
    """
    labels = domain.split(".")
    names = [domain]
    for count in range(min(len(labels) - 1, MAX_DMARC_WALK - 1), 0, -1):
        names.append(".".join(labels[-count:]))
    return [f"_dmarc.{name}" for name in names]


class RateLimit:
    """An asyncio token bucket for the whole run's queries (``DNS_MAX_QUERIES_PER_SECOND``).

    The clock and the sleep are injected so tests need no real time.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = clock()

    async def wait(self) -> None:
        now = self._clock()
        start = max(now, self._next)
        self._next = start + 1.0 / self.rate  # reserve this slot before sleeping: arrival order is kept
        if start > now:
            await self._sleep(start - now)


class DnsProbe:
    """Runs the lookups. Receives its resolver; counts what it asked.

    ``max_in_flight`` bounds the queries in flight across everything this
    probe does; ``rate`` optionally caps the queries per second.
    """

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver,
        *,
        max_in_flight: int = 20,
        confirm_negative: bool = True,
        rate: RateLimit | None = None,
        authoritative_port: int = 53,
    ):
        self._resolver = resolver
        self._max_in_flight = max_in_flight
        self._confirm = confirm_negative
        self._rate = rate
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
        # Answers shared by many domains (a zone's apex and name servers, an SPF record many
        # include) are asked once per run: one task per key, awaited by everyone who needs it.
        self._memo: dict[tuple[str, str], asyncio.Task[Any]] = {}
        self.authoritative_port = authoritative_port
        self.authoritative_timeout = resolver.timeout
        self.lookups = 0
        self.failed = 0

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def probe_all(self, requests: Iterable[ProbeRequest]) -> dict[ProbeRequest, DomainDns]:
        """Synchronous entry point for a handful of domains: one event loop for the call."""
        return asyncio.run(self._probe_all(list(requests)))

    async def _probe_all(self, requests: list[ProbeRequest]) -> dict[ProbeRequest, DomainDns]:
        results = await asyncio.gather(*(self.probe(req) for req in requests))
        return dict(zip(requests, results, strict=True))

    @contextlib.asynccontextmanager
    async def authoritative_slot(self) -> AsyncIterator[None]:
        """One of the in-flight slots, for a query sent to an authoritative server directly."""
        self.lookups += 1
        async with self._semaphore():
            yield

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem = asyncio.Semaphore(self._max_in_flight)
            self._sem_loop = loop
        return self._sem

    async def probe(self, req: ProbeRequest) -> DomainDns:
        """Every lookup one domain needs, run concurrently within the probe's bounds."""
        token_jobs = [self._byodkim(req.domain, t) if req.byodkim else self._easy(req.domain, t) for t in req.tokens]
        dmarc_job = self._dmarc(req.domain) if req.dmarc else _none()
        mx_job = self.query(req.mail_from, "MX") if req.mail_from else _none()
        spf_job = self.query(req.mail_from, "TXT") if req.mail_from else _none()
        tokens, (dmarc, mx, spf) = await asyncio.gather(
            asyncio.gather(*token_jobs), asyncio.gather(dmarc_job, mx_job, spf_job)
        )
        dmarc_lookup, walk = dmarc if dmarc is not None else (None, ())
        spf_tree = await spf_tree_of(self, spf) if spf is not None else None
        dmarc_found = dmarc_lookup is not None and any(is_dmarc_record(v) for v in dmarc_lookup.values)
        dmarc_misplaced = None
        if dmarc_lookup is not None and not dmarc_found and not dmarc_lookup.failed:
            found = await self._doubled(req.domain, f"_dmarc.{req.domain}", "TXT")
            dmarc_misplaced = found if found is not None and any(is_dmarc_record(v) for v in found.values) else None
        apex = None
        ask = req.nameservers or req.fresh
        if any(tok.record.absent for tok in tokens) or dmarc_misplaced is not None or ask:
            apex = await self.zone_apex(req.domain)
        servers = await ask_servers(self, apex, [t.record.name for t in tokens], req.byodkim) if ask else ()
        if req.fresh and servers:
            tokens = [await self._as_servers_say(tok, servers, req) for tok in tokens]
        return DomainDns(
            domain=req.domain,
            tokens=tuple(tokens),
            dmarc=dmarc_lookup,
            dmarc_walk=walk,
            dmarc_misplaced=dmarc_misplaced,
            mail_from_mx=mx,
            mail_from_txt=spf,
            spf=spf_tree,
            zone_apex=apex,
            servers=servers,
        )

    async def with_servers(self, dns: DomainDns, *, byodkim: bool) -> DomainDns:
        """``dns`` with each authoritative server's own answers for its DKIM names (the nameserver check)."""
        apex = dns.zone_apex or await self.zone_apex(dns.domain)
        servers = await ask_servers(self, apex, [t.record.name for t in dns.tokens], byodkim)
        return replace(dns, zone_apex=apex, servers=servers)

    async def _as_servers_say(
        self, tok: DkimTokenDns, servers: Sequence[ServerAnswer], req: ProbeRequest
    ) -> DkimTokenDns:
        """``tok`` as the zone's servers say it is now, when they all answered and agree; else as it was."""
        answers = [a for a in servers if a.name == tok.record.name]
        if not answers or any(a.outcome is Outcome.FAILED for a in answers):
            return tok
        if len({(a.outcome, a.value) for a in answers}) > 1:
            return tok  # they disagree: the nameserver check says so
        said = answers[0]
        record = tok.record
        if said.outcome is Outcome.ANSWER:
            value = said.value or ""
            if record.outcome is Outcome.ANSWER and record.values[:1] == (value,):
                return tok
            fresh = Lookup(record.name, record.rdtype, Outcome.ANSWER, (value,))
            if req.byodkim:
                return DkimTokenDns(token=tok.token, record=fresh)
            return DkimTokenDns(token=tok.token, record=fresh, target_txt=await self.query(value, "TXT"))
        if record.absent:
            return tok
        # Gone from the zone although a resolver still serves it from its cache.
        gone = Lookup(record.name, record.rdtype, said.outcome)
        if req.byodkim:
            return DkimTokenDns(token=tok.token, record=gone)
        return DkimTokenDns(token=tok.token, record=gone, other=await self._other(gone))

    async def _easy(self, domain: str, token: str) -> DkimTokenDns:
        name = f"{token}._domainkey.{domain}"
        record = await self.query(name, "CNAME")
        if record.outcome is Outcome.ANSWER:
            return DkimTokenDns(token=token, record=record, target_txt=await self.query(record.values[0], "TXT"))
        if not record.absent:
            return DkimTokenDns(token=token, record=record)
        return DkimTokenDns(
            token=token,
            record=record,
            misplaced=await self._doubled(domain, name, "CNAME"),
            other=await self._other(record),
        )

    async def _byodkim(self, domain: str, selector: str) -> DkimTokenDns:
        name = f"{selector}._domainkey.{domain}"
        record = await self.query(name, "TXT")
        if record.outcome is Outcome.NODATA and record.cname:
            # A CNAME delegating the selector elsewhere: follow it ourselves.
            return DkimTokenDns(token=selector, record=record, target_txt=await self.query(record.cname, "TXT"))
        if record.absent:
            return DkimTokenDns(token=selector, record=record, misplaced=await self._doubled(domain, name, "TXT"))
        return DkimTokenDns(token=selector, record=record)

    async def _doubled(self, domain: str, name: str, rdtype: str) -> Lookup | None:
        """The record at ``<name>.<zone apex>``: where a provider that appends its zone put a pasted full name.

        The apex comes from SOA, not from guessing where the organisation's
        domain ends. Only asked for records that are missing.
        """
        apex = await self.zone_apex(domain)
        if apex is None:
            return None
        found = await self.query(f"{name}.{apex}", rdtype, confirm=False)
        return found if found.outcome is Outcome.ANSWER else None

    async def _other(self, record: Lookup) -> Lookup | None:
        """What stands at a name that exists but has no CNAME (NODATA): a TXT, or an address."""
        if record.outcome is not Outcome.NODATA:
            return None
        for rdtype in ("TXT", "A", "AAAA", "MX"):
            found = await self.query(record.name, rdtype, confirm=False)
            if found.outcome is Outcome.ANSWER:
                return found
        return None

    async def _dmarc(self, domain: str) -> tuple[Lookup, tuple[str, ...]]:
        """DMARCbis's tree walk: the first name holding a DMARC record, or the first answer when none does."""
        first: Lookup | None = None
        asked: list[str] = []
        for name in dmarc_candidates(domain):
            found = await self.query(name, "TXT", confirm=False)
            asked.append(name)
            first = first or found
            if found.outcome is Outcome.ANSWER and any(is_dmarc_record(v) for v in found.values):
                return found, tuple(asked)
            if found.failed:
                return found, tuple(asked)
        assert first is not None
        return first, tuple(asked)

    async def once(self, kind: str, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """``make()``'s result, computed once per probe for (kind, key) however many domains ask."""
        task = self._memo.get((kind, key))
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(make())
            self._memo[(kind, key)] = task
        return await asyncio.shield(task)

    async def zone_apex(self, name: str) -> str | None:
        """The apex of the zone ``name`` is in: the first of it and its parents whose SOA answers."""
        apex: str | None = await self.once("apex", name, lambda: self._zone_apex(name))
        return apex

    async def _zone_apex(self, name: str) -> str | None:
        for candidate in domain_and_parents(name, down_to=1):
            found = await self.query(candidate, "SOA", confirm=False)
            if found.outcome is Outcome.ANSWER:
                return candidate
            if found.failed:
                return None
        return None

    async def query(self, name: str, rdtype: str, *, confirm: bool | None = None) -> Lookup:
        """One question; a negative answer is asked again once before it is believed."""
        result = await self._query_once(name, rdtype)
        if result.absent and (self._confirm if confirm is None else confirm):
            result = await self._query_once(name, rdtype)
        return result

    async def _query_once(self, name: str, rdtype: str) -> Lookup:
        self.lookups += 1
        result = await self._ask(name, rdtype)
        if result.failed:
            self.failed += 1
        return result

    async def _ask(self, name: str, rdtype: str) -> Lookup:
        try:
            qname = dns.name.from_text(name)
        except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
            return Lookup(name, rdtype, Outcome.FAILED, error=f"invalid name: {exc}")
        if self._rate is not None:
            await self._rate.wait()
        async with self._semaphore():
            try:
                answer = await self._resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
            except dns.resolver.NXDOMAIN:
                return Lookup(name, rdtype, Outcome.NXDOMAIN)
            except dns.resolver.LifetimeTimeout:
                return Lookup(name, rdtype, Outcome.FAILED, error="timeout")
            except dns.resolver.NoNameservers as exc:
                return Lookup(name, rdtype, Outcome.FAILED, error=_servfail_reason(exc))
            except dns.exception.DNSException as exc:
                return Lookup(name, rdtype, Outcome.FAILED, error=f"{type(exc).__name__}: {exc}")
            except OSError as exc:
                return Lookup(name, rdtype, Outcome.FAILED, error=f"network error: {exc}")
        cname = _text(answer.canonical_name) if answer.canonical_name != qname else None
        if answer.rrset is None:
            return Lookup(name, rdtype, Outcome.NODATA, cname=cname)
        if rdtype == "TXT":
            values = tuple(_decode(b"".join(rdata.strings)) for rdata in answer.rrset)
        elif rdtype == "CNAME":
            values = tuple(_text(rdata.target) for rdata in answer.rrset)
        elif rdtype == "MX":
            values = tuple(f"{rdata.preference} {_text(rdata.exchange)}" for rdata in answer.rrset)
        else:
            values = tuple(rdata.to_text() for rdata in answer.rrset)
        return Lookup(name, rdtype, Outcome.ANSWER, values=values, cname=cname)


def _servfail_reason(exc: dns.resolver.NoNameservers) -> str:
    # dnspython packs the per-server errors into kwargs; keep the rcode names.
    errors = exc.kwargs.get("errors") or []
    reasons = sorted({str(err[3]) if len(err) > 3 else str(err) for err in errors})
    return "no server answered (" + "; ".join(reasons)[:200] + ")" if reasons else "no server answered"


async def _none() -> None:
    return None
