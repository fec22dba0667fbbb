"""The reference for the monitor's DNS throughput: the same queries from a bare dnspython asyncio pool.

No monitor code: W asyncio workers take the benchmark's domains one at a
time and, for each, ask what the monitor asks of a healthy Easy DKIM domain:
the three ``<token>._domainkey`` CNAMEs at once, each followed by its
target's TXT, and ``_dmarc`` TXT alongside (7 queries a domain). The resolver
is configured as the monitor configures its own (no cache, EDNS payload
1232, timeout 2 s, lifetime 6 s), so the difference is the monitor's own
work per query and per domain.

With ``--max-qps`` every query waits for its slot in one evenly spaced
schedule, as the monitor's ``DNS_MAX_QUERIES_PER_SECOND`` does: the regime a
VPC resolver's packets/s limit sets in production.

Prints one JSON object: per worker count, the queries, failures, seconds and
queries/s, plus this process's CPU seconds.

Usage: .venv/bin/python benchmarks/bare_dns_pool.py --nameserver 127.0.0.1:PORT --domains 10000 --workers 12,25
(the domains must be served: scale_benchmark.py starts knotd + dnsdist with them and runs this itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
from bench_support import REGION, domain_names, use_tree


def make_resolver(address: str, port: int) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port)]
    resolver.timeout = 2.0
    resolver.lifetime = 6.0
    resolver.cache = None
    resolver.use_edns(0, 0, 1232)
    return resolver


class Spacing:
    """At most ``rate`` queries a second, evenly spaced (a VPC resolver's packets/s limit, shared by the run)."""

    def __init__(self, rate: float):
        self.gap = 1.0 / rate
        self.next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + self.gap
        if slot > now:
            await asyncio.sleep(slot - now)


async def pool(
    work: list[tuple[str, list[str]]], workers: int, resolver: dns.asyncresolver.Resolver, max_qps: float = 0.0
) -> dict:
    queries = failed = 0
    spacing = Spacing(max_qps) if max_qps > 0 else None

    async def ask(name: str, rdtype: str) -> dns.resolver.Answer | None:
        nonlocal queries, failed
        if spacing is not None:
            await spacing.wait()
        queries += 1
        try:
            return await resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except (dns.exception.DNSException, OSError):
            failed += 1
            return None

    async def dkim(name: str) -> None:
        answer = await ask(name, "CNAME")
        if answer is not None and answer.rrset is not None:
            await ask(answer.rrset[0].target.to_text(), "TXT")

    async def domain(name: str, tokens: list[str]) -> None:
        await asyncio.gather(*(dkim(f"{t}._domainkey.{name}") for t in tokens), ask(f"_dmarc.{name}", "TXT"))

    items = iter(work)

    async def worker() -> None:
        for name, tokens in items:  # one shared iterator: each domain is taken once
            await domain(name, tokens)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    seconds = time.perf_counter() - started
    return {
        "workers": workers,
        "domains": len(work),
        "queries": queries,
        "failed": failed,
        "seconds": round(seconds, 3),
        "queries_per_second": round(queries / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nameserver", required=True, help="IP:PORT of the resolver (dnsdist)")
    parser.add_argument("--domains", type=int, default=10000)
    parser.add_argument("--workers", default="12", help="comma-separated worker counts, each run in turn")
    parser.add_argument("--tree", help="the source tree whose tests/support gives the tokens; default this repository")
    parser.add_argument(
        "--max-qps", type=float, default=0.0, help="at most this many queries a second (default 0: no cap)"
    )
    args = parser.parse_args()
    use_tree(args.tree)
    from tests.support.ses_world import tokens_for

    address, port = args.nameserver.rsplit(":", 1)
    work = [(name, tokens_for(name, REGION)) for name in domain_names(args.domains)]
    runs = []
    for workers in (int(w) for w in args.workers.split(",")):
        runs.append(asyncio.run(pool(work, workers, make_resolver(address, int(port)), args.max_qps)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"runs": runs, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
