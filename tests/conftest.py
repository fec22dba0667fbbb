"""Shared fixtures: moto's server over HTTP, Powertools environment.

The monitor is pointed at moto only through the standard AWS environment
(``AWS_ENDPOINT_URL``, credentials, region), exactly as a user would point it
at another endpoint: the code has no endpoint option of its own.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Powertools reads these at import of its Metrics/Logger classes; set them
# before any test module imports the handler.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ses-dkim-monitor-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "SesDkimMonitorTest")
os.environ.setdefault("POWERTOOLS_DEV", "false")
# The default name-server mode, sample, compares each identity's servers on its turn of the UTC day:
# a test that builds its settings from the environment would ask a different set of identities at
# each hour of the day. The sample has tests of its own with an injected clock
# (tests/scan/test_nameserver_sample.py); everything else runs the deterministic suspect mode.
os.environ.setdefault("CHECK_NAMESERVERS", "suspect")
# SES's real 1 request/s makes every scan of a few identities take seconds of waiting: tests that read
# settings from the environment pace at the most the settings accept. Pacing itself is tested on its own
# (tests/scan/test_pacer.py, the throttled scale tests).
os.environ.setdefault("SES_REQUESTS_PER_SECOND", "50")
# Many tests assert English text, and the CLI follows the locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) when
# --language is not given: the suite must not inherit a Japanese one from the machine that runs it. Tests of
# the choice itself set these explicitly.
for _variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "ALERT_LANGUAGE"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"

# Every AWS call the code makes during the suite must be one some module declares in IAM_ACTIONS.
pytest_plugins = ["tests.support.aws_operations"]

ACCOUNT_ID = "123456789012"  # moto's default account


class _RetryClock:
    """Stands in for the ``time`` module inside botocore.endpoint, whose only use of it is the retry backoff."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture(autouse=True)
def aws_retry_sleeps(request, monkeypatch) -> list[float]:
    """botocore's retries happen at once and their waits are recorded, never slept: a test of an unreachable
    or refusing endpoint waited out up to 20 s of exponential backoff. Client-side rate limiting (the adaptive
    mode's token bucket, our pacer) is untouched: it keeps real time. Tests of how retries meet a server that
    throttles in real time are marked ``real_backoff`` and keep the real waits."""
    import botocore.endpoint

    clock = _RetryClock()
    if request.node.get_closest_marker("real_backoff") is None:
        monkeypatch.setattr(botocore.endpoint, "time", clock)
    return clock.sleeps


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One ThreadedMotoServer on 127.0.0.1 and a free port for the session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_PROFILE",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture()
def moto(moto_endpoint: str) -> str:
    """A clean moto for each test: every backend reset over HTTP."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return moto_endpoint


@pytest.fixture(scope="session")
def knot_server():
    """One knotd for the session; tests add zones of their own names with set_zone."""
    from tests.support.knot import BASE_ZONES, KnotServer

    server = KnotServer(dict(BASE_ZONES)).start()
    # The test zones' NS records name 127.0.0.1: the nameserver check asks them on this knotd's
    # port, as a deployment asks real name servers on 53 (DNS_AUTHORITATIVE_PORT).
    saved = os.environ.get("DNS_AUTHORITATIVE_PORT")
    os.environ["DNS_AUTHORITATIVE_PORT"] = str(server.port)
    try:
        yield server
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("DNS_AUTHORITATIVE_PORT", None)
        else:
            os.environ["DNS_AUTHORITATIVE_PORT"] = saved


@pytest.fixture()
def knot(knot_server):
    """The session's knotd; zones a test adds stay, so each test uses its own domains."""
    return knot_server


@pytest.fixture(scope="session")
def unbound_server(knot_server):
    """Unbound in front of the session's knotd: a recursive resolver, as production's, cache off (each answer
    is knotd's of the moment). It answers a TXT question at a CNAME with the chain and the target's TXT."""
    from tests.support.unbound import UnboundResolver

    zones = ("test", "invalid", "com", "org", "net")  # every test zone is under one of these
    with UnboundResolver({zone: f"127.0.0.1@{knot_server.port}" for zone in zones}) as server:
        yield server


@pytest.fixture(params=["knotd", "unbound"])
def knot_both_ways(request, knot_server):
    """The session's knotd asked two ways: straight (an authoritative server: the probe asks per record) and
    through Unbound (a recursive resolver: one question per DKIM record). A scenario module that overrides
    ``knot`` with this runs every scenario both ways; zones are set on knotd either way."""
    if request.param == "knotd":
        return knot_server
    from tests.support.unbound import ThroughResolver

    return ThroughResolver(knot_server, request.getfixturevalue("unbound_server"))


@pytest.fixture()
def silent_resolver():
    """A resolver address that never answers: lookups through it time out."""
    from tests.support.knot import SilentResolver

    silent = SilentResolver()
    try:
        yield silent
    finally:
        silent.close()


@pytest.fixture()
def ses(moto):
    """SES identities in moto whose v1 and v2 answers agree (see tests/ses_fixture.py)."""
    from tests.support.ses_world import SesWorld, consistent_v1

    with consistent_v1():
        yield SesWorld


# Hypothesis profiles: "ci" (the default, what scripts/test.sh runs) keeps the
# suite quick on a shared 2-core machine; "full" is the thorough run
# documented in docs/development.md (HYPOTHESIS_PROFILE=full scripts/test.sh).
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("full", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
