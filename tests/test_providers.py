"""The DNS provider's own form: who serves a zone (from its NS), and what to type in that provider's fields.

The expected spellings below are the conventions docs/providers.md documents,
each with its source; where a provider's convention is unknown the generic
spelling is expected, together with the name of the unknown convention, so a
renderer can say it is not confirmed for that provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import dns.resolver
import pytest

from ses_dkim_monitor import catalogue, form_advice, providers
from ses_dkim_monitor.providers import HostForm, Provider, TargetForm, TxtQuotes, TxtSplit
from tests.support.paths import DOCS

ZONE = "example.jp"
DKIM_NAME = "tok._domainkey.example.jp"
SUBDOMAIN_NAME = "tok._domainkey.mail.example.jp"
TARGET = "tok.dkim.amazonses.com."

# The providers issue 20 names, as it names them, and the catalogue ids they map to.
ISSUE_PROVIDERS = {
    "Route 53": "route53",
    "Cloudflare": "cloudflare",
    "Google Cloud DNS": "google-cloud-dns",
    "Azure DNS": "azure-dns",
    "GoDaddy": "godaddy",
    "Namecheap": "namecheap",
    "Squarespace Domains": "squarespace",
    "IONOS": "ionos",
    "OVH": "ovh",
    "Gandi": "gandi",
    "DigitalOcean": "digitalocean",
    "お名前.com": "onamae",
    "バリュードメイン": "value-domain",
    "エックスサーバー": "xserver",
    "さくらインターネット": "sakura",
    "ムームードメイン": "muumuu",
    "KAGOYA": "kagoya",
    "ConoHa": "conoha",
}


@dataclass(frozen=True)
class Expect:
    """What a DKIM CNAME looks like in one provider's form, and which conventions are unknown."""

    host: str  # tok._domainkey.example.jp in zone example.jp
    subdomain_host: str  # tok._domainkey.mail.example.jp in zone example.jp
    apex_host: str  # a record at example.jp itself
    target: str  # tok.dkim.amazonses.com as typed into the value field
    unknown: frozenset[str]  # for the DKIM CNAME (host, target, underscore)


GENERIC_UNKNOWN = frozenset({"host", "target", "underscore"})

EXPECTED = {
    # Record name: relative or full is not stated; apex: leave empty; value: trailing dot optional.
    "route53": Expect("tok._domainkey", "tok._domainkey.mail", "", "tok.dkim.amazonses.com", frozenset({"host"})),
    "cloudflare": Expect("tok._domainkey", "tok._domainkey.mail", "@", "tok.dkim.amazonses.com", frozenset()),
    # DNS name: the subdomain, the trailing dot is added; rrdatas must end with a dot.
    "google-cloud-dns": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, frozenset({"underscore"})),
    "azure-dns": Expect("tok._domainkey", "tok._domainkey.mail", "@", "tok.dkim.amazonses.com", frozenset()),
    "godaddy": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "namecheap": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, frozenset({"target", "underscore"})),
    "squarespace": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "ionos": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, frozenset({"target", "underscore"})),
    "ovh": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, frozenset()),
    "gandi": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "digitalocean": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "onamae": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "value-domain": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "xserver": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "sakura": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "muumuu": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "kagoya": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
    "conoha": Expect("tok._domainkey", "tok._domainkey.mail", "@", TARGET, GENERIC_UNKNOWN),
}

