"""One question per DKIM record through a recursive resolver, the same findings as asking per record.

A recursive resolver (Unbound here, a VPC's resolver in production) answers a
TXT question at ``<token>._domainkey.<domain>`` with the CNAME and the
target's TXT. The probe reads both from that one answer; where the answer
cannot carry the chain (an authoritative server, a failure, a chain without
proof of its end) it asks per record. SES is moto's server over HTTP; DNS is
the session's knotd, straight or behind the session's Unbound.
"""

from __future__ import annotations

import dns.flags
import dns.message
import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.models import IdentityStatus, ScanReport
from ses_dkim_monitor.scan.dns_answers import Outcome
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver, read_chain
from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.settings import ConfigError, Settings, parse_nameserver
from ses_dkim_monitor.wiring import build_probe
from tests.support.ses_world import PUBLIC_KEY, PUBLIC_KEY_1024, customer_cname_records, tokens_for
from tests.support.shards import shards

DMARC = '_dmarc TXT "v=DMARC1; p=none"'


def probe_via(address: str, authoritative_port: int, *, chains: bool = True) -> DnsProbe:
    # Generous timeouts: the machine is shared, and a slow answer must never change what a test sees.
    resolver = make_resolver([parse_nameserver(address, setting="t")], timeout=5, lifetime=15)
    return DnsProbe(resolver, authoritative_port=authoritative_port, chains=chains)


def scan_via(address: str, knot, *, chains: bool = True) -> ScanReport:
    return run_scan(shards(), probe_via(address, knot.port, chains=chains))


# ------------------------------------------------------------------ the setting


def test_dns_query_mode_is_auto_unless_per_record_is_asked_for():
    assert Settings.from_env({"AWS_REGION": "us-east-1"}).dns_query_mode == "auto"
    assert Settings.from_env({"AWS_REGION": "us-east-1", "DNS_QUERY_MODE": "Per-Record"}).dns_query_mode == "per-record"
    with pytest.raises(ConfigError, match="DNS_QUERY_MODE"):
        Settings.from_env({"AWS_REGION": "us-east-1", "DNS_QUERY_MODE": "chain"})


# ------------------------------------------------------------------ what a healthy identity costs


def _healthy(ses, knot, name: str) -> None:
    tokens = ses("us-east-1").add_domain(name)
    knot.set_zone(name, customer_cname_records(tokens) + "\n" + DMARC)
    knot.set_zone("dkim.amazonses.com", "\n".join(f'{t} TXT "p={PUBLIC_KEY}"' for t in tokens))


@pytest.mark.parametrize(
    ("way", "mode", "queries"),
    [
        ("unbound", "auto", 4),  # three TXT questions, each answered with its CNAME chain; DMARC
        ("unbound", "per-record", 7),  # three CNAMEs, three target TXTs, DMARC
        ("knotd", "auto", 1 + 7),  # the run's first question finds the server does not recurse; then per record
        ("knotd", "per-record", 7),
    ],
)
def test_a_healthy_easy_dkim_identity_costs_four_queries_through_a_recursive_resolver(
    ses, knot, unbound_server, way, mode, queries
):
    _healthy(ses, knot, f"cost-{way}-{mode}-chain.test")
    address = unbound_server.address if way == "unbound" else knot.address
    env = {
        "AWS_REGION": "us-east-1",
        "DNS_NAMESERVERS": address,
        "DNS_QUERY_MODE": mode,
        "DNS_TIMEOUT_SECONDS": "5",
        "DNS_LIFETIME_SECONDS": "15",
        "DNS_AUTHORITATIVE_PORT": str(knot.port),
    }
    report = run_scan(shards(), build_probe(Settings.from_env(env)))

    [ident] = report.identities
    assert ident.status is IdentityStatus.OK, ident.findings
    assert report.dns_lookups == queries and report.dns_lookups_failed == 0


# ------------------------------------------------------------------ the same findings, every scenario

