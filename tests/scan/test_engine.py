"""The whole scan: SES in moto over HTTP, DNS from a real knotd, no mocks in between."""

from __future__ import annotations

import threading

import pytest

from ses_dkim_monitor.models import IdentityStatus, ScanReport
from ses_dkim_monitor.scan import engine
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.domain_probe import DomainProbe
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records
from tests.support.shards import shards


@pytest.fixture()
def knot(knot_both_ways):
    """Every scenario here runs twice: straight at knotd (asked per record) and through Unbound, a recursive
    resolver as production has (one question per DKIM record). The findings must not depend on which."""
    return knot_both_ways


def scan(server, regions=("us-east-1",), *, timeout: float = 5.0, lifetime: float = 15.0, **kw) -> ScanReport:
    """A scan asking ``server`` (knotd, straight or through Unbound; or a bare address) with generous timeouts."""
    address = getattr(server, "address", server)
    resolver = make_resolver([parse_nameserver(address, setting="test")], timeout=timeout, lifetime=lifetime)
    port = getattr(server, "port", None) or parse_nameserver(address, setting="test").port  # the zones' servers
    return run_scan(shards(regions), DnsProbe(resolver, authoritative_port=port), **kw)


def by_name(report: ScanReport) -> dict[str, object]:
    return {r.identity.name: r for r in report.identities}


def publish(knot, zone: str, tokens: list[str], *, target_zone: str = "dkim.amazonses.com", extra: str = "") -> None:
    """The customer's zone: the DKIM CNAMEs into ``target_zone``, a DMARC record, and ``extra``."""
    body = customer_cname_records(tokens, zone=target_zone) + '\n_dmarc TXT "v=DMARC1; p=none"'
    knot.set_zone(zone, body + ("\n" + extra if extra else ""))


