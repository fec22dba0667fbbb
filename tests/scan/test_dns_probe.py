"""The DNS probe against a real authoritative server (knotd on 127.0.0.1)."""

from __future__ import annotations

from dataclasses import replace

from ses_dkim_monitor.scan.dmarc_walk import dmarc_candidates
from ses_dkim_monitor.scan.dns_answers import Outcome
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.ses_world import PUBLIC_KEY


def probe_for(address: str, *, timeout: float = 2.0, lifetime: float = 4.0) -> DomainProbe:
    ns = parse_nameserver(address, setting="test")
    return DomainProbe(
        DnsProbe(make_resolver([ns], timeout=timeout, lifetime=lifetime), max_in_flight=8, authoritative_port=ns.port)
    )


def test_follows_each_cname_and_reads_the_target_txt(knot):
    knot.set_zone(
        "follow.test", 'tok1._domainkey CNAME tok1.dkimzone.follow-target.test.\n_dmarc TXT "v=DMARC1; p=none"'
    )
    # A long key split into two TXT strings, as providers publish 2048-bit keys.
    knot.set_zone("follow-target.test", f'tok1.dkimzone TXT "p={PUBLIC_KEY[:100]}" "{PUBLIC_KEY[100:]}"')
    probe = probe_for(knot.address)
    req = ProbeRequest(domain="follow.test", tokens=("tok1",))
    [dns] = probe.probe_all([req]).values()
    tok = dns.tokens[0]
    assert tok.record.outcome is Outcome.ANSWER and tok.record.values == ("tok1.dkimzone.follow-target.test",)
    assert tok.target_txt is not None and tok.target_txt.values == (f"p={PUBLIC_KEY}",)  # strings joined
    assert dns.dmarc is not None and dns.dmarc.values == ("v=DMARC1; p=none",)
    assert probe.failed == 0


def test_nxdomain_and_nodata_are_absent_and_confirmed_once(knot):
    knot.set_zone("absent.test", 'tok2._domainkey TXT "not a cname"')
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="absent.test", tokens=("tok1", "tok2"), dmarc=False)]).values()
    by_token = {t.token: t for t in dns.tokens}
    assert by_token["tok1"].record.outcome is Outcome.NXDOMAIN
    assert by_token["tok2"].record.outcome is Outcome.NODATA  # a TXT where the CNAME should be
    # The run's first question (a TXT at tok1's name, which a recursive resolver would answer with its whole
    # chain) found that knotd does not recurse (1), so the rest was asked per record: each negative answer
    # twice before it was believed (4); the zone's apex once through SOA (1) for both tokens; each missing
    # token's doubled name at <name>.<apex> (2); what the name that exists without a CNAME holds instead,
    # where its TXT answered (1); the apex's NS once, to name the provider whose form the fix text speaks
    # of (1).
    assert probe.lookups == 1 + 2 * 2 + 1 + 2 + 1 + 1
    assert dns.nameservers == ("ns1.absent.test",)
    assert by_token["tok2"].other is not None and by_token["tok2"].other.values == ("not a cname",)
    assert dns.zone_apex == "absent.test"


def test_doubled_name_is_found(knot):
    knot.set_zone("zone-appended.test", "tokx._domainkey.mail.zone-appended.test CNAME tokx.dkim.amazonses.com.")
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="mail.zone-appended.test", tokens=("tokx",), dmarc=False)]).values()
    tok = dns.tokens[0]
    assert tok.record.absent
    assert (
        tok.misplaced is not None and tok.misplaced.name == "tokx._domainkey.mail.zone-appended.test.zone-appended.test"
    )


def test_servfail_is_failed_not_absent(knot):
    knot.set_zone("broken.test", "tok1._domainkey CNAME tok1.dkim.amazonses.com.")
    knot.break_zone("broken.test")
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="broken.test", tokens=("tok1",))]).values()
    assert dns.tokens[0].record.outcome is Outcome.FAILED
    assert "SERVFAIL" in (dns.tokens[0].record.error or "")
    assert dns.dmarc is not None and dns.dmarc.failed
    assert probe.failed >= 2


def test_refused_zone_is_failed(knot):
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="not-served.example", tokens=("t",), dmarc=False)]).values()
    assert dns.tokens[0].record.outcome is Outcome.FAILED
    assert "REFUSED" in (dns.tokens[0].record.error or "")


