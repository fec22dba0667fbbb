"""The rules that keep ``fix --apply`` narrow, without AWS or DNS: what it deletes, what it withholds, how it
splits a zone's changes into Route 53 requests, and when a hosted zone counts as the one DNS serves."""

from __future__ import annotations

import pytest

from ses_dkim_monitor.catalogue import DKIM_RECORD_MISSING, DKIM_RECORD_WRONG_TARGET, MAIL_FROM_RECORD_MISSING
from ses_dkim_monitor.fix import safety
from ses_dkim_monitor.fix import triage as t
from ses_dkim_monitor.fix.batch import Change
from ses_dkim_monitor.fix.batches import Limits, size, split
from ses_dkim_monitor.fix.elsewhere import Apex
from ses_dkim_monitor.fix.served import NameServers, delegation_verdict, name_verdict
from ses_dkim_monitor.models import DnsRecord, Severity
from tests.fix.test_plan import CNAME, DOMAIN, MX, NAME, TARGET, actions, found, plan, report, rrset

MAIL_FROM = f"bounce.{DOMAIN}."


def mx_fix(misplaced: str) -> t.RecordFix:
    finding = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(MAIL_FROM, "MX", MX),
        cause=safety.MX_WRONG_TARGET,
        misplaced=DnsRecord(MAIL_FROM, "MX", misplaced),
        severity=Severity.WARNING,
    )
    [fix] = t.triage(report(finding), dmarc_rua=None).fixes
    return fix


# ---------------------------------------------------------------- what fix deletes


@pytest.mark.parametrize(
    "exchange,deletes",
    [
        ("10 feedback-smtp.eu-west-1.amazonses.com.", True),
        ("10 feedback-smtp.eusc-de-east-1.amazonses.com", True),
        ("10 inbound-smtp.us-east-1.amazonaws.com.", False),  # SES receiving: mail arrives there
        ("10 mx.example.net.", False),
        ("10 feedback-smtp.us-east-1.amazonses.com.evil.example.", False),
    ],
)
def test_only_an_mx_at_ses_feedback_host_is_ever_replaced(exchange, deletes):
    assert safety.may_delete(mx_fix(exchange)) is deletes


def test_a_misplaced_mx_that_receives_mail_withholds_every_fix_at_that_name_and_says_to_use_a_subdomain():
    spf = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(MAIL_FROM, "TXT", '"v=spf1 include:amazonses.com ~all"'),
        severity=Severity.WARNING,
    )
    mx = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(MAIL_FROM, "MX", MX),
        cause=safety.MX_WRONG_TARGET,
        misplaced=DnsRecord(MAIL_FROM, "MX", "10 mx.example.net."),
        severity=Severity.WARNING,
    )
    screened = safety.screen(t.triage(report(mx, spf), dmarc_rua=None), route53_account="123456789012")
    assert screened.fixes == ()
    assert {(w.kind, w.record.type) for w in screened.withheld} == {
        (safety.RECEIVES_MAIL, "MX"),
        (safety.RECEIVES_MAIL, "TXT"),
    }
    assert all(f"bounce.{DOMAIN}" in w.reason and "mx.example.net" in w.reason for w in screened.withheld)


def test_a_delete_never_goes_without_the_record_that_replaces_it():
    doubled = f"{NAME}{DOMAIN}."
    finding = found(
        DKIM_RECORD_MISSING, record=CNAME, cause=t.DOUBLED_DOMAIN, misplaced=DnsRecord(doubled, "CNAME", TARGET)
    )
    # The right name holds a TXT no finding names: the CNAME cannot be created, so the doubled one stays too.
    p = plan(
        finding, snapshot={doubled: [rrset(doubled, "CNAME", 300, TARGET)], NAME: [rrset(NAME, "TXT", 300, '"x"')]}
    )
    assert p.changes == () and "cannot share its name" in p.conflicts[0].reason


def test_a_cname_is_replaced_in_place_only_when_a_finding_names_its_target_wrong():
    current = {NAME: [rrset(NAME, "CNAME", 300, "other.example.net.")]}
    assert actions(plan(found(DKIM_RECORD_WRONG_TARGET, record=CNAME), snapshot=current)) == [
        ("UPSERT", NAME, "CNAME", 300, (TARGET,))
    ]
    p = plan(found(DKIM_RECORD_MISSING, record=CNAME), snapshot=current)  # DNS showed none: a stale view?
    assert p.changes == () and "change it by hand" in p.conflicts[0].reason


# ---------------------------------------------------------------- what fix withholds