def test_healthy_domain_and_its_addresses_are_ok(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("healthy-scan.test")
    world.add_email("ops@healthy-scan.test")
    publish(knot, "healthy-scan.test", tokens)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    report = scan(knot)
    assert {r.identity.name: r.status for r in report.identities} == {
        "healthy-scan.test": IdentityStatus.OK,
        "ops@healthy-scan.test": IdentityStatus.OK,
    }
    assert report.dns_lookups_failed == 0
    assert report.ses_calls == {
        "ListEmailIdentities": 1,
        "GetIdentityDkimAttributes": 1,
        "GetIdentityMailFromDomainAttributes": 1,
    }


def test_removed_cname_alerts_while_ses_still_says_success(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("gone-scan.test", dkim_status="SUCCESS")
    publish(knot, "gone-scan.test", tokens[:2])  # the third CNAME was deleted
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    [report] = scan(knot).identities
    assert report.status is IdentityStatus.PROBLEM
    assert [(f.check, f.subject) for f in report.findings] == [("dkim-record-missing", tokens[2])]
    assert f"{tokens[2]}._domainkey.gone-scan.test does not exist" in report.findings[0].message


def test_every_ses_side_check_fires(ses, knot):
    world = ses("us-east-1")
    t_off = world.add_domain("off-scan.test", signing=False)
    t_failed = world.add_domain("failed-scan.test", dkim_status="FAILED", verification="SUCCESS")
    t_temp = world.add_domain("temp-scan.test", dkim_status="TEMPORARY_FAILURE", verification="SUCCESS")
    world.add_domain("never-scan.test", dkim_status="NOT_STARTED", signing=False, verification="PENDING")
    world.add_email("lonely@noreply-scan.test")
    world.add_email("pending@off-scan.test", verification="PENDING")
    for zone, tokens in (("off-scan.test", t_off), ("failed-scan.test", t_failed), ("temp-scan.test", t_temp)):
        publish(knot, zone, tokens)
    knot.set_zone("never-scan.test", '_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone(
        "dkim.amazonses.com",
        easy_dkim_zone_records(t_off) + "\n" + easy_dkim_zone_records(t_failed) + "\n" + easy_dkim_zone_records(t_temp),
    )
    reports = by_name(scan(knot))

    def checks(name):
        return {(f.check, f.severity.value) for f in reports[name].findings}

    assert checks("off-scan.test") == {("dkim-signing-disabled", "critical")}
    assert checks("failed-scan.test") == {("dkim-status-not-success", "critical")}
    assert checks("temp-scan.test") == {("dkim-status-not-success", "critical")}
    assert checks("never-scan.test") == {
        ("identity-not-verified", "warning"),
        ("dkim-signing-disabled", "critical"),
        ("dkim-status-not-success", "warning"),
    }
    assert checks("lonely@noreply-scan.test") == {("email-identity-without-dkim-domain", "critical")}
    # Its domain exists but signs with DKIM off: still unaligned.
    assert checks("pending@off-scan.test") == {
        ("identity-not-verified", "warning"),
        ("email-identity-without-dkim-domain", "critical"),
    }
    # Problems sort before healthy identities, worst first.
    statuses = [r.status for r in scan(knot).identities]
    assert statuses == sorted(statuses, key=lambda s: {"problem": 0, "unknown": 1, "ok": 2}[s.value])


def test_wrong_target_and_missing_key_from_real_dns(ses, knot):
    world = ses("us-east-1")
    t_wrong = world.add_domain("wrong-scan.test")
    t_nokey = world.add_domain("nokey-scan.test")
    publish(knot, "wrong-scan.test", t_wrong[:2], extra=f"{t_wrong[2]}._domainkey CNAME {t_wrong[2]}.dkim.example.net.")
    publish(knot, "nokey-scan.test", t_nokey)
    knot.set_zone(
        "dkim.amazonses.com", easy_dkim_zone_records(t_wrong) + "\n" + "\n".join(f'{t} TXT ""' for t in t_nokey)
    )
    reports = by_name(scan(knot))
    [wrong] = reports["wrong-scan.test"].findings
    assert wrong.check == "dkim-record-wrong-target" and wrong.subject == t_wrong[2]
    assert f"is a CNAME to {t_wrong[2]}.dkim.example.net" in wrong.message
    [nokey] = reports["nokey-scan.test"].findings
    assert nokey.check == "dkim-key-missing"


def test_wrong_target_is_confirmed_with_get_email_identity(ses, knot):
    # Deterministic Easy DKIM: the CNAMEs legitimately point into another
    # region's zone. The prediction says dkim.amazonses.com; SES's
    # SigningHostedZone says otherwise, so nothing is wrong.
    world = ses("us-east-1")
    tokens = world.add_domain("regional-scan.test", zone="dkim.eu-south-1.amazonses.com")
    publish(knot, "regional-scan.test", tokens, target_zone="dkim.eu-south-1.amazonses.com")
    knot.set_zone("dkim.eu-south-1.amazonses.com", easy_dkim_zone_records(tokens))
    report = scan(knot)
    [ident] = report.identities
    assert ident.findings == () and ident.status is IdentityStatus.OK
    assert ident.identity.zone_confirmed and ident.identity.signing_hosted_zone == "dkim.eu-south-1.amazonses.com"
    assert report.ses_calls["GetEmailIdentity"] == 1


def test_a_zone_learnt_once_serves_the_whole_region(ses, knot):
    # A region whose Easy DKIM zone is missing from the prediction table:
    # one GetEmailIdentity teaches it, the next identities reuse it.
    world = ses("us-east-1")
    zone = "dkim.new-zone.amazonses.com"
    names = ["learn1-scan.test", "learn2-scan.test", "learn3-scan.test"]
    keys = []
    for name in names:
        tokens = world.add_domain(name, zone=zone)
        publish(knot, name, tokens, target_zone=zone)
        keys.append(easy_dkim_zone_records(tokens))
    knot.set_zone(zone, "\n".join(keys))
    report = scan(knot)
    assert [r.status for r in report.identities] == [IdentityStatus.OK] * 3
    assert report.ses_calls["GetEmailIdentity"] == 1


def test_byodkim_identity_is_detected_and_checked(ses, knot):
    world = ses("us-east-1")
    world.add_domain("byod-scan.test", origin="EXTERNAL", tokens=["sel2026"])
    knot.set_zone("byod-scan.test", '_dmarc TXT "v=DMARC1; p=none"\nsel2026._domainkey TXT "v=DKIM1; p="')
    report = scan(knot)
    [ident] = report.identities
    assert ident.identity.is_byodkim
    assert [(f.check, f.subject) for f in ident.findings] == [("dkim-key-missing", "sel2026")]
    assert report.ses_calls["GetEmailIdentity"] == 1


def test_servfail_zone_is_unknown_and_never_missing(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("servfail-scan.test")
    publish(knot, "servfail-scan.test", tokens)
    knot.break_zone("servfail-scan.test")
    [ident] = scan(knot).identities
    assert ident.status is IdentityStatus.UNKNOWN
    assert [f.check for f in ident.findings] == ["dns-lookup-failed"]


def test_resolver_that_never_answers_leaves_everything_unknown(ses, silent_resolver):
    world = ses("us-east-1")
    world.add_domain("silent-scan.test")
    report = scan(silent_resolver.address, timeout=0.2, lifetime=0.4)
    [ident] = report.identities
    assert ident.status is IdentityStatus.UNKNOWN
    assert {f.check for f in ident.findings} == {"dns-lookup-failed"}
    assert report.dns_lookups_failed == report.dns_lookups > 0


def test_paging_past_a_thousand_identities(ses, knot):
    world = ses("us-east-1")
    names = [f"d{i:04d}.bulk-scan.test" for i in range(1050)]
    world.add_many_domains(names)
    from tests.support.ses_world import tokens_for

    cnames = "\n".join(
        customer_cname_records(tokens_for(n, "us-east-1")).replace("._domainkey", f"._domainkey.{n.split('.')[0]}")
        for n in names
    )
    knot.set_zone("bulk-scan.test", cnames + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(tokens_for(n, "us-east-1")) for n in names))
    report = scan(knot)
    assert len(report.identities) == 1050
    assert all(r.status is IdentityStatus.OK for r in report.identities), [
        r.findings for r in report.identities if r.findings
    ][:1]
    # moto's v2 list pages at its own size; the v1 batches must be 100 names each.
    assert report.ses_calls["ListEmailIdentities"] >= 2
    assert report.ses_calls["GetIdentityDkimAttributes"] == 11
    assert report.ses_calls["GetIdentityMailFromDomainAttributes"] == 11
    assert "GetEmailIdentity" not in report.ses_calls


def test_two_regions_in_one_run(ses, knot):
    east, west = ses("us-east-1"), ses("eu-west-1")
    t_east = east.add_domain("east-scan.test")
    west.add_email("ops@east-scan.test")  # the domain is verified in the OTHER region only
    publish(knot, "east-scan.test", t_east)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(t_east))
    report = scan(knot, regions=("us-east-1", "eu-west-1"))
    got = {(r.identity.name, r.identity.region): [f.check for f in r.findings] for r in report.identities}
    assert got == {
        ("east-scan.test", "us-east-1"): [],
        ("ops@east-scan.test", "eu-west-1"): ["email-identity-without-dkim-domain"],
    }


def test_only_restricts_the_report_and_the_dns_work(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("one-scan.test")
    world.add_domain("other-scan.test")
    publish(knot, "one-scan.test", tokens)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    report = scan(knot, only=["ONE-scan.test"])
    assert [r.identity.name for r in report.identities] == ["one-scan.test"]
    if getattr(knot, "recursive", False):
        assert report.dns_lookups == 3 + 1  # three TXT questions answered with their CNAME chains, one DMARC
    else:  # the question that finds knotd does not recurse, three CNAMEs, three target TXTs, one DMARC
        assert report.dns_lookups == 1 + 3 * 2 + 1


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnrecognizedClientException"])
def test_access_denied_region_is_recorded_not_fatal(ses, knot, code):
    from botocore.stub import Stubber

    world = ses("us-east-1")
    world.add_email("ops@denied-scan.test")
    east, west = shards(("us-east-1", "eu-west-1"))
    stubber = Stubber(west.sesv2)
    stubber.add_client_error(
        "list_email_identities", service_error_code=code, service_message="not allowed", http_status_code=403
    )
    stubber.activate()

    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)
    report = run_scan([east, west], DnsProbe(resolver, authoritative_port=knot.port))
    assert [r.identity.name for r in report.identities] == ["ops@denied-scan.test"]
    [error] = report.errors
    assert error.region == "eu-west-1" and "access denied" in error.reason and code in error.reason


def test_deterministic_easy_dkim_points_at_its_parent_regions_zone_and_is_not_a_wrong_target(ses, knot):
    """An identity copied from a parent region (origin AWS_SES_<REGION>) keeps the parent's tokens, so its
    CNAMEs point into that region's zone: SES (GetEmailIdentity) says so, and the scan believes SES."""
    world = ses("us-east-1")
    zone = "dkim.af-south-1.amazonses.com"
    tokens = world.add_domain("deterministic-scan.test", origin="AWS_SES_AF_SOUTH_1", zone=zone)
    publish(knot, "deterministic-scan.test", tokens, target_zone=zone)
    knot.set_zone(zone, easy_dkim_zone_records(tokens))

    report = scan(knot)

    [ident] = report.identities
    assert ident.status is IdentityStatus.OK, ident.findings
    assert ident.identity.signing_hosted_zone == zone and ident.identity.zone_confirmed
    assert report.ses_calls.get("GetEmailIdentity") == 1


class _CrashingProbe(DomainProbe):
    """A probe with a bug: it raises for the domains named (every one when none is named)."""

    def __init__(self, dns: DnsProbe, crash_on: set[str] | None = None):
        super().__init__(dns)
        self.crash_on = crash_on

    async def probe(self, req):
        if self.crash_on is None or req.domain in self.crash_on:
            raise RuntimeError("a bug in a check")
        return await super().probe(req)


def _scan_in_thread(probe, seconds: float = 120.0) -> ScanReport:
    """run_scan in a thread, so a hang fails this test instead of blocking the suite."""
    found: list[ScanReport] = []
    thread = threading.Thread(target=lambda: found.append(run_scan(shards(), probe)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"run_scan still running after {seconds} s: it hung"
    assert found, "run_scan raised"
    return found[0]


def test_a_check_that_raises_fails_its_shard_instead_of_hanging_the_scan(ses, knot, monkeypatch):
    """Before: each exception killed a DNS worker; with every worker dead the SES reader blocked on the full
    queue for ever. Now the identity's shard is reported failed (the alert states of a failed shard are kept,
    not resolved) and the scan ends."""
    world = ses("us-east-1")
    world.add_many_domains([f"d{i:02d}.crash-scan.test" for i in range(40)])
    monkeypatch.setattr(engine, "QUEUE_SIZE", 2)  # a queue the reader fills at once
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)

    report = _scan_in_thread(_CrashingProbe(DnsProbe(resolver, max_in_flight=4)))

    [error] = report.errors
    assert error.region == "us-east-1" and "RuntimeError" in error.reason and "crash-scan.test" in error.reason
    assert not report.identities  # none was checked: none is called healthy


def test_one_identity_whose_check_raises_leaves_the_others_checked(ses, knot):
    world = ses("us-east-1")
    good = world.add_domain("fine-crash-scan.test")
    world.add_domain("bad-crash-scan.test")
    publish(knot, "fine-crash-scan.test", good)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(good))
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=5, lifetime=15)
    probe = _CrashingProbe(DnsProbe(resolver, authoritative_port=knot.port), crash_on={"bad-crash-scan.test"})

    report = _scan_in_thread(probe)

    assert [(r.identity.name, r.status) for r in report.identities] == [("fine-crash-scan.test", IdentityStatus.OK)]
    [error] = report.errors
    assert "bad-crash-scan.test" in error.reason and "RuntimeError" in error.reason


def test_a_domain_whose_dkim_names_are_too_long_for_dns_does_not_fail_its_shard(ses, knot):
    """A legal 217-octet domain: <token>._domainkey.<domain> is over DNS's 255 octets. Its lookups fail as
    "invalid name", and so does asking its zone's own servers for the names (CHECK_NAMESERVERS=suspect asks
    them, the records not being there): the identity is unknown, the shard is not failed."""
    long_domain = ".".join(["a" * 63] * 3) + "." + "s" * 17 + ".long-scan.test"
    world = ses("us-east-1")
    world.add_domain(long_domain)
    good = world.add_domain("fine-long-scan.test")
    publish(knot, "fine-long-scan.test", good)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(good))
    knot.set_zone(long_domain, '_dmarc TXT "v=DMARC1; p=none"')

    report = scan(knot)

    assert not report.errors
    statuses = {r.identity.name: r.status for r in report.identities}
    assert statuses == {long_domain: IdentityStatus.UNKNOWN, "fine-long-scan.test": IdentityStatus.OK}
    [ident] = [r for r in report.identities if r.identity.name == long_domain]
    assert [f.check for f in ident.findings] == ["dns-lookup-failed"] and "invalid name" in ident.findings[0].message
