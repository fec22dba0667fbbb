"""DNS probe: the one query engine every walker uses (``domain_probe``, ``dmarc_walk``, ``spf_tree``, ``nameservers``).

It knows no record semantics: it asks a question and sorts the answer into
present / NXDOMAIN / NODATA / FAILED, where a timeout, SERVFAIL or REFUSED is
"could not tell", never "absent". It imports no walker; they import it.

Lookups run concurrently with a bounded number in flight: real resolvers
answer in milliseconds, where sequential lookups for 10,000 domains would
take many minutes, while thousands of queries in flight lose packets.

``follow`` reads one answer from a recursive resolver as the two questions
asked per record would have been answered (the CNAME at a name, then the
record at its target): a resolver that recurses answers a TXT question at a
CNAME with the chain and the target's TXT, so a DKIM record costs one query
instead of two. Where the answer cannot be read so, it says so and the caller
asks per record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset

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


def record_values(rdtype: str, rrset: dns.rrset.RRset) -> tuple[str, ...]:
    """An answer's records as the checks read them: TXT strings joined (DKIM's rule), names without the dot."""
    if rdtype == "TXT":
        return tuple(_decode(b"".join(rdata.strings)) for rdata in rrset)
    if rdtype == "CNAME":
        return tuple(_text(rdata.target) for rdata in rrset)
    if rdtype == "MX":
        return tuple(f"{rdata.preference} {_text(rdata.exchange)}" for rdata in rrset)
    return tuple(rdata.to_text() for rdata in rrset)


@dataclass(frozen=True, slots=True)
class Followed:
    """One question at a name, read as the questions asked per record would have been answered.

    ``record`` is the CNAME at the name, as a CNAME question there answers (its target, NODATA or NXDOMAIN);
    ``target`` the record type asked at that CNAME's target, as a question at the target answers; ``here`` the
    record type at the name itself when it has no CNAME but exists (a TXT published where a CNAME belongs).
    """

    record: Lookup
    target: Lookup | None = None
    here: Lookup | None = None


def query_name(name: str) -> tuple[dns.name.Name | None, str]:
    """``name`` as DNS asks it, or None and why it cannot be asked (an empty label, one over 63 octets,
    over 255 in all: a legal SES domain's ``<token>._domainkey`` name can be)."""
    try:
        return dns.name.from_text(name), ""
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        return None, f"invalid name: {exc}"


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
        chains: bool = True,
    ):
        self._resolver = resolver
        # DNS_QUERY_MODE: auto (True) reads chains where the resolver recurses; per-record (False) never tries.
        self._chains = chains
        # Whether the resolver recurses (the RA flag): learnt from the run's first chained answer, so a server
        # that does not costs one question per run, not one per record.
        self.recursive: bool | None = None
        self._learner: asyncio.Future[None] | None = None
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
        qname, invalid = query_name(name)
        if qname is None:
            return Lookup(name, rdtype, Outcome.FAILED, error=invalid)
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
        return Lookup(name, rdtype, Outcome.ANSWER, values=record_values(rdtype, answer.rrset), cname=cname)

    async def follow(self, name: str, rdtype: str) -> Followed | None:
        """The CNAME at ``name`` and ``rdtype`` at its target, from one question for ``rdtype`` at ``name``.

        None where the answer cannot be read so, and the caller asks per record: the probe asks per record
        (``chains`` off); the server does not recurse (no RA flag: an authoritative server; learnt once per
        run); the answer is truncated; the question failed (a timeout or SERVFAIL may belong to either hop,
        and the questions per record tell which); or the chain ends without ``rdtype`` and without proof that
        its end is empty (the SOA of the end's zone in the authority section): a resolver that did not chase.
        A negative part is asked once more before it is believed, as ``query`` does.
        """
        if not self._chains or self.recursive is False:
            return None
        loop = asyncio.get_running_loop()
        if self.recursive is None and (self._learner is None or self._learner.get_loop() is not loop):
            # The run's first chained question finds out whether the resolver recurses; the others wait for it.
            self._learner = learner = loop.create_future()
            try:
                found = await self._follow_once(name, rdtype)
            finally:
                learner.set_result(None)
        else:
            if self._learner is not None and not self._learner.done():
                await asyncio.shield(self._learner)
            if self.recursive is False:
                return None
            found = await self._follow_once(name, rdtype)
        negative = found is not None and (found.record.absent or (found.target is not None and found.target.absent))
        if negative and self._confirm:
            found = await self._follow_once(name, rdtype)
        return found

    async def _follow_once(self, name: str, rdtype: str) -> Followed | None:
        qname, _invalid = query_name(name)
        if qname is None:
            return None  # asked per record, which reports the name as invalid
        self.lookups += 1
        if self._rate is not None:
            await self._rate.wait()
        async with self._semaphore():
            chain = None
            try:
                answer = await self._resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
                response, chain = answer.response, answer.chaining_result  # dnspython followed the chain already
            except dns.resolver.NXDOMAIN as exc:
                response = exc.responses().get(qname)
            except (dns.exception.DNSException, OSError):
                response = None
        if response is None:
            self.failed += 1
            return None
        if not response.flags & dns.flags.RA:
            self.recursive = False
            return None
        if self.recursive is None:
            self.recursive = True
        return read_chain(name, rdtype, response, chain)