# Realistic name servers of each provider that can be recognised, and near misses that must not be.
NAME_SERVERS = {
    "route53": (
        ["ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net.", "NS-2050.AWSDNS-66.ORG", "ns-2051.awsdns-67.co.uk"],
        ["ns-2048.awsdns-64.com.evil.test", "ns-2048.awsdns-64.co", "ns-x.awsdns-64.com", "xns-1.awsdns-01.com"],
    ),
    "cloudflare": (
        ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com.", "blue.foundationdns.com", "blue.foundationdns.org"],
        ["ns.cloudflare.com", "ada.ns.cloudflare.com.evil.test", "ada.xns.cloudflare.com", "a.b.ns.cloudflare.com"],
    ),
    "azure-dns": (
        ["ns1-01.azure-dns.com", "ns2-01.azure-dns.net", "ns3-01.azure-dns.org", "ns4-01.azure-dns.info"],
        ["ns1-01.azure-dns.com.evil.test", "ns5-01.azure-dns.com", "ns1-01.azure-dns.co", "ns1.azure-dns.com"],
    ),
    "ionos": (
        ["ns1016.ui-dns.de", "ns1045.ui-dns.biz", "ns1126.ui-dns.org", "ns1099.ui-dns.com"],
        ["ns1016.ui-dns.de.evil.test", "ns1016.ui-dns.net", "ns2016.ui-dns.de", "ns1016.xui-dns.de"],
    ),
    "ovh": (
        ["dns19.ovh.net", "ns19.ovh.net", "DNS200.OVH.NET."],
        ["dns19.ovh.net.evil.test", "dns19.ovh.com", "ns.ovh.net", "dns19.xovh.net"],
    ),
    "namecheap": (
        ["dns1.registrar-servers.com", "DNS2.REGISTRAR-SERVERS.COM."],
        ["dns1.registrar-servers.com.evil.test", "dns3.registrar-servers.com", "dns1.namecheaphosting.com"],
    ),
    "sakura": (
        ["ns1.dns.ne.jp", "ns2.dns.ne.jp."],
        ["ns1.dns.ne.jp.evil.test", "ns3.dns.ne.jp", "ns1.xdns.ne.jp", "ns1.dns.ne.jp.ne.jp"],
    ),
    "onamae": (
        ["dns1.onamae.com", "dns2.onamae.com."],
        ["ns1.onamae.com.evil.test", "dns1.onamae.co", "dns1.notonamae.com", "onamae.com"],
    ),
}


def provider(provider_id: str) -> Provider:
    return providers.by_id(provider_id)


def test_every_provider_the_issue_names_is_in_the_catalogue():
    ids = {p.id for p in providers.PROVIDERS}
    assert set(ISSUE_PROVIDERS.values()) <= ids
    names = {p.name_en for p in providers.PROVIDERS} | {p.name_ja for p in providers.PROVIDERS}
    missing = [name for name in ISSUE_PROVIDERS if not any(n.startswith(name) for n in names)]  # OVH: OVHcloud
    assert missing == []


def test_every_known_convention_names_its_source_and_when_it_was_read():
    for p in providers.PROVIDERS:
        for convention, fact in p.facts().items():
            if fact.value is None:
                assert fact.source is None, f"{p.id}.{convention} is unknown but cites a source"
                continue
            assert fact.source is not None, f"{p.id}.{convention} = {fact.value!r} has no source"
            assert re.match(r"^https://[a-z0-9.-]+\.[a-z]{2,}/", fact.source.url), (p.id, convention)
            assert re.match(r"^20\d\d-\d\d-\d\d$", fact.source.read), (p.id, convention)
            assert fact.source.says.strip(), (p.id, convention)


def test_the_docs_table_lists_exactly_the_catalogue():
    text = (DOCS / "providers.md").read_text()
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.MULTILINE)
    assert documented, "docs/providers.md has no provider table"
    assert set(documented) == {p.id for p in providers.PROVIDERS}
    assert set(EXPECTED) == set(documented), "every documented provider needs a row in EXPECTED"


def test_known_conventions_and_the_expected_table_agree():
    # The table above spells out each provider's documented conventions; a catalogue change shows here.
    for provider_id, expect in EXPECTED.items():
        p = provider(provider_id)
        assert (p.host.value is None) == ("host" in expect.unknown), provider_id
        assert (p.target.value is None) == ("target" in expect.unknown), provider_id


@pytest.mark.parametrize("provider_id", sorted(NAME_SERVERS))
def test_a_zone_served_by_the_provider_is_recognised_from_its_ns(provider_id):
    hosts, near_misses = NAME_SERVERS[provider_id]
    assert providers.identify(hosts) is provider(provider_id)
    for host in hosts:
        assert providers.identify([host]) is provider(provider_id), host
    for miss in near_misses:
        assert providers.identify([miss]) is None, miss


def test_providers_without_a_sourced_ns_pattern_are_never_guessed():
    recognisable = {p.id for p in providers.PROVIDERS if p.ns.value}
    assert recognisable == set(NAME_SERVERS)
    for p in providers.PROVIDERS:
        if not p.ns.value:
            assert p.ns.source is None


