"""`fix --apply` writes only where it is sure and never removes what works (issue 17), each scenario against
moto's Route 53 with the records mirrored into knotd, the way a user runs the command.

* another account's identity is not fixed in this account's Route 53 unless ``--fix-for-account`` names it;
* an MX that is not SES's feedback host (the MAIL FROM name receives mail) is never deleted or replaced;
* a CNAME whose target SES did not confirm is never applied;
* a zone DNS does not serve (a stale duplicate, a delegated subdomain) is never written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from ses_dkim_monitor.exit_codes import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from ses_dkim_monitor.fix.command import Hooks
from tests.support.ses_world import ACCOUNT_ID, customer_cname_records, easy_dkim_zone_records
from tests.support.throttling import V2AccessDenied

MEMBER = "111111111111"
INBOUND_MX = "10 inbound.mailhost.fixtest."
DMARC = ("_dmarc", "TXT", 300, ['"v=DMARC1; p=none"'])


def cnames(tokens: list[str]) -> list[tuple[str, str, int, list[str]]]:
    return [(f"{t}._domainkey", "CNAME", 300, [f"{t}.dkim.amazonses.com."]) for t in tokens]


# ---------------------------------------------------------------- another account's identity


def test_a_member_accounts_pending_identity_is_not_fixed_in_the_operators_zone(
    ses, knot, tld, fix, hosted_zone, amazonses_spf
):
    """A member account holds a PENDING identity for the operator's domain: creating its CNAMEs would complete
    its DKIM verification, and its MAIL FROM fix would delete the operator's inbound MX."""
    domain = f"operator.{tld}"
    tokens = ses("us-east-1", account=MEMBER).add_domain(
        domain, dkim_status="PENDING", mail_from={"domain": f"mail.{domain}", "status": "PENDING"}
    )
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [("mail", "MX", 300, [INBOUND_MX]), DMARC])
    before = zone.record_sets()

    run = fix(
        "--role-arn", f"arn:aws:iam::{MEMBER}:role/scan", "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror)
    )

    assert zone.record_sets() == before, "nothing may be written for another account's identity"
    assert run.code == EXIT_FINDINGS, run.out + run.err
    assert "nothing for --apply to change in Route 53" in run.err
    section = run.out.split("Not fixed here")[1]
    assert f"{domain} (us-east-1, account {MEMBER})" in section
    assert f"account {MEMBER}" in section and f"account {ACCOUNT_ID}" in section and "--fix-for-account" in section
    for token in tokens:
        assert f"{token}._domainkey.{domain}." in section
    doc = json.loads(fix("--role-arn", f"arn:aws:iam::{MEMBER}:role/scan", "--format", "json").out)
    assert doc["route53_account"] == ACCOUNT_ID and doc["zones"] == []
    withheld = {(w["account"], w["record"]["name"], w["kind"]) for w in doc["not_fixed_here"]}
    assert {(MEMBER, f"{t}._domainkey.{domain}.", "other-account") for t in tokens} <= withheld


def test_fix_for_account_lets_the_operator_fix_a_named_member_account_and_every_line_names_it(
    ses, knot, tld, fix, hosted_zone, amazonses_spf
):
    domain = f"vouched.{tld}"
    tokens = ses("us-east-1", account=MEMBER).add_domain(
        domain, dkim_status="PENDING", mail_from={"domain": f"mail.{domain}", "status": "PENDING"}
    )
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [("mail", "MX", 300, [INBOUND_MX]), DMARC])
    role = f"arn:aws:iam::{MEMBER}:role/scan"

    dry = fix("--role-arn", role, "--fix-for-account", MEMBER, "--format", "json")
    doc = json.loads(dry.out)
    [z] = doc["zones"]
    assert {c["record"]["name"] for c in z["changes"]} == {f"{t}._domainkey.{domain}." for t in tokens}
    for change in z["changes"]:
        assert (change["identity"], change["region"], change["account"]) == (domain, "us-east-1", MEMBER)
        assert change["owners"] == [{"identity": domain, "region": "us-east-1", "account": MEMBER}]

    run = fix(
        "--role-arn", role, "--fix-for-account", MEMBER, "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror)
    )
    assert f"for {domain} (us-east-1, account {MEMBER}): dkim-record-missing" in run.out
    sets = {(n, t): v for n, t, _, v in zone.record_sets()}
    for token in tokens:
        assert sets[(f"{token}._domainkey.{domain}.", "CNAME")] == (f"{token}.dkim.amazonses.com.",)
    assert sets[(f"mail.{domain}.", "MX")] == (INBOUND_MX,), "the inbound MX stays whoever asks"


