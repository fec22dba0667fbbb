"""``fix --language ja``: every reason and note the plan prints, in Japanese, with records and commands as written.

The plan's own headings were translated with the rest of the catalog; what
``fix`` says about a particular record (why it is withheld, why a batch cannot
make it, why a hosted zone is not the one DNS serves, why applying stopped, the
notes under the plan) is built where the decision is made. Each is reached
here through the pure planner (or Route 53 answers shaped by botocore's
Stubber) under ``i18n.speaking("ja")``.
"""

from __future__ import annotations

import re
from dataclasses import replace

import boto3
import pytest
from botocore.stub import Stubber

from ses_dkim_monitor import i18n
from ses_dkim_monitor.catalogue import DKIM_RECORD_MISSING, DKIM_RECORD_WRONG_TARGET, MAIL_FROM_RECORD_MISSING
from ses_dkim_monitor.fix import safety
from ses_dkim_monitor.fix import triage as t
from ses_dkim_monitor.fix.apply import NOT_ATTEMPTED, Waiting, apply_plans
from ses_dkim_monitor.fix.elsewhere import Apex
from ses_dkim_monitor.fix.locate import build_plan
from ses_dkim_monitor.fix.render import applied_text, to_text
from ses_dkim_monitor.fix.served import NameServers, delegation_verdict, name_verdict
from ses_dkim_monitor.models import DnsRecord, Severity
from ses_dkim_monitor.scan.dns_probe import make_resolver
from ses_dkim_monitor.settings import parse_nameserver
from tests.fix.test_plan import CNAME, DOMAIN, MX, NAME, TARGET, found, plan, report, rrset

_KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Two lower-case words in a row, not part of a command's options or a name: an English phrase.
_ENGLISH = re.compile(r"(?<![-\w.])[a-z]{2,} [a-z]{2,}(?![-\w.])")
MAIL_FROM = f"bounce.{DOMAIN}."


def japanese(text: str) -> bool:
    return bool(_KANA_OR_KANJI.search(text)) and not _ENGLISH.search(re.sub(r'"[^"]*"', "", text))


def test_withheld_fixes_say_why_in_japanese_with_the_command_to_run():
    other = t.triage(report(found(DKIM_RECORD_MISSING, record=CNAME)), dmarc_rua=None)
    unconfirmed = replace(other, fixes=tuple(replace(f, zone_confirmed=False) for f in other.fixes))
    inbound = found(
        MAIL_FROM_RECORD_MISSING,
        record=DnsRecord(MAIL_FROM, "MX", MX),
        cause=safety.MX_WRONG_TARGET,
        misplaced=DnsRecord(MAIL_FROM, "MX", "10 mx.example.net."),
        severity=Severity.WARNING,
    )
    receiving = t.triage(report(inbound), dmarc_rua=None)
    with i18n.speaking("ja"):
        [to_other] = safety.screen(other, route53_account="999999999999").withheld
        [not_confirmed] = safety.screen(unconfirmed, route53_account="123456789012").withheld
        [receives] = safety.screen(receiving, route53_account="123456789012").withheld
    for withheld in (to_other, not_confirmed, receives):
        assert japanese(withheld.reason), withheld.reason
    assert "--fix-for-account 123456789012" in to_other.reason and "999999999999" in to_other.reason
    assert f"aws sesv2 get-email-identity --region us-east-1 --email-identity {DOMAIN}" in not_confirmed.reason
    assert "MX 10 mx.example.net." in receives.reason and f"--mail-from-domain bounce.{DOMAIN}" in receives.reason


