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
    aws_env,
    domain_names,
    knot_zones,
    machine,
    markdown_table,
    median,
    mib,
    run_measured,
    spread,
    tree_commit,
    use_tree,
    write_results,
)

RSS_TARGET_MB = 150  # peak RSS of the CLI, megabytes (10^6 bytes)
QPS_TARGET = 0.7  # the monitor's DNS queries/s over the bare pool's
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


def run_cli(n: int, dnsdist: Dnsdist, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One CLI run over n identities; what it took and what it reported."""
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
            dnsdist.address,
            "--ses-requests-per-second",
            str(args.ses_rate),
        ]
        offset = dnsdist.log_offset()
        out, err = workdir / f"cli-{n}.json", workdir / f"cli-{n}.err"
        measured = run_measured(cmd, env=aws_env(moto.endpoint), stdout_path=out, stderr_path=err, timeout=args.timeout)
        seen = moto.stop()
    queries, dns_first, dns_last = dnsdist.window(offset)
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
        "dns_seconds": round(dns_seconds, 2) if dns_seconds else None,
        "after_dns_seconds": round(measured.started + measured.wall - dns_last, 2) if dns_last else None,
        "dns_queries_at_dnsdist": queries,
        "dns_lookups": lookups,
        "dns_lookups_failed": summary.get("dns_lookups_failed"),
        "dns_queries_per_second": round(lookups / dns_seconds, 1) if dns_seconds else None,
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


def run_bare(n: int, dnsdist: Dnsdist, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    cmd = [
        PYTHON,
        str(Path(__file__).with_name("bare_dns_pool.py")),
        "--nameserver",
        dnsdist.address,
        "--domains",
        str(n),
        "--workers",
        args.bare_workers,
        "--tree",
        str(args.tree_root),
    ]
    out, err = workdir / "bare.json", workdir / "bare.err"
    measured = run_measured(cmd, env=dict(os.environ), stdout_path=out, stderr_path=err, timeout=args.timeout)
    result = json.loads(out.read_text())
    result["max_rss_kb"] = measured.max_rss_kb
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
        "--bare-workers", default="12,50", help="worker counts of the bare pool (default 12,50; empty: none)"
    )
    parser.add_argument(
        "--http-seed-sample",
        type=int,
        default=500,
        help="identities created over HTTP to time that way of seeding (0: skip)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (default 1800)")
    parser.add_argument("--tree", help="the source tree to measure (src/ and tests/support/); default this repository")
    parser.add_argument("--out", help="results JSON (default /tmp/ses-dkim-monitor-bench/scale.json)")
    args = parser.parse_args()
    args.tree_root = use_tree(args.tree)
    args.region_list = args.regions.split(",")
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
        "code": tree_commit(args.tree_root),
        "delay_ms": args.delay_ms,
        "ses_requests_per_second": args.ses_rate,
        "sizes": sizes,
        "regions": len(args.region_list),
        "region_names": args.region_list,
    }
    print(f"# Scale: the CLI over {', '.join(map(str, sizes))} identities, {args.delay_ms} ms per DNS answer")
    print(f"code under test: {results['code']}; {results['machine']}")

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
    with KnotServer(zones) as knot:
        results["knot_start_seconds"] = round(time.perf_counter() - started, 2)
        print(f"knotd: {len(zones)} zones served after {results['knot_start_seconds']} s")
        with Dnsdist(knot.port, args.delay_ms) as dnsdist:
            runs: list[dict[str, Any]] = []
            bare: list[dict[str, Any]] = []
            for rep in range(args.repeats):
                for n in sizes:
                    run = run_cli(n, dnsdist, args, workdir)
                    run["repeat"] = rep
                    runs.append(run)
                    print(
                        f"  [{rep + 1}/{args.repeats}] CLI N={n}: exit {run['returncode']}, {run['wall_seconds']} s, "
                        f"peak RSS {mib(run['max_rss_kb'])}, {run['ses_calls_total']} SES calls, "
                        f"{run['dns_lookups']} lookups in {run['dns_seconds']} s = {run['dns_queries_per_second']}/s",
                        flush=True,
                    )
                if not args.bare_workers:
                    continue
                found = run_bare(n_max, dnsdist, args, workdir)
                found["repeat"] = rep
                bare.append(found)
                print(
                    f"  [{rep + 1}/{args.repeats}] bare pool N={n_max}: "
                    + ", ".join(f"{r['workers']} workers {r['queries_per_second']}/s" for r in found["runs"]),
                    flush=True,
                )
    results["runs"] = runs
    results["bare_pool"] = bare
    results.update(summarise(results, sizes))
    print_summary(results, sizes)
    path = write_results("scale", results, args.out)
    print(f"\nresults: {path}")
    return 0


def summarise(results: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    runs, bare = results["runs"], results["bare_pool"]
    per_size = {}
    for n in sizes:
        mine = [r for r in runs if r["identities"] == n]
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
            "lookups_per_identity",
            "ses_calls_total",
            "json_bytes",
        ]
        per_size[str(n)] = {k: median(r[k] for r in mine) for k in keys}
        per_size[str(n)]["dns_queries_per_second_range"] = spread(r["dns_queries_per_second"] for r in mine)
        per_size[str(n)]["max_rss_kb_range"] = spread(r["max_rss_kb"] for r in mine)
        per_size[str(n)]["ses_calls"] = mine[0]["ses_calls"] if mine else {}
        per_size[str(n)]["returncodes"] = sorted({r["returncode"] for r in mine})
        per_size[str(n)]["dns_lookups_failed"] = max((r["dns_lookups_failed"] or 0) for r in mine) if mine else None
    by_workers: dict[int, list[float]] = {}
    for found in bare:
        for r in found["runs"]:
            by_workers.setdefault(r["workers"], []).append(r["queries_per_second"])
    bare_median = {w: median(v) for w, v in sorted(by_workers.items())}
    best_workers = max(bare_median, key=lambda w: bare_median[w] or 0) if bare_median else None
    n_max = max(sizes)
    monitor_qps = per_size[str(n_max)]["dns_queries_per_second"]
    best = bare_median.get(best_workers) if best_workers else None
    cpu_per_lookup = [
        r["cpu_seconds"] / r["dns_lookups"] for r in runs if r["identities"] == n_max and r["dns_lookups"]
    ]
    bare_cpu = [b["cpu_seconds"] / sum(r["queries"] for r in b["runs"]) for b in bare if b["runs"]]
    return {
        "per_size": per_size,
        "bare_pool_qps_median": bare_median,
        "bare_pool_best_workers": best_workers,
        "dns_qps_ratio": round(monitor_qps / best, 3) if monitor_qps and best else None,
        "cli_cpu_ms_per_lookup": round(1000 * median(cpu_per_lookup), 3) if cpu_per_lookup else None,
        "bare_cpu_ms_per_query": round(1000 * median(bare_cpu), 3) if bare_cpu else None,
    }


def print_summary(results: dict[str, Any], sizes: list[int]) -> None:
    per_size = results["per_size"]
    n_max = max(sizes)
    print("\n## Memory and SES calls (medians)\n")
    rows = []
    for n in sizes:
        s = per_size[str(n)]
        budget = ses_budget(n) * results["regions"]
        rows.append(
            [
                f"{n:,}",
                f"{mib(s['max_rss_kb'])} ({s['max_rss_kb_range']} KiB)",
                mib(s["vm_hwm_kb"]),
                mib(s["rss_peak_before_dns_kb"]),
                mib(s["rss_peak_in_dns_kb"]),
                mib(s["rss_peak_after_dns_kb"]),
                f"{s['ses_calls_total']:.0f} ({', '.join(f'{k} {v}' for k, v in s['ses_calls'].items())})",
                f"{budget} + {SES_CONSTANT}",
                f"{s['wall_seconds']:.1f} s",
                f"{s['returncodes']}",
            ]
        )
    print(
        markdown_table(
            [
                "N",
                "peak RSS (GNU time %M, range)",
                "VmHWM",
                "peak RSS before DNS (imports, first batch)",
                "peak RSS in DNS phase",
                "peak RSS after DNS (report)",
                "SES calls",
                "budget ceil(N/1000)+2ceil(N/100) + c",
                "wall",
                "exit",
            ],
            rows,
        )
    )
    if len(sizes) > 1:
        lo, hi = per_size[str(sizes[0])], per_size[str(sizes[-1])]
        slope = (hi["max_rss_kb"] - lo["max_rss_kb"]) / 1024 / ((sizes[-1] - sizes[0]) / 1000)
        dns_slope = (hi["rss_peak_in_dns_kb"] - lo["rss_peak_in_dns_kb"]) / 1024 / ((sizes[-1] - sizes[0]) / 1000)
        results["rss_mib_per_1000_identities"] = round(slope, 2)
        results["dns_phase_rss_mib_per_1000_identities"] = round(dns_slope, 2)
        print(
            f"\npeak RSS grows {slope:.2f} MiB per 1,000 identities; peak RSS in the DNS phase {dns_slope:.2f} MiB "
            "per 1,000 identities"
        )

    print(f"\n## DNS throughput at {results['delay_ms']} ms per answer (medians)\n")
    rows = []
    for n in sizes:
        s = per_size[str(n)]
        rows.append(
            [
                f"{n:,}",
                f"{s['dns_lookups']:.0f}",
                f"{s['lookups_per_identity']:.2f}",
                f"{s['startup_seconds']:.2f} s",
                f"{s['ses_seconds']:.2f} s",
                f"{s['dns_seconds']:.2f} s",
                f"{s['after_dns_seconds']:.2f} s",
                f"{s['dns_queries_per_second']:.0f} ({s['dns_queries_per_second_range']})",
            ]
        )
    print(
        markdown_table(
            [
                "N",
                "lookups",
                "per identity",
                "start-up to 1st SES call",
                "SES phase",
                "DNS phase",
                "after DNS (report)",
                "monitor queries/s (range)",
            ],
            rows,
        )
    )
    bare = results["bare_pool_qps_median"]
    print(f"\nbare dnspython pool, N={n_max:,}: " + ", ".join(f"{w} workers {q:.0f}/s" for w, q in bare.items()))
    print(
        f"CPU per lookup: CLI {results['cli_cpu_ms_per_lookup']} ms (whole process), bare pool "
        f"{results['bare_cpu_ms_per_query']} ms"
    )

    s = per_size[str(n_max)]
    rss_mb = s["max_rss_kb"] * 1024 / 1e6
    regions = results["regions"]
    calls_ok = all(per_size[str(n)]["ses_calls_total"] <= regions * (ses_budget(n) + SES_CONSTANT) for n in sizes)
    ratio = results["dns_qps_ratio"]
    print("\n## Targets\n")
    print(
        markdown_table(
            ["target", "measured", "met"],
            [
                [
                    f"peak RSS at N={n_max:,} <= {RSS_TARGET_MB} MB",
                    f"{rss_mb:.0f} MB ({mib(s['max_rss_kb'])})",
                    "yes" if rss_mb <= RSS_TARGET_MB else f"no, by {rss_mb - RSS_TARGET_MB:.0f} MB",
                ],
                [
                    "peak RSS in the DNS phase does not grow with N",
                    f"{results.get('dns_phase_rss_mib_per_1000_identities', '-')} MiB per 1,000 identities",
                    "see table",
                ],
                [
                    "SES calls <= ceil(N/1000) + 2*ceil(N/100) + c",
                    ", ".join(f"{per_size[str(n)]['ses_calls_total']:.0f}/{regions * ses_budget(n)}" for n in sizes),
                    "yes" if calls_ok else "no",
                ],
                [
                    f"DNS queries/s >= {QPS_TARGET} x bare pool's best ({results['bare_pool_best_workers']} workers)",
                    f"{ratio}" if ratio is not None else "-",
                    "-" if ratio is None else ("yes" if ratio >= QPS_TARGET else f"no, {ratio:.2f} < {QPS_TARGET}"),
                ],
            ],
        )
    )


if __name__ == "__main__":
    sys.exit(main())
