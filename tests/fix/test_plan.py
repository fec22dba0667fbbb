"""The planner, without AWS or DNS: findings (built here with their causes and misplaced records) and the
record sets a hosted zone holds go in; one change batch, conflicts and form instructions come out."""

from __future__ import annotations

import pytest

from ses_dkim_monitor import catalogue
from ses_dkim_monitor.catalogue import (
    DKIM_RECORD_MISSING,
    DKIM_RECORD_WRONG_TARGET,
    DKIM_SIGNING_DISABLED,
    DKIM_STATUS_NOT_SUCCESS,
    DMARC_RECORD_MISSING,
    EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN,
    IDENTITY_NOT_VERIFIED,
    MAIL_FROM_RECORD_MISSING,
)
from ses_dkim_monitor.fix import triage as t
from ses_dkim_monitor.fix.batch import changed_names, plan_zone
from ses_dkim_monitor.fix.elsewhere import Apex, instructions
from ses_dkim_monitor.fix.records import relative_host, same_value, txt_text, txt_value
from ses_dkim_monitor.models import (
    DnsRecord,
    Finding,
    IdentityReport,
    IdentityStatus,
    IdentityType,
    ScanReport,
    SesIdentity,
    SesStatus,
    Severity,
)

DOMAIN = "example.com"
TOKEN = "abcdefghijklmnopqrstuvwxyz234567"
NAME = f"{TOKEN}._domainkey.{DOMAIN}."
TARGET = f"{TOKEN}.dkim.amazonses.com."
CNAME = DnsRecord(NAME, "CNAME", TARGET)
SPF = '"v=spf1 include:amazonses.com ~all"'
MX = "10 feedback-smtp.us-east-1.amazonses.com"


def identity(name: str = DOMAIN) -> SesIdentity:
    return SesIdentity(
        name=name,
        region="us-east-1",
        account="123456789012",
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        dkim_tokens=(TOKEN,),
        signing_hosted_zone="dkim.amazonses.com",
        zone_confirmed=True,  # SES confirmed it (GetEmailIdentity): what a CNAME fix needs to be applied
    )


def found(check: str, *, record=None, misplaced=None, cause="", fix="the fix", severity=Severity.CRITICAL):
    return Finding(
        check=check,
        severity=severity,
        message=f"{check} observed",
        fix=fix,
        record=record,
        cause=cause,
        misplaced=misplaced,
    )


def report(*findings: Finding, name: str = DOMAIN) -> ScanReport:
    ident = IdentityReport(identity(name), IdentityStatus.PROBLEM, tuple(findings))
    return ScanReport(identities=(ident,), regions=("us-east-1",), generated_at="2026-11-29T00:00:00Z")


