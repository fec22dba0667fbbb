"""Shared by the benchmarks: the code under test, knotd + dnsdist, a seeded moto server, measured subprocesses.

Not a benchmark itself. Everything listens on 127.0.0.1 only, every wait has
a deadline, and every process started here is stopped by the object that
started it.

The code under test: by default this repository's ``src/`` and
``tests/support/``. ``--tree DIR`` (every script) measures another tree
holding the same two folders instead, e.g. a clean export of a commit made
with ``git archive HEAD src tests | tar -x -C DIR``, so a benchmark can run
while the working tree is half-edited.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", "/tmp/ses-dkim-monitor-bench"))
PYTHON = sys.executable
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
_tree = ROOT  # set by use_tree: what subprocesses import too


# -- the code under test ---------------------------------------------------------


def use_tree(tree: str | os.PathLike[str] | None) -> Path:
    """Put ``tree``'s src/ and tests/ first on sys.path (and on PYTHONPATH for subprocesses)."""
    root = Path(tree).resolve() if tree else ROOT
    if not (root / "src" / "ses_dkim_monitor").is_dir() or not (root / "tests" / "support").is_dir():
        raise SystemExit(f"--tree {root}: needs src/ses_dkim_monitor and tests/support")
    for path in (str(root), str(root / "src")):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root)])
    global _tree
    _tree = root
    return root


