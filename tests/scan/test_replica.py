"""Deterministic Easy DKIM replicas: their DKIM is their parent's, so every piece of advice points at the parent.

A replica (``SigningAttributesOrigin`` ``AWS_SES_<REGION>``) reuses the tokens
and keys of the identity of the same name in the parent region. Running
``verify-domain-dkim`` on it, or putting signing attributes with origin
``AWS_SES``, detaches it and issues new tokens: its published CNAMEs (the
parent's) then point at nothing it signs with, and DKIM breaks. The checks
name the parent region and say to fix the parent; SES's ``REPLICATION_*``
verification errors are explained.
"""

from __future__ import annotations

import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.models import IdentityType, SesIdentity, SesStatus
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.ses_world import PUBLIC_KEY, PUBLIC_KEY_1024, customer_cname_records, easy_dkim_zone_records
from tests.support.shards import shards

TOKENS = ("aaaa1111", "bbbb2222", "cccc3333")
ZONE = "dkim.amazonses.com"


@pytest.fixture()
def knot(knot_both_ways):
    """Every scenario here runs twice: straight at knotd (asked per record) and through Unbound, a recursive
    resolver as production has (one question per DKIM record). The findings must not depend on which."""
    return knot_both_ways


def replica(**kw) -> SesIdentity:
    base = dict(
        name="example.com",
        region="us-east-1",
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.FAILED,
        dkim_tokens=TOKENS,
        signing_origin="AWS_SES_EU_WEST_1",
        signing_hosted_zone=ZONE,
        zone_confirmed=True,
    )
    base.update(kw)
    return SesIdentity(**base)


def correct_dns(key: str = PUBLIC_KEY) -> DomainDns:
    tokens = tuple(
        DkimTokenDns(
            token=t,
            record=Lookup(f"{t}._domainkey.example.com", "CNAME", Outcome.ANSWER, (f"{t}.{ZONE}",)),
            target_txt=Lookup(f"{t}.{ZONE}", "TXT", Outcome.ANSWER, (f"p={key}" if i == 0 else "",)),
        )
        for i, t in enumerate(TOKENS)
    )
    return DomainDns(
        domain="example.com",
        tokens=tokens,
        dmarc=Lookup("_dmarc.example.com", "TXT", Outcome.ANSWER, ("v=DMARC1; p=none",)),
    )


def harmful_to_the_replica(text: str, region: str = "us-east-1") -> bool:
    """A command that would detach the replica: verify-domain-dkim, or new signing attributes, in its own region."""
    commands = [part for part in text.split("aws ")[1:]]
    return any(
        ("verify-domain-dkim" in cmd or "put-email-identity-dkim-signing-attributes" in cmd)
        and f"--region {region}" in cmd
        for cmd in commands
    )


def test_a_failed_replica_with_correct_records_is_told_to_fix_its_parent_never_to_restart_itself():
    [f] = [f for f in evaluate(replica(), correct_dns(), {}).findings if f.check == c.DKIM_STATUS_NOT_SUCCESS]
    assert f.cause == c.DNS_CORRECT_NOW
    assert "eu-west-1" in f.fix and "replica" in f.fix and "parent" in f.fix
    assert not harmful_to_the_replica(f.fix)
    assert "verify-domain-dkim" not in f.fix


@pytest.mark.parametrize(
    ("error", "explained"),
    [
        ("REPLICATION_ACCESS_DENIED", "permission"),
        ("REPLICATION_PRIMARY_NOT_FOUND", "no identity example.com in eu-west-1"),
        ("REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED", "bring-your-own"),
        ("REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED", "itself a replica"),
        ("REPLICATION_PRIMARY_INVALID_REGION", "not a valid parent region"),
    ],
)
def test_replication_errors_are_explained_and_point_at_the_parent(error, explained):
    ident = replica(dkim_status=SesStatus.FAILED, verification_error=error)
    broken = DomainDns(domain="example.com", tokens=())  # not every record answered: not dns-correct-now
    [f] = [f for f in evaluate(ident, broken, {}).findings if f.check == c.DKIM_STATUS_NOT_SUCCESS]
    assert error in f.message and explained in f.message
    assert f.cause == c.REPLICA_OF_PARENT and "eu-west-1" in f.fix
    assert not harmful_to_the_replica(f.fix)


def test_a_weak_key_on_a_replica_is_lengthened_on_the_parent():
    [f] = [f for f in evaluate(replica(dkim_status=SesStatus.SUCCESS), correct_dns(PUBLIC_KEY_1024), {}).findings]
    assert f.check == c.DKIM_KEY_WEAK and f.cause == c.REPLICA_OF_PARENT
    assert "--region eu-west-1" in f.fix and not harmful_to_the_replica(f.fix)


def test_advice_resting_on_an_unconfirmed_origin_warns_about_replicas():
    """Without GetEmailIdentity's answer the origin is not known: the restart advice says when not to follow it."""
    ident = replica(signing_origin="AWS_SES", zone_confirmed=False)
    [f] = [f for f in evaluate(ident, correct_dns(), {}).findings if f.check == c.DKIM_STATUS_NOT_SUCCESS]
    assert "verify-domain-dkim" in f.fix and "AWS_SES_<REGION>" in f.fix and "parent" in f.fix


def test_the_scan_asks_ses_for_the_origin_before_it_advises_a_restart(ses, knot):
    """A replica whose parent uses the same zone as the predicted one: nothing in DNS shows it is a replica,
    so the scan asks SES (GetEmailIdentity, within the cap) before printing advice that rests on the origin."""
    world = ses("us-east-1")
    tokens = world.add_domain(
        "replica-scan.test", dkim_status="FAILED", verification="SUCCESS", origin="AWS_SES_US_EAST_2"
    )
    knot.set_zone("replica-scan.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone(ZONE, easy_dkim_zone_records(tokens))
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)

    report = run_scan(shards(), DnsProbe(resolver, authoritative_port=knot.port), nameservers="off")

    [ident] = report.identities
    [f] = [f for f in ident.findings if f.check == c.DKIM_STATUS_NOT_SUCCESS]
    assert ident.identity.signing_origin == "AWS_SES_US_EAST_2"
    assert "us-east-2" in f.fix and not harmful_to_the_replica(f.fix)
    assert report.ses_calls.get("GetEmailIdentity") == 1


def test_a_failed_status_with_records_missing_never_advises_a_restart_that_would_detach_a_replica():
    ident = replica(signing_origin="AWS_SES", zone_confirmed=False)
    broken = DomainDns(domain="example.com", tokens=())
    report = evaluate(ident, broken, {})
    [f] = [f for f in report.findings if f.check == c.DKIM_STATUS_NOT_SUCCESS]
    assert "replica" in f.fix and "parent" in f.fix
    from ses_dkim_monitor.scan.checks.replica import rests_on_origin

    assert rests_on_origin(report), "the engine asks SES how it signs before reporting it"