# Each scenario a domain of its own zone: (what SES says, the zone's records for its tokens, the keys at SES's zone).
KEY = f'"p={PUBLIC_KEY}"'


def _keys(tokens: list[str], *, key: str = KEY) -> list[str]:
    return [f"{tokens[0]} TXT {key}", *(f'{t} TXT ""' for t in tokens[1:])]


def _scenarios(knot) -> dict[str, tuple[dict, str, list[str]]]:
    """name -> (add_domain options, zone body, dkim.amazonses.com records). Zones other than the
    identities' own (a wrong target's, a key provider's, a broken one) are set here too."""
    out: dict[str, tuple[dict, str, list[str]]] = {}

    def t(name: str) -> list[str]:
        return tokens_for(name, "us-east-1")

    def add(label: str, body, keys=None, **opts) -> None:
        name = f"{label}.parity-chain.test"
        tokens = t(name)
        out[name] = (opts, body(tokens, name), _keys(tokens) if keys is None else keys(tokens))

    cn = customer_cname_records
    add("healthy", lambda k, n: cn(k) + "\n" + DMARC)
    add("one-missing", lambda k, n: cn(k[1:]) + "\n" + DMARC)
    add("all-missing", lambda k, n: DMARC)
    add("doubled", lambda k, n: "\n".join(f"{x}._domainkey.{n}.{n}. CNAME {x}.dkim.amazonses.com." for x in k))
    add("txt-instead", lambda k, n: f'{k[0]}._domainkey TXT "p={PUBLIC_KEY}"\n' + cn(k[1:]) + "\n" + DMARC)
    add("address-instead", lambda k, n: f"{k[0]}._domainkey A 192.0.2.1\n" + cn(k[1:]) + "\n" + DMARC)
    add("empty-name", lambda k, n: f'deeper.{k[0]}._domainkey TXT "x"\n' + cn(k[1:]) + "\n" + DMARC)
    add("missing-dot", lambda k, n: f"{k[0]}._domainkey CNAME {k[0]}.dkim.amazonses.com\n" + cn(k[1:]))
    add("swapped", lambda k, n: f"{k[0]}._domainkey CNAME {k[1]}.dkim.amazonses.com.\n" + cn(k[1:]) + "\n" + DMARC)
    add("other-zone", lambda k, n: cn(k[:1], zone="dkim.elsewhere-chain.test") + "\n" + cn(k[1:]) + "\n" + DMARC)
    add("two-hops", lambda k, n: f"{k[0]}._domainkey CNAME {k[0]}.hop.elsewhere-chain.test.\n" + cn(k[1:]))
    add("into-broken", lambda k, n: f"{k[0]}._domainkey CNAME {k[0]}.dkim.broken-chain.test.\n" + cn(k[1:]))
    add("key-missing", lambda k, n: cn(k) + "\n" + DMARC, keys=lambda k: [])
    add("key-nodata", lambda k, n: cn(k) + "\n" + DMARC, keys=lambda k: [f"{x} A 192.0.2.1" for x in k])
    add("weak-key", lambda k, n: cn(k) + "\n" + DMARC, keys=lambda k: _keys(k, key=f'"p={PUBLIC_KEY_1024}"'))
    add("ses-failed", lambda k, n: cn(k) + "\n" + DMARC, dkim_status="FAILED")
    add("ses-pending-missing", lambda k, n: cn(k[:2]), dkim_status="PENDING")
    add("own-zone-broken", lambda k, n: cn(k) + "\n" + DMARC)
    # Bring your own DKIM: a selector's TXT, and a selector aliased into a key provider's zone.
    out["byo-txt.parity-chain.test"] = (
        {"origin": "EXTERNAL", "tokens": ["sel1"]},
        f'sel1._domainkey TXT "v=DKIM1; p={PUBLIC_KEY}"\n{DMARC}',
        [],
    )
    out["byo-alias.parity-chain.test"] = (
        {"origin": "EXTERNAL", "tokens": ["sel1"]},
        f"sel1._domainkey CNAME sel1.keys.elsewhere-chain.test.\n{DMARC}",
        [],
    )
    return out