def tree_commit(root: Path) -> str:
    """What is measured: ``git describe`` of this repository (``+dirty`` when src/ has uncommitted changes),
    or, for another tree, the first line of its ``COMMIT`` file if it has one."""
    if root != ROOT:
        marker = root / "COMMIT"
        return f"export of {marker.read_text().split()[0]}" if marker.exists() else f"tree {root}"
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def aws_env(endpoint: str, region: str = REGION) -> dict[str, str]:
    """The environment a process needs to talk to moto at ``endpoint``: fake credentials, no profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SCAN_", "DNS_", "SES_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# -- domains and their DNS ---------------------------------------------------------


def domain_names(count: int) -> list[str]:
    """``count`` domain identities, each its own zone (a customer's domain), the same for every benchmark."""
    return [f"bench{i:05d}.test" for i in range(count)]


def knot_zones(names: Sequence[str], regions: Sequence[str] = (REGION,)) -> dict[str, str]:
    """A healthy zone per domain (3 Easy DKIM CNAMEs per region, a DMARC record) and SES's dkim.amazonses.com.

    Tokens are the ones ``SesWorld(region).add_many_domains`` gives the same names in moto.
    """
    from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records, tokens_for

    zones: dict[str, str] = {}
    keys: list[str] = []
    for name in names:
        records = []
        for region in regions:
            tokens = tokens_for(name, region)
            records.append(customer_cname_records(tokens))
            keys.append(easy_dkim_zone_records(tokens))
        zones[name] = "\n".join(records) + '\n_dmarc TXT "v=DMARC1; p=none"'
    zones["dkim.amazonses.com"] = "\n".join(keys)
    return zones


class Dnsdist:
    """dnsdist in front of a DNS server, adding ``delay_ms`` to every answer (a resolver's round trip).

    With ``log=True`` every query is logged with its time (CLOCK_REALTIME), so
    a benchmark can tell when a process's DNS phase started and ended.
    """

    def __init__(self, backend_port: int, delay_ms: int, *, log: bool = True) -> None:
        from tests.support.knot import free_port

        self.port = free_port()
        self.delay_ms = delay_ms
        self.dir = Path(tempfile.mkdtemp(prefix="bench-dnsdist-"))
        self.log_path = self.dir / "queries.log" if log else None
        lines = [
            'setSecurityPollSuffix("")',
            f'setLocal("127.0.0.1:{self.port}")',
            f'newServer({{address="127.0.0.1:{backend_port}", name="backend"}})',
            "setMaxUDPOutstanding(65535)",
        ]
        if self.log_path is not None:
            # LogAction(file, binary, append, buffered, verboseOnly, includeTimestamp)
            lines.append(f'addAction(AllRule(), LogAction("{self.log_path}", false, true, false, false, true))')
        if delay_ms > 0:
            lines.append(f"addAction(AllRule(), DelayAction({delay_ms}))")
        (self.dir / "dnsdist.conf").write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Dnsdist:
        import dns.message
        import dns.query

        exe = shutil.which("dnsdist") or "/usr/bin/dnsdist"
        self.proc = subprocess.Popen(
            [exe, "--supervised", "--disable-syslog", "-C", str(self.dir / "dnsdist.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                dns.query.udp(
                    dns.message.make_query("dkim.amazonses.com.", "SOA"), "127.0.0.1", port=self.port, timeout=0.5
                )
                return self
            except Exception as exc:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("dnsdist did not start") from exc
                time.sleep(0.05)

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path is not None and self.log_path.exists() else 0

    def window(self, offset: int) -> tuple[int, float | None, float | None]:
        """(queries, first, last) logged since ``offset``; times on time.monotonic()'s clock."""
        if self.log_path is None:
            return 0, None, None
        to_monotonic = time.monotonic() - time.time()
        count, first, last = 0, None, None
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            for line in f:
                if not line.startswith(b"["):
                    continue
                stamp = float(line[1 : line.index(b"]")]) + to_monotonic
                count += 1
                first = stamp if first is None else first
                last = stamp
        return count, first, last

    def per_second(self, offset: int) -> list[int]:
        """Queries logged since ``offset`` in each second from the first: does the rate hold over a run?"""
        if self.log_path is None:
            return []
        stamps = []
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            stamps = [float(line[1 : line.index(b"]")]) for line in f if line.startswith(b"[")]
        if not stamps:
            return []
        first = min(stamps)  # lines are written as answers leave, not quite in the order queries came
        counts = [0] * (int(max(stamps) - first) + 1)
        for stamp in stamps:
            counts[int(stamp - first)] += 1
        return counts

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Dnsdist:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Unbound:
    """Unbound, a real recursive resolver, in front of ``upstream`` (dnsdist, so every answer it fetches pays the
    delay): what production's VPC resolver does. Asked for TXT at a name that is a CNAME into another zone, it
    follows the CNAME and answers with the chain and the target's TXT.

    Caching is off (``cache-max-ttl: 0``, ``cache-max-negative-ttl: 0``), so every question reaches knotd: a run
    measures the resolver's work, not its cache. One forward zone per served zone (``zones``), as in the tests
    (tests/support/unbound.py), plus outgoing ports and queries per thread for thousands in flight (the defaults,
    about 1,000 and 512, would drop some).
    """

    EXTRA = "  outgoing-range: 8192\n  num-queries-per-thread: 4096\n  so-rcvbuf: 4m\n  so-sndbuf: 4m\n"

    def __init__(self, upstream: str, zones: Sequence[str]) -> None:
        from tests.support.unbound import UnboundResolver

        ip, port = upstream.rsplit(":", 1)
        self.resolver = UnboundResolver({zone: f"{ip}@{port}" for zone in zones})
        plain = self.resolver._config
        self.resolver._config = lambda: plain().replace("server:\n", "server:\n" + self.EXTRA, 1)  # type: ignore[method-assign]

    @property
    def address(self) -> str:
        return self.resolver.address

    def start(self) -> Unbound:
        self.resolver.start(timeout=60)
        return self

    def stop(self) -> None:
        self.resolver.stop()

    def __enter__(self) -> Unbound:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- moto in its own process -----------------------------------------------------------


class MotoProcess:
    """``benchmarks/moto_seeded.py`` in a subprocess: moto's server with ``domains`` identities per region.

    Its memory is not the monitor's. ``stop()`` returns what the server saw:
    each SES read's time (time.monotonic(), the same clock in every process on
    Linux), region and whether it was throttled, and the seeding time.
    """

    def __init__(
        self, *, domains: int, regions: Sequence[str] = (REGION,), throttle: float = 0.0, burst: float = 1.0
    ) -> None:
        self.args = [
            PYTHON,
            str(Path(__file__).with_name("moto_seeded.py")),
            "--domains",
            str(domains),
            "--regions",
            ",".join(regions),
            "--throttle",
            str(throttle),
            "--burst",
            str(burst),
            "--tree",
            str(_tree),
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}
        self.endpoint = ""

    def start(self, timeout: float = 300.0) -> MotoProcess:
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        line = _readline(self.proc, timeout)
        if not line:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise RuntimeError("moto_seeded.py did not start")
        self.ready = json.loads(line)
        self.endpoint = f"http://127.0.0.1:{self.ready['port']}"
        return self

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """Stop the server; what it saw (empty if it could not say)."""
        if self.proc is None:
            return {}
        proc, self.proc = self.proc, None
        cpu = process_cpu_seconds(proc.pid)
        try:
            assert proc.stdin is not None
            proc.stdin.close()  # the server's signal to stop and report
            line = _readline(proc, timeout)
            proc.wait(timeout=timeout)
            seen = json.loads(line) if line else {}
            seen["cpu_seconds"] = cpu  # the server's, seeding included: what it took from the shared cores
            return seen
        except (subprocess.TimeoutExpired, ValueError, OSError):
            return {}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    def __enter__(self) -> MotoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process, from /proc (None if it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    """One line of the process's stdout, or "" after ``timeout`` seconds."""
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout)
    return out[0] if out else ""


# -- a measured subprocess --------------------------------------------------------------


@dataclass
class Measured:
    returncode: int
    wall: float  # seconds, start to exit
    started: float  # time.monotonic() at start
    max_rss_kb: int  # peak RSS of the command alone (GNU time's %M), KiB
    cpu_user: float
    cpu_system: float
    rss: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), VmRSS KiB) samples
    hwm_kb: int | None = None  # the last VmHWM read from /proc: a cross-check of max_rss_kb

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system

    def rss_between(self, start: float | None, end: float | None) -> list[int]:
        if start is None or end is None:
            return []
        return [kb for t, kb in self.rss if start <= t <= end]

    def rss_at(self, when: float | None) -> int | None:
        """The first RSS sample at or after ``when``."""
        if when is None:
            return None
        return next((kb for t, kb in self.rss if t >= when), None)


TIME = "/usr/bin/time"


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str],
    stdout_path: Path,
    stderr_path: Path,
    timeout: float = 1800.0,
    sample_every: float = 0.05,
) -> Measured:
    """Run ``cmd`` to completion (killed after ``timeout``) under GNU time, sampling its RSS from /proc.

    Not wait4's ru_maxrss of our own child: Linux keeps a process's peak RSS
    across exec, so a child forked from this (large) benchmark process would
    report this process's RSS. GNU time forks the command from its own small
    process, so its %M is the command's own peak.
    """
    if not os.path.exists(TIME):
        raise SystemExit(f"{TIME} (GNU time) is needed to measure peak RSS: apt-get install time")
    time_file = Path(str(stdout_path) + ".time")
    wrapped = [TIME, "-f", "%M %U %S", "-o", str(time_file), *cmd]
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(wrapped, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        samples: list[tuple[float, int]] = []
        hwm: int | None = None
        child: int | None = None
        deadline = started + timeout
        while proc.poll() is None:
            if child is None:
                try:
                    found = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                    child = int(found[0]) if found else None
                except OSError:
                    pass
            if child is not None:
                try:
                    with open(f"/proc/{child}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                hwm = int(line.split()[1])
                            elif line.startswith("VmRSS:"):
                                samples.append((time.monotonic(), int(line.split()[1])))
                                break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                if child is not None:
                    with contextlib.suppress(OSError):
                        os.kill(child, 9)
                proc.kill()
                proc.wait(timeout=30)
                break
            time.sleep(sample_every)
        wall = time.monotonic() - started
    try:
        max_rss, user, system = time_file.read_text().strip().splitlines()[-1].split()
    except (OSError, ValueError, IndexError):
        max_rss, user, system = "0", "0", "0"
    return Measured(
        returncode=proc.returncode if proc.returncode is not None else -1,
        wall=wall,
        started=started,
        max_rss_kb=int(max_rss),
        cpu_user=float(user),
        cpu_system=float(system),
        rss=samples,
        hwm_kb=hwm,
    )


# -- reporting ----------------------------------------------------------------------------


def median(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def spread(values: Iterable[float | None]) -> str:
    """min-max of the values, for the reader to judge the noise."""
    found = [v for v in values if v is not None]
    if not found:
        return "-"
    return f"{min(found):.3g}-{max(found):.3g}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_results(name: str, data: dict[str, Any], path: str | None = None) -> Path:
    target = Path(path) if path else RESULTS_DIR / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return target


def mib(kb: float | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f} MiB"
