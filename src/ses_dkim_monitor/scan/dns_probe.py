"""DNS probe: the one query engine every walker uses (``domain_probe``, ``dmarc_walk``, ``spf_tree``, ``nameservers``).

It knows no record semantics: it asks a question and sorts the answer into
present / NXDOMAIN / NODATA / FAILED, where a timeout, SERVFAIL or REFUSED is
"could not tell", never "absent". It imports no walker; they import it.

Lookups run concurrently with a bounded number in flight: real resolvers
answer in milliseconds, where sequential lookups for 10,000 domains would
take many minutes, while thousands of queries in flight lose packets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..models import domain_and_parents
from ..settings import Nameserver
from .dns_answers import Lookup, Outcome

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


def _decode(raw: bytes) -> str:
    # backslashreplace keeps every byte visible and never yields a lone
    # surrogate, so the JSON report stays valid whatever a record holds.
    return raw.decode("utf-8", errors="backslashreplace")


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


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
