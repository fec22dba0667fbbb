"""The real `ses-dkim-monitor check` at scale: memory, SES calls and DNS throughput for N identities.

What runs, all on 127.0.0.1:

* knotd serving one zone per domain (3 Easy DKIM CNAMEs and a DMARC record
  each) and SES's dkim.amazonses.com with the keys; dnsdist in front of it
  adding ``--delay-ms`` to every answer, as a real resolver's round trip
  (bare loopback answers in microseconds and would hide what concurrency
  buys), logging every query with its time;
* moto's server in a process of its own (benchmarks/moto_seeded.py), seeded
  with N healthy Easy DKIM domain identities straight into its backend,
  so its memory is not counted as the monitor's;
* the CLI, ``ses-dkim-monitor check --format json``, in a subprocess, with a
  high ``--ses-requests-per-second`` (50, the most the settings accept) so
  SES's 1 request/s does not hide everything else: its peak RSS (wait4's
  ru_maxrss of that process alone), RSS sampled every 50 ms, CPU time, and
  the JSON summary (ses_calls, dns_lookups);
* the bare dnspython pool (benchmarks/bare_dns_pool.py): the same queries,
  no monitor code, against the same dnsdist, in the same run.

The DNS phase is timed from dnsdist's query log (first to last query of the
CLI run), the SES phase from moto's (first to last SES read): both on the
machine's monotonic clock. Queries/s = the summary's dns_lookups / DNS phase.

Each size runs ``--repeats`` times (medians reported; the machine is shared
and noisy). Results: /tmp/ses-dkim-monitor-bench/scale.json (``--out``).

Usage: .venv/bin/python benchmarks/scale_benchmark.py --identities 10000 --delay-ms 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (
    PYTHON,
    REGION,
    Dnsdist,
    MotoProcess,
    Unbound,
    aws_env,
    domain_names,
    knot_zones,
    machine,
    markdown_table,
    median,
    mib,
    process_cpu_seconds,
    run_measured,
    spread,
    tree_commit,
    use_tree,
    write_results,
)

RSS_TARGET_MB = 150  # peak RSS of the CLI, megabytes (10^6 bytes)
# The configurations a run can compare: (resolver, DNS_QUERY_MODE, target: identities/s over the bare per-record
# pool's through the same resolver, or None).
CONFIGS: dict[str, tuple[str, str, float | None]] = {
    "unbound": ("unbound", "auto", 1.5),  # production's shape: a recursive resolver, one question per DKIM record
    "unbound-per-record": ("unbound", "per-record", None),  # the same resolver, asked per record (7 a domain)
    "direct": ("dnsdist", "auto", 0.7),  # an authoritative server alone: the probe falls back to per record
}
SES_CONSTANT = 5  # the "small constant" allowed over ceil(N/1000) + 2*ceil(N/100)


def ses_budget(n: int) -> int:
    return math.ceil(n / 1000) + 2 * math.ceil(n / 100)


def cli_command() -> list[str]:
    script = Path(PYTHON).with_name("ses-dkim-monitor")
    return [str(script)] if script.exists() else [PYTHON, "-m", "ses_dkim_monitor.cli"]


def http_seeding(sample: int) -> dict[str, Any]:
    """How long creating identities over moto's HTTP API takes (the alternative to seeding the backend)."""
    import boto3

    with MotoProcess(domains=0) as moto:
        env = aws_env(moto.endpoint)
        client = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        ).client("sesv2", endpoint_url=moto.endpoint)
        started = time.perf_counter()
        for name in domain_names(sample):
            client.create_email_identity(EmailIdentity=name)
        seconds = time.perf_counter() - started
    return {"identities": sample, "seconds": round(seconds, 2), "per_second": round(sample / seconds, 1)}


def server_cpu(servers: dict[str, int]) -> dict[str, float | None]:
    """CPU seconds so far of each stand-in server process (name -> pid)."""
    return {name: process_cpu_seconds(pid) for name, pid in servers.items()}


def cpu_between(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float | None]:
    return {
        name: round(after[name] - before[name], 2) if after.get(name) is not None and before[name] is not None else None
        for name in before
    }