def rrset(name: str, rtype: str, ttl: int, *values: str) -> dict:
    return {"Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}


def plan(*findings: Finding, snapshot=None, rua=None, name: str = DOMAIN):
    fixes = t.triage(report(*findings, name=name), dmarc_rua=rua).fixes
    return plan_zone(f"{DOMAIN}.", "Z1", fixes, snapshot or {})


def actions(zone_plan) -> list[tuple]:
    return [(c.action, c.name, c.type, c.ttl, c.values) for c in zone_plan.changes]


# ---------------------------------------------------------------- one plan per fixable finding


def test_missing_cname_is_created_with_a_ttl_of_300():
    p = plan(found(DKIM_RECORD_MISSING, record=CNAME))
    assert actions(p) == [("CREATE", NAME, "CNAME", 300, (TARGET,))]
    assert p.changes[0].as_api() == {
        "Action": "CREATE",
        "ResourceRecordSet": {"Name": NAME, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": TARGET}]},
    }


def test_wrong_target_is_upserted_in_place_keeping_its_ttl():
    current = rrset(NAME, "CNAME", 3600, "selector1.example.net.")
    p = plan(found(DKIM_RECORD_WRONG_TARGET, record=CNAME), snapshot={NAME: [current]})
    assert actions(p) == [("UPSERT", NAME, "CNAME", 3600, (TARGET,))]


def test_doubled_domain_deletes_the_exact_misplaced_record_and_creates_the_right_one_with_its_ttl():
    doubled = f"{NAME}{DOMAIN}."
    current = rrset(doubled, "CNAME", 1800, TARGET.rstrip("."))  # as typed into Route 53, without the dot
    finding = found(
        DKIM_RECORD_MISSING, record=CNAME, cause=t.DOUBLED_DOMAIN, misplaced=DnsRecord(doubled, "CNAME", TARGET)
    )
    p = plan(finding, snapshot={doubled: [current], NAME: []})
    assert actions(p) == [
        ("DELETE", doubled, "CNAME", 1800, (TARGET.rstrip("."),)),
        ("CREATE", NAME, "CNAME", 1800, (TARGET,)),
    ]
    assert p.changes[0].record_set == current  # Route 53 deletes only an exact match
    assert [c.cause for c in p.changes] == [t.DOUBLED_DOMAIN] * 2


def test_a_txt_where_the_cname_belongs_is_left_in_place_and_the_cname_waits_for_a_human():
    """It may be the key itself, copied from SES's target, that makes DKIM pass today: fix never deletes it."""
    txt = rrset(NAME, "TXT", 600, '"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"')
    finding = found(
        DKIM_RECORD_MISSING,
        record=CNAME,
        cause=t.PUBLISHED_AS_TXT,
        misplaced=DnsRecord(NAME, "TXT", "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"),  # the probe's unquoted text
    )
    p = plan(finding, snapshot={NAME: [txt]})
    assert p.changes == ()
    [kept] = p.kept
    assert (kept.name, kept.type, kept.values, kept.cause) == (NAME, "TXT", txt_values(txt), t.PUBLISHED_AS_TXT)
    [conflict] = p.conflicts
    assert conflict.type == "CNAME" and "fix never deletes" in conflict.reason and "by hand" in conflict.reason


def txt_values(record_set: dict) -> tuple[str, ...]:
    return tuple(r["Value"] for r in record_set["ResourceRecords"])


def test_target_missing_dot_deletes_the_appended_target_and_creates_it_again():
    appended = f"{TARGET}{DOMAIN}"
    current = rrset(NAME, "CNAME", 300, appended)
    finding = found(
        DKIM_RECORD_WRONG_TARGET,
        record=CNAME,
        cause=t.TARGET_MISSING_DOT,
        misplaced=DnsRecord(NAME, "CNAME", appended + "."),
    )
    p = plan(finding, snapshot={NAME: [current]})
    assert actions(p) == [("DELETE", NAME, "CNAME", 300, (appended,)), ("CREATE", NAME, "CNAME", 300, (TARGET,))]


def test_dmarc_is_left_out_without_rua_and_a_starter_record_with_it():
    dmarc = found(
        DMARC_RECORD_MISSING,
        record=DnsRecord(f"_dmarc.{DOMAIN}.", "TXT", '"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"'),
        severity=Severity.WARNING,
    )
    without = t.triage(report(dmarc), dmarc_rua=None)
    assert without.fixes == () and [x.check for x in without.left_out] == [DMARC_RECORD_MISSING]
    assert "--dmarc-rua" in without.left_out[0].reason
    p = plan(dmarc, rua="mailto:dmarc@example.org")
    assert actions(p) == [
        ("CREATE", f"_dmarc.{DOMAIN}.", "TXT", 300, ('"v=DMARC1; p=none; rua=mailto:dmarc@example.org"',))
    ]


def test_dmarc_is_added_beside_other_txt_values_at_its_name():
    dmarc = found(DMARC_RECORD_MISSING, record=DnsRecord(f"_dmarc.{DOMAIN}.", "TXT", '"x"'), severity=Severity.WARNING)
    current = rrset(f"_dmarc.{DOMAIN}.", "TXT", 900, '"some-verification=1"')
    p = plan(dmarc, rua="mailto:d@example.com", snapshot={f"_dmarc.{DOMAIN}.": [current]})
    assert actions(p) == [
        (
            "UPSERT",
            f"_dmarc.{DOMAIN}.",
            "TXT",
            900,
            ('"some-verification=1"', '"v=DMARC1; p=none; rua=mailto:d@example.com"'),
        )
    ]


def test_mail_from_mx_and_spf_are_created():
    mail_from = f"bounce.{DOMAIN}."
    p = plan(
        found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "MX", MX), severity=Severity.WARNING),
        found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "TXT", SPF), severity=Severity.WARNING),
    )
    assert actions(p) == [("CREATE", mail_from, "MX", 300, (MX,)), ("CREATE", mail_from, "TXT", 300, (SPF,))]


def test_ses_is_added_to_an_existing_spf_record_instead_of_a_second_one():
    mail_from = f"bounce.{DOMAIN}."
    current = rrset(mail_from, "TXT", 300, '"v=spf1 include:_spf.google.com ~all"', '"other"')
    p = plan(
        found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "TXT", SPF), severity=Severity.WARNING),
        snapshot={mail_from: [current]},
    )
    assert actions(p) == [
        ("UPSERT", mail_from, "TXT", 300, ('"v=spf1 include:amazonses.com include:_spf.google.com ~all"', '"other"'))
    ]


