"""Asking a zone's own servers as DNS really answers: a CNAME into another zone, a delegated `_domainkey` zone.

Fresh re-checks and the name-server check ask each authoritative server
directly, without recursion. Such a server answers only for its own zones:
for a BYODKIM selector published as a CNAME into another zone it returns the
CNAME alone, and for a name below a delegation (``_domainkey`` handed to other
servers) it returns a referral (NOERROR, no AA, NS in the authority section).
Neither means "gone" or "could not tell". The resolver in front is Unbound, a
real recursive resolver, as in production: it returns a CNAME and its
target's TXT in one answer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.models import IdentityStatus, IdentityType, SesIdentity, SesStatus
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_answers import Outcome
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
from ses_dkim_monitor.scan.nameservers import ask_servers
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.knot import KnotServer
from tests.support.ses_world import PUBLIC_KEY
from tests.support.unbound import UnboundResolver

DMARC = '_dmarc TXT "v=DMARC1; p=none"'


def probe_through(resolver: str, port: int) -> DomainProbe:
    ns = parse_nameserver(resolver, setting="t")
    # Generous timeouts: the machine is shared; nothing here depends on an answer being quick.
    return DomainProbe(DnsProbe(make_resolver([ns], timeout=3, lifetime=8), authoritative_port=port))


def identity(name: str, tokens: tuple[str, ...], *, byodkim: bool = False) -> SesIdentity:
    return SesIdentity(
        name=name,
        region="us-east-1",
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        dkim_tokens=tokens,
        signing_origin="EXTERNAL" if byodkim else "AWS_SES",
        signing_hosted_zone=None if byodkim else "dkim.deleg-keys.test",
        zone_confirmed=not byodkim,
    )


# ---------------------------------------------------------------- a BYODKIM selector as a CNAME


@pytest.fixture()
def byodkim_cname(knot):
    """The selector is a CNAME into a key zone of the provider's; both zones served by the session's knotd,
    whose NS records name it, behind Unbound."""
    knot.set_zone("byod-cname.test", f"sel._domainkey CNAME sel.keys.byod-cname-keys.test.\n{DMARC}")
    knot.set_zone("byod-cname-keys.test", f'sel.keys TXT "v=DKIM1; k=rsa; p={PUBLIC_KEY}"')
    with UnboundResolver({"test": f"127.0.0.1@{knot.port}"}) as resolver:
        yield probe_through(resolver.address, knot.port)


def test_a_fresh_recheck_follows_a_byodkim_selector_cname_into_the_key_zone(byodkim_cname):
    ident = identity("byod-cname.test", ("sel",), byodkim=True)
    request = ProbeRequest(domain="byod-cname.test", tokens=("sel",), byodkim=True, dmarc=False)

    cached = byodkim_cname.probe_all([request])[request]
    fresh_request = replace(request, fresh=True)
    fresh = byodkim_cname.probe_all([fresh_request])[fresh_request]

    # The resolver follows the CNAME itself: one answer with the CNAME and the key.
    assert cached.tokens[0].record.outcome is Outcome.ANSWER
    assert cached.tokens[0].record.cname == "sel.keys.byod-cname-keys.test"
    # The zone's server returns only the CNAME; the fresh look follows it into the key zone's servers.
    [server] = fresh.servers
    assert server.outcome is Outcome.ANSWER and server.cname == "sel.keys.byod-cname-keys.test"
    key = fresh.tokens[0].target_txt
    assert key is not None and key.outcome is Outcome.ANSWER and key.values == (f"v=DKIM1; k=rsa; p={PUBLIC_KEY}",)
    for dns in (cached, fresh):
        report = evaluate(ident, dns, {})
        assert report.status is IdentityStatus.OK, report.findings


def test_a_fresh_recheck_still_sees_a_byodkim_key_removed_behind_its_cname(knot, byodkim_cname):
    knot.set_zone("byod-cname-keys.test", 'other TXT "unrelated"')  # the key is gone from the provider's zone
    ident = identity("byod-cname.test", ("sel",), byodkim=True)
    request = ProbeRequest(domain="byod-cname.test", tokens=("sel",), byodkim=True, dmarc=False, fresh=True)
    dns = byodkim_cname.probe_all([request])[request]
    [f] = evaluate(ident, dns, {}).findings
    assert f.check == c.DKIM_KEY_MISSING and "sel.keys.byod-cname-keys.test" in f.message


# ---------------------------------------------------------------- a delegated _domainkey zone


@pytest.fixture()
def delegated():
    """deleg.test on 127.0.0.2 delegates _domainkey.deleg.test to 127.0.0.3 and 127.0.0.4 (same port), where the
    second server lost one CNAME. Unbound in front knows both zones."""
    tokens = ("tok1", "tok2")
    parent_ns = "@ NS ns1\nns1 A 127.0.0.2\n"
    delegation = (
        "_domainkey NS ns1._domainkey\n_domainkey NS ns2._domainkey\n"
        "ns1._domainkey A 127.0.0.3\nns2._domainkey A 127.0.0.4\n"
        "loop NS ns1.loop\nns1.loop A 127.0.0.2\n"  # delegated to the server that delegates it: a loop
    )
    child_ns = "@ NS ns1\n@ NS ns2\nns1 A 127.0.0.3\nns2 A 127.0.0.4\n"
    cnames = "\n".join(f"{t} CNAME {t}.dkim.deleg-keys.test." for t in tokens)
    parent = KnotServer({"test": "", "deleg.test": delegation + DMARC}, ip="127.0.0.2", ns=parent_ns).start()
    servers = [parent]
    try:
        first = KnotServer({"_domainkey.deleg.test": cnames}, ip="127.0.0.3", port=parent.port, ns=child_ns)
        servers.append(first.start())
        second = KnotServer(
            {"_domainkey.deleg.test": cnames.splitlines()[0]}, ip="127.0.0.4", port=parent.port, ns=child_ns
        )
        servers.append(second.start())
        stubs = {"test": f"127.0.0.2@{parent.port}", "_domainkey.deleg.test": f"127.0.0.3@{parent.port}"}
        with UnboundResolver(stubs) as resolver:
            yield probe_through(resolver.address, parent.port), tokens
    finally:
        for server in servers:
            server.stop()


def test_a_fresh_recheck_follows_the_delegation_to_the_domainkey_zones_servers(delegated):
    probe, tokens = delegated
    request = ProbeRequest(domain="deleg.test", tokens=tokens, dmarc=False, fresh=True)
    dns = probe.probe_all([request])[request]

    assert {(a.server, a.address) for a in dns.servers} == {
        ("ns1._domainkey.deleg.test", "127.0.0.3"),
        ("ns2._domainkey.deleg.test", "127.0.0.4"),
    }, "the delegated zone's own servers are the ones asked, the parent's referral is not an answer"
    assert not [a for a in dns.servers if a.outcome is Outcome.FAILED]
    report = evaluate(identity("deleg.test", tokens), dns, {})
    assert c.DNS_LOOKUP_FAILED not in {f.check for f in report.findings}, "a referral is not 'could not tell'"
    [disagree] = [f for f in report.findings if f.check == c.NAMESERVERS_DISAGREE]
    assert "tok2._domainkey.deleg.test" in disagree.message and "127.0.0.4" in disagree.message


def test_a_referral_that_leads_back_to_itself_stops_and_is_could_not_tell(delegated):
    import asyncio

    probe, _ = delegated

    async def ask():
        return await ask_servers(probe.dns, "deleg.test", ["x._domainkey.loop.deleg.test"], False)

    [answer] = asyncio.run(ask())
    assert answer.outcome is Outcome.FAILED and "referral" in (answer.error or "")


# ---------------------------------------------------------------- a DKIM name longer than DNS allows

# A legal domain (217 octets) whose DKIM names are not: <32-char token>._domainkey.<domain> is 261 octets,
# over the 255 a DNS name may have (RFC 1035 2.3.4), so no server can be asked for it.
LONG_DOMAIN = ".".join(["a" * 63] * 3) + "." + "l" * 17 + ".long.test"
TOO_LONG_DKIM_NAME = f"{'t' * 32}._domainkey.{LONG_DOMAIN}"


@pytest.mark.parametrize("byodkim", [False, True], ids=["cname", "txt"])
def test_a_dkim_name_too_long_for_dns_is_a_failed_answer_not_an_exception(knot, byodkim):
    import asyncio

    assert len(LONG_DOMAIN) <= 253 < len(TOO_LONG_DKIM_NAME)
    knot.set_zone(LONG_DOMAIN, DMARC)
    probe = probe_through(knot.address, knot.port)

    async def ask():
        return await ask_servers(probe.dns, LONG_DOMAIN, [TOO_LONG_DKIM_NAME], byodkim)

    [answer] = asyncio.run(ask())
    assert answer.outcome is Outcome.FAILED and (answer.error or "").startswith("invalid name")
    assert answer.name == TOO_LONG_DKIM_NAME and answer.address == "127.0.0.1"


@pytest.mark.parametrize("byodkim", [False, True], ids=["easy-dkim", "byodkim"])
def test_a_fresh_recheck_of_a_dkim_name_too_long_for_dns_is_unknown_not_an_exception(knot, byodkim):
    knot.set_zone(LONG_DOMAIN, DMARC)
    probe = probe_through(knot.address, knot.port)
    request = ProbeRequest(domain=LONG_DOMAIN, tokens=("t" * 32,), byodkim=byodkim, dmarc=False, fresh=True)

    dns = probe.probe_all([request])[request]

    [server] = dns.servers
    assert server.outcome is Outcome.FAILED and (server.error or "").startswith("invalid name")
    [token] = dns.tokens
    assert token.record.failed, "the resolver's answer is kept: the servers could not be asked"
    report = evaluate(identity(LONG_DOMAIN, ("t" * 32,), byodkim=byodkim), dns, {})
    assert report.status is IdentityStatus.UNKNOWN
