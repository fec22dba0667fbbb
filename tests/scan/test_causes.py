"""Why a check fired: every cause and every new check, each from a zone knotd serves, each with a near miss.

SES is moto's server over HTTP; DNS is a real knotd (two, on 127.0.0.1 and
127.0.0.2, for the name-server check). The scan is the real one.
"""

from __future__ import annotations

import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.models import IdentityReport, IdentityStatus
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.knot import BASE_ZONES, KnotServer
from tests.support.ses_world import PUBLIC_KEY, PUBLIC_KEY_1024, customer_cname_records, easy_dkim_zone_records
from tests.support.shards import shards


@pytest.fixture()
def knot(knot_both_ways):
    """Every scenario here runs twice: straight at knotd (asked per record) and through Unbound, a recursive
    resolver as production has (one question per DKIM record). The findings must not depend on which."""
    return knot_both_ways


DMARC = '_dmarc TXT "v=DMARC1; p=none"'
SES_KEYS: list[str] = []  # every token's key records published so far in dkim.amazonses.com


def scan(knot, *, nameservers: str = "suspect", port: int | None = None) -> dict[str, IdentityReport]:
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)
    # The zones' own servers are knotd, on its port (a deployment asks them on 53); asked on 53 here, where
    # nothing listens, every suspect identity waited out a timeout.
    probe = DnsProbe(resolver, authoritative_port=port or knot.port)
    report = run_scan(shards(), probe, nameservers=nameservers)
    return {r.identity.name: r for r in report.identities}


def publish_keys(knot, tokens, *, key_on: int = 0) -> None:
    SES_KEYS.append(easy_dkim_zone_records(tokens, key_on=key_on))
    knot.set_zone("dkim.amazonses.com", "\n".join(SES_KEYS))


def findings(report: IdentityReport, check: str) -> list:
    return [f for f in report.findings if f.check == check]


def causes(report: IdentityReport) -> set[tuple[str, str]]:
    return {(f.check, f.cause) for f in report.findings if f.cause}


# ---------------------------------------------------------------- DKIM records


def test_cname_at_the_doubled_name_is_doubled_domain_with_the_host_to_type(ses, knot):
    world = ses("us-east-1")
    top = world.add_domain("doubled-cause.test")
    sub = world.add_domain("mail.doubled-sub-cause.test")
    near = world.add_domain("near-doubled-cause.test")
    for tokens in (top, sub, near):
        publish_keys(knot, tokens)
    knot.set_zone(
        "doubled-cause.test",
        "\n".join(f"{t}._domainkey.doubled-cause.test.doubled-cause.test. CNAME {t}.dkim.amazonses.com." for t in top)
        + "\n"
        + DMARC,
    )
    knot.set_zone(
        "doubled-sub-cause.test",  # the zone apex is the parent: the identity is a subdomain
        "\n".join(
            f"{t}._domainkey.mail.doubled-sub-cause.test.doubled-sub-cause.test. CNAME {t}.dkim.amazonses.com."
            for t in sub
        )
        + "\n"
        + DMARC,
    )
    knot.set_zone("near-doubled-cause.test", customer_cname_records(near) + "\n" + DMARC)

    got = scan(knot)

    top_missing = findings(got["doubled-cause.test"], c.DKIM_RECORD_MISSING)
    assert len(top_missing) == 3 and {f.cause for f in top_missing} == {c.DOUBLED_DOMAIN}
    first = next(f for f in top_missing if f.subject == top[0])
    assert first.misplaced.name == f"{top[0]}._domainkey.doubled-cause.test.doubled-cause.test."
    assert f'then add host "{top[0]}._domainkey", type CNAME' in first.fix
    [sub_first] = [
        f for f in findings(got["mail.doubled-sub-cause.test"], c.DKIM_RECORD_MISSING) if f.subject == sub[0]
    ]
    assert sub_first.cause == c.DOUBLED_DOMAIN
    assert f'then add host "{sub[0]}._domainkey.mail", type CNAME' in sub_first.fix
    assert "(doubled-sub-cause.test)" in sub_first.fix, "the apex comes from SOA"
    assert got["near-doubled-cause.test"].status is IdentityStatus.OK


