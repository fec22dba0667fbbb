"""Domains SES's batch calls cannot fully describe, read once and remembered, within a cap whatever their number.

A legacy domain (verified by a TXT record with v1 VerifyDomainIdentity, Easy
DKIM never set up) comes back from v1 GetIdentityDkimAttributes as
``NotStarted`` without tokens while v2's list calls it verified: that is its
steady state, and so is a bring-your-own-DKIM domain's shape in v1. Only
GetEmailIdentity tells them apart, at about 1 request/s. So each answer is
remembered in the state table (partition ``details#<account>#<region>``),
keyed by the shape v1 gave, and a run reads at most ``MAX_IDENTITY_DETAILS``
new ones per shard; the rest are judged from the batch answers and say so.

SES is moto's server over HTTP, throttled per (account, region) as SES is
(tests/support/throttling.py); DNS is a real knotd.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.models import IdentityStatus, Severity
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.scan.zone_memory import DynamoDbZoneMemory, InMemoryZoneMemory
from ses_dkim_monitor.settings import Settings, parse_nameserver
from ses_dkim_monitor.wiring import account_targets, build_shards
from tests.support.alert_builders import create_state_table
from tests.support.ses_world import ACCOUNT_ID, PUBLIC_KEY
from tests.support.shards import shards
from tests.support.throttling import ses_throttled


@pytest.fixture()
def knot(knot_both_ways):
    """Every scenario here runs twice: straight at knotd (asked per record) and through Unbound, a recursive
    resolver as production has (one question per DKIM record). The findings must not depend on which."""
    return knot_both_ways


NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def add_legacy(world, names: list[str]) -> None:
    """Domains verified the old way: v2 says SUCCESS, DKIM was never started (no tokens, signing off)."""
    from moto.ses.models import EmailIdentity

    backend = world._backend()
    for name in names:
        ident = EmailIdentity(email_identity=name, tags=None, dkim_signing_attributes=None, configuration_set_name=None)
        ident.dkim_attributes = {"SigningEnabled": False, "Status": "NOT_STARTED", "SigningAttributesOrigin": "AWS_SES"}
        ident.verification_status = "SUCCESS"
        ident.verified_for_sending_status = True
        ident.test_mail_from = None
        backend.email_identities[name] = ident


def probe(knot) -> DnsProbe:
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)
    return DnsProbe(resolver, authoritative_port=knot.port)


def test_legacy_domains_cost_at_most_the_cap_per_run_and_nothing_once_remembered(ses, knot_server):
    """250 legacy domains, a cap of 100 a run: 100, 100, 50, then nothing. (The property is the cap's, not the
    count's; 250 keep it at SES's paced rate within the suite's time, and still span several pages of the
    list. DNS is asked straight at knotd only: the question here is SES's, and the other tests of this file
    run both ways.)"""
    n, cap = 250, 100
    knot = knot_server
    world = ses("us-east-1")
    names = [f"d{i:04d}.legacy-scale.test" for i in range(n)]
    add_legacy(world, names)
    knot.set_zone("legacy-scale.test", '_dmarc TXT "v=DMARC1; p=none"')
    table = create_state_table(boto3.client("dynamodb"), "details-scale")
    memory = DynamoDbZoneMemory(boto3.client("dynamodb"), table)
    config = Settings.from_env(
        {"SCAN_REGIONS": "us-east-1", "SES_REQUESTS_PER_SECOND": "50", "MAX_IDENTITY_DETAILS": str(cap)}
    )
    session = boto3.Session()
    targets = account_targets(config, session, own_account=ACCOUNT_ID, partition="aws")

    reads: list[int] = []
    reports = []
    with ses_throttled(rate=60) as server:  # the server refuses more than 60/s per account and region
        for _ in range(4):
            plan = build_shards(config, session, targets, regions=config.regions, run_id="t")
            report = run_scan(
                plan.shards,
                probe(knot),
                zones=memory,
                max_details=config.max_identity_details,
                nameservers="off",
                now=lambda: NOW,
                throttled=lambda plan=plan: plan.pacing.total().throttled,
            )
            reads.append(report.ses_calls.get("GetEmailIdentity", 0))
            reports.append(report)
            batch_calls = math.ceil(n / 1000) + 2 * math.ceil(n / 100)
            assert sum(report.ses_calls.values()) <= batch_calls + config.max_identity_details
            assert report.errors == (), "a throttled call is retried, never a shard lost"
        assert server.accepted(ACCOUNT_ID, "us-east-1") >= 4 * batch_calls + n

    assert reads == [cap, cap, n - 2 * cap, 0], "the cap holds each run; once every answer is remembered, none is asked"
    assert len(memory.load_details(ACCOUNT_ID, "us-east-1")) == n

    first = reports[0]
    noted = [r for r in first.identities if any(f.cause == c.DETAIL_UNFETCHED for f in r.findings)]
    assert len(noted) == n - cap, "what SES was not asked about says so"
    note = next(f for f in noted[0].findings if f.cause == c.DETAIL_UNFETCHED)
    assert note.check == c.IDENTITY_NOT_CHECKED and note.severity is Severity.INFO
    assert "GetEmailIdentity" in note.message and "NotStarted" in note.message
    # Read or not, a legacy domain is judged the same: DKIM never set up. No alert flaps as answers arrive.
    for report in reports:
        assert len(report.identities) == n
        for ident in report.identities:
            checks = {f.check for f in ident.findings if f.check != c.IDENTITY_NOT_CHECKED}
            assert checks == {c.DKIM_SIGNING_DISABLED, c.DKIM_STATUS_NOT_SUCCESS}, ident.findings
            assert ident.status is IdentityStatus.PROBLEM


def scan_once(knot, memory, *, at: datetime = NOW, cap: int = 100):
    return run_scan(shards(), probe(knot), zones=memory, max_details=cap, nameservers="off", now=lambda: at)


def test_a_remembered_answer_serves_until_v1_changes_or_a_week_passes(ses, knot):
    world = ses("us-east-1")
    add_legacy(world, ["legacy-one.test"])
    world.add_domain("byod-remembered.test", origin="EXTERNAL", tokens=["sel2026"])
    knot.set_zone("legacy-one.test", '_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone(
        "byod-remembered.test", f'_dmarc TXT "v=DMARC1; p=none"\nsel2026._domainkey TXT "v=DKIM1; p={PUBLIC_KEY}"'
    )
    memory = InMemoryZoneMemory()

    first = scan_once(knot, memory)
    again = scan_once(knot, memory)
    week_later = scan_once(knot, memory, at=NOW + timedelta(days=8))

    assert first.ses_calls.get("GetEmailIdentity") == 2
    assert again.ses_calls.get("GetEmailIdentity", 0) == 0, "remembered: nothing asked again"
    byod = next(r for r in again.identities if r.identity.name == "byod-remembered.test")
    assert byod.identity.is_byodkim and byod.identity.dkim_tokens == ("sel2026",) and byod.findings == ()
    assert week_later.ses_calls.get("GetEmailIdentity") == 2, "answers older than a week are read again"

    # DKIM set up at last on the legacy domain: v1's answer changes, so the remembered one no longer applies.
    ident = world._identity("legacy-one.test")
    ident.dkim_attributes = {**ident.dkim_attributes, "Status": "PENDING", "SigningEnabled": True}
    changed = scan_once(knot, memory, at=NOW + timedelta(days=8, hours=1))
    assert changed.ses_calls.get("GetEmailIdentity") == 1
    legacy = next(r for r in changed.identities if r.identity.name == "legacy-one.test")
    assert {f.check for f in legacy.findings} == {c.DKIM_STATUS_NOT_SUCCESS}


@pytest.mark.parametrize("cap", [0])
def test_an_identity_v1_left_out_and_not_asked_about_is_unknown_not_healthy(ses, knot, cap):
    """SES's batch answer leaves out identities it does not know (deleted since the list): only GetEmailIdentity
    can tell. Not asked (the cap), nothing at all is known of its DKIM: unknown, saying why."""
    from moto.ses.models import SESBackend

    world = ses("us-east-1")
    add_legacy(world, ["left-out.test"])
    knot.set_zone("left-out.test", '_dmarc TXT "v=DMARC1; p=none"')
    original = SESBackend.get_identity_dkim_attributes
    SESBackend.get_identity_dkim_attributes = lambda self, identities: {}
    try:
        report = scan_once(knot, InMemoryZoneMemory(), cap=cap)
    finally:
        SESBackend.get_identity_dkim_attributes = original
    [ident] = report.identities
    assert ident.status is IdentityStatus.UNKNOWN
    assert [(f.check, f.cause) for f in ident.findings] == [(c.IDENTITY_NOT_CHECKED, c.DETAIL_UNFETCHED)]
