"""A real recursive resolver (Unbound) on 127.0.0.1 in front of knotd: the answers production's resolver gives.

An authoritative server answers only for its own zones: asked for TXT at a
name that is a CNAME into another zone, knotd returns the CNAME alone. A
recursive resolver (a VPC's, or Unbound here) follows it and returns the
CNAME and the target's TXT in one answer. Tests that must see that shape run
Unbound with a forward zone per served zone (``stubs``: zone -> "IP@PORT"),
iterator only (no DNSSEC), no cache (each query reaches knotd), and stop it by
its own PID.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from tests.support.knot import free_port, stop_process

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"


class UnboundResolver:
    def __init__(self, stubs: dict[str, str]):
        self.stubs = stubs
        self.dir = Path(tempfile.mkdtemp(prefix="unbound-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.verbosity = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _config(self) -> str:
        # Forward zones, not stub zones: from a stub, Unbound learns the zones' own NS records (which name
        # 127.0.0.x on port 53, where nothing listens) and then asks them; a forwarder is asked for everything
        # below its zone, and Unbound still follows a CNAME into another zone by asking again.
        stubs = "".join(
            f'forward-zone:\n  name: "{zone}."\n  forward-addr: {address}\n  forward-first: no\n'
            for zone, address in self.stubs.items()
        )
        return (
            "server:\n"
            "  interface: 127.0.0.1\n"
            f"  port: {self.port}\n"
            "  do-ip6: no\n"
            "  do-daemonize: no\n"
            '  username: ""\n'
            '  chroot: ""\n'
            f'  directory: "{self.dir}"\n'
            f'  pidfile: "{self.dir}/unbound.pid"\n'
            "  use-syslog: no\n"
            f"  verbosity: {self.verbosity}\n"
            "  do-not-query-localhost: no\n"
            '  module-config: "iterator"\n'
            "  qname-minimisation: no\n"
            "  num-threads: 1\n"
            "  cache-max-ttl: 0\n"
            "  cache-max-negative-ttl: 0\n"
            "  access-control: 127.0.0.0/8 allow\n"
            # Test zones live under names RFC 6761 reserves, which Unbound answers itself (NXDOMAIN, NS
            # localhost) unless told not to; no real resolver would ask the internet about them either.
            '  local-zone: "test." nodefault\n'
            '  local-zone: "invalid." nodefault\n'
            '  domain-insecure: "test."\n' + stubs
        )

    def start(self, timeout: float = 20.0) -> UnboundResolver:
        conf = self.dir / "unbound.conf"
        conf.write_text(self._config())
        with open(self.dir / "unbound.log", "wb") as log:
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        probe = next(iter(self.stubs))
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"unbound exited: {(self.dir / 'unbound.log').read_text()}")
            try:
                response = dns.query.udp(
                    dns.message.make_query(probe + ".", "SOA"), "127.0.0.1", port=self.port, timeout=1
                )
                if response.rcode() == dns.rcode.NOERROR:
                    return self
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"unbound did not answer within {timeout}s: {(self.dir / 'unbound.log').read_text()}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> UnboundResolver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ThroughResolver:
    """A knotd seen through a recursive resolver: ``address`` is the resolver's; everything else (``port``,
    where the zones' own servers answer; ``set_zone``, ``break_zone``) is the knotd's."""

    recursive = True

    def __init__(self, knot: object, resolver: UnboundResolver):
        self._knot = knot
        self._resolver = resolver

    @property
    def address(self) -> str:
        return self._resolver.address

    def __getattr__(self, name: str) -> object:
        return getattr(self._knot, name)