def test_no_name_server_example_matches_two_providers():
    for provider_id, (hosts, _) in NAME_SERVERS.items():
        for host in hosts:
            claimed = [p.id for p in providers.PROVIDERS if p.serves(host)]
            assert claimed == [provider_id], host


def test_ns_of_two_providers_or_an_unknown_server_name_no_provider():
    # A zone mid-migration (or with a secondary elsewhere): advice for one form would be wrong for the other.
    assert providers.identify(["dns1.onamae.com", "ada.ns.cloudflare.com"]) is None
    assert providers.identify(["dns1.onamae.com", "ns1.example.net"]) is None
    assert providers.identify([]) is None


def test_served_by_names_the_provider_and_its_name_servers_in_order():
    served = providers.served_by(["DNS2.onamae.com.", "dns1.onamae.com", "dns1.onamae.com."])
    assert served is not None
    assert served.provider is provider("onamae")
    assert served.nameservers == ("dns1.onamae.com", "dns2.onamae.com")
    assert providers.served_by(["ns1.example.net"]) is None


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_dkim_cname_host_and_target_as_each_provider_wants_them(provider_id):
    expect = EXPECTED[provider_id]
    entry = providers.form_entry(provider(provider_id), name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET)
    assert entry.host == expect.host
    assert entry.value == expect.target
    assert set(entry.unknown) == expect.unknown
    assert entry.refused == ()


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_a_subdomain_identity_keeps_its_subdomain_in_the_host(provider_id):
    entry = providers.form_entry(
        provider(provider_id), name=SUBDOMAIN_NAME, zone_apex=f"{ZONE}.", rtype="CNAME", value=TARGET
    )
    assert entry.host == EXPECTED[provider_id].subdomain_host


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_the_zone_apex_is_spelled_as_the_provider_spells_it(provider_id):
    p = provider(provider_id)
    entry = providers.form_entry(p, name="EXAMPLE.JP.", zone_apex=ZONE, rtype="TXT", value='"v=spf1 -all"')
    assert entry.host == EXPECTED[provider_id].apex_host
    assert ("apex" in entry.unknown) == (p.apex.value is None)


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_doubled_domain_says_which_record_to_delete_and_what_to_type(provider_id):
    expect = EXPECTED[provider_id]
    repair = providers.repair(
        provider(provider_id),
        cause=catalogue.DOUBLED_DOMAIN,
        name=DKIM_NAME,
        zone_apex=ZONE,
        rtype="CNAME",
        value=TARGET,
    )
    # The record landed at tok._domainkey.example.jp.example.jp; a form that appends the zone lists it so.
    assert repair.remove.name == "tok._domainkey.example.jp.example.jp"
    assert repair.remove.host == f"{expect.host}.example.jp"
    assert repair.add.host == expect.host
    assert repair.add.value == expect.target
    assert set(repair.unknown) == expect.unknown


@pytest.mark.parametrize("provider_id", sorted(EXPECTED))
def test_missing_dot_says_which_target_to_replace_and_with_what(provider_id):
    expect = EXPECTED[provider_id]
    repair = providers.repair(
        provider(provider_id),
        cause=catalogue.TARGET_MISSING_DOT,
        name=DKIM_NAME,
        zone_apex=ZONE,
        rtype="CNAME",
        value=TARGET,
    )
    assert repair.remove.host == repair.add.host == expect.host
    assert repair.remove.value == "tok.dkim.amazonses.com.example.jp"
    assert repair.add.value == expect.target


def test_repair_refuses_a_cause_it_has_no_form_advice_for():
    with pytest.raises(ValueError, match="published-as-txt"):
        providers.repair(
            None, cause=catalogue.PUBLISHED_AS_TXT, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET
        )


def test_without_a_provider_every_convention_that_matters_is_unknown():
    entry = providers.form_entry(None, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET)
    assert (entry.provider, entry.host, entry.value) == (None, "tok._domainkey", TARGET)
    assert set(entry.unknown) == GENERIC_UNKNOWN
    assert entry.labels is None


