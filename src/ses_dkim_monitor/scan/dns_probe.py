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
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..models import domain_and_parents
from ..settings import Nameserver
from .dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome
from .parsers import is_dmarc_record

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


def _decode(raw: bytes) -> str:
    # backslashreplace keeps every byte visible and never yields a lone
    # surrogate, so the JSON report stays valid whatever a record holds.
    return raw.decode("utf-8", errors="backslashreplace")


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def dmarc_candidates(domain: str) -> list[str]:
    """``_dmarc`` names to try: the domain, then parents down to two labels.

    Receivers fall back to the organisational domain's record; without a
    public-suffix list, parents down to two labels approximate it (a query at
    a public suffix finds nothing and costs one lookup).
    """
    return [f"_dmarc.{name}" for name in domain_and_parents(domain)]


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
    ):
        self._resolver = resolver
        self._max_in_flight = max_in_flight
        self._confirm = confirm_negative
        self._rate = rate
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
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
        return DomainDns(domain=req.domain, tokens=tuple(tokens), dmarc=dmarc, mail_from_mx=mx, mail_from_txt=spf)

    async def _easy(self, domain: str, token: str) -> DkimTokenDns:
        name = f"{token}._domainkey.{domain}"
        record = await self.query(name, "CNAME")
        if record.outcome is Outcome.ANSWER:
            return DkimTokenDns(token=token, record=record, target_txt=await self.query(record.values[0], "TXT"))
        misplaced = None
        if record.absent:
            # The provider appended its zone to a pasted full name. The zone
            # apex is not known here, so try the domain and each parent
            # (down to two labels): a few lookups, only for missing records.
            for zone in domain_and_parents(domain):
                found = await self.query(f"{name}.{zone}", "CNAME", confirm=False)
                if found.outcome is Outcome.ANSWER:
                    misplaced = found
                    break
        return DkimTokenDns(token=token, record=record, misplaced=misplaced)

    async def _byodkim(self, domain: str, selector: str) -> DkimTokenDns:
        record = await self.query(f"{selector}._domainkey.{domain}", "TXT")
        if record.outcome is Outcome.NODATA and record.cname:
            # A CNAME delegating the selector elsewhere: follow it ourselves.
            return DkimTokenDns(token=selector, record=record, target_txt=await self.query(record.cname, "TXT"))
        return DkimTokenDns(token=selector, record=record)

    async def _dmarc(self, domain: str) -> Lookup:
        first: Lookup | None = None
        for name in dmarc_candidates(domain):
            found = await self.query(name, "TXT", confirm=False)
            first = first or found
            if found.outcome is Outcome.ANSWER and any(is_dmarc_record(v) for v in found.values):
                return found
            if found.failed:
                return found
        assert first is not None
        return first

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
