"""The record parsers' details in Japanese: every sentence a finding quotes about an SPF, DMARC or DKIM key record.

Finding messages and fixes quote a parser's ``Problem.detail`` ("pct= is
"abc", not a whole number from 0 to 100."). With ``--language ja`` each must be
a Japanese sentence, the quoted record text and every tag, term and RFC left as
written. The corpus below reaches every detail the parsers write; the English
wording of each is held by tests/scan/test_parsers.py.
"""

from __future__ import annotations

import base64
import re

import pytest
from pyasn1.codec.der import encoder
from pyasn1_modules import rfc3447

from ses_dkim_monitor import i18n
from ses_dkim_monitor.scan.parsers import parse_dkim_key_record, parse_dmarc, parse_spf
from tests.support.ses_world import PUBLIC_KEY


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _small_rsa() -> str:
    """A PKCS#1 RSAPublicKey with a 512-bit modulus: too short for verifiers (RFC 8301)."""
    key = rfc3447.RSAPublicKey()
    key["modulus"] = (1 << 511) + 12345
    key["publicExponent"] = 65537
    return _b64(encoder.encode(key))


# SubjectPublicKeyInfo of an Ed25519 key, an EC (P-256) key and a key of an algorithm nobody knows (OID 1.2.3.4).
_ED25519_SPKI = _b64(bytes.fromhex("302a300506032b6570032100") + bytes(32))
_EC_SPKI = _b64(bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + bytes(64))
_OTHER_SPKI = _b64(bytes.fromhex("300c300506032a0304050003030000ff"))

DKIM_KEYS = [
    "v=DKIM1; p",
    "v=DKIM1;; p=",
    "=x; p=",
    "v=DKIM1; 1a=x; p=",
    "p=; p=",
    "v=DKIM2; p=",
    "p=; v=DKIM1",
    "h=sha1; p=",
    "s=foo; p=",
    "k=dsa; p=",
    "v=DKIM1",
    "p=",
    "p=!!!",
    "k=ed25519; p=AAAA",
    f"k=rsa; p={_ED25519_SPKI}",
    f"p={_EC_SPKI}",
    f"p={_OTHER_SPKI}",
    f"p={_b64(b'hello')}",
    f"p={_small_rsa()}",
    f"V=DKIM1; p={PUBLIC_KEY}",
    f"V=DKIM1; K=rsa; p={PUBLIC_KEY}",
]

DMARC_RECORDS = [
    " v=DMARC1; p=none",
    "v=dmarc1; p=none",
    "V=DMARC1; p=none",
    "p=none; v=DMARC1",
    "hello",
    "v=DMARC1; p=none; foo",
    "v=DMARC1;; p=none",
    "v=DMARC1; =x; p=none",
    "v=DMARC1; p=none; p=reject",
    "v=DMARC1; p=none; RUA=mailto:a@example.com",
    "v=DMARC1; p=none; ruaa=mailto:a@example.com",
    "v=DMARC1; p=none; rux=mailto:a@example.com",
    "v=DMARC1; p=none; xyz=1",
    "v=DMARC1; p=maybe; rua=mailto:a@example.com",
    "v=DMARC1; p=maybe",
    "v=DMARC1; sp=x; p=none; rua=mailto:a@example.com",
    "v=DMARC1",
    "v=DMARC1; rua=mailto:a@example.com",
    "v=DMARC1; p=none; pct=abc",
    "v=DMARC1; p=none; adkim=x; aspf=x; psd=x; t=x",
    "v=DMARC1; p=none; fo=2; rf=x; ri=x",
    "v=DMARC1; p=none; rua=",
    "v=DMARC1; p=none; rua=foo",
    "v=DMARC1; p=none; ruf=mailto:a b@example.com",
    "v=DMARC1; p=none; rua=mailto:nobody",
    "v=DMARC1; p=none; rua=https:///report",
    "v=DMARC1; p=none; rua=ftp:",
]