# ---------------------------------------------------------------- an MX that receives mail


def test_a_mail_from_name_that_receives_mail_keeps_its_mx(ses, knot, tld, fix, hosted_zone, amazonses_spf):
    domain = f"inbound.{tld}"
    tokens = ses("us-east-1").add_domain(domain, mail_from={"domain": f"mail.{domain}", "status": "SUCCESS"})
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [*cnames(tokens), ("mail", "MX", 300, [INBOUND_MX]), DMARC])
    before = zone.record_sets()

    run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert zone.record_sets() == before
    assert run.code == EXIT_FINDINGS, run.out + run.err
    section = run.out.split("Not fixed here")[1]
    assert f"mail.{domain}. receives mail" in section and "inbound.mailhost.fixtest" in section
    assert f"bounce.{domain}" in section, "the way out: a dedicated MAIL FROM subdomain"
    doc = json.loads(fix("--format", "json").out)
    assert {w["kind"] for w in doc["not_fixed_here"]} == {"mail-from-receives-mail"}


def test_an_mx_set_that_also_receives_mail_keeps_the_name_whole_spf_included(
    ses, knot, tld, fix, hosted_zone, amazonses_spf
):
    """SES's feedback host of another region first, an inbound host beside it: the name receives mail, so
    neither its MX nor its SPF is written, whichever value the MX answer lists first."""
    domain = f"mixedmx.{tld}"
    tokens = ses("eu-west-1").add_domain(domain, mail_from={"domain": f"mail.{domain}", "status": "SUCCESS"})
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    mx = ["10 feedback-smtp.us-east-1.amazonses.com.", "20 inbound.mailhost.fixtest."]
    zone = hosted_zone(domain, [*cnames(tokens), ("mail", "MX", 300, mx), DMARC])
    before = zone.record_sets()

    run = fix("--region", "eu-west-1", "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert zone.record_sets() == before, "no MX replaced, and no SPF record written at a name that receives mail"
    assert run.code == EXIT_FINDINGS, run.out + run.err
    doc = json.loads(fix("--region", "eu-west-1", "--format", "json").out)
    withheld = {(w["record"]["type"], w["kind"]) for w in doc["not_fixed_here"]}
    assert withheld == {("MX", "mail-from-receives-mail"), ("TXT", "mail-from-receives-mail")}


def test_another_regions_feedback_mx_in_use_by_that_regions_identity_is_not_replaced(
    ses, knot, tld, fix, hosted_zone, amazonses_spf
):
    """One domain verified in us-east-1 and eu-west-1 with one MAIL FROM name, its MX at us-east-1's feedback
    host: us-east-1's MAIL FROM works today, so eu-west-1's fix must not replace that MX."""
    domain = f"sharedmf.{tld}"
    mail_from = {"domain": f"mail.{domain}", "status": "SUCCESS"}
    east = ses("us-east-1").add_domain(domain, mail_from=mail_from)
    west = ses("eu-west-1").add_domain(domain, mail_from=mail_from)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(east) + "\n" + easy_dkim_zone_records(west))
    spf = ("mail", "TXT", 300, ['"v=spf1 include:amazonses.com ~all"'])
    zone = hosted_zone(
        domain,
        [
            *cnames(east),
            *cnames(west),
            ("mail", "MX", 300, ["10 feedback-smtp.us-east-1.amazonses.com."]),
            spf,
            DMARC,
        ],
    )
    before = zone.record_sets()

    regions = ("--region", "us-east-1", "--region", "eu-west-1")
    run = fix(*regions, "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert zone.record_sets() == before, "the MX us-east-1 sends with stays"
    assert run.code == EXIT_FINDINGS, run.out + run.err
    doc = json.loads(fix(*regions, "--format", "json").out)
    [w] = doc["not_fixed_here"]
    assert (w["region"], w["kind"], w["record"]["type"]) == ("eu-west-1", "mail-from-mx-in-use", "MX")
    assert "us-east-1" in w["reason"] and "--mail-from-domain" in w["reason"]


# ---------------------------------------------------------------- a signing zone SES did not confirm


@contextlib.contextmanager
def get_email_identity_denied() -> Iterator[None]:
    """SES v2 GetEmailIdentity answers AccessDeniedException (HTTP 403), as for a policy without it; the
    other reads work."""
    from moto.sesv2.models import SESV2Backend

    original = SESV2Backend.get_email_identity

    def denied(self, email_identity: str):  # type: ignore[no-untyped-def]
        raise V2AccessDenied(
            "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ses:GetEmailIdentity"
        )

    SESV2Backend.get_email_identity = denied  # type: ignore[method-assign]
    try:
        yield
    finally:
        SESV2Backend.get_email_identity = original  # type: ignore[method-assign]


def test_a_cname_whose_target_ses_did_not_confirm_is_never_applied(ses, knot, tld, fix, hosted_zone):
    domain = f"unconfirmed.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [*cnames(tokens[:1]), DMARC])
    before = zone.record_sets()

    with get_email_identity_denied():
        run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))
        doc = json.loads(fix("--format", "json").out)

    assert zone.record_sets() == before
    assert run.code == EXIT_FINDINGS, run.out + run.err
    section = run.out.split("Not fixed here")[1]
    assert "SES did not confirm the signing zone" in section and "aws sesv2 get-email-identity" in section
    withheld = {w["record"]["name"]: w for w in doc["not_fixed_here"]}
    for token in tokens[1:]:
        entry = withheld[f"{token}._domainkey.{domain}."]
        assert entry["kind"] == "signing-zone-unconfirmed"
        assert entry["record"]["value"] == f"{token}.dkim.amazonses.com."