def test_a_txt_where_the_cname_belongs_is_published_as_txt(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("astxt-cause.test")
    publish_keys(knot, tokens)
    records = customer_cname_records(tokens[1:]) + f'\n{tokens[0]}._domainkey TXT "p={PUBLIC_KEY}"'
    knot.set_zone("astxt-cause.test", records + "\n" + DMARC)

    [f] = findings(scan(knot)["astxt-cause.test"], c.DKIM_RECORD_MISSING)

    assert f.cause == c.PUBLISHED_AS_TXT and f.misplaced.type == "TXT"
    assert "SES cannot" in f.message and f.fix.startswith(f"Delete the TXT record at {tokens[0]}._domainkey")


def test_targets_typed_without_the_dot_another_token_or_another_region(ses, knot):
    world = ses("us-east-1")
    nodot, swapped, region = (world.add_domain(f"{n}-cause.test") for n in ("nodot", "swapped", "region"))
    for tokens in (nodot, swapped, region):
        publish_keys(knot, tokens)
    knot.set_zone(  # no trailing dot: the zone file appends the origin, as a provider's form does
        "nodot-cause.test",
        f"{nodot[0]}._domainkey CNAME {nodot[0]}.dkim.amazonses.com\n"
        + customer_cname_records(nodot[1:])
        + "\n"
        + DMARC,
    )
    knot.set_zone(
        "swapped-cause.test",
        f"{swapped[0]}._domainkey CNAME {swapped[1]}.dkim.amazonses.com.\n"
        f"{swapped[1]}._domainkey CNAME {swapped[0]}.dkim.amazonses.com.\n"
        + customer_cname_records(swapped[2:])
        + "\n"
        + DMARC,
    )
    knot.set_zone(
        "region-cause.test",
        f"{region[0]}._domainkey CNAME {region[0]}.dkim.eu-south-1.amazonses.com.\n"
        + customer_cname_records(region[1:])
        + "\n"
        + DMARC,
    )

    got = scan(knot)

    [f] = findings(got["nodot-cause.test"], c.DKIM_RECORD_WRONG_TARGET)
    assert f.cause == c.TARGET_MISSING_DOT and f.misplaced.value == f"{nodot[0]}.dkim.amazonses.com.nodot-cause.test."
    assert "trailing dot" in f.fix
    assert {f.cause for f in findings(got["swapped-cause.test"], c.DKIM_RECORD_WRONG_TARGET)} == {c.OTHER_TOKEN}
    assert causes(got["region-cause.test"]) == {(c.DKIM_RECORD_WRONG_TARGET, c.OTHER_REGION_ZONE)}


# ---------------------------------------------------------------- SES's view against DNS


@pytest.mark.parametrize("status, advice", [("TEMPORARY_FAILURE", "72 hours"), ("FAILED", "verify-domain-dkim")])
def test_ses_failure_with_correct_records_is_dns_correct_now(ses, knot, status, advice):
    world = ses("us-east-1")
    name = f"correct-{status.lower().replace('_', '')}-cause.test"
    tokens = world.add_domain(name, dkim_status=status, verification="SUCCESS")
    near = world.add_domain(f"near-{name}", dkim_status=status, verification="SUCCESS")
    publish_keys(knot, tokens)
    publish_keys(knot, near)
    knot.set_zone(name, customer_cname_records(tokens) + "\n" + DMARC)
    knot.set_zone(f"near-{name}", customer_cname_records(near[:2]) + "\n" + DMARC)  # one CNAME really missing

    got = scan(knot)

    [f] = findings(got[name], c.DKIM_STATUS_NOT_SUCCESS)
    assert f.cause == c.DNS_CORRECT_NOW and advice in f.fix
    assert "put-email-identity-dkim-signing-attributes" not in f.fix.replace("Do not put new signing", "")
    [near_status] = findings(got[f"near-{name}"], c.DKIM_STATUS_NOT_SUCCESS)
    assert near_status.cause == "", "a missing CNAME is the cause there, not SES"


def test_mail_from_falling_back_silently_and_an_mx_to_another_region(ses, knot):
    world = ses("us-east-1")
    fallback = world.add_domain(
        "fallback-cause.test",
        mail_from={"domain": "bounce.fallback-cause.test", "status": "FAILED", "behavior": "UseDefaultValue"},
    )
    rejecting = world.add_domain(
        "reject-cause.test",
        mail_from={"domain": "bounce.reject-cause.test", "status": "FAILED", "behavior": "RejectMessage"},
    )
    wrong_mx = world.add_domain(
        "wrongmx-cause.test", mail_from={"domain": "bounce.wrongmx-cause.test", "status": "SUCCESS"}
    )
    for tokens in (fallback, rejecting, wrong_mx):
        publish_keys(knot, tokens)
    spf = 'bounce TXT "v=spf1 include:amazonses.com ~all"'
    knot.set_zone("fallback-cause.test", customer_cname_records(fallback) + "\n" + DMARC + "\n" + spf)
    knot.set_zone("reject-cause.test", customer_cname_records(rejecting) + "\n" + DMARC + "\n" + spf)
    knot.set_zone(
        "wrongmx-cause.test",
        customer_cname_records(wrong_mx)
        + "\n"
        + DMARC
        + "\n"
        + spf
        + "\nbounce MX 10 feedback-smtp.eu-west-1.amazonses.com.",
    )

    got = scan(knot)

    assert (c.MAIL_FROM_NOT_SUCCESS, c.SILENT_FALLBACK) in causes(got["fallback-cause.test"])
    assert (c.MAIL_FROM_RECORD_MISSING, c.SILENT_FALLBACK) in causes(got["fallback-cause.test"])
    assert not any(f.cause == c.SILENT_FALLBACK for f in got["reject-cause.test"].findings)
    [mx] = findings(got["wrongmx-cause.test"], c.MAIL_FROM_RECORD_MISSING)
    assert mx.cause == c.MX_WRONG_TARGET and "feedback-smtp.eu-west-1" in mx.message


# ---------------------------------------------------------------- keys


def test_easy_dkim_key_under_2048_bits_is_weak_and_rotation_placeholders_are_not(ses, knot):
    world = ses("us-east-1")
    weak, strong = world.add_domain("weakkey-cause.test"), world.add_domain("strongkey-cause.test")
    SES_KEYS.append(easy_dkim_zone_records(weak).replace(PUBLIC_KEY, PUBLIC_KEY_1024))
    # 2048 bits split across two TXT strings, as SES publishes it; two of three targets empty (rotation).
    SES_KEYS.append(
        easy_dkim_zone_records(strong).replace(f'"p={PUBLIC_KEY}"', f'"p={PUBLIC_KEY[:200]}" "{PUBLIC_KEY[200:]}"')
    )
    knot.set_zone("dkim.amazonses.com", "\n".join(SES_KEYS))
    knot.set_zone("weakkey-cause.test", customer_cname_records(weak) + "\n" + DMARC)
    knot.set_zone("strongkey-cause.test", customer_cname_records(strong) + "\n" + DMARC)

    got = scan(knot)

    [f] = findings(got["weakkey-cause.test"], c.DKIM_KEY_WEAK)
    assert "1024-bit" in f.message and "NextSigningKeyLength=RSA_2048_BIT" in f.fix
    assert got["strongkey-cause.test"].status is IdentityStatus.OK


@pytest.mark.parametrize(
    "txt, check, cause",
    [
        ('"v=DKIM1; k=rsa; t=y; p={key}"', c.DKIM_KEY_TESTING, ""),
        ('"v=DKIM1; k=rsa; p="', c.DKIM_KEY_MISSING, c.KEY_REVOKED),
        ('"v=DKIM1; k=rsa; p=bm90IGEga2V5"', c.DKIM_KEY_MISSING, c.KEY_MALFORMED),
        ('"v=DKIM1; k=rsa; p={weak}"', c.DKIM_KEY_WEAK, ""),
        ('"v=DKIM1; k=rsa; p={key}"', None, ""),  # the near miss: a valid 2048-bit key
        ('"V=DKIM1; K=rsa; p={key}"', c.RECORD_NOTE, c.KEY_TAG_CASE),  # unknown tags: ignored, key usable
    ],
)
def test_bring_your_own_dkim_key_records_are_parsed_fully(ses, knot, txt, check, cause):
    name = f"byod{abs(hash(txt)) % 10**8}-cause.test"
    ses("us-east-1").add_domain(name, tokens=["sel1"], origin="EXTERNAL")
    value = txt.format(key=f'{PUBLIC_KEY[:200]}" "{PUBLIC_KEY[200:]}', weak=PUBLIC_KEY_1024)
    knot.set_zone(name, f"sel1._domainkey TXT {value}\n{DMARC}")

    report = scan(knot)[name]

    if check is None:
        assert report.status is IdentityStatus.OK, report.findings
    else:
        [f] = findings(report, check)
        assert f.cause == cause
        assert (report.status is IdentityStatus.OK) is (check == c.RECORD_NOTE)


# ---------------------------------------------------------------- SPF on the MAIL FROM domain


@pytest.mark.parametrize(
    "records, cause",
    [
        (['"v=spf1 include:amazonses.com ~all"', '"v=spf1 -all"'], c.SPF_MULTIPLE_RECORDS),
        (['"v=spf1 include:amazonses.com +all"'], c.SPF_PLUS_ALL),
        (['"v=spf1 include:amazonses.com ip4:300.1.1.1 ~all"'], c.SPF_SYNTAX_ERROR),
        (['"v=spf1 include:amazonses.com include:chain.spf-cause.test ~all"'], c.SPF_TOO_MANY_LOOKUPS),
        (['"v=spf1 include:amazonses.com include:nothing.spf-cause.test ~all"'], c.SPF_VOID_INCLUDE),
        (['"v=spf1 include:amazonses.com include:loop.spf-cause.test ~all"'], c.SPF_INCLUDE_LOOP),
        (['"v=spf1 include:amazonses.com include:broken.spf-cause.test ~all"'], c.SPF_PERMERROR_IN_INCLUDE),
        (['"v=spf1 include:amazonses.com include:voids.spf-cause.test ~all"'], c.SPF_VOID_LOOKUPS),
        (['"v=spf1 include:amazonses.com mx:manymx.spf-cause.test ~all"'], c.SPF_TOO_MANY_MX),
        (['"v=spf1 include:amazonses.com exists:%{c}.spf-cause.test ~all"'], c.SPF_MACRO_OUTSIDE_EXP),
        (['"v=spf1 include:ses.spf-cause.test ~all"'], None),  # SES reached through an include
        (['"v=spf1 include:amazonses.com include:nine.spf-cause.test ~all"'], None),  # exactly 10: the near miss
        # RFC 7208 6.1: a redirect= beside all is ignored, neither followed nor counted
        (['"v=spf1 include:amazonses.com ~all redirect=chain.spf-cause.test"'], None),
        (['"v=spf1 include:amazonses.com -all include:chain.spf-cause.test"'], None),  # never evaluated (5.1)
    ],
)
def test_spf_of_the_mail_from_domain_must_be_one_valid_record_within_ten_lookups(ses, knot, records, cause):
    name = f"spf{abs(hash(tuple(records))) % 10**8}-cause.test"
    tokens = ses("us-east-1").add_domain(name, mail_from={"domain": f"bounce.{name}", "status": "SUCCESS"})
    publish_keys(knot, tokens)
    # chain: 1 include + 10 "a" lookups in the chain record -> 1 (amazonses) + 1 + 10 = 12 > 10.
    # nine: 1 include + 8 "a" -> 1 + 1 + 8 = 10, the most receivers accept. The hosts exist: a lookup that
    # finds nothing is a void lookup, and more than two of those are a permerror of their own.
    knot.set_zone(
        "spf-cause.test",
        'chain TXT "v=spf1 ' + " ".join(f"a:h{i}.spf-cause.test" for i in range(10)) + ' ~all"\n'
        'nine TXT "v=spf1 '
        + " ".join(f"a:h{i}.spf-cause.test" for i in range(8))
        + ' ~all"\n'
        + "".join(f"h{i} A 192.0.2.{i + 1}\n" for i in range(11))
        + 'nothing TXT "not spf"\n'
        'loop TXT "v=spf1 include:loop2.spf-cause.test"\n'
        'loop2 TXT "v=spf1 include:loop.spf-cause.test"\n'
        'broken TXT "v=spf1 ip4:192.0.2.300 -all"\n'
        'voids TXT "v=spf1 a:nx1.spf-cause.test a:nx2.spf-cause.test a:nx3.spf-cause.test"\n'
        + "".join(f"manymx MX {i} h{i}.spf-cause.test.\n" for i in range(11))
        + 'ses TXT "v=spf1 include:amazonses.com -all"',
    )
    mail = "\n".join(f"bounce TXT {r}" for r in records) + "\nbounce MX 10 feedback-smtp.us-east-1.amazonses.com."
    knot.set_zone(name, customer_cname_records(tokens) + "\n" + DMARC + "\n" + mail)

    report = scan(knot)[name]

    invalid = findings(report, c.SPF_INVALID)
    if cause is None:
        assert invalid == [] and report.status is IdentityStatus.OK, report.findings
    else:
        assert [f.cause for f in invalid] == [cause]
    assert findings(report, c.MAIL_FROM_RECORD_MISSING) == [], "SES is authorised in every case"


# ---------------------------------------------------------------- DMARC


@pytest.mark.parametrize(
    "zone_records, identity, cause",
    [
        (['_dmarc TXT "v=DMARC1; p=block"'], "dm1-cause.test", c.DMARC_BAD_POLICY),
        (['_dmarc TXT "v=DMARC1; p=none; pct=150"'], "dm2-cause.test", c.DMARC_BAD_PCT),
        (
            ['_dmarc TXT "v=DMARC1; p=none"', '_dmarc TXT "v=DMARC1; p=reject"'],
            "dm4-cause.test",
            c.DMARC_MULTIPLE_RECORDS,
        ),
        (['_dmarc TXT "v=DMARC1; p=reject; psd=n"'], "dm5-cause.test", None),  # psd= is a known tag
        (['_dmarc TXT "v=DMARC1; p=quarantine"'], "mail.dm6-cause.test", None),  # covered by the parent's record
        (['_dmarc TXT "v=DMARC1; p=none; rau=mailto:d@dm3-cause.test"'], "dm3-cause.test", None),  # only a note
    ],
)
def test_dmarc_record_that_applies_must_be_one_well_formed_record(ses, knot, zone_records, identity, cause):
    tokens = ses("us-east-1").add_domain(identity)
    publish_keys(knot, tokens)
    zone = identity.removeprefix("mail.")
    cnames = (
        customer_cname_records(tokens)
        if zone == identity
        else customer_cname_records(tokens).replace("._domainkey", "._domainkey.mail")
    )
    knot.set_zone(zone, cnames + "\n" + "\n".join(zone_records))

    report = scan(knot)[identity]

    invalid = findings(report, c.DMARC_INVALID)
    if cause is None:
        assert invalid == [] and findings(report, c.DMARC_RECORD_MISSING) == [], report.findings
    else:
        assert [f.cause for f in invalid] == [cause]
        assert "policy p=" in invalid[0].message or cause == c.DMARC_MULTIPLE_RECORDS


def test_a_mistyped_dmarc_tag_is_a_note_and_the_identity_stays_ok(ses, knot):
    tokens = ses("us-east-1").add_domain("dmnote-cause.test")
    publish_keys(knot, tokens)
    knot.set_zone(
        "dmnote-cause.test",
        customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=reject; rau=mailto:d@dmnote-cause.test"',
    )

    report = scan(knot)["dmnote-cause.test"]

    assert report.status is IdentityStatus.OK
    [note] = findings(report, c.RECORD_NOTE)
    assert note.cause == c.DMARC_UNKNOWN_TAG and "did you mean rua?" in note.message
    assert findings(report, c.DMARC_INVALID) == []


@pytest.mark.parametrize(
    "at_the_subdomain, cause",
    [
        (['_dmarc.mail TXT "v=dmarc1; p=reject"'], c.DMARC_SYNTAX_ERROR),
        (['_dmarc.mail TXT " v=DMARC1; p=reject"'], c.DMARC_SYNTAX_ERROR),
        (['_dmarc.mail TXT "v=DMARC1; p=reject"', '_dmarc.mail TXT "v=DMARC1; p=none"'], c.DMARC_MULTIPLE_RECORDS),
    ],
)
def test_the_tree_walk_goes_past_what_receivers_discard_to_the_record_that_applies(ses, knot, at_the_subdomain, cause):
    zone = f"walk{abs(hash(tuple(at_the_subdomain))) % 10**8}-cause.test"
    identity = f"mail.{zone}"
    tokens = ses("us-east-1").add_domain(identity)
    publish_keys(knot, tokens)
    cnames = customer_cname_records(tokens).replace("._domainkey", "._domainkey.mail")
    knot.set_zone(zone, cnames + '\n_dmarc TXT "v=DMARC1; p=quarantine"\n' + "\n".join(at_the_subdomain))

    report = scan(knot)[identity]

    assert findings(report, c.DMARC_RECORD_MISSING) == []
    [f] = findings(report, c.DMARC_INVALID)
    assert f.cause == cause
    assert f"_dmarc.mail.{zone}" in f.message and f"_dmarc.{zone}" in f.message and "p=quarantine" in f.message


def test_dmarc_record_at_the_doubled_name_is_doubled_domain(ses, knot):
    tokens = ses("us-east-1").add_domain("dmdouble-cause.test")
    publish_keys(knot, tokens)
    knot.set_zone(
        "dmdouble-cause.test",
        customer_cname_records(tokens) + '\n_dmarc.dmdouble-cause.test.dmdouble-cause.test. TXT "v=DMARC1; p=none"',
    )

    [f] = findings(scan(knot)["dmdouble-cause.test"], c.DMARC_RECORD_MISSING)

    assert f.cause == c.DOUBLED_DOMAIN and 'then add host "_dmarc", type TXT' in f.fix


# ---------------------------------------------------------------- name servers


@pytest.fixture()
def two_servers(knot):
    """The zone's two authoritative servers: 127.0.0.1 and 127.0.0.2, the same port; a third NS that is silent."""
    primary = KnotServer(dict(BASE_ZONES)).start()
    secondary = KnotServer(dict(BASE_ZONES), ip="127.0.0.2", port=primary.port).start()
    try:
        yield primary, secondary
    finally:
        primary.stop()
        secondary.stop()


NS = "@ NS ns1\n@ NS ns2\nns1 A 127.0.0.1\nns2 A 127.0.0.2\n"


def test_name_servers_that_disagree_are_named_with_what_each_says(ses, two_servers):
    primary, secondary = two_servers
    world = ses("us-east-1")
    stale = world.add_domain("stale-ns-cause.test", dkim_status="TEMPORARY_FAILURE", verification="SUCCESS")
    agree = world.add_domain("agree-ns-cause.test", dkim_status="TEMPORARY_FAILURE", verification="SUCCESS")
    keys = easy_dkim_zone_records(stale) + "\n" + easy_dkim_zone_records(agree)
    for server in (primary, secondary):
        server.ns = NS
        server.set_zone("dkim.amazonses.com", keys)
        server.set_zone("agree-ns-cause.test", customer_cname_records(agree) + "\n" + DMARC)
    primary.set_zone("stale-ns-cause.test", customer_cname_records(stale) + "\n" + DMARC)
    secondary.set_zone("stale-ns-cause.test", customer_cname_records(stale[:2]) + "\n" + DMARC)  # never got the third

    got = scan(primary, port=primary.port)

    [f] = findings(got["stale-ns-cause.test"], c.NAMESERVERS_DISAGREE)
    assert "ns1.stale-ns-cause.test (127.0.0.1) answers" in f.message
    assert "ns2.stale-ns-cause.test (127.0.0.2) answers NXDOMAIN" in f.message
    assert findings(got["agree-ns-cause.test"], c.NAMESERVERS_DISAGREE) == []
    assert got["agree-ns-cause.test"].status is IdentityStatus.PROBLEM  # only SES's status is wrong there


def test_a_name_server_that_does_not_answer_is_unknown_not_a_disagreement(ses, two_servers):
    primary, _ = two_servers
    tokens = ses("us-east-1").add_domain("silent-ns-cause.test", dkim_status="FAILED", verification="SUCCESS")
    primary.ns = "@ NS ns1\n@ NS ns3\nns1 A 127.0.0.1\nns3 A 127.0.0.3\n"  # nothing listens on 127.0.0.3
    primary.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    primary.set_zone("silent-ns-cause.test", customer_cname_records(tokens) + "\n" + DMARC)

    report = scan(primary, port=primary.port)["silent-ns-cause.test"]

    assert findings(report, c.NAMESERVERS_DISAGREE) == []
    assert report.status is IdentityStatus.UNKNOWN
    assert "ns3.silent-ns-cause.test" in findings(report, c.DNS_LOOKUP_FAILED)[0].message