SPF_RECORDS = [
    "v=spf2 -all",
    "v=spf1 redirect=a.example redirect=b.example",
    "v=spf1 redirect=bad",
    "v=spf1 redirect=",
    "v=spf1 include=foo.example -all",
    "v=spf1 v=spf1 -all",
    "v=spf1 foo=%{ -all",
    "v=spf1 ipv4:192.0.2.1 -all",
    "v=spf1 +all",
    "v=spf1 -all a",
    "v=spf1 -all a mx",
    "v=spf1 redirect=example.com -all",
    "v=spf1 a:%{c}.example.com -all",
    "v=spf1 all:x",
    "v=spf1 include -all",
    "v=spf1 include:bad -all",
    "v=spf1 ip4 -all",
    "v=spf1 ip4:300.1.1.1 -all",
    "v=spf1 a/99 -all",
    "v=spf1 a: -all",
    "v=spf1 a:ex\u00e4mple.com -all",
    "v=spf1 a:example.123 -all",
    "v=spf1 a:foo..example -all",
]

_KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_QUOTED = re.compile(r'"[^"]*"')
# Two lower-case words in a row, not part of a command's options or a name: an English phrase.
_ENGLISH = re.compile(r"(?<![-\w.])[a-z]{2,} [a-z]{2,}(?![-\w.])")


def _details(record) -> list[str]:
    return [p.detail for p in (*record.problems, *record.notes)]


def _all_details() -> list[str]:
    return [
        *(d for txt in DKIM_KEYS for d in _details(parse_dkim_key_record(txt))),
        *(d for txt in DMARC_RECORDS for d in _details(parse_dmarc(txt))),
        *(d for txt in SPF_RECORDS for d in _details(parse_spf(txt))),
    ]


def test_the_corpus_reaches_every_detail_the_parsers_write():
    """In English, the corpus gives many different sentences: the Japanese test below covers them all."""
    details = _all_details()
    assert len(details) >= 70
    assert all(d.endswith((".", "?")) for d in details), [d for d in details if not d.endswith((".", "?"))]


@pytest.mark.parametrize("parse", ["dkim", "dmarc", "spf"])
def test_every_parser_detail_is_a_japanese_sentence(parse):
    corpus = {"dkim": (DKIM_KEYS, parse_dkim_key_record), "dmarc": (DMARC_RECORDS, parse_dmarc)}
    records, parser = corpus.get(parse, (SPF_RECORDS, parse_spf))
    with i18n.speaking("ja"):
        details = [(txt, d) for txt in records for d in _details(parser(txt))]
    assert details
    english = [(txt, d) for txt, d in details if not _KANA_OR_KANJI.search(d) or _ENGLISH.search(_QUOTED.sub("", d))]
    assert not english, "\n".join(f"{txt!r}: {d}" for txt, d in english)
    unfinished = [d for _txt, d in details if not d.endswith(("。", "？"))]
    assert not unfinished, unfinished


def test_japanese_details_keep_the_record_text_tags_and_rfcs_as_written():
    with i18n.speaking("ja"):
        [pct] = parse_dmarc("v=DMARC1; p=none; pct=abc").problems
        [plus] = parse_spf("v=spf1 +all").problems
        [tag] = parse_dmarc("v=DMARC1; p=none; ruaa=mailto:a@example.com").notes
        [short] = parse_dkim_key_record(f"p={_small_rsa()}").problems
    assert "pct=" in pct.detail and '"abc"' in pct.detail
    assert '"+all"' in plus.detail
    assert '"ruaa"' in tag.detail and "rua" in tag.detail.replace('"ruaa"', "")
    assert "512" in short.detail and "RFC 8301" in short.detail and "1024" in short.detail


def test_english_details_are_unchanged_by_a_japanese_run_before_them():
    """The catalog is chosen per process; English after Japanese reads exactly as before."""
    with i18n.speaking("ja"):
        parse_dmarc("v=DMARC1; p=none; pct=abc")
    [pct] = parse_dmarc("v=DMARC1; p=none; pct=abc").problems
    assert pct.detail == 'pct= is "abc", not a whole number from 0 to 100.'