def read_chain(
    name: str, rdtype: str, response: dns.message.QueryMessage, chain: dns.message.ChainingResult | None = None
) -> Followed | None:
    """A recursive resolver's answer to ``rdtype`` at ``name``, as the questions per record would have read it.

    None where it cannot be read so: truncated (dnspython retries over TCP, so this is a last guard), a chain
    too long, or a chain that ends without ``rdtype`` and without the SOA of the end's zone in the authority
    section (a negative answer carries it; a resolver that did not chase returns the CNAME alone).
    """
    if response.flags & dns.flags.TC:
        return None
    try:
        chain = chain or response.resolve_chaining()
    except dns.exception.DNSException:
        return None  # a chain too long, an answer beside NXDOMAIN: asked per record
    nxdomain = response.rcode() == dns.rcode.NXDOMAIN
    if not chain.cnames:
        if nxdomain:
            return Followed(Lookup(name, "CNAME", Outcome.NXDOMAIN))
        here = (
            Lookup(name, rdtype, Outcome.ANSWER, values=record_values(rdtype, chain.answer))
            if chain.answer is not None
            else Lookup(name, rdtype, Outcome.NODATA)
        )
        return Followed(Lookup(name, "CNAME", Outcome.NODATA), here=here)
    first = chain.cnames[0]
    record = Lookup(name, "CNAME", Outcome.ANSWER, values=record_values("CNAME", first))
    start, end = first[0].target, chain.canonical_name
    at = _text(start)
    further = _text(end) if end != start else None  # the chain goes on past the first target
    if chain.answer is not None:
        return Followed(
            record, Lookup(at, rdtype, Outcome.ANSWER, values=record_values(rdtype, chain.answer), cname=further)
        )
    if not any(rrset.rdtype == dns.rdatatype.SOA and end.is_subdomain(rrset.name) for rrset in response.authority):
        return None  # no proof that the end is empty: perhaps the resolver did not chase
    if nxdomain:
        return Followed(record, Lookup(at, rdtype, Outcome.NXDOMAIN))  # as a question at the target reads it
    return Followed(record, Lookup(at, rdtype, Outcome.NODATA, cname=further))


def _servfail_reason(exc: dns.resolver.NoNameservers) -> str:
    # dnspython packs the per-server errors into kwargs; keep the rcode names.
    errors = exc.kwargs.get("errors") or []
    reasons = sorted({str(err[3]) if len(err) > 3 else str(err) for err in errors})
    return "no server answered (" + "; ".join(reasons)[:200] + ")" if reasons else "no server answered"