def _publish_world(ses, knot) -> None:
    world = ses("us-east-1")
    scenarios = _scenarios(knot)
    keys: list[str] = []
    hops = []
    for name, (opts, body, records) in scenarios.items():
        world.add_domain(name, **opts)
        knot.set_zone(name, body)
        keys += records
        tokens = tokens_for(name, "us-east-1")
        hops.append(f"{tokens[0]}.dkim TXT {KEY}")  # other-zone's target, with a key
        hops.append(f"{tokens[0]}.hop CNAME {tokens[0]}.dkim.amazonses.com.")  # two-hops: on into SES's zone
    hops.append(f"sel1.keys TXT {KEY}")
    knot.set_zone("elsewhere-chain.test", "\n".join(hops))
    knot.set_zone("dkim.amazonses.com", "\n".join(keys))
    knot.set_zone("dkim.broken-chain.test", "")
    knot.break_zone("dkim.broken-chain.test")
    knot.break_zone("own-zone-broken.parity-chain.test")


def test_findings_are_the_same_whichever_way_dns_is_asked(ses, knot, unbound_server):
    """Every scenario zone, asked three ways: through Unbound one question per DKIM record (the chain),
    through Unbound per record, straight at knotd (which does not recurse: per record). Every identity's
    report is identical, findings, messages and fixes included; the chain asked fewer questions."""
    _publish_world(ses, knot)

    chained = scan_via(unbound_server.address, knot)
    per_record = scan_via(unbound_server.address, knot, chains=False)
    direct = scan_via(knot.address, knot)

    assert len(chained.identities) == len(_scenarios(knot))
    assert chained.identities == per_record.identities
    assert chained.identities == direct.identities
    assert chained.dns_lookups < per_record.dns_lookups
    # The scenarios do reach the findings they were written for (a parity of nothing would prove nothing).
    causes = {(r.identity.name.split(".")[0], f.check, f.cause) for r in chained.identities for f in r.findings}
    for expected in [
        ("one-missing", c.DKIM_RECORD_MISSING, ""),
        ("doubled", c.DKIM_RECORD_MISSING, c.DOUBLED_DOMAIN),
        ("txt-instead", c.DKIM_RECORD_MISSING, c.PUBLISHED_AS_TXT),
        ("address-instead", c.DKIM_RECORD_MISSING, c.PUBLISHED_AS_TXT),
        ("missing-dot", c.DKIM_RECORD_WRONG_TARGET, c.TARGET_MISSING_DOT),
        ("swapped", c.DKIM_RECORD_WRONG_TARGET, c.OTHER_TOKEN),
    ]:
        assert expected in causes, (expected, sorted(x for x in causes if x[0] == expected[0]))
    statuses = {r.identity.name.split(".")[0]: r.status for r in chained.identities}
    assert statuses["healthy"] is IdentityStatus.OK and statuses["byo-alias"] is IdentityStatus.OK
    assert statuses["own-zone-broken"] is IdentityStatus.UNKNOWN
    checks = {r.identity.name.split(".")[0]: {f.check for f in r.findings} for r in chained.identities}
    assert c.DKIM_KEY_WEAK in checks["weak-key"]
    assert checks["key-missing"] & {c.DKIM_KEY_MISSING} and checks["key-nodata"] & {c.DKIM_KEY_MISSING}


# ------------------------------------------------------------------ when the answer does not carry the chain