# ---------------------------------------------------------------- zones DNS does not serve


def test_a_stale_duplicate_zone_is_never_written(ses, knot, tld, fix, hosted_zone):
    """The domain moved to other name servers; the old hosted zone is still in the account."""
    domain = f"stale.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [*cnames(tokens[:1]), DMARC], served=False)
    before = zone.record_sets()

    run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert zone.record_sets() == before
    assert run.code == EXIT_FINDINGS, run.out + run.err
    out = run.out
    assert f"Route 53 hosted zone {domain}. ({zone.short_id}) is not written" in out
    assert "ns1.elsewhere-dns" in out and zone.name_servers[0] in out  # both sets of name servers named
    for token in tokens[1:]:
        assert f"host {token}._domainkey  type CNAME" in out
        assert f"{token}._domainkey.{domain}. 300 IN CNAME {token}.dkim.amazonses.com." in out  # BIND line
    doc = json.loads(fix("--format", "json").out)
    [unused] = doc["zones_not_used"]
    assert unused["zone"] == f"{domain}." and unused["hosted_zone_id"] == zone.short_id
    assert [z["hosted_zone_id"] for z in doc["zones"]] == [None]


def test_a_delegated_subdomain_is_never_written_in_the_parent_zone(ses, knot, tld, fix, hosted_zone):
    parent = f"parent.{tld}"
    child = f"sub.{parent}"
    tokens = ses("us-east-1").add_domain(child)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(parent, [("sub", "NS", 300, ["ns1.sub-dns.fixtest."]), DMARC])
    knot.set_zone(child, customer_cname_records(tokens[:1]) + '\n_dmarc TXT "v=DMARC1; p=none"')
    before = zone.record_sets()

    run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert zone.record_sets() == before
    assert run.code == EXIT_FINDINGS, run.out + run.err
    out = run.out
    assert f"Route 53 hosted zone {parent}. ({zone.short_id}) is not written" in out
    assert f"{child}. is delegated" in out
    assert f"Zone {child}. (apex found through SOA)" in out
    for token in tokens[1:]:
        assert f"{token}._domainkey.{child}. 300 IN CNAME {token}.dkim.amazonses.com." in out


