"""Name servers that disagree, seen before SES notices: a rotating sample compares every identity's servers daily.

With ``CHECK_NAMESERVERS=suspect`` a zone whose second server lost a DKIM
CNAME goes unseen while SES still says SUCCESS and the resolver happens to
ask the good server: exactly the early warning the check exists for. The
``sample`` mode (the default) also compares, on each run, the identities
whose place in the day (a stable hash of the name) falls in the time since
the previous scheduled run, so each identity's turn comes once a day for
about 1/24 of the work per hourly run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.scan.dns_answers import in_sample
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.settings import ConfigError, Settings, parse_nameserver
from tests.support.knot import BASE_ZONES, KnotServer
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records
from tests.support.shards import shards

HOUR = 3600.0
MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)
NAMES = [f"d{i:04d}.sample.test" for i in range(2000)]


def sampled_at(at: datetime, period: float = HOUR) -> set[str]:
    return {n for n in NAMES if in_sample(n, at=at, period=period)}


def test_sample_is_the_default_and_the_other_modes_stay():
    assert Settings.from_env({"AWS_REGION": "us-east-1"}).check_nameservers == "sample"
    for mode in ("sample", "suspect", "all", "off"):
        assert Settings.from_env({"AWS_REGION": "us-east-1", "CHECK_NAMESERVERS": mode}).check_nameservers == mode
    assert Settings.from_env({"AWS_REGION": "us-east-1"}).schedule_period_seconds == HOUR
    with pytest.raises(ConfigError, match="SCHEDULE_PERIOD_SECONDS"):
        Settings.from_env({"AWS_REGION": "us-east-1", "SCHEDULE_PERIOD_SECONDS": "10"})


def test_hourly_runs_compare_every_identity_at_least_once_a_day_for_about_a_24th_each():
    runs = [MIDNIGHT + timedelta(hours=h) for h in range(24)]
    per_run = [sampled_at(at) for at in runs]
    assert set().union(*per_run) == set(NAMES), "every identity's turn comes within the day"
    for found in per_run:
        assert 0.03 < len(found) / len(NAMES) < 0.065, len(found)  # 1/24 is 4.2 %, plus a margin for late runs
    assert per_run[5] == sampled_at(MIDNIGHT + timedelta(days=3, hours=5)), "the same turn every day"


def test_late_runs_still_cover_the_whole_day():
    """EventBridge fires a few seconds to minutes late; a run up to a tenth of the period late still covers."""
    runs = [MIDNIGHT + timedelta(hours=h, seconds=(h * 97) % 360) for h in range(25)]
    assert set().union(*(sampled_at(at) for at in runs)) == set(NAMES)


@pytest.mark.parametrize("period_hours", [2, 6, 24])
def test_a_slower_schedule_widens_each_runs_turn_so_the_day_is_still_covered(period_hours):
    period = period_hours * HOUR
    runs = [MIDNIGHT + timedelta(hours=h) for h in range(0, 24, period_hours)]
    covered = [sampled_at(at, period) for at in runs]
    assert set().union(*covered) == set(NAMES)
    assert all(len(found) / len(NAMES) <= min(1.0, 1.15 * period / 86400 + 0.02) for found in covered)


def test_a_faster_schedule_compares_more_often_not_less():
    runs = [MIDNIGHT + timedelta(minutes=30 * k) for k in range(48)]
    counts = {n: sum(1 for at in runs if in_sample(n, at=at, period=HOUR)) for n in NAMES}
    assert min(counts.values()) >= 1


@pytest.fixture()
def second_server_lost_a_cname(ses):
    """The zone's two servers: 127.0.0.1 (the resolver's view too) holds all three CNAMEs, 127.0.0.2 lost one.
    SES still says SUCCESS: nothing looks wrong from the resolver."""
    ns = "@ NS ns1\n@ NS ns2\nns1 A 127.0.0.1\nns2 A 127.0.0.2\n"
    primary = KnotServer(dict(BASE_ZONES), ns=ns).start()
    secondary = KnotServer(dict(BASE_ZONES), ip="127.0.0.2", port=primary.port, ns=ns).start()
    try:
        domain = "lost-sample.test"
        tokens = ses("us-east-1").add_domain(domain)
        for server in (primary, secondary):
            server.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
        primary.set_zone(domain, customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
        secondary.set_zone(domain, customer_cname_records(tokens[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')
        yield primary, domain
    finally:
        primary.stop()
        secondary.stop()


def scan_at(server, at: datetime, mode: str):
    resolver = make_resolver([parse_nameserver(server.address, setting="t")], timeout=3, lifetime=8)
    report = run_scan(shards(), DnsProbe(resolver, authoritative_port=server.port), nameservers=mode, now=lambda: at)
    [ident] = report.identities
    return ident, report


def test_a_lost_cname_on_the_second_server_is_found_on_the_identitys_turn(second_server_lost_a_cname):
    server, domain = second_server_lost_a_cname
    turn = next(
        MIDNIGHT + timedelta(hours=h)
        for h in range(24)
        if in_sample(domain, at=MIDNIGHT + timedelta(hours=h), period=HOUR)
    )
    other = next(
        MIDNIGHT + timedelta(hours=h)
        for h in range(24)
        if not in_sample(domain, at=MIDNIGHT + timedelta(hours=h), period=HOUR)
    )

    on_turn, report = scan_at(server, turn, "sample")
    [f] = [f for f in on_turn.findings if f.check == c.NAMESERVERS_DISAGREE]
    assert "ns2.lost-sample.test (127.0.0.2) answers NXDOMAIN" in f.message
    off_turn, quiet = scan_at(server, other, "sample")
    assert off_turn.findings == () and quiet.dns_lookups < report.dns_lookups
    suspect, _ = scan_at(server, turn, "suspect")
    assert suspect.findings == (), "what suspect alone misses until SES's own status changes"