def test_field_labels_come_in_the_providers_own_words():
    cloudflare = providers.form_entry(
        provider("cloudflare"), name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET
    )
    assert cloudflare.labels is not None
    assert (cloudflare.labels.host, cloudflare.labels.type, cloudflare.labels.value) == ("Name", "Type", "Target")
    txt = providers.form_entry(provider("cloudflare"), name=f"_dmarc.{ZONE}", zone_apex=ZONE, rtype="TXT", value="x")
    assert txt.labels is not None and txt.labels.value == "Content"
    google = providers.form_entry(
        provider("google-cloud-dns"), name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET
    )
    assert google.labels is not None and (google.labels.lang, google.labels.host) == ("ja", "DNS 名")


LONG_KEY = "p=" + "A" * 400  # a 2048-bit key's record is about this long


def test_txt_for_a_form_that_wants_quoted_strings_is_split_into_255_byte_strings():
    entry = providers.form_entry(
        provider("route53"), name="sel._domainkey.example.jp", zone_apex=ZONE, rtype="TXT", value=LONG_KEY
    )
    strings = re.findall(r'"([^"]*)"', entry.value)
    assert "".join(strings) == LONG_KEY
    assert [len(s) for s in strings] == [255, 147]
    assert entry.value == f'"{strings[0]}" "{strings[1]}"'


def test_txt_for_a_form_that_splits_and_quotes_by_itself_is_the_plain_text():
    quoted = '"' + LONG_KEY[:255] + '" "' + LONG_KEY[255:] + '"'
    entry = providers.form_entry(
        provider("cloudflare"), name="sel._domainkey.example.jp", zone_apex=ZONE, rtype="TXT", value=quoted
    )
    assert entry.value == LONG_KEY
    assert entry.unknown == ()


def test_txt_quotes_and_inner_quotes_are_escaped_when_the_form_wants_quoted_strings():
    entry = providers.form_entry(provider("route53"), name=ZONE, zone_apex=ZONE, rtype="TXT", value='say "hi" \\ bye')
    assert entry.value == '"say \\"hi\\" \\\\ bye"'


def test_txt_longer_than_a_form_accepts_is_refused_not_truncated():
    entry = providers.form_entry(
        provider("sakura"), name="sel._domainkey.example.jp", zone_apex=ZONE, rtype="TXT", value=LONG_KEY
    )
    assert entry.refused == ("txt-too-long",)
    assert entry.value == LONG_KEY
    short = providers.form_entry(
        provider("sakura"), name=f"_dmarc.{ZONE}", zone_apex=ZONE, rtype="TXT", value="v=DMARC1; p=none"
    )
    assert short.refused == ()


def test_txt_conventions_count_as_unknown_only_where_they_matter():
    # Azure splits by itself (sourced) but says nothing of quotes; GoDaddy says nothing at all.
    azure = providers.form_entry(
        provider("azure-dns"), name=f"_dmarc.{ZONE}", zone_apex=ZONE, rtype="TXT", value="v=DMARC1; p=none"
    )
    assert azure.unknown == ("txt-quotes",)
    godaddy_short = providers.form_entry(
        provider("godaddy"), name=f"_dmarc.{ZONE}", zone_apex=ZONE, rtype="TXT", value="x"
    )
    assert set(godaddy_short.unknown) == {"host", "underscore", "txt-quotes"}
    godaddy_long = providers.form_entry(
        provider("godaddy"), name=f"sel._domainkey.{ZONE}", zone_apex=ZONE, rtype="TXT", value=LONG_KEY
    )
    assert set(godaddy_long.unknown) == {"host", "underscore", "txt-quotes", "txt-split"}
    assert godaddy_long.value == LONG_KEY


def test_mx_target_follows_the_target_convention():
    mx = "10 feedback-smtp.us-east-1.amazonses.com."
    ovh = providers.form_entry(provider("ovh"), name=f"mail.{ZONE}", zone_apex=ZONE, rtype="MX", value=mx)
    assert (ovh.priority, ovh.value) == ("10", "feedback-smtp.us-east-1.amazonses.com.")
    cloudflare = providers.form_entry(provider("cloudflare"), name=f"mail.{ZONE}", zone_apex=ZONE, rtype="MX", value=mx)
    assert (cloudflare.priority, cloudflare.value) == ("10", "feedback-smtp.us-east-1.amazonses.com")
    # Route 53's value field takes "preference exchange" whole.
    route53 = providers.form_entry(provider("route53"), name=f"mail.{ZONE}", zone_apex=ZONE, rtype="MX", value=mx)
    assert (route53.priority, route53.value) == ("", mx.rstrip("."))


