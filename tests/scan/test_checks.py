"""The pure checks: one test per branch, asserting the finding id and the facts in its message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ses_dkim_monitor.catalogue import CHECKS
from ses_dkim_monitor.models import (
    IdentityStatus,
    IdentityType,
    MailFrom,
    SesIdentity,
    SesStatus,
    Severity,
)
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome, ServerAnswer, SpfTree
from ses_dkim_monitor.scan.parsers import parse_dkim_key
from tests.support.ses_world import PUBLIC_KEY

TOKENS = ("aaaa1111", "bbbb2222", "cccc3333")
ZONE = "dkim.amazonses.com"


def domain(name: str = "example.com", **kw) -> SesIdentity:
    base = dict(
        name=name,
        region="us-east-1",
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        dkim_tokens=TOKENS,
        signing_hosted_zone=ZONE,
    )
    base.update(kw)
    return SesIdentity(**base)


def email(name: str = "ops@example.com", **kw) -> SesIdentity:
    base = dict(
        name=name,
        region="us-east-1",
        type=IdentityType.EMAIL_ADDRESS,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
    )
    base.update(kw)
    return SesIdentity(**base)


def answer(name: str, rdtype: str, *values: str) -> Lookup:
    return Lookup(name, rdtype, Outcome.ANSWER, values=values)


def healthy_token(token: str, domain_name: str = "example.com", key: bool = False) -> DkimTokenDns:
    return DkimTokenDns(
        token=token,
        record=answer(f"{token}._domainkey.{domain_name}", "CNAME", f"{token}.{ZONE}"),
        target_txt=answer(f"{token}.{ZONE}", "TXT", f"p={PUBLIC_KEY}" if key else ""),
    )


def healthy_dns(domain_name: str = "example.com") -> DomainDns:
    return DomainDns(
        domain=domain_name,
        tokens=tuple(healthy_token(t, domain_name, key=(i == 0)) for i, t in enumerate(TOKENS)),
        dmarc=answer(f"_dmarc.{domain_name}", "TXT", "v=DMARC1; p=none"),
    )


def checks_of(report) -> list[str]:
    return [f.check for f in report.findings]


def test_every_finding_uses_a_catalogued_id():
    # The catalogue is the public list of ids; ids are kebab-case and have a title and fix.
    for check in CHECKS.values():
        assert check.id == check.id.lower() and " " not in check.id
        assert check.title and check.fix


def test_healthy_domain_with_one_key_and_two_empty_rotation_targets_is_ok():
    report = evaluate(domain(), healthy_dns(), {})
    assert report.status is IdentityStatus.OK
    assert report.findings == ()


def test_unverified_domain_is_reported_with_its_status():
    report = evaluate(domain(verification_status=SesStatus.FAILED), healthy_dns(), {})
    [f] = [f for f in report.findings if f.check == "identity-not-verified"]
    assert f.severity is Severity.CRITICAL and "FAILED" in f.message


def test_pending_verification_is_a_warning():
    report = evaluate(domain(verification_status=SesStatus.PENDING), healthy_dns(), {})
    [f] = [f for f in report.findings if f.check == "identity-not-verified"]
    assert f.severity is Severity.WARNING and "PENDING" in f.message


def test_verified_but_not_enabled_for_sending_is_critical():
    report = evaluate(domain(sending_enabled=False), healthy_dns(), {})
    [f] = [f for f in report.findings if f.check == "identity-not-verified"]
    assert f.severity is Severity.CRITICAL and "not enabled for sending" in f.message


def test_signing_disabled_is_critical_and_fix_enables_it():
    report = evaluate(domain(dkim_enabled=False), healthy_dns(), {})
    [f] = [f for f in report.findings if f.check == "dkim-signing-disabled"]
    assert f.severity is Severity.CRITICAL
    assert "--signing-enabled" in f.fix and "example.com" in f.fix
    assert report.status is IdentityStatus.PROBLEM


@pytest.mark.parametrize(
    "status,severity",
    [
        (SesStatus.FAILED, Severity.CRITICAL),
        (SesStatus.TEMPORARY_FAILURE, Severity.CRITICAL),
        (SesStatus.PENDING, Severity.WARNING),
        (SesStatus.NOT_STARTED, Severity.WARNING),
    ],
)
def test_dkim_status_other_than_success_names_the_status(status, severity):
    report = evaluate(domain(dkim_status=status), healthy_dns(), {})
    [f] = [f for f in report.findings if f.check == "dkim-status-not-success"]
    assert f.severity is severity
    assert status.value in f.message


def test_removed_cname_alerts_before_ses_notices():
    dns = healthy_dns()
    gone = DkimTokenDns(token="bbbb2222", record=Lookup("bbbb2222._domainkey.example.com", "CNAME", Outcome.NXDOMAIN))
    dns = replace(dns, tokens=(dns.tokens[0], gone, dns.tokens[2]))
    report = evaluate(domain(dkim_status=SesStatus.SUCCESS), dns, {})
    [f] = report.findings
    assert f.check == "dkim-record-missing" and f.subject == "bbbb2222" and f.severity is Severity.CRITICAL
    assert "bbbb2222._domainkey.example.com does not exist" in f.message
    assert f.fix == "Publish bbbb2222._domainkey.example.com. CNAME bbbb2222.dkim.amazonses.com."
    assert f.record is not None and f.record.type == "CNAME"


def test_one_missing_finding_per_missing_token():
    missing = tuple(
        DkimTokenDns(token=t, record=Lookup(f"{t}._domainkey.example.com", "CNAME", Outcome.NODATA)) for t in TOKENS
    )
    report = evaluate(domain(), replace(healthy_dns(), tokens=missing), {})
    found = [f for f in report.findings if f.check == "dkim-record-missing"]
    assert sorted(f.subject for f in found) == sorted(TOKENS)
    assert all("has no CNAME record" in f.message for f in found)
    assert "dkim-key-missing" not in checks_of(report)  # the missing records already say it


def test_cname_published_at_doubled_name_is_named_in_the_message():
    token = TOKENS[0]
    tok = DkimTokenDns(
        token=token,
        record=Lookup(f"{token}._domainkey.mail.example.com", "CNAME", Outcome.NXDOMAIN),
        misplaced=answer(f"{token}._domainkey.mail.example.com.example.com", "CNAME", f"{token}.{ZONE}"),
    )
    dns = replace(
        healthy_dns("mail.example.com"),
        tokens=(tok, *healthy_dns("mail.example.com").tokens[1:]),
        zone_apex="example.com",  # from SOA: the zone the provider appended
    )
    report = evaluate(domain("mail.example.com"), dns, {})
    [f] = [f for f in report.findings if f.check == "dkim-record-missing"]
    assert f.cause == "doubled-domain"
    assert f"published at {token}._domainkey.mail.example.com.example.com" in f.message
    assert f.misplaced is not None and f.misplaced.name == f"{token}._domainkey.mail.example.com.example.com."
    assert f.fix.startswith(f"Delete the record at {token}._domainkey.mail.example.com.example.com. and publish")
    assert f'then add host "{token}._domainkey.mail", type CNAME' in f.fix


def test_every_token_at_a_doubled_name_gets_its_own_correct_fix():
    toks = tuple(
        DkimTokenDns(
            token=t,
            record=Lookup(f"{t}._domainkey.mail.example.com", "CNAME", Outcome.NXDOMAIN),
            misplaced=answer(f"{t}._domainkey.mail.example.com.example.com", "CNAME", f"{t}.{ZONE}"),
        )
        for t in TOKENS
    )
    dns = replace(healthy_dns("mail.example.com"), tokens=toks, zone_apex="example.com")
    report = evaluate(domain("mail.example.com"), dns, {})
    records = sorted((f.record.name, f.record.value) for f in report.findings if f.check == "dkim-record-missing")
    assert records == sorted((f"{t}._domainkey.mail.example.com.", f"{t}.dkim.amazonses.com.") for t in TOKENS)
    assert all(f"publish {f.record.name} CNAME {f.record.value}" in f.fix for f in report.findings if f.record)


def test_cname_to_another_target_says_what_it_points_at():
    tok = DkimTokenDns(token=TOKENS[0], record=answer(f"{TOKENS[0]}._domainkey.example.com", "CNAME", "x.example.net"))
    dns = replace(healthy_dns(), tokens=(tok, *healthy_dns().tokens[1:]))
    report = evaluate(domain(), dns, {})
    [f] = [f for f in report.findings if f.check == "dkim-record-wrong-target"]
    assert "is a CNAME to x.example.net, expected aaaa1111.dkim.amazonses.com" in f.message
    assert f.fix == "Change aaaa1111._domainkey.example.com. to CNAME aaaa1111.dkim.amazonses.com."


def test_target_missing_its_trailing_dot_gets_a_hint():
    t = TOKENS[0]
    tok = DkimTokenDns(token=t, record=answer(f"{t}._domainkey.example.com", "CNAME", f"{t}.{ZONE}.example.com"))
    report = evaluate(domain(), replace(healthy_dns(), tokens=(tok, *healthy_dns().tokens[1:])), {})
    [f] = [f for f in report.findings if f.check == "dkim-record-wrong-target"]
    assert "typed without its trailing dot" in f.message


def test_no_key_behind_any_target_is_key_missing():
    tokens = tuple(healthy_token(t, key=False) for t in TOKENS)
    report = evaluate(domain(), replace(healthy_dns(), tokens=tokens), {})
    [f] = report.findings
    assert f.check == "dkim-key-missing" and f.severity is Severity.CRITICAL
    assert "usable p=" in f.message


def test_key_check_waits_when_a_target_lookup_failed():
    tokens = list(healthy_token(t, key=False) for t in TOKENS)
    tokens[0] = replace(tokens[0], target_txt=Lookup(f"{TOKENS[0]}.{ZONE}", "TXT", Outcome.FAILED, error="timeout"))
    report = evaluate(domain(), replace(healthy_dns(), tokens=tuple(tokens)), {})
    assert "dkim-key-missing" not in checks_of(report)
    assert report.status is IdentityStatus.UNKNOWN


@pytest.mark.parametrize(
    "txt,ok",
    [
        (f"p={PUBLIC_KEY}", True),
        (f"v=DKIM1; k=rsa; p={PUBLIC_KEY}", True),
        (f"v=DKIM1; k=rsa; p={PUBLIC_KEY[:40]} {PUBLIC_KEY[40:]}", True),  # whitespace inside the value
        ("v=DKIM1; p=", False),  # revoked
        ("", False),  # rotation placeholder
        ("p=not base64!!", False),
        (f"v=DKIM2; p={PUBLIC_KEY}", False),
        ("v=spf1 include:amazonses.com ~all", False),
    ],
)
def test_dkim_key_parsing(txt, ok):
    assert (parse_dkim_key(txt) is not None) is ok


def test_byodkim_selector_without_key_is_key_missing():
    ident = domain(signing_origin="EXTERNAL", dkim_tokens=("sel1",), signing_hosted_zone=None)
    dns = DomainDns(
        domain="example.com",
        tokens=(DkimTokenDns(token="sel1", record=Lookup("sel1._domainkey.example.com", "TXT", Outcome.NXDOMAIN)),),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=reject"),
    )
    report = evaluate(ident, dns, {})
    [f] = report.findings
    assert f.check == "dkim-key-missing" and f.subject == "sel1" and "does not exist" in f.message
    assert 'sel1._domainkey.example.com. TXT "p=' in f.fix


def test_byodkim_selector_with_key_is_ok():
    ident = domain(signing_origin="EXTERNAL", dkim_tokens=("sel1",), signing_hosted_zone=None)
    dns = DomainDns(
        domain="example.com",
        tokens=(
            DkimTokenDns(token="sel1", record=answer("sel1._domainkey.example.com", "TXT", f"v=DKIM1; p={PUBLIC_KEY}")),
        ),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=reject"),
    )
    assert evaluate(ident, dns, {}).findings == ()


def test_byodkim_key_with_upper_case_tag_names_is_usable_and_noted():
    ident = domain(signing_origin="EXTERNAL", dkim_tokens=("sel1",), signing_hosted_zone=None)
    txt = f"V=DKIM1; K=rsa; p={PUBLIC_KEY}"
    dns = DomainDns(
        domain="example.com",
        tokens=(DkimTokenDns(token="sel1", record=answer("sel1._domainkey.example.com", "TXT", txt)),),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=reject"),
    )
    report = evaluate(ident, dns, {})
    [note] = report.findings
    assert (note.check, note.severity, note.cause, note.subject) == (
        "record-note",
        Severity.INFO,
        "key-tag-case",
        "key-tag-case sel1",
    )
    assert "sel1._domainkey.example.com" in note.message and '"V"' in note.message
    assert report.status is IdentityStatus.OK


def test_email_identity_without_domain_identity_is_critical():
    report = evaluate(email("alerts@noreply.example.net"), None, {})
    [f] = report.findings
    assert f.check == "email-identity-without-dkim-domain" and f.severity is Severity.CRITICAL
    assert "no domain identity for noreply.example.net or a parent domain" in f.message
    assert "--email-identity noreply.example.net" in f.fix


def test_email_identity_covered_by_a_verified_parent_domain_is_ok():
    parent = domain("example.com")
    report = evaluate(email("ops@mail.example.com"), None, {"example.com": parent})
    assert report.findings == () and report.status is IdentityStatus.OK


def test_email_identity_whose_domain_has_dkim_off_names_that_domain():
    parent = domain("example.com", dkim_enabled=False)
    report = evaluate(email("ops@example.com"), None, {"example.com": parent})
    [f] = report.findings
    assert "example.com has DKIM signing off" in f.message


def test_email_identity_does_not_match_a_mere_suffix():
    # "ample.com" is not a parent of "example.com".
    report = evaluate(email("ops@example.com"), None, {"ample.com": domain("ample.com")})
    assert checks_of(report) == ["email-identity-without-dkim-domain"]


def test_failed_lookup_makes_identity_unknown_never_missing():
    failed = tuple(
        DkimTokenDns(token=t, record=Lookup(f"{t}._domainkey.example.com", "CNAME", Outcome.FAILED, error="timeout"))
        for t in TOKENS
    )
    report = evaluate(domain(), replace(healthy_dns(), tokens=failed), {})
    assert report.status is IdentityStatus.UNKNOWN
    assert checks_of(report) == ["dns-lookup-failed"]
    assert "3 DNS lookup(s)" in report.findings[0].message and "timeout" in report.findings[0].message


def test_missing_dmarc_is_a_warning_with_a_starter_record():
    report = evaluate(domain(), replace(healthy_dns(), dmarc=Lookup("_dmarc.example.com", "TXT", Outcome.NXDOMAIN)), {})
    [f] = report.findings
    assert f.check == "dmarc-record-missing" and f.severity is Severity.WARNING
    assert f.record is not None and f.record.value.startswith('"v=DMARC1; p=none')


def dmarc_report(values: tuple[str, ...], *, passed: tuple[Lookup, ...] = (), name: str = "_dmarc.example.com"):
    dns = replace(healthy_dns(), dmarc=answer(name, "TXT", *values), dmarc_passed=passed)
    return evaluate(domain(), dns, {})


def test_an_unknown_dmarc_tag_is_a_note_never_dmarc_invalid():
    report = dmarc_report(("v=DMARC1; p=reject; rau=mailto:d@example.com",))
    [note] = report.findings
    assert (note.check, note.severity, note.cause) == ("record-note", Severity.INFO, "dmarc-unknown-tag")
    assert "did you mean rua?" in note.message and "policy p=reject" in note.message
    assert report.status is IdentityStatus.OK


def test_a_valid_rua_without_p_is_read_as_p_none_and_the_message_says_so():
    report = dmarc_report(("v=DMARC1; rua=mailto:d@example.com",))
    [note] = report.findings
    assert (note.check, note.cause) == ("record-note", "dmarc-policy-implied")
    assert "read as p=none" in note.message
    assert report.status is IdentityStatus.OK


def test_an_invalid_policy_beside_a_valid_rua_says_receivers_read_p_none():
    [f] = dmarc_report(("v=DMARC1; p=rejct; rua=mailto:d@example.com",)).findings
    assert (f.check, f.cause) == ("dmarc-invalid", "dmarc-bad-policy")
    assert "read as p=none" in f.message


def test_a_record_that_is_almost_dmarc_is_missing_with_the_reason():
    [f] = dmarc_report((" v=DMARC1; p=reject",)).findings
    assert f.check == "dmarc-record-missing"
    assert "exactly v=DMARC1" in f.message


def test_several_dmarc_records_are_discarded_and_the_parents_record_is_reported():
    several = answer("_dmarc.mail.example.com", "TXT", "v=DMARC1; p=reject", "v=DMARC1; p=none")
    ident = domain("mail.example.com")
    dns = replace(
        healthy_dns("mail.example.com"),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=quarantine"),
        dmarc_passed=(several,),
    )
    [f] = evaluate(ident, dns, {}).findings
    assert (f.check, f.cause) == ("dmarc-invalid", "dmarc-multiple-records")
    assert "_dmarc.mail.example.com holds 2 v=DMARC1 records" in f.message
    assert "_dmarc.example.com" in f.message and "p=quarantine" in f.message
    assert "no DMARC policy" not in f.message


def test_a_near_miss_walked_past_is_reported_with_the_policy_that_applies_instead():
    near = answer("_dmarc.mail.example.com", "TXT", "v=dmarc1; p=reject")
    dns = replace(
        healthy_dns("mail.example.com"),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=none"),
        dmarc_passed=(near,),
    )
    [f] = evaluate(domain("mail.example.com"), dns, {}).findings
    assert (f.check, f.cause) == ("dmarc-invalid", "dmarc-syntax-error")
    assert '"v=dmarc1; p=reject"' in f.message and "exactly v=DMARC1" in f.message and "p=none" in f.message


def test_mail_from_not_verified_and_records_missing():
    ident = domain(mail_from=MailFrom("bounce.example.com", SesStatus.FAILED, "UseDefaultValue"))
    dns = replace(
        healthy_dns(),
        mail_from_mx=Lookup("bounce.example.com", "MX", Outcome.NXDOMAIN),
        mail_from_txt=answer("bounce.example.com", "TXT", "v=spf1 -all"),
    )
    report = evaluate(ident, dns, {})
    assert sorted(checks_of(report)) == [
        "mail-from-not-success",
        "mail-from-record-missing",
        "mail-from-record-missing",
    ]
    not_success = next(f for f in report.findings if f.check == "mail-from-not-success")
    assert "SES sends anyway, from amazonses.com" in not_success.message
    mx = next(f for f in report.findings if f.subject == "MX")
    assert mx.fix == "Publish bounce.example.com. MX 10 feedback-smtp.us-east-1.amazonses.com"
    spf = next(f for f in report.findings if f.subject == "TXT")
    assert '"v=spf1 -all"' in spf.message


def mail_from_report(*spf: str):
    ident = domain(mail_from=MailFrom("bounce.example.com", SesStatus.SUCCESS, "RejectMessage"))
    dns = replace(
        healthy_dns(),
        mail_from_mx=answer("bounce.example.com", "MX", "10 feedback-smtp.us-east-1.amazonses.com"),
        mail_from_txt=answer("bounce.example.com", "TXT", *spf),
    )
    return evaluate(ident, dns, {})


def test_terms_after_all_in_the_mail_from_spf_record_are_a_note_not_a_syntax_error():
    report = mail_from_report("v=spf1 include:amazonses.com -all include:_spf.example.net")
    [note] = report.findings
    assert (note.check, note.severity, note.cause) == ("record-note", Severity.INFO, "spf-ignored-terms")
    assert "bounce.example.com" in note.message and "never evaluated" in note.message
    assert report.status is IdentityStatus.OK


def test_exp_only_macros_in_the_mail_from_spf_record_are_spf_invalid():
    [f] = mail_from_report("v=spf1 include:amazonses.com exists:%{c}.bl.example.net -all").findings
    assert (f.check, f.cause) == ("spf-invalid", "spf-macro-outside-exp")
    assert "%{c}" in f.message


def spf_tree_report(tree: SpfTree, spf: str = "v=spf1 include:_spf.example.com ~all"):
    ident = domain(mail_from=MailFrom("bounce.example.com", SesStatus.SUCCESS, "RejectMessage"))
    dns = replace(
        healthy_dns(),
        mail_from_mx=answer("bounce.example.com", "MX", "10 feedback-smtp.us-east-1.amazonses.com"),
        mail_from_txt=answer("bounce.example.com", "TXT", spf),
        spf=tree,
    )
    return evaluate(ident, dns, {})


def test_ses_reached_through_the_include_tree_is_authorised():
    assert spf_tree_report(SpfTree(lookups=2, authorises_ses=True)).findings == ()


def test_ses_authorisation_that_cannot_be_told_is_not_reported_missing():
    failed = Lookup("_spf.example.com", "TXT", Outcome.FAILED, error="timeout")
    report = spf_tree_report(SpfTree(lookups=None, failed=(failed,), authorises_ses=None))
    assert checks_of(report) == ["dns-lookup-failed"] and report.status is IdentityStatus.UNKNOWN
    assert "_spf.example.com TXT (timeout)" in report.findings[0].message


def test_the_first_permerror_of_the_evaluation_is_spf_invalid_with_its_cause_and_fix():
    tree = SpfTree(
        lookups=3,
        permerror="spf-include-loop",
        detail="loops: include:b.example.com leads back to a record being evaluated (x -> b.example.com)",
        where="b.example.com",
        authorises_ses=True,
    )
    [f] = spf_tree_report(tree).findings
    assert (f.check, f.cause) == ("spf-invalid", "spf-include-loop")
    assert "leads back" in f.message and "receivers return permerror" in f.message
    assert "b.example.com" in f.fix


def test_findings_are_sorted_worst_first():
    report = evaluate(domain(dkim_status=SesStatus.PENDING, dkim_enabled=False), healthy_dns(), {})
    assert [f.severity for f in report.findings] == sorted((f.severity for f in report.findings), key=lambda s: -s.rank)


def test_an_ed25519_byodkim_key_is_not_a_weak_rsa_key():
    """RFC 8463's Ed25519 keys are 256 bits by design; RFC 8301's 2048-bit advice is about RSA only."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ident = domain(signing_origin="EXTERNAL", dkim_tokens=("ed",), signing_hosted_zone=None)
    dns = DomainDns(
        domain="example.com",
        tokens=(
            DkimTokenDns(
                token="ed",
                record=answer(
                    "ed._domainkey.example.com", "TXT", f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
                ),
            ),
        ),
        dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=reject"),
    )
    assert evaluate(ident, dns, {}).findings == ()


