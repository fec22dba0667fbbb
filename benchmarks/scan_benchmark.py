"""How long a scan takes at scale, on loopback with a realistic resolver delay.

Two measurements:

1. DNS probe throughput: N healthy domains (3 CNAMEs + 3 target TXTs + 1
   DMARC each) served by knotd behind dnsdist, which adds a fixed delay to
   every answer (real resolvers answer in 1-50 ms; bare loopback answers in
   microseconds and would hide the value of concurrency). Run for several
   ``max_in_flight`` values.
2. SES call budget: the number of SES calls the inventory makes for N
   identities in moto (the rate limit of ~1 call/s makes the count, not the
   loopback time, what decides the Lambda's duration).

Usage: .venv/bin/python benchmarks/scan_benchmark.py [--domains 2000] [--delay-ms 10]
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dns.message
import dns.query

from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.knot import KnotServer, free_port
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records, tokens_for


def start_dnsdist(backend_port: int, delay_ms: int) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dnsdist-"))
    conf = workdir / "dnsdist.conf"
    conf.write_text(
        'setSecurityPollSuffix("")\n'
        f'setLocal("127.0.0.1:{port}")\n'
        f'newServer({{address="127.0.0.1:{backend_port}", name="backend"}})\n'
        "setMaxUDPOutstanding(65535)\n"
        f"addAction(AllRule(), DelayAction({delay_ms}))\n"
    )
    exe = shutil.which("dnsdist") or "/usr/bin/dnsdist"
    proc = subprocess.Popen(
        [exe, "--supervised", "--disable-syslog", "-C", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            dns.query.udp(dns.message.make_query("bench.test.", "SOA"), "127.0.0.1", port=port, timeout=0.5)
            return proc, port, workdir
        except Exception as exc:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("dnsdist did not start") from exc
            time.sleep(0.05)


def dns_benchmark(domains: int, delay_ms: int, in_flight: list[int]) -> None:
    names = [f"d{i:05d}.bench.test" for i in range(domains)]
    tokens = {n: tokens_for(n) for n in names}
    zone = (
        "\n".join(
            customer_cname_records(tokens[n]).replace("._domainkey", f"._domainkey.{n.split('.')[0]}") for n in names
        )
        + '\n_dmarc TXT "v=DMARC1; p=none"'
    )
    keys = "\n".join(easy_dkim_zone_records(tokens[n]) for n in names)
    with KnotServer({"bench.test": zone, "dkim.amazonses.com": keys}) as knot:
        proxy, port, workdir = start_dnsdist(knot.port, delay_ms)
        try:
            requests = [ProbeRequest(domain=n, tokens=tuple(tokens[n])) for n in names]
            print(f"DNS probe: {domains} domains, {delay_ms} ms added per answer (dnsdist in front of knotd)")
            for limit in in_flight:
                resolver = make_resolver(
                    [parse_nameserver(f"127.0.0.1:{port}", setting="bench")], timeout=2, lifetime=6
                )
                probe = DomainProbe(DnsProbe(resolver, max_in_flight=limit))
                start = time.perf_counter()
                probe.probe_all(requests)
                elapsed = time.perf_counter() - start
                print(
                    f"  max_in_flight={limit:>4}: {elapsed:7.2f} s, {probe.lookups} lookups, "
                    f"{probe.lookups / elapsed:7.0f} lookups/s, {probe.failed} failed"
                )
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)


def ses_budget(identities: int) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from ses_dkim_monitor.aws_clients import client_factory
    from ses_dkim_monitor.scan.inventory import SesInventory
    from tests.support.ses_world import SesWorld, consistent_v1

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        with consistent_v1():
            SesWorld("us-east-1").add_many_domains([f"d{i:05d}.bench.test" for i in range(identities)])
            client = client_factory(boto3.Session())
            inventory = SesInventory(
                sesv2=client("sesv2", "us-east-1"), ses=client("ses", "us-east-1"), region="us-east-1"
            )
            start = time.perf_counter()
            found = inventory.load()
            elapsed = time.perf_counter() - start
        total = sum(inventory.calls.values())
        print(
            f"SES inventory: {len(found)} domain identities, {total} SES calls {dict(inventory.calls)}, "
            f"{elapsed:.1f} s against moto; at SES's 1 call/s: about {total / 60:.1f} min"
        )
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--delay-ms", type=int, default=10)
    parser.add_argument("--in-flight", default="5,20,50,100")
    parser.add_argument("--ses-identities", type=int, default=10000)
    args = parser.parse_args()
    dns_benchmark(args.domains, args.delay_ms, [int(x) for x in args.in_flight.split(",")])
    ses_budget(args.ses_identities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
