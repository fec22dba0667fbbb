"""A moto server seeded with many SES domain identities, in a process of its own (started by the benchmarks).

Creating 10,000 identities over HTTP takes minutes and leaves them in a state
the scan would not see in production (moto's ``create_email_identity`` gives
DKIM ``NOT_STARTED`` without tokens), so this script seeds moto's backend
directly, inside the server's own process, with ``SesWorld.add_many_domains``
(Easy DKIM, ``SUCCESS``, three tokens each) and the consistent v1 answers of
``tests/support/ses_world.py``. With ``--throttle R`` SES reads are throttled
per (account, region) as production does (``tests/support/throttling.py``).

Protocol: prints one JSON line ``{"port": ..., "seed_seconds": ...}`` when
it serves (on 127.0.0.1 only); when its standard input closes it stops and
prints one JSON line with every SES read it served: ``[monotonic time,
region, operation, throttled]`` (time.monotonic() is CLOCK_MONOTONIC, the
same clock in every process, so the parent can line these up with its own).

Usage (normally through bench_support.MotoProcess):
    .venv/bin/python benchmarks/moto_seeded.py --domains 10000 [--regions us-east-1,eu-west-1] [--throttle 10]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import domain_names, use_tree


def record_reads(log: list[list[Any]], lock: threading.Lock) -> contextlib.ExitStack:
    """Wrap the SES backend reads (outside any throttle) to log each one's time, region and outcome."""
    from moto.ses.models import SESBackend
    from moto.sesv2.models import SESV2Backend

    from tests.support.throttling import V1_METHODS, V2_METHODS

    stack = contextlib.ExitStack()
    for cls, methods in ((SESBackend, V1_METHODS), (SESV2Backend, V2_METHODS)):
        for name, operation in methods.items():
            original = vars(cls).get(name)
            method = getattr(cls, name)

            def logged(self: Any, *args: Any, _method: Any = method, _op: str = operation, **kwargs: Any) -> Any:
                try:
                    result = _method(self, *args, **kwargs)
                except Exception as exc:
                    with lock:
                        log.append(
                            [
                                time.monotonic(),
                                self.region_name,
                                _op,
                                "Throttl" in type(exc).__name__ or "TooMany" in type(exc).__name__,
                            ]
                        )
                    raise
                with lock:
                    log.append([time.monotonic(), self.region_name, _op, False])
                return result

            setattr(cls, name, functools.wraps(method)(logged))
            stack.callback(_restore, cls, name, original)
    return stack


def _restore(cls: type, name: str, original: Any) -> None:
    if original is None:
        delattr(cls, name)
    else:
        setattr(cls, name, original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", type=int, default=1000, help="domain identities per region (default 1000)")
    parser.add_argument("--regions", default="us-east-1", help="comma-separated regions to seed")
    parser.add_argument("--throttle", type=float, default=0.0, help="SES reads/s per (account, region); 0: none")
    parser.add_argument("--burst", type=float, default=1.0, help="the throttle's bucket size (default 1)")
    parser.add_argument("--tree", help="the source tree (src/, tests/support/) to import; default this repository")
    args = parser.parse_args()
    use_tree(args.tree)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    from tests.support.ses_world import SesWorld, consistent_v1
    from tests.support.throttling import ses_throttled

    reads: list[list[Any]] = []
    lock = threading.Lock()
    with contextlib.ExitStack() as stack:
        stack.enter_context(consistent_v1())
        throttle = stack.enter_context(ses_throttled(args.throttle, burst=args.burst)) if args.throttle > 0 else None
        stack.enter_context(record_reads(reads, lock))
        started = time.perf_counter()
        names = domain_names(args.domains)
        for region in args.regions.split(","):
            SesWorld(region).add_many_domains(names)
        seed_seconds = time.perf_counter() - started
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            _, port = server.get_host_and_port()
            print(json.dumps({"port": port, "seed_seconds": round(seed_seconds, 3)}), flush=True)
            sys.stdin.read()  # until the parent closes it (or exits)
        finally:
            server.stop()
        with lock:
            served = list(reads)
        counts = {}
        if throttle is not None:
            for region in args.regions.split(","):
                found = throttle.counts("123456789012", region)
                counts[region] = {"accepted": found.accepted, "throttled": found.throttled}
    print(json.dumps({"reads": served, "throttle": counts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
