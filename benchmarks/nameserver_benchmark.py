"""What comparing authoritative servers costs: the real `check` over N healthy identities, per CHECK_NAMESERVERS.

What runs, all on 127.0.0.1:

* knotd serving one zone per domain (3 Easy DKIM CNAMEs, a DMARC record, its
  NS ``ns1.<domain>`` at 127.0.0.1) and SES's dkim.amazonses.com;
* dnsdist in front of it adding ``--delay-ms`` to every answer. It is both the
  resolver (``--nameserver``) and, through ``DNS_AUTHORITATIVE_PORT``, every
  zone's authoritative server, so the queries sent to the servers directly
  pay the same round trip as the resolver's;
* moto's server in a process of its own, seeded with N healthy Easy DKIM
  identities (benchmarks/moto_seeded.py);
* ``ses-dkim-monitor check --format json`` in a subprocess per mode, with
  ``CHECK_NAMESERVERS`` set to it: ``off``, ``suspect``, ``sample``, ``all``.

Every identity is healthy and SES says SUCCESS, so ``suspect`` asks no
server: its queries are the scan's own, and what ``sample`` adds over it is
the rotating comparison alone. The figures are the JSON summary's
``dns_lookups`` (deterministic: it counts queries, not time) and the DNS
phase's wall time from dnsdist's query log (noisy on a shared machine;
medians of ``--repeats``). A ``sample`` run compares the identities whose
turn fell in the last hour and a tenth before the run started (4.6 % of
them, whatever the hour).

Results: /tmp/ses-dkim-monitor-bench/nameservers.json (``--out``).

Usage: .venv/bin/python benchmarks/nameserver_benchmark.py --identities 10000 --delay-ms 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (
    REGION,
    Dnsdist,
    MotoProcess,
    aws_env,
    domain_names,
    knot_zones,
    machine,
    markdown_table,
    median,
    spread,
    tree_commit,
    use_tree,
    write_results,
)
from scale_benchmark import cli_command

MODES = ("off", "suspect", "sample", "all")


def run_mode(mode: str, n: int, dnsdist: Dnsdist, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import subprocess

    with MotoProcess(domains=n) as moto:
        env = aws_env(moto.endpoint)
        env.update(CHECK_NAMESERVERS=mode, DNS_AUTHORITATIVE_PORT=str(dnsdist.port))
        cmd = [
            *cli_command(),
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--region",
            REGION,
            "--nameserver",
            dnsdist.address,
            "--ses-requests-per-second",
            str(args.ses_rate),
        ]
        offset = dnsdist.log_offset()
        out = workdir / f"{mode}.json"
        started = time.perf_counter()
        with open(out, "w") as stdout:
            done = subprocess.run(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=args.timeout)
        wall = time.perf_counter() - started
    queries, first, last = dnsdist.window(offset)
    try:
        summary = json.loads(out.read_text())["summary"]
    except (ValueError, KeyError):
        print(f"  {mode}: exit {done.returncode}: {done.stderr[-2000:]}", file=sys.stderr)
        summary = {}
    report = json.loads(out.read_text()) if summary else {}
    disagree = sum(
        1
        for ident in report.get("identities", [])
        for f in ident.get("findings", [])
        if f["check"] == "nameservers-disagree"
    )
    dns_seconds = (last - first) if first is not None and last is not None else None
    return {
        "mode": mode,
        "returncode": done.returncode,
        "wall_seconds": round(wall, 2),
        "dns_lookups": summary.get("dns_lookups"),
        "dns_lookups_failed": summary.get("dns_lookups_failed"),
        "dns_queries_at_dnsdist": queries,
        "dns_seconds": round(dns_seconds, 2) if dns_seconds else None,
        "unknown": summary.get("unknown"),
        "nameservers_disagree": disagree,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=10000, help="N healthy domain identities (default 10000)")
    parser.add_argument("--delay-ms", type=int, default=10, help="added to every DNS answer by dnsdist (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode; medians are reported (default 3)")
    parser.add_argument("--ses-rate", type=float, default=50, help="--ses-requests-per-second for the CLI (max 50)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (default 1800)")
    parser.add_argument("--tree", help="the source tree to measure (src/ and tests/support/); default this repository")
    parser.add_argument("--out", help="results JSON (default /tmp/ses-dkim-monitor-bench/nameservers.json)")
    args = parser.parse_args()
    root = use_tree(args.tree)
    from tests.support.knot import KnotServer

    n = args.identities
    results: dict[str, Any] = {
        "benchmark": "nameservers",
        "command": "benchmarks/nameserver_benchmark.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "code": tree_commit(root),
        "identities": n,
        "delay_ms": args.delay_ms,
    }
    print(f"# CHECK_NAMESERVERS modes over {n} healthy identities, {args.delay_ms} ms per DNS answer")
    print(f"code under test: {results['code']}; {results['machine']}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-ns-"))
    runs: list[dict[str, Any]] = []
    with KnotServer(knot_zones(domain_names(n))) as knot, Dnsdist(knot.port, args.delay_ms) as dnsdist:
        for rep in range(args.repeats):
            for mode in MODES:
                run = run_mode(mode, n, dnsdist, args, workdir)
                run["repeat"] = rep
                runs.append(run)
                print(
                    f"  [{rep + 1}/{args.repeats}] {mode}: exit {run['returncode']}, {run['dns_lookups']} lookups "
                    f"({run['dns_lookups_failed']} failed) in {run['dns_seconds']} s, {run['unknown']} unknown",
                    flush=True,
                )
    results["runs"] = runs
    base = median(r["dns_lookups"] for r in runs if r["mode"] == "suspect") or 0
    base_seconds = median(r["dns_seconds"] for r in runs if r["mode"] == "suspect") or 0
    rows = []
    summary: dict[str, Any] = {}
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        lookups = median(r["dns_lookups"] for r in mine) or 0
        seconds = median(r["dns_seconds"] for r in mine)
        summary[mode] = {"dns_lookups": lookups, "dns_seconds": seconds}
        rows.append(
            [
                f"`{mode}`",
                f"{lookups:,.0f}",
                f"{lookups - base:+,.0f} ({(lookups - base) / base:+.1%})" if base else "",
                f"{seconds} s ({spread(r['dns_seconds'] for r in mine)})",
                f"{(seconds or 0) - base_seconds:+.1f} s" if seconds is not None else "",
            ]
        )
    results["summary"] = summary
    print()
    print(markdown_table(["mode", "DNS lookups", "over suspect", "DNS phase, median (range)", "over suspect"], rows))
    path = write_results("nameservers", results, args.out)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
