"""The conformance corpus: SPF, DMARC and DKIM key records read as receivers read them, as one table-driven test.

The cases are data, in the YAML files beside this module (spf.yaml, dmarc.yaml, dkim_keys.yaml), each with
the RFC section it comes from. Every case publishes its records in a subtree of its own in a zone the
session's knotd serves, then the real probe (``DomainProbe`` over ``DnsProbe``, through a resolver pointed at
knotd) and the real checks (``evaluate``) run for an identity built here, and every finding of the identity
(check and cause) must be exactly the case's ``expect``; the status follows from those findings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ses_dkim_monitor.catalogue import CHECKS
from ses_dkim_monitor.models import (
    IdentityStatus,
    IdentityType,
    MailFrom,
    SesIdentity,
    SesStatus,
    Severity,
    SigningOrigin,
)
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.domain_probe import DomainProbe, ProbeRequest
from ses_dkim_monitor.settings import parse_nameserver
from tests.support.ses_world import PUBLIC_KEY, PUBLIC_KEY_1024

HERE = Path(__file__).parent
ZONES = {"spf": "spf.conformance.test", "dmarc": "dmarc.conformance.test", "dkim_keys": "dkim.conformance.test"}
FEEDBACK_MX = "10 feedback-smtp.us-east-1.amazonses.com."
_DOMAIN = re.compile(r"(?<!%)\{d\}")  # {d}, but not the SPF macro %{d}
_KEYS = {
    "{key2048:spaced}": " ".join(PUBLIC_KEY[i : i + 64] for i in range(0, len(PUBLIC_KEY), 64)),
    "{key2048}": PUBLIC_KEY,
    "{key1024}": PUBLIC_KEY_1024,
}


def load(kind: str) -> list[dict[str, Any]]:
    cases = yaml.safe_load((HERE / f"{kind}.yaml").read_text())
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), f"{kind}.yaml: duplicate case ids"
    return cases


CASES = [(kind, case) for kind in ZONES for case in load(kind)]


def case_domain(kind: str, case: dict[str, Any]) -> str:
    return f"{case['id']}.{ZONES[kind]}"


def expand(text: str, domain: str) -> str:
    text = _DOMAIN.sub(domain, text)
    for placeholder, key in _KEYS.items():
        text = text.replace(placeholder, key)
    return text


def txt_data(value: str) -> str:
    """A TXT value as a zone file holds it: quoted strings of at most 255 bytes, quotes and controls escaped."""
    raw = value.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    escaped = (
        "".join("\\" + chr(b) if b in b'"\\' else chr(b) if 0x20 <= b < 0x7F else f"\\{b:03d}" for b in chunk)
        for chunk in chunks
    )
    return " ".join(f'"{chunk}"' for chunk in escaped)


def records(kind: str, case: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(owner relative to the case's subtree, type, value) for every record the case needs."""
    listed = [tuple(r) if isinstance(r, list) else tuple(r.split(None, 2)) for r in case.get("zone", [])]
    if kind == "spf":
        listed += [("bounce", "TXT", value) for value in case["spf"]]
        listed += [("bounce", "MX", FEEDBACK_MX), *((f"h{i}", "A", f"192.0.2.{i + 1}") for i in range(11))]
    if kind == "dkim_keys":
        listed.append(("sel._domainkey", "TXT", case["key"]))
    return listed