def test_the_zone_dns_serves_is_still_written(ses, knot, tld, fix, hosted_zone):
    """The served case, so the checks above cannot pass by refusing every zone."""
    domain = f"served.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [*cnames(tokens[:1]), DMARC])
    run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))
    assert run.code == EXIT_OK, run.out + run.err
    assert {(n, t) for n, t, _, _ in zone.record_sets()} >= {(f"{t}._domainkey.{domain}.", "CNAME") for t in tokens}


def test_route53_denied_get_hosted_zone_gives_instructions_and_exits_three(
    ses, knot, tld, fix, hosted_zone, monkeypatch
):
    """Without route53:GetHostedZone fix cannot tell whether DNS serves the zone: it writes nothing."""
    import types

    import boto3

    domain = f"nogetzone.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    zone = hosted_zone(domain, [*cnames(tokens[:1]), DMARC])
    real_client = boto3.Session.client

    def deny(**_: object) -> tuple[object, dict]:
        # A before-call answer short-circuits the request; botocore raises ClientError for a status >= 300.
        error = {"Code": "AccessDenied", "Message": "not authorized to perform: route53:GetHostedZone"}
        return types.SimpleNamespace(status_code=403, headers={}), {"Error": error}

    def session_client(self, service, *args, **kwargs):
        client = real_client(self, service, *args, **kwargs)
        if service == "route53":
            client.meta.events.register("before-call.route53.GetHostedZone", deny)
        return client

    monkeypatch.setattr(boto3.Session, "client", session_client)
    before = zone.record_sets()
    run = fix("--identity", domain, "--apply", "--yes")
    assert run.code == EXIT_INCOMPLETE, run.out + run.err
    assert "AccessDenied" in run.err and "GetHostedZone" in run.err
    assert zone.record_sets() == before
    assert f"{tokens[1]}._domainkey.{domain}. 300 IN CNAME" in run.out


def test_of_two_hosted_zones_of_one_name_only_the_one_dns_serves_is_written(ses, knot, tld, fix, hosted_zone):
    """A migration inside the account: the old zone is still there beside the new one. Real Route 53 gives
    twins different name servers (moto gives every zone the same, so the old one's are set here)."""
    from moto.route53.models import route53_backends

    domain = f"twins.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    old = hosted_zone(domain, [DMARC], served=False, caller_reference="old")
    old_servers = ["ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."]
    route53_backends[ACCOUNT_ID]["aws"].zones[old.short_id].delegation_set.name_servers = old_servers
    new = hosted_zone(domain, [*cnames(tokens[:1]), DMARC], caller_reference="new")
    before = old.record_sets()

    run = fix("--apply", "--yes", hooks=Hooks(wait_for_dns=new.mirror))

    assert run.code == EXIT_OK, run.out + run.err
    assert old.record_sets() == before
    assert {(n, t) for n, t, _, _ in new.record_sets()} >= {(f"{t}._domainkey.{domain}.", "CNAME") for t in tokens}
    assert f"Route 53 hosted zone {domain}. ({old.short_id}) is not written" in run.out
