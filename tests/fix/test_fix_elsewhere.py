"""Zones outside Route 53: the apex found through SOA (from knotd), and the records as a web form wants them."""

from __future__ import annotations

import json

from ses_dkim_monitor.cli import EXIT_FINDINGS
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records


def test_zone_elsewhere_gets_form_instructions_for_the_apex_and_a_subdomain(ses, knot, tld, fix, route53):
    world = ses("us-east-1")
    apex = f"else.{tld}"
    top = world.add_domain(apex)
    sub = world.add_domain(f"news.{apex}")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(top))
    # The apex identity has two of its CNAMEs; the subdomain identity has none. Both have DMARC.
    knot.set_zone(apex, customer_cname_records(top[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')
    route53.create_hosted_zone(Name=f"unrelated.{tld}", CallerReference="other")  # Route 53 is read, not used

    run = fix()
    assert run.code == EXIT_FINDINGS, run.err
    out = run.out
    assert f"Zone {apex}. (apex found through SOA) is not a Route 53 hosted zone of this account" in out
    assert f"add     host {top[2]}._domainkey  type CNAME  TTL 300  value {top[2]}.dkim.amazonses.com." in out
    assert f"(without the dot: {top[2]}.dkim.amazonses.com)" in out
    for token in sub:  # the subdomain identity's host keeps its own label: the form appends only the zone
        assert f"host {token}._domainkey.news  type CNAME" in out
        assert f"{token}._domainkey.news.{apex}. 300 IN CNAME {token}.dkim.amazonses.com." in out  # BIND line
    assert "The same records as BIND zone-file lines" in out
    assert "keep the trailing dot" in out and f".dkim.amazonses.com.{apex}" in out

    doc = json.loads(fix("--format", "json").out)
    assert [z["hosted_zone_id"] for z in doc["zones"]] == [None]
    steps = {s["host"]: s for s in doc["elsewhere"]}
    step = steps[f"{sub[0]}._domainkey.news"]
    assert step == {
        "identity": f"news.{apex}",
        "region": "us-east-1",
        "account": "123456789012",
        "action": "add",
        "check": "dkim-record-missing",
        "cause": "",
        "zone_apex": f"{apex}.",
        "name": f"{sub[0]}._domainkey.news.{apex}.",
        "host": f"{sub[0]}._domainkey.news",
        "type": "CNAME",
        "value": f"{sub[0]}.dkim.amazonses.com.",
        "value_without_dot": f"{sub[0]}.dkim.amazonses.com",
        "form_value": f"{sub[0]}.dkim.amazonses.com.",
        "ttl": 300,
        "bind": f"{sub[0]}._domainkey.news.{apex}. 300 IN CNAME {sub[0]}.dkim.amazonses.com.",
        "note": None,
    }
    assert len(doc["elsewhere"]) == 4


def test_apex_lookup_through_a_cname_is_not_fooled_by_the_target_zone(knot, tld):
    """SOA asked at a CNAME leads a recursive resolver into the target's zone; only an ancestor's SOA counts."""
    import asyncio

    from ses_dkim_monitor.fix.elsewhere import zone_apex
    from ses_dkim_monitor.scan.dns_probe import make_resolver
    from ses_dkim_monitor.settings import parse_nameserver

    knot.set_zone(f"soa.{tld}", "sel._domainkey CNAME sel.dkim.amazonses.com.")
    resolver = make_resolver([parse_nameserver(knot.address, setting="test")], timeout=2, lifetime=4)
    for name in (f"sel._domainkey.soa.{tld}", f"nothing.here.soa.{tld}", f"soa.{tld}"):
        assert asyncio.run(zone_apex(resolver, name)).name == f"soa.{tld}."


def test_route53_access_denied_still_gives_instructions_and_exits_three(ses, knot, tld, fix, monkeypatch):
    """A user whose DNS is at another provider may have no Route 53 permission at all."""
    import boto3
    from botocore.stub import Stubber

    from ses_dkim_monitor.cli import EXIT_INCOMPLETE

    world = ses("us-east-1")
    domain = f"denied.{tld}"
    tokens = world.add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone(domain, customer_cname_records(tokens[:2]) + '\n_dmarc TXT "v=DMARC1; p=none"')

    denied = boto3.client("route53", region_name="us-east-1")
    stub = Stubber(denied)
    stub.add_client_error("list_hosted_zones_by_name", "AccessDenied", "not authorized to ListHostedZonesByName")
    stub.activate()
    real_client = boto3.Session.client

    def client(self, service, *args, **kwargs):
        return denied if service == "route53" else real_client(self, service, *args, **kwargs)

    monkeypatch.setattr(boto3.Session, "client", client)
    run = fix("--identity", domain)
    assert run.code == EXIT_INCOMPLETE
    assert "cannot read Route 53: AccessDenied: not authorized" in run.err
    assert f"host {tokens[2]}._domainkey  type CNAME" in run.out
    assert "Route 53 could not be read (AccessDenied" in run.out
