"""A record published at the doubled name is copied to the right name byte for byte: every string, every
escape, however long. Route 53 spells TXT escapes in octal, zone files (BIND lines) in decimal.

The record: a DMARC record whose text holds a literal backslash followed by ``059`` (which a decimal
reading turns into ``;``, one more DMARC tag), double quotes, a two-byte UTF-8 character, and more than
255 bytes in three strings split where a human split them, not every 255 bytes.
"""

from __future__ import annotations

import json

import dns.message
import dns.query
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from ses_dkim_monitor.exit_codes import EXIT_FINDINGS, EXIT_OK
from ses_dkim_monitor.fix.command import Hooks
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

STRINGS = (
    b'v=DMARC1; p=none; rua=mailto:dmarc@copy.fixtest; note=a\\059b "quoted" ',
    "second string, caf\u00e9 ".encode() + b"x" * 200,
    b" a third string that begins with a space",
)
assert sum(map(len, STRINGS)) > 255


def route53_spelling(strings: tuple[bytes, ...]) -> str:
    """How Route 53 spells a TXT value: each string quoted, ``\\"`` and ``\\\\``, other bytes as octal escapes."""

    def one(raw: bytes) -> str:
        out = []
        for byte in raw:
            if byte in (0x22, 0x5C):
                out.append("\\" + chr(byte))
            elif 0x20 <= byte < 0x7F:
                out.append(chr(byte))
            else:
                out.append(f"\\{byte:03o}")
        return '"' + "".join(out) + '"'

    return " ".join(one(s) for s in strings)


def zone_file_spelling(strings: tuple[bytes, ...]) -> str:
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings).to_text()


def served_strings(knot, name: str) -> tuple[bytes, ...]:
    response = dns.query.tcp(dns.message.make_query(name, "TXT"), knot.ip, port=knot.port, timeout=10)
    [rrset] = response.answer
    [rdata] = list(rrset)
    return tuple(rdata.strings)


def test_a_txt_moved_from_a_doubled_name_is_copied_to_route53_byte_for_byte(ses, knot, tld, fix, hosted_zone):
    domain = f"copy.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    value = route53_spelling(STRINGS)
    zone = hosted_zone(
        domain,
        [
            *[(f"{t}._domainkey", "CNAME", 300, [f"{t}.dkim.amazonses.com."]) for t in tokens],
            (f"_dmarc.{domain}", "TXT", 600, [value]),  # relative to the zone: the doubled name
        ],
    )
    assert served_strings(knot, f"_dmarc.{domain}.{domain}.") == STRINGS  # the mirror itself is exact

    run = fix("--identity", domain, "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert run.code in (EXIT_OK, EXIT_FINDINGS), run.out + run.err
    sets = {(n, t): (ttl, v) for n, t, ttl, v in zone.record_sets()}
    assert sets[(f"_dmarc.{domain}.", "TXT")] == (600, (value,)), "not copied as Route 53 spells it"
    assert served_strings(knot, f"_dmarc.{domain}.") == STRINGS
    # The doubled name is left in place and reported: nothing looks it up, and fix deletes narrowly.
    assert sets[(f"_dmarc.{domain}.{domain}.", "TXT")] == (600, (value,))
    assert f"LEFT IN PLACE  _dmarc.{domain}.{domain}. TXT" in run.out


def test_a_txt_at_a_doubled_name_elsewhere_is_given_byte_for_byte_in_zone_file_spelling(ses, knot, tld, fix):
    domain = f"copyelse.{tld}"
    tokens = ses("us-east-1").add_domain(domain)
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone(domain, customer_cname_records(tokens) + f"\n_dmarc.{domain} 600 TXT {zone_file_spelling(STRINGS)}")

    run = fix("--identity", domain, "--format", "json")

    assert run.code == EXIT_FINDINGS, run.err
    doc = json.loads(run.out)
    [add] = [s for s in doc["elsewhere"] if s["action"] == "add"]
    assert add["name"] == f"_dmarc.{domain}." and add["host"] == "_dmarc"
    assert dns.rdata.from_text("IN", "TXT", add["value"]).strings == STRINGS
    name, _ttl, klass, rtype, rdata = add["bind"].split(" ", 4)
    assert (name, klass, rtype) == (f"_dmarc.{domain}.", "IN", "TXT")
    assert dns.rdata.from_text("IN", "TXT", rdata).strings == STRINGS
    assert "caf\\195\\169" in add["value"], "a zone file spells escapes in decimal (Route 53: caf\\303\\251)"
    text = fix("--identity", domain).out
    assert add["bind"] in text
