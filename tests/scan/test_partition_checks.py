"""Checks that depend on where SES runs: the MAIL FROM host and the DKIM zone per partition.

SES's mail domain (``amazonses.com``) is documented for the ``aws`` and
``aws-us-gov`` partitions only. Elsewhere (the EU sovereign cloud, China) a
MAIL FROM MX or a DKIM CNAME target cannot be judged against a host the
monitor would have to guess: the report says it could not verify, and never
raises ``mail-from-record-missing`` or prints a record built from a guess.
"""

from __future__ import annotations

from ses_dkim_monitor.models import IdentityStatus, IdentityType, MailFrom, SesIdentity, SesStatus, Severity
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome
from ses_dkim_monitor.scan.inventory import predicted_zone

TOKENS = ("aaaa1111", "bbbb2222", "cccc3333")


def mail_from_identity(region: str, *, zone: str | None = "dkim.amazonses.com") -> SesIdentity:
    return SesIdentity(
        name="example.com",
        region=region,
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        mail_from=MailFrom("bounce.example.com", SesStatus.SUCCESS, "RejectMessage"),
        signing_hosted_zone=zone,
    )


def mail_from_dns(mx: str) -> DomainDns:
    return DomainDns(
        domain="example.com",
        dmarc=Lookup("_dmarc.example.com", "TXT", Outcome.ANSWER, ("v=DMARC1; p=none",)),
        mail_from_mx=Lookup("bounce.example.com", "MX", Outcome.ANSWER, (mx,)),
        mail_from_txt=Lookup("bounce.example.com", "TXT", Outcome.ANSWER, ("v=spf1 include:amazonses.com ~all",)),
    )


def test_govcloud_mail_from_mx_is_checked_against_its_own_feedback_host():
    ident = mail_from_identity("us-gov-west-1")
    assert evaluate(ident, mail_from_dns("10 feedback-smtp.us-gov-west-1.amazonses.com"), {}).findings == ()
    [wrong] = evaluate(ident, mail_from_dns("10 feedback-smtp.us-east-1.amazonses.com"), {}).findings
    assert wrong.check == "mail-from-record-missing" and "feedback-smtp.us-gov-west-1.amazonses.com" in wrong.message


def test_sovereign_cloud_mail_from_mx_is_not_judged_against_a_guessed_host():
    ident = mail_from_identity("eusc-de-east-1", zone=None)
    report = evaluate(ident, mail_from_dns("10 feedback-smtp.eusc-de-east-1.amazonses.eu"), {})
    assert [f.check for f in report.findings if f.check == "mail-from-record-missing"] == []
    [note] = [f for f in report.findings if f.check == "identity-not-checked"]
    assert note.cause == "ses-host-unknown" and note.severity is Severity.INFO
    assert "eusc-de-east-1" in note.message and "aws-eusc" in note.message and "bounce.example.com" in note.message
    assert report.status is IdentityStatus.OK, "SES itself reports the MAIL FROM domain verified: nothing is wrong"


def test_the_sovereign_clouds_dkim_zone_is_not_predicted():
    assert predicted_zone("eu-west-1") == "dkim.amazonses.com"
    assert predicted_zone("af-south-1") == "dkim.af-south-1.amazonses.com"
    assert predicted_zone("eusc-de-east-1") is None


def test_a_missing_cname_without_a_known_zone_names_no_guessed_target():
    ident = mail_from_identity("eusc-de-east-1", zone=None)
    ident = SesIdentity(**{**{f: getattr(ident, f) for f in ident.__slots__}, "dkim_tokens": TOKENS, "mail_from": None})
    tokens = tuple(
        DkimTokenDns(token=t, record=Lookup(f"{t}._domainkey.example.com", "CNAME", Outcome.NXDOMAIN)) for t in TOKENS
    )
    report = evaluate(ident, DomainDns(domain="example.com", tokens=tokens), {})
    missing = [f for f in report.findings if f.check == "dkim-record-missing"]
    assert len(missing) == 3
    assert all(f.record is None for f in missing), "a record SES did not confirm must never reach fix --apply"
    assert all("None" not in f.fix and "none" not in f.fix.split() for f in missing)
    assert all("get-email-identity" in f.fix for f in missing)
