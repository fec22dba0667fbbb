"""The Route 53 adapter and the apply step: moto where it implements the API, botocore's Stubber where it
answers differently from Route 53 (GetChange is INSYNC at once in moto; paging, private zones)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ses_dkim_monitor.catalogue import DKIM_RECORD_MISSING, DKIM_RECORD_WRONG_TARGET
from ses_dkim_monitor.fix import triage as t
from ses_dkim_monitor.fix.apply import Waiting, apply_plans
from ses_dkim_monitor.fix.locate import build_plan
from ses_dkim_monitor.fix.route53 import AmbiguousZone, HostedZone, ZoneFinder, wait_insync
from ses_dkim_monitor.models import DnsRecord
from ses_dkim_monitor.scan.dns_probe import make_resolver
from ses_dkim_monitor.settings import parse_nameserver
from tests.fix.test_plan import found, report
from tests.support.ses_world import ACCOUNT_ID


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_moved_records_are_deleted_and_put_right_in_one_batch(route53, hosted_zone, knot):
    """Built from findings with their causes: the doubled name, a TXT where the CNAME belongs, a target
    that got the zone appended. The doubled CNAME and the wrong target are deleted and put right in one
    batch Route 53 (moto) accepts; the TXT is left in place (fix never deletes it) and its CNAME waits;
    nothing else in the zone changes."""
    domain = "moved.example"
    a, b, c = ("a" * 32, "b" * 32, "c" * 32)
    zone = hosted_zone(
        domain,
        [
            (f"{a}._domainkey.{domain}", "CNAME", 1800, [f"{a}.dkim.amazonses.com"]),  # doubled: <name>.<zone>
            (f"{b}._domainkey", "TXT", 600, ['"p=MIGfMA0GCSqGSIb3DQEB"']),
            (f"{c}._domainkey", "CNAME", 300, [f"{c}.dkim.amazonses.com.{domain}"]),
            ("keep", "TXT", 300, ['"untouched"']),
        ],
    )
    before = zone.record_sets()

    def cname(token: str) -> DnsRecord:
        return DnsRecord(f"{token}._domainkey.{domain}.", "CNAME", f"{token}.dkim.amazonses.com.")

    findings = [
        found(
            DKIM_RECORD_MISSING,
            record=cname(a),
            cause=t.DOUBLED_DOMAIN,
            misplaced=DnsRecord(f"{a}._domainkey.{domain}.{domain}.", "CNAME", f"{a}.dkim.amazonses.com."),
        ),
        found(
            DKIM_RECORD_MISSING,
            record=cname(b),
            cause=t.PUBLISHED_AS_TXT,
            misplaced=DnsRecord(f"{b}._domainkey.{domain}.", "TXT", "p=MIGfMA0GCSqGSIb3DQEB"),
        ),
        found(
            DKIM_RECORD_WRONG_TARGET,
            record=cname(c),
            cause=t.TARGET_MISSING_DOT,
            misplaced=DnsRecord(f"{c}._domainkey.{domain}.", "CNAME", f"{c}.dkim.amazonses.com.{domain}."),
        ),
    ]
    resolver = make_resolver([parse_nameserver(knot.address, setting="test")], timeout=2, lifetime=6)
    triaged = t.triage(report(*findings, name=domain), dmarc_rua=None)
    plan = build_plan(triaged, route53=route53, resolver=resolver, route53_account=ACCOUNT_ID)
    [zone_plan] = plan.zones
    assert [c.action for c in zone_plan.changes] == ["DELETE"] * 2 + ["CREATE"] * 2
    assert [(k.name, k.type) for k in zone_plan.kept] == [(f"{b}._domainkey.{domain}.", "TXT")]
    assert [(c.name, c.type) for c in zone_plan.conflicts] == [(f"{b}._domainkey.{domain}.", "CNAME")]
    time = FakeTime()
    result = apply_plans(route53, plan.to_apply, waiting=Waiting(sleep=time.sleep, clock=time.clock), comment="test")
    assert not result.failed and result.outcomes[0].status == "INSYNC"
    after = zone.record_sets()
    gone = {(f"{a}._domainkey.{domain}.{domain}.", "CNAME")}
    assert [r for r in before if r[:2] not in gone and not r[0].startswith((a, c))] == [
        r for r in after if not r[0].startswith((a, c))
    ]
    assert {r for r in after if r[0].startswith((a, b, c))} == {
        (f"{a}._domainkey.{domain}.", "CNAME", 1800, (f"{a}.dkim.amazonses.com.",)),  # keeps the deleted TTL
        (f"{b}._domainkey.{domain}.", "TXT", 600, ('"p=MIGfMA0GCSqGSIb3DQEB"',)),  # left in place
        (f"{c}._domainkey.{domain}.", "CNAME", 300, (f"{c}.dkim.amazonses.com.",)),
    }


def test_waiting_for_insync_polls_with_the_injected_clock_and_is_bounded():
    client = boto3.client("route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    change = {"Id": "/change/C1", "SubmittedAt": "2026-11-29T00:00:00Z"}
    with Stubber(client) as stub:
        for status in ("PENDING", "PENDING", "INSYNC"):
            stub.add_response("get_change", {"ChangeInfo": {**change, "Status": status}}, {"Id": "C1"})
        time = FakeTime()
        assert wait_insync(client, "C1", sleep=time.sleep, clock=time.clock, timeout=60, interval=5) == "INSYNC"
        assert time.sleeps == [5, 5]
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("get_change", {"ChangeInfo": {**change, "Status": "PENDING"}}, {"Id": "C1"})
        time = FakeTime()
        assert wait_insync(client, "C1", sleep=time.sleep, clock=time.clock, timeout=8, interval=5) == "PENDING"
        assert time.now == 8  # gave up at the bound, not after it


def _zone(zid: str, name: str, private: bool = False) -> dict:
    return {"Id": f"/hostedzone/{zid}", "Name": name, "CallerReference": zid, "Config": {"PrivateZone": private}}


def test_zone_finder_pages_skips_private_zones_and_refuses_to_guess_between_twins():
    client = boto3.client("route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        # The longest name first: "mail.example.com." has no zone (the answer starts past it) ...
        stub.add_response(
            "list_hosted_zones_by_name",
            {"HostedZones": [_zone("Z9", "zzz.example.com.")], "IsTruncated": False, "MaxItems": "100"},
            {"DNSName": "mail.example.com.", "MaxItems": "100"},
        )
        # ... "example.com." has a private zone on the first page and the public one on the next.
        stub.add_response(
            "list_hosted_zones_by_name",
            {
                "HostedZones": [_zone("ZPRIV", "example.com.", private=True)],
                "IsTruncated": True,
                "NextDNSName": "example.com.",
                "NextHostedZoneId": "ZPUB",
                "MaxItems": "1",
            },
            {"DNSName": "example.com.", "MaxItems": "100"},
        )
        stub.add_response(
            "list_hosted_zones_by_name",
            {"HostedZones": [_zone("ZPUB", "example.com.")], "IsTruncated": False, "MaxItems": "100"},
            {"DNSName": "example.com.", "HostedZoneId": "ZPUB", "MaxItems": "100"},
        )
        assert ZoneFinder(client).find("mail.example.com") == HostedZone("ZPUB", "example.com.")
        stub.assert_no_pending_responses()  # found at example.com.: com. is never asked
    with Stubber(client) as stub:
        stub.add_response(
            "list_hosted_zones_by_name",
            {
                "HostedZones": [_zone("Z1", "twin.example."), _zone("Z2", "twin.example.")],
                "IsTruncated": False,
                "MaxItems": "100",
            },
            {"DNSName": "twin.example.", "MaxItems": "100"},
        )
        with pytest.raises(AmbiguousZone, match=r"2 public hosted zones are named twin\.example\."):
            ZoneFinder(client).find("twin.example")


def test_zone_finder_finds_the_longest_public_zone(route53):
    route53.create_hosted_zone(Name="example.com", CallerReference="a")
    sub = route53.create_hosted_zone(Name="mail.example.com", CallerReference="b")["HostedZone"]["Id"]
    route53.create_hosted_zone(
        Name="deep.mail.example.com",
        CallerReference="c",
        HostedZoneConfig={"PrivateZone": True, "Comment": ""},
        VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
    )
    finder = ZoneFinder(route53)
    assert finder.find("x._domainkey.deep.mail.example.com.") == HostedZone(sub.split("/")[-1], "mail.example.com.")
    assert finder.find("nothing.example.org.") is None


def test_many_names_list_every_zone_once_instead_of_a_call_per_label():
    """Route 53 answers five requests a second: 1,200 CNAME names would cost about 2,000 lookups one by one."""
    client = boto3.client("route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    names = [f"t{i}._domainkey.d{i}.example.com." for i in range(60)]
    with Stubber(client) as stub:
        stub.add_response(
            "list_hosted_zones_by_name",
            {
                "HostedZones": [_zone("ZA", "a.example."), _zone("ZPRIV", "example.com.", private=True)],
                "IsTruncated": True,
                "NextDNSName": "example.com.",
                "NextHostedZoneId": "ZPUB",
                "MaxItems": "100",
            },
            {"MaxItems": "100"},
        )
        stub.add_response(
            "list_hosted_zones_by_name",
            {"HostedZones": [_zone("ZPUB", "example.com.")], "IsTruncated": False, "MaxItems": "100"},
            {"DNSName": "example.com.", "HostedZoneId": "ZPUB", "MaxItems": "100"},
        )
        finder = ZoneFinder(client)
        finder.prefetch(names)
        assert {finder.find(n) for n in names} == {HostedZone("ZPUB", "example.com.")}
        assert finder.find("www.elsewhere.org.") is None
        stub.assert_no_pending_responses()  # two calls in all, whatever was asked after