@pytest.mark.parametrize(
    "fixes_and_snapshot",
    [
        "txt-beside-cname",
        "alias",
        "already-there",
        "not-held",
        "more-values",
        "kept-txt",
        "receives-mail",
        "several-spf",
    ],
)
def test_what_a_batch_cannot_make_is_said_in_japanese(fixes_and_snapshot):
    wrong_mx = "10 feedback-smtp.eu-west-1.amazonses.com."
    doubled = f"{NAME}{DOMAIN}."
    cases = {
        "txt-beside-cname": ([found(DKIM_RECORD_MISSING, record=CNAME)], {NAME: [rrset(NAME, "TXT", 300, '"x"')]}),
        "alias": (
            [found(DKIM_RECORD_WRONG_TARGET, record=CNAME)],
            {NAME: [{"Name": NAME, "Type": "CNAME", "AliasTarget": {"DNSName": "x.", "HostedZoneId": "Z"}}]},
        ),
        "already-there": ([found(DKIM_RECORD_MISSING, record=CNAME)], {NAME: [rrset(NAME, "CNAME", 300, TARGET)]}),
        "not-held": (
            [
                found(
                    DKIM_RECORD_MISSING,
                    record=CNAME,
                    cause=t.DOUBLED_DOMAIN,
                    misplaced=DnsRecord(doubled, "CNAME", TARGET),
                )
            ],
            {doubled: [], NAME: []},
        ),
        "more-values": (
            [
                found(
                    MAIL_FROM_RECORD_MISSING,
                    record=DnsRecord(MAIL_FROM, "MX", MX),
                    misplaced=DnsRecord(MAIL_FROM, "MX", wrong_mx),
                    severity=Severity.WARNING,
                )
            ],
            {MAIL_FROM: [rrset(MAIL_FROM, "MX", 300, wrong_mx, "20 backup.example.net.")]},
        ),
        "kept-txt": (
            [
                found(
                    DKIM_RECORD_MISSING,
                    record=CNAME,
                    cause=t.PUBLISHED_AS_TXT,
                    misplaced=DnsRecord(NAME, "TXT", "p=MIGfMA0GCSqGSIb3DQEB"),
                )
            ],
            {NAME: [rrset(NAME, "TXT", 600, '"p=MIGfMA0GCSqGSIb3DQEB"')]},
        ),
        "receives-mail": (
            [found(MAIL_FROM_RECORD_MISSING, record=DnsRecord(MAIL_FROM, "MX", MX), severity=Severity.WARNING)],
            {MAIL_FROM: [rrset(MAIL_FROM, "MX", 300, "10 mx.example.net.")]},
        ),
        "several-spf": (
            [
                found(
                    MAIL_FROM_RECORD_MISSING,
                    record=DnsRecord(MAIL_FROM, "TXT", '"v=spf1 include:amazonses.com ~all"'),
                    severity=Severity.WARNING,
                )
            ],
            {MAIL_FROM: [rrset(MAIL_FROM, "TXT", 300, '"v=spf1 a -all"', '"v=spf1 mx -all"')]},
        ),
    }
    findings, snapshot = cases[fixes_and_snapshot]
    with i18n.speaking("ja"):
        zone_plan = plan(*findings, snapshot=snapshot)
    said = [c.reason for c in zone_plan.conflicts] + [k.reason for k in zone_plan.kept]
    assert said, zone_plan
    assert all(japanese(reason) for reason in said), said


def test_why_a_hosted_zone_is_not_written_is_said_in_japanese():
    own = ["ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."]
    name = f"tok._domainkey.sub.{DOMAIN}."
    cut = {f"_domainkey.sub.{DOMAIN}.": [rrset(f"_domainkey.sub.{DOMAIN}.", "NS", 300, "ns1.dkim-host.net.")]}
    with i18n.speaking("ja"):
        verdicts = [
            delegation_verdict(DOMAIN, "Z1", own, NameServers(("ns-1.awsdns-01.com.", "ns1.other.net."))),
            delegation_verdict(DOMAIN, "Z1", own, NameServers(error="NS example.com. timed out")),
            delegation_verdict(DOMAIN, "Z1", [], NameServers(tuple(own))),
            delegation_verdict(DOMAIN, "Z1", own, NameServers()),
            name_verdict(DOMAIN, name, Apex(f"{DOMAIN}."), cut),
            name_verdict(DOMAIN, name, Apex(f"sub.{DOMAIN}."), {}),
            name_verdict(DOMAIN, name, Apex("com."), {}),
            name_verdict(DOMAIN, name, Apex(None, "SOA timed out"), {}),
        ]
    assert all(not v.served for v in verdicts)
    # A lookup's own error (given here as the resolver step wrote it) is quoted inside the reason.
    assert all(japanese(v.reason.replace(v.error, "")) for v in verdicts), [v.reason for v in verdicts]
    assert "ns1.other.net." in verdicts[0].reason and "ns-2.awsdns-02.net." in verdicts[0].reason