def test_resolver_that_never_answers_times_out_as_failed(silent_resolver):
    probe = probe_for(silent_resolver.address, timeout=0.2, lifetime=0.5)
    [dns] = probe.probe_all([ProbeRequest(domain="example.com", tokens=("t1",), dmarc=False)]).values()
    assert dns.tokens[0].record.outcome is Outcome.FAILED
    assert dns.tokens[0].record.error == "timeout"


def test_txt_bytes_that_are_not_utf8_stay_visible(knot):
    knot.set_zone("bytes.test", '_dmarc TXT "v=DMARC1; \\255\\027[31m"')
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="bytes.test")]).values()
    assert dns.dmarc is not None
    assert dns.dmarc.values == ("v=DMARC1; \\xff\x1b[31m",)


def test_byodkim_selector_behind_a_cname_is_followed(knot):
    # The key lives in another zone: the server returns only the CNAME.
    knot.set_zone("byod.test", "sel._domainkey CNAME sel.keys.byod-keys.test.")
    knot.set_zone("byod-keys.test", f'sel.keys TXT "v=DKIM1; k=rsa; p={PUBLIC_KEY}"')
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="byod.test", tokens=("sel",), byodkim=True, dmarc=False)]).values()
    tok = dns.tokens[0]
    assert tok.record.cname == "sel.keys.byod-keys.test"
    assert tok.target_txt is not None and tok.target_txt.values == (f"v=DKIM1; k=rsa; p={PUBLIC_KEY}",)


def test_mail_from_mx_and_spf_are_read(knot):
    knot.set_zone(
        "mailfrom.test",
        'bounce MX 10 feedback-smtp.us-east-1.amazonses.com.\nbounce TXT "v=spf1 include:amazonses.com ~all"',
    )
    probe = probe_for(knot.address)
    [dns] = probe.probe_all(
        [ProbeRequest(domain="mailfrom.test", mail_from="bounce.mailfrom.test", dmarc=False)]
    ).values()
    assert dns.mail_from_mx is not None and dns.mail_from_mx.values == ("10 feedback-smtp.us-east-1.amazonses.com",)
    assert dns.mail_from_txt is not None and dns.mail_from_txt.values == ("v=spf1 include:amazonses.com ~all",)


def test_dmarc_walks_the_dns_tree_as_dmarcbis_does():
    assert dmarc_candidates("a.b.example.com") == [
        "_dmarc.a.b.example.com",
        "_dmarc.b.example.com",
        "_dmarc.example.com",
        "_dmarc.com",  # a public-suffix operator may publish a psd=y policy there
    ]
    assert dmarc_candidates("example.com") == ["_dmarc.example.com", "_dmarc.com"]
    deep = "l1.l2.l3.l4.l5.l6.l7.l8.l9.example.com"
    walk = dmarc_candidates(deep)
    assert len(walk) == 8, "DMARCbis: at most eight queries"
    assert walk[0] == f"_dmarc.{deep}" and walk[1] == "_dmarc.l5.l6.l7.l8.l9.example.com" and walk[-1] == "_dmarc.com"


def test_dmarc_of_parent_is_used_for_a_subdomain(knot):
    knot.set_zone("parentdmarc.test", '_dmarc TXT "v=DMARC1; p=reject"')
    probe = probe_for(knot.address)
    [dns] = probe.probe_all([ProbeRequest(domain="mail.parentdmarc.test")]).values()
    assert dns.dmarc is not None and dns.dmarc.name == "_dmarc.parentdmarc.test"
    assert dns.dmarc.values == ("v=DMARC1; p=reject",)