def zone_text(kind: str) -> str:
    lines = []
    for case in load(kind):
        domain = case_domain(kind, case)
        for owner, rtype, value in records(kind, case):
            value = expand(value, domain)
            lines.append(f"{owner}.{case['id']} {rtype} {txt_data(value) if rtype == 'TXT' else value}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus_dns(knot_server):
    """Every corpus zone on the session's knotd, and a DomainProbe that asks it (generous timeouts)."""
    for kind, zone in ZONES.items():
        knot_server.set_zone(zone, zone_text(kind))
    resolver = make_resolver([parse_nameserver(knot_server.address, setting="t")], timeout=2, lifetime=8)
    return DomainProbe(DnsProbe(resolver))


def identity(kind: str, domain: str) -> SesIdentity:
    fields: dict[str, Any] = dict(
        name=domain,
        region="us-east-1",
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        signing_hosted_zone="dkim.amazonses.com",
    )
    if kind == "spf":
        fields["mail_from"] = MailFrom(f"bounce.{domain}", SesStatus.SUCCESS, "RejectMessage")
    if kind == "dkim_keys":
        fields.update(signing_origin=SigningOrigin.BYODKIM.value, dkim_tokens=("sel",), signing_hosted_zone=None)
    return SesIdentity(**fields)


def expected_status(expect: list[str]) -> IdentityStatus:
    checks = [item.split("/")[0] for item in expect]
    if "dns-lookup-failed" in checks:
        return IdentityStatus.UNKNOWN
    if any(CHECKS[check].severity.at_least(Severity.WARNING) for check in checks):
        return IdentityStatus.PROBLEM
    return IdentityStatus.OK


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{kind}:{case['id']}" for kind, case in CASES])
def test_records_are_read_as_receivers_read_them(corpus_dns, kind, case):
    base = case_domain(kind, case)
    domain = f"{case['domain']}.{base}" if case.get("domain") else base
    ident = identity(kind, domain)
    request = ProbeRequest(
        domain=domain,
        tokens=ident.dkim_tokens,
        byodkim=ident.is_byodkim,
        mail_from=ident.mail_from.domain if ident.mail_from else None,
        dmarc=kind == "dmarc",
    )
    [dns] = corpus_dns.probe_all([request]).values()

    report = evaluate(ident, dns, {})

    found = sorted(f"{f.check}/{f.cause}" if f.cause else f.check for f in report.findings)
    messages = "\n".join(f"{f.check}/{f.cause}: {f.message}" for f in report.findings)
    assert found == sorted(case["expect"]), f"{case.get('spec', '')}\n{messages}"
    assert report.status is expected_status(case["expect"]), messages
    for text in case.get("says", []):
        assert expand(text, base) in messages


_KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_QUOTED = re.compile(r'"[^"]*"')
# Two lower-case words in a row, not part of a command's options or a name: an English phrase.
_ENGLISH = re.compile(r"(?<![-\w.])[a-z]{2,} [a-z]{2,}(?![-\w.])")


def test_every_corpus_finding_reads_in_japanese(corpus_dns):
    """With --language ja every message and fix of the corpus is Japanese, record text quoted as written.

    The parsers' details, the SPF evaluation's permerrors and the sentences the checks join around them
    must all be translated; English survives only inside the quoted record text.
    """
    from ses_dkim_monitor import i18n

    english: list[str] = []
    with i18n.speaking("ja"):
        requests, identities = [], {}
        for kind, case in CASES:
            base = case_domain(kind, case)
            domain = f"{case['domain']}.{base}" if case.get("domain") else base
            ident = identities[domain] = identity(kind, domain)
            mail_from = ident.mail_from.domain if ident.mail_from else None
            requests.append(
                ProbeRequest(
                    domain=domain, tokens=ident.dkim_tokens, byodkim=ident.is_byodkim, mail_from=mail_from, dmarc=True
                )
            )
        for request, dns in corpus_dns.probe_all(requests).items():
            for f in evaluate(identities[request.domain], dns, {}).findings:
                if f.check == "dns-lookup-failed":
                    continue  # the resolver's own error text stays as dnspython says it (docs/i18n.md)
                for text in (f.message, f.fix):
                    bare = _QUOTED.sub("", text)
                    if not _KANA_OR_KANJI.search(text) or _ENGLISH.search(bare) or "。;" in text or "。。" in text:
                        english.append(f"{f.check}/{f.cause}: {text}")
    assert not english, "\n".join(english)