def test_wrong_mx_is_replaced_when_the_finding_names_it():
    mail_from = f"bounce.{DOMAIN}."
    wrong = "10 feedback-smtp.eu-west-1.amazonses.com"
    finding = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(mail_from, "MX", MX),
        cause="mx-wrong-target",
        misplaced=DnsRecord(mail_from, "MX", wrong),
        severity=Severity.WARNING,
    )
    p = plan(finding, snapshot={mail_from: [rrset(mail_from, "MX", 300, wrong + ".")]})
    assert actions(p) == [("DELETE", mail_from, "MX", 300, (wrong + ".",)), ("CREATE", mail_from, "MX", 300, (MX,))]


# ---------------------------------------------------------------- never touches what no finding names


def test_a_txt_beside_the_cname_to_create_is_never_deleted_unless_a_finding_names_it():
    p = plan(found(DKIM_RECORD_MISSING, record=CNAME), snapshot={NAME: [rrset(NAME, "TXT", 300, '"x"')]})
    assert p.changes == ()
    [conflict] = p.conflicts
    assert "cannot share its name" in conflict.reason and "TXT" in conflict.reason


def test_a_misplaced_record_set_with_values_no_finding_names_is_left_to_a_human():
    mail_from = f"bounce.{DOMAIN}."
    wrong = "10 feedback-smtp.eu-west-1.amazonses.com."
    finding = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(mail_from, "MX", MX),
        misplaced=DnsRecord(mail_from, "MX", wrong),
        severity=Severity.WARNING,
    )
    p = plan(finding, snapshot={mail_from: [rrset(mail_from, "MX", 300, wrong, "20 backup.example.net.")]})
    assert p.changes == () and "change it by hand" in p.conflicts[0].reason


def test_route53_already_holding_the_record_is_reported_not_rewritten():
    p = plan(found(DKIM_RECORD_MISSING, record=CNAME), snapshot={NAME: [rrset(NAME, "CNAME", 300, TARGET)]})
    assert p.changes == () and "delegated to this hosted zone" in p.conflicts[0].reason


def test_a_misplaced_record_route53_does_not_hold_is_not_deleted():
    doubled = f"{NAME}{DOMAIN}."
    finding = found(
        DKIM_RECORD_MISSING, record=CNAME, cause=t.DOUBLED_DOMAIN, misplaced=DnsRecord(doubled, "CNAME", TARGET)
    )
    p = plan(finding, snapshot={doubled: [], NAME: []})
    assert p.changes == () and "Route 53 holds no CNAME" in p.conflicts[0].reason


def test_alias_and_routing_policy_records_are_never_changed():
    alias = {"Name": NAME, "Type": "CNAME", "AliasTarget": {"DNSName": "x.", "HostedZoneId": "Z"}}
    p = plan(found(DKIM_RECORD_WRONG_TARGET, record=CNAME), snapshot={NAME: [alias]})
    assert p.changes == () and "alias or uses a routing policy" in p.conflicts[0].reason


def test_a_record_set_that_changed_since_the_plan_is_detected():
    before = {NAME: (rrset(NAME, "CNAME", 300, "a."),), f"x.{DOMAIN}.": ()}
    assert changed_names(before, {NAME: (rrset(NAME, "CNAME", 300, "a."),), f"x.{DOMAIN}.": ()}) == []
    assert changed_names(before, {NAME: (rrset(NAME, "CNAME", 60, "a."),), f"x.{DOMAIN}.": ()}) == [NAME]
    appeared = {NAME: before[NAME], f"x.{DOMAIN}.": (rrset(f"x.{DOMAIN}.", "TXT", 300, '"y"'),)}
    assert changed_names(before, appeared) == [f"x.{DOMAIN}."]


# ---------------------------------------------------------------- not fixable by DNS


@pytest.mark.parametrize(
    "check,cause",
    [
        (DKIM_SIGNING_DISABLED, ""),
        (IDENTITY_NOT_VERIFIED, ""),
        (DKIM_STATUS_NOT_SUCCESS, t.DNS_CORRECT_NOW),
        (EMAIL_IDENTITY_WITHOUT_DKIM_DOMAIN, ""),
    ],
)
def test_findings_dns_cannot_fix_are_listed_with_their_fix_text(check, cause):
    command = "aws sesv2 put-email-identity-dkim-attributes --region us-east-1 --email-identity example.com"
    tri = t.triage(report(found(check, cause=cause, fix=f"Run: {command}")), dmarc_rua=None)
    assert tri.fixes == ()
    [item] = tri.not_fixable
    assert (item.check, item.cause, item.fix) == (check, cause, f"Run: {command}")