def test_another_accounts_identity_is_withheld_unless_named_with_fix_for_account():
    tri = t.triage(report(found(DKIM_RECORD_MISSING, record=CNAME)), dmarc_rua=None)  # account 123456789012
    withheld = safety.screen(tri, route53_account="999999999999")
    [w] = withheld.withheld
    assert withheld.fixes == () and w.kind == safety.OTHER_ACCOUNT
    assert "123456789012" in w.reason and "999999999999" in w.reason and "--fix-for-account 123456789012" in w.reason
    assert safety.screen(tri, route53_account="999999999999", fix_for=["123456789012"]).fixes == tri.fixes


def test_a_cname_on_a_signing_zone_ses_did_not_confirm_is_withheld():
    from dataclasses import replace

    tri = t.triage(report(found(DKIM_RECORD_MISSING, record=CNAME)), dmarc_rua=None)
    unconfirmed = replace(tri, fixes=tuple(replace(f, zone_confirmed=False) for f in tri.fixes))
    [w] = safety.screen(unconfirmed, route53_account="123456789012").withheld
    assert w.kind == safety.ZONE_UNCONFIRMED and "SES did not confirm the signing zone" in w.reason


# ---------------------------------------------------------------- Route 53's request limits


def create(name: str, owner: str, value: str = TARGET, action: str = "CREATE") -> Change:
    return Change(
        action=action,
        record_set=rrset(name, "CNAME", 300, value),
        owners=(t.Owner(identity=owner, region="us-east-1", account="123456789012"),),
        check=DKIM_RECORD_MISSING,
        cause="",
    )


def test_an_upsert_counts_twice_toward_records_and_characters():
    created = size([create("a.", "x", "v" * 10), create("b.", "x", "w" * 12)])
    upserted = size([create("a.", "x", "v" * 10), create("b.", "x", "w" * 12, "UPSERT")])
    assert (upserted.changes, upserted.records, upserted.characters) == (2, 3, 10 + 2 * 12)
    assert (created.records, created.characters) == (2, 22)


def test_changes_are_split_within_the_limits_keeping_each_identity_and_each_name_in_one_batch():
    changes = [create(f"t{i}._domainkey.d{i // 3}.", f"d{i // 3}") for i in range(30)]
    changes.append(create("t0._domainkey.d0.", "shared-name", action="UPSERT"))  # joins d0 through the name
    batches, too_large = split(changes, Limits(changes=7, records=100, characters=10_000))
    assert too_large == [] and sum(len(b) for b in batches) == len(changes)
    assert all(len(b) <= 7 for b in batches)
    batch_of = {id(c): i for i, b in enumerate(batches) for c in b}
    for owner in {o for c in changes for o in c.owners}:
        assert len({batch_of[id(c)] for c in changes if owner in c.owners}) == 1
    for name in {c.name for c in changes}:
        assert len({batch_of[id(c)] for c in changes if c.name == name}) == 1
    big = [create(f"t{i}.big.", "big") for i in range(8)]
    assert split(big, Limits(changes=7))[1] == big  # an identity too large for one request is not split


# ---------------------------------------------------------------- the zone DNS serves


def test_a_zone_is_served_only_when_every_ns_dns_returns_is_in_its_delegation_set():
    own = ["ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."]
    assert delegation_verdict("example.com", "Z1", own, NameServers(tuple(own))).served
    assert delegation_verdict("example.com", "Z1", own, NameServers(("ns-2.awsdns-02.net.",))).served
    mixed = delegation_verdict("example.com", "Z1", own, NameServers(("ns-1.awsdns-01.com.", "ns1.other.net.")))
    assert not mixed.served and "ns1.other.net." in mixed.reason
    unknown = delegation_verdict("example.com", "Z1", own, NameServers(error="NS example.com. timed out"))
    assert not unknown.served and unknown.error == "NS example.com. timed out"


def test_an_ns_cut_between_the_name_and_the_apex_means_the_name_is_served_elsewhere():
    name = f"tok._domainkey.sub.{DOMAIN}."
    cut = {f"_domainkey.sub.{DOMAIN}.": [rrset(f"_domainkey.sub.{DOMAIN}.", "NS", 300, "ns1.dkim-host.net.")]}
    verdict = name_verdict(DOMAIN, name, Apex(f"{DOMAIN}."), cut)
    assert not verdict.served and verdict.reason.startswith(f"_domainkey.sub.{DOMAIN}. is delegated")
    assert name_verdict(DOMAIN, name, Apex(f"{DOMAIN}."), {}).served
    assert not name_verdict(DOMAIN, name, Apex(f"sub.{DOMAIN}."), {}).served  # DNS answers from sub's zone
    assert not name_verdict(DOMAIN, name, Apex("com."), {}).served
    assert name_verdict(DOMAIN, name, Apex(None, "SOA timed out"), {}).error == "SOA timed out"