def test_an_mx_is_typed_with_its_priority_in_a_field_of_its_own():
    """Not "10 host" in the value field, which a form with a priority field refuses or mistypes."""
    mx = "10 feedback-smtp.ap-northeast-1.amazonses.com."
    entry = providers.form_entry(provider("cloudflare"), name=f"mail.{ZONE}", zone_apex=ZONE, rtype="MX", value=mx)
    text = form_advice.entry_text(entry)
    assert 'priority "10"' in text and 'value "feedback-smtp.ap-northeast-1.amazonses.com"' in text
    assert '"10 feedback' not in text


def test_a_form_that_refuses_underscores_is_flagged():
    strict = replace(
        provider("cloudflare"), id="strict", underscore=providers.Fact(False, provider("cloudflare").underscore.source)
    )
    entry = providers.form_entry(strict, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET)
    assert entry.refused == ("underscore",)
    plain = providers.form_entry(strict, name=f"mail.{ZONE}", zone_apex=ZONE, rtype="MX", value="10 mx.example.net.")
    assert plain.refused == ()


def test_a_form_that_takes_the_full_name_gets_the_full_name():
    source = provider("cloudflare").host.source
    full = replace(
        provider("cloudflare"),
        id="full",
        host=providers.Fact(HostForm.FULL, source),
        target=providers.Fact(TargetForm.DOT, source),
        txt_quotes=providers.Fact(TxtQuotes.REQUIRED, source),
        txt_split=providers.Fact(TxtSplit.MANUAL, source),
    )
    entry = providers.form_entry(full, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET)
    assert (entry.host, entry.value) == (DKIM_NAME, TARGET)
    repair = providers.repair(
        full, cause=catalogue.DOUBLED_DOMAIN, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=TARGET
    )
    assert repair.remove.host == "tok._domainkey.example.jp.example.jp"


def test_a_name_outside_the_zone_is_a_caller_error():
    with pytest.raises(ValueError, match="not in the zone"):
        providers.form_entry(None, name="tok._domainkey.example.com", zone_apex=ZONE, rtype="CNAME", value=TARGET)


def test_a_zone_served_by_knot_with_onamae_name_servers_is_attributed_to_onamae(knot):
    # A real NS answer from an authoritative server, as the monitor's resolver would get it.
    knot.set_zone("providers-onamae.test", "", ns="@ NS dns1.onamae.com.\n@ NS dns2.onamae.com.\n")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [knot.ip]
    resolver.port = knot.port
    resolver.timeout = 10.0
    resolver.lifetime = 30.0
    answer = resolver.resolve("providers-onamae.test.", "NS", search=False)

    served = providers.from_ns_lookup(answer)

    assert served is not None
    assert served.provider is provider("onamae")
    assert served.provider.name_ja == "お名前.com"
    assert served.nameservers == ("dns1.onamae.com", "dns2.onamae.com")
    # The probe's own spelling of the same answer (lower case, no trailing dot) gives the same result.
    assert providers.from_ns_lookup([r.to_text().rstrip(".") for r in answer]) == served


def test_a_cname_without_a_target_is_a_caller_error():
    with pytest.raises(ValueError, match="no target"):
        providers.form_entry(None, name=DKIM_NAME, zone_apex=ZONE, rtype="CNAME", value=" ")


def test_a_value_typed_with_its_quotes_is_shown_so_not_wrapped_in_more_quotes():
    """Route 53 wants a TXT value typed with its quotes: the advice shows them once and says so."""
    entry = providers.form_entry(
        provider("route53"), name=f"mail.{ZONE}", zone_apex=ZONE, rtype="TXT", value="v=spf1 include:amazonses.com ~all"
    )
    text = form_advice.entry_text(entry)
    assert 'Value "v=spf1 include:amazonses.com ~all" (with its quotes)' in text and '""' not in text