def test_servers_that_send_one_txt_set_in_different_orders_agree():
    """A record set has no order: two servers (different software) may send the same TXT records in different
    orders, and that is no disagreement. A record one of them lacks still is one."""
    name = "sel._domainkey.example.com"
    key, other = f"v=DKIM1; p={PUBLIC_KEY}", "site-verification=abc"
    ident = domain(signing_origin="EXTERNAL", dkim_tokens=("sel",), signing_hosted_zone=None)
    token = DkimTokenDns(token="sel", record=answer(name, "TXT", key, other))

    def servers(second: tuple[str, ...]) -> DomainDns:
        return DomainDns(
            domain="example.com",
            tokens=(token,),
            dmarc=answer("_dmarc.example.com", "TXT", "v=DMARC1; p=none"),
            zone_apex="example.com",
            servers=(
                ServerAnswer("ns1.example.net", "192.0.2.1", name, Outcome.ANSWER, values=(key, other)),
                ServerAnswer("ns2.example.org", "192.0.2.2", name, Outcome.ANSWER, values=second),
            ),
        )

    assert checks_of(evaluate(ident, servers((other, key)), {})) == []
    [disagree] = evaluate(ident, servers((other,)), {}).findings
    assert disagree.check == "nameservers-disagree" and "site-verification=abc" in disagree.message
