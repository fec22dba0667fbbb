"""SES pacing against a server that throttles per (account, region), as SES does.

Two regions of one account, ``--identities`` healthy domain identities each,
in moto's server (a process of its own, benchmarks/moto_seeded.py). With a
throttle, moto's SES reads are limited to ``--rate`` per second per (account,
region) with a bucket of one (tests/support/throttling.py), answering over it
with v1 ``Throttling`` / v2 ``TooManyRequestsException`` as SES does. SES's
real quota is 1/s; ``--rate 10`` compresses time tenfold (botocore's retry
back-off is not compressed, so a run without the pacer looks relatively
better at 1/s than here: run ``--rate 1`` to see it at production speed).

The scan is the monitor's own (``run_scan`` over shards built by
``wiring.build_shards`` with a ``PacerRegistry``), in this process. DNS is a
stub that answers every domain as healthy at once, so the time measured is
SES's: the benchmark is about the pacer, and real DNS at this rate would be
the bottleneck instead (scale_benchmark.py measures DNS).

Four configurations, each ``--repeats`` times (medians reported):

* server unthrottled, no pacer: the baseline (loopback speed);
* server unthrottled, pacer at R: what pacing alone costs, ideally calls/R;
* server throttled at R, pacer at R: production;
* server throttled at R, no pacer (a pacer of ``--no-pacer-rate``): botocore's
  adaptive retries alone, to show what the pacer saves.

Per region: SES calls served, throttled responses, the region's SES time
(scan start to its last SES read, from moto's log), calls/R and the ratio.
Target: the production run's extra time over the baseline is at most 1.6 x
calls/R, with only a handful of throttled responses.

Results: /tmp/ses-dkim-monitor-bench/pacing.json (``--out``).

Usage: .venv/bin/python benchmarks/pacing_benchmark.py --rate 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (
    ACCOUNT_ID,
    MotoProcess,
    aws_env,
    machine,
    markdown_table,
    median,
    spread,
    tree_commit,
    use_tree,
    write_results,
)

EXTRA_TIME_TARGET = 1.6  # x calls/R


def stub_probe() -> Any:
    """A DnsProbe that answers every domain as healthy Easy DKIM at once: no DNS in the measurement."""
    from ses_dkim_monitor.scan.dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome
    from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
    from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
    from ses_dkim_monitor.settings import Nameserver
    from tests.support.ses_world import PUBLIC_KEY

    class StubProbe(DomainProbe):
        async def probe(self, req: ProbeRequest) -> DomainDns:
            await asyncio.sleep(0)
            tokens = tuple(
                DkimTokenDns(
                    token=t,
                    record=Lookup(
                        f"{t}._domainkey.{req.domain}", "CNAME", Outcome.ANSWER, values=(f"{t}.dkim.amazonses.com",)
                    ),
                    target_txt=Lookup(f"{t}.dkim.amazonses.com", "TXT", Outcome.ANSWER, values=(f"p={PUBLIC_KEY}",)),
                )
                for t in req.tokens
            )
            dmarc = Lookup(f"_dmarc.{req.domain}", "TXT", Outcome.ANSWER, values=("v=DMARC1; p=none",))
            self.dns.lookups += 2 * len(tokens) + 1
            return DomainDns(domain=req.domain, tokens=tokens, dmarc=dmarc)

    # The resolver is never used: it points at the discard port.
    resolver = make_resolver([Nameserver("127.0.0.1", 9)], timeout=1, lifetime=1)
    return StubProbe(DnsProbe(resolver, max_in_flight=50))


WHAT_IFS = ("none", "standard-retries")


def what_if(name: str) -> Any:
    """Benchmark-only variants of the client set-up, to test a change without touching src/. Returns an undo.

    * ``standard-retries``: the shards' clients get botocore's ``standard``
      retry mode instead of ``adaptive`` (same attempts and timeouts), so the
      pacer is the only thing that spaces requests out.

    (A ``pacer-last`` variant, moving the pacer's hook after botocore's
    adaptive rate limiter, found the fix now in scan/pacer.py.)
    """
    from botocore.config import Config

    import ses_dkim_monitor.wiring as wiring

    saved = wiring.CLIENT_CONFIG
    if name == "standard-retries":
        wiring.CLIENT_CONFIG = saved.merge(Config(retries={"mode": "standard", "max_attempts": 8}))

    def undo() -> None:
        wiring.CLIENT_CONFIG = saved

    return undo


def run_once(
    label: str, *, throttle: float, pacer_rate: float, args: argparse.Namespace, regions: list[str]
) -> dict[str, Any]:
    import boto3

    from ses_dkim_monitor.accounts import AccountTarget
    from ses_dkim_monitor.scan.engine import run_scan
    from ses_dkim_monitor.scan.pacer import PacerRegistry
    from ses_dkim_monitor.scan.zone_memory import InMemoryZoneMemory
    from ses_dkim_monitor.settings import Settings
    from ses_dkim_monitor.wiring import build_shards

    restore = what_if(args.what_if)
    with MotoProcess(domains=args.identities, regions=regions, throttle=throttle, burst=args.server_burst) as moto:
        os.environ.update(aws_env(moto.endpoint, regions[0]))
        settings = Settings.from_env({"SCAN_REGIONS": ",".join(regions), "AWS_REGION": regions[0]})
        registry = PacerRegistry(pacer_rate)
        plan = build_shards(
            settings,
            boto3.Session(),
            [AccountTarget(account_id=ACCOUNT_ID, role_arn=None)],
            regions=regions,
            run_id="bench",
            pacing=registry,
        )
        restore()
        started = time.monotonic()
        report = run_scan(
            plan.shards,
            stub_probe(),
            zones=InMemoryZoneMemory(),
            throttled=lambda: registry.total().throttled,
        )
        wall = time.monotonic() - started
        seen = moto.stop()
    reads = seen.get("reads", [])
    per_region = {}
    for region in regions:
        mine = [r for r in reads if r[1] == region]
        accepted = [r for r in mine if not r[3]]
        stats = registry.stats(ACCOUNT_ID, region).snapshot()
        calls = len(accepted)
        ses_seconds = (accepted[-1][0] - started) if accepted else None
        per_region[region] = {
            "calls": calls,
            "throttled_at_server": len(mine) - len(accepted),
            "throttled_seen_by_client": stats.throttled,
            "attempts_paced": stats.calls,
            "pacer_waited_seconds": round(stats.waited, 2),
            "ses_seconds": round(ses_seconds, 3) if ses_seconds is not None else None,
            "ideal_seconds": round(calls / throttle, 3) if throttle else round(calls / args.rate, 3),
            # Every SES read the server saw: seconds since the scan started, operation, throttled.
            "timeline": [(round(t - started, 3), op, throttled) for t, _, op, throttled in mine],
        }
    errors = [f"{e.region}: {e.reason}" for e in report.errors]
    return {
        "config": label,
        "server_throttle": throttle,
        "pacer_rate": pacer_rate,
        "wall_seconds": round(wall, 3),
        "identities_reported": len(report.identities),
        "statuses": {s: sum(1 for r in report.identities if r.status.value == s) for s in ("ok", "problem", "unknown")},
        "errors": errors,
        "regions": per_region,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10, help="R: SES requests/s per (account, region) (default 10)")
    parser.add_argument("--identities", type=int, default=3000, help="domain identities per region (default 3000)")
    parser.add_argument("--regions", default="us-east-1,eu-west-1", help="comma-separated regions (default two)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each configuration (default 3)")
    parser.add_argument(
        "--pacer-margin",
        type=float,
        default=None,
        help="pace at R x this (default: the monitor's own PACING_HEADROOM, as it runs; 1 paces at the quota)",
    )
    parser.add_argument(
        "--what-if", choices=WHAT_IFS, default="none", help="a benchmark-only variant of the clients (see what_if)"
    )
    parser.add_argument(
        "--configs",
        choices=("all", "throttled", "paced"),
        default="all",
        help="all four configurations; only the two against the throttled server; or only the paced one"
        " against it (both with the baseline)",
    )
    parser.add_argument("--server-burst", type=float, default=1.0, help="the server's bucket size (default 1)")
    parser.add_argument("--no-pacer-rate", type=float, default=1000, help="the pacer's rate for 'no pacer' runs")
    parser.add_argument("--tree", help="the source tree to measure (src/ and tests/support/); default this repository")
    parser.add_argument("--out", help="results JSON (default /tmp/ses-dkim-monitor-bench/pacing.json)")
    args = parser.parse_args()
    root = use_tree(args.tree)
    if args.pacer_margin is None:
        try:
            from ses_dkim_monitor.scan.pacer import PACING_HEADROOM
        except ImportError:  # a tree from before the headroom paced at the quota
            PACING_HEADROOM = 1.0
        args.pacer_margin = PACING_HEADROOM
    regions = args.regions.split(",")
    rate = args.rate
    paced = rate * args.pacer_margin
    configs = [
        ("server unthrottled, no pacer", 0.0, args.no_pacer_rate),
        (f"server unthrottled, pacer {paced:g}/s", 0.0, paced),
        (f"server throttled {rate:g}/s, pacer {paced:g}/s", rate, paced),
        (f"server throttled {rate:g}/s, no pacer", rate, args.no_pacer_rate),
    ]
    if args.configs == "throttled":
        configs = [configs[0], configs[2], configs[3]]
    elif args.configs == "paced":
        configs = [configs[0], configs[2]]
    results: dict[str, Any] = {
        "benchmark": "pacing",
        "what_if": args.what_if,
        "command": "benchmarks/pacing_benchmark.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "code": tree_commit(root),
        "rate": rate,
        "pacer_rate": paced,
        "server_burst": args.server_burst,
        "identities_per_region": args.identities,
        "regions": regions,
        "runs": [],
    }
    print(f"# Pacing: {args.identities} identities in each of {', '.join(regions)}, SES at {rate:g}/s per region")
    print(f"code under test: {results['code']}; {results['machine']}")
    for rep in range(args.repeats):
        for label, throttle, pacer_rate in configs:
            run = run_once(label, throttle=throttle, pacer_rate=pacer_rate, args=args, regions=regions)
            run["repeat"] = rep
            results["runs"].append(run)
            print(
                f"  [{rep + 1}/{args.repeats}] {label}: {run['wall_seconds']} s; "
                + "; ".join(
                    f"{r}: {v['calls']} calls, {v['throttled_at_server']} throttled, {v['ses_seconds']} s"
                    for r, v in run["regions"].items()
                )
                + (f"; ERRORS {run['errors']}" if run["errors"] else ""),
                flush=True,
            )
    write_results("pacing", results, args.out)  # the runs, even if summarising fails
    results["summary"] = summarise(results, configs, regions)
    print_summary(results, regions)
    path = write_results("pacing", results, args.out)
    print(f"\nresults: {path}")
    return 0


def summarise(results: dict[str, Any], configs: list[tuple[str, float, float]], regions: list[str]) -> dict[str, Any]:
    rate = results["rate"]
    out: dict[str, Any] = {}
    for label, _, _ in configs:
        runs = [r for r in results["runs"] if r["config"] == label]
        out[label] = {
            "wall_seconds": median(r["wall_seconds"] for r in runs),
            "errors": sum(len(r["errors"]) for r in runs),
        }
        for region in regions:
            found = [r["regions"][region] for r in runs]
            out[label][region] = {
                "calls": median(f["calls"] for f in found),
                "throttled": median(f["throttled_at_server"] for f in found),
                "throttled_range": spread(f["throttled_at_server"] for f in found),
                "ses_seconds": median(f["ses_seconds"] for f in found),
                "ses_seconds_range": spread(f["ses_seconds"] for f in found),
                "calls_over_rate": round(median(f["calls"] for f in found) / rate, 3),
            }
    labels = [label for label, _, _ in configs]
    baseline = out[labels[0]]
    production = out[next(k for k in labels if k.startswith("server throttled") and "no pacer" not in k)]
    unpaced = next((out[k] for k in labels if k.startswith("server throttled") and "no pacer" in k), None)
    verdict = {}
    for region in regions:
        ideal = production[region]["calls_over_rate"]
        extra = production[region]["ses_seconds"] - baseline[region]["ses_seconds"]
        verdict[region] = {
            "extra_seconds": round(extra, 2),
            "extra_over_ideal": round(extra / ideal, 2) if ideal else None,
            "met": extra <= EXTRA_TIME_TARGET * ideal,
            "throttled": production[region]["throttled"],
            "no_pacer_extra_over_ideal": round(
                (unpaced[region]["ses_seconds"] - baseline[region]["ses_seconds"]) / ideal, 2
            )
            if ideal and unpaced is not None
            else None,
        }
    out["verdict"] = verdict
    return out


def print_summary(results: dict[str, Any], regions: list[str]) -> None:
    summary = results["summary"]
    rows = []
    for label, found in summary.items():
        if label == "verdict":
            continue
        for region in regions:
            f = found[region]
            ratio = f["ses_seconds"] / f["calls_over_rate"] if f["calls_over_rate"] else None
            rows.append(
                [
                    label,
                    region,
                    f"{f['calls']:.0f}",
                    f"{f['throttled']:.0f} ({f['throttled_range']})",
                    f"{f['ses_seconds']:.2f} s ({f['ses_seconds_range']})",
                    f"{f['calls_over_rate']:.2f} s",
                    f"{ratio:.2f}" if ratio is not None else "-",
                ]
            )
    print("\n## Per region (medians; range over repeats)\n")
    print(
        markdown_table(
            [
                "configuration",
                "region",
                "SES calls",
                "throttled responses",
                "SES time",
                "calls/R",
                "SES time / (calls/R)",
            ],
            rows,
        )
    )
    print("\n## Target: throttled run's extra time over the baseline <= 1.6 x calls/R, a handful of throttles\n")
    rows = []
    for region, v in summary["verdict"].items():
        rows.append(
            [
                region,
                f"{v['extra_seconds']:.2f} s",
                f"{v['extra_over_ideal']:.2f} x calls/R",
                f"{v['throttled']:.0f}",
                "yes" if v["met"] else "no",
                f"{v['no_pacer_extra_over_ideal']:.2f} x calls/R"
                if v["no_pacer_extra_over_ideal"] is not None
                else "-",
            ]
        )
    print(
        markdown_table(
            [
                "region",
                "extra time (paced, throttled)",
                "as a multiple",
                "throttled responses",
                "met",
                "without the pacer",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