def run_cli(
    n: int, config: str, resolver: str, dnsdist: Dnsdist, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """One CLI run over n identities through ``resolver`` (IP:PORT) in ``config``; what it took and reported."""
    with MotoProcess(domains=n, regions=args.region_list) as moto:
        cmd = [
            *cli_command(),
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            *(arg for region in args.region_list for arg in ("--region", region)),
            "--nameserver",
            resolver,
            "--ses-requests-per-second",
            str(args.ses_rate),
        ]
        env = aws_env(moto.endpoint)
        env["DNS_QUERY_MODE"] = CONFIGS[config][1]
        # The bare pool compares no name servers: by default neither does the CLI (suspect: only where SES or a
        # record looks wrong, none here). Whatever the mode, the zones' servers are the same dnsdist and knotd.
        env["CHECK_NAMESERVERS"] = args.nameservers
        env["DNS_AUTHORITATIVE_PORT"] = str(dnsdist.port)
        if args.dns_qps > 0:
            env["DNS_MAX_QUERIES_PER_SECOND"] = str(args.dns_qps)
        env.update(item.split("=", 1) for item in args.cli_env)  # type: ignore[misc]
        offset = dnsdist.log_offset()
        out, err = workdir / f"cli-{n}.json", workdir / f"cli-{n}.err"
        before = server_cpu(args.servers)
        measured = run_measured(cmd, env=env, stdout_path=out, stderr_path=err, timeout=args.timeout)
        servers = cpu_between(before, server_cpu(args.servers))
        seen = moto.stop()
    queries, dns_first, dns_last = dnsdist.window(offset)
    rates = dnsdist.per_second(offset)
    reads = seen.get("reads", [])
    ses_first = reads[0][0] if reads else None
    ses_last = reads[-1][0] if reads else None
    try:
        summary = json.loads(out.read_text())["summary"]
    except (ValueError, KeyError):
        summary = {}
        print(f"  CLI exited {measured.returncode}: {err.read_text()[-2000:]}", file=sys.stderr)
    lookups = summary.get("dns_lookups", 0)
    dns_seconds = (dns_last - dns_first) if dns_first is not None and dns_last is not None else None
    calls = summary.get("ses_calls", {})
    in_dns = measured.rss_between(dns_first, dns_last)
    before_dns = measured.rss_between(measured.started, dns_first)
    after_dns = measured.rss_between(dns_last, measured.started + measured.wall + 1)
    return {
        "identities": n,
        "config": config,
        "returncode": measured.returncode,
        "wall_seconds": round(measured.wall, 2),
        "cpu_seconds": round(measured.cpu, 2),
        "max_rss_kb": measured.max_rss_kb,
        "vm_hwm_kb": measured.hwm_kb,
        "rss_peak_before_dns_kb": max(before_dns) if before_dns else None,
        "rss_at_dns_start_kb": measured.rss_at(dns_first),
        "rss_at_ses_end_kb": measured.rss_at(ses_last),
        "rss_peak_in_dns_kb": max(in_dns) if in_dns else None,
        "rss_at_dns_end_kb": measured.rss_at(dns_last),
        "rss_peak_after_dns_kb": max(after_dns) if after_dns else None,
        "startup_seconds": round(ses_first - measured.started, 2) if ses_first else None,
        "ses_seconds": round(ses_last - ses_first, 2) if reads else None,
        "ses_reads_served": len(reads),
        "moto_cpu_seconds": seen.get("cpu_seconds"),
        "server_cpu_seconds": servers,  # what the stand-ins (Unbound, dnsdist, knotd) spent during the run
        "dns_seconds": round(dns_seconds, 2) if dns_seconds else None,
        "after_dns_seconds": round(measured.started + measured.wall - dns_last, 2) if dns_last else None,
        "dns_queries_at_dnsdist": queries,
        # Upstream queries (knotd's side) per second over the run, in quarters: a rate that falls as the run goes
        # on is something that grows with N.
        "upstream_rate_by_quarter": _quarters(rates),
        "dns_lookups": lookups,
        "dns_lookups_failed": summary.get("dns_lookups_failed"),
        "dns_queries_per_second": round(lookups / dns_seconds, 1) if dns_seconds else None,
        "identities_per_second": round(n * len(args.region_list) / dns_seconds, 1) if dns_seconds else None,
        "lookups_per_identity": round(lookups / (n * len(args.region_list)), 2) if n else None,
        "ses_calls": calls,
        "ses_calls_total": sum(calls.values()),
        "ses_throttled": summary.get("ses_throttled"),
        "report": {k: summary.get(k) for k in ("identities", "ok", "problem", "unknown", "out_of_time")},
        "json_bytes": out.stat().st_size,
        "rss_samples": [
            (round(t - measured.started, 2), kb) for t, kb in measured.rss[:: max(1, len(measured.rss) // 400)]
        ],
    }


def _quarters(counts: list[int]) -> list[float]:
    """Mean queries per second in each quarter of a run's seconds (the first and last seconds left out)."""
    inner = counts[1:-1]
    if len(inner) < 4:
        return []
    size = len(inner) / 4
    return [
        round(sum(inner[int(i * size) : int((i + 1) * size)]) / max(1, int((i + 1) * size) - int(i * size)), 1)
        for i in range(4)
    ]


def run_bare(
    n: int, resolver: str, args: argparse.Namespace, workdir: Path, dnsdist: Dnsdist | None = None
) -> dict[str, Any]:
    cmd = [
        PYTHON,
        str(Path(__file__).with_name("bare_dns_pool.py")),
        "--nameserver",
        resolver,
        "--domains",
        str(n),
        "--workers",
        args.bare_workers,
        "--tree",
        str(args.tree_root),
        "--max-qps",
        str(args.dns_qps),
    ]
    out, err = workdir / "bare.json", workdir / "bare.err"
    offset = dnsdist.log_offset() if dnsdist is not None else 0
    before = server_cpu(args.servers)
    measured = run_measured(cmd, env=dict(os.environ), stdout_path=out, stderr_path=err, timeout=args.timeout)
    result = json.loads(out.read_text())
    result["server_cpu_seconds"] = cpu_between(before, server_cpu(args.servers))
    if dnsdist is not None:  # every worker count in turn: the quarters of the whole, for the trend only
        result["upstream_rate_by_quarter"] = _quarters(dnsdist.per_second(offset))
    result["max_rss_kb"] = measured.max_rss_kb
    result["identities"] = n
    for r in result["runs"]:
        r["identities_per_second"] = round(r["domains"] / r["seconds"], 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=10000, help="the largest N (default 10000)")
    parser.add_argument("--sizes", help="comma-separated N to run (default: N/4, N/2, N)")
    parser.add_argument(
        "--regions",
        default=REGION,
        help="comma-separated regions, N identities in each (default us-east-1; the bare pool asks the first's)",
    )
    parser.add_argument("--delay-ms", type=int, default=10, help="added to every DNS answer by dnsdist (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each size; medians are reported (default 3)")
    parser.add_argument("--ses-rate", type=float, default=50, help="--ses-requests-per-second for the CLI (max 50)")
    parser.add_argument(
        "--configs",
        default="unbound,direct",
        help=f"comma-separated, each run in turn: {', '.join(CONFIGS)} (default unbound,direct)",
    )
    parser.add_argument(
        "--nameservers",
        default="suspect",
        help="CHECK_NAMESERVERS for the CLI (default suspect, which asks no server of a healthy domain; the "
        "default sample adds about 4 %% of DNS work, measured by nameserver_benchmark.py)",
    )
    parser.add_argument(
        "--cli-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the CLI, e.g. DNS_MAX_IN_FLIGHT=100 (repeatable)",
    )
    parser.add_argument(
        "--bare-workers", default="12,50", help="worker counts of the bare pool (default 12,50; empty: none)"
    )
    parser.add_argument(
        "--dns-qps",
        type=float,
        default=0.0,
        help="cap both sides at this many queries/s to their resolver (the CLI's DNS_MAX_QUERIES_PER_SECOND, the "
        "bare pool's --max-qps): production's regime, where a VPC resolver limits packets/s (default 0: no cap)",
    )
    parser.add_argument(
        "--http-seed-sample",
        type=int,
        default=0,
        help="identities created over HTTP to time that way of seeding (default 0: skip)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (default 1800)")
    parser.add_argument("--tree", help="the source tree to measure (src/ and tests/support/); default this repository")
    parser.add_argument("--out", help="results JSON (default /tmp/ses-dkim-monitor-bench/scale.json)")
    args = parser.parse_args()
    args.tree_root = use_tree(args.tree)
    args.region_list = args.regions.split(",")
    configs = [c for c in args.configs.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown --configs {unknown}: choose from {', '.join(CONFIGS)}")
    from tests.support.knot import KnotServer

    n_max = args.identities
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else sorted({max(1, n_max // 4), max(1, n_max // 2), n_max})
    )
    n_max = max(sizes)
    results: dict[str, Any] = {
        "benchmark": "scale",
        "command": "benchmarks/scale_benchmark.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "load_average_at_start": os.getloadavg(),
        "code": tree_commit(args.tree_root),
        "delay_ms": args.delay_ms,
        "ses_requests_per_second": args.ses_rate,
        "dns_qps_cap": args.dns_qps or None,
        "sizes": sizes,
        "configs": configs,
        "regions": len(args.region_list),
        "region_names": args.region_list,
    }
    cap = f", both sides capped at {args.dns_qps:g} queries/s" if args.dns_qps > 0 else ""
    print(f"# Scale: the CLI over {', '.join(map(str, sizes))} identities, {args.delay_ms} ms per DNS answer{cap}")
    print(f"code under test: {results['code']}; {results['machine']}; load {results['load_average_at_start']}")

    if args.http_seed_sample > 0:
        seeding = http_seeding(args.http_seed_sample)
        seeding["extrapolated_seconds_for_max"] = round(n_max / seeding["per_second"], 1)
        results["http_seeding"] = seeding
        print(
            f"seeding over HTTP: {seeding['identities']} create_email_identity in {seeding['seconds']} s "
            f"({seeding['per_second']}/s, about {seeding['extrapolated_seconds_for_max']} s for {n_max}); "
            "and moto leaves them NOT_STARTED without tokens, so the benchmark seeds moto's backend instead"
        )

    zones = knot_zones(domain_names(n_max), args.region_list)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    with contextlib.ExitStack() as stack:
        knot = stack.enter_context(KnotServer(zones))
        results["knot_start_seconds"] = round(time.perf_counter() - started, 2)
        print(f"knotd: {len(zones)} zones served after {results['knot_start_seconds']} s")
        dnsdist = stack.enter_context(Dnsdist(knot.port, args.delay_ms))
        resolvers = {"dnsdist": dnsdist.address}
        args.servers = {"knotd": knot.proc.pid if knot.proc else 0, "dnsdist": dnsdist.proc.pid if dnsdist.proc else 0}
        if any(CONFIGS[c][0] == "unbound" for c in configs):
            # dkim.amazonses.com first: Unbound's start-up probe asks the first zone's SOA.
            unbound = stack.enter_context(Unbound(dnsdist.address, ["dkim.amazonses.com", "test"]))
            resolvers["unbound"] = unbound.address
            if unbound.resolver.proc is not None:
                args.servers["unbound"] = unbound.resolver.proc.pid
            print(f"unbound: {unbound.address}, forwarding to dnsdist {dnsdist.address}, cache off")
        runs: list[dict[str, Any]] = []
        bare: list[dict[str, Any]] = []
        for rep in range(args.repeats):
            for n in sizes:
                for config in configs:
                    run = run_cli(n, config, resolvers[CONFIGS[config][0]], dnsdist, args, workdir)
                    run["repeat"] = rep
                    runs.append(run)
                    print(
                        f"  [{rep + 1}/{args.repeats}] CLI N={n} {config}: exit {run['returncode']}, "
                        f"{run['wall_seconds']} s, peak RSS {mib(run['max_rss_kb'])}, {run['ses_calls_total']} SES "
                        f"calls, {run['dns_lookups']} lookups ({run['lookups_per_identity']}/identity) in "
                        f"{run['dns_seconds']} s = {run['identities_per_second']} identities/s; upstream q/s by "
                        f"quarter {run['upstream_rate_by_quarter']}",
                        flush=True,
                    )
                if not args.bare_workers:
                    continue
                for kind in dict.fromkeys(CONFIGS[c][0] for c in configs):
                    found = run_bare(n, resolvers[kind], args, workdir, dnsdist)
                    found["repeat"] = rep
                    found["resolver"] = kind
                    bare.append(found)
                    print(
                        f"  [{rep + 1}/{args.repeats}] bare per-record pool N={n} via {kind}: "
                        + ", ".join(
                            f"{r['workers']} workers {r['identities_per_second']} identities/s" for r in found["runs"]
                        )
                        + f"; upstream q/s by quarter {found.get('upstream_rate_by_quarter')}",
                        flush=True,
                    )
    results["runs"] = runs
    results["bare_pool"] = bare
    results.update(summarise(results, sizes, configs))
    print_summary(results, sizes, configs)
    path = write_results("scale", results, args.out)
    print(f"\nresults: {path}")
    return 0


def _best_bare(bare: list[dict[str, Any]], kind: str, n: int, rep: int) -> float | None:
    """The bare pool's best identities/s (over its worker counts) through ``kind`` at ``n`` in repeat ``rep``."""
    found = [
        r["identities_per_second"]
        for b in bare
        if b["resolver"] == kind and b["identities"] == n and b["repeat"] == rep
        for r in b["runs"]
    ]
    return max(found) if found else None


def summarise(results: dict[str, Any], sizes: list[int], configs: list[str]) -> dict[str, Any]:
    runs, bare = results["runs"], results["bare_pool"]
    keys = [
        "wall_seconds",
        "cpu_seconds",
        "max_rss_kb",
        "vm_hwm_kb",
        "rss_peak_before_dns_kb",
        "rss_at_dns_start_kb",
        "rss_at_ses_end_kb",
        "rss_peak_in_dns_kb",
        "rss_at_dns_end_kb",
        "rss_peak_after_dns_kb",
        "startup_seconds",
        "ses_seconds",
        "dns_seconds",
        "after_dns_seconds",
        "dns_lookups",
        "dns_queries_per_second",
        "identities_per_second",
        "lookups_per_identity",
        "ses_calls_total",
        "json_bytes",
    ]
    per_config: dict[str, dict[str, Any]] = {}
    for config in configs:
        kind = CONFIGS[config][0]
        per_size: dict[str, Any] = {}
        for n in sizes:
            mine = [r for r in runs if r["identities"] == n and r["config"] == config]
            s = {k: median(r[k] for r in mine) for k in keys}
            s["identities_per_second_range"] = spread(r["identities_per_second"] for r in mine)
            s["max_rss_kb_range"] = spread(r["max_rss_kb"] for r in mine)
            s["ses_calls"] = mine[0]["ses_calls"] if mine else {}
            s["returncodes"] = sorted({r["returncode"] for r in mine})
            s["dns_lookups_failed"] = max((r["dns_lookups_failed"] or 0) for r in mine) if mine else None
            s["cpu_ms_per_lookup"] = median(
                r["cpu_seconds"] * 1000 / r["dns_lookups"] for r in mine if r["dns_lookups"]
            )
            s["cpu_ms_per_identity"] = median(r["cpu_seconds"] * 1000 / n for r in mine)
            ratios = []
            for r in mine:
                reference = _best_bare(bare, kind, n, r["repeat"])
                if reference and r["identities_per_second"]:
                    ratios.append(r["identities_per_second"] / reference)
            s["bare_identities_per_second"] = median(_best_bare(bare, kind, n, r["repeat"]) for r in mine)
            s["ratio_to_bare"] = round(median(ratios), 3) if ratios else None
            s["ratio_to_bare_range"] = spread(ratios)
            s["ratio_to_bare_runs"] = [round(x, 3) for x in ratios]
            per_size[str(n)] = s
        per_config[config] = per_size
    bare_cpu = {
        kind: median(
            b["cpu_seconds"] * 1000 / sum(r["queries"] for r in b["runs"]) for b in bare if b["resolver"] == kind
        )
        for kind in {b["resolver"] for b in bare}
    }
    # What the projection reads: the first configuration at the largest size.
    top = per_config[configs[0]][str(max(sizes))]
    return {
        "per_config": per_config,
        "per_size": per_config[configs[0]],
        "bare_cpu_ms_per_query": bare_cpu,
        "dns_qps_ratio": top["ratio_to_bare"],
        "cli_cpu_ms_per_lookup": top["cpu_ms_per_lookup"],
        "bare_pool_qps_median": {
            kind: median(
                max(r["queries_per_second"] for r in b["runs"])
                for b in bare
                if b["resolver"] == kind and b["identities"] == max(sizes)
            )
            for kind in {b["resolver"] for b in bare}
        },
    }


def print_summary(results: dict[str, Any], sizes: list[int], configs: list[str]) -> None:
    print("\n## Memory and SES calls (medians)\n")
    rows = []
    for config in configs:
        for n in sizes:
            s = results["per_config"][config][str(n)]
            budget = ses_budget(n) * results["regions"]
            rows.append(
                [
                    config,
                    f"{n:,}",
                    f"{mib(s['max_rss_kb'])} ({s['max_rss_kb_range']} KiB)",
                    mib(s["rss_peak_in_dns_kb"]),
                    f"{s['ses_calls_total']:.0f} (budget {budget} + {SES_CONSTANT})",
                    f"{s['wall_seconds']:.1f} s",
                    f"{s['returncodes']}",
                ]
            )
    print(
        markdown_table(
            ["config", "N", "peak RSS (GNU time %M, range)", "peak RSS in DNS phase", "SES calls", "wall", "exit"],
            rows,
        )
    )

    print(f"\n## DNS throughput at {results['delay_ms']} ms per answer (medians; ratios per repeat, same run)\n")
    rows = []
    for config in configs:
        for n in sizes:
            s = results["per_config"][config][str(n)]
            rows.append(
                [
                    config,
                    f"{n:,}",
                    f"{s['lookups_per_identity']:.2f}",
                    f"{s['dns_seconds']:.1f} s",
                    f"{s['identities_per_second']:.0f} ({s['identities_per_second_range']})",
                    f"{s['bare_identities_per_second'] or 0:.0f}",
                    f"**{s['ratio_to_bare']}** ({s['ratio_to_bare_range']})",
                    f"{s['cpu_ms_per_identity']:.2f} ms",
                    f"{s['dns_lookups_failed']}",
                ]
            )
    print(
        markdown_table(
            [
                "config",
                "N",
                "queries per identity",
                "DNS phase",
                "monitor identities/s (range)",
                "bare per-record pool identities/s (7 queries each)",
                "ratio (range)",
                "CLI CPU per identity",
                "lookups failed",
            ],
            rows,
        )
    )
    print(f"\nbare pool CPU per query: {results['bare_cpu_ms_per_query']}")

    n_max = max(sizes)
    table = []
    for config in configs:
        s = results["per_config"][config][str(n_max)]
        rss_mb = s["max_rss_kb"] * 1024 / 1e6
        table.append(
            [
                f"{config}: peak RSS at N={n_max:,} <= {RSS_TARGET_MB} MB",
                f"{rss_mb:.0f} MB",
                "yes" if rss_mb <= RSS_TARGET_MB else "no",
            ]
        )
        target = CONFIGS[config][2]
        if target is not None:
            for n in sizes:
                ratio = results["per_config"][config][str(n)]["ratio_to_bare"]
                table.append(
                    [
                        f"{config} at N={n:,}: identities/s >= {target} x the bare per-record pool's, same resolver",
                        f"{ratio}",
                        "-" if ratio is None else ("yes" if ratio >= target else "no"),
                    ]
                )
    print("\n## Targets\n")
    print(markdown_table(["target", "measured", "met"], table))


if __name__ == "__main__":
    sys.exit(main())
