"""A real authoritative DNS server (Knot DNS) on 127.0.0.1 for tests and the demo.

Zones are written by the caller as text; ``KnotServer`` writes the zone
files and config into a temporary directory, starts ``knotd`` in the
foreground on a free port and polls each zone's SOA until it answers.
Records change with ``set_zone`` (new serial + blocking reload); a zone is
made to SERVFAIL with ``break_zone``. A UDP socket that never answers stands
in for a resolver that times out.

This module is also used by the demo (scripts/demo.py), so it has no pytest
dependency.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def stop_process(proc: subprocess.Popen | None) -> None:
    """Stop a server this test support started, by its own PID: TERM, then KILL if it lingers."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1, chosen by the OS."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port for both UDP and TCP")


class SilentResolver:
    """A UDP (and TCP) socket that accepts queries and never answers."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen(16)
        except OSError:
            self.tcp.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.udp.close()
        self.tcp.close()


# The parts of the public DNS tree every test relies on, as the real internet has them: the
# top-level zones the tests' domains sit in (DMARCbis's tree walk asks up to the TLD, where a
# public-suffix operator may publish a psd=y policy) and amazonses.com's SPF record (which a MAIL FROM
# domain's "include:amazonses.com" makes receivers, and the monitor, look up).
BASE_ZONES = {
    "test": "",
    "invalid": "",
    "com": "",
    "org": "",
    "net": "",
    "amazonses.com": '@ TXT "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ip4:69.169.224.0/20 '
    'ip4:23.249.208.0/20 ip4:23.251.224.0/19 ip4:76.223.176.0/20 ip4:54.240.64.0/19 ip4:54.240.96.0/19 -all"',
}


class KnotServer:
    def __init__(
        self,
        zones: dict[str, str] | None = None,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        ns: str | None = None,
    ):
        """``ip``/``port``: where to listen (another loopback address, the same port, makes a second server
        of the same zones); ``ns``: the zones' NS and glue lines instead of one ns1 at 127.0.0.1."""
        self.ip = ip
        self.ns = ns
        self.dir = Path(tempfile.mkdtemp(prefix="knot-"))
        self.port = port or free_port()
        self.zones: dict[str, str] = {}
        self.zone_ns: dict[str, str] = {}  # a zone's own NS and glue lines, where set_zone was given them
        self.serials: dict[str, int] = {}
        self.broken: set[str] = set()  # zones purged by break_zone, until set_zone serves them again
        self.proc: subprocess.Popen | None = None
        for name, body in (zones or {}).items():
            self._write_zone(name, body)

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def socket_path(self) -> str:
        return str(self.dir / "knot.sock")

    def _zone_file(self, name: str) -> Path:
        return self.dir / f"{name}.zone"

    def _write_zone(self, name: str, body: str, ns: str | None = None) -> None:
        name = name.rstrip(".").lower()
        if ns is not None:
            self.zone_ns[name] = ns
        ns = self.zone_ns.get(name, self.ns)
        serial = self.serials.get(name, 0) + 1
        self.serials[name] = serial
        self.zones[name] = body
        header = f"$ORIGIN {name}.\n$TTL 60\n@ SOA ns1.{name}. hostmaster.{name}. {serial} 3600 600 86400 60\n" + (
            ns if ns is not None else f"@ NS ns1.{name}.\nns1 A 127.0.0.1\n"
        )
        self._zone_file(name).write_text(header + body + "\n")

    def _write_config(self) -> None:
        zone_lines = "".join(f"  - domain: {name}\n    file: {self._zone_file(name)}\n" for name in self.zones)
        (self.dir / "knot.conf").write_text(
            "server:\n"
            f"  rundir: {self.dir}\n"
            f"  listen: {self.ip}@{self.port}\n"
            "  background-workers: 1\n"
            "  udp-workers: 2\n"
            "  tcp-workers: 2\n"
            "database:\n"
            f"  storage: {self.dir}\n"
            "control:\n"
            f"  listen: {self.socket_path}\n"
            "log:\n"
            "  - target: stderr\n"
            "    any: error\n"
            "template:\n"
            "  - id: default\n"
            f"    storage: {self.dir}\n"
            "    zonefile-sync: -1\n"
            "    zonefile-load: whole\n"
            "    journal-content: none\n"
            "    semantic-checks: off\n"
            "zone:\n" + zone_lines
        )

    def start(self, timeout: float = 20.0) -> KnotServer:
        self._write_config()
        with open(self.dir / "knotd.log", "wb") as log:  # knotd keeps its own descriptor
            self.proc = subprocess.Popen(
                [KNOTD, "-c", str(self.dir / "knot.conf")], stdout=subprocess.DEVNULL, stderr=log
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20.0, zones: list[str] | None = None) -> None:
        """Poll every zone's SOA until it answers: no fixed sleeps."""
        pending = list(zones if zones is not None else self.zones)
        deadline = time.monotonic() + timeout
        while pending:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"knotd exited: {(self.dir / 'knotd.log').read_text()}")
            name = pending[0]
            try:
                response = dns.query.udp(
                    dns.message.make_query(name + ".", "SOA"), self.ip, port=self.port, timeout=0.5
                )
                if response.rcode() == dns.rcode.NOERROR and response.answer:
                    pending.pop(0)
                    continue
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"knotd did not serve {name} within {timeout}s: {(self.dir / 'knotd.log').read_text()}"
                )
            time.sleep(0.01)

    def knotc(self, *args: str) -> str:
        result = subprocess.run(
            [KNOTC, "-s", self.socket_path, "-b", *args], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)} failed: {result.stdout} {result.stderr}")
        return result.stdout

    def set_zone(self, name: str, body: str, *, ns: str | None = None) -> None:
        """Replace a zone's records (or add a new zone) and wait until served.

        ``ns``: the zone's own NS (and glue) lines in place of the server's, e.g. a provider's name servers.
        """
        name = name.rstrip(".").lower()
        new = name not in self.zones
        self._write_zone(name, body, ns)
        if self.proc is None:
            return
        if new:
            self._write_config()
            self.knotc("reload")
        elif name in self.broken:
            self.knotc("reload")  # a purged, expired zone does not zone-reload ("operation not supported")
            self.broken.discard(name)
        else:
            self.knotc("zone-reload", name)
        self.wait_ready(zones=[name])
        self._wait_serial(name)

    def _wait_serial(self, name: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            response = dns.query.udp(dns.message.make_query(name + ".", "SOA"), self.ip, port=self.port, timeout=1)
            if response.answer and response.answer[0][0].serial == self.serials[name]:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"knotd did not load serial {self.serials[name]} of {name}")
            time.sleep(0.01)

    def break_zone(self, name: str) -> None:
        """Make the zone answer SERVFAIL (purged and expired) until ``set_zone``."""
        self.broken.add(name.rstrip(".").lower())
        subprocess.run(
            [KNOTC, "-s", self.socket_path, "-f", "zone-purge", name.rstrip("."), "+expire"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            response = dns.query.udp(dns.message.make_query(name + ".", "SOA"), self.ip, port=self.port, timeout=1)
            if response.rcode() == dns.rcode.SERVFAIL:
                return
            time.sleep(0.01)
        raise RuntimeError(f"{name} did not start to SERVFAIL")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
        if not os.environ.get("KEEP_KNOT_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> KnotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