def test_fresh_probe_believes_the_zones_servers_over_a_resolver_still_serving_a_deleted_record():
    """An event-driven re-check minutes after a deletion: the resolver (127.0.0.1) still answers from before,
    the zone's only server (127.0.0.2) no longer has the record. With ``fresh`` the server's word wins."""
    from tests.support.knot import BASE_ZONES, KnotServer

    ns = "@ NS ns1\nns1 A 127.0.0.2\n"
    stale = KnotServer(dict(BASE_ZONES), ns=ns).start()
    server = KnotServer(dict(BASE_ZONES), ip="127.0.0.2", port=stale.port, ns=ns).start()
    try:
        stale.set_zone(
            "fresh-probe.test", "tok1._domainkey CNAME tok1.dkim.test.\ntok2._domainkey CNAME tok2.dkim.test."
        )
        server.set_zone("fresh-probe.test", "tok2._domainkey CNAME tok2.dkim.test.")  # tok1 deleted
        probe = DomainProbe(
            DnsProbe(
                make_resolver([parse_nameserver(stale.address, setting="t")], timeout=2, lifetime=4),
                authoritative_port=stale.port,
            )
        )
        request = ProbeRequest(domain="fresh-probe.test", tokens=("tok1", "tok2"), dmarc=False)

        cached = probe.probe_all([request])[request]
        fresh = probe.probe_all([replace(request, fresh=True)])[replace(request, fresh=True)]
    finally:
        server.stop()
        stale.stop()

    assert [t.record.outcome for t in cached.tokens] == [Outcome.ANSWER, Outcome.ANSWER]
    assert [t.record.outcome for t in fresh.tokens] == [Outcome.NXDOMAIN, Outcome.ANSWER]
    assert fresh.tokens[1].record.values == ("tok2.dkim.test",)


def test_the_walkers_use_the_probe_and_the_probe_imports_no_walker():
    """One direction of flow inside the scan: walkers import the query engine, never the reverse, and no circle."""
    import ast
    from pathlib import Path

    import ses_dkim_monitor.scan as scan_package

    root = Path(scan_package.__file__).parent
    imports: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update(alias.name for alias in node.names)
        imports[path.stem] = {m for m in found if (root / f"{m}.py").exists()}

    walkers = {"domain_probe", "dmarc_walk", "spf_tree", "nameservers"}
    assert not imports["dns_probe"] & walkers
    for walker in walkers - {"domain_probe"}:
        assert "dns_probe" in imports[walker], walker

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(m == goal or (m not in seen and reaches(m, goal, seen | {m})) for m in imports.get(start, ()))

    assert [m for m in imports if reaches(m, m)] == []


def test_fresh_probe_keeps_every_txt_the_zones_servers_hold_at_a_byodkim_selector():
    """A re-check minutes after a TXT was added beside a BYODKIM key (a verification string, say): the resolver
    (127.0.0.1) still has only the key, the zone's server (127.0.0.2) has both, and returns the short string
    first (knotd sends a record set in canonical order). The fresh record is the server's whole set, so the key
    is still seen: before, only its first record was kept and the key read as missing."""
    from ses_dkim_monitor.scan.checks import evaluate
    from tests.support.alert_builders import ses_identity
    from tests.support.knot import BASE_ZONES, KnotServer

    key = f"v=DKIM1; k=rsa; p={PUBLIC_KEY}"
    selector = f'sel._domainkey TXT "{key[:200]}" "{key[200:]}"'
    ns = "@ NS ns1\nns1 A 127.0.0.2\n"
    stale = KnotServer(dict(BASE_ZONES), ns=ns).start()
    server = KnotServer(dict(BASE_ZONES), ip="127.0.0.2", port=stale.port, ns=ns).start()
    try:
        stale.set_zone("fresh-set.test", selector)
        server.set_zone("fresh-set.test", f'{selector}\nsel._domainkey TXT "site-verification=abc"')
        probe = DomainProbe(
            DnsProbe(
                make_resolver([parse_nameserver(stale.address, setting="t")], timeout=2, lifetime=4),
                authoritative_port=stale.port,
            )
        )
        request = ProbeRequest(domain="fresh-set.test", tokens=("sel",), byodkim=True, dmarc=False, fresh=True)
        fresh = probe.probe_all([request])[request]
    finally:
        server.stop()
        stale.stop()

    ident = replace(ses_identity("fresh-set.test"), dkim_tokens=("sel",), signing_origin="EXTERNAL")
    assert "dkim-key-missing" not in {f.check for f in evaluate(ident, fresh, {}).findings}
    [answer] = fresh.servers
    assert answer.values == ("site-verification=abc", key), "the server's whole record set, sorted"
    assert sorted(fresh.tokens[0].record.values) == sorted([key, "site-verification=abc"])