def test_a_batch_stopped_before_it_was_sent_is_said_in_japanese():
    """Route 53 (botocore's Stubber, shaped as the API reference) shows a record set that changed since the plan."""
    client = boto3.client("route53", region_name="us-east-1")
    with i18n.speaking("ja"):
        zone_plan = replace(plan(found(DKIM_RECORD_MISSING, record=CNAME)), record_count=None)
        zone_plan = replace(zone_plan, batches=(zone_plan.changes, zone_plan.changes))
        with Stubber(client) as stub:
            stub.add_response(
                "list_resource_record_sets",
                {
                    "ResourceRecordSets": [rrset(NAME, "TXT", 300, '"appeared"')],
                    "IsTruncated": False,
                    "MaxItems": "100",
                },
                {"HostedZoneId": "Z1", "StartRecordName": NAME, "MaxItems": "100"},
            )
            result = apply_plans(
                client, [zone_plan], waiting=Waiting(sleep=lambda _s: None, clock=lambda: 0.0), comment="c"
            )
        text = applied_text(result, None)
    assert result.aborted and japanese(result.aborted), result.aborted
    assert NAME in result.aborted
    [first, second] = result.batches
    assert japanese(first.error) and second.error == NOT_ATTEMPTED  # the JSON document keeps its word
    assert "not attempted" not in text and japanese(text.replace(NAME, "")), text


def test_the_plans_notes_and_instructions_are_japanese_when_route53_cannot_be_used(knot):
    """Credentials whose account is unknown: nothing is written, and a zone SOA cannot find gives its reason."""
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=2, lifetime=8)
    nowhere = DnsRecord("tok._domainkey.nowhere.unserved-ja.", "CNAME", TARGET)  # a zone knotd refuses
    triaged = t.triage(report(found(DKIM_RECORD_MISSING, record=nowhere), name="nowhere.unserved-ja"), dmarc_rua=None)
    with i18n.speaking("ja"):
        fix_plan = build_plan(triaged, route53=None, resolver=resolver, route53_account=None)
        text = to_text(fix_plan, identities=1, applying=False)
    assert fix_plan.notes and all(japanese(n) for n in fix_plan.notes), fix_plan.notes
    notes = [s.note for s in fix_plan.elsewhere if s.note]
    assert notes and all(japanese(n) for n in notes), notes
    assert "docs/fix.md" in fix_plan.notes[0]
    lines = [line for line in text.splitlines() if line.strip().startswith(("add", "delete", "change"))]
    assert not lines, "the form's action and field words are translated too"


def test_the_form_lines_of_the_plan_are_japanese():
    """``add host ... type ... value ...``: the action and the field names in the form's own words."""
    from ses_dkim_monitor.fix.elsewhere import instructions
    from ses_dkim_monitor.fix.locate import FixPlan

    [fix] = t.triage(report(found(DKIM_RECORD_MISSING, record=CNAME)), dmarc_rua=None).fixes
    steps = tuple(instructions(fix, Apex(f"{DOMAIN}.")))
    with i18n.speaking("ja"):
        text = to_text(FixPlan(triage=t.Triage(), elsewhere=steps), identities=1, applying=False)
    [line] = [line for line in text.splitlines() if TARGET in line and "CNAME" in line and "TTL" in line]
    assert line.split()[0] == "追加" and "ホスト名" in line and "種別 CNAME" in line and "値" in line, line
    assert f"{fix.publish.name.split('._domainkey')[0]}._domainkey" in line


def test_english_plan_lines_are_unchanged():
    from ses_dkim_monitor.fix.elsewhere import instructions
    from ses_dkim_monitor.fix.locate import FixPlan

    [fix] = t.triage(report(found(DKIM_RECORD_MISSING, record=CNAME)), dmarc_rua=None).fixes
    steps = tuple(instructions(fix, Apex(f"{DOMAIN}.")))
    text = to_text(FixPlan(triage=t.Triage(), elsewhere=steps), identities=1, applying=False)
    token = NAME.split("._domainkey")[0]
    assert f"  add     host {token}._domainkey  type CNAME  TTL 300  value {TARGET}" in text