def test_info_findings_are_not_listed():
    assert t.triage(report(found(DKIM_SIGNING_DISABLED, severity=Severity.INFO)), dmarc_rua=None).empty


def test_cause_ids_match_the_catalogue():
    causes = getattr(catalogue, "CAUSES", {})
    for cause in (t.DOUBLED_DOMAIN, t.PUBLISHED_AS_TXT, t.TARGET_MISSING_DOT, t.DNS_CORRECT_NOW):
        assert cause in causes, f"{cause} is not in catalogue.CAUSES: the fix planner and the checks disagree"


@pytest.mark.parametrize(
    "text,ok",
    [
        ("mailto:dmarc@example.com", True),
        ("mailto:a@example.com,mailto:b@example.org!10m", True),
        ("dmarc@example.com", False),
        ("mailto:a@example.com; p=reject", False),
        ('mailto:a@example.com"', False),
        ("mailto:a@b c", False),
        ("", False),
    ],
)
def test_dmarc_rua_must_be_mailto_addresses_that_cannot_reshape_the_record(text, ok):
    if ok:
        assert t.parse_rua(text) == text
    else:
        with pytest.raises(ValueError, match="mailto:ADDRESS"):
            t.parse_rua(text)


# ---------------------------------------------------------------- record spelling


def test_txt_values_are_split_into_strings_of_255_bytes_and_read_back_whole():
    text = "p=" + "A" * 400
    value = txt_value(text)
    assert value.count('" "') == 1 and len(value.split('" "')[0]) == 256  # the quote and 255 bytes
    assert txt_text(value) == text
    assert txt_text('"a\\"b" "c\\073"') == 'a"bc;'  # Route 53 spells escapes in octal: \073 is ";"
    assert txt_text('"caf\\303\\251"') == "caf\u00e9"
    assert txt_value("caf\u00e9") == '"caf\\303\\251"'
    assert same_value("TXT", '"v=spf1" " ~all"', "v=spf1 ~all")
    assert same_value("CNAME", "A.Example.com", "a.example.com.") and not same_value("CNAME", "a.b.", "a.c.")
    assert same_value("MX", "10 mx.example.com", "10 MX.example.com.")


def test_a_key_at_the_doubled_name_is_copied_from_route53_as_it_is_and_left_in_place():
    """Never from the finding's display text (shortened, strings joined, escapes read in decimal)."""
    doubled = f"sel._domainkey.{DOMAIN}.{DOMAIN}."
    spelled = '"p=' + "B" * 200 + '" "' + "C" * 100 + '\\\\059 \\"q\\"" "\\303\\251"'
    key_text = txt_text(spelled)
    finding = found(
        "dkim-key-missing",
        record=DnsRecord(f"sel._domainkey.{DOMAIN}.", "TXT", f'"{key_text[:50]}..."'),  # display text: never used
        cause=t.DOUBLED_DOMAIN,
        misplaced=DnsRecord(doubled, "TXT", key_text),
    )
    [fix] = t.triage(report(finding), dmarc_rua=None).fixes
    assert fix.publish.value == ""  # nothing derived from the finding
    p = plan(finding, snapshot={doubled: [rrset(doubled, "TXT", 900, spelled)], f"sel._domainkey.{DOMAIN}.": []})
    assert actions(p) == [("CREATE", f"sel._domainkey.{DOMAIN}.", "TXT", 900, (spelled,))]
    [kept] = p.kept
    assert (kept.name, kept.values) == (doubled, (spelled,))


def test_a_txt_at_the_doubled_name_is_copied_by_hand_too_and_never_to_be_deleted():
    """At another provider the steps say what --apply does: add the copy at the right name, keep the original."""
    doubled = f"_dmarc.{DOMAIN}.{DOMAIN}."
    finding = found(
        "dmarc-record-missing",
        record=DnsRecord(f"_dmarc.{DOMAIN}.", "TXT", "v=DMARC1; p=none"),
        cause=t.DOUBLED_DOMAIN,
        misplaced=DnsRecord(doubled, "TXT", "v=DMARC1; p=none"),
    )
    [fix] = t.triage(report(finding), dmarc_rua=None).fixes
    steps = instructions(fix, Apex(f"{DOMAIN}."))
    assert [(s.action, s.name) for s in steps] == [("add", f"_dmarc.{DOMAIN}.")]


