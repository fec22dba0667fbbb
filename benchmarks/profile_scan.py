"""Where the CLI's time and memory go at scale: the scale benchmark's set-up, one CLI run, profiled.

The same knotd + dnsdist (``--delay-ms``) and seeded moto server as
scale_benchmark.py, then ``ses-dkim-monitor check --format json`` over
``--identities`` identities, once per mode:

* ``cpu``: under py-spy (a sampling profiler outside the process, so the
  scan runs at full speed; ``--py-spy PATH``, e.g. from ``pip install py-spy``
  in a venv of its own). Prints the samples by package (the monitor, dnspython,
  asyncio, botocore, ...) and the functions with the most samples, own and
  cumulative.
* ``memory``: in a child process: RSS after the imports, then the scan
  (``run_scan``) under tracemalloc, with one snapshot as it returns: the
  traced peak during the scan, what the scan still holds (the report), and
  which lines of the monitor hold it.

* ``imports``: no scan; the RSS of a fresh interpreter after importing each
  of the CLI's dependencies alone, the CLI itself, and the CLI with its
  SES, STS clients built (botocore loads each service's model then): what
  the process holds before its first identity.

Results: /tmp/ses-dkim-monitor-bench/profile-<mode>.json (and py-spy's raw
samples next to it).

Usage: .venv/bin/python benchmarks/profile_scan.py --identities 10000 --mode cpu --py-spy /tmp/pyspy-venv/bin/py-spy
       .venv/bin/python benchmarks/profile_scan.py --identities 10000 --mode memory
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (
    PYTHON,
    REGION,
    RESULTS_DIR,
    Dnsdist,
    MotoProcess,
    Unbound,
    aws_env,
    domain_names,
    knot_zones,
    machine,
    tree_commit,
    use_tree,
    write_results,
)

# Where a frame's code lives, from py-spy's "function (path:line)": the first part of the path.
FRAME_FILE = re.compile(r"\((.*?):\d+\)$")
# Cumulative shares worth naming: the time spent under these frames, whoever calls them.
MARKERS = {
    "dnspython resolve (under the probe)": "Resolver.resolve (dns/asyncresolver.py",
    "the probe's own code around it (DnsProbe._ask)": "DnsProbe._ask (ses_dkim_monitor",
    "checks (evaluate)": "evaluate (ses_dkim_monitor/scan/checks/",
    "DKIM key parsing": "parse_dkim_key_record (ses_dkim_monitor",
    "engine: logging findings / reports": "_Engine._report (ses_dkim_monitor",
    "SES reader threads (_Engine._read)": "_Engine._read (ses_dkim_monitor",
    "reader waiting for the queue (Future.result)": "Future.result (concurrent/futures/_base.py",
    "botocore (SES calls)": "(botocore/",
    "JSON report (write_json)": "write_json (ses_dkim_monitor",
    "imports": "_find_and_load (<frozen importlib._bootstrap>",
}


def group_of(frame: str) -> str:
    found = FRAME_FILE.search(frame)
    path = found.group(1) if found else frame
    if path.startswith("<frozen"):
        return "imports"
    head = path.split("/")[0]
    return head.removesuffix(".py")


def cli_argv(resolver: str, ses_rate: float) -> list[str]:
    return [
        "check",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--region",
        REGION,
        "--nameserver",
        resolver,
        "--ses-requests-per-second",
        str(ses_rate),
    ]


def cli_env(endpoint: str, args: argparse.Namespace, dnsdist: Dnsdist) -> dict[str, str]:
    """The CLI's environment: moto, the query mode, no name-server comparison (as scale_benchmark.py)."""
    env = aws_env(endpoint)
    env.update(
        DNS_QUERY_MODE=args.query_mode, CHECK_NAMESERVERS=args.nameservers, DNS_AUTHORITATIVE_PORT=str(dnsdist.port)
    )
    return env


def profile_cpu(args: argparse.Namespace, dnsdist: Dnsdist, workdir: Path) -> dict[str, Any]:
    spy = args.py_spy or shutil.which("py-spy")
    if not spy:
        raise SystemExit("--mode cpu needs py-spy: pip install py-spy (in a venv of its own) and pass --py-spy PATH")
    raw = RESULTS_DIR / f"profile-cpu-{args.resolver}-{args.identities}.raw.txt"
    raw.parent.mkdir(parents=True, exist_ok=True)
    script = Path(PYTHON).with_name("ses-dkim-monitor")
    with MotoProcess(domains=args.identities) as moto:
        cmd = [spy, "record", "--format", "raw", "--rate", "200", "--output", str(raw), "--"]
        cmd += [PYTHON, str(script), *cli_argv(args.resolver_address, args.ses_rate)]
        started = time.monotonic()
        with open(workdir / "cli.json", "wb") as out, open(workdir / "cli.err", "wb") as err:
            env = cli_env(moto.endpoint, args, dnsdist)
            subprocess.run(cmd, env=env, stdout=out, stderr=err, timeout=args.timeout, check=False)
        wall = time.monotonic() - started
    return summarise_raw(raw, wall)


