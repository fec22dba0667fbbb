"""Production wall time, projected from what the benchmarks measured: SES at 1 request/s per shard.

A shard is one (account, region). For N domain identities in each of R
regions of A accounts (S = R x A shards):

* SES time of a shard = calls(N) x pacing factor / rate, with calls(N) =
  ceil(N/1000) + 2 x ceil(N/100) (the inventory's budget; healthy domains
  need no GetEmailIdentity) and the pacing factor measured by
  pacing_benchmark.py (a throttled, paced run's SES time over calls/R).
  Shards run side by side, at most 32 at once (the engine's reader threads),
  so one invocation's SES time is ceil(S/32) x a shard's.
* DNS time = S x N x lookups per identity / queries per second, both measured
  by scale_benchmark.py (one DNS pool serves every shard of an invocation).
* One invocation: max(SES, DNS) + the last batch's DNS, since the engine
  probes each batch of 100 while SES reads the next (scale_benchmark.py
  shows the two phases overlapping; ``--ses-rate`` there makes them equal to
  check it). SES + DNS, the upper bound, is shown next to it. Lambda stops
  an invocation at 15 minutes.
* In a VPC (``--vpc-cap``): the resolver's 1,024 packets/s per network
  interface, shared by concurrent invocations, caps each one's queries, so
  the queries per identity set a shard's DNS time (``vpc_rows``); shown for
  asking per record and for one question per DKIM record.
* Fan-out, as the code does it (runs.py, template.yaml): more shards than
  SHARDS_PER_INVOCATION (12) are queued one message per shard, the queue's
  BatchSize is 1, so S invocations of one shard each, MaximumConcurrency C at
  once: end to end = the fan-out invocation + ceil(S/C) x (one shard's
  invocation + start-up). Also shown: groups of SHARDS_PER_INVOCATION shards
  per invocation (ceil(S/12) invocations), the model the issue describes.

Start-up per invocation (init, STS) is taken as the CLI's measured start-up
to its first SES call. ``--lambda-memory-mb`` adds a column for DNS bound by
the function's CPU share (Lambda gives 1 vCPU at 1,769 MB, proportionally
less below), from the CLI's measured CPU time per lookup on this machine.

Usage: .venv/bin/python benchmarks/projection.py --from-results /tmp/ses-dkim-monitor-bench/scale.json \\
           --from-results /tmp/ses-dkim-monitor-bench/pacing.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import markdown_table, median, write_results

LAMBDA_LIMIT = 900.0
READER_THREADS = 32  # scan/engine.py MAX_READER_THREADS
BATCH = 100  # identities per inventory batch
VCPU_MB = 1769  # Lambda: one full vCPU at this memory size

DEFAULT_ROWS = "1000x1x1,10000x1x1,10000x3x1,1000x3x100"
TARGETS = {
    (10000, 3, 1): ("one invocation <= 5 min", "one", 300.0),
    (1000, 3, 100): ("end to end with fan-out <= 15 min", "fanout", 900.0),
}


def ses_calls(n: int) -> int:
    return math.ceil(n / 1000) + 2 * math.ceil(n / 100)


def load_inputs(paths: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"sources": []}
    for path in paths:
        data = json.loads(Path(path).read_text())
        found["sources"].append({"path": path, "benchmark": data.get("benchmark"), "date": data["machine"]["date"]})
        if data.get("benchmark") == "scale":
            top = str(max(data["sizes"]))
            size = data["per_size"][top]
            found["dns_qps"] = size["dns_queries_per_second"]
            found["lookups_per_identity"] = size["lookups_per_identity"]
            found["startup_seconds"] = size["startup_seconds"]
            found["cpu_ms_per_lookup"] = data.get("cli_cpu_ms_per_lookup")
            found["delay_ms"] = data.get("delay_ms")
            found["bare_qps"] = max(v for v in data["bare_pool_qps_median"].values() if v)
            # Queries per identity each way the scale benchmark measured (one question per DKIM record through
            # a recursive resolver; per record straight at an authoritative server or when forced).
            for config, sizes in data.get("per_config", {}).items():
                found.setdefault("lookups_by_config", {})[config] = sizes[top]["lookups_per_identity"]
        elif data.get("benchmark") == "pacing":
            summary = data["summary"]
            paced = next(v for k, v in summary.items() if k.startswith("server throttled") and "no pacer" not in k)
            factors = [
                paced[r]["ses_seconds"] / paced[r]["calls_over_rate"]
                for r in data["regions"]
                if paced[r]["calls_over_rate"]
            ]
            found["pacing_factor"] = round(median(factors) or 1.0, 3)
            found["pacing_rate"] = data["rate"]
    return found


def project(n: int, regions: int, accounts: int, p: dict[str, Any]) -> dict[str, Any]:
    shards = regions * accounts
    shard_ses = ses_calls(n) * p["pacing_factor"] / p["ses_rate"]
    lookups_shard = n * p["lookups_per_identity"]
    qps = p["dns_qps"]
    startup = p["startup_seconds"]

    def invocation(k: int, dns_qps: float) -> tuple[float, float, float, float]:
        """(SES, DNS, sum, pipelined) seconds for one invocation of k shards."""
        ses = math.ceil(k / READER_THREADS) * shard_ses
        dns = k * lookups_shard / dns_qps
        pipelined = max(ses, dns) + min(k, READER_THREADS) * BATCH * p["lookups_per_identity"] / dns_qps
        return ses, dns, startup + ses + dns, startup + pipelined

    ses, dns, one_sum, one_pipe = invocation(shards, qps)
    out: dict[str, Any] = {
        "identities_per_shard": n,
        "regions": regions,
        "accounts": accounts,
        "shards": shards,
        "ses_calls_per_shard": ses_calls(n),
        "ses_seconds": ses,
        "dns_lookups": shards * lookups_shard,
        "dns_seconds": dns,
        "one_invocation_seconds": one_sum,
        "one_invocation_pipelined_seconds": one_pipe,
    }
    if p.get("cpu_ms_per_lookup") and p.get("lambda_memory_mb"):
        share = min(1.0, p["lambda_memory_mb"] / VCPU_MB)
        cpu_qps = min(qps, share * 1000 / p["cpu_ms_per_lookup"])
        out["lambda_cpu_dns_qps"] = cpu_qps
        out["one_invocation_lambda_cpu_seconds"] = invocation(shards, cpu_qps)[3]
    fanout = shards > p["shards_per_invocation"]
    out["fans_out"] = fanout
    # The fan-out invocation itself: list the accounts, queue the messages (10 a call), ~0.1 s each.
    planner = startup + math.ceil(shards / 10) * 0.1
    for c in p["concurrency"]:
        per_shard = invocation(1, qps)[3]
        out[f"code_fanout_c{c}_seconds"] = planner + math.ceil(shards / c) * per_shard if fanout else one_pipe
        group = p["shards_per_invocation"]
        invocations = math.ceil(shards / group)
        per_group = invocation(min(group, shards), qps)[3]
        out[f"grouped_fanout_c{c}_seconds"] = planner + math.ceil(invocations / c) * per_group if fanout else one_pipe
    out["grouped_invocations"] = math.ceil(shards / p["shards_per_invocation"]) if fanout else 1
    return out


def vpc_rows(rows: list[tuple[int, int, int]], p: dict[str, Any]) -> list[dict[str, Any]]:
    """What the queries per identity mean for a VPC's resolver: 1,024 packets/s per network interface.

    Fanned-out invocations in the same subnets and security groups share a
    Hyperplane ENI, so in the worst case C concurrent invocations share one
    interface's packets: each may send at most cap / C queries a second
    (DNS_MAX_QUERIES_PER_SECOND, cap about 800 to leave room for retries and
    TCP fallbacks under the hard 1,024). A query is one packet to the resolver.
    A shard's DNS then takes N x queries per identity / (cap / C) seconds,
    beside its SES time; the run takes ceil(S / C) such rounds.
    """
    out = []
    for n, regions, accounts in rows:
        shards = regions * accounts
        ses = ses_calls(n) * p["pacing_factor"] / p["ses_rate"]
        for c in p["concurrency"]:
            per_invocation = p["vpc_cap"] / min(c, shards)  # one shard per invocation when fanned out
            row: dict[str, Any] = {"identities_per_shard": n, "shards": shards, "concurrency": c}
            row["queries_per_second_per_invocation"] = per_invocation
            for label, q in p["queries_per_identity"].items():
                dns = n * q / per_invocation
                shard = p["startup_seconds"] + max(ses, dns)
                row[f"{label}_dns_seconds"] = dns
                row[f"{label}_end_to_end_seconds"] = math.ceil(shards / c) * shard
                # Packets/s the run would need to keep DNS within each shard's SES time (not capped).
                row[f"{label}_packets_per_second_to_match_ses"] = min(c, shards) * n * q / ses
            out.append(row)
    return out


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--from-results",
        action="append",
        default=[],
        metavar="JSON",
        help="scale.json and/or pacing.json written by the other benchmarks (repeatable)",
    )
    parser.add_argument(
        "--rows", default=DEFAULT_ROWS, help=f"NxRxA,... identities x regions x accounts ({DEFAULT_ROWS})"
    )
    parser.add_argument("--ses-rate", type=float, default=1.0, help="SES requests/s per shard (default 1)")
    parser.add_argument("--dns-qps", type=float, help="DNS queries/s (default: measured, scale.json)")
    parser.add_argument("--lookups-per-identity", type=float, help="default: measured, scale.json (else 7)")
    parser.add_argument("--pacing-factor", type=float, help="SES time over calls/rate (default: pacing.json, else 1)")
    parser.add_argument("--startup-seconds", type=float, help="per invocation (default: the CLI's measured, else 2)")
    parser.add_argument("--shards-per-invocation", type=int, default=12, help="SHARDS_PER_INVOCATION (default 12)")
    parser.add_argument("--concurrency", default="5,20", help="fan-out MaximumConcurrency values (default 5,20)")
    parser.add_argument("--lambda-memory-mb", type=int, default=512, help="for the CPU-bound column (0: omit)")
    parser.add_argument(
        "--vpc-cap",
        type=float,
        default=800.0,
        help="DNS queries/s all invocations sharing one VPC network interface may send (default 800, under the "
        "resolver's hard 1,024 packets/s)",
    )
    parser.add_argument("--out", help="results JSON (default /tmp/ses-dkim-monitor-bench/projection.json)")
    args = parser.parse_args()

    found = load_inputs(args.from_results)
    p: dict[str, Any] = {
        "ses_rate": args.ses_rate,
        "dns_qps": args.dns_qps or found.get("dns_qps"),
        "lookups_per_identity": args.lookups_per_identity or found.get("lookups_per_identity") or 7.0,
        "pacing_factor": args.pacing_factor or found.get("pacing_factor") or 1.0,
        "startup_seconds": args.startup_seconds
        if args.startup_seconds is not None
        else found.get("startup_seconds") or 2.0,
        "shards_per_invocation": args.shards_per_invocation,
        "concurrency": [int(c) for c in args.concurrency.split(",")],
        "cpu_ms_per_lookup": found.get("cpu_ms_per_lookup"),
        "lambda_memory_mb": args.lambda_memory_mb,
    }
    if not p["dns_qps"]:
        parser.error("no DNS queries/s: pass --from-results scale.json or --dns-qps")
    by_config = found.get("lookups_by_config", {})
    p["vpc_cap"] = args.vpc_cap
    p["queries_per_identity"] = {
        "per record": by_config.get("unbound-per-record") or by_config.get("direct") or 7.0,
        "one question per DKIM record": by_config.get("unbound") or 4.0,
    }
    print("# Projection: production at {:g} SES request/s per shard\n".format(p["ses_rate"]))
    print(
        f"inputs: DNS {p['dns_qps']:.0f} queries/s at {found.get('delay_ms', '?')} ms per answer, "
        f"{p['lookups_per_identity']:.2f} lookups per identity, pacing factor {p['pacing_factor']:.2f} "
        f"(SES time / ideal, measured at {found.get('pacing_rate', '?')}/s), start-up {p['startup_seconds']:.1f} s "
        f"per invocation; from {', '.join(s['path'] for s in found['sources']) or 'the options'}\n"
    )
    rows_out = []
    table = []
    for spec in args.rows.split(","):
        n, r, a = (int(x) for x in spec.lower().split("x"))
        row = project(n, r, a, p)
        rows_out.append(row)
        target = TARGETS.get((n, r, a))
        verdict = "-"
        if target:
            text, kind, limit = target
            value = (
                row["one_invocation_pipelined_seconds"]
                if kind == "one"
                else min(row[f"code_fanout_c{c}_seconds"] for c in p["concurrency"])
            )
            if kind == "one":
                verdict = f"{text}: {'met' if value <= limit else 'missed'} ({minutes(value)})"
            else:
                per_c = ", ".join(
                    f"C={c}: {'met' if row[f'code_fanout_c{c}_seconds'] <= limit else 'missed'}"
                    for c in p["concurrency"]
                )
                verdict = f"{text}: {per_c}"
        one = row["one_invocation_pipelined_seconds"]
        table.append(
            [
                f"{n:,} x {r} x {a}",
                row["shards"],
                f"{row['ses_calls_per_shard']} calls, {minutes(row['ses_seconds'])}",
                f"{row['dns_lookups']:,.0f}, {minutes(row['dns_seconds'])}",
                f"{minutes(one)} (sum {minutes(row['one_invocation_seconds'])})"
                + (" > 15 min limit" if one > LAMBDA_LIMIT else ""),
                minutes(row["one_invocation_lambda_cpu_seconds"])
                if "one_invocation_lambda_cpu_seconds" in row
                else "-",
                " / ".join(minutes(row[f"code_fanout_c{c}_seconds"]) for c in p["concurrency"])
                + (f" ({row['shards']} invocations)" if row["fans_out"] else " (no fan-out)"),
                " / ".join(minutes(row[f"grouped_fanout_c{c}_seconds"]) for c in p["concurrency"])
                + (f" ({row['grouped_invocations']} invocations)" if row["fans_out"] else ""),
                verdict,
            ]
        )
    cs = "/".join(f"C={c}" for c in p["concurrency"])
    print(
        markdown_table(
            [
                "identities x regions x accounts",
                "shards",
                "SES calls per shard, SES time (shards side by side, 32 at once)",
                "DNS lookups, time",
                "one invocation: SES and DNS overlapped (SES + DNS)",
                f"one invocation, DNS CPU-bound at {args.lambda_memory_mb} MB" if args.lambda_memory_mb else "-",
                f"end to end with fan-out, code as is (1 shard/invocation), {cs}",
                f"end to end, {args.shards_per_invocation} shards/invocation, {cs}",
                "target",
            ],
            table,
        )
    )
    specs = [tuple(int(x) for x in spec.lower().split("x")) for spec in args.rows.split(",")]
    vpc = vpc_rows([(n, r, a) for n, r, a in specs if r * a > p["shards_per_invocation"]], p)  # fanned out
    labels = list(p["queries_per_identity"])
    print(
        f"\n## In a VPC: {args.vpc_cap:.0f} queries/s shared by the invocations on one network interface "
        "(the resolver's 1,024 packets/s, hard)\n"
    )
    print(
        markdown_table(
            [
                "identities x shards",
                "concurrency C",
                "queries/s per invocation (cap / C)",
                *(
                    f"{label} ({p['queries_per_identity'][label]:.2f}/identity): shard DNS, end to end"
                    for label in labels
                ),
                *(f"{label}: packets/s to keep DNS within SES time" for label in labels),
            ],
            [
                [
                    f"{row['identities_per_shard']:,} x {row['shards']}",
                    row["concurrency"],
                    f"{row['queries_per_second_per_invocation']:.0f}",
                    *(
                        f"{minutes(row[f'{label}_dns_seconds'])}, {minutes(row[f'{label}_end_to_end_seconds'])}"
                        for label in labels
                    ),
                    *(f"{row[f'{label}_packets_per_second_to_match_ses']:,.0f}" for label in labels),
                ]
                for row in vpc
            ],
        )
    )
    path = write_results(
        "projection",
        {"benchmark": "projection", "inputs": p, "found": found, "rows": rows_out, "vpc": vpc},
        args.out,
    )
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