def test_form_host_is_relative_to_the_zone_apex():
    assert relative_host(f"{TOKEN}._domainkey.mail.example.com.", "example.com.") == f"{TOKEN}._domainkey.mail"
    assert relative_host("example.com.", "example.com.") == "@"
    assert relative_host("_dmarc.example.com", "example.com") == "_dmarc"


def test_form_instructions_name_what_to_delete_as_the_form_shows_it():
    doubled = f"{NAME}{DOMAIN}."
    finding = found(
        DKIM_RECORD_MISSING, record=CNAME, cause=t.DOUBLED_DOMAIN, misplaced=DnsRecord(doubled, "CNAME", TARGET)
    )
    [fix] = t.triage(report(finding), dmarc_rua=None).fixes
    delete, add = instructions(fix, Apex(f"{DOMAIN}."))
    assert (delete.action, delete.host, delete.type) == ("delete", f"{TOKEN}._domainkey.{DOMAIN}", "CNAME")
    assert "appended its zone" in delete.note
    assert (add.action, add.host, add.value, add.value_without_dot) == (
        "add",
        f"{TOKEN}._domainkey",
        TARGET,
        TARGET[:-1],
    )
    assert add.bind == f"{NAME} 300 IN CNAME {TARGET}"


def test_form_instructions_for_a_target_missing_its_dot_show_what_the_form_shows():
    appended = f"{TARGET}{DOMAIN}."
    finding = found(
        DKIM_RECORD_WRONG_TARGET, record=CNAME, cause=t.TARGET_MISSING_DOT, misplaced=DnsRecord(NAME, "CNAME", appended)
    )
    [fix] = t.triage(report(finding), dmarc_rua=None).fixes
    delete, add = instructions(fix, Apex(f"{DOMAIN}."))
    assert delete.host == f"{TOKEN}._domainkey" and delete.value == appended
    assert f"the form may show the target as {TARGET[:-1]}" in delete.note
    assert add.action == "add" and add.form_value == TARGET


def test_form_instructions_for_spf_and_mx():
    mail_from = f"bounce.{DOMAIN}."
    tri = t.triage(
        report(
            found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "MX", MX), severity=Severity.WARNING),
            found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "TXT", SPF), severity=Severity.WARNING),
        ),
        dmarc_rua=None,
    )
    [mx] = instructions(tri.fixes[0], Apex(f"{DOMAIN}."))
    [spf] = instructions(tri.fixes[1], Apex(f"{DOMAIN}."))
    assert (mx.host, mx.value, mx.value_without_dot) == ("bounce", MX + ".", MX)
    assert "priority 10" in mx.note
    assert (spf.form_value, spf.value, spf.value_without_dot) == ("v=spf1 include:amazonses.com ~all", SPF, SPF)
    assert "add include:amazonses.com to it" in spf.note
    unknown = instructions(tri.fixes[0], Apex(None, "SOA bounce.example.com. timed out"))[0]
    assert unknown.host == "bounce.example.com" and "zone apex unknown" in unknown.note


def test_an_include_of_ses_after_all_is_moved_before_it_as_receivers_never_evaluate_it():
    """The scan's reading and fix's agree: an include after all does not authorise SES, so fix moves it in front."""
    mail_from = f"bounce.{DOMAIN}."
    current = rrset(mail_from, "TXT", 300, '"v=spf1 -all include:amazonses.com"')
    p = plan(
        found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(mail_from, "TXT", SPF), severity=Severity.WARNING),
        snapshot={mail_from: [current]},
    )
    assert actions(p) == [("UPSERT", mail_from, "TXT", 300, ('"v=spf1 include:amazonses.com -all"',))]


def test_a_near_miss_dmarc_record_does_not_stop_fix_from_publishing_a_real_one():
    """``v=dmarc1`` is not a DMARC record to receivers (the scan reports it missing): fix adds one beside it."""
    dmarc = found(DMARC_RECORD_MISSING, record=DnsRecord(f"_dmarc.{DOMAIN}.", "TXT", '"x"'), severity=Severity.WARNING)
    current = rrset(f"_dmarc.{DOMAIN}.", "TXT", 900, '"v=dmarc1; p=reject"')
    p = plan(dmarc, rua="mailto:d@example.com", snapshot={f"_dmarc.{DOMAIN}.": [current]})
    assert actions(p) == [
        (
            "UPSERT",
            f"_dmarc.{DOMAIN}.",
            "TXT",
            900,
            ('"v=dmarc1; p=reject"', '"v=DMARC1; p=none; rua=mailto:d@example.com"'),
        )
    ]