def summarise_raw(raw: Path, wall: float) -> dict[str, Any]:
    """py-spy's raw samples by package (leaf frame), by marker (cumulative) and by function."""
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    marked: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if not frames:
            continue
        total += count
        leaf = frames[-1]
        own[leaf] += count
        groups[group_of(leaf)] += count
        for frame in set(frames):
            cumulative[frame] += count
        for name, needle in MARKERS.items():
            if any(needle in frame for frame in frames):
                marked[name] += count
    monitor_cumulative = [(f, c) for f, c in cumulative.most_common() if "ses_dkim_monitor/" in f][:25]
    return {
        "wall_seconds": round(wall, 1),
        "samples": total,
        "by_package_own": {g: round(100 * c / total, 1) for g, c in groups.most_common()},
        "under": {m: round(100 * marked[m] / total, 1) for m in MARKERS},
        "top_own": [(f, round(100 * c / total, 1)) for f, c in own.most_common(25)],
        "monitor_cumulative": [(f, round(100 * c / total, 1)) for f, c in monitor_cumulative],
        "raw": str(raw),
    }


def profile_memory(
    args: argparse.Namespace, dnsdist: Dnsdist, workdir: Path, *, mode: str = "memory"
) -> dict[str, Any]:
    with MotoProcess(domains=args.identities) as moto:
        cmd = [PYTHON, __file__, f"--child-{mode}", json.dumps(cli_argv(args.resolver_address, args.ses_rate))]
        env = cli_env(moto.endpoint, args, dnsdist)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout, check=False)
    if result.returncode != 0:
        raise SystemExit(f"memory child failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def child_memory(argv: list[str]) -> None:
    """In the child: RSS after imports; ``run_scan`` under tracemalloc, one snapshot as it returns (the report alive).

    Snapshots taken during the scan stall the event loop long enough for DNS
    queries to time out, so there is one, at the end of the scan, before the
    report is rendered: what the scan holds on to, and the traced peak.
    """
    import tracemalloc

    def rss_kb() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    from ses_dkim_monitor import cli

    after_imports = rss_kb()
    found: dict[str, Any] = {}
    original = cli.run_scan

    def traced_run_scan(*args: Any, **kwargs: Any) -> Any:
        found["rss_before_scan_kb"] = rss_kb()
        tracemalloc.start(8)
        report = original(*args, **kwargs)
        found["snapshot"] = tracemalloc.take_snapshot()
        found["traced"] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        found["rss_after_scan_kb"] = rss_kb()
        return report

    cli.run_scan = traced_run_scan
    saved = sys.stdout
    with open(os.devnull, "w") as sink:
        sys.stdout = sink
        try:
            status = cli.main(argv)
        finally:
            sys.stdout = saved
    snap = found["snapshot"].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    # Who holds the memory: the innermost frame of the monitor's own code in each allocation's traceback.
    holders: collections.Counter[str] = collections.Counter()
    for stat in snap.statistics("traceback"):
        mine = [fr for fr in stat.traceback if "ses_dkim_monitor" in fr.filename]
        where = mine[0] if mine else stat.traceback[0]
        holders[f"{where.filename.split('site-packages/')[-1].split('src/')[-1]}:{where.lineno}"] += stat.size
    current, peak = found["traced"]
    print(
        json.dumps(
            {
                "exit": status,
                "rss_after_imports_kb": after_imports,
                "rss_before_scan_kb": found["rss_before_scan_kb"],
                "rss_after_scan_kb": found["rss_after_scan_kb"],
                "traced_peak_during_scan_mib": round(peak / 2**20, 2),
                "traced_held_after_scan_mib": round(current / 2**20, 2),
                "held_by": [(where, round(size / 2**20, 2)) for where, size in holders.most_common(15)],
                "top_lines": [
                    (
                        f"{s.traceback[0].filename.split('site-packages/')[-1]}:{s.traceback[0].lineno}",
                        round(s.size / 2**20, 2),
                        s.count,
                    )
                    for s in snap.statistics("lineno")[:15]
                ],
            }
        )
    )


def child_gc(argv: list[str]) -> None:
    """In the child: the CLI run in this process with the garbage collector timed (``gc.callbacks``).

    Python's cyclic collector runs when allocations outnumber deallocations by
    a threshold, and each run of the oldest generation walks every tracked
    object alive: a scan that keeps an object per identity pays more per
    collection as N grows. What it cost: collections and seconds per
    generation, the objects tracked at the end, and the process's CPU.
    """
    import gc
    import resource

    spent = collections.Counter[int]()
    runs = collections.Counter[int]()
    started: dict[str, float] = {}

    def timer(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["t"] = time.perf_counter()
        else:
            spent[info["generation"]] += time.perf_counter() - started.pop("t", time.perf_counter())
            runs[info["generation"]] += 1

    from ses_dkim_monitor import cli

    gc.callbacks.append(timer)
    wall = time.perf_counter()
    saved = sys.stdout
    with open(os.devnull, "w") as sink:
        sys.stdout = sink
        try:
            status = cli.main(argv)
        finally:
            sys.stdout = saved
    wall = time.perf_counter() - wall
    gc.callbacks.remove(timer)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "exit": status,
                "wall_seconds": round(wall, 2),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "gc_seconds": {str(g): round(spent[g], 3) for g in sorted(spent)},
                "gc_collections": {str(g): runs[g] for g in sorted(runs)},
                "gc_seconds_total": round(sum(spent.values()), 3),
                "tracked_objects_at_end": len(gc.get_objects()),
                "gc_threshold": gc.get_threshold(),
                "gc_frozen": gc.get_freeze_count(),
            }
        )
    )