def test_an_authoritative_server_is_asked_per_record_after_one_question(knot):
    knot.set_zone("auth-chain.test", "tok._domainkey CNAME tok.keys.auth-target-chain.test.")
    knot.set_zone("auth-target-chain.test", f"tok.keys TXT {KEY}")
    probe = probe_via(knot.address, knot.port)
    [dns] = (
        DomainProbe(probe).probe_all([ProbeRequest(domain="auth-chain.test", tokens=("tok",), dmarc=False)]).values()
    )
    [tok] = dns.tokens
    assert tok.record.values == ("tok.keys.auth-target-chain.test",)
    assert tok.target_txt is not None and tok.target_txt.values == (f"p={PUBLIC_KEY}",)
    assert probe.recursive is False
    assert probe.lookups == 1 + 2  # the question that found out, then the CNAME and the target's TXT


def test_a_resolver_answers_the_cname_and_the_targets_txt_in_one_question(knot, unbound_server):
    knot.set_zone("one-chain.test", "tok._domainkey CNAME tok.keys.one-target-chain.test.")
    knot.set_zone("one-target-chain.test", f"tok.keys TXT {KEY}\nnokey.keys A 192.0.2.1")
    probe = probe_via(unbound_server.address, knot.port)
    request = ProbeRequest(domain="one-chain.test", tokens=("tok",), dmarc=False)
    [dns] = DomainProbe(probe).probe_all([request]).values()
    [tok] = dns.tokens
    assert tok.record.outcome is Outcome.ANSWER and tok.record.values == ("tok.keys.one-target-chain.test",)
    assert tok.target_txt is not None and tok.target_txt.values == (f"p={PUBLIC_KEY}",)
    assert probe.recursive is True and probe.lookups == 1


def _response(text: str) -> dns.message.QueryMessage:
    message = dns.message.from_text(text)
    assert isinstance(message, dns.message.QueryMessage)
    return message


QUESTION = "tok._domainkey.example.test."
CHAIN_ONLY = f"""id 1
opcode QUERY
rcode NOERROR
flags QR RD RA
;QUESTION
{QUESTION} IN TXT
;ANSWER
{QUESTION} 60 IN CNAME tok.dkim.amazonses.com.
;AUTHORITY
"""


def test_a_cname_without_the_targets_record_or_proof_of_its_absence_is_asked_per_record():
    """A resolver that did not chase returns the CNAME alone: nothing says the target is empty."""
    assert read_chain("tok._domainkey.example.test", "TXT", _response(CHAIN_ONLY)) is None
    # The CNAME's own zone's SOA proves nothing about the target's zone.
    own_soa = CHAIN_ONLY + "example.test. 60 IN SOA ns1.example.test. h.example.test. 1 3600 600 86400 60\n"
    assert read_chain("tok._domainkey.example.test", "TXT", _response(own_soa)) is None


@pytest.mark.parametrize(("rcode", "outcome"), [("NOERROR", Outcome.NODATA), ("NXDOMAIN", Outcome.NXDOMAIN)])
def test_the_target_zones_soa_proves_the_target_empty(rcode, outcome):
    text = CHAIN_ONLY.replace("rcode NOERROR", f"rcode {rcode}") + (
        "amazonses.com. 60 IN SOA ns1.amazonses.com. h.amazonses.com. 1 3600 600 86400 60\n"
    )
    found = read_chain("tok._domainkey.example.test", "TXT", _response(text))
    assert found is not None
    assert found.record.outcome is Outcome.ANSWER and found.record.values == ("tok.dkim.amazonses.com",)
    assert found.target is not None and found.target.name == "tok.dkim.amazonses.com"
    assert found.target.outcome is outcome


def test_a_truncated_answer_is_asked_per_record():
    complete = CHAIN_ONLY + "amazonses.com. 60 IN SOA ns1.amazonses.com. h.amazonses.com. 1 3600 600 86400 60\n"
    assert read_chain("tok._domainkey.example.test", "TXT", _response(complete)) is not None
    truncated = _response(complete.replace("flags QR RD RA", "flags QR RD RA TC"))
    assert truncated.flags & dns.flags.TC
    assert read_chain("tok._domainkey.example.test", "TXT", truncated) is None