IMPORT_STEPS = {
    "python alone": "pass",
    "dnspython (asyncresolver)": "import dns.asyncresolver",
    "boto3": "import boto3",
    "aws_lambda_powertools (parameters, metrics, logging)": "import aws_lambda_powertools.utilities.parameters, "
    "aws_lambda_powertools.metrics, aws_lambda_powertools.logging",
    "slack_sdk (webhook)": "import slack_sdk.webhook",
    "pyasn1 + pyasn1_modules (rfc2437, rfc5280)": "import pyasn1.codec.der.decoder, pyasn1_modules.rfc2437, "
    "pyasn1_modules.rfc5280",
    "ses_dkim_monitor.cli (everything it imports)": "import ses_dkim_monitor.cli",
    "... and its clients: sts, sesv2, ses": "import ses_dkim_monitor.cli, boto3; s = boto3.Session("
    "region_name='us-east-1'); [s.client(n) for n in ('sts', 'sesv2', 'ses')]",
}


def profile_imports() -> dict[str, Any]:
    found = {}
    for label, code in IMPORT_STEPS.items():
        probe = (
            f"{code}\nwith open('/proc/self/status') as f:\n"
            "    print(next(l.split()[1] for l in f if l.startswith('VmRSS:')))"
        )
        result = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
        found[label] = int(result.stdout.strip() or 0) if result.returncode == 0 else result.stderr[-300:]
        print(f"  {label}: {found[label] if isinstance(found[label], str) else round(found[label] / 1024, 1)} MiB")
    return {"rss_kb_after": found}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=10000)
    parser.add_argument("--delay-ms", type=int, default=10)
    parser.add_argument("--mode", choices=("cpu", "memory", "gc", "imports"), default="cpu")
    parser.add_argument(
        "--resolver",
        choices=("unbound", "dnsdist"),
        default="unbound",
        help="what the CLI asks: Unbound in front of dnsdist (default, production's shape) or dnsdist alone",
    )
    parser.add_argument("--query-mode", default="auto", help="DNS_QUERY_MODE for the CLI (default auto)")
    parser.add_argument("--nameservers", default="suspect", help="CHECK_NAMESERVERS for the CLI (default suspect)")
    parser.add_argument("--ses-rate", type=float, default=50)
    parser.add_argument("--py-spy", help="the py-spy executable (default: on PATH)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--tree", help="the source tree to measure (src/ and tests/support/); default this repository")
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    parser.add_argument("--child-gc", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(json.loads(args.child_memory))
        return 0
    if args.child_gc:
        child_gc(json.loads(args.child_gc))
        return 0
    root = use_tree(args.tree)
    from tests.support.knot import KnotServer

    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    if args.mode == "imports":
        found = profile_imports()
    else:
        with (
            KnotServer(knot_zones(domain_names(args.identities))) as knot,
            Dnsdist(knot.port, args.delay_ms) as dnsdist,
            Unbound(dnsdist.address, ["dkim.amazonses.com", "test"]) as unbound,
        ):
            args.resolver_address = unbound.address if args.resolver == "unbound" else dnsdist.address
            if args.mode == "cpu":
                found = profile_cpu(args, dnsdist, workdir)
            else:
                found = profile_memory(args, dnsdist, workdir, mode=args.mode)
    found.update(
        resolver=args.resolver,
        query_mode=args.query_mode,
        benchmark=f"profile-{args.mode}",
        command="benchmarks/profile_scan.py " + " ".join(sys.argv[1:]),
        machine=machine(),
        code=tree_commit(root),
        identities=args.identities,
    )
    print(json.dumps(found, indent=2))
    path = write_results(f"profile-{args.mode}-{args.resolver}-{args.identities}", found)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
